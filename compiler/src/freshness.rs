//! `convlytics source freshness`: how old each source table's newest row is (the maximum of its
//! `loaded_at_field`), against the `warn_after` and `error_after` of its `freshness:`.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::engine::Engine;
use crate::error::Result;
use crate::project::properties::Freshness;
use crate::project::{Project, SourceTable};
use crate::render::Relation;

/// The freshness of one source table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FreshnessResult {
    /// `source.table`.
    pub source: String,
    /// `pass`, `warn`, `error` (too old, or no rows) or `runtime error`.
    pub status: &'static str,
    /// Seconds since the newest row was loaded.
    pub age_seconds: Option<f64>,
    /// What the thresholds were, or what went wrong.
    pub message: String,
}

/// The tables of `project` that have both a `loaded_at_field` and a `freshness`, among
/// `selected` (`source.table` or `source` names; all when empty).
pub fn tables<'p>(project: &'p Project, selected: &[String]) -> Vec<(&'p SourceTable, &'p Freshness, &'p str)> {
    project
        .sources
        .values()
        .filter(|t| {
            selected.is_empty()
                || selected.iter().flat_map(|s| s.split_whitespace()).any(|s| {
                    let s = s.strip_prefix("source:").unwrap_or(s);
                    s == t.source || s == format!("{}.{}", t.source, t.name)
                })
        })
        .filter_map(|t| Some((t, t.freshness.as_ref()?, t.loaded_at_field.as_deref()?)))
        .collect()
}

/// Measures each table's age on `engine` and prints a line per table; fails when any is an error.
pub async fn check(engine: &Engine, tables: &[(&SourceTable, &Freshness, &str)]) -> Result<Vec<FreshnessResult>> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    let mut results = Vec::new();
    if tables.is_empty() {
        println!("No selected source table has both a loaded_at_field and a freshness: nothing to check.");
    }
    for (i, (table, freshness, field)) in tables.iter().enumerate() {
        let relation = Relation { schema: table.schema.clone(), identifier: table.identifier.clone() };
        let filter = freshness.filter.as_ref().map(|f| format!(" where {f}")).unwrap_or_default();
        let sql = format!("select extract(epoch from max(cast({field} as timestamp))) from {relation}{filter}");
        let name = format!("{}.{}", table.source, table.name);
        let result = match engine.scalar(&sql, &format!("source {name} ({})", table.declared_in.display())).await {
            Err(e) => {
                FreshnessResult { source: name, status: "runtime error", age_seconds: None, message: e.to_string() }
            }
            Ok(None) => FreshnessResult {
                source: name,
                status: "error",
                age_seconds: None,
                message: format!("no rows with a {field}"),
            },
            Ok(Some(loaded)) => judge(name, now - loaded, freshness),
        };
        let age = result.age_seconds.map(|a| format!("{}, ", human(a))).unwrap_or_default();
        println!(
            "{:>3} of {} {:<5} freshness of {} [{age}{}]",
            i + 1,
            tables.len(),
            result.status.to_uppercase(),
            result.source,
            result.message
        );
        results.push(result);
    }
    Ok(results)
}

/// `pass`, `warn` or `error` for a table whose newest row is `age` seconds old.
fn judge(source: String, age: f64, freshness: &Freshness) -> FreshnessResult {
    let limit = |a: &Option<crate::project::properties::Age>| {
        a.map(|a| {
            let plural = if a.count == 1 { "" } else { "s" };
            (a.seconds(), format!("{} {:?}{plural}", a.count, a.period).to_lowercase())
        })
    };
    let (status, message) = match (limit(&freshness.error_after), limit(&freshness.warn_after)) {
        (Some((s, text)), _) if age > s => ("error", format!("older than error_after {text}")),
        (_, Some((s, text))) if age > s => ("warn", format!("older than warn_after {text}")),
        _ => ("pass", "within its freshness".to_owned()),
    };
    FreshnessResult { source, status, age_seconds: Some(age), message }
}

/// An age as days, hours and minutes.
fn human(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    match (s / 86400, s % 86400 / 3600, s % 3600 / 60) {
        (0, 0, m) => format!("{m}m old"),
        (0, h, m) => format!("{h}h {m}m old"),
        (d, h, _) => format!("{d}d {h}h old"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::properties::{Age, Period};

    #[test]
    fn the_error_threshold_wins_over_the_warning() {
        let f = Freshness {
            warn_after: Some(Age { count: 12, period: Period::Hour }),
            error_after: Some(Age { count: 1, period: Period::Day }),
            filter: None,
        };
        assert_eq!(judge("s.t".into(), 3600.0, &f).status, "pass");
        assert_eq!(judge("s.t".into(), 13.0 * 3600.0, &f).status, "warn");
        let old = judge("s.t".into(), 3.0 * 86400.0, &f);
        assert_eq!((old.status, old.message.as_str()), ("error", "older than error_after 1 day"));
        assert_eq!(human(3.0 * 86400.0 + 7200.0), "3d 2h old");
    }
}
