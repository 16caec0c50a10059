//! Redaction: each span replaced by its type's operator.

use std::collections::HashMap;
use std::fmt::Write as _;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::detect::find;
use super::policy::{CompiledPolicy, Operator};
use crate::error::Result;
use crate::identity::{normalize_identifier, IdentifierKind};

/// Hex digits of the HMAC kept in a pseudonym (48 bits).
const PSEUDONYM_HEX: usize = 12;

/// `text` with every span [`detect`](super::detect) finds replaced by its type's operator. Fails
/// only when the policy hashes and its key environment variable is unset or too short, or when
/// the call is cancelled.
pub fn redact(text: &str, policy: &CompiledPolicy) -> Result<String> {
    let spans = find(text, policy, true)?;
    if spans.is_empty() {
        return Ok(text.to_string());
    }
    let mut numbering = Numbering::default();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in &spans {
        out.push_str(&text[at..span.start]);
        at = span.end;
        let value = &text[span.start..span.end];
        match policy.operator(span.entity) {
            Operator::Placeholder => {
                let _ = write!(out, "<{}>", span.entity);
            }
            Operator::Indexed => {
                let n = numbering.number(span.entity, canonical(span.entity, value, policy));
                let _ = write!(out, "<{}_{n}>", span.entity);
            }
            Operator::Mask => mask(value, policy, &mut out),
            Operator::Hash => pseudonym(policy.key()?, span.entity, &canonical(span.entity, value, policy), &mut out),
            Operator::Drop => {}
            Operator::Keep => out.push_str(value),
        }
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// The indexed operator's numbers: per type, one per distinct value in order of appearance.
#[derive(Default)]
struct Numbering<'a> {
    numbers: HashMap<&'a str, HashMap<String, usize>>,
    /// Each word of a numbered person's name, so "Priya" after "Priya Raman" keeps her number.
    name_parts: HashMap<String, usize>,
}

impl<'a> Numbering<'a> {
    /// The number of the value whose canonical form is `key`.
    fn number(&mut self, entity: &'a str, key: String) -> usize {
        let numbers = self.numbers.entry(entity).or_default();
        if let Some(&n) = numbers.get(&key) {
            return n;
        }
        if let Some(&n) = self.name_parts.get(&key).filter(|_| entity == "PERSON") {
            return n;
        }
        let n = numbers.len() + 1;
        if entity == "PERSON" {
            for part in key.split(' ').filter(|p| !p.is_empty()) {
                self.name_parts.entry(part.to_string()).or_insert(n);
            }
        }
        numbers.insert(key, n);
        n
    }
}

/// The form of a value that decides sameness: an email or phone number normalized as identity
/// stitching does, a person's name folded, anything else lower-cased with spaces collapsed. So
/// `Jane.Doe@Example.com` and `jane.doe@example.com` get one pseudonym and one index.
fn canonical(entity: &str, value: &str, policy: &CompiledPolicy) -> String {
    let normalized = match entity {
        "EMAIL_ADDRESS" => normalize_identifier(IdentifierKind::Email, value, None),
        "PHONE_NUMBER" => normalize_identifier(IdentifierKind::Phone, value, Some(policy.region)),
        "PERSON" => normalize_identifier(IdentifierKind::Name, value, None),
        "CREDIT_CARD" | "IBAN_CODE" | "US_SSN" => {
            Some(value.chars().filter(char::is_ascii_alphanumeric).flat_map(|c| c.to_uppercase()).collect())
        }
        _ => None,
    };
    normalized.unwrap_or_else(|| value.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase())
}

/// Letters and digits masked but the last `keep_last`; punctuation and spaces kept, so the shape
/// stays readable (`************1111`).
fn mask(value: &str, policy: &CompiledPolicy, out: &mut String) {
    let spec = &policy.policy.mask;
    let alnum = value.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    for c in value.chars() {
        if c.is_alphanumeric() {
            seen += 1;
            out.push(if seen > alnum.saturating_sub(spec.keep_last) { c } else { spec.char });
        } else {
            out.push(c);
        }
    }
}

/// `<TYPE_0123456789ab>`: the first 48 bits of HMAC-SHA256(key, type, value), onto `out`.
fn pseudonym(key: &[u8], entity: &str, canonical: &str, out: &mut String) {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(entity.as_bytes());
    mac.update(&[0]);
    mac.update(canonical.as_bytes());
    let digest = mac.finalize().into_bytes();
    let _ = write!(out, "<{entity}_");
    for b in digest.iter().take(PSEUDONYM_HEX / 2) {
        let _ = write!(out, "{b:02x}");
    }
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn policy(json: &str) -> CompiledPolicy {
        CompiledPolicy::from_json(json).unwrap()
    }

    #[test]
    fn operators() {
        let text = "Email jane@example.com or JANE@example.com, card 4111 1111 1111 1111.";
        assert_eq!(redact(text, &policy("")).unwrap(), "Email <EMAIL_ADDRESS> or <EMAIL_ADDRESS>, card <CREDIT_CARD>.");
        assert_eq!(
            redact(text, &policy(r#"{"operator": "indexed"}"#)).unwrap(),
            "Email <EMAIL_ADDRESS_1> or <EMAIL_ADDRESS_1>, card <CREDIT_CARD_1>."
        );
        assert_eq!(
            redact(text, &policy(r#"{"operators": {"CREDIT_CARD": "mask", "EMAIL_ADDRESS": "drop"}}"#)).unwrap(),
            "Email  or , card **** **** **** 1111."
        );
        assert_eq!(
            redact(text, &policy(r#"{"operators": {"CREDIT_CARD": "keep"}}"#)).unwrap(),
            "Email <EMAIL_ADDRESS> or <EMAIL_ADDRESS>, card 4111 1111 1111 1111."
        );
    }

    #[test]
    fn pseudonyms_are_keyed_and_stable() {
        let token = |key: &[u8]| {
            let mut out = String::new();
            pseudonym(key, "EMAIL_ADDRESS", "jane@example.com", &mut out);
            out
        };
        let a = token(b"0123456789abcdef");
        assert_eq!(a, token(b"0123456789abcdef"));
        assert_ne!(a, token(b"fedcba9876543210"));
        assert_eq!(a.len(), "<EMAIL_ADDRESS_>".len() + PSEUDONYM_HEX);
    }

    #[test]
    fn a_missing_key_is_an_error_that_says_what_to_set() {
        let e = redact(
            "mail jane@example.com",
            &policy(r#"{"operator": "hash", "key_env": "CONVLYTICS_PII_TEST_NO_SUCH_KEY"}"#),
        );
        assert!(e.unwrap_err().to_string().contains("set the environment variable CONVLYTICS_PII_TEST_NO_SUCH_KEY"));
    }

    #[test]
    fn a_key_variable_off_the_permitted_list_is_refused_without_reading_it() {
        for variable in ["HOME", "PATH", "CONVLYTICS_NO_SUCH_KEY"] {
            let json = format!(r#"{{"operator": "hash", "key_env": "{variable}"}}"#);
            let e = redact("mail jane@example.com", &policy(&json)).unwrap_err();
            assert!(matches!(&e, Error::KeyNotPermitted { variable: v } if v == variable), "{e}");
        }
    }
}
