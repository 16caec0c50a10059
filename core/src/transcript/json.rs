//! JSON chat exports and JSON-lines bot logs, read through a [`JsonMapping`]: where the
//! messages are and which fields hold the speaker, role, text and time.

use serde_json::Value;

use super::settings::{JsonMapping, Paths};
use super::time::parse_timestamp;
use super::{Meta, RawTurn, Role};
use crate::error::{Error, Result};

/// The value at a dotted path (`author.name`, `parts.0`) or JSON pointer (`/author/name`).
fn at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    if path.starts_with('/') {
        return value.pointer(path);
    }
    if path.is_empty() || path == "$" {
        return Some(value);
    }
    path.split('.').try_fold(value, |v, key| match v {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// The first of `paths` that holds something other than null.
fn first<'v>(value: &'v Value, paths: &Paths) -> Option<&'v Value> {
    paths.iter().filter_map(|p| at(value, p)).find(|v| !v.is_null())
}

/// A value as text: strings and numbers as written, booleans as `true`/`false`; an object gives
/// the first of `keys` it has; an array its items' texts joined by `separator`.
fn flatten(value: &Value, keys: &[&str], separator: &str) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(map) => keys.iter().find_map(|k| map.get(*k).and_then(|v| flatten(v, keys, separator))),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(|v| flatten(v, keys, separator)).collect();
            (!parts.is_empty()).then(|| parts.join(separator))
        }
        Value::Null => None,
    }
}

/// A speaker, role or metadata value as text; an object gives its `name`, `email`, `id` or `type`.
fn text_of(value: &Value) -> Option<String> {
    flatten(value, &["name", "email", "id", "type"], " ")
}

/// A message's text: an object gives its `text`, `content`, `body` or `value`, and an array of
/// parts (`[{"type": "text", "text": ...}]`) its texts one per line.
fn text_value(value: &Value) -> Option<String> {
    flatten(value, &["text", "content", "body", "value"], "\n")
}

fn field(value: &Value, paths: &Paths) -> Option<String> {
    first(value, paths).and_then(text_of).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The turns and metadata of a JSON document or JSON-lines log.
pub(crate) fn read(payload: &str, mapping: &JsonMapping) -> Result<(Vec<RawTurn>, Meta)> {
    let bad = |what: String| Error::Unreadable(what);
    if mapping.lines {
        let mut turns = Vec::new();
        let mut meta = Meta::default();
        for (n, line) in payload.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let value: Value =
                serde_json::from_str(line).map_err(|e| bad(format!("line {}: invalid JSON: {e}", n + 1)))?;
            if turns.is_empty() {
                meta = read_meta(&value, mapping);
            }
            let customer = field(&value, &mapping.customer_id);
            turns.extend(message(&value, mapping, customer.as_deref(), true));
        }
        return Ok((turns, meta));
    }
    let doc: Value = serde_json::from_str(payload).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let messages = if mapping.messages.is_none() {
        Some(&doc)
    } else if mapping.search {
        // Guessing: only an array of messages will do; anything else falls through to the search.
        mapping.messages.iter().filter_map(|p| at(&doc, p)).find(|v| v.is_array())
    } else {
        first(&doc, &mapping.messages)
    };
    let messages = match messages {
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(bad(format!(
                "the messages ({}) are {}, not an array",
                mapping.messages.joined(" or "),
                kind(other)
            )))
        }
        None if matches!(doc, Value::Array(_)) => doc.as_array().expect("array"),
        None if mapping.search => match find_messages(&doc, mapping, 3) {
            Some(items) => items,
            None => {
                return Err(bad(
                    "no messages: no array of objects with a text field (text, message, content, body, ...) within three levels of the document"
                        .into(),
                ))
            }
        },
        None => {
            return Err(bad(format!(
                "no messages: none of {} is in the document",
                mapping.messages.joined(", ")
            )))
        }
    };
    let opening = first(&doc, &mapping.first_message);
    let customer = field(&doc, &mapping.customer_id);
    let turns =
        opening.into_iter().chain(messages).filter_map(|m| message(m, mapping, customer.as_deref(), false)).collect();
    Ok((turns, read_meta(&doc, mapping)))
}

/// The first array, breadth first and at most `depth` levels down, whose items are objects and
/// the first of which has text.
fn find_messages<'v>(doc: &'v Value, mapping: &JsonMapping, depth: usize) -> Option<&'v Vec<Value>> {
    let mut level: Vec<&Value> = vec![doc];
    for _ in 0..=depth {
        let mut next = Vec::new();
        for value in level {
            match value {
                Value::Array(items)
                    if items.first().is_some_and(|m| m.is_object() && first(m, &mapping.text).is_some()) =>
                {
                    return Some(items)
                }
                Value::Array(items) => next.extend(items.iter().take(1)),
                Value::Object(map) => next.extend(map.values()),
                _ => {}
            }
        }
        level = next;
    }
    None
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn read_meta(doc: &Value, mapping: &JsonMapping) -> Meta {
    let m = &mapping.meta;
    Meta {
        subject: field(doc, &m.subject),
        agent: field(doc, &m.agent),
        queue: field(doc, &m.queue),
        platform: field(doc, &m.platform),
        campaign: field(doc, &m.campaign),
        started_at: first(doc, &m.started_at).and_then(parse_timestamp),
        thread_id: None,
        message_id: None,
    }
}

/// One message as a turn; `None` when skipped or without text. `customer` is the document's
/// customer id (the mapping's `customer_id`). A log event without text but with an event type
/// (`handoff`, `session_end`) is a system turn naming the event.
fn message(m: &Value, mapping: &JsonMapping, customer: Option<&str>, events: bool) -> Option<RawTurn> {
    if !m.is_object() {
        return text_of(m).map(|text| RawTurn { text, ..RawTurn::default() });
    }
    if mapping.skip_when.iter().any(|(path, value)| at(m, path) == Some(value)) {
        return None;
    }
    let speaker = field(m, &mapping.speaker);
    let role = field(m, &mapping.role)
        .and_then(|r| mapping.roles.iter().find(|(k, _)| k.eq_ignore_ascii_case(&r)).map(|(_, role)| *role))
        .or_else(|| {
            let (customer, who) = (customer?, speaker.as_deref()?);
            Some(if customer == who { Role::Customer } else { Role::Agent })
        });
    let sent_at = first(m, &mapping.time).and_then(parse_timestamp);
    let (role, text) = match first(m, &mapping.text).and_then(text_value) {
        Some(t) if mapping.html => (role, mail_parser::decoders::html::html_to_text(&t)),
        Some(t) => (role, t),
        None if events => {
            let event = ["event", "type", "action", "name"].iter().find_map(|k| m.get(*k).and_then(text_of))?;
            (Some(Role::System), format!("[{event}]"))
        }
        None => return None,
    };
    Some(RawTurn { speaker, role, text: text.trim().to_string(), sent_at, ..RawTurn::default() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Settings;

    #[test]
    fn paths() {
        let v = serde_json::json!({"a": {"b": [{"c": 1}]}});
        assert_eq!(at(&v, "a.b.0.c"), Some(&serde_json::json!(1)));
        assert_eq!(at(&v, "/a/b/0/c"), Some(&serde_json::json!(1)));
        assert_eq!(at(&v, "a.x"), None);
    }

    #[test]
    fn guessing_finds_nested_messages_roles_and_text_parts() {
        let settings = Settings::default();
        let mapping = settings.mapping("json").unwrap();
        let doc = r#"{"conversation": {"id": 7, "data": {"log": [
            {"direction": "inbound", "from": {"name": "Ana"}, "content": [{"type": "text", "text": "My card was declined."}]},
            {"author": {"name": "Sam", "type": "agent"}, "message": {"text": "Let me check."}}]}}}"#;
        let (turns, _) = read(doc, mapping).unwrap();
        let got: Vec<_> = turns.iter().map(|t| (t.speaker.as_deref(), t.role, t.text.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (Some("Ana"), Some(Role::Customer), "My card was declined."),
                (Some("Sam"), Some(Role::Agent), "Let me check.")
            ]
        );
    }

    #[test]
    fn truncated_json_is_a_reason() {
        let settings = Settings::default();
        let mapping = settings.mapping("json").unwrap();
        let err = read(r#"{"messages": [{"text": "hi"#, mapping).unwrap_err();
        assert!(err.to_string().starts_with("invalid JSON: EOF while parsing"), "{err}");
    }
}
