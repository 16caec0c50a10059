//! Email: one RFC 5322 / MIME message, or an mbox of several, read with `mail-parser`.
//!
//! Each message is a turn: text/plain preferred (HTML turned into text), with quoted replies,
//! signatures and legal footers removed. Messages are ordered by date; the thread is named by
//! the first Message-ID of the earliest message's References (else its In-Reply-To, else its
//! own Message-ID), so separate rows of one thread share a `thread_id`.

use std::borrow::Cow;
use std::sync::LazyLock;

use chrono::{DateTime, TimeZone, Utc};
use mail_parser::mailbox::mbox::MessageIterator;
use mail_parser::{Message, MessageParser, MimeHeaders};
use regex::Regex;

use super::{Meta, RawTurn, Role, Settings};
use crate::error::{Error, Result};

/// A line that starts the quoted message in a reply ("On ... wrote:", Outlook's header block,
/// the same in other languages); it and everything after it are not the sender's own text.
static REPLY_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?im)^[ \t]*(?:(?:on|le|am|el|em|il|op|den|på)\b.{0,300}?(?:wrote|a écrit|schrieb|escribió|escreveu|ha scritto|schreef|skrev)\s*:[ \t]*$|-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original)\s*-{2,}|_{10,}[ \t]*$|(?:from|von|de|van)\s*:.+\n(?:.*\n)?[ \t]*(?:sent|gesendet|envoyé|enviado|date|datum)\s*:)",
    )
    .expect("reply header regex")
});

/// A line that starts a signature or a mobile client's footer.
static SIGNATURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?im)^(?:-- ?$|sent from my \w+|sent from (?:mail|outlook) for|get outlook for|envoyé de mon|von meinem .{0,40} gesendet|enviado desde mi)",
    )
    .expect("signature regex")
});

/// A paragraph of a legal footer: confidentiality, intended recipients, printing.
static LEGAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?is)(?:confidential|privileged).{0,400}(?:intended (?:solely )?(?:for|recipient)|received (?:this|it) in error|notify the sender)|please consider the environment before printing|this (?:e-?mail|message) (?:and any attachments? )?(?:is|are|may be) (?:confidential|intended)",
    )
    .expect("legal footer regex")
});

static SYSTEM_SENDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:no-?reply|do-?not-?reply|mailer-daemon|postmaster|notifications?|bounces?)\b")
        .expect("system sender")
});

/// The sender's own words: no quoted lines, no quoted reply, no signature, no legal footer.
pub(crate) fn own_text(body: &str) -> String {
    let body = body.replace("\r\n", "\n");
    let mut text = match REPLY_HEADER.find(&body) {
        Some(m) => &body[..m.start()],
        None => body.as_str(),
    }
    .to_string();
    if let Some(m) = SIGNATURE.find(&text) {
        text.truncate(m.start());
    }
    let text: String = text.lines().filter(|l| !l.trim_start().starts_with('>')).collect::<Vec<_>>().join("\n");
    cut_legal_footer(&text).trim().to_string()
}

/// `text` up to its legal footer: from the start of the line where the footer begins, or from
/// the footer itself when that line is all there is.
fn cut_legal_footer(text: &str) -> &str {
    let Some(m) = LEGAL.find(text) else { return text };
    let line_start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
    if text[..line_start].trim().is_empty() {
        &text[..m.start()]
    } else {
        &text[..line_start]
    }
}

/// One message, read.
struct Mail {
    address: Option<String>,
    name: Option<String>,
    date: Option<DateTime<Utc>>,
    root: Option<String>,
    message_id: Option<String>,
    subject: Option<String>,
    text: String,
}

fn read_one(message: &Message<'_>, n: usize) -> Result<Mail> {
    let bad = |what: String| Error::Unreadable(format!("message {n}: {what}"));
    let from = message.from().and_then(|a| a.first());
    if from.is_none() && message.subject().is_none() && message.message_id().is_none() && message.date().is_none() {
        return Err(bad("not an RFC 5322 message: no From, Subject, Date or Message-ID header".into()));
    }
    for part in (0..message.text_body_count()).filter_map(|i| message.text_part(i as u32)) {
        let charset = part.content_type().and_then(|c| c.attribute("charset")).unwrap_or("us-ascii");
        let lossy = part.text_contents().is_some_and(|t| t.contains('\u{fffd}'));
        if part.is_encoding_problem || lossy {
            return Err(bad(format!("a text part is not valid in its declared charset '{charset}'")));
        }
    }
    let body = message.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let first_id = |v: &mail_parser::HeaderValue<'_>| match v {
        mail_parser::HeaderValue::Text(t) => Some(t.to_string()),
        mail_parser::HeaderValue::TextList(l) => l.first().map(|t| t.to_string()),
        _ => None,
    };
    let message_id = message.message_id().map(str::to_string);
    let root =
        first_id(message.references()).or_else(|| first_id(message.in_reply_to())).or_else(|| message_id.clone());
    Ok(Mail {
        address: from.and_then(|a| a.address()).map(|a| a.trim().to_lowercase()),
        name: from.and_then(|a| a.name()).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        date: message.date().and_then(|d| Utc.timestamp_opt(d.to_timestamp(), 0).single()),
        root,
        message_id,
        subject: message.subject().map(str::to_string),
        text: own_text(&body),
    })
}

/// The messages' roles: configured names and agent domains, automated senders as system, and
/// otherwise the first sender is the customer and later other senders are agents (a support
/// inbox), or, when agents are known, every other sender is a customer.
fn roles(mails: &[Mail], settings: &Settings) -> Vec<Role> {
    let placed: Vec<Option<Role>> = mails
        .iter()
        .map(|m| {
            let configured = [m.address.as_deref(), m.name.as_deref()]
                .into_iter()
                .flatten()
                .find_map(|n| settings.configured_role(n));
            configured.or_else(|| {
                let address = m.address.as_deref()?;
                let (local, domain) = address.rsplit_once('@')?;
                if settings.agent_domains.iter().any(|d| d.trim_start_matches('@').eq_ignore_ascii_case(domain)) {
                    Some(Role::Agent)
                } else if SYSTEM_SENDER.is_match(local) {
                    Some(Role::System)
                } else {
                    None
                }
            })
        })
        .collect();
    let agents_known = placed.contains(&Some(Role::Agent));
    let first_unplaced = mails.iter().zip(&placed).find(|(_, r)| r.is_none()).map(|(m, _)| m.address.as_deref());
    mails
        .iter()
        .zip(placed)
        .map(|(m, role)| {
            role.unwrap_or(if agents_known || first_unplaced == Some(m.address.as_deref()) {
                Role::Customer
            } else {
                Role::Agent
            })
        })
        .collect()
}

/// The turns and metadata of an email or mbox payload.
pub(crate) fn read(payload: &str, settings: &Settings) -> Result<(Vec<RawTurn>, Meta)> {
    let parser = MessageParser::default();
    let raws: Vec<Cow<'_, [u8]>> = if payload.starts_with("From ") {
        MessageIterator::new(payload.as_bytes())
            .enumerate()
            .map(|(i, m)| {
                m.map(|m| Cow::Owned(m.unwrap_contents()))
                    .map_err(|_| Error::Unreadable(format!("mbox: message {} cannot be split out", i + 1)))
            })
            .collect::<Result<_>>()?
    } else {
        vec![Cow::Borrowed(payload.as_bytes())]
    };
    let mut mails = Vec::with_capacity(raws.len());
    for (i, raw) in raws.iter().enumerate() {
        let message = parser
            .parse(raw)
            .ok_or_else(|| Error::Unreadable(format!("message {}: not an RFC 5322 message", i + 1)))?;
        mails.push(read_one(&message, i + 1)?);
    }
    mails.sort_by_key(|m| m.date.map_or(i64::MAX, |d| d.timestamp()));
    if mails.iter().all(|m| m.text.is_empty()) {
        return Err(Error::Unreadable(
            "no text of its own: every message is empty, quoted text, a signature or attachments".into(),
        ));
    }
    let meta = Meta {
        subject: mails.iter().find_map(|m| m.subject.clone()),
        started_at: mails.first().and_then(|m| m.date),
        thread_id: mails.first().and_then(|m| m.root.clone()),
        message_id: mails.first().and_then(|m| m.message_id.clone()),
        ..Meta::default()
    };
    let roles = roles(&mails, settings);
    let turns = mails
        .into_iter()
        .zip(roles)
        .map(|(m, role)| RawTurn {
            speaker: m.address.or(m.name),
            role: Some(role),
            text: m.text,
            sent_at: m.date,
            ..RawTurn::default()
        })
        .collect();
    Ok((turns, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_signatures_and_footers_go() {
        let body = "Thanks, that fixed it.\n\nBest,\nMaria\n-- \nMaria Lopez | ACME\n\nOn Mon, Nov 2, 2026 at 9:14 AM Support <help@shop.example> wrote:\n> Try again.\n";
        assert_eq!(own_text(body), "Thanks, that fixed it.\n\nBest,\nMaria");
        let outlook = "Yes please.\n\n________________________________\nFrom: Shop <help@shop.example>\nSent: Monday\nSubject: Re: x\n\nOld text";
        assert_eq!(own_text(outlook), "Yes please.");
        let legal = "See attached.\n\nCONFIDENTIALITY NOTICE: This e-mail is confidential and intended solely for the addressee.";
        assert_eq!(own_text(legal), "See attached.");
        assert_eq!(own_text("Merci.\n\nLe lun. 2 nov. 2026 à 09:14, Support <a@b.c> a écrit :\n> Bonjour"), "Merci.");
    }
}
