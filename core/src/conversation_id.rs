//! Canonical conversation identifiers: a UUIDv5 of the source system and its own id.

use uuid::Uuid;

/// The fixed UUIDv5 namespace of conversation ids, `a4d40bd8-1cfd-52ab-b29b-2eced36a0ee4`, which is
/// `UUIDv5(NAMESPACE_URL, "https://convlytics.dev/ns/conversation")`. It never changes: every
/// stored `conversation_id` depends on it.
pub const CONVERSATION_NAMESPACE: Uuid = Uuid::from_u128(0xa4d40bd8_1cfd_52ab_b29b_2eced36a0ee4);

/// The canonical id of a conversation: `UUIDv5(CONVERSATION_NAMESPACE, source || 0x00 || source_id)`.
///
/// Both parts are taken byte for byte (no trimming, no case folding), and the NUL separator keeps
/// `("ab", "c")` and `("a", "bc")` apart. The same pair gives the same id on every engine and run.
pub fn conversation_id(source: &str, source_id: &str) -> Uuid {
    let mut name = Vec::with_capacity(source.len() + 1 + source_id.len());
    name.extend_from_slice(source.as_bytes());
    name.push(0);
    name.extend_from_slice(source_id.as_bytes());
    Uuid::new_v5(&CONVERSATION_NAMESPACE, &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_is_derived_from_the_documented_url() {
        let derived = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://convlytics.dev/ns/conversation");
        assert_eq!(CONVERSATION_NAMESPACE, derived);
    }

    #[test]
    fn is_stable_and_version_5() {
        let id = conversation_id("zendesk", "12345");
        assert_eq!(id, conversation_id("zendesk", "12345"));
        assert_eq!(id.get_version_num(), 5);
        insta::assert_snapshot!(id.to_string(), @"c7018488-d7f0-5b32-b130-484f68b9763e");
    }

    #[test]
    fn separator_keeps_parts_apart() {
        assert_ne!(conversation_id("ab", "c"), conversation_id("a", "bc"));
        assert_ne!(conversation_id("", "x"), conversation_id("x", ""));
    }

    #[test]
    fn parts_are_taken_verbatim() {
        assert_ne!(conversation_id("Zendesk", "1"), conversation_id("zendesk", "1"));
        assert_ne!(conversation_id("zendesk", " 1"), conversation_id("zendesk", "1"));
    }
}
