//! The word and phrase valences: VADER's lexicon with the support lexicon laid over it, and the
//! closed word lists the rules use (negators, degree adverbs, verbs a negation turns negative).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// Valences on VADER's [-4, 4] scale, keyed by lower-case token or space-joined phrase.
pub(crate) struct Lexicon {
    valences: HashMap<String, f64>,
    /// Every phrase's leading words ("thank", "thank you" for "thank you so much"), so a lookup
    /// only reads on while a phrase could still match.
    prefixes: HashSet<String>,
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let mut valences = HashMap::new();
    for source in [include_str!("vader_lexicon.tsv"), include_str!("support_lexicon.tsv")] {
        for line in source.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let (entry, value) = line.split_once('\t').expect("lexicon lines are token<TAB>valence");
            // Phrases are keyed by their tokens as the tokenizer writes them ("merci d'avance" is
            // "merci avance"); single tokens (emoticons such as "d:") as written.
            let key = if entry.contains(' ') {
                entry
                    .split(' ')
                    .flat_map(|w| match elided(w) {
                        Some((true, rest)) => vec!["ne", rest],
                        Some((false, rest)) => vec![rest],
                        None => vec![w],
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                entry.to_string()
            };
            valences.insert(key, value.trim().parse().expect("lexicon valence"));
        }
    }
    let mut prefixes = HashSet::new();
    for key in valences.keys() {
        let mut ends = key.match_indices(' ').map(|(at, _)| at);
        prefixes.extend(ends.by_ref().map(|at| key[..at].to_string()));
    }
    Lexicon { valences, prefixes }
});

/// The lexicon, read on first use.
pub(crate) fn lexicon() -> &'static Lexicon {
    &LEXICON
}

impl Lexicon {
    /// The valence of a lower-case token or phrase.
    pub(crate) fn get(&self, key: &str) -> Option<f64> {
        self.valences.get(key).copied()
    }

    /// Whether some phrase starts with the words of `key`.
    pub(crate) fn continues(&self, key: &str) -> bool {
        self.prefixes.contains(key)
    }
}

/// French elision: `n'arrive` is the negator `ne` and `arrive` (`Some((true, "arrive"))`),
/// `l'application` is `application`; `None` for a word without an elided article.
pub(crate) fn elided(word: &str) -> Option<(bool, &str)> {
    let (article, rest) = word.split_once('\'')?;
    let elides = matches!(article, "n" | "l" | "d" | "j" | "qu" | "c" | "s" | "m" | "t") && !rest.is_empty();
    elides.then_some((article == "n", rest))
}

/// Words that negate what follows them in their clause.
pub(crate) fn is_negator(word: &str) -> bool {
    static NEGATORS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
        [
            "not",
            "no",
            "never",
            "none",
            "nope",
            "nor",
            "nothing",
            "nowhere",
            "nobody",
            "neither",
            "without",
            "cannot",
            "cant",
            "dont",
            "doesnt",
            "didnt",
            "isnt",
            "arent",
            "wasnt",
            "werent",
            "wont",
            "wouldnt",
            "couldnt",
            "shouldnt",
            "havent",
            "hasnt",
            "hadnt",
            "aint",
            "rarely",
            "seldom",
            "hardly",
            "barely",
            "neednt",
            "mustnt",
            "mightnt",
            "despite",
            // Spanish, Portuguese, French, Italian, German, Dutch, Swedish, Russian.
            "nunca",
            "nada",
            "sin",
            "ningún",
            "ninguna",
            "não",
            "nem",
            "sem",
            "ne",
            "jamais",
            "rien",
            "aucun",
            "aucune",
            "sans",
            "non",
            "nessun",
            "nessuno",
            "senza",
            "niente",
            "nicht",
            "kein",
            "keine",
            "keinen",
            "nie",
            "niemals",
            "ohne",
            "niet",
            "geen",
            "nooit",
            "zonder",
            "inte",
            "aldrig",
            "ingen",
            "inget",
            "utan",
            "не",
            "нет",
            "никогда",
            "без",
        ]
        .into()
    });
    word.ends_with("n't") || NEGATORS.contains(word)
}

/// Degree adverbs: how much they raise (or, negative, lower) the valence of the word they modify.
pub(crate) fn booster(word: &str) -> Option<f64> {
    const UP: f64 = 0.293;
    Some(match word {
        "absolutely" | "amazingly" | "awfully" | "completely" | "considerably" | "decidedly" | "deeply"
        | "enormously" | "entirely" | "especially" | "exceptionally" | "extremely" | "fully" | "greatly" | "highly"
        | "hugely" | "incredibly" | "intensely" | "majorly" | "more" | "most" | "particularly" | "purely" | "quite"
        | "really" | "remarkably" | "so" | "substantially" | "thoroughly" | "totally" | "tremendously"
        | "unbelievably" | "unusually" | "utterly" | "very" | "super" | "seriously" | "truly" | "très" | "muy"
        | "sehr" | "molto" | "muito" | "erg" | "zeer" | "väldigt" | "очень" | "fucking" | "freaking" | "effing"
        | "bloody" | "pretty" | "too" | "beyond" | "such" => UP,
        "almost" | "slightly" | "somewhat" | "kinda" | "sorta" | "marginally" | "partly" | "little" | "less"
        | "occasionally" | "mostly" | "fairly" | "bit" => -UP,
        _ => return None,
    })
}

/// Words that raise only a negative valence: persistence and repetition ("still broken",
/// "again late").
pub(crate) fn is_persistence(word: &str) -> bool {
    const PERSISTENCE: [&str; 22] = [
        "still",
        "again",
        "yet",
        "constantly",
        "always",
        "repeatedly",
        "keeps",
        "continually",
        "todavía",
        "aún",
        "encore",
        "toujours",
        "immer",
        "noch",
        "nog",
        "steeds",
        "ainda",
        "ancora",
        "fortfarande",
        "всё",
        "опять",
        "снова",
    ];
    PERSISTENCE.contains(&word)
}

/// Verbs and participles with no valence of their own that a negation makes a complaint:
/// "doesn't work", "never arrived", "can't log in", "didn't help".
pub(crate) fn is_negatable_outcome(word: &str) -> bool {
    static OUTCOMES: LazyLock<HashSet<&str>> = LazyLock::new(|| {
        [
            "work",
            "works",
            "worked",
            "working",
            "arrive",
            "arrives",
            "arrived",
            "help",
            "helped",
            "helps",
            "respond",
            "responded",
            "reply",
            "replied",
            "answer",
            "answered",
            "fix",
            "fixed",
            "load",
            "loads",
            "loading",
            "open",
            "opens",
            "connect",
            "connects",
            "connected",
            "connecting",
            "charge",
            "charging",
            "turn",
            "start",
            "starts",
            "sync",
            "syncing",
            "show",
            "showed",
            "receive",
            "received",
            "refund",
            "refunded",
            "resolve",
            "resolved",
            "solve",
            "solved",
            "update",
            "updated",
            "fit",
            "fits",
            "last",
            "lasted",
            "log",
            "login",
            "access",
            "deliver",
            "delivered",
            "ship",
            "shipped",
            "come",
            "came",
            "get",
            "got",
            "hear",
            "heard",
            "call",
            "called",
            "contact",
            "contacted",
            "sent",
            "send",
            "process",
            "processed",
            "go",
            "went",
            "accept",
            "accepted",
            "recognize",
            "recognise",
            "install",
            "download",
            "print",
            "pair",
            "boot",
            "power",
            "correct",
            "accurate",
            "edible",
            "back",
            "return",
            "make",
            "honor",
            "honour",
            "keep",
            "kept",
            // The same outcomes in the other languages the lexicon covers.
            "funciona",
            "llegó",
            "llegado",
            "recibido",
            "fonctionne",
            "marche",
            "arrivé",
            "reçu",
            "funktioniert",
            "angekommen",
            "erhalten",
            "werkt",
            "aangekomen",
            "ontvangen",
            "chegou",
            "recebi",
            "funziona",
            "arrivato",
            "ricevuto",
            "fungerar",
            "kommit",
            "работает",
            "пришел",
            "пришёл",
            "войти",
            "получил",
        ]
        .into()
    });
    OUTCOMES.contains(word)
}

/// Words that turn the rest of their sentence round: what follows weighs more than what came
/// before.
pub(crate) fn is_contrast(word: &str) -> bool {
    matches!(word, "but" | "however" | "although" | "though")
}

/// Words that make what follows in the clause hypothetical or requested rather than felt.
pub(crate) fn is_irrealis(word: &str) -> bool {
    matches!(word, "if" | "would" | "could" | "hope" | "hopefully" | "wish" | "should" | "unless" | "whether")
}
