//! End-to-end: seeds, macros, ephemeral and incremental models and data tests of the
//! `inputs/macros_materializations` project through the CLI, on the embedded engine and, when
//! `CONVLYTICS_TEST_PG_URL` is set, on PostgreSQL; both must give the same rows.

mod cli;
mod common;

use std::path::Path;

/// A copy of an `inputs/` project in a temporary directory.
fn fixture(name: &str) -> tempfile::TempDir {
    cli::copy_project(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs").join(name), |_| true)
}

/// Runs the CLI: success, and stdout followed by stderr.
fn convlytics(dir: &Path, args: &[impl AsRef<std::ffi::OsStr>]) -> (bool, String) {
    let (ok, out, err) = cli::convlytics(dir, args);
    (ok, out + &err)
}

fn add_payment(dir: &Path) {
    let seed = dir.join("seeds/payments.csv");
    let mut text = std::fs::read_to_string(&seed).expect("seed");
    text.push_str("4,1.99,paid,2024-01-04T09:00:00Z\n");
    std::fs::write(&seed, text).expect("write seed");
}

/// Builds, adds a payment, runs again incrementally; returns the incremental model and revenue
/// after each step, read with `query`.
async fn scenario(dir: &Path, extra: &[&str], query: impl AsyncQuery) -> Vec<Vec<String>> {
    let with = |args: &[&'static str]| -> Vec<String> { args.iter().chain(extra).map(|a| a.to_string()).collect() };
    let (ok, out) = convlytics(dir, &with(&["build"]));
    assert!(ok, "{out}");
    assert!(out.contains("OK    seed  \"") && out.contains("PASS  test "), "{out}");
    let mut seen = vec![query.rows("payments_incremental").await, query.rows("revenue").await];
    add_payment(dir);
    let (ok, out) = convlytics(dir, &with(&["seed"]));
    assert!(ok, "{out}");
    let (ok, out) = convlytics(dir, &with(&["run", "-s", "payments_incremental+"]));
    assert!(ok, "{out}");
    assert!(out.contains("OK    incremental"), "{out}");
    seen.push(query.rows("payments_incremental").await);
    let (ok, out) = convlytics(dir, &with(&["run", "--full-refresh", "-s", "payments_incremental"]));
    assert!(ok, "{out}");
    seen.push(query.rows("payments_incremental").await);
    seen.into_iter().flatten().collect()
}

/// Reads a relation's rows, ordered, as text from one engine.
trait AsyncQuery {
    async fn rows(&self, table: &str) -> Vec<Vec<String>>;
}

struct Embedded<'a>(&'a Path);

impl AsyncQuery for Embedded<'_> {
    async fn rows(&self, table: &str) -> Vec<Vec<String>> {
        let (ok, out) =
            convlytics(self.0, &["sql", "--format", "csv", &format!("select * from analytics.{table} order by 1")]);
        assert!(ok, "{out}");
        out.lines().skip(1).map(|l| l.split(',').map(str::to_owned).collect()).collect()
    }
}

struct Postgres(tokio_postgres::Client);

impl AsyncQuery for Postgres {
    async fn rows(&self, table: &str) -> Vec<Vec<String>> {
        let sql = format!("select (t.*)::text from mat_test.{table} as t order by 1");
        let rows = self.0.query(&sql, &[]).await.expect(&sql);
        rows.iter()
            .map(|r| r.get::<_, String>(0).trim_matches(['(', ')']).split(',').map(str::to_owned).collect())
            .collect()
    }
}

#[tokio::test]
async fn seeds_incremental_and_ephemeral_models_on_both_engines() {
    let dir = fixture("macros_materializations");
    let embedded = scenario(dir.path(), &[], Embedded(dir.path())).await;
    let rows =
        |r: &[&[&str]]| r.iter().map(|row| row.iter().map(|c| c.to_string()).collect()).collect::<Vec<Vec<String>>>();
    let expected = [
        rows(&[&["1", "1050"], &["3", "725"]]),
        rows(&[&["2", "1775"]]),
        rows(&[&["1", "1050"], &["3", "725"], &["4", "199"]]),
        rows(&[&["1", "1050"], &["3", "725"], &["4", "199"]]),
    ]
    .concat();
    assert_eq!(embedded, expected);

    let Some(url) = common::postgres_url("seeds_incremental_and_ephemeral_models_on_both_engines") else { return };
    let dir = fixture("macros_materializations");
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    client.batch_execute("drop schema if exists mat_test cascade").await.expect("clean");
    let profile = "shop:\n  target: pg\n  outputs:\n    pg: {type: postgres, schema: mat_test}\n";
    std::fs::write(dir.path().join("profiles.yml"), profile).expect("profile");
    let postgres = scenario(dir.path(), &["--target-url", &url], Postgres(client)).await;
    assert_eq!(postgres, expected);
}

#[test]
fn build_skips_what_reads_a_model_whose_test_fails() {
    let dir = fixture("data_tests");
    std::fs::write(dir.path().join("models/users.sql"), "select 'u1' as user_id union all select 'u1'").expect("write");
    std::fs::write(dir.path().join("models/active.sql"), "select * from {{ ref('users') }}").expect("write");
    let (ok, out) = convlytics(dir.path(), &["build"]);
    assert!(!ok, "{out}");
    assert!(out.contains("FAIL  test  unique_users_user_id [1 failing row(s)"), "{out}");
    assert!(out.contains("SKIP  view  \"analytics\".\"active\" (upstream users failed)"), "{out}");
    assert!(out.contains("PASS  test  taxonomy_labels_intents_intent"), "{out}");
    let (ok, out) = convlytics(dir.path(), &["ls", "-s", "+active", "--resource-type", "model"]);
    assert!(ok, "{out}");
    assert_eq!(out, "users\nactive\n");
    let (ok, out) = convlytics(dir.path(), &["ls", "-s", "not_null_intents_id", "--resource-type", "test"]);
    assert!(ok, "{out}");
    assert_eq!(out, "not_null_intents_id\n");
    let results = std::fs::read_to_string(dir.path().join("target/run_results.json")).expect("results");
    assert!(results.contains("\"status\": \"fail\"") && results.contains("\"failures\": 1"), "{results}");
}
