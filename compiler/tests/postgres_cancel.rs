//! Behaviour of the extension that a `.slt` file cannot express: a long `stitch_identity` stops
//! when its statement is cancelled, instead of holding the backend until it finishes. Runs when
//! `CONVLYTICS_TEST_PG_URL` names a database with pg_convlytics (required when
//! `CONVLYTICS_REQUIRE_PG=1`).

mod common;

use std::time::{Duration, Instant};

/// Ten blocks of 2,000 records, 20 million pairs compared on each of three passes: tens of
/// seconds if nothing stops it.
const LONG_STITCH: &str = r#"select count(*) from convlytics.stitch_identity(
    $q$select g::text as record_id, (g % 10)::text as state, md5(g::text) as surname
       from generate_series(1, 20000) g$q$,
    '{"blocking": [["state"]], "term_frequency": []}')"#;

#[tokio::test]
async fn a_statement_timeout_stops_stitch_identity() {
    let Some(url) = common::postgres_url("a_statement_timeout_stops_stitch_identity") else { return };
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    client.batch_execute("set statement_timeout = '1s'").await.expect("timeout");
    let started = Instant::now();
    let error = client.query(LONG_STITCH, &[]).await.expect_err("the timeout cancels the statement");
    let elapsed = started.elapsed();
    let message = error.as_db_error().map(|e| e.message().to_owned()).unwrap_or_else(|| error.to_string());
    assert!(message.contains("canceling statement due to statement timeout"), "{message}");
    assert!(elapsed < Duration::from_secs(10), "cancelled only after {elapsed:?}");
    client.batch_execute("reset statement_timeout").await.expect("reset");
    let alive = client.query_one("select 1", &[]).await.expect("the backend still serves queries");
    assert_eq!(alive.get::<_, i32>(0), 1);
}
