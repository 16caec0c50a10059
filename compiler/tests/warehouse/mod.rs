//! A warehouse to test on: copies of the default project (on its demo data or a generated
//! inbox), and PostgreSQL databases of a test's own loaded with raw interactions and CRM tables.

use std::path::Path;

use crate::cli;

/// A copy of the repository's default project (config, models, demo data) in a temporary dir.
pub fn default_project() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    cli::copy_project(&root, |top| ["dbt_project.yml", "models", "macros", "data", "seeds"].contains(&top))
}

/// The default project with `data_dir` and `crm_dir` pointing at a generated demo inbox of
/// `conversations` conversations (`convlytics demo generate`, fixed seed and dates).
pub fn generated_project(conversations: u32) -> tempfile::TempDir {
    let project = default_project();
    let (ok, out, err) = cli::convlytics(
        project.path(),
        &[
            "demo",
            "generate",
            "--conversations",
            &conversations.to_string(),
            "--out",
            "generated",
            "--end",
            "2026-11-25",
            "--days",
            "56",
        ],
    );
    assert!(ok, "{out}{err}");
    let config = project.path().join("dbt_project.yml");
    let text = std::fs::read_to_string(&config).expect("dbt_project.yml");
    let text =
        text.replace("data_dir: data/demo", "data_dir: generated").replace("crm_dir: seeds", "crm_dir: generated");
    std::fs::write(&config, text).expect("dbt_project.yml");
    project
}

/// Creates `raw.raw_interactions` in PostgreSQL from the demo JSON lines, every field as text: the
/// default project's fields, then any other a line carries (as a loader adds a vendor's new field).
pub async fn load_raw_interactions(client: &tokio_postgres::Client, file: &Path) {
    const FIELDS: [&str; 10] = [
        "source",
        "source_id",
        "channel",
        "format",
        "contact_email",
        "contact_phone",
        "contact_name",
        "campaign",
        "payload",
        "received_at",
    ];
    let text = std::fs::read_to_string(file).expect("demo data");
    let lines: Vec<serde_json::Value> =
        text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("json line")).collect();
    let mut fields: Vec<String> = FIELDS.iter().map(|f| (*f).to_owned()).collect();
    for key in lines.iter().filter_map(|v| v.as_object()).flat_map(|o| o.keys()) {
        if !fields.contains(key) {
            fields.push(key.clone());
        }
    }
    let columns: Vec<String> = fields.iter().map(|f| format!("{f} text")).collect();
    client
        .batch_execute(&format!(
            "drop schema if exists raw cascade; create schema raw; create table raw.raw_interactions ({})",
            columns.join(", ")
        ))
        .await
        .expect("create raw table");
    for v in lines {
        let values: Vec<Option<String>> = fields.iter().map(|k| v[k.as_str()].as_str().map(str::to_owned)).collect();
        insert(client, "raw.raw_interactions", &values).await;
    }
}

/// Creates schema `crm` in PostgreSQL with one text-column table per CSV file of `dir`.
pub async fn load_crm(client: &tokio_postgres::Client, dir: &Path) {
    client.batch_execute("drop schema if exists crm cascade; create schema crm").await.expect("crm schema");
    for table in ["crm_accounts", "orders", "campaigns", "refunds", "churn", "agents"] {
        let mut csv = csv::Reader::from_path(dir.join(format!("{table}.csv"))).expect("seed file");
        let header: Vec<String> = csv.headers().expect("header").iter().map(|h| format!("{h} text")).collect();
        client.batch_execute(&format!("create table crm.{table} ({})", header.join(", "))).await.expect("create");
        for row in csv.records() {
            let values: Vec<Option<String>> =
                row.expect("row").iter().map(|v| (!v.is_empty()).then(|| v.to_owned())).collect();
            insert(client, &format!("crm.{table}"), &values).await;
        }
    }
}

async fn insert(client: &tokio_postgres::Client, table: &str, values: &[Option<String>]) {
    let params: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        values.iter().map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
    client.execute(&format!("insert into {table} values ({})", params.join(", ")), &refs).await.expect("insert");
}

/// A database of a test's own, with the extension, on the server of `url`: `admin` is connected
/// to `url`'s database (to drop it after), `client` and `url` to the new one.
pub struct Scratch {
    /// Connected to the server's own database (to drop the scratch one after).
    pub admin: tokio_postgres::Client,
    /// Connected to the scratch database.
    pub client: tokio_postgres::Client,
    /// The scratch database's name.
    pub db: String,
    /// The scratch database's URL.
    pub url: String,
}

impl Scratch {
    /// A new database named for `name` and this process.
    pub async fn new(url: &str, name: &str) -> Self {
        let (admin, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect");
        tokio::spawn(conn);
        let db = format!("convlytics_{name}_{}", std::process::id());
        admin.batch_execute(&format!("create database {db}")).await.expect("create database");
        let mut config: tokio_postgres::Config = url.parse().expect("url");
        config.dbname(&db);
        let (client, conn) = config.connect(tokio_postgres::NoTls).await.expect("connect");
        tokio::spawn(conn);
        client.batch_execute("create extension pg_convlytics").await.expect("extension");
        let url = format!("{}/{db}", url.rsplit_once('/').expect("a database in the url").0);
        Self { admin, client, db, url }
    }
}

/// Connects to `url` as `user`.
pub async fn connect_as(url: &str, user: &str) -> tokio_postgres::Client {
    let mut config: tokio_postgres::Config = url.parse().expect("url");
    config.user(user);
    let (client, conn) = config.connect(tokio_postgres::NoTls).await.expect("connect as role");
    tokio::spawn(conn);
    client
}
