//! Alert rules: a condition on the rows an arrival enriches, each firing written once per rule
//! and conversation (or `once_per` value) to the `alerts` relation (and, on PostgreSQL, sent
//! with NOTIFY).

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::governance::DataClass;
use crate::realtime::Step;
use crate::render::{quote_ident, quote_literal, Relation, Renderer};

/// The NOTIFY channel of alerts on PostgreSQL.
pub const CHANNEL: &str = "convlytics_alerts";

/// The relation alerts are written to, in the target schema.
pub const ALERTS: &str = "alerts";

/// The columns of the alerts relation: name, PostgreSQL type and data class (ids and labels
/// only, so that people who may not read customer text can act on them).
pub const COLUMNS: &[(&str, &str, DataClass)] = &[
    ("alert_id", "text", DataClass::Identifier),
    ("rule", "text", DataClass::Label),
    ("severity", "text", DataClass::Label),
    ("conversation_id", "text", DataClass::Identifier),
    ("model", "text", DataClass::Label),
    ("detail", "text", DataClass::Label),
    ("fired_at", "timestamptz", DataClass::Metric),
];

/// One rule under `realtime: alerts:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// The rule's name, unique in the project.
    pub name: String,
    /// What it means and who acts on it.
    #[serde(default)]
    pub description: Option<String>,
    /// The realtime model whose newly enriched rows it reads.
    pub model: String,
    /// A SQL condition on those rows (Jinja: `ref()` names a stored relation, `this` the
    /// model's, `var()`).
    #[serde(rename = "where")]
    pub condition: String,
    /// A SQL expression recorded with the firing (e.g. `intent`); at most a label, never text.
    #[serde(default)]
    pub detail: Option<String>,
    /// `info`, `warn` (the default) or `error`.
    #[serde(default = "default_severity")]
    pub severity: String,
    /// The column naming the conversation (default `conversation_id`).
    #[serde(default = "default_conversation")]
    pub conversation: String,
    /// A SQL expression whose value a firing is folded by (default: the conversation), e.g.
    /// `intent` with the hour for a spike that should fire once per intent and hour.
    #[serde(default)]
    pub once_per: Option<String>,
}

fn default_severity() -> String {
    "warn".into()
}

fn default_conversation() -> String {
    "conversation_id".into()
}

/// A rule rendered for one chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The rule's name.
    pub rule: String,
    /// Its severity.
    pub severity: String,
    /// Its model.
    pub model: String,
    /// The arrival's rows of the model.
    pub scoped: Relation,
    /// The condition, rendered.
    pub condition: String,
    /// The detail expression, rendered.
    pub detail: String,
    /// The conversation column.
    pub conversation: String,
    /// The expression firings are folded by, rendered.
    pub once_per: String,
    /// Where firings are written.
    pub relation: Relation,
}

impl Alert {
    /// `rule` on `step`'s rows, its Jinja (declared in `origin`) rendered by `renderer`.
    pub fn new(renderer: &Renderer, origin: &Path, rule: &AlertRule, step: &Step, relation: &Relation) -> Result<Self> {
        if !["info", "warn", "error"].contains(&rule.severity.as_str()) {
            return Err(Error::Project(format!(
                "realtime: alert '{}': severity '{}' is not one of info, warn, error",
                rule.name, rule.severity
            )));
        }
        // Rendered as a data test on the rule's model: `ref()` names a stored relation, `this` the model.
        let render =
            |text: &str| Ok::<_, Error>(renderer.render_test(origin, text, &step.stored)?.sql.trim().to_owned());
        Ok(Self {
            rule: rule.name.clone(),
            severity: rule.severity.clone(),
            model: rule.model.clone(),
            scoped: step.scoped.clone(),
            condition: render(&rule.condition)?,
            detail: match &rule.detail {
                Some(detail) => render(detail)?,
                None => "null".into(),
            },
            once_per: match &rule.once_per {
                Some(once_per) => render(once_per)?,
                None => format!("n.{}", quote_ident(&rule.conversation)),
            },
            conversation: rule.conversation.clone(),
            relation: relation.clone(),
        })
    }

    /// The firings of an arrival not yet recorded: one row per value of `once_per` (by default
    /// per conversation; the conversation is then the least of those that fired), in the columns
    /// of [`COLUMNS`] (the same SQL on both engines).
    pub fn select(&self) -> String {
        let rule = quote_literal(&self.rule);
        let conversation = quote_ident(&self.conversation);
        let alert_source = quote_literal(&format!("alert:{}", self.rule));
        format!(
            "select g.alert_id, {rule} as rule, {severity} as severity, g.conversation_id, {model} as model, g.detail,
                    now() as fired_at
             from (
                 select cast(conversation_id({alert_source}, f.once_per) as varchar) as alert_id, f.conversation_id, f.detail
                 from (
                     select n.once_per, min(n.conversation_id) as conversation_id, min(n.detail) as detail
                     from (
                         select cast(({once_per}) as varchar) as once_per, cast(n.{conversation} as varchar) as conversation_id,
                                cast(({detail}) as varchar) as detail
                         from {scoped} as n
                         where n.{conversation} is not null and ({condition})
                     ) as n
                     where n.once_per is not null
                     group by n.once_per
                 ) as f
             ) as g
             where not exists (select 1 from {alerts} as a where a.alert_id = g.alert_id)",
            severity = quote_literal(&self.severity),
            model = quote_literal(&self.model),
            detail = self.detail,
            once_per = self.once_per,
            scoped = self.scoped,
            condition = self.condition,
            alerts = self.relation,
        )
    }
}

/// Checks that alert names are unique.
pub fn check(rules: &[AlertRule]) -> std::result::Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for rule in rules {
        if !seen.insert(rule.name.as_str()) {
            return Err(format!("alert '{}' is declared twice", rule.name));
        }
    }
    Ok(())
}
