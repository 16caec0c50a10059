//! Running dbt-core (dbt-postgres) against the test database.

/// The libpq environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`) that
/// connects to the database at the PostgreSQL `url`, for a dbt profile to read with `env_var`.
pub fn libpq_env(url: &str) -> Vec<(&'static str, String)> {
    let config: tokio_postgres::Config = url.parse().expect("a PostgreSQL URL");
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".into(),
    };
    vec![
        ("PGHOST", host),
        ("PGPORT", config.get_ports().first().copied().unwrap_or(5432).to_string()),
        ("PGUSER", config.get_user().unwrap_or("postgres").to_owned()),
        ("PGPASSWORD", config.get_password().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default()),
        ("PGDATABASE", config.get_dbname().unwrap_or("postgres").to_owned()),
    ]
}

/// Runs `dbt args...` in `project` with `env` and a profile from `--profiles-dir`; panics with
/// dbt's output unless it succeeds and prints `expect`. Returns the output.
pub fn run(dbt: &str, project: &std::path::Path, args: &[&str], env: &[(&str, String)], expect: &str) -> String {
    let out = std::process::Command::new(dbt)
        .args(args)
        .current_dir(project)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env_remove("DBT_PROFILES_DIR")
        .output()
        .expect("run dbt");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains(expect), "dbt {args:?} failed:\n{text}");
    text
}
