//! Executing a compiled project: seeds loaded, models built and data tests run in dependency
//! order, one line of result per node, skipping what depends on a failure; a summary with counts
//! and time, and `target/run_results.json`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::compile::{Compiled, CompiledTest};
use crate::data_tests::Subject;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::project::profiles::Target;
use crate::project::{Materialization, Project, Seed};
use crate::render::CompiledModel;
use crate::seed::SeedData;

/// Models tagged with this hold rows that could not be read; the run reports their count.
pub const QUARANTINE_TAG: &str = "quarantine";

/// One step of an execution.
#[derive(Debug, Clone, Copy)]
pub enum Step<'c> {
    /// Load a seed.
    Seed(&'c Seed),
    /// Build a model.
    Model(&'c CompiledModel),
    /// Run a data test.
    Test(&'c CompiledTest),
}

impl Step<'_> {
    /// The node's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Seed(s) => &s.name,
            Self::Model(m) => &m.name,
            Self::Test(t) => &t.name,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Seed(_) => "seed",
            Self::Model(m) => m.config.materialized.as_str(),
            Self::Test(_) => "test",
        }
    }

    /// The models and seeds it reads; a test also waits for the model it tests.
    fn reads(&self) -> Vec<&str> {
        match self {
            Self::Seed(_) => Vec::new(),
            Self::Model(m) => m.refs.iter().map(String::as_str).collect(),
            Self::Test(t) => t.refs.iter().map(String::as_str).collect(),
        }
    }
}

/// How one node's execution ended.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeResult {
    /// `model`, `seed` or `test`.
    pub resource_type: &'static str,
    /// The node.
    pub name: String,
    /// `success`, `error` or `skipped`; for tests `pass`, `fail`, `warn`, `error` or `skipped`.
    pub status: &'static str,
    /// Rows written, when known.
    pub rows: Option<u64>,
    /// A test's failing rows.
    pub failures: Option<u64>,
    /// Seconds spent.
    pub seconds: f64,
    /// The error, or what a skipped node waited for.
    pub message: Option<String>,
}

/// The steps of `compiled` for the chosen nodes, in dependency order: seeds, models and tests,
/// each after what it reads; when both models and tests run, a model also waits for the tests that
/// read only its parent (as dbt's `build`: a test of several models does not hold back children).
pub fn plan<'c>(
    compiled: &'c Compiled,
    nodes: &BTreeSet<String>,
    models: bool,
    seeds: bool,
    tests: &[&'c CompiledTest],
) -> Vec<Step<'c>> {
    let seed_key = |n: &str| format!("0 {n}");
    let model_key = |n: &str| format!("1 {n}");
    let test_key = |n: &str| format!("2 {n}");
    let seed_names: BTreeSet<&str> = compiled.seeds.iter().map(|s| s.name.as_str()).collect();
    let key_of = |n: &str| if seed_names.contains(n) { seed_key(n) } else { model_key(n) };
    let mut steps: BTreeMap<String, Step<'c>> = BTreeMap::new();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if seeds {
        for seed in compiled.seeds.iter().filter(|s| nodes.contains(&s.name)) {
            steps.insert(seed_key(&seed.name), Step::Seed(seed));
            deps.insert(seed_key(&seed.name), BTreeSet::new());
        }
    }
    let mut tests_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for test in tests {
        let reads = test.refs.iter().filter(|r| nodes.contains(*r)).map(|r| key_of(r)).collect();
        steps.insert(test_key(&test.name), Step::Test(test));
        deps.insert(test_key(&test.name), reads);
        if let [only] = test.refs.iter().collect::<Vec<_>>()[..] {
            tests_of.entry(only.as_str()).or_default().push(test_key(&test.name));
        }
    }
    if models {
        for model in compiled.models.iter().filter(|m| nodes.contains(&m.name)) {
            let mut reads: BTreeSet<String> =
                model.refs.iter().filter(|r| nodes.contains(*r)).map(|r| key_of(r)).collect();
            reads.extend(model.refs.iter().filter_map(|r| tests_of.get(r.as_str())).flatten().cloned());
            if model.config.materialized != Materialization::Ephemeral {
                steps.insert(model_key(&model.name), Step::Model(model));
            }
            deps.insert(model_key(&model.name), reads);
        }
    }
    // `dag::order` passes over what a node reads that is not a step here (unselected, or a seed
    // outside `seed`/`build`).
    let order = crate::dag::order(&deps).expect("models and tests form no cycle");
    order.into_iter().filter_map(|k| steps.remove(&k)).collect()
}

/// Executes `steps` on `engine`, printing one line each (a progress bar on a terminal), then a
/// summary; writes `target/run_results.json`. Any error, failed test or skip makes it fail.
/// Models in `blocked` (their unit tests failed) are skipped, and what depends on them.
pub async fn execute(
    project: &Project,
    target: &Target,
    steps: &[Step<'_>],
    engine: &mut Engine,
    refresher: Option<&crate::introspect::Refresher<'_>>,
    blocked: &BTreeSet<String>,
) -> Result<Vec<NodeResult>> {
    let started = Instant::now();
    let total = steps.len();
    let bar = ProgressBar::new(total as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").expect("valid template"));
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let mut results = Vec::with_capacity(total);
    let run = RunRecord::new();
    run.write(project, "running", &results)?;
    for (i, step) in steps.iter().enumerate() {
        let head = format!("{:>3} of {total}", i + 1);
        let kind = step.kind();
        let shown = match step {
            Step::Model(m) => m.relation.to_string(),
            Step::Seed(s) => crate::compile::Compiled::seed_relation(target, s).to_string(),
            Step::Test(t) => t.name.clone(),
        };
        bar.set_message(step.name().to_owned());
        let resource_type = match step {
            Step::Seed(_) => "seed",
            Step::Model(_) => "model",
            Step::Test(_) => "test",
        };
        let mut result = NodeResult {
            resource_type,
            name: step.name().to_owned(),
            status: "skipped",
            rows: None,
            failures: None,
            seconds: 0.0,
            message: None,
        };
        if matches!(step, Step::Model(m) if blocked.contains(&m.name)) {
            failed.insert(step.name().to_owned());
            bar.suspend(|| println!("{head} SKIP  {kind:<5} {shown} (its unit tests failed)"));
            result.message = Some("its unit tests failed".into());
            results.push(result);
            run.write(project, "running", &results)?;
            bar.inc(1);
            continue;
        }
        if let Some(upstream) = step.reads().into_iter().find(|r| failed.contains(*r)) {
            if !matches!(step, Step::Test(_)) {
                failed.insert(step.name().to_owned());
            }
            bar.suspend(|| println!("{head} SKIP  {kind:<5} {shown} (upstream {upstream} failed)"));
            result.message = Some(format!("upstream {upstream} failed"));
            results.push(result);
            run.write(project, "running", &results)?;
            bar.inc(1);
            continue;
        }
        let t = Instant::now();
        let outcome = perform(project, target, step, engine, refresher).await;
        let secs = t.elapsed().as_secs_f64();
        let word = match outcome.status {
            "success" => "OK",
            other => other,
        };
        let detail = match (outcome.rows, outcome.failures) {
            (Some(r), _) => format!("{r} rows, "),
            (_, Some(n)) if n > 0 => format!("{n} failing row(s), "),
            _ => String::new(),
        };
        match &outcome.message {
            Some(e) if outcome.status == "error" => {
                bar.suspend(|| println!("{head} ERROR {kind:<5} {shown}\n      {e}"));
            }
            _ => bar.suspend(|| println!("{head} {:<5} {kind:<5} {shown} [{detail}{secs:.2}s]", word.to_uppercase())),
        }
        let failed_node = match (step, outcome.status) {
            (Step::Test(test), "fail") => match &test.subject {
                Some(Subject::Model(m)) => Some(m.clone()),
                _ => None,
            },
            (Step::Model(_) | Step::Seed(_), "error") => Some(step.name().to_owned()),
            _ => None,
        };
        failed.extend(failed_node);
        results.push(NodeResult {
            status: outcome.status,
            rows: outcome.rows,
            failures: outcome.failures,
            seconds: secs,
            message: outcome.message,
            ..result
        });
        run.write(project, "running", &results)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    summarize(steps, &results, started.elapsed().as_secs_f64());
    let bad = results.iter().filter(|r| matches!(r.status, "error" | "fail" | "skipped")).count();
    run.write(project, if bad > 0 { "error" } else { "success" }, &results)?;
    if bad > 0 {
        return Err(Error::Project(format!("{bad} node(s) failed or were skipped")));
    }
    Ok(results)
}

/// `target/run_results.json` as a run goes: `status` is `running` (with the results so far)
/// until the run ends, then `success` or `error`; a run that was killed stays `running`, with
/// its process id and start, saying how far it got.
struct RunRecord {
    pid: u32,
    started_at: String,
}

impl RunRecord {
    fn new() -> Self {
        Self { pid: std::process::id(), started_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string() }
    }

    fn write(&self, project: &Project, status: &str, results: &[NodeResult]) -> Result<()> {
        let record = serde_json::json!({
            "status": status,
            "pid": self.pid,
            "started_at": self.started_at,
            "results": results,
        });
        project.write_artefact("run_results.json", &record)
    }
}

/// How one step ended, before it is printed and recorded.
struct Outcome {
    /// `success` or `error` (seeds, models); `pass`, `warn`, `fail` or `error` (tests).
    status: &'static str,
    rows: Option<u64>,
    failures: Option<u64>,
    message: Option<String>,
}

/// Loads a seed, builds a model (rendered again first when its macros ask the warehouse) or
/// runs a test.
async fn perform(
    project: &Project,
    target: &Target,
    step: &Step<'_>,
    engine: &mut Engine,
    refresher: Option<&crate::introspect::Refresher<'_>>,
) -> Outcome {
    let built = match step {
        Step::Test(test) => {
            let context = format!("test {} ({})", test.name, test.declared_in.display());
            let sql = match refresher.filter(|_| test.introspects) {
                Some(refresher) => match refresher.render_test(test, engine).await {
                    Ok(sql) => sql,
                    Err(e) => {
                        return Outcome { status: "error", rows: None, failures: None, message: Some(e.to_string()) }
                    }
                },
                None => test.sql.clone(),
            };
            let failures = match &test.thresholds.fail_calc {
                Some(calc) => {
                    let sql = format!("select {calc} from ({}) as __failures", sql.trim_end());
                    engine.scalar(&sql, &context).await.map(|v| v.unwrap_or(0.0))
                }
                None => engine.count(&sql, &context).await.map(|n| n as f64),
            };
            return match failures {
                Ok(n) => {
                    let status = test.thresholds.status(test.severity, n);
                    let message = (status != "pass").then(|| format!("{n} failing row(s)"));
                    Outcome { status, rows: None, failures: Some(n as u64), message }
                }
                Err(e) => Outcome { status: "error", rows: None, failures: None, message: Some(e.to_string()) },
            };
        }
        Step::Model(model) => match refresher.filter(|_| model.introspects) {
            Some(refresher) => match refresher.render(model, engine).await {
                Ok(fresh) => engine.build(&fresh).await,
                Err(e) => Err(e),
            },
            None => engine.build(model).await,
        },
        Step::Seed(seed) => match SeedData::read(&project.root, seed) {
            Ok(data) => engine.load_seed(&crate::compile::Compiled::seed_relation(target, seed), &data).await,
            Err(e) => Err(e),
        },
    };
    match built {
        Ok(built) => Outcome { status: "success", rows: built.rows, failures: None, message: None },
        Err(e) => Outcome { status: "error", rows: None, failures: None, message: Some(e.to_string()) },
    }
}

/// Prints the counts and time, and each quarantine model's row count.
fn summarize(steps: &[Step<'_>], results: &[NodeResult], seconds: f64) {
    let count =
        |kind: &str, status: &str| results.iter().filter(|r| r.resource_type == kind && r.status == status).count();
    let mut parts = Vec::new();
    for (kind, status, label) in [
        ("seed", "success", "seeds loaded"),
        ("model", "success", "models built"),
        ("test", "pass", "tests passed"),
        ("test", "warn", "tests warned"),
        ("test", "fail", "tests failed"),
    ] {
        let n = count(kind, status);
        if n > 0 || (kind == "model" && status == "success") {
            parts.push(format!("{n} {label}"));
        }
    }
    let errors = results.iter().filter(|r| r.status == "error").count();
    let skipped = results.iter().filter(|r| r.status == "skipped").count();
    println!("Done in {seconds:.2}s: {}, {errors} errors, {skipped} skipped.", parts.join(", "));
    for (step, result) in steps.iter().zip(results) {
        if let (Step::Model(model), Some(rows)) = (step, result.rows) {
            if model.config.tags.iter().any(|t| t == QUARANTINE_TAG) {
                println!("Quarantined: {rows} row(s) could not be read; {} has each one's reason.", model.relation);
            }
        }
    }
}
