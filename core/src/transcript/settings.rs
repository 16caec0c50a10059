//! How payloads are read: speaker names, agent email domains, boilerplate patterns, the silence
//! threshold, size limits and JSON mappings (with ready presets for common exports).

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::LazyLock;

use regex::RegexSet;
use serde::{Deserialize, Serialize};

use super::boilerplate::without_lines;
use super::{Role, TextFormat};
use crate::cache::TextCache;
use crate::error::{Error, Result, SettingsKind};
use crate::user_regex;

/// The settings of `parse_transcript` and `transcript_info`, as JSON (every key optional).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Speaker names (case-insensitive) and the roles they have.
    #[serde(skip_serializing_if = "Speakers::is_empty")]
    pub speakers: Speakers,
    /// Email senders at these domains are agents.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agent_domains: Vec<String>,
    /// Regexes; a line of a turn that matches one is removed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub boilerplate: Vec<String>,
    /// A gap between speech longer than this many milliseconds is a silence.
    pub silence_ms: i64,
    /// Payloads larger than this many bytes are quarantined unread.
    pub max_payload_bytes: usize,
    /// Whether slash dates in plain chat exports (`02/11/2026`) are day first; unset, a
    /// transcript's dates are day first when one of them cannot be month first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_first: Option<bool>,
    /// JSON mappings by format name, used as `parse_transcript(payload, '<name>')`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub formats: BTreeMap<String, JsonMapping>,
    #[serde(skip)]
    compiled: Option<RegexSet>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            speakers: Speakers::default(),
            agent_domains: Vec::new(),
            boilerplate: Vec::new(),
            silence_ms: 2_000,
            max_payload_bytes: 64 << 20,
            day_first: None,
            formats: BTreeMap::new(),
            compiled: None,
        }
    }
}

/// Speaker names by role (case-insensitive, whole name).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Speakers {
    /// Names of customers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub customer: Vec<String>,
    /// Names of agents.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agent: Vec<String>,
    /// Names of bots.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bot: Vec<String>,
    /// Names of system senders.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<String>,
}

/// One or more field paths; the first that holds a value wins. A path is dotted
/// (`author.name`, `parts.0.body`) or a JSON pointer (`/author/name`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Paths {
    /// No path: the field is not read.
    #[default]
    None,
    /// One path.
    One(String),
    /// Paths tried in order.
    Many(Vec<String>),
}

impl Speakers {
    fn is_empty(&self) -> bool {
        self.customer.is_empty() && self.agent.is_empty() && self.bot.is_empty() && self.system.is_empty()
    }
}

impl MetaPaths {
    fn is_empty(&self) -> bool {
        self == &MetaPaths::default()
    }
}

impl Paths {
    /// The paths, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let slice: &[String] = match self {
            Paths::None => &[],
            Paths::One(p) => std::slice::from_ref(p),
            Paths::Many(v) => v,
        };
        slice.iter().map(String::as_str)
    }

    /// Whether no path is given.
    pub fn is_none(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The paths joined by `separator`, for messages.
    pub(crate) fn joined(&self, separator: &str) -> String {
        self.iter().collect::<Vec<_>>().join(separator)
    }

    fn many(paths: &[&str]) -> Self {
        Paths::Many(paths.iter().map(|p| p.to_string()).collect())
    }
}

/// Where a JSON chat export keeps its messages and which fields say what.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JsonMapping {
    /// The payload is JSON lines, one message per line (bot logs), instead of one document.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lines: bool,
    /// The array of messages (empty: the document itself is the array).
    #[serde(skip_serializing_if = "Paths::is_none")]
    pub messages: Paths,
    /// A message read before the array (Intercom keeps the opening message apart).
    #[serde(skip_serializing_if = "Paths::is_none")]
    pub first_message: Paths,
    /// The message text.
    #[serde(skip_serializing_if = "Paths::is_none")]
    pub text: Paths,
    /// The text is HTML and is turned into plain text.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub html: bool,
    /// The speaker's name or id.
    #[serde(skip_serializing_if = "Paths::is_none")]
    pub speaker: Paths,
    /// A field whose value says the role; its values are read through `roles`.
    #[serde(skip_serializing_if = "Paths::is_none")]
    pub role: Paths,
    /// Values of the `role` field (case-insensitive) and the roles they mean.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, Role>,
    /// A path in the document giving the customer's id: messages whose speaker equals it are
    /// the customer's, the others the agents'.
    #[serde(skip_serializing_if = "Paths::is_none")]
    pub customer_id: Paths,
    /// When the message was sent: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC), or epoch seconds or
    /// milliseconds.
    #[serde(skip_serializing_if = "Paths::is_none")]
    pub time: Paths,
    /// Messages whose field (the key, a path) equals the value are skipped.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub skip_when: BTreeMap<String, serde_json::Value>,
    /// Conversation metadata, each a path in the document.
    #[serde(skip_serializing_if = "MetaPaths::is_empty")]
    pub meta: MetaPaths,
    /// When no `messages` path is in the document, look for the first array of messages with
    /// text up to three levels down (the guessed `json` mapping only).
    #[serde(skip)]
    pub(crate) search: bool,
}

/// Paths of the conversation's metadata in a JSON export.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetaPaths {
    /// The subject or title.
    #[serde(skip_serializing_if = "Paths::is_none")]
    pub subject: Paths,
    /// The assigned agent.
    #[serde(skip_serializing_if = "Paths::is_none")]
    pub agent: Paths,
    /// The queue, team or group.
    #[serde(skip_serializing_if = "Paths::is_none")]
    pub queue: Paths,
    /// The channel within the platform.
    #[serde(skip_serializing_if = "Paths::is_none")]
    pub platform: Paths,
    /// The campaign.
    #[serde(skip_serializing_if = "Paths::is_none")]
    pub campaign: Paths,
    /// When the conversation started.
    #[serde(skip_serializing_if = "Paths::is_none")]
    pub started_at: Paths,
}

/// The ready JSON mappings, usable as formats by name.
pub const PRESETS: &[&str] = &["zendesk", "intercom", "messages"];

fn roles(pairs: &[(&str, Role)]) -> BTreeMap<String, Role> {
    pairs.iter().map(|(k, r)| (k.to_string(), *r)).collect()
}

fn preset(name: &str) -> Option<JsonMapping> {
    let p = |s: &str| Paths::One(s.to_string());
    Some(match name {
        // A Zendesk ticket with its comments (the Tickets API with `comments` side-loaded, or a
        // ticket export): private notes are skipped; the requester is the customer.
        "zendesk" => JsonMapping {
            messages: p("comments"),
            text: Paths::many(&["plain_body", "body"]),
            speaker: Paths::many(&["author.name", "author_id"]),
            customer_id: Paths::many(&["requester.name", "requester_id"]),
            time: p("created_at"),
            skip_when: BTreeMap::from([("public".to_string(), serde_json::Value::Bool(false))]),
            meta: MetaPaths {
                subject: Paths::many(&["subject", "raw_subject"]),
                agent: Paths::many(&["assignee.name", "assignee_id"]),
                queue: Paths::many(&["group.name", "group_id"]),
                platform: p("via.channel"),
                campaign: Paths::None,
                started_at: p("created_at"),
            },
            ..JsonMapping::default()
        },
        // An Intercom conversation (the Conversations API): the opening message in `source`,
        // replies in `conversation_parts`; parts without a body (assignments, closes) are skipped.
        "intercom" => JsonMapping {
            first_message: p("source"),
            messages: p("conversation_parts.conversation_parts"),
            text: p("body"),
            html: true,
            speaker: Paths::many(&["author.name", "author.email", "author.id"]),
            role: p("author.type"),
            roles: roles(&[
                ("user", Role::Customer),
                ("lead", Role::Customer),
                ("contact", Role::Customer),
                ("admin", Role::Agent),
                ("team", Role::Agent),
                ("bot", Role::Bot),
                ("operator", Role::Bot),
            ]),
            time: p("created_at"),
            meta: MetaPaths {
                subject: Paths::many(&["title", "source.subject"]),
                agent: p("admin_assignee_id"),
                queue: p("team_assignee_id"),
                platform: p("source.delivered_as"),
                campaign: Paths::None,
                started_at: p("created_at"),
            },
            ..JsonMapping::default()
        },
        // Chat-completion style logs: `{"messages": [{"role": "user", "content": "..."}]}`.
        "messages" => JsonMapping {
            messages: p("messages"),
            text: p("content"),
            speaker: Paths::many(&["name", "role"]),
            role: p("role"),
            roles: roles(&[
                ("user", Role::Customer),
                ("human", Role::Customer),
                ("customer", Role::Customer),
                ("assistant", Role::Bot),
                ("bot", Role::Bot),
                ("agent", Role::Agent),
                ("system", Role::System),
                ("tool", Role::System),
            ]),
            time: Paths::many(&["timestamp", "created_at"]),
            ..JsonMapping::default()
        },
        _ => return None,
    })
}

/// Field names guessed for `json` and `jsonl` when no mapping says where things are.
fn guessed(lines: bool) -> JsonMapping {
    JsonMapping {
        lines,
        messages: if lines {
            Paths::None
        } else {
            Paths::many(&[
                "messages",
                "turns",
                "utterances",
                "dialog",
                "dialogue",
                "conversation",
                "conversations",
                "transcript",
                "comments",
                "parts",
                "threads",
                "_embedded.threads",
                "entries",
                "events",
                "history",
                "chat",
                "items",
            ])
        },
        text: Paths::many(&[
            "text",
            "message",
            "content",
            "body",
            "body_text",
            "plain_body",
            "message_text",
            "utterance",
            "msg",
            "value",
        ]),
        speaker: Paths::many(&[
            "speaker.name",
            "speaker",
            "author.name",
            "author",
            "sender.name",
            "sender",
            "from.name",
            "from",
            "user.name",
            "user",
            "role",
            "name",
        ]),
        role: Paths::many(&[
            "role",
            "sender_type",
            "author_type",
            "author.type",
            "sender.type",
            "from.type",
            "user.type",
            "author.role",
            "sender.role",
            "direction",
            "type",
        ]),
        roles: roles(&[
            ("user", Role::Customer),
            ("customer", Role::Customer),
            ("contact", Role::Customer),
            ("visitor", Role::Customer),
            ("end_user", Role::Customer),
            ("enduser", Role::Customer),
            ("lead", Role::Customer),
            ("client", Role::Customer),
            ("human", Role::Customer),
            ("requester", Role::Customer),
            ("inbound", Role::Customer),
            ("agent", Role::Agent),
            ("admin", Role::Agent),
            ("staff", Role::Agent),
            ("operator", Role::Agent),
            ("support", Role::Agent),
            ("employee", Role::Agent),
            ("teammate", Role::Agent),
            ("outbound", Role::Agent),
            ("bot", Role::Bot),
            ("assistant", Role::Bot),
            ("chatbot", Role::Bot),
            ("ai", Role::Bot),
            ("system", Role::System),
        ]),
        time: Paths::many(&["timestamp", "time", "ts", "created_at", "sent_at", "date", "datetime"]),
        search: !lines,
        ..JsonMapping::default()
    }
}

impl Settings {
    /// Reads settings from JSON (the SQL functions' third argument); empty text is the default.
    pub fn from_json(text: &str) -> Result<Self> {
        let settings: Settings = if text.trim().is_empty() {
            Settings::default()
        } else {
            serde_json::from_str(text).map_err(|e| Error::settings_json(SettingsKind::Transcript, &e))?
        };
        settings.compile()
    }

    /// Checks the settings and compiles the boilerplate patterns.
    pub fn compile(mut self) -> Result<Self> {
        let bad = |problem: String| Err(Error::Settings { settings: SettingsKind::Transcript, problem });
        if self.silence_ms < 0 {
            return bad(format!("silence_ms: {} is negative", self.silence_ms));
        }
        for (name, mapping) in &self.formats {
            if TextFormat::named(&name.to_ascii_lowercase()).is_some() {
                return bad(format!(
                    "formats.{name}: '{name}' names a format that is not JSON (plain, vtt, srt, email) and cannot be a mapping"
                ));
            }
            if mapping.text.is_none() {
                return bad(format!("formats.{name}: `text` is required (the path of each message's text)"));
            }
        }
        if !self.boilerplate.is_empty() {
            let set = user_regex::compile_set(&self.boilerplate).map_err(|e| Error::Settings {
                settings: SettingsKind::Transcript,
                problem: format!("boilerplate {e}"),
            })?;
            self.compiled = Some(set);
        }
        Ok(self)
    }

    /// [`Settings::from_json`] through a small per-thread cache.
    pub fn cached(text: &str) -> Result<Rc<Self>> {
        thread_local! {
            static CACHE: TextCache<Settings> = const { TextCache::new() };
        }
        CACHE.with(|c| c.get_or_build(text, Self::from_json))
    }

    /// The JSON mapping a format name stands for: the project's, a preset, or guessed fields
    /// for `json` and `jsonl`.
    pub(crate) fn mapping(&self, format: &str) -> Option<&JsonMapping> {
        static BUILT_IN: LazyLock<BTreeMap<&'static str, JsonMapping>> = LazyLock::new(|| {
            let mut all: BTreeMap<&str, JsonMapping> =
                PRESETS.iter().map(|&name| (name, preset(name).expect("every preset is defined"))).collect();
            all.insert("json", guessed(false));
            all.insert("jsonl", guessed(true));
            all.insert("ndjson", guessed(true));
            all
        });
        self.formats
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(format))
            .map(|(_, m)| m)
            .or_else(|| BUILT_IN.get(format))
    }

    /// `text` without the lines a boilerplate pattern matches, trimmed, `\n`-separated.
    pub(crate) fn strip_boilerplate(&self, text: &str) -> String {
        without_lines(text, |line| self.compiled.as_ref().is_some_and(|set| set.is_match(line)))
    }

    /// The role configured for a speaker name, if any.
    pub(crate) fn configured_role(&self, name: &str) -> Option<Role> {
        let name = name.trim();
        let s = &self.speakers;
        [(&s.customer, Role::Customer), (&s.agent, Role::Agent), (&s.bot, Role::Bot), (&s.system, Role::System)]
            .into_iter()
            .find(|(names, _)| names.iter().any(|n| n.trim().eq_ignore_ascii_case(name)))
            .map(|(_, role)| role)
    }
}
