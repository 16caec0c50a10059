//! Projects written for dbt-core, run unchanged: dbt's keys and another adapter's profile are
//! accepted (with a warning each for what convlytics ignores), and `tests/projects/dbt_utils`,
//! which calls dbt_utils' macros and generic tests, builds on the embedded engine and on
//! PostgreSQL with the same tables, and with the same tables as dbt-core 1.11 with
//! dbt-postgres. dbt_utils is read from `$CONVLYTICS_TEST_DBT_UTILS` or
//! `../shared/third_party/dbt-utils` beside the repository (it is test data, not part of the
//! project); without it those tests say so and do not run.

mod cli;
mod common;
mod dbt;

use std::path::{Path, PathBuf};

/// Where dbt_utils is, if anywhere.
fn dbt_utils() -> Option<PathBuf> {
    let found = std::env::var_os("CONVLYTICS_TEST_DBT_UTILS")
        .map(PathBuf::from)
        .or_else(|| Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/third_party/dbt-utils")))
        .filter(|p| p.join("dbt_project.yml").is_file());
    if found.is_none() {
        eprintln!("note: dbt_utils is not beside the repository (../shared/third_party/dbt-utils); not run");
    }
    found.map(|p| p.canonicalize().expect("dbt_utils path"))
}

/// The fixture project in a temporary directory, with `packages.yml` naming dbt_utils and a
/// profile with the embedded engine (`dev`) and, given a database URL, PostgreSQL outputs for
/// convlytics (`pg`, schema `shop_convlytics`) and for dbt-core (`dbt`, schema `shop_dbt`).
fn project(dbt_utils: &Path, url: Option<&str>) -> tempfile::TempDir {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/dbt_utils");
    let dir = cli::copy_project(&fixture, |top| top != "target");
    let packages = format!("packages:\n  - local: {}\n", dbt_utils.display());
    std::fs::write(dir.path().join("packages.yml"), packages).expect("packages.yml");
    let mut profile = String::from("shop:\n  target: dev\n  outputs:\n    dev:\n      type: embedded\n");
    if let Some(url) = url {
        let env: std::collections::BTreeMap<&str, String> = dbt::libpq_env(url).into_iter().collect();
        for (name, schema) in [("pg", "shop_convlytics"), ("dbt", "shop_dbt")] {
            profile.push_str(&format!(
                "    {name}:\n      type: postgres\n      host: {}\n      port: {}\n      user: {}\n      password: \"{}\"\n      dbname: {}\n      schema: {schema}\n      threads: 1\n",
                env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"], env["PGDATABASE"]
            ));
        }
    }
    std::fs::write(dir.path().join("profiles.yml"), profile).expect("profiles.yml");
    dir
}

/// Each model's rows, every column as text that prints the same on both engines (`shop` is the
/// target's schema, `shop_staging` the staging folder's `+schema`).
const MODELS: [&str; 7] = [
    "select order_key, cast(order_id as varchar), coalesce(cast(customer_id as varchar), '-'),
        cast(cast(round(amount * 100) as bigint) as varchar), cast(cast(ordered_at as date) as varchar)
     from shop.order_keys order by 2, 5",
    "select coalesce(cast(customer_id as varchar), '-'), cast(cast(round(placed * 100) as bigint) as varchar),
        cast(cast(round(shipped * 100) as bigint) as varchar), cast(cast(round(returned * 100) as bigint) as varchar)
     from shop.status_pivot order by 1",
    "select cast(order_id as varchar), cast(cast(ordered_at as date) as varchar) from shop_staging.latest_orders",
    "select cast(cast(date_day as date) as varchar) from shop.calendar order by 1",
    "select cast(o_order_id as varchar), coalesce(cast(o_customer_id as varchar), '-'),
        cast(cast(round(o_amount * 100) as bigint) as varchar), cast(cast(o_ordered_at as date) as varchar)
     from shop.wide",
    "select case when _dbt_source_relation like '%\"customers\"' then 'customers' else 'order_keys' end,
        coalesce(cast(customer_id as varchar), '-'), coalesce(cast(cast(round(amount * 100) as bigint) as varchar), '-')
     from shop.all_people",
    "select coalesce(cast(customer_id as varchar), '-'), cast(placed as varchar), cast(returned as varchar),
        cast(shipped as varchar)
     from shop.status_counts",
];

/// `sql`'s rows on the embedded engine of `project`, as sorted CSV lines without the header.
fn embedded_rows(project: &Path, sql: &str) -> Vec<String> {
    let sql = sql.replace("shop_staging.", "analytics_staging.").replace("shop.", "analytics.");
    let (ok, out, err) = cli::convlytics(project, &["sql", "--format", "csv", &sql]);
    assert!(ok, "{sql}: {out}{err}");
    let mut rows: Vec<String> = out.lines().skip(1).map(str::to_owned).collect();
    rows.sort();
    rows
}

/// `sql`'s rows in `schema` of the database, as sorted CSV lines.
async fn postgres_rows(client: &tokio_postgres::Client, schema: &str, sql: &str) -> Vec<String> {
    let sql = sql.replace("shop_staging.", &format!("{schema}_staging.")).replace("shop.", &format!("{schema}."));
    let rows = client.query(&sql, &[]).await.expect(&sql);
    let mut rows: Vec<String> =
        rows.iter().map(|r| (0..r.len()).map(|i| r.get::<_, String>(i)).collect::<Vec<_>>().join(",")).collect();
    rows.sort();
    rows
}

#[test]
fn a_project_using_dbt_utils_builds_the_same_tables_on_both_engines_and_under_dbt_core() {
    let Some(dbt_utils) = dbt_utils() else { return };
    let url =
        common::postgres_url("a_project_using_dbt_utils_builds_the_same_tables_on_both_engines_and_under_dbt_core");
    let project = project(&dbt_utils, url.as_deref());
    let (ok, out, err) = cli::convlytics(project.path(), &["build"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("2 seeds loaded, 7 models built, 11 tests passed, 0 errors"), "{out}");
    assert!(
        out.contains("PASS  unit  pivot_sums_amounts_by_status") && out.contains("PASS  unit  latest_row_wins"),
        "{out}"
    );
    let embedded: Vec<Vec<String>> = MODELS.iter().map(|sql| embedded_rows(project.path(), sql)).collect();
    let first = "dd56b78777e20754464527f860399711,1,10,2050,2024-01-01";
    assert!(embedded[0].iter().any(|r| r == first), "md5('1-10') keys order 1: {:?}", embedded[0]);
    assert_eq!(embedded[1], ["-,725,0,0", "10,2050,2000,0", "11,0,0,500"], "amounts pivoted by status");
    assert_eq!(
        embedded[2],
        ["1,2024-01-01", "2,2024-01-04", "3,2024-01-05", "4,2024-01-07"],
        "the latest row of each order"
    );
    assert_eq!(embedded[3].len(), 7, "one row a day from 2024-01-01, before 2024-01-08: {:?}", embedded[3]);
    assert_eq!(embedded[4][0], "1,10,2050,2024-01-01", "star: every column but status, prefixed");
    assert_eq!(embedded[5].len(), 7, "union_relations: 2 customers and 5 order keys: {:?}", embedded[5]);
    assert!(embedded[5].contains(&"customers,10,-".to_owned()), "customers have no amount: {:?}", embedded[5]);
    assert_eq!(embedded[6], ["-,1,0,0", "10,1,0,2", "11,0,1,0"], "a column for each status the data has");

    let Some(url) = url else { return };
    // A compile-time query that fails fails its model only, not the run's transaction.
    let bad = "{% set r = run_query('select no_such_column from ' ~ ref('orders')) %}select 1 as one\n";
    std::fs::write(project.path().join("models/bad_query.sql"), bad).expect("model");
    let (ok, out, err) = cli::convlytics(project.path(), &["build", "--target", "pg"]);
    assert!(!ok && out.contains("7 models built, 11 tests passed, 1 errors"), "{out}{err}");
    assert!(out.contains("ERROR table \"shop_convlytics\".\"bad_query\""), "{out}");
    std::fs::remove_file(project.path().join("models/bad_query.sql")).expect("remove");
    let (ok, out, err) = cli::convlytics(project.path(), &["build", "--target", "pg"]);
    assert!(ok, "{out}{err}");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
        tokio::spawn(connection);
        for (sql, expected) in MODELS.iter().zip(&embedded) {
            assert_eq!(
                &postgres_rows(&client, "shop_convlytics", sql).await,
                expected,
                "PostgreSQL built another {sql}"
            );
        }
        if let Some(dbt) = common::required("CONVLYTICS_TEST_DBT", "dbt_utils under dbt-core") {
            dbt::run(&dbt, project.path(), &["deps", "--profiles-dir", "."], &[], "Installed from <local");
            dbt::run(&dbt, project.path(), &["build", "--profiles-dir", ".", "--target", "dbt"], &[], "PASS=22");
            for (sql, expected) in MODELS.iter().zip(&embedded) {
                assert_eq!(&postgres_rows(&client, "shop_dbt", sql).await, expected, "dbt-core built another {sql}");
            }
            client
                .batch_execute("drop schema shop_dbt cascade; drop schema shop_dbt_staging cascade")
                .await
                .expect("clean up dbt");
        }
        client
            .batch_execute("drop schema shop_convlytics cascade; drop schema shop_convlytics_staging cascade")
            .await
            .expect("clean up");
    });
}

#[test]
fn dbt_utils_own_integration_tests_pass_on_postgres() {
    let Some(dbt_utils) = dbt_utils() else { return };
    let Some(url) = common::postgres_url("dbt_utils_own_integration_tests_pass_on_postgres") else { return };
    let project = cli::copy_project(&dbt_utils.join("integration_tests"), |top| top != "target");
    let packages = format!("packages:\n  - local: {}\n", dbt_utils.display());
    std::fs::write(project.path().join("packages.yml"), packages).expect("packages.yml");
    let env: std::collections::BTreeMap<&str, String> = dbt::libpq_env(&url).into_iter().collect();
    let profile = format!(
        "integration_tests:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n      host: {}\n      port: {}\n      user: {}\n      password: \"{}\"\n      dbname: {}\n      schema: dbt_utils_it\n",
        env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"], env["PGDATABASE"]
    );
    std::fs::write(project.path().join("profiles.yml"), profile).expect("profiles.yml");
    let (ok, out, err) = cli::convlytics(project.path(), &["build"]);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
        tokio::spawn(connection);
        let drop = "drop schema if exists dbt_utils_it cascade; drop schema if exists dbt_utils_it_events cascade";
        client.batch_execute(drop).await.expect("clean up");
    });
    assert!(ok, "{out}{err}");
    assert!(out.contains("75 seeds loaded, 50 models built, 109 tests passed, 0 errors, 0 skipped"), "{out}");
}

#[test]
fn a_failing_unit_test_shows_the_difference_and_skips_its_model() {
    let Some(dbt_utils) = dbt_utils() else { return };
    let project = project(&dbt_utils, None);
    let wrong = "unit_tests:\n  - name: wrong_on_purpose\n    model: status_pivot\n    given:\n      - input: ref('orders')\n        rows: [{customer_id: 1, status: placed, amount: 3}]\n    expect:\n      rows: [{customer_id: 1, placed: 4}]\n";
    std::fs::write(project.path().join("models/wrong.yml"), wrong).expect("unit test");
    let (ok, out, err) = cli::convlytics(project.path(), &["build"]);
    assert!(!ok, "{out}{err}");
    assert!(out.contains("FAIL  unit  wrong_on_purpose (status_pivot)\n        (customer_id, placed)\n        + got:      (1, 3)\n        - expected: (1, 4)"), "{out}");
    assert!(out.contains("SKIP  table \"analytics\".\"status_pivot\" (its unit tests failed)"), "{out}");
    let (ok, out, _) = cli::convlytics(project.path(), &["test"]);
    assert!(!ok && out.contains("FAIL  unit  wrong_on_purpose"), "`test` runs unit tests too: {out}");
}

#[test]
fn what_convlytics_cannot_do_while_compiling_fails_saying_so() {
    let Some(dbt_utils) = dbt_utils() else { return };
    let project = project(&dbt_utils, None);
    let model = "{% call statement('drop') %}drop table analytics.orders{% endcall %}select 1 as one\n";
    std::fs::write(project.path().join("models/drops.sql"), model).expect("model");
    let (ok, out, err) = cli::convlytics(project.path(), &["compile"]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("models/drops.sql")
            && err.contains("statement('drop') without fetch_result=True changes the warehouse"),
        "{err}"
    );
    std::fs::write(
        project.path().join("models/drops.sql"),
        "select {{ adapter.get_missing_columns(ref('orders'), ref('customers')) }}\n",
    )
    .expect("model");
    let (ok, out, err) = cli::convlytics(project.path(), &["compile"]);
    assert!(!ok && err.contains("adapter.get_missing_columns() is not supported"), "{out}{err}");
}

#[test]
fn a_project_for_another_adapter_compiles_with_one_warning_per_ignored_key() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/dbt_keys");
    let project = cli::copy_project(&fixture, |top| top != "target");
    let profile = "dbt_keys:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: dbt_keys.duckdb\n      schema: main\n      threads: 4\n";
    std::fs::write(project.path().join("profiles.yml"), profile).expect("profiles.yml");
    let (ok, out, err) = cli::convlytics(project.path(), &["compile"]);
    assert!(ok, "{out}{err}");
    assert_eq!(err.matches("'analysis-paths' is accepted and ignored").count(), 1, "{err}");
    assert_eq!(err.matches("model config 'persist_docs'").count(), 1, "once, though two folders set it: {err}");
    let compiled = std::fs::read_to_string(project.path().join("target/compiled/dbt_keys/models/marts/orders.sql"))
        .expect("compiled");
    assert!(
        compiled.contains("from \"main_staging\".\"stg_orders\""),
        "the duckdb target's schema, with +schema: {compiled}"
    );
    let (ok, out, err) = cli::convlytics(project.path(), &["ls"]);
    assert!(ok && out.contains("stg_orders"), "{out}{err}");
    let (ok, out, err) = cli::convlytics(project.path(), &["run"]);
    assert!(!ok, "{out}");
    assert!(err.contains("target 'dev' is a duckdb target") && err.contains("type: postgres"), "{err}");
}
