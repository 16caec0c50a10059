//! Running a compiled project: build each model in order, one line of result per model,
//! skipping the models downstream of a failure.

use std::collections::BTreeSet;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::compile::Compiled;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::project::Project;

/// Models tagged with this hold rows that could not be read; the run reports their count.
pub const QUARANTINE_TAG: &str = "quarantine";

/// How one model's build ended.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelResult {
    /// The model.
    pub name: String,
    /// `success`, `error` or `skipped`.
    pub status: &'static str,
    /// Rows written, when known.
    pub rows: Option<u64>,
    /// Seconds spent.
    pub seconds: f64,
    /// The error, or what a skipped model waited for.
    pub message: Option<String>,
}

/// Builds every model of `compiled` on `engine`, printing one line each, and writes
/// `target/run_results.json`. Returns the results; any error or skip makes the run fail.
pub async fn run(project: &Project, compiled: &Compiled, engine: &mut Engine) -> Result<Vec<ModelResult>> {
    let started = Instant::now();
    let total = compiled.models.len();
    let bar = ProgressBar::new(total as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").expect("valid template"));
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let mut results = Vec::with_capacity(total);
    for (i, model) in compiled.models.iter().enumerate() {
        let kind = model.config.materialized.as_str();
        let head = format!("{:>3} of {total}", i + 1);
        bar.set_message(model.name.clone());
        if let Some(upstream) = model.refs.iter().find(|r| failed.contains(*r)) {
            failed.insert(model.name.clone());
            bar.suspend(|| println!("{head} SKIP  {kind:<5} {} (upstream {upstream} failed)", model.relation));
            results.push(ModelResult {
                name: model.name.clone(),
                status: "skipped",
                rows: None,
                seconds: 0.0,
                message: Some(format!("upstream model {upstream} failed")),
            });
            bar.inc(1);
            continue;
        }
        let t = Instant::now();
        let outcome = engine.build(model).await;
        let seconds = t.elapsed().as_secs_f64();
        let result = match outcome {
            Ok(built) => {
                let rows = built.rows.map_or(String::new(), |r| format!("{r} rows, "));
                bar.suspend(|| println!("{head} OK    {kind:<5} {} [{rows}{seconds:.2}s]", model.relation));
                ModelResult { name: model.name.clone(), status: "success", rows: built.rows, seconds, message: None }
            }
            Err(e) => {
                failed.insert(model.name.clone());
                bar.suspend(|| println!("{head} ERROR {kind:<5} {}\n      {e}", model.relation));
                ModelResult {
                    name: model.name.clone(),
                    status: "error",
                    rows: None,
                    seconds,
                    message: Some(e.to_string()),
                }
            }
        };
        results.push(result);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let errors = results.iter().filter(|r| r.status == "error").count();
    let skipped = results.iter().filter(|r| r.status == "skipped").count();
    println!(
        "Done in {:.2}s: {} built, {errors} failed, {skipped} skipped.",
        started.elapsed().as_secs_f64(),
        total - errors - skipped
    );
    for (model, result) in compiled.models.iter().zip(&results) {
        if let (true, Some(rows)) = (model.config.tags.iter().any(|t| t == QUARANTINE_TAG), result.rows) {
            println!("Quarantined: {rows} row(s) could not be read; {} has each one's reason.", model.relation);
        }
    }
    write_results(project, &results)?;
    if errors + skipped > 0 {
        return Err(Error::Project(format!("{errors} model(s) failed and {skipped} were skipped")));
    }
    Ok(results)
}

fn write_results(project: &Project, results: &[ModelResult]) -> Result<()> {
    let dir = project.target_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join("run_results.json");
    let json = serde_json::to_string_pretty(&serde_json::json!({ "results": results })).expect("serializable results");
    std::fs::write(&path, json).map_err(|e| Error::io(&path, e))
}
