//! Source contracts: the fields a source table must carry (type, required or optional, allowed
//! values), declared under the table's `contract:`. Each run compares the records of the
//! detection window with the contract and with the records before them: new, missing, renamed and
//! retyped fields, and the share of records missing each required field. With `quarantine: true`,
//! `contract_violation()` gives models the reason a record breaks it, for the quarantine.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{at, last_day, num, timestamp_of, Check, Finding, Severity, Status, Window};
use crate::engine::Engine;
use crate::error::Result;
use crate::project::SourceTable;
use crate::render::{quote_ident, quote_literal, Relation};

/// A source table's contract. Unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// The fields it must (or may) carry.
    pub fields: Vec<Field>,
    /// Whether `contract_violation()` sends records that break it to quarantine (default false:
    /// they are only counted).
    #[serde(default)]
    pub quarantine: bool,
    /// The severity of a break (default `error`; a new field that renames nothing only warns).
    #[serde(default)]
    pub severity: Option<Severity>,
    /// The column dating each record (default: the table's `loaded_at_field`); without one every
    /// record is judged, with no history.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Days of newest records judged against the records before them (default 7).
    #[serde(default)]
    pub detection_days: Option<u32>,
    /// A SQL condition: only the records meeting it are judged (a transcript format's payload:
    /// `format = 'zendesk'`).
    #[serde(default, rename = "where")]
    pub condition: Option<String>,
}

/// One field of a contract.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The field (column) name.
    pub name: String,
    /// Its values' type (default `string`: anything).
    #[serde(default, rename = "type")]
    pub kind: FieldType,
    /// Whether every record must carry it (not NULL, not empty).
    #[serde(default)]
    pub required: bool,
    /// The values it may take, when only some.
    #[serde(default)]
    pub allowed: Vec<String>,
    /// The share of records that may lack a required field before the check fails (default 0).
    #[serde(default)]
    pub max_missing: f64,
}

/// What a field's values are, as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Any text.
    #[default]
    String,
    /// `-12`.
    Integer,
    /// `3.5`, `-1e3`.
    Number,
    /// `true` or `false`.
    Boolean,
    /// ISO 8601: `2026-11-19`, `2026-11-19T09:14:00Z`.
    Timestamp,
}

/// ISO 8601 dates and times, as a POSIX regular expression.
pub(crate) const TIMESTAMP: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$";

impl FieldType {
    fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Timestamp => "timestamp",
        }
    }

    /// The POSIX regular expression (the same on both engines) its values match; `None` for text.
    fn pattern(self) -> Option<&'static str> {
        match self {
            FieldType::String => None,
            FieldType::Integer => Some("^-?[0-9]+$"),
            FieldType::Number => Some("^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$"),
            FieldType::Boolean => Some("^(true|false|TRUE|FALSE|True|False)$"),
            FieldType::Timestamp => Some(TIMESTAMP),
        }
    }
}

impl Contract {
    /// Checks the contract: fields named once, shares in [0, 1].
    pub fn check(&self) -> std::result::Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for f in &self.fields {
            if !seen.insert(f.name.to_lowercase()) {
                return Err(format!("contract: field {} is declared twice", f.name));
            }
            if !(0.0..=1.0).contains(&f.max_missing) {
                return Err(format!("contract: field {}: max_missing is a share in [0, 1]", f.name));
            }
        }
        if self.detection_days == Some(0) {
            return Err("contract: detection_days is at least 1".into());
        }
        Ok(())
    }

    fn severity(&self) -> Severity {
        self.severity.unwrap_or(Severity::Error)
    }
}

/// `value is missing` as SQL: NULL or empty.
fn present(column: &str) -> String {
    format!("({column} is not null and cast({column} as varchar) <> '')")
}

/// The SQL conditions a record breaks the contract by, with the reason each gives, in field order.
fn rules(table: &str, contract: &Contract) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in &contract.fields {
        let col = quote_ident(&f.name);
        let text = format!("cast({col} as varchar)");
        if f.required {
            out.push((
                format!("not {}", present(&col)),
                format!("contract {table}: required field {} is missing", f.name),
            ));
        }
        if let Some(p) = f.kind.pattern() {
            out.push((
                format!("{} and not ({text} ~ {})", present(&col), quote_literal(p)),
                format!("contract {table}: field {} is not {}", f.name, article(f.kind)),
            ));
        }
        if !f.allowed.is_empty() {
            let list: Vec<String> = f.allowed.iter().map(|v| quote_literal(v)).collect();
            out.push((
                format!("{} and {text} not in ({})", present(&col), list.join(", ")),
                format!("contract {table}: field {} is not one of {}", f.name, f.allowed.join(", ")),
            ));
        }
    }
    out
}

fn article(kind: FieldType) -> String {
    match kind {
        FieldType::Integer => "an integer".into(),
        other => format!("a {}", other.as_str()),
    }
}

/// The SQL expression `contract_violation('source', 'table')` renders: the first reason a record
/// breaks `contract`, or NULL (always NULL unless the contract says `quarantine: true`). The
/// reason names the field and the rule, never the value.
pub fn violation_sql(table: &str, contract: &Contract) -> String {
    let rules = rules(table, contract);
    if !contract.quarantine || rules.is_empty() {
        return "cast(null as varchar)".into();
    }
    let mut whens: Vec<String> = contract
        .condition
        .iter()
        .map(|c| format!("when coalesce(({c}), false) = false then cast(null as varchar)"))
        .collect();
    whens.extend(rules.iter().map(|(c, r)| format!("when {c} then {}", quote_literal(r))));
    format!("case {} else cast(null as varchar) end", whens.join(" "))
}

/// What the detection window and the records before it hold, per column.
#[derive(Debug, Default)]
struct Tally {
    /// Records before the window, and in it.
    records: (f64, f64),
    /// Records carrying each column (lower case), before and in the window.
    present: BTreeMap<String, (f64, f64)>,
    /// Records breaking each rule, in the window.
    broken: Vec<(f64, f64)>,
}

/// The columns of `relation`, lower case, as the engine's catalogue lists them.
pub(crate) async fn columns(engine: &Engine, relation: &Relation) -> Result<Vec<(String, String)>> {
    let sql = format!(
        "select column_name, data_type from information_schema.columns where table_schema = {} and table_name = {}",
        quote_literal(&relation.schema),
        quote_literal(&relation.identifier)
    );
    let rows = engine.rows(&sql, &format!("columns of {relation}")).await?;
    Ok(rows
        .into_iter()
        .map(|r| (r[0].clone().unwrap_or_default().to_lowercase(), r[1].clone().unwrap_or_default()))
        .collect())
}

/// What a contract is declared on.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A source table: its fields are all its columns, so an undeclared one is new.
    Source(&'a SourceTable),
    /// A model (`name`, dated by `event_time`): its declared fields are checked, its other
    /// columns are the model's own.
    Model(&'a str, Option<&'a str>),
}

impl Subject<'_> {
    fn name(&self, contract: &Contract) -> String {
        let name = match self {
            Subject::Source(t) => format!("contract {}.{}", t.source, t.name),
            Subject::Model(m, _) => format!("contract {m}"),
        };
        match &contract.condition {
            Some(c) => format!("{name} where {c}"),
            None => name,
        }
    }

    fn timestamp(&self) -> Option<&str> {
        match self {
            Subject::Source(t) => t.loaded_at_field.as_deref(),
            Subject::Model(_, event_time) => *event_time,
        }
    }
}

/// Checks the records of `relation` against `contract`.
pub async fn check(engine: &Engine, subject: Subject<'_>, relation: &Relation, contract: &Contract) -> Vec<Finding> {
    let base = Finding::new(Check::Schema, &subject.name(contract), relation, contract.severity());
    let timestamp = contract.timestamp.as_deref().or(subject.timestamp());
    match tally(engine, timestamp, contract, relation).await {
        Ok((period, columns, tally)) => {
            judge(contract, &base, period, &columns, &tally, matches!(subject, Subject::Source(_)))
        }
        Err(e) => vec![super::failed(base, &e)],
    }
}

async fn tally(
    engine: &Engine,
    timestamp: Option<&str>,
    contract: &Contract,
    relation: &Relation,
) -> Result<(Option<String>, Vec<String>, Tally)> {
    let columns: Vec<String> = columns(engine, relation).await?.into_iter().map(|(c, _)| c).collect();
    let (window, period) = match timestamp {
        Some(ts) => match last_day(engine, relation, ts).await? {
            Some(last) => {
                let days = Window::with(contract.detection_days, None, None).days(last);
                // Records after the last day are not judged; one without a timestamp is new.
                let stamp = timestamp_of(ts);
                (
                    format!(
                        "case when {stamp} < {} then 0 when {stamp} >= {} then null else 1 end",
                        at(days.detection_start),
                        at(days.end())
                    ),
                    Some(days.period()),
                )
            }
            None => ("1".to_owned(), None),
        },
        None => ("1".to_owned(), None),
    };
    let declared: Vec<&Field> = contract.fields.iter().filter(|f| columns.contains(&f.name.to_lowercase())).collect();
    let usable = Contract { fields: declared.iter().map(|f| (*f).clone()).collect(), ..contract.clone() };
    let rules = rules("", &usable);
    let mut aggregates: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("sum(case when {} then 1 else 0 end) as p{i}", present(&quote_ident(c))))
        .collect();
    aggregates
        .extend(rules.iter().enumerate().map(|(i, (c, _))| format!("sum(case when {c} then 1 else 0 end) as b{i}")));
    let judged = contract.condition.as_ref().map(|c| format!(" where {c}")).unwrap_or_default();
    let sql = format!(
        "select __window, count(*) as records, {} from (select {window} as __window, * from {relation}{judged}) as __c \
         group by __window",
        aggregates.join(", ")
    );
    let rows = engine.rows(&sql, &format!("contract of {relation}")).await?;
    let mut tally = Tally { broken: vec![(0.0, 0.0); rules.len()], ..Tally::default() };
    for row in rows.into_iter().filter(|r| r[0].is_some()) {
        let current = row[0].as_deref() == Some("1");
        let value = |i: usize| row[i].as_deref().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let add = |pair: &mut (f64, f64), v: f64| if current { pair.1 += v } else { pair.0 += v };
        add(&mut tally.records, value(1));
        for (i, c) in columns.iter().enumerate() {
            add(tally.present.entry(c.clone()).or_default(), value(2 + i));
        }
        for i in 0..rules.len() {
            add(&mut tally.broken[i], value(2 + columns.len() + i));
        }
    }
    Ok((period, columns, tally))
}

/// `k of n records (x%)`.
fn share(k: f64, n: f64) -> String {
    if n <= 0.0 {
        return "no records".into();
    }
    format!("{} of {} records ({}%)", num(k), num(n), num(100.0 * k / n))
}

/// The findings of a contract; `whole` when the contract names every field the relation should
/// have (a source), so that an undeclared one is new and may rename a missing one.
fn judge(
    contract: &Contract,
    base: &Finding,
    period: Option<String>,
    columns: &[String],
    tally: &Tally,
    whole: bool,
) -> Vec<Finding> {
    let (before, now) = tally.records;
    let since = period.as_deref().map_or_else(|| "in the table".to_owned(), |p| format!("in {p}"));
    let fail = |column: String, message: String, value: Option<f64>| {
        let mut f = base.clone();
        f.column = Some(column);
        f.period.clone_from(&period);
        f.status = Status::Fail;
        f.message = message;
        f.value = value;
        f
    };
    let mut out = Vec::new();
    let declared: Vec<String> = contract.fields.iter().map(|f| f.name.to_lowercase()).collect();
    let pres = |c: &str| tally.present.get(c).copied().unwrap_or((0.0, 0.0));
    // A declared field gone: absent from the table, or carried before the window and not in it.
    let gone: Vec<&Field> = contract
        .fields
        .iter()
        .filter(|f| {
            let c = f.name.to_lowercase();
            !columns.contains(&c) || (now > 0.0 && pres(&c).1 == 0.0 && pres(&c).0 > 0.0)
        })
        .collect();
    // A column the contract does not name; it started when the records before the window lacked it.
    let mut new: Vec<&String> = columns.iter().filter(|c| whole && !declared.contains(c)).collect();
    for old in &gone {
        let c = old.name.to_lowercase();
        let old_share = if before > 0.0 { pres(&c).0 / before } else { 0.0 };
        let started = new
            .iter()
            .enumerate()
            .filter(|(_, n)| pres(n).1 > 0.0 && pres(n).0 == 0.0)
            .min_by(|a, b| {
                let d = |n: &str| (pres(n).1 / now.max(1.0) - old_share).abs();
                d(a.1).total_cmp(&d(b.1))
            })
            .map(|(i, n)| (i, (*n).clone()));
        let stopped = if columns.contains(&c) {
            format!(
                "{} stopped arriving (none of the {} records {since} carry it; {} before)",
                old.name,
                num(now),
                share(pres(&c).0, before)
            )
        } else {
            format!("{} is no longer in the table", old.name)
        };
        match started {
            Some((i, renamed)) => {
                new.remove(i);
                out.push(fail(
                    format!("{} -> {renamed}", old.name),
                    format!(
                        "field {} renamed to {renamed}: {stopped}, and {renamed}, which the contract does not declare, started ({} {since}, none before)",
                        old.name,
                        share(pres(&renamed).1, now)
                    ),
                    Some(pres(&renamed).1 / now.max(1.0)),
                ));
            }
            None => out.push(fail(old.name.clone(), format!("field {} missing: {stopped}", old.name), Some(0.0))),
        }
    }
    for n in new {
        let mut f = fail(
            n.clone(),
            format!(
                "new field {n}, which the contract does not declare: {} {since}, {} before",
                share(pres(n).1, now),
                share(pres(n).0, before)
            ),
            Some(pres(n).1 / now.max(1.0)),
        );
        f.severity = Severity::Warn;
        out.push(f);
    }
    if out.is_empty() {
        let mut f = base.clone();
        f.period.clone_from(&period);
        f.message = format!("the {} declared fields are all there", contract.fields.len());
        if whole {
            f.message.push_str(", and no others");
        }
        out.push(f);
    }
    let gone_names: Vec<String> = gone.iter().map(|f| f.name.to_lowercase()).collect();
    let usable: Vec<&Field> = contract.fields.iter().filter(|f| columns.contains(&f.name.to_lowercase())).collect();
    let mut broken = tally.broken.iter();
    for field in usable {
        let c = field.name.to_lowercase();
        let folded = gone_names.contains(&c);
        let mut row = |check: Check, bad: f64, allowed: f64, rule: String| {
            let mut f = base.clone();
            f.check = check;
            f.column = Some(field.name.clone());
            f.period.clone_from(&period);
            f.value = Some(if now > 0.0 { bad / now } else { 0.0 });
            f.expected_low = Some(0.0);
            f.expected_high = Some(allowed);
            f.status = if folded {
                Status::Skipped
            } else if now > 0.0 && bad / now > allowed + 1e-12 {
                Status::Fail
            } else {
                Status::Pass
            };
            f.message = format!("{rule}: {} {since}", share(bad, now));
            if folded {
                f.message.push_str("; folded into the schema change above");
            }
            out.push(f);
        };
        if field.required {
            let bad = broken.next().map_or(0.0, |b| b.1);
            row(Check::Contract, bad, field.max_missing, format!("required field {} missing", field.name));
        }
        if field.kind.pattern().is_some() {
            let (b0, b1) = broken.next().copied().unwrap_or_default();
            let check = if b0 == 0.0 && b1 > 0.0 { Check::Schema } else { Check::Contract };
            let word = if check == Check::Schema { "retyped: values" } else { "values" };
            row(check, b1, 0.0, format!("field {} {word} not {}", field.name, article(field.kind)));
        }
        if !field.allowed.is_empty() {
            let bad = broken.next().map_or(0.0, |b| b.1);
            row(Check::Contract, bad, 0.0, format!("field {} outside its allowed values", field.name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract() -> Contract {
        serde_yaml::from_str(
            "{quarantine: true, fields: [{name: channel, required: true, allowed: [chat, email]}, \
             {name: contact_email}, {name: received_at, type: timestamp}]}",
        )
        .unwrap()
    }

    #[test]
    fn violations_name_the_field_and_rule_never_the_value() {
        let sql = violation_sql("raw.t", &contract());
        assert!(sql.starts_with("case when not (\"channel\" is not null"), "{sql}");
        assert!(sql.contains("'contract raw.t: field channel is not one of chat, email'"), "{sql}");
        assert!(sql.contains("'contract raw.t: field received_at is not a timestamp'"), "{sql}");
        let counted = Contract { quarantine: false, ..contract() };
        assert_eq!(violation_sql("raw.t", &counted), "cast(null as varchar)");
        let twice: Contract = serde_yaml::from_str("{fields: [{name: a}, {name: A}]}").unwrap();
        assert_eq!(twice.check().unwrap_err(), "contract: field A is declared twice");
    }

    #[test]
    fn a_vendor_rename_names_both_fields() {
        let base = Finding::new(
            Check::Schema,
            "c",
            &Relation { schema: "raw".into(), identifier: "t".into() },
            Severity::Error,
        );
        let columns: Vec<String> =
            ["channel", "contact_email", "received_at", "customer_email"].map(String::from).to_vec();
        let tally = Tally {
            records: (1000.0, 200.0),
            present: [
                ("channel".into(), (1000.0, 200.0)),
                ("contact_email".into(), (540.0, 0.0)),
                ("received_at".into(), (1000.0, 200.0)),
                ("customer_email".into(), (0.0, 104.0)),
            ]
            .into(),
            broken: vec![(0.0, 0.0), (0.0, 0.0), (0.0, 0.0)],
        };
        let out = judge(&contract(), &base, Some("2026-11-19..2026-11-25".into()), &columns, &tally, true);
        let fails: Vec<_> = out.iter().filter(|f| f.status == Status::Fail).collect();
        assert_eq!(fails.len(), 1, "{out:#?}");
        assert_eq!(fails[0].column.as_deref(), Some("contact_email -> customer_email"));
        assert!(
            fails[0]
                .message
                .starts_with("field contact_email renamed to customer_email: contact_email stopped arriving"),
            "{}",
            fails[0].message
        );
        let steady = Tally {
            present: [
                ("channel".into(), (1000.0, 200.0)),
                ("contact_email".into(), (540.0, 100.0)),
                ("received_at".into(), (1000.0, 200.0)),
            ]
            .into(),
            ..tally
        };
        let out = judge(&contract(), &base, None, &columns[..3], &steady, true);
        assert!(out.iter().all(|f| f.status == Status::Pass), "{out:#?}");
        // On a model, other columns are its own; a required field that stops is missing, and its
        // share fails.
        let model: Contract =
            serde_yaml::from_str("{where: \"format = 'zendesk'\", fields: [{name: queue, required: true}]}").unwrap();
        let queue = Tally {
            records: (300.0, 50.0),
            present: [("queue".into(), (300.0, 10.0)), ("agent".into(), (300.0, 50.0))].into(),
            broken: vec![(0.0, 40.0)],
        };
        let out = judge(&model, &base, None, &["queue".into(), "agent".into()], &queue, false);
        let fails: Vec<_> =
            out.iter().filter(|f| f.status == Status::Fail).map(|f| (f.check, f.message.as_str())).collect();
        assert_eq!(
            fails,
            [(Check::Contract, "required field queue missing: 40 of 50 records (80%) in the table")],
            "{out:#?}"
        );
        assert!(violation_sql("m", &Contract { quarantine: true, ..model })
            .starts_with("case when coalesce((format = 'zendesk'), false) = false then"));
    }
}
