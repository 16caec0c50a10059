//! Metrics compared with their own history: volume, null rate, distinct count, text length and
//! the share of rows meeting a condition, a day at a time per dimension; and freshness.
//!
//! Each metric is a daily numerator and denominator. The detection window's value (its mean
//! daily count, or its pooled share or mean length) passes when it is within the range
//! [`stats::expected_range`] draws from the training window's daily values.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use super::{at, day_of, last_day, num, stats, timestamp_of, Check, Days, Finding, MonitorSpec, Status};
use crate::engine::Engine;
use crate::error::Result;
use crate::render::{quote_ident, Relation};

/// One metric of a monitor: its column, the row-level expression and the aggregate of it.
struct Metric {
    column: Option<String>,
    /// The numerator's aggregate of `m{i}`, and the denominator's.
    aggregate: (String, String),
    row: String,
}

/// A metric's row-level expression and its (numerator, denominator) aggregates.
type Parts = (String, (String, String));

/// The metrics `spec` measures, each over columns `m{i}` of the inner query.
fn metrics(spec: &MonitorSpec) -> Vec<Metric> {
    let text = |c: &str| format!("cast({} as varchar)", quote_ident(c));
    let each = |f: &dyn Fn(usize, &str) -> Parts| -> Vec<Metric> {
        spec.columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (row, aggregate) = f(i, c);
                Metric { column: Some(c.clone()), aggregate, row }
            })
            .collect()
    };
    match spec.check {
        Check::Volume => {
            vec![Metric { column: None, aggregate: ("count(*)".into(), "count(*)".into()), row: "1".into() }]
        }
        Check::NullRate => each(&|i, c| {
            let col = quote_ident(c);
            (
                format!("case when {col} is null or {} = '' then 1 else 0 end", text(c)),
                (format!("sum(m{i})"), "count(*)".into()),
            )
        }),
        Check::Distinct => each(&|i, c| (text(c), (format!("count(distinct m{i})"), "count(*)".into()))),
        Check::TextLength => {
            each(&|i, c| (format!("length({})", text(c)), (format!("sum(m{i})"), format!("count(m{i})"))))
        }
        Check::Share => vec![Metric {
            column: None,
            aggregate: ("sum(m0)".into(), "count(*)".into()),
            row: format!("case when ({}) then 1 else 0 end", spec.condition.as_deref().unwrap_or("false")),
        }],
        _ => Vec::new(),
    }
}

/// Whether the metric is a count a day (volume, distinct) rather than a share or mean.
fn is_count(check: Check) -> bool {
    matches!(check, Check::Volume | Check::Distinct)
}

/// Runs a `volume`, `null_rate`, `distinct`, `text_length` or `share` monitor.
pub async fn check(engine: &Engine, spec: &MonitorSpec, name: &str, relation: &Relation) -> Vec<Finding> {
    let base = Finding::new(spec.check, name, relation, spec.severity());
    match measure(engine, spec, relation).await {
        Ok(Some((days, series))) => judge(spec, &base, &days, &series),
        Ok(None) => {
            let mut f = base;
            f.status = Status::Skipped;
            f.message = "no rows with a timestamp yet".into();
            vec![f]
        }
        Err(e) => vec![super::failed(base, &e)],
    }
}

/// Daily (numerator, denominator) per metric index and dimension values.
type Series = BTreeMap<(usize, Vec<String>), BTreeMap<NaiveDate, (f64, f64)>>;

async fn measure(engine: &Engine, spec: &MonitorSpec, relation: &Relation) -> Result<Option<(Days, Series)>> {
    let ts = spec.timestamp.as_deref().unwrap_or_default();
    let Some(last) = last_day(engine, relation, ts).await? else { return Ok(None) };
    let days = spec.window().days(last);
    let metrics = metrics(spec);
    let dims: Vec<String> = spec
        .dimensions
        .iter()
        .enumerate()
        .map(|(i, d)| format!("coalesce(cast({} as varchar), '(null)') as d{i}", quote_ident(d)))
        .collect();
    let dim_names: Vec<String> = (0..spec.dimensions.len()).map(|i| format!("d{i}")).collect();
    let rows_cols: Vec<String> = metrics.iter().enumerate().map(|(i, m)| format!("{} as m{i}", m.row)).collect();
    let aggs: Vec<String> = metrics
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{} as n{i}, {} as t{i}", m.aggregate.0, m.aggregate.1))
        .collect();
    let stamp = timestamp_of(ts);
    let inner = format!(
        "select cast({} as varchar) as day{}{}, {} from {relation} where {}",
        day_of(&stamp),
        if dims.is_empty() { "" } else { ", " },
        dims.join(", "),
        rows_cols.join(", "),
        days.within(&stamp),
    );
    let group: Vec<&str> = std::iter::once("day").chain(dim_names.iter().map(String::as_str)).collect();
    let sql =
        format!("select {}, {} from ({inner}) as __m group by {}", group.join(", "), aggs.join(", "), group.join(", "));
    let rows = engine.rows(&sql, &format!("monitor {} of {relation}", spec.check.as_str())).await?;
    let mut series = Series::new();
    let n_dims = spec.dimensions.len();
    for row in rows {
        let Some(day) =
            row[0].as_deref().and_then(|d| NaiveDate::parse_from_str(&d[..d.len().min(10)], "%Y-%m-%d").ok())
        else {
            continue;
        };
        let dims: Vec<String> = row[1..=n_dims].iter().map(|v| v.clone().unwrap_or_default()).collect();
        for i in 0..metrics.len() {
            let value =
                |k: usize| row[1 + n_dims + 2 * i + k].as_deref().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            series.entry((i, dims.clone())).or_default().insert(day, (value(0), value(1)));
        }
    }
    Ok(Some((days, series)))
}

/// Judges each metric and dimension's detection window against its training window.
fn judge(spec: &MonitorSpec, base: &Finding, days: &Days, series: &Series) -> Vec<Finding> {
    let metrics = metrics(spec);
    let window = spec.window();
    let count = is_count(spec.check);
    let mut out = Vec::new();
    for ((i, dims), daily) in series {
        let mut f = base.clone();
        f.column = metrics[*i].column.clone();
        f.period = Some(days.period());
        if !dims.is_empty() {
            let pairs: Vec<String> = spec.dimensions.iter().zip(dims).map(|(d, v)| format!("{d}={v}")).collect();
            f.dimension = Some(pairs.join(", "));
        }
        let (training, detection): (Vec<NaiveDate>, Vec<NaiveDate>) = (0..)
            .map(|k| days.training_start + Duration::days(k))
            .take_while(|d| *d <= days.last)
            .partition(|d| *d < days.detection_start);
        // A count is 0 on a day without rows; a share or mean has no value then.
        let daily_value = |d: &NaiveDate| match daily.get(d) {
            Some((n, den)) if count => Some(*n).filter(|_| *den >= 0.0),
            Some((n, den)) if *den > 0.0 => Some(n / den),
            _ if count => Some(0.0),
            _ => None,
        };
        let history: Vec<f64> = training.iter().filter_map(daily_value).collect();
        let (num_sum, den_sum) =
            detection.iter().filter_map(|d| daily.get(d)).fold((0.0, 0.0), |a, v| (a.0 + v.0, a.1 + v.1));
        let value = if count {
            Some(detection.iter().filter_map(daily_value).sum::<f64>() / detection.len() as f64)
        } else if den_sum > 0.0 {
            Some(num_sum / den_sum)
        } else {
            None
        };
        let Some(value) = value else {
            f.status = Status::Skipped;
            f.message = "no rows in the detection window".into();
            out.push(f);
            continue;
        };
        f.value = Some(value);
        let median = if history.is_empty() { 0.0 } else { stats::median(&history) };
        let typical_den = {
            let dens: Vec<f64> =
                training.iter().filter_map(|d| daily.get(d)).map(|v| v.1).filter(|v| *v > 0.0).collect();
            if dens.is_empty() {
                0.0
            } else {
                stats::median(&dens)
            }
        };
        let noise = match spec.check {
            Check::Volume | Check::Distinct => median.max(1.0).sqrt(),
            Check::NullRate | Check::Share => stats::share_noise(median, typical_den),
            _ => 0.02 * median.abs(),
        };
        let range = stats::expected_range(
            &history,
            detection.len(),
            spec.sensitivity(),
            noise,
            window.min_training_days as usize,
        );
        let what = describe(spec.check, value, f.column.as_deref());
        match range {
            None => {
                f.status = Status::Skipped;
                f.message = format!(
                    "{what}; {} of {} training days have data, too few to judge",
                    history.len(),
                    training.len()
                );
            }
            Some((low, high)) => {
                let (low, high) = clamp(spec.check, low, high);
                f.expected_low = Some(low);
                f.expected_high = Some(high);
                let inside = value >= low - 1e-9 && value <= high + 1e-9;
                f.status = if inside { Status::Pass } else { Status::Fail };
                f.message = format!(
                    "{what}, expected {} to {} (training median {} over {} days)",
                    num(low),
                    num(high),
                    num(median),
                    history.len()
                );
            }
        }
        out.push(f);
    }
    out
}

/// Counts and lengths are never negative and shares never above 1.
fn clamp(check: Check, low: f64, high: f64) -> (f64, f64) {
    match check {
        Check::NullRate | Check::Share => (low.clamp(0.0, 1.0), high.clamp(0.0, 1.0)),
        _ => (low.max(0.0), high.max(0.0)),
    }
}

/// What the detection window's value means, in words.
fn describe(check: Check, value: f64, column: Option<&str>) -> String {
    match check {
        Check::Volume => format!("{} rows a day", num(value)),
        Check::NullRate => format!("{}% of rows lack {}", num(100.0 * value), column.unwrap_or_default()),
        Check::Distinct => format!("{} distinct {} a day", num(value), column.unwrap_or_default()),
        Check::TextLength => format!("{} characters on average in {}", num(value), column.unwrap_or_default()),
        _ => format!("{}% of rows match", num(100.0 * value)),
    }
}

/// A `freshness` monitor: the hours since the newest row, at `now`, against twice the longest
/// gap between consecutive rows in the training window (at least an hour).
pub async fn freshness(
    engine: &Engine,
    spec: &MonitorSpec,
    name: &str,
    relation: &Relation,
    now: chrono::DateTime<chrono::Utc>,
) -> Finding {
    let mut f = Finding::new(Check::Freshness, name, relation, spec.severity());
    let ts = spec.timestamp.as_deref().unwrap_or_default();
    let outcome: Result<Option<(f64, Option<f64>)>> = async {
        let Some(last) = last_day(engine, relation, ts).await? else { return Ok(None) };
        let days = spec.window().days(last);
        let stamp = timestamp_of(ts);
        let epoch = format!("extract(epoch from {stamp})");
        let newest = engine.scalar(&format!("select max({epoch}) from {relation}"), "freshness").await?;
        let gap_sql = format!(
            "select max(e - p) from (select e, lag(e) over (order by e) as p from \
             (select {epoch} as e from {relation} where {stamp} >= {} and {stamp} < {}) as __t) as __g",
            at(days.training_start),
            at(days.detection_start)
        );
        let gap = engine.scalar(&gap_sql, "freshness").await?;
        Ok(newest.map(|n| (n, gap)))
    }
    .await;
    match outcome {
        Err(e) => super::failed(f, &e),
        Ok(None) => {
            f.status = Status::Skipped;
            f.message = "no rows with a timestamp yet".into();
            f
        }
        Ok(Some((newest, gap))) => {
            let age = ((now.timestamp() as f64 - newest) / 3600.0).max(0.0);
            f.value = Some(age);
            f.period = Some(format!("as of {}", now.format("%Y-%m-%dT%H:%MZ")));
            let Some(gap) = gap else {
                f.status = Status::Skipped;
                f.message =
                    format!("newest row {} hours old; the training window has no two rows to judge it by", num(age));
                return f;
            };
            let high = (2.0 * gap / 3600.0).max(1.0);
            f.expected_low = Some(0.0);
            f.expected_high = Some(high);
            f.status = if age <= high { Status::Pass } else { Status::Fail };
            f.message = format!(
                "newest row {} hours old, expected at most {} (twice the longest gap in the training window)",
                num(age),
                num(high)
            );
            f
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::Severity;

    fn spec(yaml: &str) -> MonitorSpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, 1).unwrap() + Duration::days(i64::from(d))
    }

    #[test]
    fn a_collapsed_dimension_fails_and_a_steady_one_passes() {
        let spec = spec("{check: volume, relation: r, timestamp: t, dimensions: [channel]}");
        let days = spec.window().days(day(34));
        let mut series = Series::new();
        for d in 0..=34 {
            let chat = if d >= 28 { 2.0 } else { 30.0 + f64::from(d % 5) };
            series.entry((0, vec!["chat".into()])).or_default().insert(day(d), (chat, chat));
            series.entry((0, vec!["email".into()])).or_default().insert(day(d), (20.0 + f64::from(d % 3), 1.0));
        }
        let base = Finding::new(
            Check::Volume,
            "v",
            &Relation { schema: "raw".into(), identifier: "r".into() },
            Severity::Warn,
        );
        let out = judge(&spec, &base, &days, &series);
        let by: BTreeMap<_, _> = out.iter().map(|f| (f.dimension.clone().unwrap(), f)).collect();
        assert_eq!(by["channel=chat"].status, Status::Fail, "{:?}", by["channel=chat"]);
        assert!(by["channel=chat"].message.starts_with("2 rows a day, expected"), "{}", by["channel=chat"].message);
        assert_eq!(by["channel=email"].status, Status::Pass, "{:?}", by["channel=email"]);
        assert_eq!(by["channel=email"].period.as_deref(), Some("2026-10-29..2026-11-04"));
    }

    #[test]
    fn a_share_that_jumps_fails_and_missing_history_skips() {
        let spec = spec("{check: null_rate, relation: r, timestamp: t, columns: [campaign]}");
        let days = spec.window().days(day(34));
        let mut series = Series::new();
        for d in 0..=34 {
            let nulls = if d >= 28 { 40.0 } else { f64::from(d % 2) };
            series.entry((0, vec![])).or_default().insert(day(d), (nulls, 100.0));
        }
        let base = Finding::new(
            Check::NullRate,
            "n",
            &Relation { schema: "raw".into(), identifier: "r".into() },
            Severity::Warn,
        );
        let out = judge(&spec, &base, &days, &series);
        assert_eq!(out[0].status, Status::Fail);
        assert!(out[0].message.starts_with("40% of rows lack campaign"), "{}", out[0].message);
        let short: Series = series
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().filter(|(d, _)| **d >= day(25)).map(|(d, x)| (*d, *x)).collect()))
            .collect();
        let out = judge(&spec, &base, &days, &short);
        assert_eq!(out[0].status, Status::Skipped, "{:?}", out[0]);
    }
}
