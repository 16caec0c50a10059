//! `convlytics.stitch_identity(query, settings)`: the same table function as on DataFusion.
//!
//! The query runs through SPI in the caller's transaction and privileges; every column is read
//! as its text form, so any column types work.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use convlytics_core::identity::{stitch_until, QueryRecords, RecordSet, Settings, Stitched};
use pgrx::prelude::*;

/// record_id, cluster_key, linked_to, rule, match_weight, match_probability.
type Row = (String, String, Option<String>, Option<String>, Option<f64>, Option<f64>);

/// One row per record of `query` (which returns `record_id` and attribute columns): its cluster,
/// and the link that placed it there. `settings` is JSON; empty means the defaults.
// pgrx reads the output column names from the name!() tuple, so it must be written inline.
#[allow(clippy::type_complexity)]
#[pg_extern(volatile, parallel_unsafe, strict)]
pub fn stitch_identity(
    query: &str,
    settings: default!(&str, "''"),
) -> TableIterator<
    'static,
    (
        name!(record_id, String),
        name!(cluster_key, String),
        name!(linked_to, Option<String>),
        name!(rule, Option<String>),
        name!(match_weight, Option<f64>),
        name!(match_probability, Option<f64>),
    ),
> {
    let settings = Settings::from_json(settings).unwrap_or_else(|e| error!("stitch_identity: {e}"));
    let records = read(query.trim().trim_end_matches(';')).unwrap_or_else(|e| error!("stitch_identity: {e}"));
    let (records, stitched) = stitch_interruptibly(records, settings);
    let stats = &stitched.stats;
    if stats.oversized_groups > 0 {
        notice!(
            "stitch_identity: {} blocks over max_block_size ({} records) were skipped; raise max_block_size or use narrower blocking rules",
            stats.oversized_groups,
            stats.oversized_records
        );
    }
    let rows: Vec<Row> = stitched
        .assignments
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let linked_to = a.linked_to.map(|r| records.id(r).to_string());
            (records.id(i).to_string(), a.cluster_key, linked_to, a.rule, a.match_weight, a.match_probability)
        })
        .collect();
    TableIterator::new(rows)
}

/// Stitches on a worker thread (which never calls into PostgreSQL) while this backend thread
/// watches for a cancel or terminate request; one stops the worker within a few milliseconds
/// and is then raised as PostgreSQL's own error.
fn stitch_interruptibly(records: RecordSet, settings: Settings) -> (RecordSet, Stitched) {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let worker = std::thread::spawn(move || {
        let stitched = stitch_until(&records, &settings, &flag);
        (records, stitched)
    });
    while !worker.is_finished() {
        // SAFETY: plain reads of the sig_atomic_t flags PostgreSQL's signal handlers set.
        let pending = unsafe {
            std::ptr::addr_of!(pg_sys::QueryCancelPending).read_volatile() != 0
                || std::ptr::addr_of!(pg_sys::ProcDiePending).read_volatile() != 0
        };
        if pending {
            cancel.store(true, Ordering::Relaxed);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let (records, stitched) = worker.join().unwrap_or_else(|_| error!("stitch_identity: the computation panicked"));
    check_for_interrupts!();
    match stitched {
        Ok(stitched) => (records, stitched),
        Err(e) => error!("stitch_identity: {e}"),
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The query's rows as records, every column cast to text.
fn read(query: &str) -> Result<RecordSet, String> {
    Spi::connect(|client| {
        let probe =
            client.select(&format!("select * from ({query}) q limit 0"), None, &[]).map_err(|e| e.to_string())?;
        let count = probe.columns().map_err(|e| e.to_string())?;
        let names =
            (1..=count).map(|i| probe.column_name(i)).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
        let mut records = QueryRecords::new(&names).map_err(|e| e.to_string())?;
        let columns: Vec<String> = names.iter().map(|n| format!("q.{}::text", quote_ident(n))).collect();
        let table = client
            .select(&format!("select {} from ({query}) q", columns.join(", ")), None, &[])
            .map_err(|e| e.to_string())?;
        for row in table {
            let values =
                (1..=count).map(|i| row.get::<String>(i)).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
            let values: Vec<Option<&str>> = values.iter().map(Option::as_deref).collect();
            records.push(&values).map_err(|e| e.to_string())?;
        }
        Ok(records.finish())
    })
}
