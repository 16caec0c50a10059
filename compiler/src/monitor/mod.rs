//! Observability: what notices when the data still loads but no longer means what it did.
//! Source contracts and schema drift ([`contract`]), metrics compared with their own history
//! ([`series`]), label drift ([`drift`]) and PII leak scans ([`leak`]); every result is a row of
//! `monitor_results` and each finding one line of the run's output (`docs/observability.md`).

pub mod contract;
pub mod drift;
pub mod leak;
pub mod series;
pub mod stats;

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use crate::compile::Compiled;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::governance::DataClass;
use crate::project::profiles::Target;
use crate::project::Project;
use crate::render::{quote_literal, Relation};

/// The relation, in the target schema, that every run's monitor results are appended to.
pub const MONITOR_RESULTS: &str = "monitor_results";

use DataClass::{Identifier, Label, Metric};

/// The columns of `monitor_results`: name, type (both engines) and class.
pub const COLUMNS: &[(&str, &str, DataClass)] = &[
    ("run_id", "varchar", Identifier),
    ("checked_at", "varchar", Metric),
    ("check_name", "varchar", Label),
    ("monitor", "varchar", Label),
    ("relation", "varchar", Label),
    ("column_name", "varchar", Label),
    ("dimension", "varchar", Label),
    ("period", "varchar", Label),
    ("value", "double precision", Metric),
    ("expected_low", "double precision", Metric),
    ("expected_high", "double precision", Metric),
    ("severity", "varchar", Label),
    ("status", "varchar", Label),
    ("message", "varchar", Label),
];

/// What a monitor measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Rows a day (per dimension).
    Volume,
    /// The share of rows whose column is NULL or empty.
    NullRate,
    /// Distinct values of a column a day.
    Distinct,
    /// The mean length of a text column.
    TextLength,
    /// The share of rows meeting a condition (`where:`), e.g. the unknown-intent rate.
    Share,
    /// The time since the newest row, against the longest silence of the training window.
    Freshness,
    /// The population stability of a label's (or a binned number's) distribution.
    Drift,
    /// Personal data found by `detect_pii` in text columns of the named layers.
    PiiLeak,
    /// A source contract's schema changes (new, missing, renamed and retyped fields).
    Schema,
    /// A source contract's per-record rules (required fields, allowed values).
    Contract,
}

impl Check {
    /// Its name in YAML and in `monitor_results`.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Volume => "volume",
            Check::NullRate => "null_rate",
            Check::Distinct => "distinct",
            Check::TextLength => "text_length",
            Check::Share => "share",
            Check::Freshness => "freshness",
            Check::Drift => "drift",
            Check::PiiLeak => "pii_leak",
            Check::Schema => "schema",
            Check::Contract => "contract",
        }
    }
}

/// How much a failing check matters: `error` makes `convlytics monitor` (and the build) exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported.
    #[default]
    Warn,
    /// Reported, and the command fails.
    Error,
}

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Within its expected range.
    Pass,
    /// Outside it: a finding.
    Fail,
    /// Not judged: too little history, or folded into another finding.
    Skipped,
    /// The check's query failed.
    Error,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skipped => "skipped",
            Status::Error => "error",
        }
    }
}

/// The windows a check compares: the last `detection_days` days (of the data, ending on the day of
/// its newest row) against the `training_days` days before them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Days judged (default 7).
    pub detection_days: u32,
    /// Days of history they are judged against (default 28).
    pub training_days: u32,
    /// Fewer days of history than this and the check is skipped (default 14).
    pub min_training_days: u32,
}

impl Default for Window {
    fn default() -> Self {
        Self { detection_days: 7, training_days: 28, min_training_days: 14 }
    }
}

/// The days of a window ending on `last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days {
    /// The first training day.
    pub training_start: NaiveDate,
    /// The first detection day.
    pub detection_start: NaiveDate,
    /// The last day with data.
    pub last: NaiveDate,
}

impl Window {
    /// The window with the given days, each defaulted when absent.
    pub fn with(detection: Option<u32>, training: Option<u32>, min_training: Option<u32>) -> Self {
        let d = Self::default();
        Self {
            detection_days: detection.unwrap_or(d.detection_days),
            training_days: training.unwrap_or(d.training_days),
            min_training_days: min_training.unwrap_or(d.min_training_days),
        }
    }

    /// The window's days when the data ends on `last`.
    pub fn days(&self, last: NaiveDate) -> Days {
        let detection_start = last - Duration::days(i64::from(self.detection_days.max(1)) - 1);
        Days { training_start: detection_start - Duration::days(i64::from(self.training_days)), detection_start, last }
    }

    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        if self.detection_days == 0 || self.training_days == 0 {
            return Err("detection_days and training_days are at least 1".into());
        }
        Ok(())
    }
}

impl Days {
    /// The day after the last: rows from it on are not judged.
    pub fn end(&self) -> NaiveDate {
        self.last + Duration::days(1)
    }

    /// The SQL condition that `stamp` is in the training or detection window.
    pub(crate) fn within(&self, stamp: &str) -> String {
        format!("{stamp} >= {} and {stamp} < {}", at(self.training_start), at(self.end()))
    }

    /// `2026-11-19..2026-11-25`.
    pub fn period(&self) -> String {
        format!("{}..{}", self.detection_start, self.last)
    }
}

/// PSI thresholds: at `warn` a distribution has moved, at `error` it has shifted.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Default 0.1.
    #[serde(default = "default_warn")]
    pub warn: f64,
    /// Default 0.25.
    #[serde(default = "default_error")]
    pub error: f64,
}

fn default_warn() -> f64 {
    0.1
}
fn default_error() -> f64 {
    0.25
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { warn: default_warn(), error: default_error() }
    }
}

/// One monitor, as a property file's `monitors:` declares it. Unknown keys are errors.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorSpec {
    /// Its name in results (default: check and relation, and column when one).
    #[serde(default)]
    pub name: Option<String>,
    /// What it measures.
    pub check: Check,
    /// A model or seed name, or `source.table`; not for `pii_leak`.
    #[serde(default)]
    pub relation: Option<String>,
    /// The column that dates each row (cast to a timestamp).
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Columns whose combinations are judged separately (`[source, channel]`).
    #[serde(default)]
    pub dimensions: Vec<String>,
    /// The columns of `null_rate`, `distinct` and `text_length`.
    #[serde(default)]
    pub columns: Vec<String>,
    /// The column of `drift`.
    #[serde(default)]
    pub column: Option<String>,
    /// The SQL condition of `share`.
    #[serde(default, rename = "where")]
    pub condition: Option<String>,
    /// `drift` of a list held as text: the separator between its values (`,` for topics).
    #[serde(default)]
    pub separator: Option<String>,
    /// `drift` of a number: the edges of its bins, ascending.
    #[serde(default)]
    pub bins: Vec<f64>,
    /// `pii_leak`: the folders of models scanned (default `[enriched, marts]`).
    #[serde(default)]
    pub layers: Vec<String>,
    /// `pii_leak`: the project's PII policy `detect_pii` scans with (`pii_policies:`).
    #[serde(default)]
    pub policy: Option<String>,
    /// `pii_leak`: PII types not reported (e.g. a business key the policy also redacts from text).
    #[serde(default)]
    pub ignore_types: Vec<String>,
    /// `pii_leak`: the lowest score a span needs to be reported (default 0.7: a word found only in
    /// a names list, 0.6, is too weak a sign to fail on).
    #[serde(default)]
    pub min_score: Option<f64>,
    /// `warn` (default; `error` for `pii_leak`).
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Robust standard deviations from the training median that still pass (default 3.5).
    #[serde(default)]
    pub sensitivity: Option<f64>,
    /// Days judged (default 7).
    #[serde(default)]
    pub detection_days: Option<u32>,
    /// Days of history they are judged against (default 28).
    #[serde(default)]
    pub training_days: Option<u32>,
    /// Fewer days of history than this and the check is skipped (default 14).
    #[serde(default)]
    pub min_training_days: Option<u32>,
    /// `drift`: the PSI thresholds (default 0.1 and 0.25).
    #[serde(default)]
    pub thresholds: Option<Thresholds>,
}

impl MonitorSpec {
    /// Checks that the keys its check needs are there, and only those it reads.
    pub fn check(&self) -> std::result::Result<(), String> {
        let needs = |present: bool, key: &str| {
            if present {
                Ok(())
            } else {
                Err(format!("check {} needs {key}", self.check.as_str()))
            }
        };
        self.window().check()?;
        if self.min_score.is_some_and(|s| !(0.0..=1.0).contains(&s)) {
            return Err("min_score is a score in [0, 1]".into());
        }
        match self.check {
            Check::PiiLeak => {
                if self.relation.is_some() {
                    return Err("check pii_leak scans whole layers: give layers:, not relation:".into());
                }
                needs(self.policy.is_some(), "policy: (a pii_policies: name)")
            }
            Check::Schema | Check::Contract => {
                Err(format!("check {} comes from a source table's contract:, not from monitors:", self.check.as_str()))
            }
            _ => {
                needs(self.relation.is_some(), "relation:")?;
                needs(self.timestamp.is_some(), "timestamp:")?;
                match self.check {
                    Check::NullRate | Check::Distinct | Check::TextLength => {
                        needs(!self.columns.is_empty(), "columns:")
                    }
                    Check::Share => needs(self.condition.is_some(), "where:"),
                    Check::Drift => {
                        needs(self.column.is_some(), "column:")?;
                        if self.bins.windows(2).any(|w| w[0] >= w[1]) {
                            return Err("bins: the edges must ascend".into());
                        }
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// Its name in results.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let mut name = format!("{} {}", self.check.as_str(), self.relation.as_deref().unwrap_or("layers"));
            if let Some(c) = &self.column {
                name.push('.');
                name.push_str(c);
            }
            name
        })
    }

    fn window(&self) -> Window {
        Window::with(self.detection_days, self.training_days, self.min_training_days)
    }

    fn severity(&self) -> Severity {
        self.severity.unwrap_or(if self.check == Check::PiiLeak { Severity::Error } else { Severity::Warn })
    }

    fn sensitivity(&self) -> f64 {
        self.sensitivity.unwrap_or(3.5)
    }
}

/// One result of one check: a row of `monitor_results`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    /// What was measured.
    pub check: Check,
    /// The monitor (or contract) that asked.
    pub monitor: String,
    /// `schema.identifier`.
    pub relation: String,
    /// The column, when one (`old -> new` for a rename).
    pub column: Option<String>,
    /// The dimension values, `source=email, channel=email`.
    pub dimension: Option<String>,
    /// The days judged.
    pub period: Option<String>,
    /// The measured value.
    pub value: Option<f64>,
    /// The lowest value that passes.
    pub expected_low: Option<f64>,
    /// The highest value that passes.
    pub expected_high: Option<f64>,
    /// How much a failure matters.
    pub severity: Severity,
    /// How it ended.
    pub status: Status,
    /// What it found, naming the fields involved; never a value of the data.
    pub message: String,
}

impl Finding {
    /// A finding of `check` on `relation` with everything else empty.
    pub(crate) fn new(check: Check, monitor: &str, relation: &Relation, severity: Severity) -> Self {
        Self {
            check,
            monitor: monitor.to_owned(),
            relation: relation.to_string().replace('"', ""),
            column: None,
            dimension: None,
            period: None,
            value: None,
            expected_low: None,
            expected_high: None,
            severity,
            status: Status::Pass,
            message: String::new(),
        }
    }

    /// Whether it fails an error-severity check (or could not run one).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error && matches!(self.status, Status::Fail | Status::Error)
    }

    /// The line the run prints for it.
    pub fn line(&self) -> String {
        let mut head = format!("{:<5} {} {}", self.status.as_str().to_uppercase(), self.check.as_str(), self.relation);
        if let Some(c) = &self.column {
            head.push_str(&format!(".{c}"));
        }
        if let Some(d) = &self.dimension {
            head.push_str(&format!(" [{d}]"));
        }
        if let Some(p) = &self.period {
            head.push_str(&format!(" {p}"));
        }
        let severity = match self.severity {
            Severity::Warn => "warn",
            Severity::Error => "error",
        };
        format!("{head}: {} ({severity})", self.message)
    }

    /// As JSON, for `convlytics monitor --format json`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "check": self.check.as_str(),
            "monitor": self.monitor,
            "relation": self.relation,
            "column": self.column,
            "dimension": self.dimension,
            "period": self.period,
            "value": self.value,
            "expected_low": self.expected_low,
            "expected_high": self.expected_high,
            "severity": self.severity,
            "status": self.status,
            "message": self.message,
        })
    }
}

/// `x` with at most three significant decimals, for messages.
pub(crate) fn num(x: f64) -> String {
    let s = if x.abs() >= 100.0 { format!("{x:.0}") } else { format!("{x:.3}") };
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// The relation a monitor names: a model or seed, or `source.table`.
fn resolve(
    project: &Project,
    compiled: &Compiled,
    target: &Target,
    name: &str,
) -> std::result::Result<Relation, String> {
    if let Some(m) = compiled.models.iter().find(|m| m.name == name) {
        return Ok(m.relation.clone());
    }
    if let Some(s) = compiled.seeds.iter().find(|s| s.name == name) {
        return Ok(Compiled::seed_relation(target, s));
    }
    if let Some((source, table)) = name.split_once('.') {
        if let Some(t) = project.sources.get(&(source.to_owned(), table.to_owned())) {
            return Ok(Relation { schema: t.schema.clone(), identifier: t.identifier.clone() });
        }
    }
    Err(format!("relation '{name}' is not a model, seed or source.table of the project"))
}

/// The day the windows end on: that of the newest row of `relation` (by `timestamp`), or today
/// when rows are dated later (a sender's clock ahead; they are not judged); `None` without rows.
pub(crate) async fn last_day(engine: &Engine, relation: &Relation, timestamp: &str) -> Result<Option<NaiveDate>> {
    let sql =
        format!("select cast({} as varchar) from {relation}", day_of(&format!("max({})", timestamp_of(timestamp))));
    let rows = engine.rows(&sql, &format!("newest row of {relation}")).await?;
    let newest = rows
        .first()
        .and_then(|r| r[0].as_deref())
        .and_then(|d| NaiveDate::parse_from_str(&d[..d.len().min(10)], "%Y-%m-%d").ok());
    Ok(newest.map(|d| d.min(chrono::Utc::now().date_naive())))
}

/// `column` as a timestamp; NULL where its text is not one (a record a contract quarantines
/// does not fail the check).
pub(crate) fn timestamp_of(column: &str) -> String {
    format!(
        "case when cast({column} as varchar) ~ {} then cast({column} as timestamp) end",
        quote_literal(contract::TIMESTAMP)
    )
}

/// The date of the timestamp expression `ts`.
pub(crate) fn day_of(ts: &str) -> String {
    format!("cast({ts} as date)")
}

/// A date as a SQL timestamp literal both engines read.
pub(crate) fn at(day: NaiveDate) -> String {
    format!("cast({} as timestamp)", quote_literal(&day.format("%Y-%m-%d").to_string()))
}

/// Runs every contract and monitor of `project` on `engine` (contracts first: a field they report
/// renamed or missing is not judged again by the monitors of its relation).
pub async fn run(engine: &Engine, project: &Project, compiled: &Compiled, target: &Target) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for table in project.sources.values() {
        if let Some(contract) = &table.contract {
            let relation = Relation { schema: table.schema.clone(), identifier: table.identifier.clone() };
            findings.extend(contract::check(engine, contract::Subject::Source(table), &relation, contract).await);
        }
    }
    for model in &compiled.models {
        for contract in project.models.get(&model.name).map(|m| m.contracts.as_slice()).unwrap_or_default() {
            let subject = contract::Subject::Model(&model.name, model.config.event_time.as_deref());
            findings.extend(contract::check(engine, subject, &model.relation, contract).await);
        }
    }
    let folded: BTreeSet<(String, String)> = findings
        .iter()
        .filter(|f| f.check == Check::Schema && f.status == Status::Fail)
        .filter_map(|f| Some((f.relation.clone(), f.column.as_deref()?.split(" -> ").next()?.to_owned())))
        .collect();
    for (_, spec) in &project.monitors {
        let name = spec.display_name();
        if spec.check == Check::PiiLeak {
            findings.extend(leak::scan(engine, project, compiled, spec, &name).await?);
            continue;
        }
        let relation = match resolve(project, compiled, target, spec.relation.as_deref().unwrap_or_default()) {
            Ok(r) => r,
            Err(m) => return Err(Error::Project(format!("monitor {name}: {m}"))),
        };
        let mut out = match spec.check {
            Check::Drift => drift::check(engine, spec, &name, &relation).await,
            Check::Freshness => vec![series::freshness(engine, spec, &name, &relation, compiled.now).await],
            _ => series::check(engine, spec, &name, &relation).await,
        };
        for f in &mut out {
            let key = (f.relation.clone(), f.column.clone().unwrap_or_default());
            if f.status == Status::Fail && folded.contains(&key) {
                f.status = Status::Skipped;
                f.message = format!("{}; folded into the schema change of {}", f.message, key.1);
            }
        }
        findings.extend(out);
    }
    Ok(findings)
}

/// A query that failed, as an `error` result of its check.
pub(crate) fn failed(mut base: Finding, e: &Error) -> Finding {
    base.status = Status::Error;
    base.message = format!("the check could not run: {e}");
    base
}

/// Appends `findings` to `monitor_results` in `schema`, under `run_id`.
pub async fn store(engine: &mut Engine, schema: &str, run_id: &str, findings: &[Finding]) -> Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    let text = |v: Option<&str>| v.map_or_else(|| "null".to_owned(), quote_literal);
    let number = |v: Option<f64>| v.filter(|x| x.is_finite()).map_or_else(|| "null".to_owned(), |x| format!("{x:.6}"));
    let checked_at = crate::governance::audit::iso(chrono::Utc::now());
    let rows: Vec<String> = findings
        .iter()
        .map(|f| {
            let values = [
                quote_literal(run_id),
                quote_literal(&checked_at),
                quote_literal(f.check.as_str()),
                quote_literal(&f.monitor),
                quote_literal(&f.relation),
                text(f.column.as_deref()),
                text(f.dimension.as_deref()),
                text(f.period.as_deref()),
                number(f.value),
                number(f.expected_low),
                number(f.expected_high),
                quote_literal(if f.severity == Severity::Error { "error" } else { "warn" }),
                quote_literal(f.status.as_str()),
                quote_literal(&f.message),
            ];
            crate::governance::audit::row_select(COLUMNS, &values)
        })
        .collect();
    let relation = Relation { schema: schema.to_owned(), identifier: MONITOR_RESULTS.into() };
    engine.create_schema(schema).await?;
    engine.append(&relation, COLUMNS, &rows.join("\nunion all\n")).await
}

/// Prints one line per finding (failed, skipped for lack of history aside, or errored) and a
/// summary line.
pub fn report(findings: &[Finding]) {
    for f in findings.iter().filter(|f| matches!(f.status, Status::Fail | Status::Error)) {
        println!("monitor: {}", f.line());
    }
    let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
    println!(
        "Monitors: {} checks, {} passed, {} failed, {} skipped, {} errors; every result is in {MONITOR_RESULTS}.",
        findings.len(),
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Skipped),
        count(Status::Error)
    );
}

/// The error the command ends with when an error-severity check failed.
pub fn verdict(findings: &[Finding]) -> Result<()> {
    let errors = findings.iter().filter(|f| f.is_error()).count();
    if errors > 0 {
        return Err(Error::Project(format!("{errors} error-severity monitor check(s) failed")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_say_what_their_check_needs() {
        let spec = |yaml: &str| {
            serde_yaml::from_str::<MonitorSpec>(yaml).map_err(|e| e.to_string()).and_then(|s| s.check().map(|_| s))
        };
        assert_eq!(
            spec("{check: null_rate, relation: x, timestamp: t}").unwrap_err(),
            "check null_rate needs columns:"
        );
        assert_eq!(spec("{check: share, relation: x, timestamp: t}").unwrap_err(), "check share needs where:");
        assert_eq!(
            spec("{check: drift, relation: x, timestamp: t, column: c, bins: [1, 0]}").unwrap_err(),
            "bins: the edges must ascend"
        );
        assert!(spec("{check: schema, relation: x}").unwrap_err().contains("contract:"));
        assert!(spec("{check: volume, relation: x, timestamp: t, sensitivity: 3, bogus: 1}")
            .unwrap_err()
            .contains("bogus"));
        let ok = spec("{check: volume, relation: x, timestamp: t, detection_days: 3}").unwrap();
        assert_eq!(ok.window(), Window { detection_days: 3, ..Window::default() });
        assert_eq!(ok.display_name(), "volume x");
        let days = ok.window().days(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
        assert_eq!(days.period(), "2026-11-23..2026-11-25");
        assert_eq!(days.training_start.to_string(), "2026-10-26");
    }

    #[test]
    fn numbers_in_messages_are_short() {
        assert_eq!(num(0.123456), "0.123");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(1234.5), "1234");
        assert_eq!(num(-0.0001), "0");
    }
}
