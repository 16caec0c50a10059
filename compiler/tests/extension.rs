//! Behaviour of the extension that a `.slt` file cannot express, through a real client
//! connection: a long `stitch_identity` stops when its statement is cancelled; a user's mistake
//! comes back with its SQLSTATE; a database on 0.1.0 upgrades to this version with `ALTER
//! EXTENSION pg_convlytics UPDATE` and then has exactly the functions of a fresh install, its
//! registered taxonomies kept. Runs when `CONVLYTICS_TEST_PG_URL` names a database with
//! pg_convlytics (required when `CONVLYTICS_REQUIRE_PG=1`); the upgrade needs the 0.1.0 script
//! installed beside the current one (`scripts/test.sh` copies `pg_convlytics/sql/*.sql`).

mod common;

use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls};

async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(conn);
    client
}

/// Ten blocks of 2,000 records, 20 million pairs compared on each of three passes: tens of
/// seconds if nothing stops it.
const LONG_STITCH: &str = r#"select count(*) from convlytics.stitch_identity(
    $q$select g::text as record_id, (g % 10)::text as state, md5(g::text) as surname
       from generate_series(1, 20000) g$q$,
    '{"blocking": [["state"]], "term_frequency": []}')"#;

#[tokio::test]
async fn a_statement_timeout_stops_stitch_identity() {
    let Some(url) = common::postgres_url("a_statement_timeout_stops_stitch_identity") else { return };
    let client = connect(&url).await;
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

/// Each statement with the SQLSTATE its mistake must come back with.
const MISTAKES: &[(&str, &str)] = &[
    (r#"select convlytics.redact_pii('hi', '{"threshold": 2}')"#, "22023"),
    (r#"select convlytics.redact_pii('hi', '{"threshold": ')"#, "22P02"),
    ("select convlytics.classify_intent('hi', 'no_such_taxonomy')", "42704"),
    ("select convlytics.normalize_identifier('passport', 'x')", "22023"),
    ("select convlytics.normalize_identifier('phone', '020 7946 0018', 'XX')", "22023"),
    ("select convlytics.summarize('hi', 0)", "22023"),
    ("select convlytics.resolution_status(array['customer'], array['a', 'b'])", "22023"),
    (r#"select * from convlytics.parse_transcript('Agent: hi', 'plain', '{"silence_ms": -5}')"#, "22023"),
    ("select * from convlytics.stitch_identity('select 1 as id')", "42703"),
    ("select * from convlytics.stitch_identity('select null::text as record_id')", "22004"),
    ("select * from convlytics.stitch_identity('select ''1'' as record_id union all select ''1''')", "23505"),
    ("select * from convlytics.register_taxonomy('{name: t, intents: []}')", "22023"),
    (r#"select * from convlytics.register_taxonomy('{name: t, intents: [{name: a, patterns: ["("]}]}')"#, "22023"),
    (
        r#"select convlytics.redact_pii('a@b.co', '{"operators": {"EMAIL_ADDRESS": "hash"}, "key_env": "CONVLYTICS_NO_SUCH_KEY"}')"#,
        "55000",
    ),
];

#[tokio::test]
async fn mistakes_come_back_with_their_sqlstate() {
    let Some(url) = common::postgres_url("mistakes_come_back_with_their_sqlstate") else { return };
    let client = connect(&url).await;
    for (sql, expected) in MISTAKES {
        let error = client.simple_query(sql).await.expect_err(sql);
        let db = error.as_db_error().unwrap_or_else(|| panic!("{sql}: {error}"));
        assert_eq!(db.code().code(), *expected, "{sql}: {}", db.message());
    }
    let alive = client.query_one("select 1", &[]).await.expect("the session survives every mistake");
    assert_eq!(alive.get::<_, i32>(0), 1);
}

/// A database created beside the test database on the same server, and dropped after.
struct Scratch {
    admin: Client,
    name: String,
    url: String,
}

impl Scratch {
    async fn new(url: &str, purpose: &str) -> Self {
        let admin = connect(url).await;
        let name = format!("convlytics_{purpose}_{}", std::process::id());
        admin.batch_execute(&format!("drop database if exists {name}")).await.expect("drop");
        admin.batch_execute(&format!("create database {name}")).await.expect("create database");
        let (base, _) = url.rsplit_once('/').expect("a URL with a database");
        Self { admin, url: format!("{base}/{name}"), name }
    }

    async fn remove(self) {
        let _ = self.admin.batch_execute(&format!("drop database if exists {} with (force)", self.name)).await;
    }
}

/// Every function of the extension, one line each: name, arguments, result, volatility,
/// parallel safety, strictness and the entry point it calls.
const FUNCTIONS: &str = "select string_agg(concat_ws(' | ', p.proname, pg_get_function_arguments(p.oid),
       pg_get_function_result(p.oid), p.provolatile, p.proparallel, p.proisstrict, p.prosrc, p.probin), E'\\n'
       order by p.proname, pg_get_function_arguments(p.oid))
  from pg_proc p join pg_depend d on d.objid = p.oid and d.classid = 'pg_proc'::regclass and d.deptype = 'e'
  join pg_extension e on e.oid = d.refobjid where e.extname = 'pg_convlytics'";

async fn one(client: &Client, sql: &str) -> String {
    client.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

#[tokio::test]
async fn a_database_on_0_1_0_upgrades_to_this_version() {
    let Some(url) = common::postgres_url("a_database_on_0_1_0_upgrades_to_this_version") else { return };
    let (old, fresh) = (Scratch::new(&url, "upgrade").await, Scratch::new(&url, "fresh").await);
    let upgraded = connect(&old.url).await;
    upgraded
        .batch_execute(
            "create extension pg_convlytics version '0.1.0';
             select * from convlytics.register_taxonomy('{name: kept, intents: [{name: late, keywords: [late]}]}');",
        )
        .await
        .expect("install 0.1.0 and register a taxonomy");
    // Until it is updated, a database on 0.1.0 gets 0.1.0's answers from this library.
    let old_tones = one(&upgraded, "select convlytics.tones('late again')").await;
    assert!(old_tones.starts_with("{\"frustration\":"), "{old_tones}");
    let before = one(&upgraded, "select version from convlytics.taxonomies where name = 'kept'").await;
    upgraded.batch_execute("alter extension pg_convlytics update").await.expect("update");
    let version = one(&upgraded, "select extversion from pg_extension where extname = 'pg_convlytics'").await;
    assert_eq!(version, env!("CARGO_PKG_VERSION"));

    let installed = connect(&fresh.url).await;
    installed.batch_execute("create extension pg_convlytics").await.expect("fresh install");
    assert_eq!(one(&upgraded, FUNCTIONS).await, one(&installed, FUNCTIONS).await, "upgraded vs fresh install");

    let kept = one(&upgraded, "select version from convlytics.taxonomies where name = 'kept'").await;
    assert_eq!(kept, before, "the registered taxonomy survives the update");
    assert_eq!(one(&upgraded, "select convlytics.classify_intent('it is late', 'kept')").await, "late");
    assert_eq!(one(&upgraded, "select pg_typeof(convlytics.tones('late again'))::text").await, "jsonb");
    drop((upgraded, installed));
    old.remove().await;
    fresh.remove().await;
}
