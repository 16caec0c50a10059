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

/// A regex behind a cheap case-insensitive search for the words any match must contain: the
/// regex runs only on texts where one of them occurs as (the start of) a word. Case-insensitive
/// alternations defeat the regex engine's own literal prefilter, and most texts hold none of
/// the words.
pub(super) struct Gated {
    words: AhoCorasick,
    /// The regex, for texts that pass the gate.
    pub(super) regex: Regex,
}

impl Gated {
    /// `regex`, gated on `words`.
    pub(super) fn new(words: &[&str], regex: &str) -> Self {
        let words = AhoCorasickBuilder::new().ascii_case_insensitive(true).build(words).expect("gate words build");
        Self { words, regex: Regex::new(regex).expect("built-in PII pattern compiles") }
    }

    /// Whether one of the words starts a word of `text`.
    pub(super) fn open(&self, text: &str) -> bool {
        self.words.find_iter(text).any(|m| !text[..m.start()].ends_with(|c: char| c.is_alphanumeric()))
    }
}

struct Patterns {
    email: Regex,
    url: Regex,
    url_secret: Regex,
    credential: Gated,
    token: Gated,
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
            credential: Gated::new(&["pass", "pwd", "pin", "api", "secret", "access", "auth", "token", "otp", "one", "verification", "security", "cvv", "cvc"], r"(?i)(?-u:\b)(?:password|passcode|passwd|pass\s?word|pwd|pin(?:\s?(?:code|number))?|api[\s_-]?key|secret(?:\s?key)?|access\s?token|auth\s?token|token|otp|one[\s-]time\s(?:code|password)|verification\s?code|security\s?code|cvv2?|cvc)(?:\s+(?:is|was|would\sbe|will\sbe|=|:)|\s*[:=])\s*[\x22'“]?([^\s\x22'”,;]{3,64})"),
            token: Gated::new(&["sk_", "pk_", "rk_", "akia", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox", "eyj", "bearer"], r"(?-u:\b)(?:(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|xox[baprs]-[A-Za-z0-9-]{10,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})(?-u:\b)|(?i:bearer)\s+([A-Za-z0-9._~+/-]{16,}=*)"),
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
pub(super) fn credential<'a>(text: &'a str, out: &mut Vec<Span<'a>>) {
    let p = patterns();
    for c in p.credential.open(text).then(|| p.credential.regex.captures_iter(text)).into_iter().flatten() {
        let value = c.get(1).expect("the credential pattern captures its value");
        let trimmed = value.as_str().trim_end_matches(['.', ',', '!', '?', ';', ':', ')']);
        if trimmed.len() >= 3 && !super::person::is_common_word(trimmed) {
            let end = value.start() + trimmed.len();
            out.push(span("CREDENTIAL", value.start(), end, 0.8, Method::Context, "credential cue"));
        }
    }
    for c in p.token.open(text).then(|| p.token.regex.captures_iter(text)).into_iter().flatten() {
        let m = c.get(1).unwrap_or_else(|| c.get(0).expect("whole match"));
        out.push(span("CREDENTIAL", m.start(), m.end(), 0.9, Method::Pattern, "token shape"));
    }
}

/// IPv6 addresses, validated by parsing.
pub(super) fn ipv6<'a>(text: &'a str, out: &mut Vec<Span<'a>>) {
    if !text.contains("::") && text.bytes().filter(|&b| b == b':').count() < 7 {
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
pub(super) fn written_date<'a>(text: &'a str, out: &mut Vec<Span<'a>>) {
    for m in patterns().written_date.find_iter(text) {
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
