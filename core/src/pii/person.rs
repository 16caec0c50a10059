//! Person names: cues ("my name is", "this is X from", titles, salutations, sign-offs, speaker
//! prefixes), the names list (US Census and many locales' given and family names), and runs of
//! capitalized words that are not English words.

use std::collections::HashSet;
use std::sync::OnceLock;

use regex::Regex;

use super::patterns::{Gate, Open};
use super::{Method, Span};
use crate::fnv::BuildFnv;

/// A fixed list of words. Words of at most eight ASCII bytes are kept packed into a `u64`, so
/// looking one up hashes and compares one integer; longer ones are kept as text.
#[derive(Default)]
struct WordSet {
    short: HashSet<u64, BuildFnv>,
    long: HashSet<Box<str>, BuildFnv>,
}

impl WordSet {
    fn new(words: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        let mut set = Self::default();
        for w in words {
            let w = w.as_ref();
            match pack(w.bytes()) {
                Some(key) => set.short.insert(key),
                None => set.long.insert(w.into()),
            };
        }
        set
    }

    /// Whether `w`, lower-cased (or capitalized, as the name lists spell names), is in the set.
    fn contains(&self, w: &str, capitalize: bool) -> bool {
        // Most words are short and ASCII: packed straight from the text's bytes, not copied.
        if w.len() <= 8 && w.is_ascii() {
            if let Some(key) = pack(w.bytes().enumerate().map(|(i, b)| ascii_case(i, b, capitalize))) {
                return self.short.contains(&key);
            }
        }
        with_case(w, capitalize, |w| match pack(w.bytes()) {
            Some(key) => self.short.contains(&key),
            None => self.long.contains(w),
        })
    }
}

/// `bytes` packed into an integer, one byte after another, when they are at most eight ASCII
/// bytes and none is zero (so no two such words share a key).
fn pack(bytes: impl ExactSizeIterator<Item = u8>) -> Option<u64> {
    if bytes.len() > 8 {
        return None;
    }
    let mut key = 0u64;
    for (i, b) in bytes.enumerate() {
        if b == 0 || !b.is_ascii() {
            return None;
        }
        key |= u64::from(b) << (8 * i);
    }
    Some(key)
}

/// A fixed list of words, looked up ignoring ASCII case (the lists are ASCII).
struct Folded(WordSet);

impl Folded {
    fn new(list: &[&str]) -> Self {
        Self(WordSet::new(list.iter().map(|w| w.to_ascii_lowercase())))
    }

    /// Whether `w` is in the list, ignoring ASCII case.
    fn has(&self, w: &str) -> bool {
        w.is_ascii() && self.0.contains(w, false)
    }
}

struct Lexicon {
    first: WordSet,
    last: WordSet,
    common: WordSet,
    name_words: Folded,
    not_names: Folded,
    labels: Folded,
    cue: Regex,
}

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let set = |text: &'static str| WordSet::new(text.lines().filter(|l| !l.is_empty()));
        Lexicon {
            first: set(FIRST_NAMES),
            last: set(LAST_NAMES),
            common: set(include_str!("data/common_words.txt")),
            name_words: Folded::new(&NAME_WORDS),
            not_names: Folded::new(&NOT_NAMES),
            labels: Folded::new(&LABELS),
            cue: Regex::new(CUE).expect("the name cue pattern compiles"),
        }
    })
}

static FIRST_NAMES: &str = include_str!("data/first_names.txt");
static LAST_NAMES: &str = include_str!("data/last_names.txt");

/// Words one of which starts every cue.
pub(super) const CUE_WORDS: [&str; 31] = [
    "name",
    "call",
    "signed",
    "under",
    "this",
    "i am",
    "i'm",
    "i’m",
    "it's",
    "speak",
    "talk",
    "ask",
    "regards",
    "best",
    "thank",
    "cheers",
    "sincerely",
    "yours",
    "dear",
    "hi",
    "hello",
    "hey",
    "good",
    "mr",
    "ms",
    "mx",
    "miss",
    "dr",
    "prof",
    "sir",
    "madam",
];

/// Phrases after which a name follows. Group 1 is a cue that allows a lower-case name.
const CUE: &str = r"(?i)(?-u:\b)(?:(my\s+name\s+is|my\s+name's|name\s*:|names?\s+is|call\s+me|named|called|signed|under\s+the\s+name(?:\s+of)?)|this\s+is|i\s+am|i'm|i’m|it's|speak(?:ing)?\s+(?:to|with)|talk(?:ing)?\s+to|ask\s+for|regards|best\s+wishes|thanks|thank\s+you|cheers|sincerely|best|yours|dear|hi|hello|hey|good\s+(?:morning|afternoon|evening)|mrs|mr|ms|mx|miss|dr|prof|sir|madam)(?-u:\b)[.,:!\-]?[ \t]*(?:\r?\n[ \t]*)?";

/// Words that end a name: street types and words that name organisations, which the
/// family-name lists also hold ("Street", "Bank").
const NOT_NAMES: [&str; 48] = [
    "Street",
    "St",
    "Avenue",
    "Ave",
    "Road",
    "Rd",
    "Lane",
    "Ln",
    "Drive",
    "Dr",
    "Boulevard",
    "Blvd",
    "Court",
    "Place",
    "Square",
    "Way",
    "Hill",
    "Park",
    "Inc",
    "Ltd",
    "Llc",
    "Corp",
    "Corporation",
    "Company",
    "Co",
    "Group",
    "Bank",
    "University",
    "College",
    "School",
    "Hospital",
    "Hotel",
    "Orchestra",
    "Band",
    "Foundation",
    "Institute",
    "Association",
    "Church",
    "Airport",
    "Station",
    "Museum",
    "Center",
    "Centre",
    "Gmbh",
    "Ag",
    "Sa",
    "Plc",
    "Partners",
];

/// Given names that are also English words, taken as names when capitalized inside a sentence
/// ("ask John", not "Will you").
const NAME_WORDS: [&str; 64] = [
    "John", "Peter", "Maria", "Harry", "Matt", "Mike", "Tom", "Tony", "Victor", "Martin", "Terry", "Bob", "Bobby",
    "Billy", "Jimmy", "Rick", "Nick", "Chad", "Brad", "Josh", "Ken", "Drew", "Dean", "Carol", "Sally", "Sue", "Eve",
    "Lily", "Rose", "Ruby", "Jack", "Max", "Ray", "Roger", "Rob", "Robin", "Pat", "Penny", "Dale", "Dawn", "Frank",
    "Gene", "Grant", "Guy", "Jay", "Lance", "Lee", "Mark", "Mason", "Miles", "Troy", "Wade", "Warren", "Grace", "Hope",
    "Joy", "Faith", "Bill", "Will", "Amber", "Olive", "Crystal", "Candy", "Sandy",
];

/// Labels that end in a colon but are not speakers.
const LABELS: [&str; 28] = [
    "Agent",
    "Customer",
    "User",
    "Bot",
    "System",
    "Assistant",
    "Support",
    "Name",
    "Phone",
    "Email",
    "E-mail",
    "Date",
    "Address",
    "Fax",
    "Desk",
    "Mobile",
    "Subject",
    "From",
    "To",
    "Note",
    "Answer",
    "Question",
    "Website",
    "Zip",
    "Re",
    "Tel",
    "Cc",
    "Bcc",
];

/// Whether `word` (any case) is among the most frequent English words.
pub(super) fn is_common_word(word: &str) -> bool {
    lexicon().common.contains(word, false)
}

/// A word of the text: letters with inner apostrophes or hyphens, a possessive `'s` left off.
#[derive(Clone, Copy, Default)]
struct Word {
    start: usize,
    end: usize,
}

/// The at most four words of a name, kept on the stack: one is built for every capitalized word
/// of every text.
#[derive(Default)]
struct NameWords {
    words: [Word; 4],
    len: usize,
}

impl NameWords {
    fn push(&mut self, word: Word) {
        self.words[self.len] = word;
        self.len += 1;
    }

    fn pop(&mut self) {
        self.len -= 1;
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

impl std::ops::Deref for NameWords {
    type Target = [Word];

    fn deref(&self) -> &[Word] {
        &self.words[..self.len]
    }
}

/// Finds person names in `text`.
pub(super) fn scan<'a>(text: &'a str, open: Open, out: &mut Vec<Span<'a>>) {
    let lexicon = lexicon();
    let first_found = out.len();
    let mut cued_until = 0;
    for whole in open.has(Gate::NameCue).then(|| lexicon.cue.find_iter(text)).into_iter().flatten() {
        if whole.end() < cued_until {
            continue;
        }
        let lower_ok = allows_lower_case(&lexicon.cue, text, whole.start());
        let names = name_words(text, whole.end(), lower_ok, true);
        if let (Some(first), Some(last)) = (names.first(), names.last()) {
            cued_until = last.end;
            let cue = text[whole.start()..whole.end()].trim_end();
            out.push(Span {
                entity: "PERSON",
                start: first.start,
                end: last.end,
                score: 0.85,
                method: Method::NameCue,
                evidence: cue,
            });
        }
    }
    // Text written without capitals gets its names looked up word by word; elsewhere only
    // capitalized words can start a name, and the scan jumps from one to the next.
    let lower_case_text = !text.chars().any(char::is_uppercase);
    let mut at = 0;
    while let Some(word) = if lower_case_text { next_word(text, at) } else { next_capitalized(text, at) } {
        at = word.end;
        let w = &text[word.start..word.end];
        if lower_case_text {
            if let Some(end) = lower_case_name(text, word) {
                at = end;
                out.push(Span {
                    entity: "PERSON",
                    start: word.start,
                    end,
                    score: 0.7,
                    method: Method::NamesList,
                    evidence: "names list, lower case",
                });
            }
            continue;
        }
        let followed_by_capital =
            text[word.end..].strip_prefix(' ').and_then(|r| r.chars().next()).is_some_and(char::is_uppercase);
        if !followed_by_capital && is_common_word(w) && !lexicon.name_words.has(w) {
            continue;
        }
        let glued = text[..word.start].ends_with(|c: char| c.is_ascii_digit() || matches!(c, '@' | '/' | '.' | '_'));
        if is_all_caps(w) || glued || word.end <= cued_until {
            continue;
        }
        let names = name_words(text, word.start, false, false);
        let Some(last) = names.last() else { continue };
        let known = |w: &Word, set: &WordSet| in_list(set, &text[w.start..w.end]);
        let is_common = |w: &Word| is_common_word(&text[w.start..w.end]);
        // The name's words without its initials.
        let words = || names.iter().filter(|w| w.end - w.start > 1 && !text[w.start..w.end].ends_with('.'));
        let word_count = words().count();
        let before = text[..names[0].start].trim_end_matches([' ', '"', '“', '(']);
        let sentence_start = before.is_empty() || before.ends_with(['.', '!', '?', '\n', ':']);
        // A given name that is also a word ("Grace", "Tom") counts inside a sentence, and at its
        // start when a family name follows ("Grace Taylor", "Tom Smith").
        let family_follows = word_count >= 2 && known(last, &lexicon.last);
        let first_known = known(&names[0], &lexicon.first)
            && (!is_common(&names[0])
                || lexicon.name_words.has(&text[names[0].start..names[0].end]) && (!sentence_start || family_follows));
        let speaker = sentence_start
            && text[last.end..].starts_with(':')
            && !words().any(|w| {
                let w = &text[w.start..w.end];
                is_common_word(w) && !lexicon.name_words.has(w) || lexicon.labels.has(w)
            });
        let has_initial =
            names.len() >= 3 && names[1..names.len() - 1].iter().any(|w| text[w.start..w.end].chars().count() <= 2);
        let none_common = !words().any(is_common);
        let (score, evidence) = if first_known && word_count >= 2 {
            (0.85, "given name and family name")
        } else if first_known {
            (0.6, "given name")
        } else if speaker {
            (0.7, "speaker name")
        } else if word_count >= 2 && none_common && has_initial {
            (0.8, "name with initial")
        } else if word_count >= 2 && none_common && words().any(|w| known(w, &lexicon.first) || known(w, &lexicon.last))
        {
            (0.7, "names list")
        } else if word_count >= 2 && none_common {
            (0.5, "capitalized words")
        } else {
            // A common word opening a run of three or more ("Call Jane Smith", "Thanks Maria
            // Davis") is not the name, but a full name may start after it.
            at = if names.len() >= 3 && is_common(&names[0]) { names[0].end } else { last.end };
            continue;
        };
        at = last.end;
        out.push(Span {
            entity: "PERSON",
            start: names[0].start,
            end: last.end,
            score,
            method: Method::NamesList,
            evidence,
        });
    }
    repeated_names(text, first_found, out);
}

/// Whether the cue matched at `start` is one that allows a lower-case name (the pattern's group
/// 1): every such cue, and no other, starts with one of these words. A cue that starts with
/// another letter (`ſigned`, as `(?i)` folds it) is asked of the pattern.
fn allows_lower_case(cue: &Regex, text: &str, start: usize) -> bool {
    let rest = &text.as_bytes()[start..];
    if rest.first().is_some_and(u8::is_ascii) {
        let starts = |w: &str| rest.get(..w.len()).is_some_and(|r| r.eq_ignore_ascii_case(w.as_bytes()));
        return ["my", "name", "call", "signed", "under"].into_iter().any(starts);
    }
    cue.captures_at(text, start).is_some_and(|c| c.get(1).is_some())
}

/// Whether a lower-case word after a cue is a name: a given name (the first word) or a family
/// name from the lists. A listed name that is also an English word counts when it is one of
/// [`NAME_WORDS`] (first word) or longer than three letters (family name: "it's john smith").
fn is_lower_case_name(w: &str, first_word: bool) -> bool {
    let lexicon = lexicon();
    let (list, word_ok) =
        if first_word { (&lexicon.first, lexicon.name_words.has(w)) } else { (&lexicon.last, w.len() > 3) };
    in_list(list, w) && (word_ok || !is_common_word(w))
}

/// A name written in lower case ("naomi ryan", "eric g. samoylova"): a given name and a family
/// name from the lists, neither an English word, with an optional initial between. Returns the
/// name's end.
fn lower_case_name(text: &str, word: Word) -> Option<usize> {
    let lexicon = lexicon();
    let w = &text[word.start..word.end];
    if !w.chars().next().is_some_and(char::is_lowercase) || is_common_word(w) || !in_list(&lexicon.first, w) {
        return None;
    }
    text[word.end..].strip_prefix(' ')?;
    let mut next = word_at(text, word.end + 1)?;
    if next.end - next.start == 1 {
        let gap = [". ", " "].iter().find(|g| text[next.end..].starts_with(**g))?.len();
        next = word_at(text, next.end + gap)?;
    }
    let family = &text[next.start..next.end];
    let ok = family.chars().all(char::is_lowercase) && !is_common_word(family) && in_list(&lexicon.last, family);
    ok.then_some(next.end)
}

/// A family or given name seen in a found name counts again where it stands alone later
/// ("… Terence Vassiliev's tales … early Vassiliev").
fn repeated_names<'a>(text: &'a str, first_found: usize, out: &mut Vec<Span<'a>>) {
    // A handful of names: a list beats hashing every word of the text.
    let mut seen: Vec<&str> = Vec::new();
    for span in &out[first_found..] {
        for part in text[span.start..span.end].split_whitespace() {
            if part.chars().count() > 2 && !is_common_word(part) && !seen.contains(&part) {
                seen.push(part);
            }
        }
    }
    if seen.is_empty() {
        return;
    }
    let mut covered: Vec<(usize, usize)> = out[first_found..].iter().map(|s| (s.start, s.end)).collect();
    covered.sort_unstable();
    // Each name is searched for, not every word of the text looked up: a place counts when a
    // word starts there and is the name, outside the first found span that ends after it.
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    for name in &seen {
        let finder = memchr::memmem::Finder::new(name);
        let mut from = 0;
        while let Some(offset) = finder.find(&text.as_bytes()[from..]) {
            let start = from + offset;
            let end = start + name.len();
            from = start + 1;
            let inside = covered.iter().find(|&&(_, e)| e > start).is_some_and(|&(s, e)| s <= start && end <= e);
            if !inside && starts_word(text, start) && word_from(text, start).end == end {
                repeats.push((start, end));
            }
        }
    }
    repeats.sort_unstable();
    out.extend(repeats.into_iter().map(|(start, end)| Span {
        entity: "PERSON",
        start,
        end,
        score: 0.8,
        method: Method::NamesList,
        evidence: "same name earlier",
    }));
}

/// Whether [`next_word`], walking the text word by word, would start a word at `at` (words of
/// one letter after a possessive's apostrophe aside): a letter there, and neither a letter nor a
/// letter and an inner apostrophe or hyphen before it.
fn starts_word(text: &str, at: usize) -> bool {
    if !text[at..].chars().next().is_some_and(char::is_alphabetic) {
        return false;
    }
    let mut before = text[..at].chars().rev();
    match before.next() {
        None => true,
        Some(c) if c.is_alphabetic() => false,
        Some('\'' | '’' | '-') => !before.next().is_some_and(char::is_alphabetic),
        Some(_) => true,
    }
}

/// The name words starting at `from`: up to four capitalized words or initials separated by
/// single spaces. `lower_ok` accepts lower-case words that are not common English words (after
/// "my name is"); `cued` accepts one capitalized word whatever it is.
fn name_words(text: &str, from: usize, lower_ok: bool, cued: bool) -> NameWords {
    let mut words = NameWords::default();
    let mut at = from;
    while words.len() < 4 {
        let Some(word) = word_at(text, at) else { break };
        let w = &text[word.start..word.end];
        let initial = w.chars().count() == 1 && starts_upper(w);
        let initial_dot = initial && text[word.end..].starts_with('.');
        let accepted = if initial {
            !words.is_empty() || cued
        } else if starts_upper(w) {
            !is_all_caps(w) || cued
        } else {
            lower_ok && !is_common_word(w) || cued && is_lower_case_name(w, words.is_empty())
        };
        let not_name = lexicon().not_names.has(w);
        let stop_word =
            !initial && !words.is_empty() && (not_name || is_common_word(w) && !in_list(&lexicon().last, w));
        if not_name && words.is_empty() {
            break;
        }
        if !accepted || stop_word || (cued && words.is_empty() && is_common_word(w) && !in_list(&lexicon().first, w)) {
            break;
        }
        let end = if initial_dot { word.end + 1 } else { word.end };
        words.push(Word { start: word.start, end });
        let rest = &text[end..];
        let gap = rest.len() - rest.trim_start_matches(' ').len();
        if gap != 1 {
            break;
        }
        at = end + 1;
    }
    while words.last().is_some_and(|w| text[w.start..w.end].chars().count() <= 2 && words.len() > 1) {
        words.pop();
    }
    if words.len() == 1 && text[words[0].start..words[0].end].chars().count() <= 2 {
        words.clear();
    }
    words
}

/// The word that starts exactly at `at`, if one does.
fn word_at(text: &str, at: usize) -> Option<Word> {
    let first = text[at..].chars().next()?;
    if !first.is_alphabetic() {
        return None;
    }
    Some(word_from(text, at))
}

/// The next word at or after `at` that starts with a capital letter.
fn next_capitalized(text: &str, at: usize) -> Option<Word> {
    let bytes = text.as_bytes();
    let mut i = at;
    while i < bytes.len() {
        let b = bytes[i];
        if (b.is_ascii_uppercase() || b >= 0xC0) && text.is_char_boundary(i) {
            let c = text[i..].chars().next().expect("a char at a boundary");
            let word_start = !text[..i].chars().next_back().is_some_and(char::is_alphabetic);
            if c.is_uppercase() && word_start {
                return Some(word_from(text, i));
            }
        }
        i += 1;
    }
    None
}

/// The next word at or after `at`. ASCII bytes are judged as bytes; a multi-byte character is
/// decoded where one starts.
fn next_word(text: &str, at: usize) -> Option<Word> {
    let bytes = text.as_bytes();
    let start = (at..bytes.len()).find(|&i| {
        let b = bytes[i];
        b.is_ascii_alphabetic() || b >= 0xC0 && text[i..].chars().next().is_some_and(char::is_alphabetic)
    })?;
    Some(word_from(text, start))
}

/// The word starting at `start`: letters, with an apostrophe or hyphen between two letters.
fn word_from(text: &str, start: usize) -> Word {
    // ASCII letters, and an ASCII apostrophe or hyphen before one, as bytes; from the first byte
    // that is not, character by character.
    let bytes = text.as_bytes();
    let mut at = start;
    let mut end = start;
    while let Some(&b) = bytes.get(at) {
        if b.is_ascii_alphabetic() {
            at += 1;
            end = at;
        } else if matches!(b, b'\'' | b'-') && bytes.get(at + 1).is_some_and(u8::is_ascii_alphabetic) {
            at += 1;
        } else {
            break;
        }
    }
    let mut chars = text[at..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_alphabetic() {
            end = at + i + c.len_utf8();
        } else if matches!(c, '\'' | '’' | '-') && chars.peek().is_some_and(|(_, n)| n.is_alphabetic()) {
            continue;
        } else {
            break;
        }
    }
    let word = &text[start..end];
    for possessive in ["'s", "’s"] {
        if word.len() > possessive.len() + 1 && word.ends_with(possessive) {
            end -= possessive.len();
        }
    }
    Word { start, end }
}

fn starts_upper(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase)
}

fn is_all_caps(w: &str) -> bool {
    w.chars().count() > 1 && w.chars().all(|c| !c.is_lowercase())
}

/// Whether `w`, in the lists' spelling (capitalized), is in `set`.
fn in_list(set: &WordSet, w: &str) -> bool {
    set.contains(w, true)
}

/// Calls `f` with `w` lower-cased, or capitalized as the name lists spell names, without
/// allocating for short ASCII words.
fn with_case<T>(w: &str, capitalize: bool, f: impl FnOnce(&str) -> T) -> T {
    let mut buf = [0u8; 32];
    if w.len() <= buf.len() && w.is_ascii() {
        for (i, b) in w.bytes().enumerate() {
            buf[i] = ascii_case(i, b, capitalize);
        }
        return f(std::str::from_utf8(&buf[..w.len()]).expect("ASCII"));
    }
    if capitalize {
        f(&capitalized(w))
    } else {
        f(&w.to_lowercase())
    }
}

/// Byte `i` of an ASCII word lower-cased, or upper-cased when it is the first and `capitalize`.
fn ascii_case(i: usize, b: u8, capitalize: bool) -> u8 {
    if i == 0 && capitalize {
        b.to_ascii_uppercase()
    } else {
        b.to_ascii_lowercase()
    }
}

/// `w` as the lists spell names: the first letter upper case, the rest lower case.
fn capitalized(w: &str) -> String {
    let mut chars = w.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(&str, &str)> {
        let mut out = Vec::new();
        scan(text, Open::of(text), &mut out);
        out.sort_by_key(|s| s.start);
        out.iter().map(|s| (&text[s.start..s.end], s.method.as_str())).collect()
    }

    #[test]
    fn words_span_letters_inner_apostrophes_and_hyphens_in_any_script() {
        fn words(text: &str) -> Vec<&str> {
            let mut out = Vec::new();
            let mut at = 0;
            while let Some(w) = next_word(text, at) {
                out.push(&text[w.start..w.end]);
                at = w.end;
            }
            out
        }
        assert_eq!(words("O'Brien's d'Artagnan-x 'quoted' - x-"), ["O'Brien", "s", "d'Artagnan-x", "quoted", "x"]);
        assert_eq!(words("José’s Zoë-Ann naïve l’été 12ab"), ["José", "s", "Zoë-Ann", "naïve", "l’été", "ab"]);
        assert_eq!(words("Müller'é Ölaf-'x Łukasz"), ["Müller'é", "Ölaf", "x", "Łukasz"]);
    }

    /// Repeated names are found by searching for each name; walking every word and comparing
    /// finds the same places.
    #[test]
    fn repeated_names_are_the_words_a_walk_would_find() {
        fn walked(text: &str, names: &[(usize, usize)]) -> Vec<(usize, usize)> {
            let seen: Vec<&str> = names.iter().map(|&(s, e)| &text[s..e]).collect();
            let mut found = Vec::new();
            let mut at = 0;
            while let Some(word) = next_word(text, at) {
                at = word.end;
                let inside = names.iter().any(|&(s, e)| s <= word.start && word.end <= e);
                if !inside && seen.contains(&&text[word.start..word.end]) {
                    found.push((word.start, word.end));
                }
            }
            found
        }
        let pieces = [
            "Ann", "Ann's", "l'Ann", "x-Ann", "-Ann", "'Ann", "’Ann", "Anna", "éAnn", "Annick", "3Ann", " ", ", ", "'",
            "s",
        ];
        let mut state = 7u64;
        for _ in 0..3000 {
            let mut text = String::from("Ann ");
            for _ in 0..8 {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push_str(pieces[(state >> 33) as usize % pieces.len()]);
            }
            let mut out =
                vec![Span { entity: "PERSON", start: 0, end: 3, score: 0.85, method: Method::NamesList, evidence: "" }];
            repeated_names(&text, 0, &mut out);
            let found: Vec<(usize, usize)> = out[1..].iter().map(|s| (s.start, s.end)).collect();
            assert_eq!(found, walked(&text, &[(0, 3)]), "{text:?}");
        }
    }

    #[test]
    fn cues() {
        assert_eq!(names("Hi, my name is rubija okafor and"), vec![("rubija okafor", "name_cue")]);
        assert_eq!(names("Dear Ms. Okonkwo,"), vec![("Okonkwo", "name_cue")]);
        assert_eq!(names("Thanks,\nPriya"), vec![("Priya", "name_cue")]);
        assert_eq!(names("I'm happy to help"), vec![]);
        assert_eq!(names("For my take on Mrs. Labrie, see"), vec![("Labrie", "name_cue")]);
        assert_eq!(names("this is his Name"), vec![]);
        assert_eq!(names("yeah it's john smith, account"), vec![("john smith", "name_cue")]);
        assert_eq!(names("this is great"), vec![]);
    }

    /// The words a cue starts with tell whether it allows a lower-case name, as the pattern's
    /// group 1 does.
    #[test]
    fn cues_that_allow_a_lower_case_name() {
        let text = "My name is x, my name's x, Name: x, names is x, call me x, named x, called x, signed x, \
                    under the name of x, this is x, I am x, i'm x, it's x, speaking to x, talk to x, ask for x, \
                    regards x, best wishes x, thanks x, thank you x, cheers x, sincerely x, best x, yours x, \
                    dear x, hi x, hello x, hey x, good morning x, Mrs x, Mr x, Ms x, Mx x, miss x, Dr x, prof x, \
                    sir x, madam x, ſigned x, ſincerely x";
        let cue = &lexicon().cue;
        let mut lower_ok = 0;
        for m in cue.find_iter(text) {
            let group = cue.captures_at(text, m.start()).is_some_and(|c| c.get(1).is_some());
            assert_eq!(allows_lower_case(cue, text, m.start()), group, "{}", m.as_str());
            lower_ok += usize::from(group);
        }
        assert_eq!(lower_ok, 8);
    }

    #[test]
    fn names_list() {
        assert_eq!(names("songwriter Zoe Young employs lingo"), vec![("Zoe Young", "names_list")]);
        assert_eq!(names("partner's name Shane M Culp."), vec![("Shane M Culp", "names_list")]);
        assert_eq!(
            names("verses from Faina D. Yefremova's tales, early Yefremova"),
            vec![("Faina D. Yefremova", "names_list"), ("Yefremova", "names_list")]
        );
        assert_eq!(names("The Orchestra was founded in Southern Tunisia"), vec![]);
        assert_eq!(names("follow up with patricia desrosiers soon"), vec![("patricia desrosiers", "names_list")]);
    }

    /// Given names that are also words are names at a sentence's start when a family name
    /// follows, and stay words when none does.
    #[test]
    fn word_names_with_a_family_name() {
        for name in ["Grace Taylor", "Maria Davis", "Tom Smith", "Priya Raman"] {
            assert_eq!(names(name), vec![(name, "names_list")], "{name}");
            let sentence = format!("{name} called about her order.");
            assert_eq!(names(&sentence), vec![(name, "names_list")], "{sentence}");
        }
        assert_eq!(names("Call Jane Smith at noon."), vec![("Jane Smith", "names_list")]);
        assert_eq!(names("Please Call Grace Taylor back."), vec![("Grace Taylor", "names_list")]);
        assert_eq!(names("Grace period ends today."), vec![]);
        assert_eq!(names("Will you call me back?"), vec![]);
        assert_eq!(names("Hope this helps."), vec![]);
    }
}
