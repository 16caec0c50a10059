//! `profiles.yml` (dbt's shape): which engine a run uses and how to reach it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The schema models are built in when no profile names one.
pub const DEFAULT_SCHEMA: &str = "analytics";

/// Where and how models are built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The target's name (`dev`, `prod`...), as `{{ target.name }}` gives it.
    pub name: String,
    /// The schema models are built in.
    pub schema: String,
    /// The engine.
    pub kind: TargetKind,
    /// On the embedded engine, the bytes DataFusion's operators may hold before sorts, joins
    /// and aggregates spill to disk (`memory_limit:` of the output, or `--memory-limit`).
    pub memory_limit: Option<u64>,
}

impl Target {
    /// An embedded target with no memory limit.
    pub fn embedded(name: &str, schema: &str) -> Self {
        Self { name: name.into(), schema: schema.into(), kind: TargetKind::Embedded, memory_limit: None }
    }
}

/// Bytes from a size as people write it: `2GiB`, `512MiB`, `1.5GB`, `800kB` or a plain number
/// of bytes; binary (KiB, MiB, GiB, TiB) and decimal (kB, MB, GB, TB) units, any case.
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(format!("'{text}' is not a size: expected a number with a unit such as 512MiB or 2GiB")),
    };
    let value: f64 =
        number.parse().map_err(|_| format!("'{text}' is not a size: expected a number first, as in 2GiB"))?;
    let bytes = value * factor as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("'{text}' is not a usable size: expected at least one byte"));
    }
    Ok(bytes as u64)
}

/// The engine of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// Embedded DataFusion: files in, Parquet out.
    Embedded,
    /// PostgreSQL with the pg_convlytics extension, reached at this connection string.
    Postgres {
        /// A `postgres://` URL or a `key=value` connection string.
        connection: String,
    },
    /// A Ballista cluster: the scheduler at `url` plans, its executors (`convlytics executor`) run
    /// the models and write their Parquet outputs under `path`.
    Ballista {
        /// The scheduler, `df://host:port`.
        url: String,
        /// Where the warehouse's Parquet output goes: a directory every executor (and the client)
        /// can read and write.
        path: PathBuf,
        /// How long one query (a model's write, a test) may run before the run fails.
        job_timeout: std::time::Duration,
    },
    /// A target written for another dbt adapter (duckdb, snowflake, bigquery...): `compile` and
    /// `ls` work (rendering as for the embedded engine, `{{ target.type }}` the adapter's name);
    /// commands that connect say convlytics does not run on it.
    Other {
        /// The adapter `type:` names.
        adapter: String,
    },
}

impl TargetKind {
    /// `embedded`, `postgres` or the other adapter's name, as `{{ target.type }}` gives it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Embedded => "embedded",
            Self::Postgres { .. } => "postgres",
            Self::Ballista { .. } => "ballista",
            Self::Other { adapter } => adapter,
        }
    }

    /// The database a PostgreSQL target connects to (`{{ target.database }}`), when it names one.
    pub fn database(&self) -> Option<String> {
        let Self::Postgres { connection } = self else { return None };
        let config: tokio_postgres::Config = connection.parse().ok()?;
        config.get_dbname().map(str::to_owned)
    }

    /// Whether models are written as Parquet files under a warehouse directory (the embedded
    /// engine, Ballista).
    pub fn is_files(&self) -> bool {
        matches!(self, Self::Embedded | Self::Ballista { .. })
    }

    /// Whether models are rendered and checked as PostgreSQL SQL (else as the embedded engine's).
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres { .. })
    }
}

/// The error for a command that connects to a target of another adapter.
pub fn unsupported(target: &Target) -> crate::error::Error {
    crate::error::Error::Project(format!(
        "target '{}' is a {} target: convlytics builds on its embedded engine (type: embedded) and on \
         PostgreSQL with pg_convlytics (type: postgres) and on a Ballista cluster (type: ballista); add an output of one of those types to profiles.yml \
         and pass --target, or pass --target-url (compile and ls work on any target)",
        target.name,
        target.kind.as_str()
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    target: String,
    outputs: BTreeMap<String, serde_yaml::Value>,
}

/// An output's `type`, read before its other keys, which depend on the adapter.
#[derive(Debug, Deserialize)]
struct Typed {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    schema: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Output {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    schema: Option<String>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default, alias = "pass")]
    password: Option<String>,
    #[serde(default, alias = "database")]
    dbname: Option<String>,
    #[serde(default)]
    sslmode: Option<String>,
    #[serde(default, rename = "threads")]
    _threads: Option<u32>,
    #[serde(default)]
    memory_limit: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    job_timeout_seconds: Option<u64>,
}

/// How the caller chose the target.
#[derive(Debug, Default, Clone)]
pub struct TargetChoice {
    /// `--profiles-dir`.
    pub profiles_dir: Option<PathBuf>,
    /// `--target`.
    pub target: Option<String>,
    /// `--target-url`: PostgreSQL at this URL, whatever the profile says.
    pub target_url: Option<String>,
    /// `--memory-limit`, over the output's `memory_limit:`.
    pub memory_limit: Option<u64>,
}

/// The directories searched for `profiles.yml`, in order: `--profiles-dir`, `$DBT_PROFILES_DIR`,
/// the project directory, `~/.dbt`.
fn profile_candidates(choice: &TargetChoice, project_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    dirs.extend(choice.profiles_dir.clone());
    dirs.extend(std::env::var_os("DBT_PROFILES_DIR").map(PathBuf::from));
    dirs.push(project_dir.to_path_buf());
    dirs.extend(std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".dbt")));
    dirs.into_iter().map(|d| d.join("profiles.yml")).collect()
}

/// Resolves the target of a run from `profiles.yml` (rendered with `env_var`) and the CLI choice.
/// With no profile file, or no entry for `profile`, the target is the embedded engine.
pub fn resolve(choice: &TargetChoice, project_dir: &Path, profile: &str) -> Result<Target> {
    let file = profile_candidates(choice, project_dir).into_iter().find(|p| p.is_file());
    let chosen = match &file {
        Some(path) => read_profile(path, profile, choice.target.as_deref())?,
        None => None,
    };
    let (name, output) = match chosen {
        Some((name, output)) => (name, Some(output)),
        None => (choice.target.clone().unwrap_or_else(|| "dev".into()), None),
    };
    let schema = match &output {
        Some(Ok(o)) => o.schema.clone(),
        Some(Err(other)) => other.schema.clone(),
        None => None,
    };
    let schema = schema.unwrap_or_else(|| DEFAULT_SCHEMA.into());
    let path = file.as_deref().unwrap_or(project_dir);
    let configured = match &output {
        Some(Ok(o)) => o.memory_limit.as_deref().map(|m| memory_limit(m, &o.kind, path)).transpose()?,
        _ => None,
    };
    let kind = match (&choice.target_url, output) {
        (Some(url), _) => TargetKind::Postgres { connection: url.clone() },
        (None, None) => TargetKind::Embedded,
        (None, Some(Ok(o))) => output_kind(o, path, project_dir)?,
        (None, Some(Err(other))) => TargetKind::Other { adapter: other.kind },
    };
    // The output's limit is for its embedded engine; `--target-url` builds elsewhere.
    let memory_limit = if kind == TargetKind::Embedded { choice.memory_limit.or(configured) } else { None };
    if choice.memory_limit.is_some() && kind != TargetKind::Embedded {
        return Err(Error::Project(format!(
            "a memory limit bounds the embedded engine; target '{name}' is a {} target (PostgreSQL bounds \
             its own memory with work_mem, Ballista executors with their own memory pool)",
            kind.as_str()
        )));
    }
    Ok(Target { name, schema, kind, memory_limit })
}

/// The chosen output of `profile`: parsed when convlytics runs on its adapter, else its type and
/// schema (its other keys are the adapter's).
fn read_profile(
    path: &Path,
    profile: &str,
    target: Option<&str>,
) -> Result<Option<(String, std::result::Result<Output, Typed>)>> {
    let raw = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut env = minijinja::Environment::new();
    env.add_function("env_var", crate::render::env_var);
    let text = env.render_str(&raw, ()).map_err(|e| Error::template(Path::new(""), path, &e))?;
    // Other top-level keys (`config:` of older dbt versions) are not profiles.
    let mut profiles: BTreeMap<String, serde_yaml::Value> =
        serde_yaml::from_str(&text).map_err(|e| Error::yaml(path, &e))?;
    let Some(p) = profiles.remove(profile) else {
        return Ok(None);
    };
    let mut p: Profile = serde_yaml::from_value(p).map_err(|e| profile_error(path, profile, &e))?;
    let name = target.map_or(p.target.clone(), str::to_owned);
    let output = p.outputs.remove(&name).ok_or_else(|| {
        let known: Vec<_> = p.outputs.keys().cloned().collect();
        Error::Project(format!(
            "{}: profile '{profile}' has no target '{name}' (targets: {})",
            path.display(),
            known.join(", ")
        ))
    })?;
    let typed: Typed = serde_yaml::from_value(output.clone()).map_err(|e| profile_error(path, profile, &e))?;
    let output = match typed.kind.as_str() {
        "embedded" | "datafusion" | "postgres" | "ballista" => {
            Some(serde_yaml::from_value(output).map_err(|e| profile_error(path, profile, &e))?)
        }
        _ => None,
    };
    Ok(Some((name, output.ok_or(typed))))
}

/// An output's `memory_limit:`, in bytes.
fn memory_limit(text: &str, kind: &str, path: &Path) -> Result<u64> {
    if !matches!(kind, "embedded" | "datafusion") {
        return Err(Error::Project(format!(
            "{}: memory_limit bounds the embedded engine, not a {kind} output",
            path.display()
        )));
    }
    parse_size(text).map_err(|e| Error::Project(format!("{}: memory_limit: {e}", path.display())))
}

fn profile_error(path: &Path, profile: &str, e: &serde_yaml::Error) -> Error {
    Error::Project(format!("{}: profile '{profile}': {e}", path.display()))
}

fn output_kind(o: Output, path: &Path, project_dir: &Path) -> Result<TargetKind> {
    match o.kind.as_str() {
        "ballista" => {
            let missing = |key: &str, example: &str| {
                Error::Project(format!("{}: a ballista output needs {key}: (e.g. {key}: {example})", path.display()))
            };
            let url = o.url.ok_or_else(|| missing("url", "df://localhost:50050"))?;
            if !url.starts_with("df://") {
                return Err(Error::Project(format!(
                    "{}: ballista url '{url}': expected df://HOST:PORT",
                    path.display()
                )));
            }
            let dir = PathBuf::from(o.path.ok_or_else(|| missing("path", "/shared/warehouse"))?);
            // Relative to the project, as target-path is.
            let dir = if dir.is_absolute() { dir } else { project_dir.join(dir) };
            let job_timeout = std::time::Duration::from_secs(o.job_timeout_seconds.unwrap_or(3600).max(1));
            Ok(TargetKind::Ballista { url, path: dir, job_timeout })
        }
        "embedded" | "datafusion" => Ok(TargetKind::Embedded),
        "postgres" => {
            let mut parts = vec![format!("host={}", o.host.unwrap_or_else(|| "localhost".into()))];
            parts.extend(o.port.map(|p| format!("port={p}")));
            parts.extend(o.user.map(|u| format!("user={u}")));
            parts.extend(o.password.map(|p| format!("password='{}'", p.replace('\\', "\\\\").replace('\'', "\\'"))));
            parts.extend(o.dbname.map(|d| format!("dbname={d}")));
            parts.extend(o.sslmode.map(|s| format!("sslmode={s}")));
            Ok(TargetKind::Postgres { connection: parts.join(" ") })
        }
        other => Err(Error::Project(format!(
            "{}: unknown target type '{other}': expected 'embedded' or 'postgres'",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) {
        std::fs::write(dir.join("profiles.yml"), text).unwrap();
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("512 mib"), Ok(512 << 20));
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        for bad in ["", "GiB", "2 parsecs", "0", "-1GiB", "1e9"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_embedded_output_sets_a_memory_limit_that_the_flag_overrides() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "p:\n  target: dev\n  outputs:\n    dev: {type: embedded, memory_limit: 2GiB}\n    pg: {type: postgres, memory_limit: 1GiB}\n");
        let choice = TargetChoice { profiles_dir: Some(dir.path().into()), ..Default::default() };
        assert_eq!(resolve(&choice, dir.path(), "p").unwrap().memory_limit, Some(2 << 30));
        let flag = TargetChoice { memory_limit: Some(1 << 20), ..choice.clone() };
        assert_eq!(resolve(&flag, dir.path(), "p").unwrap().memory_limit, Some(1 << 20));
        let pg = TargetChoice { target: Some("pg".into()), ..choice.clone() };
        let err = resolve(&pg, dir.path(), "p").unwrap_err().to_string();
        assert!(err.contains("memory_limit bounds the embedded engine"), "{err}");
        let url = TargetChoice { target_url: Some("postgres://x@localhost/db".into()), ..choice.clone() };
        assert_eq!(resolve(&url, dir.path(), "p").unwrap().memory_limit, None, "the output's limit is its engine's");
        let url_and_flag = TargetChoice { memory_limit: Some(1 << 20), ..url };
        let err = resolve(&url_and_flag, dir.path(), "p").unwrap_err().to_string();
        assert!(err.contains("work_mem"), "{err}");
    }

    #[test]
    fn postgres_output_becomes_a_connection_string() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "p:\n  target: dev\n  outputs:\n    dev: {type: embedded}\n    pg:\n      type: postgres\n      host: 127.0.0.1\n      port: 5433\n      user: \"{{ env_var('CONVLYTICS_TEST_USER', 'bob') }}\"\n      dbname: wh\n      schema: marts\n",
        );
        let choice =
            TargetChoice { profiles_dir: Some(dir.path().into()), target: Some("pg".into()), ..Default::default() };
        let t = resolve(&choice, dir.path(), "p").unwrap();
        assert_eq!(t.schema, "marts");
        assert_eq!(t.kind, TargetKind::Postgres { connection: "host=127.0.0.1 port=5433 user=bob dbname=wh".into() });
        let dev =
            resolve(&TargetChoice { profiles_dir: Some(dir.path().into()), ..Default::default() }, dir.path(), "p")
                .unwrap();
        assert_eq!((dev.name.as_str(), dev.kind), ("dev", TargetKind::Embedded));
    }

    #[test]
    fn a_ballista_output_needs_its_scheduler_and_a_shared_path() {
        let dir = tempfile::tempdir().unwrap();
        let profile = |output: &str| format!("p:\n  target: c\n  outputs:\n    c:\n      type: ballista\n{output}");
        let resolved =
            || resolve(&TargetChoice { profiles_dir: Some(dir.path().into()), ..Default::default() }, dir.path(), "p");
        write(
            dir.path(),
            &profile("      url: df://10.0.0.5:50050\n      path: shared/wh\n      job_timeout_seconds: 90\n"),
        );
        let t = resolved().unwrap();
        let path = dir.path().join("shared/wh");
        assert_eq!(
            t.kind,
            TargetKind::Ballista {
                url: "df://10.0.0.5:50050".into(),
                path,
                job_timeout: std::time::Duration::from_secs(90)
            }
        );
        assert!(t.kind.is_files() && !t.kind.is_postgres());
        write(dir.path(), &profile("      url: df://10.0.0.5:50050\n"));
        let err = resolved().unwrap_err().to_string();
        assert!(err.contains("a ballista output needs path:"), "{err}");
        write(dir.path(), &profile("      url: http://10.0.0.5:50050\n      path: /wh\n"));
        let err = resolved().unwrap_err().to_string();
        assert!(err.contains("expected df://HOST:PORT"), "{err}");
        let limited =
            TargetChoice { profiles_dir: Some(dir.path().into()), memory_limit: Some(1 << 30), ..Default::default() };
        write(dir.path(), &profile("      url: df://h:1\n      path: /wh\n"));
        assert!(resolve(&limited, dir.path(), "p").unwrap_err().to_string().contains("ballista target"));
    }

    #[test]
    fn another_adapters_target_is_read_for_its_type_and_schema() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "jaffle_shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: jaffle_shop.duckdb\n      schema: main\n      threads: 24\n      extensions: [httpfs]\n",
        );
        let t = resolve(
            &TargetChoice { profiles_dir: Some(dir.path().into()), ..Default::default() },
            dir.path(),
            "jaffle_shop",
        )
        .unwrap();
        assert_eq!((t.schema.as_str(), t.kind.as_str()), ("main", "duckdb"));
        let err = unsupported(&t).to_string();
        assert!(err.contains("target 'dev' is a duckdb target") && err.contains("type: embedded"), "{err}");
    }

    #[test]
    fn unknown_target_names_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "p:\n  target: dev\n  outputs:\n    dev: {type: embedded}\n");
        let choice =
            TargetChoice { profiles_dir: Some(dir.path().into()), target: Some("prod".into()), ..Default::default() };
        let err = resolve(&choice, dir.path(), "p").unwrap_err().to_string();
        assert!(err.contains("no target 'prod' (targets: dev)"), "{err}");
    }
}
