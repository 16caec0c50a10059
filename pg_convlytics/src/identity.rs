//! The identity functions: `conversation_id(source, source_id)`, `normalize_identifier(kind,
//! value [, region])`, and `stitch_identity(query [, settings])`, the same table function as on
//! DataFusion.
//!
//! `stitch_identity`'s query runs through SPI in the caller's transaction and privileges; every
//! column is read as its text form, so any column types work.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use convlytics_core::identity::{stitch_until, QueryRecords, RecordSet, Settings, Stitched};
use pgrx::prelude::*;

use crate::error::{check, interrupt_pending, raise};
use crate::text::Text;

/// The canonical UUIDv5 of a conversation from its source system and that system's id.
#[pg_extern(immutable, parallel_safe, strict)]
fn conversation_id(source: Text<'_>, source_id: Text<'_>) -> pgrx::Uuid {
    let source = source.get("conversation_id", "source");
    let source_id = source_id.get("conversation_id", "source_id");
    pgrx::Uuid::from_bytes(*convlytics_core::conversation_id(source, source_id).as_bytes())
}

/// The canonical form of an email, phone number (E.164), id or name; NULL when invalid.
#[pg_extern(immutable, parallel_safe, strict, name = "normalize_identifier")]
fn normalize_identifier(kind: Text<'_>, value: Text<'_>) -> Option<String> {
    let kind = kind.get("normalize_identifier", "kind");
    let value = value.get("normalize_identifier", "value");
    normalize(kind, value, None)
}

/// As `normalize_identifier(kind, value)`, reading national phone numbers in `region`.
#[pg_extern(immutable, parallel_safe, strict, name = "normalize_identifier")]
fn normalize_identifier_in_region(kind: Text<'_>, value: Text<'_>, region: Text<'_>) -> Option<String> {
    let kind = kind.get("normalize_identifier", "kind");
    let value = value.get("normalize_identifier", "value");
    let region = region.get("normalize_identifier", "region");
    normalize(kind, value, Some(region))
}

fn normalize(kind: &str, value: &str, region: Option<&str>) -> Option<String> {
    check("normalize_identifier", convlytics_core::identity::normalize_identifier_text(kind, value, region))
}

/// record_id, cluster_key, linked_to, rule, match_weight, match_probability.
type Row = (String, String, Option<String>, Option<String>, Option<f64>, Option<f64>);

/// One row per record of `query` (which returns `record_id` and attribute columns): its cluster,
/// and the link that placed it there. `settings` is JSON; empty means the defaults.
// pgrx reads the output column names from the name!() tuple, so it must be written inline.
#[allow(clippy::type_complexity)]
#[pg_extern(volatile, parallel_unsafe, strict)]
fn stitch_identity(
    query: Text<'_>,
    settings: default!(Text<'_>, "''"),
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
    let query = query.get("stitch_identity", "query");
    let settings = settings.get("stitch_identity", "settings");
    let settings = check(NAME, Settings::from_json(settings));
    let records = read(query.trim().trim_end_matches(';'));
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
        if interrupt_pending() {
            cancel.store(true, Ordering::Relaxed);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let (records, stitched) = worker.join().unwrap_or_else(|_| error!("{NAME}: the computation panicked"));
    check_for_interrupts!();
    match stitched {
        Ok(stitched) => (records, stitched),
        Err(e) => raise(NAME, e),
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The query's rows as records, every column cast to text. A bad query is PostgreSQL's own
/// error; records that cannot be stitched are raised with their SQLSTATE.
fn read(query: &str) -> RecordSet {
    let spi = |e: pgrx::spi::SpiError| -> ! { error!("{NAME}: {e}") };
    Spi::connect(|client| {
        let probe = client.select(&format!("select * from ({query}) q limit 0"), None, &[]).unwrap_or_else(|e| spi(e));
        let count = probe.columns().unwrap_or_else(|e| spi(e));
        let names = (1..=count).map(|i| probe.column_name(i)).collect::<Result<Vec<_>, _>>().unwrap_or_else(|e| spi(e));
        let mut records = check(NAME, QueryRecords::new(&names));
        let columns: Vec<String> = names.iter().map(|n| format!("q.{}::text", quote_ident(n))).collect();
        let table = client
            .select(&format!("select {} from ({query}) q", columns.join(", ")), None, &[])
            .unwrap_or_else(|e| spi(e));
        for row in table {
            let values =
                (1..=count).map(|i| row.get::<String>(i)).collect::<Result<Vec<_>, _>>().unwrap_or_else(|e| spi(e));
            let values: Vec<Option<&str>> = values.iter().map(Option::as_deref).collect();
            check(NAME, records.push(&values));
        }
        records.finish()
    })
}

const NAME: &str = "stitch_identity";
