//! Scale-out on Apache DataFusion Ballista: the client session a `type: ballista` target builds
//! with, and the scheduler and executor processes (`convlytics scheduler`, `convlytics executor`),
//! which are Ballista's own, started with the convlytics functions and codec.
//!
//! Every process of a cluster knows the same functions: the client plans with them, the
//! scheduler re-plans and splits the plan into stages, executors run the stages. A taxonomy
//! function carries its session's taxonomies in the plan ([`datafusion_convlytics::Codec`]), so
//! executors need no project files; they need the embedding model files (the same
//! `CONVLYTICS_MODEL_DIR`) and read and write the warehouse `path:` of the target.

use std::net::SocketAddr;
use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::protobuf::{RuntimeStatsReport, ShuffleWritePartition, TaskColumnStats, WindowStateReport};
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use ballista_core::utils::default_config_producer;
use ballista_core::JobId;
use ballista_executor::execution_engine::{DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor};
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::context::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::execution::{FunctionRegistry, TaskContext};
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{Error, Result};

/// The codec of every process of a cluster: convlytics parts, then Ballista's.
pub fn codec() -> Arc<datafusion_convlytics::Codec> {
    Arc::new(datafusion_convlytics::Codec::new(
        Arc::new(BallistaLogicalExtensionCodec::default()),
        Arc::new(BallistaPhysicalExtensionCodec::default()),
    ))
}

/// `config` with the convlytics codec as Ballista's logical and physical extension codecs.
fn with_codec(config: SessionConfig) -> SessionConfig {
    let codec = codec();
    config.with_ballista_logical_extension_codec(codec.clone()).with_ballista_physical_extension_codec(codec)
}

/// A session state with every convlytics function (bound to an empty taxonomy registry: a
/// plan brings its own taxonomies) and the JSON functions: what the scheduler plans with and
/// what executors look functions up in.
pub fn session_state(config: SessionConfig) -> datafusion::common::Result<SessionState> {
    let mut state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(with_codec(config))
        .with_optimizer_rules(ballista_core::optimizer::ballista_default_optimizer_rules())
        .build();
    let session = Arc::new(convlytics_core::taxonomy::Registry::new());
    for udf in datafusion_convlytics::udfs(&session) {
        state.register_udf(Arc::new(udf))?;
    }
    datafusion_functions_json::register_all(&mut state)?;
    let ctx = SessionContext::new_with_state(state);
    for rule in crate::engine::embedded::REMOVED_RULES {
        ctx.remove_optimizer_rule(rule);
    }
    Ok(ctx.state())
}

/// A client session on the Ballista scheduler at `url` (`df://host:port`), with the convlytics
/// codec; the caller registers the functions and tables.
pub async fn connect(url: &str) -> Result<SessionContext> {
    // DataFusion's settings from the environment (`DATAFUSION_EXECUTION_TARGET_PARTITIONS`...),
    // which travel with each plan to the scheduler and executors. Ballista's adaptive planner
    // re-plans the remaining stages after each one and, on the incremental merge of a model (an
    // anti join of the stored rows against the new ones), kept the scheduler re-planning without
    // end: the static planner runs it.
    let from_env = SessionConfig::from_env()
        .map_err(|e| Error::Project(format!("reading DataFusion's settings from the environment: {e}")))?;
    let mut config = from_env
        .with_option_extension(ballista_core::config::BallistaConfig::default())
        .with_information_schema(true)
        .with_ballista_adaptive_query_planner(false);
    // A hash join's dynamic filter is built when the scheduler plans it; a join whose inputs
    // Ballista then swaps fails the task's status update ("Cannot swap HashJoinExec inputs after
    // dynamic filters have been constructed") and the job waits forever.
    config.options_mut().optimizer.enable_dynamic_filter_pushdown = false;
    config.options_mut().optimizer.enable_join_dynamic_filter_pushdown = false;
    config.options_mut().optimizer.enable_topk_dynamic_filter_pushdown = false;
    config.options_mut().optimizer.enable_aggregate_dynamic_filter_pushdown = false;
    let config = with_codec(config);
    let state = SessionStateBuilder::new().with_default_features().with_config(config).build();
    SessionContext::remote_with_state(url, state)
        .await
        .map_err(|e| Error::Project(format!("connecting to the Ballista scheduler at {url}: {e}")))
}

/// `convlytics scheduler`: Ballista's scheduler listening on `bind`, planning with the convlytics
/// functions and codec; an executor silent for `executor_timeout` seconds is taken as lost (its
/// tasks run again elsewhere, or the job fails). Runs until the process is stopped.
pub async fn scheduler(bind: SocketAddr, executor_timeout: u64) -> Result<()> {
    let mut config = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host: bind.ip().to_string(),
        executor_timeout_seconds: executor_timeout,
        no_executors_grace_period_seconds: executor_timeout,
        expire_dead_executor_interval_seconds: executor_timeout.clamp(1, 15),
        ..SchedulerConfig::default()
    };
    let codec = codec();
    config.override_logical_codec = Some(codec.clone());
    config.override_physical_codec = Some(codec);
    config.override_session_builder = Some(Arc::new(session_state));
    let config = Arc::new(config);
    let cluster = BallistaCluster::new_from_config(&config).await.map_err(ballista_error)?;
    eprintln!("convlytics scheduler (Ballista {}) listening on {bind}", ballista_core::BALLISTA_VERSION);
    start_server(cluster, bind, config).await.map_err(ballista_error)
}

/// How `convlytics executor` joins a cluster.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's `host:port`.
    pub scheduler: String,
    /// The address tasks are received on; the Flight service for shuffle data uses `port + 1`
    /// unless `flight_port` is given.
    pub bind: SocketAddr,
    /// The port of the Flight service that serves shuffle data.
    pub flight_port: Option<u16>,
    /// Tasks run at once (default: every core).
    pub concurrent_tasks: usize,
    /// ONNX Runtime threads of each embedding session (default: `concurrent_tasks`).
    pub onnx_threads: Option<usize>,
    /// Where shuffle files go (default: a temporary directory).
    pub work_dir: Option<String>,
}

/// `convlytics executor`: a Ballista executor with the convlytics functions and codec; runs until
/// the process is stopped.
pub async fn executor(options: ExecutorOptions) -> Result<()> {
    let (host, port) = host_port(&options.scheduler)?;
    // Before any embedding model is loaded: ONNX threads bounded per executor.
    let threads = options.onnx_threads.unwrap_or(options.concurrent_tasks).max(1);
    std::env::set_var("CONVLYTICS_ONNX_THREADS", threads.to_string());
    let state =
        session_state(default_config_producer()).map_err(|e| Error::datafusion("registering the functions", e))?;
    let registry = BallistaFunctionRegistry {
        scalar_functions: state.scalar_functions().clone(),
        aggregate_functions: state.aggregate_functions().clone(),
        window_functions: state.window_functions().clone(),
        ..BallistaFunctionRegistry::default()
    };
    let codec = codec();
    let config = ExecutorProcessConfig {
        bind_host: options.bind.ip().to_string(),
        external_host: Some(options.bind.ip().to_string()),
        port: options.flight_port.unwrap_or(options.bind.port().saturating_add(1)),
        grpc_port: options.bind.port(),
        scheduler_host: host,
        scheduler_port: port,
        scheduler_connect_timeout_seconds: 30,
        vcores: options.concurrent_tasks.max(1),
        work_dir: options.work_dir.clone(),
        executor_heartbeat_interval_seconds: 5,
        override_function_registry: Some(Arc::new(registry)),
        override_execution_engine: Some(Arc::new(WithoutOperatorMetrics(DefaultExecutionEngine::new()))),
        override_logical_codec: Some(codec.clone()),
        override_physical_codec: Some(codec),
        ..ExecutorProcessConfig::default()
    };
    eprintln!(
        "convlytics executor: {} task(s) at once, {threads} ONNX thread(s), scheduler {}",
        config.vcores, options.scheduler
    );
    start_executor_process(Arc::new(config)).await.map_err(ballista_error)
}

/// Ballista's execution engine, with tasks that report no per-operator metrics.
///
/// Ballista 55's scheduler takes the first task's operator metrics as its stage's shape and
/// refuses a later task's whose operator count differs, which happens in a stage holding a
/// union of unlike branches (a stored table and new rows: every append); the refused status
/// was never recorded and the job ran forever. Without operator metrics every status is taken.
struct WithoutOperatorMetrics(DefaultExecutionEngine);

#[derive(Debug)]
struct Stage(Arc<dyn QueryStageExecutor>);

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[async_trait::async_trait]
impl QueryStageExecutor for Stage {
    async fn execute_query_stage(
        &self,
        task_id: usize,
        context: Arc<TaskContext>,
    ) -> datafusion::common::Result<Vec<ShuffleWritePartition>> {
        self.0.execute_query_stage(task_id, context).await
    }

    fn collect_plan_metrics(&self) -> Vec<MetricsSet> {
        Vec::new()
    }

    fn collect_runtime_stats_reports(&self) -> Vec<RuntimeStatsReport> {
        self.0.collect_runtime_stats_reports()
    }

    fn collect_window_state_reports(&self) -> datafusion::common::Result<Vec<WindowStateReport>> {
        self.0.collect_window_state_reports()
    }

    fn collect_column_stats(&self) -> Vec<TaskColumnStats> {
        self.0.collect_column_stats()
    }
}

impl ExecutionEngine for WithoutOperatorMetrics {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> datafusion::common::Result<Arc<dyn QueryStageExecutor>> {
        let stage = self.0.create_query_stage_exec(
            job_id,
            stage_id,
            task_id,
            global_output_partition_ids,
            plan,
            work_dir,
            config,
        )?;
        Ok(Arc::new(Stage(stage)))
    }
}

/// `HOST:PORT` as a host and a port number, or an error that shows what was given.
fn host_port(text: &str) -> Result<(String, u16)> {
    text.rsplit_once(':')
        .filter(|(host, _)| !host.is_empty())
        .and_then(|(host, port)| Some((host.to_owned(), port.parse::<u16>().ok()?)))
        .ok_or_else(|| Error::Project(format!("--scheduler '{text}': expected HOST:PORT, e.g. 10.0.0.5:50050")))
}

fn ballista_error(e: ballista_core::error::BallistaError) -> Error {
    Error::Project(format!("Ballista: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduler_address_is_host_and_port() {
        assert_eq!(host_port("10.0.0.5:50050").unwrap(), ("10.0.0.5".to_owned(), 50050));
        for bad in ["10.0.0.5", ":50050", "h:99999", "h:port", "", "h:"] {
            let err = host_port(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("'{bad}': expected HOST:PORT")), "{bad}: {err}");
        }
    }
}
