//! Behaviour of the extension that a `.slt` file cannot express, through a real client
//! connection: a long `stitch_identity` stops when its statement is cancelled; a user's mistake
//! comes back with its SQLSTATE; a database on 0.1.0 upgrades to this version with `ALTER
//! EXTENSION pg_convlytics UPDATE` and then has exactly the functions of a fresh install, its
//! registered taxonomies kept. Hostile input, tried as an attacker would: invalid UTF-8 in every
//! argument of every function in a `SQL_ASCII` database never restarts the server; a
//! `statement_timeout` ends each long call in time; hash keys and the hash operator are only
//! for whom an administrator allows; only taxonomy admins change taxonomies, and a taxonomy
//! deleted or rolled back is never used. Runs when `CONVLYTICS_TEST_PG_URL` names a database with
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
        r#"select convlytics.redact_pii('a@b.co', '{"operators": {"EMAIL_ADDRESS": "hash"}, "key_env": "CONVLYTICS_PII_NO_SUCH_KEY"}')"#,
        "55000",
    ),
    (r#"select convlytics.redact_pii('a@b.co', '{"operator": "hash", "key_env": "PGDATA"}')"#, "42501"),
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
        Self::with_options(url, purpose, "").await
    }

    /// A scratch database created `with` the given options (an encoding, say).
    async fn with_options(url: &str, purpose: &str, with: &str) -> Self {
        let admin = connect(url).await;
        let name = format!("convlytics_{purpose}_{}", std::process::id());
        admin.batch_execute(&format!("drop database if exists {name}")).await.expect("drop");
        admin.batch_execute(&format!("create database {name} {with}")).await.expect("create database");
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

/// `convlytics.taxonomies` as a database has it: its columns and triggers.
const TAXONOMIES_TABLE: &str = "select (select string_agg(concat_ws(' ', column_name, data_type, is_nullable, column_default), ', ' order by ordinal_position)
          from information_schema.columns where table_schema = 'convlytics' and table_name = 'taxonomies')
       || ' | ' || (select string_agg(tgname || ' ' || pg_get_triggerdef(oid), ', ') from pg_trigger where tgrelid = 'convlytics.taxonomies'::regclass)";

/// The 0.2.0 -> 0.3.0 upgrade runs the guard a fresh install runs, word for word.
#[test]
fn the_upgrade_installs_the_same_taxonomy_guard() {
    let guard = include_str!("../../pg_convlytics/src/taxonomies_guard.sql");
    let upgrade = include_str!("../../pg_convlytics/sql/pg_convlytics--0.2.0--0.3.0.sql");
    assert!(upgrade.ends_with(guard), "pg_convlytics--0.2.0--0.3.0.sql must end with taxonomies_guard.sql");
}

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
    let test_schema = "select count(*)::text from pg_namespace where nspname = 'tests'";
    assert_eq!(
        one(&installed, test_schema).await,
        "0",
        "the installed build is the real one, not the #[pg_test] build"
    );
    assert_eq!(one(&upgraded, FUNCTIONS).await, one(&installed, FUNCTIONS).await, "upgraded vs fresh install");

    assert_eq!(one(&upgraded, TAXONOMIES_TABLE).await, one(&installed, TAXONOMIES_TABLE).await, "the taxonomies table");
    let kept = one(&upgraded, "select version from convlytics.taxonomies where name = 'kept'").await;
    assert_eq!(kept, before, "the registered taxonomy survives the update");
    assert_eq!(one(&upgraded, "select convlytics.classify_intent('it is late', 'kept')").await, "late");
    assert_eq!(one(&upgraded, "select pg_typeof(convlytics.tones('late again'))::text").await, "jsonb");
    drop((upgraded, installed));
    old.remove().await;
    fresh.remove().await;
}

/// Taken (for the session) by the tests that create roles and grant on schema `convlytics`: two
/// sessions changing one schema's privileges at once fail with "tuple concurrently updated".
const ROLES_LOCK: &str = "select pg_advisory_lock(hashtext('convlytics role tests'))";

/// A value of `kind` for a call: `bad` (bytes that are not UTF-8) in every text and array.
fn argument(kind: convlytics_core::catalog::Kind) -> &'static str {
    use convlytics_core::catalog::Kind;
    match kind {
        Kind::Text | Kind::Taxonomy => r"E'\xff\xfe'",
        Kind::TextArray => r"array[E'\xff', 'ok', null, E'a\x80b']",
        Kind::Integer | Kind::BigInt => "2",
        Kind::Double => "0.5",
        Kind::Boolean => "true",
        Kind::Uuid => "'6ba7b810-9dad-11d1-80b4-00c04fd430c8'",
        Kind::Json => "'{}'",
    }
}

/// Every form of every function, called with bytes that are not UTF-8 in each text and array
/// argument (and a 2-D array, and an empty one) in a SQL_ASCII database: each gives an answer or
/// an ERROR, the session survives, and the postmaster never restarts.
#[tokio::test]
async fn invalid_utf8_in_a_sql_ascii_database_never_restarts_the_server() {
    let Some(url) = common::postgres_url("invalid_utf8_in_a_sql_ascii_database_never_restarts_the_server") else {
        return;
    };
    let db =
        Scratch::with_options(&url, "sql_ascii", "encoding 'SQL_ASCII' lc_collate 'C' lc_ctype 'C' template template0")
            .await;
    let client = connect(&db.url).await;
    client.batch_execute("create extension pg_convlytics").await.expect("install");
    let started = one(&client, "select pg_postmaster_start_time()::text").await;
    let mut calls = Vec::new();
    for function in convlytics_core::catalog::FUNCTIONS {
        for form in function.forms() {
            let args: Vec<&str> = form.args.iter().map(|a| argument(a.kind)).collect();
            calls.push(format!("select * from convlytics.{}({})", function.name, args.join(", ")));
            if form.args.iter().any(|a| a.kind == convlytics_core::catalog::Kind::TextArray) {
                let shaped = |array: &str| {
                    let args: Vec<&str> = form
                        .args
                        .iter()
                        .map(|a| if a.kind == convlytics_core::catalog::Kind::TextArray { array } else { "'x'" })
                        .collect();
                    format!("select * from convlytics.{}({})", function.name, args.join(", "))
                };
                calls.push(shaped(r"array[array[E'\xff', 'a'], array['b', 'c']]"));
                calls.push(shaped("array[]::text[]"));
            }
        }
    }
    for call in &calls {
        if let Err(e) = client.simple_query(call).await {
            let db_error = e.as_db_error().unwrap_or_else(|| panic!("{call}: the connection broke: {e}"));
            assert_ne!(db_error.code().code(), "XX000", "{call}: an internal error: {}", db_error.message());
        }
        assert_eq!(one(&client, "select 'alive'").await, "alive", "{call}");
    }
    assert_eq!(one(&client, "select pg_postmaster_start_time()::text").await, started, "the server restarted");
    let e = client.simple_query(r"select convlytics.resolution_status(array[E'\xff'], array['x'])").await.unwrap_err();
    let message = e.as_db_error().expect("an ERROR").message().to_owned();
    assert_eq!(message, "resolution_status: element 1 of roles is not valid UTF-8 (byte 0xff at offset 0)");
    drop(client);
    db.remove().await;
}

/// A VTT transcript of `cues` cues, two speakers taking turns.
fn vtt(cues: usize) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for i in 0..cues {
        let (s, who) = (i * 2, if i % 2 == 0 { "Agent" } else { "Customer" });
        out.push_str(&format!(
            "{:02}:{:02}:{:02}.000 --> {:02}:{:02}:{:02}.500\n<v {who}>cue {i} my order is late\n\n",
            s / 3600,
            s / 60 % 60,
            s % 60,
            s / 3600,
            s / 60 % 60,
            s % 60
        ));
    }
    out
}

/// With `statement_timeout = '1s'`, each call that could run for long (at the sizes that once
/// ran for seconds to a minute) ends within 1.5 s: answered, or cancelled with PostgreSQL's own
/// error; the backend then serves the next query.
#[tokio::test]
async fn a_statement_timeout_ends_every_long_call_in_time() {
    let Some(url) = common::postgres_url("a_statement_timeout_ends_every_long_call_in_time") else { return };
    let client = connect(&url).await;
    let deep = format!("{{name: t, intents: {}{}}}", "[".repeat(40_000), "]".repeat(40_000));
    let pii_dense =
        "Call Jane Smith at 415-555-2671 or jane.smith@example.com, card 4111 1111 1111 1111. ".repeat(120_000);
    let texts: Vec<String> = (0..20_000).map(|i| format!("I have a question about my account number {i}")).collect();
    let cases: Vec<(&str, &str, Box<dyn tokio_postgres::types::ToSql + Sync>)> = vec![
        ("transcript_info on 300,000 cues", "select count(*) from convlytics.transcript_info($1, 'vtt')", Box::new(vtt(300_000))),
        ("a taxonomy 40,000 brackets deep", "select convlytics.classify_intent('late', $1)", Box::new(deep)),
        ("redact_pii on 10 MB of PII", "select length(convlytics.redact_pii($1))", Box::new(pii_dense)),
        (
            "classify_intents over 20,000 texts",
            "select cardinality(convlytics.classify_intents($1, '{name: c, intents: [{name: account, examples: [\"a question about my account\"]}, {name: other, examples: [\"something else entirely\"]}]}'))",
            Box::new(texts),
        ),
    ];
    client.batch_execute("set statement_timeout = '1s'").await.expect("timeout");
    for (what, sql, parameter) in &cases {
        let started = Instant::now();
        let outcome = client.query(*sql, &[parameter.as_ref()]).await;
        let elapsed = started.elapsed();
        if let Err(e) = &outcome {
            let code = e.as_db_error().map(|d| d.code().code().to_owned()).unwrap_or_else(|| e.to_string());
            assert!(["57014", "22023"].contains(&code.as_str()), "{what}: {e}");
        }
        assert!(elapsed < Duration::from_millis(1_500), "{what}: ended after {elapsed:?}");
        assert_eq!(one(&client, "select 'alive'").await, "alive", "{what}");
    }
}

/// Hash keys come only from permitted variables, and a refusal reads the same whether the
/// variable is set or not; the hash operator is for members of the pseudonymizer role only.
/// Tried as a role that is not a superuser.
#[tokio::test]
async fn only_permitted_roles_and_key_variables_pseudonymise() {
    let Some(url) = common::postgres_url("only_permitted_roles_and_key_variables_pseudonymise") else { return };
    let admin = connect(&url).await;
    admin.batch_execute(ROLES_LOCK).await.expect("roles lock");
    let (user, hashers) =
        (format!("convlytics_user_{}", std::process::id()), format!("convlytics_hashers_{}", std::process::id()));
    admin
        .batch_execute(&format!(
            "drop role if exists {user}; drop role if exists {hashers};
             create role {hashers} nologin; create role {user} login;
             grant usage on schema convlytics to {user};
             alter role {user} set convlytics.pii_hash_role = '{hashers}'"
        ))
        .await
        .expect("roles");
    let (base, _) = url.split_once("://").expect("a URL");
    let rest = url.split_once('@').map_or(url.as_str(), |(_, r)| r);
    let as_user = connect(&format!("{base}://{user}@{rest}")).await;
    let error = |sql: String| {
        let client = &as_user;
        async move {
            let e = client.simple_query(&sql).await.expect_err(&sql);
            let db = e.as_db_error().unwrap_or_else(|| panic!("{sql}: {e}"));
            (db.code().code().to_owned(), db.message().to_owned())
        }
    };
    let hash = |variable: &str| {
        format!(
            r#"select convlytics.redact_pii('mail jane@example.com', '{{"operator": "hash", "key_env": "{variable}"}}')"#
        )
    };
    let (code, set) = error(hash("PGDATA")).await;
    assert_eq!(code, "42501");
    let (_, unset) = error(hash("CONVLYTICS_NO_SUCH_VARIABLE")).await;
    assert_eq!(
        set.replace("PGDATA", "X"),
        unset.replace("CONVLYTICS_NO_SUCH_VARIABLE", "X"),
        "a refusal tells nothing"
    );
    let (code, message) = error(hash("CONVLYTICS_PII_TEST_KEY")).await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("42501", format!("redact_pii: the hash operator is only for members of role {hashers}").as_str())
    );
    as_user.batch_execute("set convlytics.pii_hash_role = 'public'").await.expect_err("the setting is for superusers");
    admin.batch_execute(&format!("grant {hashers} to {user}")).await.expect("grant");
    let pseudonym = as_user.query_one(&hash("CONVLYTICS_PII_TEST_KEY"), &[]).await.expect("a member may hash");
    assert!(pseudonym.get::<_, String>(0).starts_with("mail <EMAIL_ADDRESS_"));
    drop(as_user);
    admin
        .batch_execute(&format!("drop owned by {user}; drop role {user}; drop role {hashers}"))
        .await
        .expect("drop roles");
}

/// A taxonomy deleted from the table, or registered in a transaction that rolled back, is never
/// used again by the backend that had read it.
#[tokio::test]
async fn a_deleted_or_rolled_back_taxonomy_is_never_used() {
    let Some(url) = common::postgres_url("a_deleted_or_rolled_back_taxonomy_is_never_used") else { return };
    let client = connect(&url).await;
    let classify = |name: &'static str| format!("select convlytics.classify_intent('it is late', '{name}')");
    client
        .batch_execute("select * from convlytics.register_taxonomy('{name: gone_soon, intents: [{name: late, keywords: [late]}]}')")
        .await
        .expect("register");
    assert_eq!(one(&client, &classify("gone_soon")).await, "late");
    client.batch_execute("delete from convlytics.taxonomies where name = 'gone_soon'").await.expect("delete");
    let e = client.simple_query(&classify("gone_soon")).await.expect_err("deleted");
    assert_eq!(e.as_db_error().expect("an ERROR").code().code(), "42704");

    client
        .batch_execute("begin; select * from convlytics.register_taxonomy('{name: rolled, intents: [{name: late, keywords: [late]}]}')")
        .await
        .expect("register in a transaction");
    assert_eq!(one(&client, &classify("rolled")).await, "late", "visible inside its transaction");
    client.batch_execute("rollback").await.expect("rollback");
    let e = client.simple_query(&classify("rolled")).await.expect_err("rolled back");
    assert_eq!(e.as_db_error().expect("an ERROR").code().code(), "42704");
}

/// Only superusers and members of the taxonomy admin role write `convlytics.taxonomies`, through
/// `register_taxonomy` or directly, and each row says who wrote it; other roles keep reading.
#[tokio::test]
async fn only_taxonomy_admins_change_taxonomies() {
    let Some(url) = common::postgres_url("only_taxonomy_admins_change_taxonomies") else { return };
    let admin = connect(&url).await;
    admin.batch_execute(ROLES_LOCK).await.expect("roles lock");
    let pid = std::process::id();
    let (user, admins) = (format!("convlytics_editor_{pid}"), format!("convlytics_admins_{pid}"));
    admin
        .batch_execute(&format!(
            "drop role if exists {user}; drop role if exists {admins};
             create role {admins} nologin; create role {user} login;
             grant usage on schema convlytics to {user};
             grant select, insert, update, delete on convlytics.taxonomies to {user};
             alter role {user} set convlytics.taxonomy_admin_role = '{admins}';
             select * from convlytics.register_taxonomy('{{name: guarded, intents: [{{name: late, keywords: [late]}}]}}')"
        ))
        .await
        .expect("roles and a taxonomy");
    let rest = url.split_once('@').map_or(url.as_str(), |(_, r)| r);
    let as_user = connect(&format!("postgres://{user}@{rest}")).await;
    let attempts = [
        "select * from convlytics.register_taxonomy('{name: guarded, intents: [{name: early, keywords: [late]}]}')"
            .to_owned(),
        "update convlytics.taxonomies set definition = 'x' where name = 'guarded'".to_owned(),
        "delete from convlytics.taxonomies where name = 'guarded'".to_owned(),
        "insert into convlytics.taxonomies (name, version, definition) values ('mine', 'v', 'x')".to_owned(),
    ];
    for sql in &attempts {
        let e = as_user.simple_query(sql).await.expect_err(sql);
        let db = e.as_db_error().unwrap_or_else(|| panic!("{sql}: {e}"));
        assert_eq!(db.code().code(), "42501", "{sql}: {}", db.message());
        assert!(db.message().contains(&format!("only members of role {admins}")), "{}", db.message());
    }
    assert_eq!(
        one(&as_user, "select convlytics.classify_intent('it is late', 'guarded')").await,
        "late",
        "still readable"
    );
    admin.batch_execute(&format!("grant {admins} to {user}")).await.expect("grant");
    as_user.batch_execute(&attempts[0]).await.expect("an admin registers");
    assert_eq!(one(&as_user, "select owner::text from convlytics.taxonomies where name = 'guarded'").await, user);
    assert_eq!(one(&as_user, "select convlytics.classify_intent('it is late', 'guarded')").await, "early");
    drop(as_user);
    admin
        .batch_execute(&format!(
            "delete from convlytics.taxonomies where name = 'guarded'; drop owned by {user}; drop role {user}; drop role {admins}"
        ))
        .await
        .expect("clean up");
}
