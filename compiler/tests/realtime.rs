//! Real time: records enriched as they arrive give the rows a batch run gives. On PostgreSQL
//! (when `CONVLYTICS_TEST_PG_URL` is set) through the trigger `realtime enable` installs, with
//! alerts received by LISTEN; on the embedded engine through `convlytics watch`, killed and
//! restarted while files and half lines arrive.

mod cli;
mod common;
mod warehouse;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use warehouse::{connect_as, generated_project, load_crm, load_raw_interactions, Scratch};

/// The models `models/realtime.yml` keeps current.
const CHAIN: [&str; 6] =
    ["interactions", "quarantine", "turns", "conversations", "conversation_intents", "conversation_signals"];

/// A chat the default taxonomy and rules read as an escalation with a frustrated customer.
const PLANTED: &str = r#"{"source": "intercom", "source_id": "planted-escalation", "channel": "chat", "format": "plain", "payload": "[09:00:01] Dana: This is the THIRD time I am writing!! My order still has not arrived and nobody answers. Ridiculous.\n[09:00:40] Kate: I am sorry, I am escalating this to our senior delivery team right now.\n[09:01:02] Dana: Unacceptable. I am fed up.\n[09:01:30] Kate: I have escalated it, a supervisor will call you today.\n", "received_at": "2026-11-24T09:00:01Z"}"#;

/// A raw record whose payload does not parse: quarantined by the models, on arrival too.
const BROKEN: &str = r#"{"source": "bot", "source_id": "broken-payload", "channel": "bot", "format": "json", "payload": "{\"messages\": [{\"role\": \"user\", \"text\": \"hi\"", "received_at": "2026-11-24T10:00:00Z"}"#;

/// `n` chats asking the same question, received now: a spike of one intent within the hour.
fn spike(tag: &str, n: usize) -> Vec<String> {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    (0..n)
        .map(|i| {
            format!(
                r#"{{"source": "intercom", "source_id": "spike-{tag}-{i}", "channel": "chat", "format": "plain", "payload": "[10:00:00] Sam: Hi, I was charged twice for my order this morning, can you refund the second payment?\n[10:00:30] Kate: I am sorry, let me check the payments on your account.\n", "received_at": "{now}"}}"#
            )
        })
        .collect()
}

/// A generated project whose boilerplate lines are the same whichever part of its records is
/// built first. Boilerplate is a statistic over a source's conversations: records enriched on
/// arrival lose the lines of the last build (docs/realtime.md), and in a small inbox a canned
/// reply can be over the default share (half the conversations) in one part and under it in the
/// whole; a line said in nine conversations out of ten is boilerplate in every part.
fn project(conversations: u32) -> tempfile::TempDir {
    let project = generated_project(conversations);
    let config = project.path().join("dbt_project.yml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("boilerplate_min_share: 0.5", "boilerplate_min_share: 0.9")).expect("config");
    project
}

/// Every row of the chain's models, as canonical JSON without the run that wrote it, sorted.
async fn chain_rows(client: &tokio_postgres::Client) -> Vec<(String, Vec<String>)> {
    let mut all = Vec::new();
    for model in CHAIN {
        let sql = format!("select (to_jsonb(x) - 'run_id')::text from analytics.{model} as x");
        let mut rows: Vec<String> =
            client.query(&sql, &[]).await.expect(&sql).iter().map(|r| r.get::<_, String>(0)).collect();
        rows.sort();
        all.push((model.to_owned(), rows));
    }
    all
}

/// Inserts `lines` (JSON objects) into `raw.raw_interactions` in one statement.
async fn insert_lines(client: &tokio_postgres::Client, lines: &[&str]) {
    let array = format!("[{}]", lines.join(","));
    client
        .execute(
            "insert into raw.raw_interactions select * from json_populate_recordset(null::raw.raw_interactions, cast($1::text as json))",
            &[&array],
        )
        .await
        .expect("insert raw records");
}

/// Fails, showing the rows only one side has, when `got` and `want` differ.
fn assert_same(what: &str, got: &[String], want: &[String]) {
    let only = |a: &[String], b: &[String]| a.iter().filter(|r| !b.contains(r)).take(3).cloned().collect::<Vec<_>>();
    assert!(
        got == want,
        "{what}: {} rows enriched on arrival, {} in the batch build\nonly on arrival: {:#?}\nonly in the batch build: {:#?}",
        got.len(),
        want.len(),
        only(got, want),
        only(want, got)
    );
}

fn count_sql(sql: &str) -> String {
    format!("select count(*) from ({sql}) as c")
}

/// The one text value `sql` selects.
async fn one_text(client: &tokio_postgres::Client, sql: &str) -> String {
    client.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

async fn count(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client.query_one(&count_sql(sql), &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

/// PostgreSQL: the default project built on two thirds of a generated inbox, real time enabled,
/// the rest inserted in batches of 1, 7 and the remainder (with an email reply to a stored thread
/// among them, and a planted escalation): every row of the chain's models equals a batch build on
/// all records; the escalation's alert arrives by NOTIFY, once; a broken payload is quarantined
/// and its insert commits; a loader that may only insert gets its records enriched and is refused
/// the warehouse and the enrichment function; a failing enrichment quarantines each record with
/// the reason and commits the insert; after `disable`, inserts are not enriched.
#[tokio::test]
async fn postgres_enriches_inserts_as_a_batch_build_does() {
    let Some(url) = common::postgres_url("postgres_enriches_inserts_as_a_batch_build_does") else { return };
    let project = project(150);
    let dir = project.path();
    let file = dir.join("generated/raw_interactions.jsonl");
    let text = std::fs::read_to_string(&file).expect("generated records");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    // Built first: two thirds of the records, email replies aside; inserted after: the rest, so
    // that replies arrive for threads stored before.
    let cut = lines.len() * 2 / 3;
    let reply = |l: &&str| l.contains("In-Reply-To");
    let first: Vec<&str> = lines[..cut].iter().filter(|l| !reply(l)).copied().collect();
    let mut rest: Vec<&str> = lines[..cut].iter().filter(|l| reply(l)).copied().collect();
    rest.extend(&lines[cut..]);
    rest.push(PLANTED);
    let lines: Vec<&str> = first.iter().chain(&rest).copied().collect();

    let live = Scratch::new(&url, "realtime_live").await;
    let batch = Scratch::new(&url, "realtime_batch").await;
    let first_file = dir.join("first.jsonl");
    std::fs::write(&first_file, first.join("\n") + "\n").expect("first records");
    let all_file = dir.join("all.jsonl");
    std::fs::write(&all_file, lines.join("\n") + "\n").expect("all records");
    load_raw_interactions(&live.client, &first_file).await;
    load_raw_interactions(&batch.client, &all_file).await;
    for scratch in [&live, &batch] {
        load_crm(&scratch.client, &dir.join("generated")).await;
    }
    let run = |args: &[&str]| {
        let (ok, out, err) = cli::convlytics(dir, args);
        assert!(ok, "convlytics {args:?}: {out}{err}");
        out
    };
    run(&["build", "--target-url", &live.url]);
    let enabled = run(&["realtime", "enable", "--target-url", &live.url]);
    assert!(enabled.contains("Real time enabled: inserts into \"raw\".\"raw_interactions\""), "{enabled}");
    // Enabling again replaces what it installed.
    run(&["realtime", "enable", "--target-url", &live.url]);
    // A rule naming a column that is not there would fail every arrival: enable refuses it and
    // leaves what it had installed.
    let spec = dir.join("models/realtime.yml");
    let good = std::fs::read_to_string(&spec).expect("spec");
    std::fs::write(&spec, good.replace("detail: topics", "detail: topicz")).expect("spec");
    let (ok, out, err) = cli::convlytics(dir, &["realtime", "enable", "--target-url", &live.url]);
    assert!(!ok && err.contains("on an empty arrival") && err.contains("topicz"), "{out}{err}");
    std::fs::write(&spec, good).expect("spec");
    run(&["build", "--target-url", &batch.url]);

    let (sender, mut alerts) = tokio::sync::mpsc::unbounded_channel();
    let listen_url = live.url.clone();
    tokio::spawn(async move {
        convlytics::realtime::postgres::listen(&listen_url, "analytics", |fired| sender.send(fired).is_ok())
            .await
            .expect("listen");
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    insert_lines(&live.client, &rest[..1]).await;
    insert_lines(&live.client, &rest[1..8]).await;
    insert_lines(&live.client, &rest[8..]).await;
    let first_ids: Vec<String> = first
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["source_id"].as_str().expect("id").to_owned()
        })
        .collect();
    let spanning = "select conversation_id from analytics.interactions group by 1
                    having bool_or(source_id = any($1)) and bool_or(not source_id = any($1))";
    let spanning: i64 = batch.client.query_one(&count_sql(spanning), &[&first_ids]).await.expect("threads").get(0);
    assert!(spanning >= 5, "replies arrive for threads stored before: {spanning}");

    let (live_rows, batch_rows) = (chain_rows(&live.client).await, chain_rows(&batch.client).await);
    for ((model, got), (_, want)) in live_rows.iter().zip(&batch_rows) {
        assert!(!want.is_empty(), "{model} is empty");
        assert_same(model, got, want);
    }
    // A batch run afterwards finds nothing to label again.
    let out = run(&["run", "--target-url", &live.url, "-s", "conversation_intents", "conversation_signals"]);
    assert!(out.contains("incremental \"analytics\".\"conversation_intents\" [0 rows"), "{out}");
    assert!(out.contains("incremental \"analytics\".\"conversation_signals\" [0 rows"), "{out}");

    let planted = one_text(
        &live.client,
        "select cast(convlytics.conversation_id(text 'intercom', text 'planted-escalation') as text)",
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let fired = loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        let fired = tokio::time::timeout(wait, alerts.recv()).await.expect("the planted escalation's NOTIFY");
        let fired = fired.expect("listening");
        if fired.rule == "frustrated_escalation" && fired.conversation_id.as_deref() == Some(planted.as_str()) {
            break fired;
        }
    };
    assert_eq!(fired.severity.as_deref(), Some("error"), "{fired:?}");
    assert_eq!(fired.detail.as_deref(), Some("delivery_status"), "{fired:?}");
    let folded = "select rule, conversation_id from analytics.alerts group by 1, 2 having count(*) > 1";
    assert_eq!(count(&live.client, folded).await, 0, "one alert per rule and conversation");
    // The same conversation arriving again (a duplicate delivery) fires nothing new.
    insert_lines(&live.client, &[PLANTED]).await;
    let planted_alerts = format!("select 1 from analytics.alerts where conversation_id = '{planted}'");
    assert_eq!(count(&live.client, &planted_alerts).await, 1);

    // Conversations of one intent crowding into the hour against a quiet week: the spike rule
    // fires once it sees ten, and once per intent and hour however many more arrive.
    let spikes = spike("pg", 14);
    let spikes: Vec<&str> = spikes.iter().map(String::as_str).collect();
    let hour = "select cast(date_trunc('hour', now()) as text)";
    let first_hour = one_text(&live.client, hour).await;
    let spike_alerts = "select 1 from analytics.alerts where rule = 'topic_spike'";
    insert_lines(&live.client, &spikes[..6]).await;
    assert_eq!(count(&live.client, spike_alerts).await, 0, "six conversations are no spike");
    insert_lines(&live.client, &spikes[6..12]).await;
    insert_lines(&live.client, &spikes[12..]).await;
    let hours = if one_text(&live.client, hour).await == first_hour { 1 } else { 2 };
    let fired = count(&live.client, spike_alerts).await;
    assert!((1..=hours).contains(&fired), "{fired} spike alert(s) within {hours} hour(s)");
    let intent = one_text(
        &live.client,
        "select string_agg(distinct i.intent, ',') from analytics.conversation_intents as i
         join analytics.conversations as c using (conversation_id) where c.source_id like 'spike-pg-%'",
    )
    .await;
    let detail = one_text(
        &live.client,
        "select string_agg(distinct detail, ',') from analytics.alerts where rule = 'topic_spike'",
    )
    .await;
    assert_eq!(detail, intent, "the spike alert names the intent");

    // A loader that may only insert raw records gets them enriched (the trigger runs as its
    // owner), and still reads nothing of the warehouse nor runs the enrichment itself.
    let role = format!("realtime_loader_{}", std::process::id());
    live.client
        .batch_execute(&format!(
            "create role {role} login; grant usage on schema raw to {role}; grant insert on raw.raw_interactions to {role}"
        ))
        .await
        .expect("loader role");
    let loader = connect_as(&live.url, &role).await;
    insert_lines(&loader, &[&PLANTED.replace("planted-escalation", "loaded-1")]).await;
    assert_eq!(count(&live.client, "select 1 from analytics.conversations where source_id = 'loaded-1'").await, 1);
    for sql in [
        "select * from analytics.turns",
        "select analytics.convlytics_realtime_enrich()",
        "select * from analytics.alerts",
    ] {
        let denied = loader.batch_execute(sql).await.expect_err(sql);
        assert_eq!(denied.code().map(|c| c.code()), Some("42501"), "{sql}: {denied}");
    }
    drop(loader);

    // statement_timeout covers the enrichment: a cancel is not a failing record (PL/pgSQL's
    // `when others` does not catch it), so the insert is cancelled whole, nothing half-written.
    let slow: Vec<String> = (0..40).map(|i| PLANTED.replace("planted-escalation", &format!("timed-{i}"))).collect();
    let slow: Vec<&str> = slow.iter().map(String::as_str).collect();
    live.client.batch_execute("set statement_timeout = '5ms'").await.expect("timeout");
    let array = format!("[{}]", slow.join(","));
    let cancelled = live
        .client
        .execute(
            "insert into raw.raw_interactions select * from json_populate_recordset(null::raw.raw_interactions, cast($1::text as json))",
            &[&array],
        )
        .await
        .expect_err("cancelled by statement_timeout");
    assert_eq!(cancelled.code().map(|c| c.code()), Some("57014"), "{cancelled}");
    live.client.batch_execute("reset statement_timeout").await.expect("timeout");
    for table in ["raw.raw_interactions", "analytics.interactions", "analytics.quarantine"] {
        let rows = format!("select 1 from {table} where source_id like 'timed-%'");
        assert_eq!(count(&live.client, &rows).await, 0, "{table}");
    }

    // A payload that does not parse is quarantined with the reason; the insert commits.
    insert_lines(&live.client, &[BROKEN]).await;
    let reason =
        one_text(&live.client, "select reason from analytics.quarantine where source_id = 'broken-payload'").await;
    assert!(reason.contains("JSON"), "{reason}");
    assert_eq!(count(&live.client, "select 1 from raw.raw_interactions where source_id = 'broken-payload'").await, 1);

    // Enrichment that fails (here a constraint no new conversation can meet) quarantines each
    // record with the reason, and the customer's insert still commits.
    live.client
        .batch_execute("alter table analytics.conversations add constraint refuse_new check (false) not valid")
        .await
        .expect("constraint");
    let extra = PLANTED.replace("planted-escalation", "refused-1");
    let extra2 = PLANTED.replace("planted-escalation", "refused-2");
    insert_lines(&live.client, &[&extra, &extra2]).await;
    for id in ["refused-1", "refused-2"] {
        let reason =
            one_text(&live.client, &format!("select reason from analytics.quarantine where source_id = '{id}'")).await;
        assert!(reason.starts_with("realtime enrichment failed: ") && reason.contains("refuse_new"), "{reason}");
        let raw = format!("select 1 from raw.raw_interactions where source_id = '{id}'");
        assert_eq!(count(&live.client, &raw).await, 1, "the insert committed");
        let enriched = format!("select 1 from analytics.interactions where source_id = '{id}'");
        assert_eq!(count(&live.client, &enriched).await, 0, "nothing half-enriched");
    }

    let disabled = run(&["realtime", "disable", "--target-url", &live.url]);
    assert!(disabled.contains("Real time disabled"), "{disabled}");
    let before = count(&live.client, "select 1 from analytics.quarantine").await;
    insert_lines(&live.client, &[&PLANTED.replace("planted-escalation", "after-disable")]).await;
    assert_eq!(count(&live.client, "select 1 from analytics.quarantine").await, before);
    let after = "select 1 from analytics.interactions where source_id = 'after-disable'";
    assert_eq!(count(&live.client, after).await, 0);

    live.client.batch_execute(&format!("drop owned by {role}; drop role {role}")).await.expect("drop role");
    for scratch in [live, batch] {
        let Scratch { admin, client, db, .. } = scratch;
        drop(client);
        admin.batch_execute(&format!("drop database {db} with (force)")).await.expect("drop database");
    }
}

/// A `convlytics watch` process on `dir`, its output in `log`.
fn spawn_watch(dir: &Path, log: &Path) -> Child {
    let out = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("log");
    Command::new(env!("CARGO_BIN_EXE_convlytics"))
        .args(["watch", "--interval-ms", "100"])
        .current_dir(dir)
        .env_remove("DBT_PROFILES_DIR")
        .stdout(Stdio::from(out.try_clone().expect("log")))
        .stderr(Stdio::from(out))
        .spawn()
        .expect("start convlytics watch")
}

/// Waits until the watcher has published everything up to `offsets` (file name, bytes).
fn wait_for(dir: &Path, log: &Path, offsets: &[(&str, u64)]) {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let checkpoint = dir.join("target/warehouse/_realtime/checkpoint.json");
        if let Ok(text) = std::fs::read_to_string(&checkpoint) {
            let json: serde_json::Value = serde_json::from_str(&text).expect("checkpoint");
            if offsets.iter().all(|(f, n)| json["files"][*f].as_u64() == Some(*n)) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the watcher did not catch up: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The embedded engine: `watch` follows a directory while a JSON-lines file grows (with a half
/// line left for a while), a new file appears with a line that is not JSON, and the watcher is
/// killed (SIGKILL, mid-batch) and restarted; every conversation is in the warehouse exactly once
/// and the chain's models and a mart equal a batch build of the same records; Ctrl-C (SIGINT)
/// stops it cleanly.
#[test]
fn watch_survives_half_lines_and_a_kill_and_misses_nothing() {
    let project = project(120);
    let dir = project.path();
    let text = std::fs::read_to_string(dir.join("generated/raw_interactions.jsonl")).expect("records");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let config = dir.join("dbt_project.yml");
    let settings = std::fs::read_to_string(&config).expect("config").replace("data_dir: generated", "data_dir: inbox");
    std::fs::write(&config, settings).expect("config");
    let inbox = dir.join("inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let main = inbox.join("raw_interactions.jsonl");
    let log = dir.join("watch.log");
    let third = lines.len() / 3;
    let append = |file: &Path, text: &str| {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(file).expect("open");
        f.write_all(text.as_bytes()).expect("append");
        std::fs::metadata(file).expect("size").len()
    };
    let mut size = append(&main, &(lines[..third].join("\n") + "\n"));
    let mut watcher = spawn_watch(dir, &log);
    wait_for(dir, &log, &[("raw_interactions.jsonl", size)]);

    // A half-written line is not read until it is whole.
    let (head, tail) = lines[third].split_at(lines[third].len() / 2);
    append(&main, head);
    std::thread::sleep(Duration::from_millis(600));
    wait_for(dir, &log, &[("raw_interactions.jsonl", size)]);
    size = append(&main, &format!("{tail}\n{}\n", lines[third + 1..2 * third].join("\n")));
    // Killed while it works on these: the batch it had under way is not published.
    std::thread::sleep(Duration::from_millis(150));
    watcher.kill().expect("kill");
    watcher.wait().expect("killed");

    let extra = inbox.join("more.jsonl");
    let extra_size = append(&extra, &format!("{{not json\n{}\n", lines[2 * third..].join("\n")));
    let mut watcher = spawn_watch(dir, &log);
    wait_for(dir, &log, &[("raw_interactions.jsonl", size), ("more.jsonl", extra_size)]);

    // Conversations of one intent crowding into the hour: six, then eight more.
    let first_hour = chrono::Utc::now().format("%Y-%m-%d %H").to_string();
    let spikes = spike("watch", 14);
    let spike_file = inbox.join("spike.jsonl");
    let spike_size = append(&spike_file, &(spikes[..6].join("\n") + "\n"));
    wait_for(dir, &log, &[("spike.jsonl", spike_size)]);
    let spike_size = append(&spike_file, &(spikes[6..].join("\n") + "\n"));
    wait_for(dir, &log, &[("spike.jsonl", spike_size)]);
    let hours = if chrono::Utc::now().format("%Y-%m-%d %H").to_string() == first_hour { 1 } else { 2 };
    let pid = watcher.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().expect("send SIGINT");
    let status = watcher.wait().expect("stopped");
    let out = std::fs::read_to_string(&log).expect("log");
    assert!(status.success() && out.contains("Stopped: everything read is published"), "{status:?}\n{out}");
    assert!(out.contains("1 line(s) quarantined"), "{out}");

    let sql = |dir: &Path, query: &str| {
        let (ok, out, err) = cli::convlytics(dir, &["sql", "--format", "csv", query]);
        assert!(ok, "{query}: {err}");
        let mut rows: Vec<String> = out.lines().skip(1).map(str::to_owned).collect();
        rows.sort();
        rows
    };
    let once = sql(dir, "select count(*) = count(distinct conversation_id) from analytics.conversations");
    assert_eq!(once, ["true"], "every conversation once");
    let rejected = sql(dir, "select reason from analytics.quarantine where source_id is null");
    assert!(rejected.iter().any(|r| r.contains("not JSON")), "{rejected:?}");
    // The spike rule fired once per intent and hour, not before the tenth conversation.
    let fired = sql(
        dir,
        "select c.source_id, a.detail, i.intent from analytics.alerts as a
         join analytics.conversations as c on c.conversation_id = a.conversation_id
         join analytics.conversation_intents as i on i.conversation_id = a.conversation_id
         where a.rule = 'topic_spike'",
    );
    assert!((1..=hours).contains(&fired.len()), "{fired:?}");
    for row in &fired {
        let [source_id, detail, intent] = row.split(',').collect::<Vec<_>>()[..] else { panic!("{row}") };
        let n: usize = source_id.strip_prefix("spike-watch-").and_then(|n| n.parse().ok()).expect(source_id);
        assert!(n >= 6 && detail == intent, "{row}");
    }

    // The same records built as a batch.
    let batch =
        cli::copy_project(dir, |top| ["dbt_project.yml", "models", "macros", "seeds", "generated"].contains(&top));
    let all = batch.path().join("inbox");
    std::fs::create_dir_all(&all).expect("inbox");
    let records: Vec<&str> = lines.iter().copied().chain(spikes.iter().map(String::as_str)).collect();
    std::fs::write(all.join("raw_interactions.jsonl"), records.join("\n") + "\n").expect("records");
    let (ok, out, err) = cli::convlytics(batch.path(), &["run"]);
    assert!(ok, "{out}{err}");
    for model in CHAIN.iter().filter(|m| **m != "quarantine").chain(&["mart_intent_daily", "mart_resolution"]) {
        let query = match *model {
            "conversation_intents" | "conversation_signals" => {
                format!("select * except (run_id) from analytics.{model}")
            }
            _ => format!("select * from analytics.{model}"),
        };
        let (got, want) = (sql(dir, &query), sql(batch.path(), &query));
        assert!(!want.is_empty(), "{model}");
        assert_same(model, &got, &want);
    }
}
