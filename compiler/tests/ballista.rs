//! Scale-out: the default project on a real Ballista cluster on loopback (a `convlytics
//! scheduler` and two `convlytics executor` processes this test starts) gives the marts the
//! embedded engine gives, and a build that loses an executor midway either fails clearly, with
//! the previous outputs published and whole, or finishes with the same marts.

mod cli;
#[allow(dead_code)] // the PostgreSQL helpers: these tests build on files
mod warehouse;

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A scheduler and its executors, stopped when dropped.
struct Cluster {
    url: String,
    scheduler: Child,
    executors: Vec<Child>,
    logs: PathBuf,
}

impl Cluster {
    /// The last lines of each process's log, for a failure's message.
    fn logs(&self) -> String {
        let mut all = String::new();
        for entry in std::fs::read_dir(&self.logs).expect("logs").flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let lines: Vec<&str> = text.lines().filter(|l| !l.contains("should not be none")).collect();
                let tail = lines[lines.len().saturating_sub(30)..].join("\n");
                all.push_str(&format!("== {}\n{tail}\n", path.display()));
            }
        }
        all
    }

    /// Runs `convlytics args` in `project`, asserting it succeeds (with the cluster's logs when
    /// not); its stdout.
    fn ok(&self, project: &Path, args: &[&str]) -> String {
        let (ok, out, err) = cli::convlytics(project, args);
        assert!(ok, "convlytics {args:?} failed:\n{out}\n{err}\n{}", self.logs());
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.executors.iter_mut().chain(std::iter::once(&mut self.scheduler)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A port nothing listens on.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("its address").port()
}

fn spawn(args: &[String], log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_convlytics"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start a cluster process")
}

fn wait_for_port(port: u16, what: &str) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(60), "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts a scheduler and `executors` executors of one task each, logging under `logs`.
fn start_cluster(executors: usize, logs: &Path) -> Cluster {
    let port = free_port();
    let scheduler = spawn(
        &[
            "scheduler".into(),
            "--bind".into(),
            format!("127.0.0.1:{port}"),
            "--executor-timeout-seconds".into(),
            "10".into(),
        ],
        &logs.join("scheduler.log"),
    );
    wait_for_port(port, "the scheduler");
    let executors = (0..executors)
        .map(|i| {
            let (grpc, flight) = (free_port(), free_port());
            let work = logs.join(format!("executor-{i}"));
            std::fs::create_dir_all(&work).expect("work dir");
            let child = spawn(
                &[
                    "executor".into(),
                    "--scheduler".into(),
                    format!("127.0.0.1:{port}"),
                    "--bind".into(),
                    format!("127.0.0.1:{grpc}"),
                    "--flight-port".into(),
                    flight.to_string(),
                    "--concurrent-tasks".into(),
                    "1".into(),
                    "--work-dir".into(),
                    work.to_string_lossy().into_owned(),
                ],
                &logs.join(format!("executor-{i}.log")),
            );
            wait_for_port(grpc, "an executor");
            child
        })
        .collect();
    Cluster { url: format!("df://127.0.0.1:{port}"), scheduler, executors, logs: logs.to_path_buf() }
}

/// Adds a `cluster` target on `url`, writing under `<project>/cluster`, to the project's
/// profiles (the embedded `dev` stays the default); a query may take two minutes.
fn add_cluster_target(project: &Path, url: &str) -> PathBuf {
    let path = project.join("cluster");
    let profiles = format!(
        "convlytics:\n  target: dev\n  outputs:\n    dev:\n      type: embedded\n    cluster:\n      type: ballista\n      url: {url}\n      path: {}\n      job_timeout_seconds: 120\n",
        path.display()
    );
    std::fs::write(project.join("profiles.yml"), profiles).expect("profiles.yml");
    path
}

/// Runs `convlytics args` in `project`, asserting it succeeds; its stdout.
fn ok(project: &Path, args: &[&str]) -> String {
    let (ok, out, err) = cli::convlytics(project, args);
    assert!(ok, "convlytics {args:?} failed:\n{out}\n{err}");
    out
}

/// Columns that name the run that wrote a row, or when: never the same in two builds.
const RUN_COLUMNS: [&str; 2] = ["run_id", "checked_at"];

/// Tables of one build's bookkeeping (who ran it on which engine, when), not of the data.
const RUN_TABLES: [&str; 2] = ["label_runs", "monitor_results"];

/// A value as compared: floating point numbers to 9 significant digits (sums and averages
/// added up in another order differ in the last bits), anything else as written.
fn canonical(value: &str) -> String {
    match value.parse::<f64>() {
        Ok(number) if value.contains('.') || value.contains('e') => format!("{number:.8e}"),
        _ => value.to_owned(),
    }
}

/// Every row of every relation in the published `warehouse` (`schema/relation.parquet`), as
/// sorted canonical lines, without the run's own columns and tables.
fn contents(project: &Path, warehouse: &Path) -> BTreeMap<String, Vec<String>> {
    let mut tables = BTreeMap::new();
    for schema in std::fs::read_dir(warehouse).expect("warehouse").flatten() {
        for file in std::fs::read_dir(schema.path()).expect("schema").flatten() {
            let path = file.path();
            let name = path.file_stem().expect("a file").to_string_lossy().into_owned();
            if path.extension().is_none_or(|e| e != "parquet") || RUN_TABLES.contains(&name.as_str()) {
                continue;
            }
            let out = ok(project, &["sql", "--format", "csv", &format!("select * from '{}'", path.display())]);
            let mut reader = csv::Reader::from_reader(out.as_bytes());
            let header = reader.headers().expect("a header").clone();
            let keep: Vec<usize> = (0..header.len()).filter(|&i| !RUN_COLUMNS.contains(&&header[i])).collect();
            let mut rows: Vec<String> = reader
                .records()
                .map(|r| {
                    let r = r.expect("a csv row");
                    keep.iter().map(|&i| canonical(&r[i])).collect::<Vec<_>>().join("\u{1f}")
                })
                .collect();
            rows.sort();
            let key = format!("{}.{name}", schema.file_name().to_string_lossy());
            tables.insert(key, rows);
        }
    }
    tables
}

/// The names and bytes of every file of the published warehouse.
fn files(warehouse: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(warehouse)
        .follow_links(true)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (e.path().strip_prefix(warehouse).expect("under").to_path_buf(), std::fs::read(e.path()).expect("read"))
        })
        .collect()
}

fn assert_same_tables(embedded: &BTreeMap<String, Vec<String>>, cluster: &BTreeMap<String, Vec<String>>) {
    assert_eq!(embedded.keys().collect::<Vec<_>>(), cluster.keys().collect::<Vec<_>>(), "the same relations");
    for (table, rows) in embedded {
        let other = &cluster[table];
        assert_eq!(rows.len(), other.len(), "{table}: as many rows on the cluster");
        let differing: Vec<_> = rows.iter().zip(other).filter(|(a, b)| a != b).take(3).collect();
        assert!(differing.is_empty(), "{table}: rows differ (embedded, cluster): {differing:#?}");
    }
}

#[test]
fn the_default_project_gives_the_same_marts_on_a_cluster() {
    let project = warehouse::generated_project(300);
    let logs = tempfile::tempdir().expect("logs");
    let cluster = start_cluster(2, logs.path());
    let path = add_cluster_target(project.path(), &cluster.url);

    ok(project.path(), &["build"]);
    let embedded = contents(project.path(), &project.path().join("target/warehouse"));
    let built = cluster.ok(project.path(), &["build", "--target", "cluster"]);
    assert!(built.contains("on the ballista engine"), "{built}");
    let on_cluster = contents(project.path(), &path.join("warehouse"));
    assert!(embedded.keys().filter(|k| k.contains(".mart_")).count() >= 10, "{:?}", embedded.keys());
    assert_same_tables(&embedded, &on_cluster);

    // A second build on the cluster merges its incremental models into the stored rows.
    cluster.ok(project.path(), &["build", "--target", "cluster"]);
    assert_same_tables(&embedded, &contents(project.path(), &path.join("warehouse")));

    // Ad-hoc SQL runs there too, with the project's taxonomies.
    let out = cluster.ok(
        project.path(),
        &[
            "sql",
            "--target",
            "cluster",
            "--format",
            "csv",
            "select classify_intent('I want my money back for this order', 'support') as i",
        ],
    );
    assert_eq!(out.lines().nth(1), Some("return_refund"), "{out}");
}

#[test]
fn a_build_that_loses_an_executor_fails_clearly_or_gives_the_same_marts() {
    let project = warehouse::generated_project(300);
    let logs = tempfile::tempdir().expect("logs");
    let mut cluster = start_cluster(2, logs.path());
    let path = add_cluster_target(project.path(), &cluster.url);
    cluster.ok(project.path(), &["build", "--target", "cluster"]);
    let published = path.join("warehouse");
    let before = files(&published);

    let mut build = Command::new(env!("CARGO_BIN_EXE_convlytics"))
        .args(["build", "--target", "cluster", "--full-refresh"])
        .current_dir(project.path())
        .env_remove("DBT_PROFILES_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a build");
    std::thread::sleep(Duration::from_secs(3));
    let mut lost = cluster.executors.remove(0);
    lost.kill().expect("kill an executor");
    lost.wait().expect("reap it");
    let start = Instant::now();
    while build.try_wait().expect("the build").is_none() {
        assert!(start.elapsed() < Duration::from_secs(600), "the build neither failed nor finished in 10 minutes");
        std::thread::sleep(Duration::from_millis(200));
    }
    let outcome = build.wait_with_output().expect("the build's output");
    let said = format!("{}{}", String::from_utf8_lossy(&outcome.stdout), String::from_utf8_lossy(&outcome.stderr));
    if outcome.status.success() {
        eprintln!("the build recovered from the lost executor");
        // The same two builds on the embedded engine: label_history keeps what each labelled.
        ok(project.path(), &["build"]);
        ok(project.path(), &["build", "--full-refresh"]);
        let embedded = contents(project.path(), &project.path().join("target/warehouse"));
        assert_same_tables(&embedded, &contents(project.path(), &published));
    } else {
        eprintln!("the build failed on the lost executor");
        // A node that errors, or a data test that fails on rows the recovery duplicated (a
        // `unique` test on identity_map has caught them), stops the build before it publishes.
        let failed = said.contains("ERROR") || said.contains(" FAIL ");
        assert!(failed && said.contains("Nothing published"), "{said}\n{}", cluster.logs());
        assert!(before == files(&published), "the previous outputs are published and whole");
    }
}
