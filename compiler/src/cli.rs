//! The command line: `convlytics compile | run | build | sql | eval | taxonomy | demo | ...`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use std::io::Write;

use clap::{Args, Parser, Subcommand};
use convlytics_core::embed::Embedding;

use crate::compile::{compile, locate_sources, write_compiled, CompileOptions};
use crate::engine::{EmbeddedEngine, Engine, Writer};
use crate::error::{Error, Result};
use crate::eval::intent::{self, TaxonomySource};
use crate::eval::{identity, pii, sentiment, ReportFormat, SettingsSource};
use crate::governance::grants;
use crate::governance::roles::Policy;
use crate::project::profiles::{self, Target, TargetChoice};
use crate::project::Project;
use crate::query::{query, OutputFormat};
use crate::taxonomy;

/// convlytics: conversation analytics as layered SQL models, on embedded DataFusion or PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "convlytics", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render and check every model's and test's SQL into target/compiled/, in dependency order,
    /// and write target/manifest.json.
    Compile(ProjectArgs),
    /// Build the selected models on the target engine (embedded DataFusion unless a profile says
    /// otherwise).
    Run(ProjectArgs),
    /// Load the selected seeds (CSV files under the seed paths) as tables.
    Seed(ProjectArgs),
    /// Run the data tests of the selected models, seeds and sources.
    Test(ProjectArgs),
    /// Seeds, models and their tests in dependency order: a failing test skips what reads its model.
    Build(ProjectArgs),
    /// List the selected nodes: models, seeds, tests and sources.
    Ls(LsArgs),
    /// Work with sources.
    #[command(subcommand)]
    Source(SourceCommand),
    /// Run the project under dbt-core too.
    #[command(subcommand)]
    Dbt(DbtCommand),
    /// Run one SQL statement on the embedded engine, with every convlytics function registered
    /// and files readable as tables by path (e.g. `select * from 'data.csv'`).
    Sql(SqlArgs),
    /// On PostgreSQL, give the project's roles exactly what `roles:` lets them read (column
    /// privileges, row-level security), revoking everything else they held on its schemas.
    Grants(GrantsArgs),
    /// Show what the project's `retention:` rules make due in the stored models (a dry run), or
    /// remove it with --apply, logging each change in `retention_log`.
    Retention(RetentionArgs),
    /// Check the project's source contracts and monitors on the built warehouse (a build runs
    /// them too), append the results to monitor_results, print each finding; exit 1 when an
    /// error-severity check fails.
    Monitor(MonitorArgs),
    /// The audit trail of labels.
    #[command(subcommand)]
    Labels(LabelsCommand),
    /// List every SQL function (the same on DataFusion and PostgreSQL): name, arguments, result,
    /// volatility, strictness, parallel safety and what it does, one row per form.
    Functions {
        /// How to print the list.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Measure a capability against labelled data and print a report.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Work with taxonomies: list a project's, or start one from labelled texts.
    #[command(subcommand)]
    Taxonomy(TaxonomyCommand),
    /// Demo data for the default project.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// People review labels: draw a sample to review, import the verdicts, promote corrections
    /// into the taxonomy.
    #[command(subcommand)]
    Review(ReviewCommand),
    /// The project's documentation site: a page per model, seed, source and taxonomy, lineage,
    /// test, monitor and label-quality results, and the KPI charts.
    #[command(subcommand)]
    Docs(DocsCommand),
    /// On PostgreSQL, enrich raw records as they are inserted (a trigger on the raw source table)
    /// and fire the project's alert rules.
    #[command(subcommand)]
    Realtime(RealtimeCommand),
    /// Alerts the realtime rules fire.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// On the embedded engine, follow the raw data directory: new files and lines appended to
    /// JSON-lines files are enriched in micro-batches, the marts refreshed and alerts written,
    /// until Ctrl-C.
    Watch(WatchArgs),
    /// Run Ballista's scheduler for a `type: ballista` target, planning with the convlytics
    /// functions, until stopped.
    Scheduler(SchedulerArgs),
    /// Run a Ballista executor with every convlytics function, connected to a scheduler, until
    /// stopped.
    Executor(ExecutorArgs),
}

#[derive(Debug, Args)]
struct SchedulerArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:50050")]
    bind: std::net::SocketAddr,
    /// Seconds without a heartbeat after which an executor is taken as lost (executors send one
    /// every 5 s).
    #[arg(long, default_value_t = 60)]
    executor_timeout_seconds: u64,
}

#[derive(Debug, Args)]
struct ExecutorArgs {
    /// The scheduler, HOST:PORT.
    #[arg(long, default_value = "127.0.0.1:50050")]
    scheduler: String,
    /// The address tasks are received on (its port + 1 serves shuffle data unless --flight-port).
    #[arg(long, default_value = "127.0.0.1:50052")]
    bind: std::net::SocketAddr,
    /// The port shuffle data is served on.
    #[arg(long)]
    flight_port: Option<u16>,
    /// Tasks run at once (default: every core).
    #[arg(long)]
    concurrent_tasks: Option<usize>,
    /// ONNX Runtime threads of each embedding session (default: --concurrent-tasks).
    #[arg(long)]
    onnx_threads: Option<usize>,
    /// Where shuffle files go (default: a temporary directory).
    #[arg(long)]
    work_dir: Option<String>,
}

#[derive(Debug, Subcommand)]
enum RealtimeCommand {
    /// Install (or replace) the trigger that enriches each insert into the raw source table, in
    /// the inserting transaction; the project must have been built once.
    Enable(ProjectArgs),
    /// Remove the trigger (enriched rows and alerts stay).
    Disable(ProjectArgs),
}

#[derive(Debug, Subcommand)]
enum AlertsCommand {
    /// Print alerts as they fire on PostgreSQL (LISTEN), until stopped.
    Listen(ListenArgs),
}

#[derive(Debug, Args)]
struct ListenArgs {
    #[command(flatten)]
    project: ProjectArgs,
    /// Stop after this many alerts.
    #[arg(long)]
    count: Option<usize>,
    /// How to print each alert.
    #[arg(long, value_enum, default_value = "text")]
    format: crate::eval::ReportFormat,
}

#[derive(Debug, Args)]
struct WatchArgs {
    #[command(flatten)]
    project: ProjectArgs,
    /// The directory to follow (default: the directory of the raw source's files).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// How often to look for new lines, in milliseconds.
    #[arg(long, default_value_t = 250)]
    interval_ms: u64,
}

#[derive(Debug, Subcommand)]
enum DocsCommand {
    /// Write the site into target/docs (static files, no network needed to view them); after a
    /// build it shows column types, row counts, test and monitor results and the charts.
    Generate(ProjectArgs),
    /// Serve target/docs on 127.0.0.1 (only this machine can connect) until stopped.
    Serve {
        /// The project's directory (holding dbt_project.yml).
        #[arg(long, default_value = ".", env = "CONVLYTICS_PROJECT_DIR")]
        project_dir: PathBuf,
        /// The port (0: any free one, printed).
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
}

#[derive(Debug, Subcommand)]
enum ReviewCommand {
    /// Draw a deterministic sample of stored labels into a review file (CSV, and with --html an
    /// offline page that exports the same CSV).
    Sample(ReviewSampleArgs),
    /// Check a filled review file and append its verdicts to reviews.label_reviews (nothing is
    /// written when a row has a problem).
    Import(ReviewImportArgs),
    /// Turn reviewed intent corrections into taxonomy examples: prints the YAML diff, --apply
    /// writes it.
    Promote(ReviewPromoteArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("design").required(true).args(["per_label", "uniform", "low_confidence"])))]
struct ReviewSampleArgs {
    #[command(flatten)]
    project: ProjectArgs,
    /// The model whose labels are reviewed: conversation_intents or conversation_signals.
    #[arg(long, default_value = "conversation_intents")]
    model: String,
    /// The label reviewed (default: intent for conversation_intents, resolution for
    /// conversation_signals).
    #[arg(long, value_enum)]
    field: Option<crate::review::Field>,
    /// Up to N items of each label (each label a stratum: precision per label, and recall).
    #[arg(long, value_name = "N")]
    per_label: Option<usize>,
    /// N items drawn alike from every label.
    #[arg(long, value_name = "N")]
    uniform: Option<usize>,
    /// The N least confident intents.
    #[arg(long, value_name = "N")]
    low_confidence: Option<usize>,
    /// Only conversations received on or after this day (YYYY-MM-DD).
    #[arg(long)]
    since: Option<chrono::NaiveDate>,
    /// Only conversations received on or before this day (YYYY-MM-DD).
    #[arg(long)]
    until: Option<chrono::NaiveDate>,
    /// The seed of the draw: the same seed on the same data draws the same sample.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The review file to write (CSV).
    #[arg(long)]
    out: PathBuf,
    /// Also write the review page here (one self-contained HTML file).
    #[arg(long)]
    html: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ReviewImportArgs {
    #[command(flatten)]
    project: ProjectArgs,
    /// The filled review file (CSV).
    file: PathBuf,
    /// Who reviewed it.
    #[arg(long)]
    reviewer: String,
}

#[derive(Debug, Args)]
struct ReviewPromoteArgs {
    #[command(flatten)]
    project: ProjectArgs,
    /// The taxonomy to teach (default: the project's only one).
    #[arg(long)]
    taxonomy: Option<String>,
    /// Write the new examples into the taxonomy file (default: only show the diff).
    #[arg(long)]
    apply: bool,
}

#[derive(Debug, Args)]
struct GrantsArgs {
    #[command(flatten)]
    project: ProjectArgs,
    /// Create the declared roles that do not exist (NOLOGIN: grant them to people's roles).
    #[arg(long)]
    create_roles: bool,
}

#[derive(Debug, Args)]
struct RetentionArgs {
    #[command(flatten)]
    project: ProjectArgs,
    /// Remove or replace what is due (default: only show it).
    #[arg(long)]
    apply: bool,
}

#[derive(Debug, Args)]
struct MonitorArgs {
    #[command(flatten)]
    project: ProjectArgs,
    /// How to print the results: a line per finding, or a JSON array of every result.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

#[derive(Debug, Subcommand)]
enum LabelsCommand {
    /// Every label a conversation was given: by which run, when, by whom, under which taxonomy
    /// versions and model files.
    History {
        #[command(flatten)]
        project: ProjectArgs,
        /// The conversation's id.
        conversation_id: String,
        /// How to print it.
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
}

#[derive(Debug, Subcommand)]
enum DemoCommand {
    /// Write a support inbox of N conversations in every channel and format the default project
    /// reads, the CRM exports that go with it, and the ground truth (truth.csv, truth_pii.csv).
    Generate(DemoArgs),
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// How many conversations.
    #[arg(long, default_value_t = 10_000)]
    conversations: u64,
    /// The directory to write to (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// The random seed: the same seed and options give the same files.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The last day of the window (YYYY-MM-DD); default today.
    #[arg(long)]
    end: Option<chrono::NaiveDate>,
    /// How many days the window spans (at least 7).
    #[arg(long, default_value_t = 90)]
    days: u32,
}

#[derive(Debug, Subcommand)]
enum DbtCommand {
    /// Write the macros that give dbt-core (dbt-postgres with pg_convlytics) this project's
    /// convlytics Jinja functions and taxonomies (e.g. to macros/convlytics_dbt.sql).
    Macros {
        /// The project's directory.
        #[arg(long, default_value = ".", env = "CONVLYTICS_PROJECT_DIR")]
        project_dir: PathBuf,
        /// Write here instead of to stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum SourceCommand {
    /// How old each source table's newest row is, against its `freshness:` (select tables with
    /// -s source:name or -s source:name.table).
    Freshness(ProjectArgs),
}

#[derive(Debug, Subcommand)]
enum TaxonomyCommand {
    /// Each taxonomy of the project with its version and label counts.
    List {
        /// The project's directory.
        #[arg(long, default_value = ".", env = "CONVLYTICS_PROJECT_DIR")]
        project_dir: PathBuf,
    },
    /// Write a taxonomy whose intents and examples come from a labelled CSV (`text,label`).
    FromCsv(FromCsvArgs),
    /// What a taxonomy change would do to the labels in the warehouse: conversations that change
    /// intent or topics, the old -> new matrix, examples, and reviewed labels broken or fixed.
    Diff(Box<TaxonomyDiffArgs>),
    /// Record a diff report as the approval of the taxonomy's current version.
    Approve(TaxonomyApproveArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("baseline").args(["rev", "from"])))]
struct TaxonomyDiffArgs {
    #[command(flatten)]
    project: ProjectArgs,
    /// The taxonomy (default: the project's only one).
    #[arg(long)]
    taxonomy: Option<String>,
    /// Compare the taxonomy as it is against its file at this git revision (the default, HEAD).
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
    /// Compare the taxonomy as it is against this file (a property file or one taxonomy).
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
    /// Compare against this file instead of the taxonomy as it is (a proposed version).
    #[arg(long, value_name = "FILE")]
    to: Option<PathBuf>,
    /// Conversations shown per change in the report.
    #[arg(long, default_value_t = 3, value_name = "N")]
    examples: usize,
    /// Write the report (Markdown) here instead of to stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write every conversation that changes intent or topics here, as CSV.
    #[arg(long, value_name = "FILE")]
    changes: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct TaxonomyApproveArgs {
    /// The project's directory.
    #[arg(long, default_value = ".", env = "CONVLYTICS_PROJECT_DIR")]
    project_dir: PathBuf,
    /// The taxonomy (default: the project's only one).
    #[arg(long)]
    taxonomy: Option<String>,
    /// The diff report (`convlytics taxonomy diff --out FILE`) of the taxonomy as it is.
    #[arg(long, value_name = "FILE")]
    report: PathBuf,
    /// Who approves.
    #[arg(long, value_name = "NAME")]
    by: String,
}

#[derive(Debug, Args)]
struct FromCsvArgs {
    /// Labelled texts: a CSV with a header holding `text` and `label`.
    #[arg(long)]
    labels: PathBuf,
    /// The taxonomy's name.
    #[arg(long)]
    name: String,
    /// Examples kept per label, the first in file order (default: all).
    #[arg(long)]
    examples_per_label: Option<usize>,
    /// Below this confidence the intent is `unknown`.
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// The label of rows that are out of scope; they are left out.
    #[arg(long, default_value = "oos")]
    out_of_scope_label: String,
    /// How texts are embedded for the semantic head (the taxonomy's `semantic:` key).
    #[arg(long, value_enum, default_value_t = SemanticArg::Encoder)]
    semantic: SemanticArg,
    /// Write the YAML here instead of to stdout (e.g. models/taxonomies/support.yml).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Identity stitching: pairwise precision, recall and F1, cluster counts, the trained model,
    /// and examples of wrong links and missed pairs.
    Identity(EvalIdentityArgs),
    /// PII detection: precision, recall and F1 per type and overall, by overlap and by exact
    /// boundaries, with the spans missed and the false alarms.
    Pii(EvalPiiArgs),
    /// Intent classification: accuracy, macro-F1, per-intent precision and recall, the most
    /// confused pairs, the unknown rate and out-of-scope recall.
    Intent(EvalIntentArgs),
    /// Sentiment: accuracy, macro-F1, macro-recall and the confusion matrix of `sentiment()`'s
    /// labels against labelled texts.
    Sentiment(EvalSentimentArgs),
}

#[derive(Debug, Args)]
struct EvalSentimentArgs {
    /// Labelled texts: CSV with `text,label`, labels `negative`, `neutral` or `positive`; repeat
    /// for several files (each is scored, then all together).
    #[arg(long, required = true)]
    labels: Vec<PathBuf>,
    /// How to print the report.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

#[derive(Debug, Args)]
struct EvalIntentArgs {
    /// Labelled texts: CSV with `text,label`; repeat for several files. Rows whose label is not
    /// an intent of the taxonomy (e.g. `oos`) are out of scope: right when `unknown`.
    #[arg(long, required = true)]
    labels: Vec<PathBuf>,
    /// The project taxonomy to evaluate.
    #[arg(long, required_unless_present = "taxonomy_file", conflicts_with = "taxonomy_file")]
    taxonomy: Option<String>,
    /// A YAML file holding the taxonomy instead.
    #[arg(long)]
    taxonomy_file: Option<PathBuf>,
    /// The project holding `--taxonomy`.
    #[arg(long, default_value = ".", env = "CONVLYTICS_PROJECT_DIR")]
    project_dir: PathBuf,
    /// How many confused pairs to list.
    #[arg(long, default_value_t = 10)]
    confused: usize,
    /// How to print the report.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

#[derive(Debug, Args)]
struct EvalPiiArgs {
    /// Labelled texts as JSON lines: {"id", "text", "spans": [{"start", "end", "type"}]}, offsets
    /// in characters.
    #[arg(long)]
    gold: PathBuf,
    /// A policy as a YAML or JSON mapping (default: the default policy).
    #[arg(long, conflicts_with = "policy")]
    policy_file: Option<PathBuf>,
    /// Use this `pii_policies:` entry of the project.
    #[arg(long)]
    policy: Option<String>,
    /// The project holding `--policy`.
    #[arg(long, default_value = ".", env = "CONVLYTICS_PROJECT_DIR")]
    project_dir: PathBuf,
    /// Missed spans and false alarms listed per type.
    #[arg(long, default_value_t = 3)]
    examples: usize,
    /// How to print the report.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

#[derive(Debug, Args)]
struct EvalIdentityArgs {
    /// Records as CSV with a header: an id column (record_id, rec_id or id; else the first) and
    /// attribute columns.
    #[arg(long)]
    records: PathBuf,
    /// True pairs as CSV with a header and two record ids per row.
    #[arg(long)]
    truth: PathBuf,
    /// Settings as a YAML or JSON mapping (default: inferred from the column names).
    #[arg(long, conflicts_with = "identity")]
    settings: Option<PathBuf>,
    /// Use the settings of this `identities:` entry of the project.
    #[arg(long)]
    identity: Option<String>,
    /// The project holding `--identity`.
    #[arg(long, default_value = ".", env = "CONVLYTICS_PROJECT_DIR")]
    project_dir: PathBuf,
    /// How to print the report.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

/// Options shared by the commands that work on a project.
#[derive(Debug, Args)]
struct ProjectArgs {
    /// The project's directory (holding dbt_project.yml).
    #[arg(long, default_value = ".", env = "CONVLYTICS_PROJECT_DIR")]
    project_dir: PathBuf,
    /// Where profiles.yml is (default: $DBT_PROFILES_DIR, the project directory, ~/.dbt).
    #[arg(long)]
    profiles_dir: Option<PathBuf>,
    /// The profile target to use (default: the profile's `target`).
    #[arg(short, long)]
    target: Option<String>,
    /// Build on PostgreSQL at this URL, e.g. postgres://user@host:5432/db.
    #[arg(long)]
    target_url: Option<String>,
    /// Variables as a YAML mapping, over those of dbt_project.yml: --vars '{data_dir: data}'.
    #[arg(long)]
    vars: Option<String>,
    /// Only these nodes: names, tag:x, path:models/marts, source:raw+, with + for ancestors
    /// (+model) or descendants (model+); repeat or separate by spaces for a union, commas for an
    /// intersection.
    #[arg(short, long, num_args = 1.., action = clap::ArgAction::Append)]
    select: Vec<String>,
    /// Leave out these nodes (same syntax as --select).
    #[arg(long, num_args = 1.., action = clap::ArgAction::Append)]
    exclude: Vec<String>,
    /// Rebuild incremental models from scratch.
    #[arg(long)]
    full_refresh: bool,
    /// On the embedded engine, the memory DataFusion's operators may hold (e.g. 2GiB): past it
    /// sorts, joins and aggregates spill to disk (default: the output's memory_limit, else none).
    #[arg(long, value_parser = profiles::parse_size)]
    memory_limit: Option<u64>,
}

#[derive(Debug, Args)]
struct LsArgs {
    #[command(flatten)]
    project: ProjectArgs,
    /// Only nodes of this type.
    #[arg(long, value_enum)]
    resource_type: Option<ResourceType>,
    /// How to print each node.
    #[arg(long, value_enum, default_value = "name")]
    output: LsOutput,
    /// Each model's columns instead: its data class and why (the lineage path that gave it).
    #[arg(long)]
    columns: bool,
}

/// A taxonomy's embedding, as `taxonomy from-csv --semantic` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SemanticArg {
    /// The sentence encoder.
    Encoder,
    /// Token vectors distilled from the encoder.
    Static,
}

impl From<SemanticArg> for Embedding {
    fn from(arg: SemanticArg) -> Self {
        match arg {
            SemanticArg::Encoder => Embedding::Encoder,
            SemanticArg::Static => Embedding::Static,
        }
    }
}

/// The node types `ls` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ResourceType {
    Model,
    Seed,
    Test,
    Source,
}

/// How `ls` prints a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LsOutput {
    /// Its name (`source:raw.raw_interactions` for sources).
    Name,
    /// Its file.
    Path,
    /// A JSON object per line: unique id, type, name, path.
    Json,
}

#[derive(Debug, Args)]
struct SqlArgs {
    /// The SQL statement.
    query: String,
    /// How to print the result.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
    /// A project whose sources and built models become readable tables (default: the current
    /// directory, when it holds dbt_project.yml).
    #[arg(long, default_value = ".", env = "CONVLYTICS_PROJECT_DIR")]
    project_dir: PathBuf,
    /// Variables as a YAML mapping, for the project's source locations.
    #[arg(long)]
    vars: Option<String>,
    /// Read as this role of the project: a query reading a column the role may not read fails.
    #[arg(long)]
    role: Option<String>,
    /// Run on this target of the project's profile (embedded or ballista) instead of the
    /// embedded engine.
    #[arg(long)]
    target: Option<String>,
    /// Where profiles.yml is (default: $DBT_PROFILES_DIR, the project, ~/.dbt).
    #[arg(long)]
    profiles_dir: Option<PathBuf>,
}

/// Parses the command line, runs the command, and reports errors on stderr.
/// The stack of the threads that plan and run queries. DataFusion plans recursively (guarded by
/// its `recursive_protection`), but a query's syntax tree is also dropped recursively, so a long
/// chain of operators (`1+1+...+1`, thousands of terms) needs room; the memory is reserved, and
/// only what a query touches is used.
const STACK_BYTES: usize = 512 << 20;

/// Logs on stderr as `RUST_LOG` asks; a cluster process (`server`) logs at `info` without it.
fn logs(server: bool) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(filter) => filter,
        Err(_) if server => "info".to_owned(),
        Err(_) => return,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs the command line on a runtime whose threads have [`STACK_BYTES`] of stack.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    logs(matches!(cli.command, Command::Scheduler(_) | Command::Executor(_)));
    let run = move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_stack_size(STACK_BYTES)
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(dispatch(cli))
    };
    let outcome = std::thread::Builder::new().stack_size(STACK_BYTES).spawn(run).expect("main thread").join();
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("{}", e.report());
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::FAILURE,
    }
}

async fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Compile(args) => {
            let (project, _, compiled) = prepare(&args, None).await?;
            let total = compiled.models.len();
            for (i, model) in compiled.models.iter().enumerate() {
                let kind = model.config.materialized.as_str();
                println!(
                    "{:>3} of {total} compiled {kind:<5} {} -> {}",
                    i + 1,
                    model.relation,
                    compiled_path(&project, &model.path).display()
                );
            }
            println!(
                "Compiled {total} models, {} tests and {} seeds of {}; manifest at {}",
                compiled.tests.len(),
                compiled.seeds.len(),
                project.config.name,
                PathBuf::from(&project.config.target_path).join("manifest.json").display()
            );
            Ok(())
        }
        Command::Run(args) => execute(&args, Phase { seeds: false, models: true, tests: false }).await,
        Command::Seed(args) => execute(&args, Phase { seeds: true, models: false, tests: false }).await,
        Command::Test(args) => execute(&args, Phase { seeds: false, models: false, tests: true }).await,
        Command::Build(args) => execute(&args, Phase { seeds: true, models: true, tests: true }).await,
        Command::Source(SourceCommand::Freshness(args)) => {
            let (project, target, vars) = open(&args)?;
            let engine = Engine::open(&project, &target).await?;
            let sources = locate_sources(&project, &target, &CompileOptions::with_vars(vars))?;
            let tables = crate::freshness::tables(&project, &args.select);
            let used = tables.iter().map(|(t, _, _)| (t.source.clone(), t.name.clone())).collect();
            engine.register_located(&sources, &used).await?;
            let results = crate::freshness::check(&engine, &tables).await?;
            project.write_artefact("sources.json", &serde_json::json!({ "results": results }))?;
            let bad = results.iter().filter(|r| matches!(r.status, "error" | "runtime error")).count();
            match bad {
                0 => Ok(()),
                n => Err(Error::Project(format!("{n} source(s) are stale or could not be checked"))),
            }
        }
        Command::Dbt(DbtCommand::Macros { project_dir, out }) => {
            let text = crate::dbt::macros(&Project::load(&project_dir)?);
            match out {
                Some(path) => std::fs::write(&path, text).map_err(|e| Error::io(path, e)),
                None => std::io::stdout().lock().write_all(text.as_bytes()).map_err(|e| Error::io("stdout", e)),
            }
        }
        Command::Ls(args) => {
            let (project, _, compiled) = prepare(&args.project, None).await?;
            list(&project, &compiled, &args, &mut std::io::stdout().lock())
        }
        Command::Eval(EvalCommand::Identity(args)) => {
            let source = settings_source(args.settings, args.identity, args.project_dir);
            let settings = identity::load_settings(&source)?;
            let report = identity::evaluate(&args.records, &args.truth, &settings)?;
            identity::print(&report, args.format, &mut std::io::stdout().lock())
        }
        Command::Eval(EvalCommand::Pii(args)) => {
            let source = settings_source(args.policy_file, args.policy, args.project_dir);
            let report = pii::evaluate(&args.gold, pii::load_policy(&source)?, args.examples)?;
            pii::print(&report, args.format, &mut std::io::stdout().lock())
        }
        Command::Eval(EvalCommand::Intent(args)) => {
            let source = match (args.taxonomy_file, args.taxonomy) {
                (Some(file), _) => TaxonomySource::File(file),
                (None, name) => TaxonomySource::Project { dir: args.project_dir, name: name.unwrap_or_default() },
            };
            let report = intent::evaluate(&source.load()?, &args.labels, args.confused)?;
            intent::print(&report, args.format, &mut std::io::stdout().lock())
        }
        Command::Eval(EvalCommand::Sentiment(args)) => {
            let report = sentiment::evaluate(&args.labels)?;
            sentiment::print(&report, args.format, &mut std::io::stdout().lock())
        }
        Command::Taxonomy(TaxonomyCommand::List { project_dir }) => {
            taxonomy::list(&Project::load(&project_dir)?, &mut std::io::stdout().lock())
        }
        Command::Taxonomy(TaxonomyCommand::FromCsv(args)) => {
            let options = taxonomy::FromCsv {
                name: &args.name,
                examples_per_label: args.examples_per_label,
                threshold: args.threshold,
                out_of_scope_label: &args.out_of_scope_label,
                semantic: args.semantic.into(),
            };
            let yaml = taxonomy::from_csv(&args.labels, &options)?;
            match args.out {
                Some(path) => std::fs::write(&path, yaml).map_err(|e| Error::io(path, e)),
                None => std::io::stdout().lock().write_all(yaml.as_bytes()).map_err(|e| Error::io("stdout", e)),
            }
        }
        Command::Taxonomy(TaxonomyCommand::Diff(args)) => taxonomy_diff(args).await,
        Command::Taxonomy(TaxonomyCommand::Approve(args)) => {
            let project = Project::load(&args.project_dir)?;
            let name = taxonomy::named(&project, args.taxonomy.as_deref())?.1.name.clone();
            let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
            let approved = taxonomy::approval::approve(&project, &name, &args.report, &args.by, &today)?;
            std::fs::write(&approved.file, &approved.text).map_err(|e| Error::io(&approved.file, e))?;
            let a = &approved.approval;
            println!(
                "Approved taxonomy '{}' version {} by {} on report {} (sha256 {}), recorded in {}",
                a.taxonomy,
                a.version,
                a.approved_by,
                args.report.display(),
                a.report_sha256,
                approved.file.display()
            );
            Ok(())
        }
        Command::Demo(DemoCommand::Generate(args)) => {
            let options = crate::demo::Options {
                conversations: args.conversations,
                out: args.out,
                seed: args.seed,
                end: args.end.unwrap_or_else(|| chrono::Utc::now().date_naive()),
                days: args.days,
            };
            let bar = indicatif::ProgressBar::new(options.conversations);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} conversations {per_sec}")
                    .expect("valid template"),
            );
            let started = std::time::Instant::now();
            let summary = crate::demo::generate(&options, |done| bar.set_position(done));
            bar.finish_and_clear();
            let s = summary?;
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "Wrote {} conversations ({} raw records, {:.1} MB; {} planted broken), {} accounts, {} orders, \
                 {} refunds and {} churned accounts to {} in {seconds:.1} s ({:.0} conversations/s)",
                s.conversations,
                s.records,
                s.bytes as f64 / 1e6,
                s.malformed,
                s.accounts,
                s.orders,
                s.refunds,
                s.churned,
                options.out.display(),
                s.conversations as f64 / seconds.max(1e-9)
            );
            Ok(())
        }
        Command::Sql(args) => {
            let engine = sql_engine(&args).await?;
            let stdout = std::io::stdout();
            query(&engine, &args.query, args.format, &mut stdout.lock()).await
        }
        Command::Grants(args) => {
            let (project, target, compiled) = prepare(&args.project, None).await?;
            let mut engine = Engine::open(&project, &target).await?;
            let Engine::Postgres(pg) = &mut engine else {
                return Err(Error::Project(
                    "grants are PostgreSQL privileges: pass --target-url or a postgres target (on the embedded \
                     engine, convlytics sql --role NAME enforces the roles)"
                        .into(),
                ));
            };
            pg.begin_run().await?;
            let policy = Policy::new(&project, &target, &compiled);
            let applied = grants::apply(pg.client(), &policy, &project.config.name, args.create_roles).await;
            pg.finish_run(applied.is_ok()).await?;
            report_grants(&applied?);
            Ok(())
        }
        Command::Retention(args) => retention(&args).await,
        Command::Monitor(args) => monitor(&args).await,
        Command::Realtime(command) => realtime(command).await,
        Command::Alerts(AlertsCommand::Listen(args)) => listen(&args).await,
        Command::Watch(args) => watch(&args).await,
        Command::Scheduler(args) => crate::engine::ballista::scheduler(args.bind, args.executor_timeout_seconds).await,
        Command::Executor(args) => {
            let concurrent_tasks =
                args.concurrent_tasks.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            crate::engine::ballista::executor(crate::engine::ballista::ExecutorOptions {
                scheduler: args.scheduler,
                bind: args.bind,
                flight_port: args.flight_port,
                concurrent_tasks,
                onnx_threads: args.onnx_threads,
                work_dir: args.work_dir,
            })
            .await
        }
        Command::Review(command) => review(command).await,
        Command::Docs(DocsCommand::Generate(args)) => {
            let (project, target, _) = open(&args)?;
            let engine = Engine::open(&project, &target).await?;
            let (project, target, compiled) = prepare(&args, Some(&engine)).await?;
            let inputs = crate::docs::collect(&project, &target, &compiled, &engine).await?;
            let written = crate::docs::write(&inputs, &project.target_dir().join(crate::docs::SITE_DIR))?;
            println!(
                "Wrote the docs site: {} files, {:.1} MB (largest {}, {:.1} MB){}",
                written.files,
                written.bytes as f64 / 1e6,
                written.largest.0,
                written.largest.1 as f64 / 1e6,
                if inputs.warehouse.is_some() { "" } else { "; not built yet, so no column types, results or charts" }
            );
            println!("Open {}", written.dir.join("index.html").display());
            Ok(())
        }
        Command::Docs(DocsCommand::Serve { project_dir, port }) => {
            let project = Project::load(&project_dir)?;
            let dir = project.target_dir().join(crate::docs::SITE_DIR);
            if !dir.join("index.html").is_file() {
                return Err(Error::Project(format!(
                    "docs serve: {} has no site yet: run `convlytics docs generate` first",
                    dir.display()
                )));
            }
            let listener = crate::docs::serve::bind(port)?;
            let address = listener.local_addr().map_err(|e| Error::Project(format!("docs serve: {e}")))?;
            println!("Serving {} on http://{address}/ (only this machine can connect; Ctrl-C stops)", dir.display());
            std::io::stdout().flush().map_err(|e| Error::io("stdout", e))?;
            crate::docs::serve::run(&listener, &dir)
        }
        Command::Labels(LabelsCommand::History { project, conversation_id, format }) => {
            let (project_, target, _) = open(&project)?;
            let engine = Engine::open(&project_, &target).await?;
            let sql = crate::governance::audit::history_sql(&target.schema, &conversation_id);
            let stdout = std::io::stdout();
            match &engine {
                Engine::Embedded(e) => query(e, &sql, format, &mut stdout.lock()).await,
                Engine::Postgres(p) => crate::query::print_rows(p.client(), &sql, &mut stdout.lock()).await,
            }
        }
        Command::Functions { format } => {
            let engine = EmbeddedEngine::new(PathBuf::new());
            let sql = "select name, arguments, returns, volatility, strict, parallel_safe, summary from convlytics_functions()";
            query(&engine, sql, format, &mut std::io::stdout().lock()).await
        }
    }
}

/// Which kinds of node a command executes.
struct Phase {
    seeds: bool,
    models: bool,
    tests: bool,
}

/// Loads and compiles the project (knowing, when `engine` is given, which relations exist, for
/// `is_incremental()`), writes the compiled SQL and the manifest; a spinner shows on a terminal.
async fn prepare(args: &ProjectArgs, engine: Option<&Engine>) -> Result<(Project, Target, crate::compile::Compiled)> {
    let (project, target, vars) = open(args)?;
    let existing = match engine {
        Some(engine) => engine.relations().await?,
        None if target.kind.is_files() => {
            crate::engine::embedded::relations(&crate::engine::root(&project, &target).join("warehouse"))
        }
        None => Default::default(),
    };
    let existing_sources = existing_sources(&project, &target, engine).await?;
    let options = CompileOptions {
        vars,
        existing,
        existing_sources,
        full_refresh: args.full_refresh,
        ..CompileOptions::default()
    };
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(format!("compiling {} models and {} tests", project.models.len(), project.tests.len()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    let outcome = compile(&project, &target, &options).and_then(|compiled| {
        spinner.set_message("writing target/compiled and target/manifest.json");
        write_compiled(&project, &compiled)?;
        project.write_artefact("manifest.json", &crate::manifest::build(&project, &target, &compiled))?;
        Ok(compiled)
    });
    spinner.finish_and_clear();
    let compiled = outcome?;
    for warning in compiled.warnings.lines() {
        eprintln!("warning: {warning}");
    }
    Ok((project, target, compiled))
}

/// The project's source tables that exist on the target, for `load_relation()`: on PostgreSQL
/// the tables found; on the embedded engine those with files, and the others found among the
/// warehouse's relations (what convlytics itself writes, e.g. `reviews.label_reviews`).
pub(crate) async fn existing_sources(
    project: &Project,
    target: &Target,
    engine: Option<&Engine>,
) -> Result<std::collections::BTreeSet<(String, String)>> {
    let postgres = target.kind.is_postgres();
    let mut found = std::collections::BTreeSet::new();
    let mut by_schema: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in project.sources.values() {
        if t.external_location.is_some() && !postgres {
            found.insert((t.schema.clone(), t.identifier.clone()));
        } else {
            by_schema.entry(&t.schema).or_default().push(&t.identifier);
        }
    }
    let warehouse = crate::engine::root(project, target).join("warehouse");
    for (schema, names) in by_schema {
        let present = match engine {
            Some(engine) => engine.existing(schema, &names).await?,
            None if !postgres => crate::engine::embedded::existing(&warehouse, schema, &names),
            None => Default::default(),
        };
        found.extend(present.into_iter().map(|name| (schema.to_owned(), name)));
    }
    Ok(found)
}

/// Compiles, connects and executes the selected nodes of the kinds `phase` names.
async fn execute(args: &ProjectArgs, phase: Phase) -> Result<()> {
    let (project, target, _) = open(args)?;
    let mut writer = Writer::open(&project, &target, true).await?;
    let (project, target, compiled) = prepare(args, Some(&writer.engine)).await?;
    let engine = &mut writer.engine;
    engine.register_sources(&compiled).await?;
    let nodes = crate::select::select(&compiled, &args.select, &args.exclude)?;
    let tests: Vec<_> = if phase.tests {
        compiled.tests.iter().filter(|t| crate::select::test_selected(t, &nodes, &args.select, &args.exclude)).collect()
    } else {
        Vec::new()
    };
    let steps = crate::run::plan(&compiled, &nodes, phase.models, phase.seeds, &tests);
    println!(
        "Running {} nodes of {} on the {} engine (target {}, schema {})",
        steps.len(),
        project.config.name,
        target.kind.as_str(),
        target.name,
        target.schema
    );
    for (i, hook) in compiled.on_run_start.iter().enumerate() {
        engine.execute(hook, &format!("dbt_project.yml on-run-start hook {}", i + 1)).await?;
    }
    let unit =
        if phase.tests { crate::unit_tests::run(&project, &compiled.options.vars, &nodes).await? } else { Vec::new() };
    for test in &unit {
        match &test.failure {
            None => println!("      PASS  unit  {} ({})", test.name, test.model),
            Some(diff) => println!("      FAIL  unit  {} ({})\n{}", test.name, test.model, indent(diff)),
        }
    }
    let blocked: std::collections::BTreeSet<String> =
        unit.iter().filter(|t| t.failure.is_some()).map(|t| t.model.clone()).collect();
    let refresher = crate::introspect::Refresher::new(&project, &target, &compiled)?;
    let outcome = crate::run::execute(&project, &target, &steps, engine, Some(&refresher), &blocked).await;
    let failed_units = unit.iter().filter(|t| t.failure.is_some()).count();
    let outcome = match outcome {
        Ok(_) if failed_units > 0 => Err(Error::Project(format!("{failed_units} unit test(s) failed"))),
        other => other,
    };
    for (i, hook) in compiled.on_run_end.iter().enumerate() {
        engine.execute(hook, &format!("dbt_project.yml on-run-end hook {}", i + 1)).await?;
    }
    // After a build of every model, its contracts and monitors, stored in the same run (before
    // the grants, which then cover monitor_results).
    let watched = !project.monitors.is_empty() || project.sources.values().any(|t| t.contract.is_some());
    let whole = phase.models && phase.tests && args.select.is_empty() && args.exclude.is_empty();
    let outcome = match outcome {
        Ok(results) => {
            let findings = match watched && whole {
                true => observe(&project, &target, &compiled, engine).await.inspect(|f| crate::monitor::report(f)),
                false => Ok(Vec::new()),
            };
            match findings {
                Ok(findings) => govern(&project, &target, &compiled, engine, &results).await.map(|_| findings),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    let findings = writer.finish(outcome).await?;
    crate::monitor::verdict(&findings)
}

/// Runs the project's contracts and monitors on `engine` (a spinner on a terminal) and appends
/// the results to `monitor_results`.
async fn observe(
    project: &Project,
    target: &Target,
    compiled: &crate::compile::Compiled,
    engine: &mut Engine,
) -> Result<Vec<crate::monitor::Finding>> {
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message("running contracts and monitors");
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    let findings = crate::monitor::run(engine, project, compiled, target).await;
    spinner.finish_and_clear();
    let findings = findings?;
    crate::monitor::store(engine, &target.schema, &compiled.invocation_id, &findings).await?;
    Ok(findings)
}

/// `realtime enable | disable`.
async fn realtime(command: RealtimeCommand) -> Result<()> {
    let args = match &command {
        RealtimeCommand::Enable(args) | RealtimeCommand::Disable(args) => args,
    };
    let (project, target, _) = open(args)?;
    let mut engine = Engine::open(&project, &target).await?;
    let Engine::Postgres(_) = &engine else {
        return Err(Error::Project(
            "realtime enable puts a trigger on PostgreSQL: pass --target-url or a postgres target (on the embedded \
             engine, convlytics watch follows the raw files)"
                .into(),
        ));
    };
    let (project, target, compiled) = prepare(args, Some(&engine)).await?;
    match command {
        RealtimeCommand::Enable(_) => {
            let scope = crate::realtime::postgres::TempScope;
            let chain = crate::realtime::Chain::new(&project, &target, &compiled, &scope)?;
            let Engine::Postgres(pg) = &engine else { unreachable!("checked above") };
            let enabled = crate::realtime::postgres::enable(pg.client(), &chain, &target.schema).await?;
            // The rows the trigger writes carry this compile's run id: its label_runs row says
            // which models, taxonomy versions and model files they come from.
            crate::governance::audit::record(&mut engine, &project, &compiled, &target.schema, &enabled.models).await?;
            // The roles read the new alerts table as its classes allow, as after a build.
            if let (Engine::Postgres(pg), false) = (&engine, project.roles.is_empty()) {
                let policy = Policy::new(&project, &target, &compiled);
                report_grants(&grants::apply(pg.client(), &policy, &project.config.name, false).await?);
            }
            println!(
                "Real time enabled: inserts into {} are enriched into {} in the inserting transaction; {} alert rule(s) ({}) write to {} and NOTIFY {}",
                enabled.source,
                enabled.models.join(", "),
                enabled.alerts.len(),
                enabled.alerts.join(", "),
                enabled.alerts_relation,
                crate::realtime::alerts::CHANNEL,
            );
        }
        RealtimeCommand::Disable(_) => {
            let Engine::Postgres(pg) = &engine else { unreachable!("checked above") };
            let source = crate::realtime::source(&project, &compiled)?;
            match crate::realtime::postgres::disable(pg.client(), &source, &target.schema).await? {
                true => println!("Real time disabled: inserts into {source} are no longer enriched"),
                false => println!("Real time was not enabled on {source}: nothing to do"),
            }
        }
    }
    Ok(())
}

/// `alerts listen`.
async fn listen(args: &ListenArgs) -> Result<()> {
    let (_, target, _) = open(&args.project)?;
    let profiles::TargetKind::Postgres { connection } = &target.kind else {
        return Err(Error::Project(
            "alerts listen reads PostgreSQL's NOTIFY: pass --target-url or a postgres target (convlytics watch prints \
             the embedded engine's alerts)"
                .into(),
        ));
    };
    let mut seen = 0;
    let format = args.format;
    let count = args.count;
    eprintln!("Listening for alerts of schema {} (Ctrl-C to stop)", target.schema);
    crate::realtime::postgres::listen(connection, &target.schema, |fired| {
        match format {
            ReportFormat::Json => println!("{}", serde_json::to_string(&fired).expect("an alert serializes")),
            ReportFormat::Text => println!(
                "ALERT {} [{}] conversation {} {}{}",
                fired.rule,
                fired.severity.as_deref().unwrap_or("-"),
                fired.conversation_id.as_deref().unwrap_or("-"),
                fired.detail.as_deref().unwrap_or(""),
                fired.fired_at.map(|t| format!(" at {t}")).unwrap_or_default(),
            ),
        }
        let _ = std::io::stdout().flush();
        seen += 1;
        count.is_none_or(|n| seen < n)
    })
    .await
}

/// `watch`: micro-batches until Ctrl-C or SIGTERM (the batch under way finishes first).
async fn watch(args: &WatchArgs) -> Result<()> {
    let (project, target, vars) = open(&args.project)?;
    if target.kind != profiles::TargetKind::Embedded {
        return Err(Error::Project(
            "convlytics watch runs on the embedded engine; on PostgreSQL, convlytics realtime enable".into(),
        ));
    }
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            let options = CompileOptions::with_vars(vars.clone());
            let compiled = compile(&project, &target, &options)?;
            let source = crate::realtime::source(&project, &compiled)?;
            let location =
                compiled.sources.iter().find(|(t, _)| t.schema == source.schema && t.identifier == source.identifier);
            let location = location.and_then(|(_, l)| l.clone()).ok_or_else(|| {
                Error::Project("the raw source has no files (meta.external_location): pass --dir".into())
            })?;
            if location.is_dir() {
                location
            } else {
                location.parent().map(PathBuf::from).unwrap_or_default()
            }
        }
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(term) => term.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
        eprintln!("Stopping after the batch under way");
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    println!("Watching {} (every {} ms; Ctrl-C to stop)", dir.display(), args.interval_ms);
    let _ = std::io::stdout().flush();
    let interval = std::time::Duration::from_millis(args.interval_ms);
    crate::realtime::watch::watch(&project, &target, &vars, &dir, interval, stop, |batch| {
        println!(
            "Batch {}: {} record(s){}{}{}, {} alert(s) in {:.2}s",
            batch.number,
            batch.records,
            if batch.full { ", the whole project built" } else { "" },
            if batch.rejected.is_empty() {
                String::new()
            } else {
                format!(", {} line(s) quarantined", batch.rejected.len())
            },
            if batch.failed == 0 {
                String::new()
            } else {
                format!(", {} record(s) failed and quarantined", batch.failed)
            },
            batch.alerts.len(),
            batch.seconds
        );
        for [rule, severity, conversation, detail] in &batch.alerts {
            println!("ALERT {rule} [{severity}] conversation {conversation} {detail}");
        }
        let _ = std::io::stdout().flush();
    })
    .await?;
    println!("Stopped: everything read is published");
    Ok(())
}

/// `convlytics monitor`: the contracts and monitors on the built warehouse, stored as a change.
async fn monitor(args: &MonitorArgs) -> Result<()> {
    let (project, target, _) = open(&args.project)?;
    let mut writer = Writer::open(&project, &target, true).await?;
    let (project, target, compiled) = prepare(&args.project, Some(&writer.engine)).await?;
    writer.engine.register_sources(&compiled).await?;
    let outcome = observe(&project, &target, &compiled, &mut writer.engine).await;
    let findings = writer.finish(outcome).await?;
    match args.format {
        ReportFormat::Text => crate::monitor::report(&findings),
        ReportFormat::Json => {
            let all: Vec<serde_json::Value> = findings.iter().map(crate::monitor::Finding::json).collect();
            println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
        }
    }
    crate::monitor::verdict(&findings)
}

/// After a successful run: the audit trail of what it labelled, and on PostgreSQL the project's
/// grants (tables built anew have none), in the run's transaction.
async fn govern(
    project: &Project,
    target: &Target,
    compiled: &crate::compile::Compiled,
    engine: &mut Engine,
    results: &[crate::run::NodeResult],
) -> Result<()> {
    let built: Vec<String> = results
        .iter()
        .filter(|r| r.resource_type == "model" && r.status == "success")
        .map(|r| r.name.clone())
        .collect();
    crate::governance::audit::record(engine, project, compiled, &target.schema, &built).await?;
    if let (Engine::Postgres(pg), false) = (&*engine, project.roles.is_empty()) {
        let policy = Policy::new(project, target, compiled);
        report_grants(&grants::apply(pg.client(), &policy, &project.config.name, false).await?);
    }
    // Tables the build replaced lost the indexes real time reads them by.
    if let (Engine::Postgres(pg), Some(_)) = (&*engine, &project.realtime) {
        let scope = crate::realtime::postgres::TempScope;
        if let Ok(chain) = crate::realtime::Chain::new(project, target, compiled, &scope) {
            crate::realtime::postgres::index(pg.client(), &chain).await?;
        }
    }
    Ok(())
}

/// Prints what `grants` did.
fn report_grants(applied: &grants::Applied) {
    for line in &applied.lines {
        println!("grants: {line}");
    }
    if !applied.missing.is_empty() {
        println!(
            "grants: roles {} do not exist: `convlytics grants --create-roles` creates them",
            applied.missing.join(", ")
        );
    }
}

/// `convlytics retention [--apply]`: what is due in each stored model, and with `--apply` its
/// removal (on the embedded engine as a new published generation; on PostgreSQL in one
/// transaction), each change logged in `retention_log`.
async fn retention(args: &RetentionArgs) -> Result<()> {
    use crate::governance::retention;
    let (project, target, _) = open(&args.project)?;
    let mut writer = Writer::open(&project, &target, args.apply).await?;
    let (_, _, compiled) = prepare(&args.project, Some(&writer.engine)).await?;
    let outcome = retention::run(&mut writer.engine, &compiled, args.apply).await;
    if args.apply {
        return writer.finish(outcome).await;
    }
    println!("Dry run: nothing changed; --apply removes what is due");
    outcome
}

/// `convlytics review sample | import | promote`.
async fn review(command: ReviewCommand) -> Result<()> {
    use crate::review::{import, promote, sample};
    match command {
        ReviewCommand::Sample(args) => {
            let (project, target, _) = open(&args.project)?;
            let engine = Engine::open(&project, &target).await?;
            let (project, target, compiled) = prepare(&args.project, Some(&engine)).await?;
            let field = match args.field {
                Some(field) => field,
                None => crate::review::Field::default_for(&args.model)?,
            };
            if field.model() != args.model {
                return Err(Error::Project(format!(
                    "review sample: {}s are in {}, not {}",
                    field.as_str(),
                    field.model(),
                    args.model
                )));
            }
            let (_, taxonomy) = model_taxonomy(&project, &compiled, field.model())?;
            let design = match (args.per_label, args.uniform, args.low_confidence) {
                (Some(n), _, _) => sample::Design::PerLabel(n),
                (_, Some(n), _) => sample::Design::Uniform(n),
                (_, _, Some(n)) => sample::Design::LowConfidence(n),
                _ => unreachable!("clap requires one design"),
            };
            let options = sample::Options { field, design, since: args.since, until: args.until, seed: args.seed };
            let drawn = sample::draw(&engine, &target.schema, taxonomy, &options).await?;
            sample::write_csv(&drawn, &args.out)?;
            println!(
                "Sampled {} of {} {} labels ({} strata, {}, sample {}) into {}",
                drawn.rows.len(),
                drawn.population,
                field.as_str(),
                drawn.strata,
                design.as_str(),
                drawn.sample_id,
                args.out.display()
            );
            if let Some(html) = &args.html {
                let stem = args.out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                std::fs::write(html, crate::review::page::html(&drawn, &stem)).map_err(|e| Error::io(html, e))?;
                println!(
                    "Review page (open it in a browser, offline; Export CSV saves the verdicts): {}",
                    html.display()
                );
            }
            Ok(())
        }
        ReviewCommand::Import(args) => {
            let (project, target, _) = open(&args.project)?;
            let mut writer = Writer::open(&project, &target, true).await?;
            let outcome =
                import::import(&mut writer.engine, &project, &target.schema, &args.file, &args.reviewer).await;
            let imported = writer.finish(outcome).await?;
            println!(
                "Imported {} reviews by {} into {}.{} ({} rows without a verdict left out)",
                imported.reviews,
                args.reviewer,
                crate::review::SCHEMA,
                crate::review::LABEL_REVIEWS,
                imported.skipped
            );
            Ok(())
        }
        ReviewCommand::Promote(args) => {
            let (project, target, _) = open(&args.project)?;
            let (rel, taxonomy) = taxonomy::named(&project, args.taxonomy.as_deref())?;
            let file = &project.root.join(rel);
            let engine = Engine::open(&project, &target).await?;
            let promotion = promote::plan(&engine, &target.schema, file, taxonomy).await?;
            for reason in &promotion.skipped {
                println!("left out: {reason}");
            }
            if promotion.added.is_empty() {
                println!("No correction to promote into taxonomy '{}'", taxonomy.name);
                return Ok(());
            }
            print!("{}", promotion.diff());
            let (from, to) = &promotion.versions;
            if args.apply {
                std::fs::write(file, &promotion.after).map_err(|e| Error::io(file, e))?;
                println!(
                    "Wrote {} examples into {}: taxonomy '{}' version {from} -> {to}; the next run re-labels what it changes",
                    promotion.added.len(),
                    file.display(),
                    taxonomy.name
                );
            } else {
                println!(
                    "Dry run: {} examples would take taxonomy '{}' from version {from} to {to}; --apply writes them",
                    promotion.added.len(),
                    taxonomy.name
                );
            }
            Ok(())
        }
    }
}

/// `convlytics taxonomy diff`: the baseline (a file, or a git revision of the taxonomy's file)
/// against the taxonomy as it is (or a proposed file), on the warehouse's data.
async fn taxonomy_diff(args: Box<TaxonomyDiffArgs>) -> Result<()> {
    use crate::taxonomy::diff;
    let (project, target, _) = open(&args.project)?;
    let (rel, current) = taxonomy::named(&project, args.taxonomy.as_deref())?;
    let file = project.root.join(rel);
    let here = diff::Version { taxonomy: current.clone(), origin: rel.display().to_string() };
    let (old, new) = match (&args.from, &args.to) {
        (Some(from), Some(to)) => (diff::in_file(from, &current.name)?, diff::in_file(to, &current.name)?),
        (Some(from), None) => (diff::in_file(from, &current.name)?, here),
        (None, Some(to)) => match &args.rev {
            Some(rev) => (diff::at_revision(&file, &current.name, rev)?, diff::in_file(to, &current.name)?),
            None => (here, diff::in_file(to, &current.name)?),
        },
        (None, None) => (diff::at_revision(&file, &current.name, args.rev.as_deref().unwrap_or("HEAD"))?, here),
    };
    let engine = Engine::open(&project, &target).await?;
    let found = diff::diff(&engine, &target.schema, old, new).await?;
    if let Some(path) = &args.changes {
        found.write_changes(path)?;
    }
    let report = found.report(args.examples);
    match &args.out {
        Some(path) => {
            std::fs::write(path, &report).map_err(|e| Error::io(path, e))?;
            print!("{}", found.summary());
            println!("Report: {} (sha256 {})", path.display(), crate::review::sha256(report.as_bytes()));
        }
        None => print!("{report}"),
    }
    if let Some(path) = &args.changes {
        println!("{} changed conversations: {}", found.changed().count(), path.display());
    }
    Ok(())
}

/// The taxonomy the model `name` labels with (its `taxonomy()` setting).
fn model_taxonomy<'p>(
    project: &'p Project,
    compiled: &crate::compile::Compiled,
    name: &str,
) -> Result<(&'p PathBuf, &'p convlytics_core::taxonomy::Taxonomy)> {
    let model = compiled
        .models
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| Error::Project(format!("the project has no model '{name}'")))?;
    let taxonomy = model.settings.iter().find(|(f, _)| f == "taxonomy").map(|(_, t)| t.as_str());
    let taxonomy = taxonomy.ok_or_else(|| Error::Project(format!("model '{name}' labels with no taxonomy()")))?;
    taxonomy::named(project, Some(taxonomy))
}

/// Prints the selected nodes as `ls` does.
fn list(project: &Project, compiled: &crate::compile::Compiled, args: &LsArgs, out: &mut dyn Write) -> Result<()> {
    let nodes = crate::select::select(compiled, &args.project.select, &args.project.exclude)?;
    let wants = |t: ResourceType| args.resource_type.is_none_or(|r| r == t);
    if args.columns {
        return list_columns(compiled, &nodes, args.output, out);
    }
    let mut rows: Vec<(ResourceType, String, String, PathBuf)> = Vec::new();
    if wants(ResourceType::Seed) {
        for s in compiled.seeds.iter().filter(|s| nodes.contains(&s.name)) {
            rows.push((ResourceType::Seed, crate::manifest::node_id(project, &s.name), s.name.clone(), s.path.clone()));
        }
    }
    if wants(ResourceType::Model) {
        for m in compiled.models.iter().filter(|m| nodes.contains(&m.name)) {
            rows.push((
                ResourceType::Model,
                crate::manifest::node_id(project, &m.name),
                m.name.clone(),
                m.path.clone(),
            ));
        }
    }
    if wants(ResourceType::Test) {
        for t in compiled
            .tests
            .iter()
            .filter(|t| crate::select::test_selected(t, &nodes, &args.project.select, &args.project.exclude))
        {
            rows.push((
                ResourceType::Test,
                format!("test.{}.{}", project.config.name, t.name),
                t.name.clone(),
                t.declared_in.clone(),
            ));
        }
    }
    if wants(ResourceType::Source) && args.project.select.is_empty() {
        for (t, _) in &compiled.sources {
            let id = format!("source.{}.{}.{}", project.config.name, t.source, t.name);
            rows.push((ResourceType::Source, id, format!("source:{}.{}", t.source, t.name), t.declared_in.clone()));
        }
    }
    for (kind, id, name, path) in rows {
        let line = match args.output {
            LsOutput::Name => name,
            LsOutput::Path => path.display().to_string(),
            LsOutput::Json => serde_json::json!({
                "unique_id": id, "resource_type": format!("{kind:?}").to_lowercase(), "name": name, "original_file_path": path
            })
            .to_string(),
        };
        writeln!(out, "{line}").map_err(|e| Error::io("stdout", e))?;
    }
    Ok(())
}

/// Prints the columns of the selected models: `model.column  class  path`, or a JSON object per
/// column with `--output json`.
fn list_columns(
    compiled: &crate::compile::Compiled,
    nodes: &std::collections::BTreeSet<String>,
    output: LsOutput,
    out: &mut dyn Write,
) -> Result<()> {
    for m in compiled.models.iter().filter(|m| nodes.contains(&m.name)) {
        for c in &m.columns {
            let class = c.data_class.map_or("unclassified", |c| c.as_str());
            let line = match output {
                LsOutput::Json => serde_json::json!({
                    "model": m.name, "column": c.name, "data_class": class, "why": c.why
                })
                .to_string(),
                LsOutput::Name | LsOutput::Path => format!("{}.{}\t{class}\t{}", m.name, c.name, c.why.join(" -> ")),
            };
            writeln!(out, "{line}").map_err(|e| Error::io("stdout", e))?;
        }
    }
    Ok(())
}

/// Settings from a file, else a named project entry, else the defaults.
fn settings_source(file: Option<PathBuf>, name: Option<String>, project_dir: PathBuf) -> SettingsSource {
    match (file, name) {
        (Some(file), _) => SettingsSource::File(file),
        (None, Some(name)) => SettingsSource::Project { dir: project_dir, name },
        (None, None) => SettingsSource::Defaults,
    }
}

/// Where `compile` wrote a model's SQL, relative to the project root.
fn compiled_path(project: &Project, model_path: &std::path::Path) -> PathBuf {
    PathBuf::from(&project.config.target_path).join("compiled").join(&project.config.name).join(model_path)
}

/// `text` with every line indented for a result's detail.
fn indent(text: &str) -> String {
    text.lines().map(|l| format!("        {l}")).collect::<Vec<_>>().join("\n")
}

fn parse_vars(vars: Option<&str>) -> Result<BTreeMap<String, serde_yaml::Value>> {
    match vars {
        None => Ok(BTreeMap::new()),
        Some(text) => serde_yaml::from_str(text).map_err(|e| Error::yaml("--vars", &e)),
    }
}

fn open(args: &ProjectArgs) -> Result<(Project, Target, BTreeMap<String, serde_yaml::Value>)> {
    let project = Project::load(&args.project_dir)?;
    let choice = TargetChoice {
        profiles_dir: args.profiles_dir.clone(),
        target: args.target.clone(),
        target_url: args.target_url.clone(),
        memory_limit: args.memory_limit,
    };
    let target = profiles::resolve(&choice, &args.project_dir, project.profile_name())?;
    Ok((project, target, parse_vars(args.vars.as_deref())?))
}

/// The embedded engine for `convlytics sql`: in a project, its sources and built models are
/// registered too.
async fn sql_engine(args: &SqlArgs) -> Result<EmbeddedEngine> {
    if !args.project_dir.join("dbt_project.yml").is_file() {
        if args.role.is_some() {
            return Err(Error::Project(
                "--role reads as a role of a project: run it in one, or pass --project-dir".into(),
            ));
        }
        return Ok(EmbeddedEngine::new(args.project_dir.join("target").join("warehouse")));
    }
    let project = Project::load(&args.project_dir)?;
    let target = match &args.target {
        None => Target::embedded("sql", profiles::DEFAULT_SCHEMA),
        Some(name) => {
            let choice = TargetChoice {
                profiles_dir: args.profiles_dir.clone(),
                target: Some(name.clone()),
                ..TargetChoice::default()
            };
            profiles::resolve(&choice, &args.project_dir, project.profile_name())?
        }
    };
    let options = CompileOptions::with_vars(parse_vars(args.vars.as_deref())?);
    let sources = locate_sources(&project, &target, &options)?;
    let warehouse = crate::engine::root(&project, &target).join("warehouse");
    let engine = match &target.kind {
        profiles::TargetKind::Embedded => EmbeddedEngine::new(warehouse),
        profiles::TargetKind::Ballista { url, job_timeout, .. } => {
            EmbeddedEngine::remote(url, warehouse, *job_timeout).await?
        }
        _ => {
            return Err(Error::Project(format!(
                "convlytics sql runs on the embedded engine or a Ballista cluster; target '{}' is a {} target \
                 (on PostgreSQL, query with psql)",
                target.name,
                target.kind.as_str()
            )))
        }
    };
    for (table, location) in &sources {
        if let Some(location) = location.as_ref().filter(|l| l.exists()) {
            engine.register_source(table, location).await?;
        }
    }
    engine.register_taxonomies(&project);
    engine.register_warehouse().await?;
    if let Some(name) = &args.role {
        let compiled = compile(&project, &target, &options)?;
        let policy = Policy::new(&project, &target, &compiled);
        let role = policy.role(name).map_err(Error::Project)?.clone();
        crate::governance::rows::apply(engine.context(), &policy, &role).await?;
        let guard = crate::governance::guard::Guard::new(std::sync::Arc::new(policy), role);
        engine.context().add_optimizer_rule(std::sync::Arc::new(guard));
        // A failing rule must fail the query, never be skipped.
        engine.context().state_ref().write().config_mut().options_mut().optimizer.skip_failed_rules = false;
    }
    Ok(engine)
}
