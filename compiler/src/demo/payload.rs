//! A generated conversation written as its platform writes it: plain chat logs, Intercom and
//! Zendesk JSON, email threads (one raw record per message), WebVTT and SRT call transcripts,
//! and chatbot logs as JSON or JSON lines.

use chrono::{DateTime, Duration, Utc};
use fastrand::Rng;
use serde_json::{json, Value};

use super::script::{Conversation, Line, Who};
use super::world;

/// The lines of `raw_interactions.jsonl` for one conversation, and the people's names among the
/// speaker labels its payloads use (planted PII a speaker column must not keep).
pub(super) fn records(c: &Conversation, rng: &mut Rng) -> (Vec<Value>, Vec<String>) {
    let customer = match rng.u32(0..3) {
        0 => "Customer".to_string(),
        _ => c.person.first.clone(),
    };
    let agent = c.agent.map_or("Agent", |(name, _)| name);
    let email = world::email_variant(rng, &c.person.email);
    let (contact_email, contact_phone, contact_name) = match c.channel {
        "voice" => (None, Some(world::phone_variant(rng, &c.person.phone)), None),
        "bot" => (None, None, None),
        "chat" if rng.u32(0..10) < 2 => (None, None, Some(customer.clone())),
        _ => (Some(email.clone()), None, Some(c.person.full_name.clone())),
    };
    let record = |source_id: String, payload: String, received_at: DateTime<Utc>, contact: bool| {
        json!({
            "source": c.source,
            "source_id": source_id,
            "channel": c.channel,
            "format": c.format,
            "contact_email": if contact { contact_email.clone() } else { None },
            "contact_phone": if contact { contact_phone.clone() } else { None },
            "contact_name": if contact { contact_name.clone() } else { None },
            "campaign": c.campaign,
            "payload": payload,
            "received_at": rfc3339(received_at),
        })
    };
    let mut out = match c.format {
        "email" => email_thread(c, &email)
            .into_iter()
            .enumerate()
            .map(|(i, (payload, at, from_customer))| {
                let id = if i == 0 { c.source_id.clone() } else { format!("{}-{}", c.source_id, i + 1) };
                record(id, payload, at, from_customer)
            })
            .collect(),
        format => {
            let payload = match format {
                "plain" => plain(c, &customer, agent, rng),
                "intercom" => intercom(c, &email, agent),
                "vtt" | "srt" => subtitles(c, &customer, agent, format == "vtt", rng),
                "zendesk" => zendesk(c, &email, agent),
                "json" => bot_json(c, agent),
                _ => bot_jsonl(c),
            };
            vec![record(c.source_id.clone(), payload, c.started, true)]
        }
    };
    if c.truth.malformed.is_some() {
        break_payload(&mut out[0]);
    }
    let payloads: String = out.iter().filter_map(|r| r["payload"].as_str()).collect();
    let agent_first = agent.split(' ').next().unwrap_or(agent);
    let mut speakers: Vec<String> = Vec::new();
    for name in [customer.as_str(), agent, agent_first] {
        let labelled = [format!("{name}: "), format!("<v {name}>"), format!("\"{name}\"")];
        if !["Customer", "Agent"].contains(&name)
            && !speakers.iter().any(|s| s == name)
            && labelled.iter().any(|l| payloads.contains(l.as_str()))
        {
            speakers.push(name.to_owned());
        }
    }
    (out, speakers)
}

/// Breaks a record the way exports break: JSON cut off mid-way, a transcript with no turns.
fn break_payload(record: &mut Value) {
    let payload = record["payload"].as_str().unwrap_or_default();
    let broken = match record["format"].as_str() {
        Some("intercom" | "zendesk" | "json" | "jsonl") => {
            payload[..payload.floor_char_boundary(payload.len() / 2)].to_string()
        }
        _ => String::new(),
    };
    record["payload"] = Value::String(broken);
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn at(c: &Conversation, line: &Line) -> DateTime<Utc> {
    c.started + Duration::seconds(line.at)
}

/// Consecutive lines of one speaker, as one message: (who, text, when the first was said).
fn messages(c: &Conversation) -> Vec<(Who, String, DateTime<Utc>)> {
    let mut out: Vec<(Who, String, DateTime<Utc>)> = Vec::new();
    for line in &c.lines {
        match out.last_mut() {
            Some((who, text, _)) if *who == line.who => {
                text.push_str("\n\n");
                text.push_str(&line.text);
            }
            _ => out.push((line.who, line.text.clone(), at(c, line))),
        }
    }
    out
}

fn plain(c: &Conversation, customer: &str, agent: &str, rng: &mut Rng) -> String {
    let stamped = rng.bool();
    let agent_label = if rng.bool() { agent.split(' ').next().unwrap_or(agent) } else { "Agent" };
    let mut out = String::new();
    for line in &c.lines {
        if stamped {
            out.push_str(&at(c, line).format("[%H:%M:%S] ").to_string());
        }
        let speaker = match line.who {
            Who::Customer => customer,
            Who::Agent => agent_label,
            Who::Bot => "Bot",
        };
        out.push_str(speaker);
        out.push_str(": ");
        out.push_str(&line.text);
        out.push('\n');
    }
    out
}

fn intercom(c: &Conversation, email: &str, agent: &str) -> String {
    let mut lines = c.lines.iter();
    let first = lines.next().map_or(String::new(), |l| l.text.clone());
    let parts: Vec<Value> = lines
        .map(|line| {
            let author = match line.who {
                Who::Customer => json!({"type": "user", "name": c.person.full_name, "email": email}),
                Who::Agent => json!({"type": "admin", "name": agent}),
                Who::Bot => json!({"type": "bot", "name": "Nova"}),
            };
            json!({
                "part_type": "comment",
                "created_at": at(c, line).timestamp(),
                "body": format!("<p>{}</p>", html_escape(&line.text)),
                "author": author,
            })
        })
        .collect();
    json!({
        "type": "conversation",
        "id": c.source_id,
        "created_at": c.started.timestamp(),
        "source": {
            "delivered_as": "customer_initiated",
            "body": format!("<p>{}</p>", html_escape(&first)),
            "author": {"type": "user", "name": c.person.full_name, "email": email},
        },
        "conversation_parts": {"conversation_parts": parts},
    })
    .to_string()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('\n', "<br>")
}

/// One RFC 5322 message per turn of the thread: (payload, sent at, whether the customer sent it).
fn email_thread(c: &Conversation, email: &str) -> Vec<(String, DateTime<Utc>, bool)> {
    let mut out = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut previous: Option<(String, String, DateTime<Utc>)> = None;
    for (i, (who, text, sent)) in messages(c).into_iter().enumerate() {
        let customer = who == Who::Customer;
        let from = match (customer, c.agent) {
            (true, _) => format!("{} <{email}>", c.person.full_name),
            (false, Some((agent, _))) => format!("{agent} <support@example.com>"),
            (false, None) => "Northwind Support <support@example.com>".to_string(),
        };
        let to = if customer { "support@example.com".to_string() } else { format!("{} <{email}>", c.person.full_name) };
        let id = format!("<{}.{i}@mail.example.com>", c.source_id);
        let subject = if i == 0 { c.subject.clone() } else { format!("Re: {}", c.subject) };
        let mut message = format!(
            "From: {from}\nTo: {to}\nSubject: {subject}\nDate: {}\nMessage-ID: {id}\n",
            sent.format("%a, %d %b %Y %H:%M:%S +0000")
        );
        if let Some(parent) = ids.last() {
            message.push_str(&format!("In-Reply-To: {parent}\nReferences: {}\n", ids.join(" ")));
        }
        message.push_str("Content-Type: text/plain; charset=utf-8\n\n");
        message.push_str(&text);
        if let Some((quoted_from, quoted, quoted_at)) = &previous {
            message.push_str(&format!(
                "\n\nOn {}, {quoted_from} wrote:\n",
                quoted_at.format("%a, %b %-d, %Y at %-I:%M %p")
            ));
            for line in quoted.lines() {
                message.push_str("> ");
                message.push_str(line);
                message.push('\n');
            }
        }
        previous = Some((from, text, sent));
        ids.push(id);
        out.push((message, sent, customer));
    }
    out
}

/// Seconds to say `text` at a talking pace.
fn spoken(text: &str) -> f64 {
    0.8 + text.split_whitespace().count() as f64 / 2.6
}

fn subtitles(c: &Conversation, customer: &str, agent: &str, vtt: bool, rng: &mut Rng) -> String {
    let caller = if rng.bool() { "Caller" } else { customer };
    let stamp = |seconds: f64| {
        let ms = (seconds * 1000.0) as u64;
        let (h, m, s, ms) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        if vtt {
            format!("{h:02}:{m:02}:{s:02}.{ms:03}")
        } else {
            format!("{h:02}:{m:02}:{s:02},{ms:03}")
        }
    };
    let mut out = if vtt { "WEBVTT\n\n".to_string() } else { String::new() };
    let mut clock = rng.f64() * 2.0;
    for (i, line) in c.lines.iter().enumerate() {
        let speaker = if line.who == Who::Customer { caller } else { agent };
        let end = clock + spoken(&line.text);
        if vtt {
            out.push_str(&format!("{} --> {}\n<v {speaker}>{}\n\n", stamp(clock), stamp(end), line.text));
        } else {
            out.push_str(&format!("{}\n{} --> {}\n{speaker}: {}\n\n", i + 1, stamp(clock), stamp(end), line.text));
        }
        // Mostly quick turn-taking; now and then a hold while the agent looks something up.
        clock = end + if rng.u32(0..6) == 0 { 3.0 + rng.f64() * 20.0 } else { 0.2 + rng.f64() * 1.2 };
    }
    out
}

fn zendesk(c: &Conversation, email: &str, agent: &str) -> String {
    let requester = c.person.key.bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)) % 1_000_000_000;
    let assignee = 77;
    let mut comments: Vec<Value> = c
        .lines
        .iter()
        .map(|line| {
            let author = match line.who {
                Who::Customer => json!({"id": requester, "name": c.person.full_name}),
                _ => json!({"id": assignee, "name": agent}),
            };
            json!({"author": author, "public": true, "created_at": rfc3339(at(c, line)), "plain_body": line.text})
        })
        .collect();
    if comments.len() > 2 {
        let note = json!({"author": {"id": assignee, "name": agent}, "public": false,
            "created_at": comments[1]["created_at"], "plain_body": "Internal: checked the order history first."});
        comments.insert(1, note);
    }
    json!({
        "id": c.source_id,
        "subject": c.subject,
        "requester": {"id": requester, "name": c.person.full_name, "email": email},
        "assignee": {"id": assignee, "name": agent},
        "group": {"name": c.agent.map_or("General", |(_, queue)| queue)},
        "via": {"channel": "web"},
        "created_at": rfc3339(c.started),
        "comments": comments,
    })
    .to_string()
}

fn bot_json(c: &Conversation, agent: &str) -> String {
    let messages: Vec<Value> = c
        .lines
        .iter()
        .map(|line| match line.who {
            Who::Customer => json!({"from": "user", "text": line.text}),
            Who::Bot => json!({"from": "bot", "text": line.text}),
            Who::Agent => json!({"from": "agent", "name": agent, "text": line.text}),
        })
        .collect();
    json!({"messages": messages}).to_string()
}

fn bot_jsonl(c: &Conversation) -> String {
    let mut out = String::new();
    let mut handed_off = false;
    for line in &c.lines {
        let ts = rfc3339(at(c, line));
        let sender = match line.who {
            Who::Customer => "user",
            Who::Bot => "bot",
            Who::Agent => "agent",
        };
        if line.who == Who::Agent && !handed_off {
            out.push_str(&json!({"ts": ts, "type": "handoff"}).to_string());
            out.push('\n');
            handed_off = true;
        }
        out.push_str(&json!({"ts": ts, "sender": sender, "text": line.text}).to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_payloads_are_cut_between_characters() {
        // Half of its 18 bytes falls inside the first "é".
        let mut record = json!({"format": "json", "payload": "{\"tt\": \"éééé\"}"});
        break_payload(&mut record);
        let cut = record["payload"].as_str().expect("text");
        assert!(!cut.is_empty() && serde_json::from_str::<Value>(cut).is_err(), "{cut}");
        let mut record = json!({"format": "vtt", "payload": "WEBVTT"});
        break_payload(&mut record);
        assert_eq!(record["payload"], "");
    }
}
