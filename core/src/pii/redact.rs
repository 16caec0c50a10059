//! Redaction: each span replaced by its type's operator.

use std::collections::HashMap;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::detect::find;
use super::policy::{CompiledPolicy, Operator};
use crate::error::{Error, Result};
use crate::identity::{normalize_identifier, IdentifierKind};

/// The shortest key the hash operator accepts, in bytes.
const MIN_KEY_LEN: usize = 16;
/// Hex digits of the HMAC kept in a pseudonym (48 bits).
const PSEUDONYM_HEX: usize = 12;

/// `text` with every span [`detect`](super::detect) finds replaced by its type's operator. Fails
/// only when the policy hashes and its key environment variable is unset or too short.
pub fn redact(text: &str, policy: &CompiledPolicy) -> Result<String> {
    let spans = find(text, policy, true);
    if spans.is_empty() {
        return Ok(text.to_string());
    }
    let mut key: Option<Vec<u8>> = None;
    let mut indexes: HashMap<(&str, String), usize> = HashMap::new();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    // Each word of a numbered person's name, so "Priya" after "Priya Raman" keeps her number.
    let mut name_parts: HashMap<String, usize> = HashMap::new();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in &spans {
        out.push_str(&text[at..span.start]);
        at = span.end;
        let value = &text[span.start..span.end];
        match policy.operator(span.entity) {
            Operator::Placeholder => {
                out.push('<');
                out.push_str(span.entity);
                out.push('>');
            }
            Operator::Indexed => {
                let key = canonical(span.entity, value, policy);
                let known = indexes.get(&(span.entity, key.clone())).copied();
                let n = match known
                    .or_else(|| (span.entity == "PERSON").then(|| name_parts.get(&key).copied()).flatten())
                {
                    Some(n) => n,
                    None => {
                        let n = counts.get(span.entity).copied().unwrap_or(0) + 1;
                        counts.insert(span.entity, n);
                        if span.entity == "PERSON" {
                            for part in key.split(' ').filter(|p| !p.is_empty()) {
                                name_parts.entry(part.to_string()).or_insert(n);
                            }
                        }
                        indexes.insert((span.entity, key), n);
                        n
                    }
                };
                out.push_str(&format!("<{}_{n}>", span.entity));
            }
            Operator::Mask => mask(value, policy, &mut out),
            Operator::Hash => {
                if key.is_none() {
                    key = Some(read_key(&policy.policy.key_env)?);
                }
                let key = key.as_deref().expect("key read above");
                out.push_str(&pseudonym(key, span.entity, &canonical(span.entity, value, policy)));
            }
            Operator::Drop => {}
            Operator::Keep => out.push_str(value),
        }
    }
    out.push_str(&text[at..]);
    Ok(out)
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

/// `<TYPE_0123456789ab>`: the first 48 bits of HMAC-SHA256(key, type, value).
fn pseudonym(key: &[u8], entity: &str, canonical: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(entity.as_bytes());
    mac.update(&[0]);
    mac.update(canonical.as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().take(PSEUDONYM_HEX / 2).map(|b| format!("{b:02x}")).collect();
    format!("<{entity}_{hex}>")
}

fn read_key(variable: &str) -> Result<Vec<u8>> {
    match std::env::var_os(variable) {
        Some(key) if key.len() >= MIN_KEY_LEN => Ok(key.into_encoded_bytes()),
        Some(_) => Err(Error::PiiKey(format!("the key in {variable} is shorter than {MIN_KEY_LEN} bytes"))),
        None => Err(Error::PiiKey(format!(
            "the hash operator needs a key: set the environment variable {variable} (at least {MIN_KEY_LEN} bytes) where the query runs"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let a = pseudonym(b"0123456789abcdef", "EMAIL_ADDRESS", "jane@example.com");
        assert_eq!(a, pseudonym(b"0123456789abcdef", "EMAIL_ADDRESS", "jane@example.com"));
        assert_ne!(a, pseudonym(b"fedcba9876543210", "EMAIL_ADDRESS", "jane@example.com"));
        assert_eq!(a.len(), "<EMAIL_ADDRESS_>".len() + PSEUDONYM_HEX);
    }

    #[test]
    fn a_missing_key_is_an_error_that_says_what_to_set() {
        let e = redact(
            "mail jane@example.com",
            &policy(r#"{"operator": "hash", "key_env": "CONVLYTICS_TEST_NO_SUCH_KEY"}"#),
        );
        assert!(e.unwrap_err().to_string().contains("set the environment variable CONVLYTICS_TEST_NO_SUCH_KEY"));
    }
}
