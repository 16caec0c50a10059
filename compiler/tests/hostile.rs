//! Hostile and unlucky use of the CLI, as a person would meet it: a deep expression in
//! `convlytics sql` is a clear error, never a stack overflow; a build killed half-way leaves
//! the previous warehouse readable and whole, with `run_results.json` saying the run did not
//! finish; a failed build publishes nothing; a second build of a project beside a running one is
//! refused with a clear message. (The extension's hostile cases are in `extension.rs`.)

#[allow(dead_code)] // copy_project: these tests write their projects instead of copying a fixture
mod cli;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// A project of three table models: `a` (one row saying `value`), `b` reading it, and `slow`,
/// which takes a few seconds to count a long range.
fn project(value: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write_models(dir.path(), value);
    std::fs::write(dir.path().join("dbt_project.yml"), "name: hostile\nmodels:\n  +materialized: table\n")
        .expect("project");
    dir
}

fn write_models(dir: &Path, value: &str) {
    std::fs::create_dir_all(dir.join("models")).expect("models");
    std::fs::write(dir.join("models/a.sql"), format!("select '{value}' as v")).expect("a");
    std::fs::write(dir.join("models/b.sql"), "select v from {{ ref('a') }}").expect("b");
    std::fs::write(
        dir.join("models/slow.sql"),
        "select count(*) as n, max(v) as v from {{ ref('b') }}, range(60000000)",
    )
    .expect("slow");
}

/// `select v from analytics.<table>` as the CLI prints it in CSV.
fn value(dir: &Path, table: &str) -> String {
    let (ok, out, err) = cli::convlytics(dir, &["sql", "--format", "csv", &format!("select v from analytics.{table}")]);
    assert!(ok, "{out}{err}");
    out.lines().nth(1).unwrap_or_default().to_owned()
}

#[test]
fn deep_expressions_are_a_clear_error_not_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sum = |terms: usize| format!("select {} as x", vec!["1"; terms].join("+"));
    let (ok, out, err) = cli::convlytics(dir.path(), &["sql", "--format", "csv", &sum(400)]);
    assert!(ok, "{out}{err}");
    assert_eq!(out, "x\n400\n");
    let (ok, _, err) = cli::convlytics(dir.path(), &["sql", &sum(20_000)]);
    assert!(!ok);
    assert!(err.contains("the statement has 19999 operators, over the limit of 1000"), "{err}");
    let nested = format!("select {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let (ok, _, err) = cli::convlytics(dir.path(), &["sql", &nested]);
    assert!(!ok);
    assert!(err.contains("RecursionLimitExceeded") && !err.contains("overflow"), "{err}");
}

#[test]
fn a_killed_build_leaves_the_previous_warehouse_whole() {
    let dir = project("first");
    let (ok, out, err) = cli::convlytics(dir.path(), &["build"]);
    assert!(ok, "{out}{err}");
    write_models(dir.path(), "second");
    let mut child = Command::new(env!("CARGO_BIN_EXE_convlytics"))
        .arg("build")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("build");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let seen = lines.by_ref().map_while(Result::ok).find(|l| l.contains("2 of 3 OK"));
    assert!(seen.is_some(), "the build reached b");

    // A second build beside it is refused, and says who holds the project.
    let (ok, _, err) = cli::convlytics(dir.path(), &["build"]);
    assert!(!ok);
    assert!(err.contains(&format!("another build of this project is running (pid {}", child.id())), "{err}");

    child.kill().expect("kill");
    child.wait().expect("wait");
    assert_eq!((value(dir.path(), "a"), value(dir.path(), "b")), ("first".into(), "first".into()), "not mixed");
    let results = std::fs::read_to_string(dir.path().join("target/run_results.json")).expect("run_results.json");
    assert!(
        results.contains("\"status\": \"running\"") && results.contains(&format!("\"pid\": {}", child.id())),
        "{results}"
    );

    let (ok, out, err) = cli::convlytics(dir.path(), &["build"]);
    assert!(ok, "the next build runs: {out}{err}");
    assert_eq!(value(dir.path(), "slow"), "second");
    let results = std::fs::read_to_string(dir.path().join("target/run_results.json")).expect("run_results.json");
    assert!(results.contains("\"status\": \"success\""), "{results}");
    assert_eq!(std::fs::read_dir(dir.path().join("target/generations")).expect("generations").count(), 1);
}

#[test]
fn a_failed_build_publishes_nothing() {
    let dir = project("first");
    let (ok, out, err) = cli::convlytics(dir.path(), &["build"]);
    assert!(ok, "{out}{err}");
    write_models(dir.path(), "second");
    std::fs::write(dir.path().join("models/slow.sql"), "select no_such_column from {{ ref('b') }}").expect("break");
    let (ok, out, _) = cli::convlytics(dir.path(), &["build"]);
    assert!(!ok);
    assert!(out.contains("Nothing published: target/warehouse is still the previous build's"), "{out}");
    assert_eq!((value(dir.path(), "a"), value(dir.path(), "slow")), ("first".into(), "first".into()));
}
