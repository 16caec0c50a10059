//! Pattern detectors: email addresses, URLs and the secrets inside them, credentials, IPv6,
//! IBANs, written dates, UK and Canadian postcodes, and the policy's own patterns and deny lists.

use std::net::Ipv6Addr;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use regex::Regex;

use super::checksum::iban;
use super::context::is_whole_word;
use super::policy::CompiledPolicy;
use super::{Method, Span};

/// Detectors that run only on texts holding one of their words at the start of a word, followed
/// by what their regex needs next ([`Follow`]): every match of their regex contains one.
/// Case-insensitive alternations defeat the regex engine's own literal prefilter, and most texts
/// hold none of the words.
#[derive(Clone, Copy)]
pub(super) enum Gate {
    /// A value after "password is", "PIN:" and the like.
    Credential,
    /// Tokens with a recognisable shape (cloud keys, JWTs, bearer tokens).
    Token,
    /// The cues after which a person's name follows (`person::CUE`).
    NameCue,
    /// Dates written with a month name.
    Month,
    /// A flat, suite or unit number (`address::UNIT`).
    Unit,
}

/// The credential pattern's key words whole: each opens the gate only when what follows it can
/// go on to a value ([`Follow`]).
const CREDENTIAL_WORDS: [&str; 26] = [
    "password",
    "passcode",
    "passwd",
    "pass",
    "pwd",
    "pin",
    "pincode",
    "pinnumber",
    "api",
    "apikey",
    "secret",
    "secretkey",
    "access",
    "accesstoken",
    "auth",
    "authtoken",
    "token",
    "otp",
    "one",
    "verification",
    "verificationcode",
    "security",
    "securitycode",
    "cvv",
    "cvv2",
    "cvc",
];

const TOKEN_WORDS: [&str; 12] =
    ["sk_", "pk_", "rk_", "akia", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox", "eyj", "bearer"];

const MONTH_WORDS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

const UNIT_WORDS: [&str; 12] =
    ["apt", "apartment", "suite", "ste", "unit", "flat", "floor", "fl", "room", "rm", "building", "bldg"];

/// Each gate's words.
const GATE_WORDS: [(Gate, &[&str]); 5] = [
    (Gate::Credential, &CREDENTIAL_WORDS),
    (Gate::Token, &TOKEN_WORDS),
    (Gate::NameCue, &super::person::CUE_WORDS),
    (Gate::Month, &MONTH_WORDS),
    (Gate::Unit, &UNIT_WORDS),
];

/// What must follow a gate word for its gate to open: what its pattern needs next.
#[derive(Clone, Copy)]
enum Follow {
    /// Anything (a prefix of the pattern's words).
    Any,
    /// A space, `:` or `=` before a credential's value ("pin is", "pwd:").
    Value,
    /// As `Value`, or `_` or `-` ("api_key").
    Api,
    /// `[\s-]time` ("one time code").
    OneTime,
    /// A dot, space, tab, `#` or digit before a unit's number ("Apt. 4", "Suite #12").
    Number,
}

impl Follow {
    /// The rule for `word` of `gate`.
    fn of(gate: Gate, word: &str) -> Self {
        match (gate, word) {
            (Gate::Credential, "one") => Follow::OneTime,
            (Gate::Credential, "api") => Follow::Api,
            (Gate::Credential, _) => Follow::Value,
            (Gate::Unit, _) => Follow::Number,
            _ => Follow::Any,
        }
    }

    /// Whether `rest`, the text after the word, is what this rule asks for.
    fn admits(self, rest: &str) -> bool {
        let mut chars = rest.chars();
        let next = chars.next();
        match self {
            Follow::Any => true,
            Follow::Value => next.is_some_and(|c| c.is_whitespace() || matches!(c, ':' | '=')),
            Follow::Api => next.is_some_and(|c| c.is_whitespace() || matches!(c, ':' | '=' | '_' | '-')),
            Follow::OneTime => {
                next.is_some_and(|c| c.is_whitespace() || c == '-')
                    && chars.as_str().get(..4).is_some_and(|w| w.eq_ignore_ascii_case("time"))
            }
            Follow::Number => next.is_some_and(|c| matches!(c, '.' | ' ' | '\t' | '#') || c.is_numeric()),
        }
    }
}

/// The gates a text opens, found in one case-insensitive pass for the words of every gate.
#[derive(Clone, Copy)]
pub(super) struct Open(u8);

impl Open {
    /// The gates `text` opens.
    pub(super) fn of(text: &str) -> Self {
        struct Words {
            matcher: AhoCorasick,
            gate: Vec<(Gate, Follow)>,
        }
        static WORDS: OnceLock<Words> = OnceLock::new();
        let words = WORDS.get_or_init(|| {
            let (gate, all): (Vec<(Gate, Follow)>, Vec<&str>) = GATE_WORDS
                .iter()
                .flat_map(|(gate, list)| list.iter().map(move |w| ((*gate, Follow::of(*gate, w)), *w)))
                .unzip();
            let matcher = AhoCorasickBuilder::new().ascii_case_insensitive(true).build(all).expect("gate words build");
            Words { matcher, gate }
        });
        const ALL: u8 = 0b1_1111;
        let mut open = 0;
        for m in words.matcher.find_overlapping_iter(text) {
            let (gate, follow) = words.gate[m.pattern().as_usize()];
            let bit = 1 << gate as u8;
            // The regexes start at an ASCII word boundary, `(?-u:\b)`.
            let inside_word =
                text.as_bytes()[..m.start()].last().is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
            if open & bit == 0 && !inside_word && follow.admits(&text[m.end()..]) {
                open |= bit;
                if open == ALL {
                    break;
                }
            }
        }
        Self(open)
    }

    /// Whether `gate` is open.
    pub(super) fn has(self, gate: Gate) -> bool {
        self.0 & (1 << gate as u8) != 0
    }
}

struct Patterns {
    email: Regex,
    url: Regex,
    url_secret: Regex,
    credential: Regex,
    token: Regex,
    ipv6: Regex,
    iban: Regex,
    written_date: Regex,
    postcode: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let re = |p: &str| Regex::new(p).expect("built-in PII pattern compiles");
        Patterns {
            email: re(r"(?-u:\b)[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?-u:\b)"),
            url: re(r"(?i)(?-u:\b)(?:https?://|ftp://|www\.)[^\s<>\x22'`]+"),
            url_secret: re(r"(?i)(?:[?&#;](?:access_token|id_token|refresh_token|token|api_key|apikey|key|secret|client_secret|password|passwd|pwd|sig|signature|auth|session|sessionid|sid|code)=([^&#\s]+))|(?://[^/\s:@]+:([^/\s@]+)@)"),
            credential: re(r"(?i)(?-u:\b)(?:password|passcode|passwd|pass\s?word|pwd|pin(?:\s?(?:code|number))?|api[\s_-]?key|secret(?:\s?key)?|access\s?token|auth\s?token|token|otp|one[\s-]time\s(?:code|password)|verification\s?code|security\s?code|cvv2?|cvc)(?:\s+(?:is|was|would\sbe|will\sbe|=|:)|\s*[:=])\s*[\x22'“]?([^\s\x22'”,;]{3,64})"),
            token: re(r"(?-u:\b)(?:(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|xox[baprs]-[A-Za-z0-9-]{10,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})(?-u:\b)|(?i:bearer)\s+([A-Za-z0-9._~+/-]{16,}=*)"),
            ipv6: re(r"(?:[0-9A-Fa-f]{1,4}|:)?(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}"),
            iban: re(r"(?i)(?-u:\b)[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?-u:\b)"),
            written_date: re(r"(?i)(?-u:\b)(?:(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?)?(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?(?:\s+\d{1,2}(?:st|nd|rd|th)?)?,?\s+(?:19|20)\d{2}|(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s+\d{1,2}(?:st|nd|rd|th)?|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?))(?-u:\b)"),
            postcode: re(r"(?-u:\b)(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}|[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d)(?-u:\b)"),
        }
    })
}

/// Email addresses.
pub(super) fn email<'a>(text: &'a str, out: &mut Vec<Span<'a>>) {
    if !text.contains('@') {
        return;
    }
    for m in patterns().email.find_iter(text) {
        out.push(span("EMAIL_ADDRESS", m.start(), m.end(), 1.0, Method::Pattern, "email"));
    }
}

/// URLs, and the tokens, keys and passwords inside them as `CREDENTIAL`.
pub(super) fn url<'a>(text: &'a str, out: &mut Vec<Span<'a>>) {
    let p = patterns();
    for m in p.url.find_iter(text) {
        let trimmed = m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']']);
        let end = m.start() + trimmed.len();
        out.push(span("URL", m.start(), end, 0.6, Method::Pattern, "url"));
        for secret in p.url_secret.captures_iter(trimmed) {
            if let Some(value) = secret.get(1).or_else(|| secret.get(2)) {
                let start = m.start() + value.start();
                out.push(span("CREDENTIAL", start, m.start() + value.end(), 0.9, Method::Pattern, "secret in url"));
            }
        }
    }
}

/// Credentials: a value after "password is", "PIN:", "api key =" and the like, and tokens with
/// a recognisable shape (cloud keys, JWTs, bearer tokens).
pub(super) fn credential<'a>(text: &'a str, open: Open, out: &mut Vec<Span<'a>>) {
    let p = patterns();
    for c in open.has(Gate::Credential).then(|| p.credential.captures_iter(text)).into_iter().flatten() {
        let value = c.get(1).expect("the credential pattern captures its value");
        let trimmed = value.as_str().trim_end_matches(['.', ',', '!', '?', ';', ':', ')']);
        if trimmed.len() >= 3 && !super::person::is_common_word(trimmed) {
            let end = value.start() + trimmed.len();
            out.push(span("CREDENTIAL", value.start(), end, 0.8, Method::Context, "credential cue"));
        }
    }
    for c in open.has(Gate::Token).then(|| p.token.captures_iter(text)).into_iter().flatten() {
        let m = c.get(1).unwrap_or_else(|| c.get(0).expect("whole match"));
        out.push(span("CREDENTIAL", m.start(), m.end(), 0.9, Method::Pattern, "token shape"));
    }
}

/// IPv6 addresses, validated by parsing.
pub(super) fn ipv6<'a>(text: &'a str, out: &mut Vec<Span<'a>>) {
    if !could_hold_ipv6(text.as_bytes()) {
        return;
    }
    for m in patterns().ipv6.find_iter(text) {
        if is_whole_word(text, m.start(), m.end())
            && m.as_str().bytes().any(|b| b.is_ascii_hexdigit())
            && m.as_str().parse::<Ipv6Addr>().is_ok()
        {
            out.push(span("IP_ADDRESS", m.start(), m.end(), 0.9, Method::Checksum, "ipv6"));
        }
    }
}

/// Whether a run of hex digits, colons and dots holds `::` or at least six colons: every IPv6
/// address does (eight groups, or six and an IPv4 tail), and "Agent: at 10:30" does not.
fn could_hold_ipv6(bytes: &[u8]) -> bool {
    // Colon to colon: the bytes between two colons are hex digits and dots, or the count starts
    // again.
    let (mut colons, mut previous) = (0, None);
    for at in memchr::memchr_iter(b':', bytes) {
        match previous {
            Some(before) if bytes[before + 1..at].iter().all(|b| b.is_ascii_hexdigit() || *b == b'.') => {
                if at == before + 1 {
                    return true;
                }
                colons += 1;
            }
            _ => colons = 1,
        }
        if colons >= 6 {
            return true;
        }
        previous = Some(at);
    }
    false
}

/// IBANs: the longest prefix of the match, ending on a group boundary, that passes mod-97.
pub(super) fn iban_code<'a>(text: &'a str, out: &mut Vec<Span<'a>>) {
    for m in patterns().iban.find_iter(text) {
        let raw = m.as_str();
        let mut ends: Vec<usize> = raw.match_indices(' ').map(|(i, _)| i).collect();
        ends.push(raw.len());
        let valid = ends.iter().rev().find(|&&end| {
            let compact: Vec<u8> = raw[..end].bytes().filter(|b| *b != b' ').map(|b| b.to_ascii_uppercase()).collect();
            iban(&compact)
        });
        if let Some(&end) = valid {
            out.push(span("IBAN_CODE", m.start(), m.start() + end, 1.0, Method::Checksum, "mod-97"));
        }
    }
}

/// Dates written with a month name ("March 3, 1985", "3rd of March"): `DATE_TIME` at a low score,
/// which context raises (or turns into `DATE_OF_BIRTH`).
pub(super) fn written_date<'a>(text: &'a str, open: Open, out: &mut Vec<Span<'a>>) {
    for m in open.has(Gate::Month).then(|| patterns().written_date.find_iter(text)).into_iter().flatten() {
        out.push(span("DATE_TIME", m.start(), m.end(), 0.3, Method::Pattern, "date"));
    }
}

/// UK and Canadian postcodes: a distinctive shape, reported when context agrees.
pub(super) fn postcode<'a>(text: &'a str, out: &mut Vec<Span<'a>>) {
    for m in patterns().postcode.find_iter(text) {
        out.push(span("POSTAL_CODE", m.start(), m.end(), 0.4, Method::Pattern, "postcode shape"));
    }
}

/// The policy's own patterns and deny lists.
pub(super) fn declared<'a>(text: &'a str, policy: &'a CompiledPolicy, out: &mut Vec<Span<'a>>) {
    for (regex, spec) in &policy.patterns {
        for m in regex.find_iter(text).filter(|m| !m.is_empty()) {
            out.push(span(&spec.entity, m.start(), m.end(), spec.score, Method::Pattern, "project pattern"));
        }
    }
    if let Some((matcher, types)) = &policy.deny {
        for m in matcher.find_iter(text) {
            if is_whole_word(text, m.start(), m.end()) {
                let entity = &policy.policy.deny[types[m.pattern().as_usize()]].entity;
                out.push(span(entity, m.start(), m.end(), 1.0, Method::DenyList, "deny list"));
            }
        }
    }
}

fn span<'a>(entity: &'a str, start: usize, end: usize, score: f64, method: Method, evidence: &'a str) -> Span<'a> {
    Span { entity, start, end, score, method, evidence }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_open_on_their_words_at_a_word_start() {
        let open = Open::of("Hi there, my PIN is 4471; see you on 3 March");
        assert!(open.has(Gate::NameCue) && open.has(Gate::Credential) && open.has(Gate::Month));
        assert!(!open.has(Gate::Token) && !open.has(Gate::Unit));
        let closed = Open::of("shipping options: express, standard");
        assert!([Gate::Credential, Gate::Token, Gate::NameCue, Gate::Month, Gate::Unit]
            .iter()
            .all(|g| !closed.has(*g)));
        // Inside a word the gate stays shut; after a non-ASCII letter it opens, as `(?-u:\b)` does.
        assert!(!Open::of("happiness").has(Gate::Credential));
        assert!(Open::of("épin: 1234").has(Gate::Credential));
        assert!(Open::of("Flat 4, Bearer abcdefghijklmnopq").has(Gate::Unit));
        // A gate word opens its gate only where its pattern could go on.
        for shut in ["a one way flight", "two passengers", "APIs", "a pink room", "Unity"] {
            let open = Open::of(shut);
            assert!(!open.has(Gate::Credential) && !open.has(Gate::Unit), "{shut}");
        }
    }

    /// Every text the credential pattern matches opens its gate (address.rs tests the unit gate).
    #[test]
    fn a_gate_opens_wherever_its_pattern_matches() {
        let credentials = [
            "password is hunter22",
            "Passcode: 4471",
            "pass word = abc123",
            "PWD:xyz99",
            "pin 4471 is it? no, PIN is 4471",
            "pincode: 1234",
            "pin number is 8891",
            "API_KEY=abcdef",
            "api-key: abc",
            "apikey = abc",
            "secret key is s3cr3t",
            "access token: tok_123",
            "authtoken=abc",
            "token:\tabcd",
            "OTP is 889911",
            "one-time code: 123456",
            "One time password is 99887",
            "verification code is 5531",
            "securitycode: 321",
            "CVV2: 123",
            "cvc = 999",
            "password\u{a0}is zebra77",
        ];
        for text in credentials {
            assert!(patterns().credential.is_match(text), "{text}");
            assert!(Open::of(text).has(Gate::Credential), "{text}");
        }
    }

    #[test]
    fn only_a_run_of_hex_and_colons_could_be_ipv6() {
        for text in ["fe80::1", "2001:db8:0:0:0:0:2:1", "::ffff:10.0.0.1", "1:2:3:4:5:6:1.2.3.4"] {
            assert!(could_hold_ipv6(text.as_bytes()), "{text}");
            assert!(text.parse::<Ipv6Addr>().is_ok(), "{text}");
        }
        for text in ["Agent: at 10:30\nCustomer: ok\nAgent: 11:15 then 12:45:10", "a: b: c: d: e: f: g: h"] {
            assert!(!could_hold_ipv6(text.as_bytes()), "{text}");
        }
    }
}
