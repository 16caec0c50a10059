//! End-to-end: the default project built on the embedded engine, through the CLI binary and the
//! library, and on PostgreSQL with pg_convlytics when `CONVLYTICS_TEST_PG_URL` is set; both
//! engines must give the same marts.

mod cli;
mod common;
mod dbt;
mod json;
mod warehouse;

use std::path::Path;

use convlytics::compile::{compile, CompileOptions};
use convlytics::engine::Engine;
use convlytics::project::profiles::{Target, TargetKind};
use convlytics::project::Project;
use warehouse::{connect_as, default_project, generated_project, load_crm, load_raw_interactions, Scratch};

const MART: &str =
    "select channel, language, conversations from analytics.mart_language_mix order by channel, language";

#[test]
fn cli_runs_the_default_project_and_queries_it() {
    let project = default_project();
    let (ok, out, err) = cli::convlytics(project.path(), &["run"]);
    assert!(ok, "run failed: {out}{err}");
    for model in
        ["\"analytics\".\"raw_interactions\"", "\"analytics\".\"conversations\"", "\"analytics\".\"mart_language_mix\""]
    {
        assert!(out.lines().any(|l| l.contains(" OK ") && l.contains(model)), "{model} not built:\n{out}");
    }
    for file in ["raw_interactions", "conversations", "mart_language_mix"] {
        assert!(project.path().join(format!("target/warehouse/analytics/{file}.parquet")).is_file());
    }
    assert!(project.path().join("target/run_results.json").is_file());
    let (ok, out, err) = cli::convlytics(project.path(), &["sql", "--format", "csv", MART]);
    assert!(ok, "{err}");
    insta::assert_snapshot!(out, @"
    channel,language,conversations
    bot,en,2
    bot,sv,1
    chat,de,1
    chat,en,2
    chat,es,1
    chat,pt,1
    chat,unknown,1
    email,en,1
    email,fr,1
    email,nl,1
    ticket,it,1
    ticket,ja,1
    voice,en,2
    voice,ru,1
    ");
    let links =
        "select coalesce(link_rule, 'none') as link_rule, count(*) as conversations, count(account_id) as with_account,
                        count(last_order_id) as with_order, count(campaign_id) as with_campaign
                 from analytics.identity_map group by 1 order by 1";
    let (ok, out, err) = cli::convlytics(project.path(), &["sql", "--format", "csv", links]);
    assert!(ok, "{err}");
    insta::assert_snapshot!(out, @"
    link_rule,conversations,with_account,with_order,with_campaign
    email,10,10,7,3
    none,6,0,0,2
    phone,1,1,1,0
    ");
}

#[test]
fn cli_sql_detects_french() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ok, out, err) = cli::convlytics(
        dir.path(),
        &["sql", "--format", "csv", "select detect_language('Bonjour, je voudrais annuler ma commande') as l"],
    );
    assert!(ok, "{err}");
    assert_eq!(out, "l\nfr\n");
}

#[test]
fn source_freshness_warns_about_old_demo_data() {
    let project = default_project();
    let (ok, out, err) = cli::convlytics(project.path(), &["source", "freshness"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("WARN  freshness of raw.raw_interactions [") && out.contains("older than warn_after 7 days"),
        "{out}"
    );
    let (ok, out, _) = cli::convlytics(project.path(), &["source", "freshness", "-s", "source:crm"]);
    assert!(ok && out.contains("nothing to check"), "{out}");
}

#[test]
fn cli_sql_reads_files_by_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("msgs.csv"), "id,text\n1,Hola quiero devolver mi pedido\n2,\n").expect("write");
    let (ok, out, err) = cli::convlytics(
        dir.path(),
        &["sql", "--format", "json", "select id, detect_language(text) as lang from 'msgs.csv' order by id"],
    );
    assert!(ok, "{err}");
    assert_eq!(out, "[{\"id\":1,\"lang\":\"es\"},{\"id\":2,\"lang\":null}]\n");
}

#[test]
fn cli_errors_name_the_file_and_line() {
    let project = default_project();
    let model = project.path().join("models/marts/mart_language_mix.sql");
    std::fs::write(&model, "select *\nfrom {{ ref('conversation') }}\n").expect("write");
    let (ok, _, err) = cli::convlytics(project.path(), &["compile"]);
    assert!(!ok);
    assert!(err.contains("mart_language_mix.sql:2") && err.contains("no model or seed named 'conversation'"), "{err}");
    assert!(err.contains("2 | from {{ ref('conversation') }}"), "the line is shown: {err}");
}

#[test]
fn cli_sql_reads_sources_even_when_a_model_is_broken() {
    let project = default_project();
    std::fs::write(project.path().join("models/marts/mart_language_mix.sql"), "select {{ oops(").expect("write");
    let (ok, out, err) =
        cli::convlytics(project.path(), &["sql", "--format", "csv", "select count(*) as n from raw.raw_interactions"]);
    assert!(ok, "{err}");
    assert_eq!(out, "n\n21\n");
}

#[test]
fn a_failed_build_leaves_the_previous_output() {
    let project = default_project();
    let (ok, out, err) = cli::convlytics(project.path(), &["run"]);
    assert!(ok, "{out}{err}");
    let mart = project.path().join("target/warehouse/analytics/mart_language_mix.parquet");
    let before = std::fs::read(&mart).expect("mart written");
    let model = project.path().join("models/normalized/conversations.sql");
    std::fs::write(&model, "select no_such_column from {{ ref('raw_interactions') }}").expect("write");
    let (ok, out, _) = cli::convlytics(project.path(), &["run"]);
    assert!(!ok, "a broken model must fail the run");
    assert!(out.contains("ERROR table \"analytics\".\"conversations\""), "{out}");
    assert!(out.contains("SKIP  table \"analytics\".\"mart_language_mix\" (upstream conversations failed)"), "{out}");
    assert_eq!(std::fs::read(&mart).expect("mart kept"), before);
    assert!(project.path().join("target/warehouse/analytics/conversations.parquet").is_file());
}

#[test]
fn a_memory_limit_bounds_the_build_and_a_too_small_one_says_what_to_change() {
    let project = default_project();
    let (ok, out, err) = cli::convlytics(project.path(), &["run", "--memory-limit", "256MiB"]);
    assert!(ok && out.contains("mart_language_mix"), "{out}{err}");
    let mart = project.path().join("target/warehouse/analytics/mart_language_mix.parquet");
    let before = std::fs::read(&mart).expect("mart written");
    let (ok, out, err) = cli::convlytics(project.path(), &["run", "--memory-limit", "4KiB"]);
    assert!(!ok, "4 KiB holds no batch: {out}{err}");
    assert!(out.contains("Resources exhausted") && out.contains("raise --memory-limit"), "{out}{err}");
    assert_eq!(std::fs::read(&mart).expect("mart kept"), before, "a failed run publishes nothing");
    let (ok, out, err) = cli::convlytics(project.path(), &["run", "--memory-limit", "2parsecs"]);
    assert!(!ok && err.contains("'2parsecs' is not a size"), "{out}{err}");
}

/// identity_map with every column as text that prints the same on both engines.
const IDENTITY_MAP: &str = "select cast(conversation_id as varchar) as conversation_id, customer_key,
    coalesce(account_id, '-') as account_id, cast(accounts_in_cluster as varchar) as accounts,
    coalesce(link_rule, '-') as link_rule, coalesce(last_order_id, '-') as last_order_id,
    coalesce(campaign_id, '-') as campaign_id
  from analytics.identity_map order by 1";

/// The turns with their redacted text, which must be identical on both engines.
const TURNS: &str = "select source_id, cast(turn_index as varchar) as turn_index, role,
    coalesce(speaker_redacted, '-') as speaker, coalesce(language, '-') as language,
    cast(is_boilerplate as varchar) as boilerplate, replace(text_redacted, chr(10), ' ') as text
  from analytics.turns order by source_id, turn_index";

/// The conversations with their counts and voice metrics.
const CONVERSATIONS: &str = "select source_id, channel, format, coalesce(language, '-') as language,
    cast(interactions as varchar) as interactions, cast(turn_count as varchar) as turns,
    cast(customer_turns as varchar) as customer_turns, cast(agent_turns as varchar) as agent_turns,
    coalesce(cast(duration_ms as varchar), '-') as duration_ms, coalesce(cast(talk_ratio as varchar), '-') as talk_ratio,
    coalesce(cast(silences as varchar), '-') as silences, coalesce(cast(overlap_ms as varchar), '-') as overlap_ms,
    coalesce(cast(interruptions as varchar), '-') as interruptions, coalesce(subject_redacted, '-') as subject
  from analytics.conversations order by source_id";

/// Why each conversation started, under the support taxonomy.
const INTENTS: &str = "select c.source_id, i.intent, i.topics, i.taxonomy_version
  from analytics.conversation_intents i join analytics.conversations c on c.conversation_id = i.conversation_id
  order by c.source_id";

/// The signals of each conversation, and its repeat-contact flag.
const SIGNALS: &str = "select c.source_id, s.resolution, cast(s.resolution_evidence as varchar), s.summary,
    cast(s.customer_tones as varchar), cast(s.entities as varchar),
    cast(cast(round(s.sentiment_change * 10000) as bigint) as varchar), cast(s.agent_handoffs as varchar),
    coalesce(cast(r.is_repeat_contact as varchar), '-'), s.taxonomy_version
  from analytics.conversation_signals s
  join analytics.conversations c on c.conversation_id = s.conversation_id
  left join analytics.repeat_contacts r on r.conversation_id = s.conversation_id
  order by c.source_id";

/// What could not be read, and why.
const QUARANTINE: &str = "select source_id, format, reason from analytics.quarantine order by source_id";

/// Compiles the project and builds every model and runs every data test on `engine`, as
/// `convlytics build` does without the seeds (CRM data comes in as a source); incremental models
/// that exist are built incrementally.
async fn run_models(project: &Project, target: &Target, engine: &mut Engine) {
    let existing = engine.relations().await.expect("existing relations");
    let compiled =
        compile(project, target, &CompileOptions { existing, ..CompileOptions::default() }).expect("compile");
    assert!(compiled.tests.len() >= 15, "the default project's data tests: {}", compiled.tests.len());
    engine.register_sources(&compiled).await.expect("sources");
    let nodes = convlytics::select::select(&compiled, &[], &[]).expect("select");
    let tests: Vec<_> = compiled.tests.iter().collect();
    let steps = convlytics::run::plan(&compiled, &nodes, true, false, &tests);
    convlytics::run::execute(project, target, &steps, engine, None, &Default::default()).await.expect("build");
}

/// The rows of `sql` after building the project on the embedded engine, as text.
async fn embedded_mart(dir: &Path, sql: &str) -> Vec<Vec<String>> {
    let project = Project::load(dir).expect("load");
    let target = Target::embedded("dev", "analytics");
    let mut engine = Engine::open(&project, &target).await.expect("connect");
    run_models(&project, &target, &mut engine).await;
    let Engine::Embedded(e) = engine else { unreachable!("embedded target") };
    let batches = e.context().sql(sql).await.expect("plan").collect().await.expect("collect");
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches).expect("format").to_string();
    text.lines()
        .skip(3)
        .filter(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(|c| cell(c.trim().to_owned())).collect())
        .collect()
}

/// The default project in `dir` built on PostgreSQL into `schema`, from the raw interaction file
/// `raw` and the CRM CSV files in `crm`, loaded into the database first; the project, its target
/// and the connected engine, for further runs.
async fn build_on_postgres(dir: &Path, schema: &str, url: &str, raw: &Path, crm: &Path) -> (Project, Target, Engine) {
    let project = Project::load(dir).expect("load");
    let target = Target { kind: TargetKind::Postgres { connection: url.to_owned() }, ..Target::embedded("pg", schema) };
    let mut engine = Engine::open(&project, &target).await.expect("connect");
    let Engine::Postgres(pg) = &engine else { unreachable!("postgres target") };
    load_raw_interactions(pg.client(), raw).await;
    load_crm(pg.client(), crm).await;
    run_models(&project, &target, &mut engine).await;
    (project, target, engine)
}

/// The rows of `sql` on PostgreSQL, every column read as text.
async fn pg_rows(client: &tokio_postgres::Client, sql: &str) -> Vec<Vec<String>> {
    let rows = client.query(sql, &[]).await.expect(sql);
    rows.iter().map(|r| (0..r.len()).map(|i| cell(r.get::<_, String>(i))).collect()).collect()
}

/// A cell as both engines are compared: JSON (jsonb on PostgreSQL, JSON text on DataFusion) as its
/// canonical text.
fn cell(text: String) -> String {
    json::canonical(&text).unwrap_or(text)
}

#[tokio::test]
async fn both_engines_build_the_same_marts() {
    let Some(url) = common::postgres_url("both_engines_build_the_same_marts") else { return };
    let _raw_schemas = RAW_SCHEMAS.lock().await;
    let project_dir = default_project();
    let expected = embedded_mart(project_dir.path(), MART).await;
    assert!(!expected.is_empty());
    let expected_identity_map = embedded_mart(project_dir.path(), IDENTITY_MAP).await;
    assert_eq!(expected_identity_map.len(), 17);
    let expected_turns = embedded_mart(project_dir.path(), TURNS).await;
    let charge = expected_turns.iter().find(|r| r[0] == "48213" && r[1] == "1").expect("the double-charge email");
    assert!(
        charge[6].contains("**** **** **** 1111")
            && charge[6].contains("<PHONE_NUMBER>")
            && charge[6].contains("<PERSON_1>"),
        "{charge:?}"
    );
    let expected_conversations = embedded_mart(project_dir.path(), CONVERSATIONS).await;
    let thread = expected_conversations.iter().find(|r| r[0] == "48213").expect("the email thread");
    assert_eq!((thread[4].as_str(), thread[5].as_str()), ("3", "3"), "three messages, one conversation: {thread:?}");
    let expected_quarantine = embedded_mart(project_dir.path(), QUARANTINE).await;
    assert_eq!(expected_quarantine.len(), 2, "{expected_quarantine:?}");
    let expected_intents = embedded_mart(project_dir.path(), INTENTS).await;
    let refund = expected_intents.iter().find(|r| r[0] == "48213").expect("the double-charge email");
    assert_eq!((refund[1].as_str(), refund[2].as_str()), ("billing_issue", "payment"), "{refund:?}");
    assert!(expected_intents.iter().filter(|r| r[1] != "unknown").count() >= 15, "{expected_intents:?}");
    let expected_signals = embedded_mart(project_dir.path(), SIGNALS).await;
    assert_eq!(expected_signals.len(), 17, "{expected_signals:?}");
    assert!(expected_signals.iter().any(|r| r[1] != "unresolved"), "{expected_signals:?}");

    let dir = project_dir.path();
    let (_, _, engine) = build_on_postgres(
        dir,
        "e2e_analytics",
        &url,
        &dir.join("data/demo/raw_interactions.jsonl"),
        &dir.join("seeds"),
    )
    .await;
    let Engine::Postgres(pg) = &engine else { unreachable!("postgres target") };
    let mart =
        "select channel, language, conversations::text from e2e_analytics.mart_language_mix order by channel, language";
    assert_eq!(pg_rows(pg.client(), mart).await, expected);
    let actual = pg_rows(pg.client(), &IDENTITY_MAP.replace("analytics.", "e2e_analytics.")).await;
    assert_eq!(actual, expected_identity_map);
    assert!(actual.iter().any(|r| r[2] == "ACC-1003" && r[4] == "phone"), "the caller is linked by phone: {actual:?}");
    for (sql, expected) in [
        (TURNS, &expected_turns),
        (CONVERSATIONS, &expected_conversations),
        (QUARANTINE, &expected_quarantine),
        (INTENTS, &expected_intents),
        (SIGNALS, &expected_signals),
    ] {
        let actual = pg_rows(pg.client(), &sql.replace("analytics.", "e2e_analytics.")).await;
        assert_eq!(&actual, expected, "{sql}");
    }
    let (ok, out, err) = cli::convlytics(project_dir.path(), &["source", "freshness", "--target-url", &url]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("WARN  freshness of raw.raw_interactions ["), "{out}");
    if let Some(dbt) = common::required("CONVLYTICS_TEST_DBT", "the default project under dbt-core") {
        run_dbt(Path::new(&dbt), project_dir.path(), &url);
        for (sql, expected) in [
            (MART, &expected),
            (IDENTITY_MAP, &expected_identity_map),
            (TURNS, &expected_turns),
            (CONVERSATIONS, &expected_conversations),
            (QUARANTINE, &expected_quarantine),
            (INTENTS, &expected_intents),
            (SIGNALS, &expected_signals),
        ] {
            let sql =
                sql.replace("analytics.", "dbt_analytics.").replace("conversations from", "conversations::text from");
            let actual = pg_rows(pg.client(), &sql).await;
            assert_eq!(&actual, expected, "dbt-core built a different {sql}");
        }
        pg.client().batch_execute("drop schema dbt_analytics cascade").await.expect("clean up dbt");
    }
    pg.client()
        .batch_execute("drop schema e2e_analytics cascade; drop schema raw cascade; drop schema crm cascade")
        .await
        .expect("clean up");
}

/// Every mart, each column as text that prints the same on both engines (rates to 4 decimals).
const MARTS: &[&str] = &[
    "select cast(day as varchar), channel, intent, cast(conversations as varchar),
        cast(cast(round(share_of_day * 10000) as bigint) as varchar)
     from analytics.mart_intent_daily order by 1, 2, 3",
    "select cast(week as varchar), topic, cast(conversations as varchar), coalesce(cast(week_over_week as varchar), '-'),
        coalesce(cast(cast(round(baseline_mean * 10000) as bigint) as varchar), '-'), cast(is_spike as varchar)
     from analytics.mart_topic_trends order by 1, 2",
    "select intent, queue, agent, cast(conversations as varchar), cast(solved as varchar), cast(escalated as varchar),
        cast(handoffs as varchar), cast(abandoned as varchar), cast(unresolved as varchar),
        cast(cast(round(avg_turns * 10000) as bigint) as varchar), cast(cast(round(repeat_contact_rate * 10000) as bigint) as varchar)
     from analytics.mart_resolution order by 1, 2, 3",
    "select intent, cast(week as varchar), cast(conversations as varchar), cast(customers as varchar), cast(repeat_contacts as varchar)
     from analytics.mart_repeat_contacts order by 1, 2",
    "select objection, cast(conversations as varchar), cast(solved as varchar), cast(converted as varchar)
     from analytics.mart_preconversion_objections order by 1",
    "select campaign_id, utm_campaign, cast(conversations as varchar), cast(customers as varchar),
        cast(confused_conversations as varchar), cast(has_friction as varchar)
     from analytics.mart_campaign_friction order by 1",
    "select theme, cast(requests as varchar), cast(customers as varchar), cast(accounts as varchar),
        cast(requests_last_30_days as varchar), taxonomy_version
     from analytics.mart_feature_requests order by 1",
    "select intent, topic, cast(negative_conversations as varchar), cast(customers as varchar),
        cast(cast(round(churn_rate * 10000) as bigint) as varchar), cast(cast(round(refund_rate * 10000) as bigint) as varchar),
        cast(cast(round(avg_sentiment_end * 10000) as bigint) as varchar)
     from analytics.mart_negative_sentiment order by 1, 2",
    "select agent, queue, check_name, cast(conversations as varchar), cast(passed as varchar)
     from analytics.mart_agent_qa order by 1, 2, 3",
];

/// Held by each test that loads and then drops the database's `raw` and `crm` schemas, so that
/// one test's clean-up never drops what another is building from.
static RAW_SCHEMAS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A generated inbox in every format, raw to marts on both engines: every mart the same.
#[tokio::test]
async fn both_engines_build_the_same_marts_from_a_generated_inbox() {
    let Some(url) = common::postgres_url("both_engines_build_the_same_marts_from_a_generated_inbox") else { return };
    let _raw_schemas = RAW_SCHEMAS.lock().await;
    let project_dir = generated_project(400);
    let mut expected = Vec::new();
    for sql in MARTS {
        let rows = embedded_mart(project_dir.path(), sql).await;
        assert!(!rows.is_empty(), "{sql}");
        expected.push(rows);
    }
    let qa = expected.last().expect("mart_agent_qa");
    assert!(qa.iter().any(|r| r[2] == "greeting") && qa.iter().any(|r| r[2] == "closing"), "{qa:?}");

    let generated = project_dir.path().join("generated");
    let (project, target, mut engine) = build_on_postgres(
        project_dir.path(),
        "generated_analytics",
        &url,
        &generated.join("raw_interactions.jsonl"),
        &generated,
    )
    .await;
    for run in ["first", "incremental"] {
        if run == "incremental" {
            run_models(&project, &target, &mut engine).await;
        }
        let Engine::Postgres(pg) = &engine else { unreachable!("postgres target") };
        for (sql, expected) in MARTS.iter().zip(&expected) {
            let actual = pg_rows(pg.client(), &sql.replace("analytics.", "generated_analytics.")).await;
            assert_eq!(&actual, expected, "{run} run: {sql}");
        }
    }
    let Engine::Postgres(pg) = &engine else { unreachable!("postgres target") };
    pg.client()
        .batch_execute("drop schema generated_analytics cascade; drop schema raw cascade; drop schema crm cascade")
        .await
        .expect("clean up");
}

/// How many rows the next incremental run of `conversation_intents` would label: its compiled
/// SELECT (with `is_incremental()` true once the table exists), counted.
fn to_label(project: &Path) -> String {
    let (ok, out, err) = cli::convlytics(project, &["compile", "-s", "conversation_intents"]);
    assert!(ok, "{out}{err}");
    let compiled = project.join("target/compiled/convlytics/models/enriched/conversation_intents.sql");
    let sql = std::fs::read_to_string(compiled).expect("compiled SQL");
    let (ok, out, err) = cli::convlytics(
        project,
        &["sql", "--format", "csv", &format!("select count(*) as n from (\n{sql}\n) as pending")],
    );
    assert!(ok, "{out}{err}");
    out.lines().nth(1).expect("a count").to_string()
}

/// The main job's flow through the CLI: generate, build (seeds, models, tests); then reprocessing:
/// with nothing changed an incremental run labels no conversation, after a taxonomy change it
/// labels every one again (the raw files untouched), and then none.
#[test]
fn cli_builds_a_generated_inbox_and_reprocesses_on_taxonomy_change() {
    let project = generated_project(300);
    let raw = project.path().join("generated/raw_interactions.jsonl");
    let before = std::fs::read(&raw).expect("raw");
    let (ok, out, err) = cli::convlytics(project.path(), &["build"]);
    assert!(ok && out.contains("0 errors, 0 skipped"), "{out}{err}");
    assert_eq!(to_label(project.path()), "0", "nothing new to label");
    let taxonomy = project.path().join("models/taxonomies/support.yml");
    let text = std::fs::read_to_string(&taxonomy).expect("taxonomy");
    let changed =
        text.replace("keywords: [app crashes, app freezes", "keywords: [app crashes, app keeps crashing, app freezes");
    std::fs::write(&taxonomy, changed).expect("edit taxonomy");
    let labelled: u32 = to_label(project.path()).parse().expect("a number");
    assert!(labelled > 250, "a new taxonomy version labels every conversation again: {labelled}");
    let (ok, out, err) = cli::convlytics(project.path(), &["run", "-s", "conversation_intents+"]);
    assert!(ok, "{out}{err}");
    assert_eq!(to_label(project.path()), "0", "all labelled under the new version");
    let (ok, out, err) = cli::convlytics(
        project.path(),
        &[
            "sql",
            "--format",
            "csv",
            "select count(distinct taxonomy_version) as versions from analytics.conversation_signals",
        ],
    );
    assert!(ok && out.contains("versions\n1\n"), "signals follow the new version too: {out}{err}");
    assert_eq!(std::fs::read(&raw).expect("raw"), before, "raw is never touched");
    let runs = "select labelled, relabelled, taxonomy_versions from analytics.label_runs order by finished_at";
    let (ok, out, err) = cli::convlytics(project.path(), &["sql", "--format", "csv", runs]);
    assert!(ok, "{out}{err}");
    let rows: Vec<Vec<&str>> = out.lines().skip(1).map(|l| l.splitn(3, ',').collect()).collect();
    assert_eq!(rows.len(), 2, "one label_runs row per run that labelled: {out}");
    let relabelled: u32 = rows[1][1].parse().expect("a count");
    assert_eq!(rows[0][1], "0", "the first run labels, it re-labels nothing: {out}");
    assert!(relabelled as f64 >= 0.9 * f64::from(labelled), "the re-run re-labels what it labelled before: {out}");
    assert_ne!(rows[0][2], rows[1][2], "under another taxonomy version: {out}");
}

/// `git` in `dir`, failing the test when it fails.
fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=convlytics test", "-c", "user.email=test@convlytics.invalid"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The conversation ids of a `taxonomy diff --changes` file, with their old and new intents.
fn changes(path: &Path) -> Vec<(String, String, String)> {
    let mut reader = csv::Reader::from_path(path).expect("changes CSV");
    reader.records().map(|r| r.expect("row")).map(|r| (r[0].to_owned(), r[1].to_owned(), r[2].to_owned())).collect()
}

/// Each conversation's stored intent.
fn stored_intents(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let sql = "select conversation_id, intent from analytics.conversation_intents";
    let (ok, out, err) = cli::convlytics(dir, &["sql", "--format", "csv", sql]);
    assert!(ok, "{out}{err}");
    out.lines().skip(1).filter_map(|l| l.split_once(',')).map(|(c, i)| (c.to_owned(), i.to_owned())).collect()
}

/// A one-keyword edit, previewed against git's HEAD: the diff lists exactly the conversations
/// whose intent the next run changes, and after the run (no label stored under the baseline
/// any more) the same ones again. Approved on its report, the taxonomy compiles; edited again,
/// or with its report edited, it does not.
#[test]
fn taxonomy_diff_lists_what_the_next_run_changes_and_approval_guards_it() {
    let project = generated_project(300);
    let dir = project.path();
    let (ok, out, err) = cli::convlytics(dir, &["build"]);
    assert!(ok, "{out}{err}");
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "the taxonomy as built"]);
    let taxonomy = dir.join("models/taxonomies/support.yml");
    let text = std::fs::read_to_string(&taxonomy).expect("taxonomy");
    let keywords = "keywords: [change the shipping address, change my address";
    assert!(text.contains(keywords), "the edit's anchor");
    std::fs::write(&taxonomy, text.replace(keywords, &format!("{keywords}, different size"))).expect("edit");

    let diff = ["taxonomy", "diff", "--taxonomy", "support", "--changes", "changes.csv", "--out", "diff.md"];
    let (ok, out, err) = cli::convlytics(dir, &diff);
    assert!(ok && out.contains("-> change_order"), "{out}{err}");
    let previewed = changes(&dir.join("changes.csv"));
    assert!(!previewed.is_empty() && previewed.iter().all(|(_, _, new)| new == "change_order"), "{previewed:?}");
    let report = std::fs::read_to_string(dir.join("diff.md")).expect("report");
    assert!(
        report.contains(&format!("{} of ", previewed.len())) && report.contains("### Old -> new matrix"),
        "{report}"
    );

    let before = stored_intents(dir);
    let (ok, out, err) = cli::convlytics(dir, &["run"]);
    assert!(ok, "{out}{err}");
    let after = stored_intents(dir);
    let rerun: Vec<(String, String, String)> = before
        .iter()
        .filter(|(id, intent)| after[*id] != **intent)
        .map(|(id, intent)| (id.clone(), intent.clone(), after[id].clone()))
        .collect();
    assert_eq!(rerun, previewed, "the diff lists exactly the conversations the run re-labels");
    let (ok, out, err) = cli::convlytics(dir, &["taxonomy", "diff", "--taxonomy", "support", "--changes", "again.csv"]);
    assert!(ok && out.contains("(0 baseline labels as stored;"), "the baseline labelled afresh: {out}{err}");
    assert_eq!(changes(&dir.join("again.csv")), previewed, "the same changes from the baseline relabelled");

    let (ok, out, err) =
        cli::convlytics(dir, &["taxonomy", "approve", "--taxonomy", "support", "--report", "diff.md", "--by", "dana"]);
    assert!(ok && out.contains("Approved taxonomy 'support'"), "{out}{err}");
    let approved = std::fs::read_to_string(&taxonomy).expect("taxonomy");
    assert!(approved.contains("taxonomy_approvals:") && approved.contains("approved_by: \"dana\""), "{approved}");
    let (ok, out, err) = cli::convlytics(dir, &["compile"]);
    assert!(ok, "an approved taxonomy compiles: {out}{err}");
    std::fs::write(&taxonomy, approved.replace("different size", "different size, another size")).expect("edit");
    let (ok, _, err) = cli::convlytics(dir, &["compile"]);
    assert!(!ok && err.contains("changed since it was approved") && err.contains("support.yml:"), "{err}");
    let (ok, _, err) =
        cli::convlytics(dir, &["taxonomy", "approve", "--taxonomy", "support", "--report", "diff.md", "--by", "dana"]);
    assert!(!ok && err.contains("run the diff again"), "a stale report approves nothing: {err}");
    std::fs::write(&taxonomy, &approved).expect("restore");
    std::fs::write(dir.join("diff.md"), report.replace("change intent", "change intents")).expect("tamper");
    let (ok, _, err) = cli::convlytics(dir, &["compile"]);
    assert!(!ok && err.contains("is not the one approved"), "an edited report fails the compile: {err}");
    std::fs::write(dir.join("diff.md"), &report).expect("restore");
    let (ok, out, err) = cli::convlytics(dir, &["compile"]);
    assert!(ok, "{out}{err}");

    // Openings retention has removed cannot be labelled again: left out, and said so.
    let rules = dir.join("models/governance.yml");
    let text = std::fs::read_to_string(&rules).expect("governance.yml");
    std::fs::write(&rules, short_retention(&text)).expect("write");
    let (ok, out, err) = cli::convlytics(dir, &["retention", "--apply"]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cli::convlytics(dir, &["taxonomy", "diff", "--taxonomy", "support", "--rev", "HEAD"]);
    assert!(ok && out.contains("without their text, left out") && !out.contains("; 0 without"), "{out}{err}");
}

/// Runs the project unchanged under dbt-core (dbt-postgres) into schema `dbt_analytics` of the
/// database at `url`, with `convlytics` on the search path: `dbt run`, then `dbt test`.
fn run_dbt(dbt: &Path, project: &Path, url: &str) {
    let profiles = tempfile::tempdir().expect("tempdir");
    let profile = "convlytics:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n      host: \"{{ env_var('PGHOST') }}\"\n      port: \"{{ env_var('PGPORT') | int }}\"\n      user: \"{{ env_var('PGUSER') }}\"\n      password: \"{{ env_var('PGPASSWORD') }}\"\n      dbname: \"{{ env_var('PGDATABASE') }}\"\n      schema: dbt_analytics\n      threads: 1\n      search_path: \"dbt_analytics,convlytics,public\"\n";
    std::fs::write(profiles.path().join("profiles.yml"), profile).expect("profiles.yml");
    let dir = profiles.path().to_str().expect("a UTF-8 path");
    for command in ["run", "test"] {
        dbt::run(
            &dbt.to_string_lossy(),
            project,
            &[command, "--profiles-dir", dir],
            &dbt::libpq_env(url),
            "Completed successfully",
        );
    }
}

/// `eval identity` on the project's own generated fixture: FEBRL-shaped records with planted
/// duplicates (typos, blanks, swapped names).
#[test]
fn cli_eval_identity_scores_the_fixture() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/identity");
    let records = data.join("records.csv");
    let truth = data.join("true_links.csv");
    let args = ["eval", "identity", "--records", records.to_str().unwrap(), "--truth", truth.to_str().unwrap()];
    let (ok, out, err) = cli::convlytics(&data, &[&args[..], &["--format", "json"]].concat());
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json report");
    let metrics = &report["metrics"];
    assert_eq!((metrics["records"].as_u64(), metrics["true_pairs"].as_u64()), (Some(300), Some(197)));
    assert!(metrics["f1"].as_f64().unwrap() >= 0.99, "{metrics}");
    assert_eq!(report["model"]["columns"].as_array().map(Vec::len), Some(9));

    let (ok, out, err) = cli::convlytics(&data, &args);
    assert!(ok, "{err}");
    assert!(out.contains("precision  1.0000") && out.contains("model (prior"), "{out}");

    let settings = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(settings.path(), "blocking:\n  - [surnam]\n").expect("write");
    let (ok, _, err) =
        cli::convlytics(&data, &[&args[..], &["--settings", settings.path().to_str().unwrap()]].concat());
    assert!(!ok);
    assert!(err.contains("blocking: 'surnam' is not a column"), "{err}");
}

/// `taxonomy from-csv` on the project's own labelled history, then `eval intent` on texts the
/// taxonomy never saw (paraphrases, and out-of-scope questions).
#[test]
fn cli_builds_a_taxonomy_from_a_csv_and_evaluates_it() {
    if !convlytics_core::embed::available_for_test("cli_builds_a_taxonomy_from_a_csv_and_evaluates_it") {
        return;
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/intent");
    let out_dir = tempfile::tempdir().expect("temp dir");
    let yaml = out_dir.path().join("support.yml");
    let args =
        ["taxonomy", "from-csv", "--labels", "history.csv", "--name", "support", "--out", yaml.to_str().unwrap()];
    let (ok, _, err) = cli::convlytics(&data, &args);
    assert!(ok, "{err}");
    let taxonomy =
        convlytics_core::taxonomy::parse_one(&std::fs::read_to_string(&yaml).expect("written")).expect("valid");
    assert_eq!(taxonomy.intents.len(), 4, "the oos row is left out");
    assert_eq!(taxonomy.intent("login_issue").map(|l| l.examples.len()), Some(4));

    let args =
        ["eval", "intent", "--taxonomy-file", yaml.to_str().unwrap(), "--labels", "labels.csv", "--format", "json"];
    let (ok, out, err) = cli::convlytics(&data, &args);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json report");
    let m = &report["metrics"];
    assert_eq!((m["in_scope"].as_u64(), m["out_of_scope"].as_u64()), (Some(12), Some(3)), "{m}");
    assert!(m["accuracy"].as_f64().unwrap() >= 0.9, "{m}");
    assert!(m["out_of_scope_recall"].as_f64().unwrap() >= 0.6, "{m}");
    assert_eq!(m["by_threshold"].as_array().map(Vec::len), Some(9));
    assert_eq!(report["rules_only"], serde_json::Value::Null);
    // The reliability bins hold every text once, and the calibration error is their gap.
    let bins = m["reliability"].as_array().expect("reliability bins");
    assert_eq!(bins.len(), 10);
    assert_eq!(bins.iter().map(|b| b["texts"].as_u64().unwrap()).sum::<u64>(), 15);
    let gap: f64 = bins
        .iter()
        .map(|b| {
            b["texts"].as_f64().unwrap() / 15.0
                * (b["accuracy"].as_f64().unwrap() - b["confidence"].as_f64().unwrap()).abs()
        })
        .sum();
    assert!((m["calibration_error"].as_f64().unwrap() - gap).abs() < 1e-9, "{m}");
    let args = ["eval", "intent", "--taxonomy-file", yaml.to_str().unwrap(), "--labels", "labels.csv"];
    let (ok, out, err) = cli::convlytics(&data, &args);
    assert!(ok && out.contains("reliability (best label, before the threshold)"), "{out}{err}");
    assert!(out.contains("expected calibration error"), "{out}");

    let (ok, _, err) =
        cli::convlytics(&data, &["eval", "intent", "--taxonomy-file", "labels.csv", "--labels", "labels.csv"]);
    assert!(!ok);
    assert!(err.contains("labels.csv:1:1"), "a CSV is not a taxonomy, and the error says where: {err}");
}

/// Without the model files, the taxonomy's keywords and patterns still classify, and the CLI says
/// once that the model is off.
#[test]
fn cli_classifies_by_rules_when_the_model_is_missing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let taxonomy = "{name: t, intents: [{name: refund, keywords: [refund], examples: [give me my money back]}, {name: late, keywords: [late]}]}";
    let sql = format!(
        "select classify_intent(t, '{taxonomy}') as intent, classify_intent_explain(t, '{taxonomy}')['method'] as method
         from (values ('refund please'), ('my order is late'), ('where is everything')) as v(t)"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convlytics"))
        .args(["sql", "--format", "csv", &sql])
        .current_dir(dir.path())
        .env("CONVLYTICS_MODEL_DIR", dir.path().join("no-model"))
        .output()
        .expect("run convlytics");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "intent,method\nrefund,rule\nlate,rule\nunknown,none\n");
    assert_eq!(stderr.matches("semantic intent classification is off").count(), 1, "{stderr}");
    assert!(stderr.contains("is missing: run scripts/setup-models.sh"), "{stderr}");
}

/// A compile of the default project with a mart that copies raw text: the error names the
/// model's file and the lineage path that makes the column raw text.
#[test]
fn a_mart_copying_raw_text_does_not_compile() {
    let project = default_project();
    let mart = project.path().join("models/marts/mart_leak.sql");
    std::fs::write(&mart, "select source_id,\n       payload as body\nfrom {{ ref('raw_interactions') }}\n")
        .expect("write");
    let (ok, out, err) = cli::convlytics(project.path(), &["compile"]);
    assert!(!ok, "{out}");
    assert!(err.contains("models/marts/mart_leak.sql:2:"), "{err}");
    assert!(
        err.contains("column body holds raw_text")
            && err.contains("source raw.raw_interactions.payload (declared raw_text in models/raw/raw.yml) -> raw_interactions.payload -> mart_leak.body"),
        "{err}"
    );
    // A function that carries text through carries its class: a summary of raw text is raw text.
    std::fs::write(&mart, "select source_id,\n       summarize(payload) as gist\nfrom {{ ref('raw_interactions') }}\n")
        .expect("write");
    let (ok, _, err) = cli::convlytics(project.path(), &["compile"]);
    assert!(
        !ok && err.contains("column gist holds raw_text")
            && err.contains("-> raw_interactions.payload -> summarize() carries raw_text -> mart_leak.gist")
            && err.contains("models/marts/mart_leak.sql:2:"),
        "{err}"
    );
    std::fs::write(&mart, "select source_id, length(payload) as size\nfrom {{ ref('raw_interactions') }}\n")
        .expect("write");
    let (ok, out, err) = cli::convlytics(project.path(), &["ls", "--columns", "-s", "mart_leak"]);
    assert!(ok, "a length is a metric: {out}{err}");
    assert!(out.contains("mart_leak.size\tmetric\t"), "{out}");
}

/// The embedded engine: `sql --role` refuses what the role may not read (directly, `select *`,
/// a CTE, a view, a function call, a predicate) naming relation and column, and answers the
/// marts; every enriched row joins `label_runs`; retention removes due text, logs it, and a
/// following run keeps it removed while the marts keep their numbers.
#[test]
fn embedded_roles_audit_and_retention() {
    let project = default_project();
    let dir = project.path();
    archive_raw_text(dir);
    let (ok, out, err) = cli::convlytics(dir, &["run"]);
    assert!(ok, "{out}{err}");
    for sql in [
        "select payload from analytics.raw_interactions",
        "select * from analytics.raw_interactions",
        "with t as (select payload from analytics.raw_interactions) select * from t",
        "select redact_pii(payload) from analytics.raw_interactions",
        "select count(*) from analytics.turns where text_redacted like '%refund%'",
        "select count(*) from stitch_identity('select record_id, email from analytics.identity_records')",
        "select text_redacted from 'target/warehouse/analytics/turns.parquet'",
        "copy (select payload from analytics.raw_interactions) to 'leak.csv'",
        "explain analyze select payload from analytics.raw_interactions",
    ] {
        let (ok, out, err) = cli::convlytics(dir, &["sql", "--role", "analyst", sql]);
        assert!(!ok, "{sql}: {out}");
        assert!(err.contains("permission denied: role analyst may not read column"), "{sql}: {err}");
        let named = [
            "of analytics.raw_interactions",
            "of analytics.turns",
            "of analytics.identity_records",
            "turns.parquet (unclassified)",
        ];
        assert!(named.iter().any(|n| err.contains(n)), "{sql}: {err}");
    }
    let explain = "select label from classify_intent_explain('my parcel is late', 'support')";
    let (ok, out, err) = cli::convlytics(dir, &["sql", "--role", "analyst", explain]);
    assert!(ok && out.contains("delivery_status"), "a table function over constants reads no relation: {out}{err}");
    let (ok, _, err) =
        cli::convlytics(dir, &["sql", "--role", "analyst", "select payload from analytics.raw_interactions"]);
    assert!(!ok && err.contains("column payload of analytics.raw_interactions (raw_text)"), "{err}");
    let (ok, out, err) = cli::convlytics(
        dir,
        &["sql", "--role", "analyst", "--format", "csv", "select count(*) as n from analytics.mart_conversations"],
    );
    assert!(ok && out.contains("17"), "{out}{err}");
    let (ok, out, err) =
        cli::convlytics(dir, &["sql", "--role", "support_lead", "select text_redacted from analytics.turns"]);
    assert!(ok, "support_lead reads redacted turns: {out}{err}");
    let (ok, _, err) = cli::convlytics(dir, &["sql", "--role", "nobody", "select 1"]);
    assert!(!ok && err.contains("no role 'nobody'"), "{err}");

    let orphans = "select count(*) as n from analytics.conversation_intents i \
                   left join analytics.label_runs r on r.run_id = i.run_id where r.run_id is null or r.model_hash = ''";
    let (ok, out, err) = cli::convlytics(dir, &["sql", "--format", "csv", orphans]);
    assert!(ok && out.lines().nth(1) == Some("0"), "{out}{err}");
    let (ok, out, err) = cli::convlytics(dir, &["labels", "history", "--format", "csv", &first_conversation(dir)]);
    assert!(ok && out.contains("conversation_intents,intent,"), "{out}{err}");
    let (ok, out, err) = cli::convlytics(dir, &["labels", "history", "--format", "csv", "x' or '1'='1"]);
    assert!(ok && !out.contains("conversation_intents"), "an id is a value, not SQL: {out}{err}");
    assert!(!dir.join("leak.csv").exists(), "a refused COPY writes nothing");

    let rules = dir.join("models/governance.yml");
    let text = std::fs::read_to_string(&rules).expect("governance.yml");
    let lead = "reads: [metric, label, identifier, pseudonym, redacted_text]\n";
    let filtered = text.replace(lead, &format!("{lead}    rows:\n      conversations: \"channel <> 'voice'\"\n"));
    std::fs::write(&rules, short_retention(&filtered)).expect("write");
    let calls = "select count(*) as n from analytics.conversations";
    let (ok, out, err) = cli::convlytics(dir, &["sql", "--role", "support_lead", "--format", "csv", calls]);
    assert!(ok && out.lines().nth(1) == Some("14"), "a row filter: the 3 calls are not read: {out}{err}");
    let (ok, out, err) = cli::convlytics(dir, &["sql", "--role", "analyst", "--format", "csv", calls]);
    assert!(ok && out.lines().nth(1) == Some("17"), "no filter: {out}{err}");
    let (ok, out, err) = cli::convlytics(dir, &["retention"]);
    assert!(
        ok && out.contains("due: 43 rows of \"analytics\".\"turns\" (speaker_redacted, text_redacted)"),
        "{out}{err}"
    );
    assert!(out.contains("due: 21 rows of \"analytics\".\"raw_archive\" (payload): redact older than"), "{out}");
    let held = "select count(text_redacted) as t from analytics.turns";
    let (_, before, _) = cli::convlytics(dir, &["sql", "--format", "csv", held]);
    assert_eq!(before.lines().nth(1), Some("43"), "a dry run changes nothing");
    let (_, before, _) = cli::convlytics(dir, &["sql", "--format", "csv", ARCHIVED]);
    assert_eq!(before.lines().nth(1), Some("21,3"), "the archive holds raw text: {before}");
    let (ok, out, err) = cli::convlytics(dir, &["retention", "--apply"]);
    assert!(ok, "{out}{err}");
    let marts = "select sum(conversations) as n from analytics.mart_intent_daily";
    for step in ["applied", "next run"] {
        if step == "next run" {
            let (ok, out, err) = cli::convlytics(dir, &["run"]);
            assert!(ok, "{out}{err}");
        }
        let (_, out, _) = cli::convlytics(dir, &["sql", "--format", "csv", held]);
        assert_eq!(out.lines().nth(1), Some("0"), "{step}: {out}");
        let (_, out, _) = cli::convlytics(dir, &["sql", "--format", "csv", marts]);
        assert_eq!(out.lines().nth(1), Some("17"), "{step}: {out}");
        let (_, out, _) = cli::convlytics(dir, &["sql", "--format", "csv", ARCHIVED]);
        assert_eq!(out.lines().nth(1), Some("21,0"), "{step}: raw text kept redacted, not removed: {out}");
    }
    let log = "select rows from analytics.retention_log where relation = '\"analytics\".\"turns\"'";
    let (_, out, _) = cli::convlytics(dir, &["sql", "--format", "csv", log]);
    assert_eq!(out.lines().nth(1), Some("43"), "{out}");
}

/// Adds a stored model of raw text to the default project in `dir` (a table in normalized/,
/// aged by `received_at`), for the `redact` retention rule.
fn archive_raw_text(dir: &Path) {
    let model = "select source_id, payload, received_at from {{ ref('raw_interactions') }}\n";
    std::fs::write(dir.join("models/normalized/raw_archive.sql"), model).expect("write raw_archive");
}

/// The archive's payloads, and how many still hold a customer's email address.
const ARCHIVED: &str = "select count(payload) as kept, \
    count(case when payload like '%maria.lopez@example.com%' then 1 end) as emails from analytics.raw_archive";

/// The default project's retention rules, shortened so the demo's text is due: redacted text
/// after 7 days, and raw text redacted (not removed) after 7 days.
fn short_retention(rules: &str) -> String {
    let raw = "  - data_class: raw_text\n    keep_days: 90\n    action: null\n";
    assert!(rules.contains(raw), "the raw_text rule of models/governance.yml");
    rules
        .replace(raw, "  - data_class: raw_text\n    keep_days: 7\n    action: redact\n")
        .replace("keep_days: 730", "keep_days: 7")
}

/// The id of one conversation of the default project's build.
fn first_conversation(dir: &Path) -> String {
    let sql = "select conversation_id from analytics.conversation_intents order by conversation_id limit 1";
    let (ok, out, err) = cli::convlytics(dir, &["sql", "--format", "csv", sql]);
    assert!(ok, "{out}{err}");
    out.lines().nth(1).expect("a conversation").to_owned()
}

/// An error's SQLSTATE, or a panic naming the query that did not fail.
async fn sqlstate(client: &tokio_postgres::Client, sql: &str) -> String {
    match client.batch_execute(sql).await {
        Ok(()) => panic!("{sql} succeeded"),
        Err(e) => e.code().map(|c| c.code().to_owned()).unwrap_or_else(|| e.to_string()),
    }
}

/// The one count `sql` selects.
async fn count(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

/// PostgreSQL: after `build` and `grants --create-roles`, each default role reads what its
/// classes allow and is refused the rest with permission denied (SQLSTATE 42501), directly,
/// through `select *`, a CTE, a view, a function call and `SET ROLE`; grants are idempotent and
/// revoke what the YAML stops granting; enriched rows join the append-only `label_runs`; and
/// retention removes due text, stays removed after the next run, and keeps the marts' numbers.
#[tokio::test]
async fn postgres_roles_audit_and_retention() {
    let Some(url) = common::postgres_url("postgres_roles_audit_and_retention") else { return };
    let Scratch { admin, client, db, url: db_url } = Scratch::new(&url, "governance").await;
    let project = default_project();
    let dir = project.path();
    archive_raw_text(dir);
    load_raw_interactions(&client, &dir.join("data/demo/raw_interactions.jsonl")).await;
    load_crm(&client, &dir.join("seeds")).await;
    let (ok, out, err) = cli::convlytics(dir, &["build", "--target-url", &db_url]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cli::convlytics(dir, &["grants", "--create-roles", "--target-url", &db_url]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("grants: analyst: reads"), "{out}");
    for role in ["analyst", "support_lead", "privacy_officer"] {
        client.batch_execute(&format!("alter role {role} login")).await.expect("login");
    }
    let analyst = connect_as(&db_url, "analyst").await;
    let forbidden = [
        "select payload from analytics.raw_interactions",
        "select * from analytics.raw_interactions",
        "with t as (select payload from analytics.raw_interactions) select * from t",
        "select convlytics.redact_pii(payload) from analytics.raw_interactions",
        "select text_redacted from analytics.turns",
        "select * from analytics.turns",
        "select count(*) from analytics.turns where text_redacted like '%refund%'",
        "select summary from analytics.conversation_signals",
        "select opening_text from analytics.conversation_intents",
        "select payload from raw.raw_interactions",
        "select email from crm.crm_accounts",
        "select count(*) from convlytics.stitch_identity('select record_id, email from analytics.identity_records')",
    ];
    for sql in forbidden {
        assert_eq!(sqlstate(&analyst, sql).await, "42501", "analyst: {sql}");
    }
    analyst.batch_execute("create temp view leak as select text_redacted from analytics.turns").await.ok();
    assert_eq!(sqlstate(&analyst, "select * from leak").await, "42501", "through a view");
    analyst
        .batch_execute("create function pg_temp.leak() returns setof text language sql as 'select text_redacted from analytics.turns'")
        .await
        .ok();
    assert_eq!(sqlstate(&analyst, "select pg_temp.leak()").await, "42501", "through a function");
    assert_eq!(count(&analyst, "select count(*) from analytics.mart_conversations").await, 17);
    assert_eq!(count(&analyst, "select count(intent) from analytics.conversation_intents").await, 17);
    assert_eq!(count(&analyst, "select count(*) from analytics.label_runs where model_hash <> ''").await, 1);
    assert_eq!(sqlstate(&analyst, "delete from analytics.label_runs").await, "42501");
    client.batch_execute("set role analyst").await.expect("set role");
    assert_eq!(sqlstate(&client, "select payload from analytics.raw_interactions").await, "42501", "set role");
    client.batch_execute("reset role").await.expect("reset role");
    let lead = connect_as(&db_url, "support_lead").await;
    assert_eq!(count(&lead, "select count(text_redacted) from analytics.turns").await, 43);
    assert_eq!(sqlstate(&lead, "select payload from analytics.raw_interactions").await, "42501");
    let officer = connect_as(&db_url, "privacy_officer").await;
    assert_eq!(count(&officer, "select count(payload) from analytics.raw_interactions").await, 21);

    let orphans = "select count(*) from analytics.conversation_intents i \
                   left join analytics.label_runs r using (run_id) where r.run_id is null";
    assert_eq!(count(&client, orphans).await, 0, "every label joins label_runs");
    let first = "select conversation_id::text from analytics.conversation_intents order by 1 limit 1";
    let id: String = client.query_one(first, &[]).await.expect("a conversation").get(0);
    let (ok, out, err) = cli::convlytics(dir, &["labels", "history", &id, "--target-url", &db_url]);
    assert!(ok && out.starts_with("finished_at\tmodel\tfield\tvalue\trun_id\trun_by"), "{out}{err}");
    assert!(out.contains("\tconversation_intents\tintent\t") && out.contains(" as postgres\t"), "{out}");
    assert_eq!(
        sqlstate(&client, "update analytics.label_runs set run_by = 'someone else'").await,
        "42501",
        "append-only"
    );

    let (ok, out, err) = cli::convlytics(dir, &["grants", "--target-url", &db_url]);
    assert!(ok, "grants again: {out}{err}");
    let rules = dir.join("models/governance.yml");
    let text = std::fs::read_to_string(&rules).expect("governance.yml");
    let narrowed =
        text.replace("reads: [metric, label, identifier, pseudonym, redacted_text]\n", "reads: [metric, label]\n");
    std::fs::write(&rules, short_retention(&narrowed)).expect("write");
    let (ok, out, err) = cli::convlytics(dir, &["grants", "--target-url", &db_url]);
    assert!(ok, "{out}{err}");
    assert_eq!(sqlstate(&lead, "select text_redacted from analytics.turns").await, "42501", "revoked");

    let filtered = std::fs::read_to_string(&rules).expect("governance.yml").replace(
        "reads: [metric, label]\n",
        "reads: [metric, label]\n    rows:\n      conversations: \"channel <> 'voice'\"\n",
    );
    std::fs::write(&rules, filtered).expect("write");
    let (ok, out, err) = cli::convlytics(dir, &["grants", "--target-url", &db_url]);
    assert!(ok, "{out}{err}");
    let all = count(&client, "select count(*) from analytics.conversations").await;
    let not_voice = count(&client, "select count(*) from analytics.conversations where channel <> 'voice'").await;
    assert!(not_voice < all, "the demo has calls: {not_voice} of {all}");
    assert_eq!(count(&lead, "select count(*) from analytics.conversations").await, not_voice, "row security");
    assert_eq!(count(&analyst, "select count(*) from analytics.conversations").await, all, "unfiltered");

    let archived = client.query_one(ARCHIVED, &[]).await.expect(ARCHIVED);
    assert_eq!((archived.get::<_, i64>(0), archived.get::<_, i64>(1)), (21, 3), "the archive holds raw text");
    let (ok, out, err) = cli::convlytics(dir, &["retention", "--apply", "--target-url", &db_url]);
    assert!(ok && out.contains("applied: 43 rows of \"analytics\".\"turns\""), "{out}{err}");
    for step in ["applied", "next run"] {
        if step == "next run" {
            let (ok, out, err) = cli::convlytics(dir, &["run", "--target-url", &db_url]);
            assert!(ok, "{out}{err}");
        }
        assert_eq!(count(&officer, "select count(text_redacted) from analytics.turns").await, 0, "{step}");
        assert_eq!(count(&analyst, "select count(*) from analytics.mart_conversations").await, 17, "{step}");
        let archived = client.query_one(ARCHIVED, &[]).await.expect(ARCHIVED);
        assert_eq!((archived.get::<_, i64>(0), archived.get::<_, i64>(1)), (21, 0), "{step}: redacted by the server");
    }
    assert_eq!(count(&client, "select count(*) from analytics.retention_log").await, 7);
    // The boilerplate lines are raw text too.
    let lines = "select count(*) from analytics.retention_log where relation = '\"analytics\".\"boilerplate_lines\"'";
    assert_eq!(count(&client, lines).await, 1);
    drop((analyst, lead, officer, client));
    admin.batch_execute(&format!("drop database {db} with (force)")).await.expect("drop database");
}

/// The validation loop on a generated inbox: a per-label sample, filled from the generator's
/// ground truth, imported; `mart_label_quality`'s precision per label is the truth's on the
/// sample. A file with edited, unknown or repeated rows is refused whole, naming each line.
#[test]
fn reviews_of_a_sample_give_the_truths_precision() {
    let project = generated_project(300);
    let dir = project.path();
    let (ok, out, err) = cli::convlytics(dir, &["build"]);
    assert!(ok, "{out}{err}");
    let args = [
        "review",
        "sample",
        "--model",
        "conversation_intents",
        "--per-label",
        "4",
        "--out",
        "review.csv",
        "--html",
        "review.html",
    ];
    let (ok, out, err) = cli::convlytics(dir, &args);
    assert!(ok && out.contains("per_label"), "{out}{err}");
    let truth_sql = "select c.conversation_id, t.intent from 'generated/truth.csv' t \
                     join analytics.conversations c on c.source = t.source and c.source_id = t.source_id";
    let (ok, out, err) = cli::convlytics(dir, &["sql", "--format", "csv", truth_sql]);
    assert!(ok, "{out}{err}");
    let truth: std::collections::BTreeMap<String, String> =
        out.lines().skip(1).filter_map(|l| l.split_once(',')).map(|(c, i)| (c.to_owned(), i.to_owned())).collect();
    let mut reader = csv::Reader::from_path(dir.join("review.csv")).expect("review.csv");
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let mut rows: Vec<Vec<String>> =
        reader.records().map(|r| r.expect("row").iter().map(str::to_owned).collect()).collect();
    let mut expected: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
    for row in &mut rows {
        let right = &truth[&row[col("conversation_id")]];
        let counts = expected.entry(row[col("label")].clone()).or_default();
        if *right == row[col("label")] {
            row[col("verdict")] = "correct".into();
            counts.0 += 1;
        } else {
            row[col("verdict")] = "wrong".into();
            row[col("correct_label")] = right.clone();
        }
        counts.1 += 1;
    }
    assert!(expected.len() >= 8, "a stratum per label: {expected:?}");
    // Written with CRLF line ends, as spreadsheets save CSV: the line numbers still count right.
    let write = |name: &str, rows: &[Vec<String>]| {
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_path(dir.join(name)).expect("csv");
        w.write_record(&headers).expect("header");
        for r in rows {
            w.write_record(r).expect("row");
        }
        w.flush().expect("flush");
    };
    // Not UTF-8, not a review file, no reviewer: each refused with what to do.
    let mut latin1 = std::fs::read(dir.join("review.csv")).expect("review.csv");
    latin1.extend_from_slice(b"caf\xe9\n");
    std::fs::write(dir.join("latin1.csv"), latin1).expect("write");
    let (ok, _, err) = cli::convlytics(dir, &["review", "import", "latin1.csv", "--reviewer", "ana"]);
    assert!(!ok && err.contains("not UTF-8 at byte") && err.contains("save the review file as UTF-8"), "{err}");
    std::fs::write(dir.join("other.csv"), "text,label\nhello,greeting\n").expect("write");
    let (ok, _, err) = cli::convlytics(dir, &["review", "import", "other.csv", "--reviewer", "ana"]);
    assert!(!ok && err.contains("not a review file: missing column(s) item_id, sample_id"), "{err}");
    let (ok, _, err) = cli::convlytics(dir, &["review", "import", "review.csv", "--reviewer", " "]);
    assert!(!ok && err.contains("--reviewer needs a name"), "{err}");
    // Edited text, an unknown correction and a repeated item: refused, nothing imported.
    let mut bad = rows.clone();
    bad[0][col("text")].push_str(" (edited)");
    bad[1][col("verdict")] = "wrong".into();
    bad[1][col("correct_label")] = "teleportation".into();
    bad.push(bad[2].clone());
    write("bad.csv", &bad);
    let (ok, out, err) = cli::convlytics(dir, &["review", "import", "bad.csv", "--reviewer", "ana"]);
    assert!(!ok, "{out}");
    assert!(err.contains("line 2: the text was edited"), "{err}");
    assert!(err.contains("line 3: unknown correct_label 'teleportation'"), "{err}");
    assert!(err.contains("has a second verdict (the first is on line 4)"), "{err}");
    assert!(err.contains("nothing imported"), "{err}");
    assert!(!dir.join("target/warehouse/reviews/label_reviews.parquet").exists(), "nothing half-imported");

    write("filled.csv", &rows);
    let (ok, out, err) = cli::convlytics(dir, &["review", "import", "filled.csv", "--reviewer", "ana"]);
    assert!(ok && out.contains(&format!("Imported {} reviews", rows.len())), "{out}{err}");
    let (ok, out, err) = cli::convlytics(dir, &["review", "import", "filled.csv", "--reviewer", "ana"]);
    assert!(!ok && err.contains("ana already reviewed item"), "a second import of one file is refused: {out}{err}");
    let (ok, out, err) = cli::convlytics(dir, &["run", "-s", "mart_label_quality"]);
    assert!(ok, "{out}{err}");
    let sql = "select label, correct, reviews, cast(round(precision * 10000) as bigint) as p, \
               cast(precision_low <= precision and precision <= precision_high as varchar) as inside \
               from analytics.mart_label_quality where field = 'intent' order by label";
    let (ok, out, err) = cli::convlytics(dir, &["sql", "--format", "csv", sql]);
    assert!(ok, "{out}{err}");
    let actual: Vec<String> = out.lines().skip(1).map(str::to_owned).collect();
    let wanted: Vec<String> = expected
        .iter()
        .map(|(label, (correct, n))| {
            format!("{label},{correct},{n},{},true", (f64::from(*correct) / f64::from(*n) * 10000.0).round() as i64)
        })
        .collect();
    assert_eq!(actual, wanted);
    let html = std::fs::read_to_string(dir.join("review.html")).expect("review.html");
    let data = html.split("id=\"review-data\">").nth(1).and_then(|d| d.split("</script>").next()).expect("the items");
    assert!(data.contains(&rows[0][col("item_id")]) && !data.contains('<'), "the page holds its items, escaped");

    // A proposed taxonomy weighed against the reviews: the labels it breaks (reviewed right,
    // changed) and fixes (reviewed wrong, now the reviewers' label) are the ones its changes and
    // the reviewers' truth say.
    let current = std::fs::read_to_string(dir.join("models/taxonomies/support.yml")).expect("taxonomy");
    let proposed = current.replace("keywords: [where is my order", "keywords: [order, where is my order");
    std::fs::write(dir.join("proposed.yml"), proposed).expect("proposed taxonomy");
    let args =
        ["taxonomy", "diff", "--taxonomy", "support", "--to", "proposed.yml", "--changes", "c.csv", "--out", "d.md"];
    let (ok, out, err) = cli::convlytics(dir, &args);
    assert!(ok, "{out}{err}");
    let (mut breaks, mut fixes) = (0, 0);
    for (id, old, new) in changes(&dir.join("c.csv")) {
        if rows.iter().any(|r| r[col("conversation_id")] == id) {
            breaks += usize::from(old == truth[&id] && new != truth[&id]);
            fixes += usize::from(old != truth[&id] && new == truth[&id]);
        }
    }
    let report = std::fs::read_to_string(dir.join("d.md")).expect("report");
    assert!(breaks > 0, "a keyword as broad as 'order' breaks reviewed labels: {report}");
    assert!(report.contains(&format!("| intent | {breaks} | {fixes} |")), "{breaks} broken, {fixes} fixed: {report}");
    assert!(report.contains(&format!("{} reviewed intents", rows.len())), "{report}");

    // Corrections become examples: a dry run shows the diff and writes nothing; --apply changes
    // the taxonomy's version, and the next run gives each promoted item its correction.
    if !convlytics_core::embed::available_for_test("reviews_of_a_sample_give_the_truths_precision (promote)") {
        return;
    }
    let taxonomy = dir.join("models/taxonomies/support.yml");
    let before = std::fs::read_to_string(&taxonomy).expect("taxonomy");
    let (ok, out, err) = cli::convlytics(dir, &["review", "promote", "--taxonomy", "support"]);
    assert!(ok && out.contains("Dry run") && out.contains("+++ "), "{out}{err}");
    assert_eq!(std::fs::read_to_string(&taxonomy).expect("taxonomy"), before, "a dry run writes nothing");
    let (ok, out, err) = cli::convlytics(dir, &["review", "promote", "--taxonomy", "support", "--apply"]);
    assert!(ok, "{out}{err}");
    let promoted: usize = out
        .lines()
        .find_map(|l| l.strip_prefix("Wrote ").and_then(|l| l.split(' ').next()).and_then(|n| n.parse().ok()))
        .expect("how many examples");
    assert!(promoted > 0, "{out}");
    let (ok, out, err) = cli::convlytics(dir, &["run"]);
    assert!(ok, "{out}{err}");
    let fixed = "select count(*) as n from reviews.label_reviews r \
                 join analytics.conversation_intents i on i.conversation_id = r.conversation_id \
                 where r.verdict = 'wrong' and i.intent = r.correct_label and i.taxonomy_version <> r.taxonomy_version";
    let (ok, out, err) = cli::convlytics(dir, &["sql", "--format", "csv", fixed]);
    assert!(ok, "{out}{err}");
    let fixed: usize = out.lines().nth(1).and_then(|n| n.parse().ok()).expect("a count");
    assert!(fixed >= promoted, "every promoted correction is the label now: {fixed} of {promoted}");
}

/// The review page in a real headless Chromium (Debian's, driven by playwright-core from npm):
/// a reviewer fills two items and exports; the exported CSV imports, note and all.
#[test]
fn the_review_page_fills_and_exports_in_chromium() {
    let Some(playwright) =
        common::required("CONVLYTICS_TEST_PLAYWRIGHT", "the_review_page_fills_and_exports_in_chromium")
    else {
        return;
    };
    let project = generated_project(120);
    let dir = project.path();
    let (ok, out, err) = cli::convlytics(dir, &["build"]);
    assert!(ok, "{out}{err}");
    let args = ["review", "sample", "--uniform", "4", "--seed", "3", "--out", "page.csv", "--html", "page.html"];
    let (ok, out, err) = cli::convlytics(dir, &args);
    assert!(ok, "{out}{err}");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/review_page.mjs");
    let run = std::process::Command::new("node")
        .arg(&script)
        .args([Path::new(&playwright), &dir.join("page.html"), &dir.join("page-reviewed.csv")])
        .output()
        .expect("run node");
    let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("exported page-reviewed.csv"), "{stdout}");
    let (ok, out, err) = cli::convlytics(dir, &["review", "import", "page-reviewed.csv", "--reviewer", "ana"]);
    assert!(ok && out.contains("Imported 2 reviews") && out.contains("2 rows without a verdict"), "{out}{err}");
    let sql = "select verdict, coalesce(note, '') as note from reviews.label_reviews order by verdict";
    let (ok, out, err) = cli::convlytics(dir, &["sql", "--format", "csv", sql]);
    assert!(ok, "{out}{err}");
    assert_eq!(out, "verdict,note\ncorrect,\nwrong,\"said \"\"refund\"\", then cancel\"\n");
}

/// PostgreSQL, in a database of its own: a sample drawn there imports into
/// `reviews.label_reviews`, which nobody (not even its owner, a superuser) may change, empty or
/// remove rows from (42501), and `mart_label_quality` counts every verdict.
#[tokio::test]
async fn postgres_imports_reviews_append_only() {
    let Some(url) = common::postgres_url("postgres_imports_reviews_append_only") else { return };
    let Scratch { admin, client, db, url: db_url } = Scratch::new(&url, "reviews").await;
    let project = default_project();
    let dir = project.path();
    load_raw_interactions(&client, &dir.join("data/demo/raw_interactions.jsonl")).await;
    load_crm(&client, &dir.join("seeds")).await;
    let (ok, out, err) = cli::convlytics(dir, &["build", "--target-url", &db_url]);
    assert!(ok, "{out}{err}");
    let args = ["review", "sample", "--per-label", "2", "--out", "review.csv", "--target-url", &db_url];
    let (ok, out, err) = cli::convlytics(dir, &args);
    assert!(ok, "{out}{err}");
    let mut reader = csv::Reader::from_path(dir.join("review.csv")).expect("review.csv");
    let headers = reader.headers().expect("header").clone();
    let verdict = headers.iter().position(|h| h == "verdict").expect("verdict");
    let note = headers.iter().position(|h| h == "note").expect("note");
    let mut rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert!(rows.len() >= 4, "{}", rows.len());
    let mut writer = csv::Writer::from_path(dir.join("filled.csv")).expect("csv");
    writer.write_record(&headers).expect("header");
    for (i, row) in rows.iter_mut().enumerate() {
        let mut cells: Vec<&str> = row.iter().collect();
        cells[verdict] = if i == 0 { "unsure" } else { "correct" };
        if i == 0 {
            cells[note] = "hard to tell from the opening alone";
        }
        writer.write_record(&cells).expect("row");
    }
    writer.flush().expect("flush");
    let (ok, out, err) =
        cli::convlytics(dir, &["review", "import", "filled.csv", "--reviewer", "ana", "--target-url", &db_url]);
    assert!(ok && out.contains(&format!("Imported {} reviews", rows.len())), "{out}{err}");
    let stored = count(&client, "select count(*) from reviews.label_reviews where reviewer = 'ana'").await;
    assert_eq!(stored, rows.len() as i64);
    for sql in [
        "update reviews.label_reviews set verdict = 'wrong'",
        "delete from reviews.label_reviews",
        "truncate reviews.label_reviews",
    ] {
        assert_eq!(sqlstate(&client, sql).await, "42501", "{sql}");
    }
    let (ok, out, err) = cli::convlytics(dir, &["run", "-s", "mart_label_quality", "--target-url", &db_url]);
    assert!(ok, "{out}{err}");
    let counted = count(&client, "select cast(sum(reviews) as bigint) from analytics.mart_label_quality").await;
    assert_eq!(counted, rows.len() as i64, "every verdict counts");
    let unsure = count(&client, "select cast(sum(unsure) as bigint) from analytics.mart_label_quality").await;
    assert_eq!(unsure, 1);
    // The docs site of the PostgreSQL warehouse: types from its catalog, the reviews' precision.
    let (ok, out, err) = cli::convlytics(dir, &["docs", "generate", "--target-url", &db_url]);
    assert!(ok && !out.contains("not built yet"), "{out}{err}");
    let page = std::fs::read_to_string(dir.join("target/docs/model.mart_label_quality.html")).expect("page");
    let counted_column = r#"<td><code>reviews</code></td><td>bigint</td>"#;
    assert!(page.contains(counted_column) && page.contains("in the last run"), "{page}");
    let quality = std::fs::read_to_string(dir.join("target/docs/quality.html")).expect("quality.html");
    assert!(quality.contains("Label quality") && !quality.contains("No reviews yet"), "{quality}");
    let charts = std::fs::read_to_string(dir.join("target/docs/charts.html")).expect("charts.html");
    assert!(charts.contains(r#"data-mart="mart_label_quality" data-rows="#), "{charts}");
    // Reviews are governed like every relation: an analyst counts verdicts but cannot read the
    // reviewers' notes (redacted text) nor change a verdict; a support lead reads the notes.
    let (ok, out, err) = cli::convlytics(dir, &["grants", "--create-roles", "--target-url", &db_url]);
    assert!(ok, "{out}{err}");
    for role in ["analyst", "support_lead"] {
        client.batch_execute(&format!("alter role {role} login")).await.expect("login");
    }
    let analyst = connect_as(&db_url, "analyst").await;
    for sql in [
        "select note from reviews.label_reviews",
        "select * from reviews.label_reviews",
        "select count(*) from reviews.label_reviews where note like '%a%'",
        "insert into reviews.label_reviews (review_id) values ('forged')",
        "update reviews.label_reviews set verdict = 'wrong'",
    ] {
        assert_eq!(sqlstate(&analyst, sql).await, "42501", "analyst: {sql}");
    }
    let verdicts = count(&analyst, "select count(verdict) from reviews.label_reviews").await;
    assert_eq!(verdicts, rows.len() as i64, "the analyst reads the verdicts");
    let lead = connect_as(&db_url, "support_lead").await;
    assert_eq!(count(&lead, "select count(note) from reviews.label_reviews").await, 1, "the lead reads the note");
    drop((analyst, lead));

    // A taxonomy diff on PostgreSQL reads its reviews, and lists the changes the embedded engine
    // lists on the same conversations (a keyword for the one opening no rule decides, "ok").
    let current = std::fs::read_to_string(dir.join("models/taxonomies/support.yml")).expect("taxonomy");
    let proposed = current.replace("keywords: [price match,", "keywords: [ok, price match,");
    std::fs::write(dir.join("proposed.yml"), proposed).expect("proposed taxonomy");
    let diff = ["taxonomy", "diff", "--taxonomy", "support", "--to", "proposed.yml", "--out", "d.md", "--changes"];
    let (ok, out, err) = cli::convlytics(dir, &[&diff[..], &["pg.csv", "--target-url", &db_url]].concat());
    assert!(ok, "{out}{err}");
    let report = std::fs::read_to_string(dir.join("d.md")).expect("report");
    assert!(report.contains(&format!("{} reviewed intents", rows.len() - 1)), "the unsure one left out: {report}");
    let (ok, out, err) = cli::convlytics(dir, &["build"]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cli::convlytics(dir, &[&diff[..], &["embedded.csv"]].concat());
    assert!(ok, "{out}{err}");
    let on_postgres = changes(&dir.join("pg.csv"));
    assert_eq!(on_postgres.len(), 1, "{on_postgres:?}");
    assert_eq!(on_postgres, changes(&dir.join("embedded.csv")), "both engines' warehouses, one diff");
    drop(client);
    admin.batch_execute(&format!("drop database {db} with (force)")).await.expect("drop database");
}

/// The generated inbox of `dir/generated` (ending today) split for the observability tests: the
/// records before the last week, and the last week's twice, as it arrived and as a vendor change
/// would deliver it. Every record carries a campaign (`direct` where the generator gave none), so
/// that 40% without one is a change; records after today (replies the generator dates later) are
/// left out, as an export taken today would.
struct Batches {
    first: Vec<String>,
    unchanged: Vec<String>,
    changed: Vec<String>,
}

fn batches(dir: &Path, today: chrono::NaiveDate) -> Batches {
    let generated = dir.join("generated");
    let cut = (today - chrono::Duration::days(6)).to_string();
    let today = today.to_string();
    let mut truth = csv::Reader::from_path(generated.join("truth.csv")).expect("truth");
    let headers = truth.headers().expect("header").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect("truth column");
    let (source, source_id, intent) = (column("source"), column("source_id"), column("intent"));
    let cancellations: std::collections::BTreeSet<(String, String)> = truth
        .records()
        .map(|r| r.expect("truth row"))
        .filter(|r| &r[intent] == "cancel_subscription")
        .map(|r| (r[source].to_owned(), r[source_id].to_owned()))
        .collect();
    let text = std::fs::read_to_string(generated.join("raw_interactions.jsonl")).expect("inbox");
    let mut records: Vec<serde_json::Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    records.retain(|r| r["received_at"].as_str().is_some_and(|t| t[..10] <= *today));
    for r in &mut records {
        if r["campaign"].is_null() {
            r["campaign"] = "direct".into();
        }
    }
    let day = |r: &serde_json::Value| r["received_at"].as_str().unwrap_or_default()[..10].to_owned();
    let key = |r: &serde_json::Value| {
        (r["source"].as_str().unwrap_or_default().to_owned(), r["source_id"].as_str().unwrap_or_default().to_owned())
    };
    let mut donors: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for r in records.iter().filter(|r| day(r) < cut && cancellations.contains(&key(r))) {
        donors
            .entry(r["format"].as_str().unwrap_or_default().to_owned())
            .or_default()
            .push(r["payload"].as_str().unwrap_or_default().to_owned());
    }
    let line = |r: &serde_json::Value| serde_json::to_string(r).expect("json");
    let (first, last): (Vec<_>, Vec<_>) = records.into_iter().partition(|r| day(r) < cut);
    let mut rng = fastrand::Rng::with_seed(23);
    let mut changed = Vec::new();
    for (i, mut r) in last.iter().cloned().enumerate() {
        // The email connector loses nine records in ten.
        if r["channel"] == "email" && rng.f64() < 0.9 {
            continue;
        }
        // The vendor renames contact_email.
        let object = r.as_object_mut().expect("a record");
        let email = object.remove("contact_email").unwrap_or_default();
        object.insert("customer_email".into(), email);
        // 40% of records arrive without a campaign; and one carries a customer's address in it.
        if rng.f64() < 0.4 {
            object.remove("campaign");
        } else if i == 3 {
            object.insert("campaign".into(), "jane.roe@example.org".into());
        }
        // Half of the other channels' conversations are now cancellations.
        let format = object["format"].as_str().unwrap_or_default().to_owned();
        if object["channel"] != "email" && rng.f64() < 0.5 {
            if let Some(payloads) = donors.get(&format) {
                object.insert("payload".into(), payloads[rng.usize(0..payloads.len())].clone().into());
            }
        }
        changed.push(line(&r));
    }
    Batches { first: first.iter().map(line).collect(), unchanged: last.iter().map(line).collect(), changed }
}

/// Writes the inbox file the observability tests build from.
fn write_inbox(dir: &Path, parts: &[&[String]]) {
    let lines: Vec<&String> = parts.iter().flat_map(|p| p.iter()).collect();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join("generated/raw_interactions.jsonl"), text).expect("inbox");
}

/// The failing results of `convlytics monitor --format json`, as (monitor, check, column,
/// dimension) with freshness (which depends on the clock) left out of `all`.
fn monitor_json(out: &str) -> (Vec<serde_json::Value>, std::collections::BTreeSet<String>) {
    let all: Vec<serde_json::Value> = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    for f in &all {
        for key in ["check", "relation", "column", "severity", "status", "message"] {
            assert!(f.get(key).is_some(), "{key} in {f}");
        }
    }
    let failing = all
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| format!("{} {}", f["monitor"].as_str().unwrap_or_default(), f["column"].as_str().unwrap_or_default()))
        .collect();
    let judged = all.into_iter().filter(|f| f["check"] != "freshness").collect();
    (judged, failing)
}

/// The failures a changed last week must raise, and no other: the rename (naming both fields),
/// the missing campaigns (per source), the collapsed email channel, the intent mix (and with it
/// the topics), and the address in a mart column.
fn expected_failures() -> std::collections::BTreeSet<String> {
    [
        "contract raw.raw_interactions contact_email -> customer_email",
        "contact_fields campaign",
        "arrivals ",
        "intent_mix intent",
        "topic_mix topics",
        "pii_leaks campaign",
    ]
    .map(String::from)
    .into()
}

/// Observability end to end on a generated inbox: an unchanged last week raises nothing; the same
/// week as a vendor change delivers it (a renamed field, 40% without a campaign, a collapsed
/// channel, a shifted intent mix, an address in a campaign) is reported by exactly those checks,
/// in the build's output, in `monitor_results` and by `convlytics monitor --format json` (exit
/// 1); PostgreSQL gives the same results.
#[tokio::test]
async fn monitors_report_a_changed_week_and_nothing_on_an_unchanged_one() {
    let project = default_project();
    let dir = project.path();
    let today = chrono::Utc::now().date_naive().to_string();
    let args = ["demo", "generate", "--conversations", "2000", "--out", "generated", "--end", &today, "--days", "56"];
    let (ok, out, err) = cli::convlytics(dir, &args);
    assert!(ok, "{out}{err}");
    let b = batches(dir, chrono::Utc::now().date_naive());
    assert!(
        b.first.len() > 2000 && b.unchanged.len() > 150 && b.changed.len() < b.unchanged.len(),
        "{} {}",
        b.first.len(),
        b.unchanged.len()
    );
    let vars = ["--vars", "{data_dir: generated, crm_dir: generated}"];

    write_inbox(dir, &[&b.first, &b.unchanged]);
    let (ok, out, err) = cli::convlytics(dir, &[&["build"][..], &vars].concat());
    assert!(
        ok && out.contains(" 0 failed, ") && !out.contains("monitor: FAIL"),
        "no false alarm on an unchanged week: {out}{err}"
    );

    // The other week instead (its conversations labelled anew: the same ids arrive changed).
    write_inbox(dir, &[&b.first, &b.changed]);
    let (ok, out, err) = cli::convlytics(dir, &[&["build", "--full-refresh"][..], &vars].concat());
    assert!(!ok && err.contains("error-severity monitor check(s) failed"), "{out}{err}");
    assert!(
        out.contains("monitor: FAIL  schema raw.raw_interactions.contact_email -> customer_email ")
            && out.contains("field contact_email renamed to customer_email"),
        "{out}"
    );
    assert!(out.contains("monitor: FAIL  volume raw.raw_interactions [source=email, channel=email]"), "{out}");
    assert!(
        out.contains("monitor: FAIL  pii_leak analytics.mart_conversations.campaign [type=EMAIL_ADDRESS]: 1 row(s)")
            && !out.contains("jane.roe"),
        "{out}"
    );
    let (ok, json, err) = cli::convlytics(dir, &[&["monitor", "--format", "json"][..], &vars].concat());
    assert!(!ok, "an error-severity failure exits 1: {err}");
    let (embedded, failing) = monitor_json(&json);
    assert_eq!(failing, expected_failures());
    let payload = |f: &&serde_json::Value| {
        f["monitor"] == "contract interactions where format = 'zendesk' and quarantine_reason is null"
    };
    assert_eq!(embedded.iter().filter(payload).count(), 3, "a helpdesk payload's contract is checked: {json}");
    let sql = "select count(*) as n from analytics.monitor_results where status = 'fail' and check_name = 'volume'";
    let (ok, out, err) = cli::convlytics(dir, &["sql", "--format", "csv", sql]);
    assert!(ok && out == "n\n2\n", "the build's and the monitor command's findings are stored: {out}{err}");

    let Some(url) = common::postgres_url("monitors_report_a_changed_week_and_nothing_on_an_unchanged_one") else {
        return;
    };
    let Scratch { admin, client, db, url: db_url } = Scratch::new(&url, "monitors").await;
    write_inbox(dir, &[&b.first, &b.unchanged]);
    load_raw_interactions(&client, &dir.join("generated/raw_interactions.jsonl")).await;
    load_crm(&client, &dir.join("generated")).await;
    let pg = ["--target-url", &db_url];
    let (ok, out, err) = cli::convlytics(dir, &[&["build"][..], &vars, &pg].concat());
    assert!(ok && out.contains(" 0 failed, "), "{out}{err}");
    write_inbox(dir, &[&b.first, &b.changed]);
    load_raw_interactions(&client, &dir.join("generated/raw_interactions.jsonl")).await;
    let (ok, out, err) = cli::convlytics(dir, &[&["build", "--full-refresh"][..], &vars, &pg].concat());
    assert!(!ok && out.contains("field contact_email renamed to customer_email"), "{out}{err}");
    let (ok, json, err) = cli::convlytics(dir, &[&["monitor", "--format", "json"][..], &vars, &pg].concat());
    assert!(!ok, "{err}");
    let (postgres, failing) = monitor_json(&json);
    assert_eq!(failing, expected_failures());
    assert_eq!(postgres.len(), embedded.len());
    for (p, e) in postgres.iter().zip(&embedded) {
        assert_eq!(p, e, "both engines give the same monitor results");
    }
    let stored = count(&client, "select count(*) from analytics.monitor_results where status = 'fail'").await;
    assert!(stored >= 2 * expected_failures().len() as i64, "{stored}");
    drop(client);
    admin.batch_execute(&format!("drop database {db} with (force)")).await.expect("drop database");
}

/// A record that breaks the source contract goes to quarantine with the rule it broke (never the
/// value), and no record is lost on the way.
#[test]
fn contract_breaks_are_quarantined_with_the_reason() {
    let project = default_project();
    let dir = project.path();
    let file = dir.join("data/demo/raw_interactions.jsonl");
    let mut text = std::fs::read_to_string(&file).expect("demo");
    text.push_str(r#"{"source": "intercom", "source_id": "fax-1", "channel": "fax", "format": "plain", "payload": "Customer: my fax number is 555 0100", "received_at": "2026-11-20T10:00:00Z"}"#);
    text.push('\n');
    text.push_str(r#"{"source": "intercom", "source_id": "late-1", "channel": "chat", "format": "plain", "payload": "Customer: hi", "received_at": "yesterday"}"#);
    text.push('\n');
    std::fs::write(&file, text).expect("write");
    let (ok, out, err) = cli::convlytics(dir, &["run"]);
    assert!(ok, "{out}{err}");
    let sql = "select source_id, reason from analytics.quarantine where source_id in ('fax-1', 'late-1') order by 1";
    let (ok, out, err) = cli::convlytics(dir, &["sql", "--format", "csv", sql]);
    assert!(ok, "{out}{err}");
    assert_eq!(
        out,
        "source_id,reason\nfax-1,\"contract raw.raw_interactions: field channel is not one of chat, email, voice, ticket, bot, sms, social\"\nlate-1,contract raw.raw_interactions: field received_at is not a timestamp\n"
    );
    let sql =
        "select (select count(*) from raw.raw_interactions) - (select count(*) from analytics.interactions) as lost";
    let (ok, out, _) = cli::convlytics(dir, &["sql", "--format", "csv", sql]);
    assert!(ok && out == "lost\n0\n", "{out}");
}

/// The marts the docs site charts, one chart each.
const CHARTED_MARTS: [&str; 8] = [
    "mart_intent_daily",
    "mart_topic_trends",
    "mart_resolution",
    "mart_sentiment_trajectory",
    "mart_repeat_contacts",
    "mart_campaign_friction",
    "mart_agent_qa",
    "mart_label_quality",
];

/// The docs site of a built demo project, read in headless Chromium (tests/browser/docs_site.mjs):
/// no console errors and no requests outside the site, the lineage graph is the manifest's,
/// each chart draws one mark per row of its mart (counted here with `convlytics sql`), the
/// search finds a column, column lineage reaches the raw source. Screenshots are kept in
/// `$CARGO_TARGET_TMPDIR/docs-site`.
#[test]
fn the_docs_site_reads_in_chromium() {
    let Some(playwright) = common::required("CONVLYTICS_TEST_PLAYWRIGHT", "the_docs_site_reads_in_chromium") else {
        return;
    };
    let project = generated_project(300);
    let dir = project.path();
    let (ok, out, err) = cli::convlytics(dir, &["build"]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cli::convlytics(dir, &["docs", "generate"]);
    assert!(ok && out.contains("Open ") && !out.contains("not built yet"), "{out}{err}");
    let site = dir.join("target/docs");
    let mut total = 0;
    for entry in walkdir::WalkDir::new(&site).into_iter().map(|e| e.expect("walk")).filter(|e| e.file_type().is_file())
    {
        let size = entry.metadata().expect("size").len();
        assert!(size < 1_000_000, "{} is {size} bytes", entry.path().display());
        total += size;
    }
    assert!(total < 4_000_000, "the site is {total} bytes");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("target/manifest.json")).expect("manifest"))
            .expect("json");
    let mut nodes: Vec<String> = manifest["nodes"]
        .as_object()
        .expect("nodes")
        .iter()
        .filter(|(_, n)| n["resource_type"] == "model" || n["resource_type"] == "seed")
        .map(|(id, _)| id.clone())
        .collect();
    nodes.extend(manifest["sources"].as_object().expect("sources").keys().cloned());
    let mut edges = Vec::new();
    for (child, parents) in manifest["parent_map"].as_object().expect("parent_map") {
        for parent in parents.as_array().expect("parents") {
            let parent = parent.as_str().expect("id").to_owned();
            if nodes.contains(child) && nodes.contains(&parent) {
                edges.push([parent, child.clone()]);
            }
        }
    }
    let mut marts = serde_json::Map::new();
    for mart in CHARTED_MARTS {
        let sql = format!("select count(*) as n from analytics.{mart}");
        let (ok, out, err) = cli::convlytics(dir, &["sql", "--format", "csv", &sql]);
        assert!(ok, "{out}{err}");
        let rows: u64 = out.lines().nth(1).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{out}"));
        marts.insert(mart.to_owned(), rows.into());
    }
    assert!(marts["mart_intent_daily"].as_u64() > Some(100), "{marts:?}");
    let expect = serde_json::json!({
        "nodes": nodes, "edges": edges, "marts": marts,
        "click": "model.convlytics.mart_conversations",
        "search": {
            "query": "avg_sentiment_end", "column": "avg_sentiment_end",
            "href": "model.mart_sentiment_trajectory.html#column-avg_sentiment_end",
        },
        "lineage": {
            "page": "model.mart_sentiment_trajectory.html", "column": "avg_sentiment_end",
            "from": ["mart_conversations.sentiment_end", "conversation_signals.sentiment_end"],
            "lit": ["model.convlytics.conversation_signals", "model.convlytics.turns", "source.convlytics.raw.raw_interactions"],
        },
        "taxonomy": "taxonomy.support.html",
    });
    std::fs::write(dir.join("expect.json"), expect.to_string()).expect("expect.json");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("docs-site");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/docs_site.mjs");
    let run = std::process::Command::new("node")
        .arg(&script)
        .args([Path::new(&playwright), &site, &dir.join("expect.json"), &shots])
        .output()
        .expect("run node");
    let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("8 charts checked"), "{stdout}");
}

/// Before a build the site still has every page (and says the warehouse is not built);
/// `docs serve` shows it over HTTP on the loopback interface, and nothing outside it.
#[test]
fn docs_generate_before_a_build_and_serve_it() {
    use std::io::{BufRead, Read, Write};
    let project = default_project();
    let dir = project.path();
    let (ok, out, err) = cli::convlytics(dir, &["docs", "serve", "--port", "0"]);
    assert!(!ok && err.contains("run `convlytics docs generate` first"), "{out}{err}");
    let (ok, out, err) = cli::convlytics(dir, &["docs", "generate"]);
    assert!(ok && out.contains("not built yet"), "{out}{err}");
    let index = std::fs::read_to_string(dir.join("target/docs/index.html")).expect("index.html");
    assert!(index.contains("The warehouse is not built yet"), "{index}");
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_convlytics"))
        .args(["docs", "serve", "--port", "0"])
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("docs serve");
    let mut banner = String::new();
    std::io::BufReader::new(server.stdout.take().expect("stdout")).read_line(&mut banner).expect("banner");
    let address = banner.split("http://").nth(1).and_then(|a| a.split('/').next()).expect("address").to_owned();
    assert!(address.starts_with("127.0.0.1:"), "{banner}");
    let get = |path: &str| {
        let mut stream = std::net::TcpStream::connect(&address).expect("connect");
        write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        response
    };
    let home = get("/");
    let model = get("/model.mart_resolution.html");
    let outside = get("/../dbt_project.yml");
    server.kill().expect("stop");
    let _ = server.wait();
    assert!(home.starts_with("HTTP/1.1 200") && home.contains("<h1>convlytics</h1>"), "{home}");
    assert!(model.starts_with("HTTP/1.1 200") && model.contains("mart_resolution"), "{model}");
    assert!(outside.starts_with("HTTP/1.1 404") && !outside.contains("name:"), "{outside}");
}
