//! Label and model drift: the population stability index of a column's distribution in the
//! detection window (a week by default) against the training window before it. A label column is
//! read as categories (a list held as text split on `separator:`), a number binned by `bins:`.

use std::collections::BTreeMap;

use super::{at, last_day, num, stats, timestamp_of, Check, Finding, MonitorSpec, Severity, Status};
use crate::engine::Engine;
use crate::error::Result;
use crate::render::{quote_ident, Relation};

/// Runs a `drift` monitor.
pub async fn check(engine: &Engine, spec: &MonitorSpec, name: &str, relation: &Relation) -> Vec<Finding> {
    let mut f = Finding::new(Check::Drift, name, relation, Severity::Warn);
    f.column = spec.column.clone();
    match measure(engine, spec, relation).await {
        Err(e) => vec![super::failed(f, &e)],
        Ok(None) => {
            f.status = Status::Skipped;
            f.message = "no rows with a timestamp yet".into();
            vec![f]
        }
        Ok(Some((period, baseline, current))) => {
            f.period = Some(period);
            vec![judge(spec, f, &baseline, &current)]
        }
    }
}

/// Counts per category in the training window and in the detection window.
type Counts = BTreeMap<String, f64>;

async fn measure(engine: &Engine, spec: &MonitorSpec, relation: &Relation) -> Result<Option<(String, Counts, Counts)>> {
    let ts = spec.timestamp.as_deref().unwrap_or_default();
    let Some(last) = last_day(engine, relation, ts).await? else { return Ok(None) };
    let days = spec.window().days(last);
    let stamp = timestamp_of(ts);
    let column = quote_ident(spec.column.as_deref().unwrap_or_default());
    let sql = format!(
        "select current_window, v, count(*) from (select case when {stamp} >= {} then 1 else 0 end as current_window, \
         cast({column} as varchar) as v from {relation} where {}) as __d group by current_window, v",
        at(days.detection_start),
        days.within(&stamp)
    );
    let rows = engine.rows(&sql, &format!("drift of {relation}.{column}")).await?;
    let (mut baseline, mut current) = (Counts::new(), Counts::new());
    for row in rows {
        let n: f64 = row[2].as_deref().and_then(|v| v.parse().ok()).unwrap_or(0.0);
        let into = if row[0].as_deref() == Some("1") { &mut current } else { &mut baseline };
        for category in categories(spec, row[1].as_deref()) {
            *into.entry(category).or_default() += n;
        }
    }
    Ok(Some((days.period(), baseline, current)))
}

/// The categories one value counts in: itself, its list's items, or its bin.
fn categories(spec: &MonitorSpec, value: Option<&str>) -> Vec<String> {
    let Some(value) = value else { return vec!["(null)".into()] };
    if !spec.bins.is_empty() {
        let Ok(x) = value.parse::<f64>() else { return vec!["(not a number)".into()] };
        return vec![bin(&spec.bins, x)];
    }
    match spec.separator.as_deref() {
        Some(sep) if !sep.is_empty() => {
            let items: Vec<String> =
                value.split(sep).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
            if items.is_empty() {
                vec!["(none)".into()]
            } else {
                items
            }
        }
        _ => vec![value.to_owned()],
    }
}

/// The bin of `x` among ascending `edges`: `[a, b)`, the last closed; values outside go to the
/// nearest end bin.
fn bin(edges: &[f64], x: f64) -> String {
    if edges.len() < 2 {
        return format!("[{}, ...)", num(edges[0]));
    }
    let i = edges.windows(2).position(|w| x < w[1]).unwrap_or(edges.len() - 2);
    let last = i == edges.len() - 2;
    format!("[{}, {}{}", num(edges[i]), num(edges[i + 1]), if last { "]" } else { ")" })
}

/// The finding of a drift check: PSI at or above `warn` fails (a warning), at or above `error`
/// fails with error severity (unless the monitor sets its severity).
fn judge(spec: &MonitorSpec, mut f: Finding, baseline: &Counts, current: &Counts) -> Finding {
    let thresholds = spec.thresholds.unwrap_or_default();
    let Some(s) = stats::stability(baseline, current) else {
        f.status = Status::Skipped;
        f.message = format!(
            "{} rows in the training window, {} in the detection window: nothing to compare",
            baseline.values().sum::<f64>(),
            current.values().sum::<f64>()
        );
        return f;
    };
    f.value = Some(s.psi);
    f.expected_low = Some(0.0);
    f.expected_high = Some(thresholds.warn);
    let movers: Vec<String> =
        s.movers.iter().map(|(c, e, a)| format!("{c} {}% -> {}%", num(100.0 * e), num(100.0 * a))).collect();
    let column = spec.column.as_deref().unwrap_or_default();
    let rows = current.values().sum::<f64>();
    if s.psi >= thresholds.warn && !s.significant {
        f.severity = spec.severity.unwrap_or(Severity::Warn);
        f.message = format!(
            "the {column} distribution reads PSI {} over {} rows, within what chance gives a sample this small",
            num(s.psi),
            num(rows)
        );
    } else if s.psi >= thresholds.warn {
        f.status = Status::Fail;
        f.severity = spec.severity.unwrap_or(if s.psi >= thresholds.error { Severity::Error } else { Severity::Warn });
        let word = if s.psi >= thresholds.error { "shifted" } else { "moved" };
        f.message = format!(
            "the {column} distribution {word}: PSI {} (thresholds {} / {}); most moved: {}",
            num(s.psi),
            num(thresholds.warn),
            num(thresholds.error),
            movers.join(", ")
        );
    } else {
        f.severity = spec.severity.unwrap_or(Severity::Warn);
        f.message = format!("the {column} distribution is stable: PSI {} (raw {})", num(s.psi), num(s.raw));
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> MonitorSpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn values_fall_into_categories_lists_and_bins() {
        let topics = spec("{check: drift, relation: r, timestamp: t, column: topics, separator: ','}");
        assert_eq!(categories(&topics, Some("billing, refunds")), ["billing", "refunds"]);
        assert_eq!(categories(&topics, Some("")), ["(none)"]);
        assert_eq!(categories(&topics, None), ["(null)"]);
        let confidence = spec("{check: drift, relation: r, timestamp: t, column: c, bins: [0, 0.5, 1]}");
        assert_eq!(categories(&confidence, Some("0.2")), ["[0, 0.5)"]);
        assert_eq!(categories(&confidence, Some("1")), ["[0.5, 1]"]);
        assert_eq!(categories(&confidence, Some("-3")), ["[0, 0.5)"]);
        assert_eq!(categories(&confidence, Some("n/a")), ["(not a number)"]);
    }

    #[test]
    fn a_shift_is_an_error_and_a_new_label_is_named() {
        let spec = spec("{check: drift, relation: r, timestamp: t, column: intent}");
        let base =
            Finding::new(Check::Drift, "d", &Relation { schema: "a".into(), identifier: "ci".into() }, Severity::Warn);
        let baseline: Counts = [("refund".into(), 400.0), ("billing".into(), 400.0)].into();
        let current: Counts = [("refund".into(), 20.0), ("billing".into(), 20.0), ("cancel".into(), 60.0)].into();
        let f = judge(&spec, base.clone(), &baseline, &current);
        assert_eq!((f.status, f.severity), (Status::Fail, Severity::Error), "{f:?}");
        assert!(f.message.contains("shifted") && f.message.contains("cancel 0.062% -> 59.606%"), "{}", f.message);
        let steady: Counts = [("refund".into(), 52.0), ("billing".into(), 48.0)].into();
        assert_eq!(judge(&spec, base, &baseline, &steady).status, Status::Pass);
    }
}
