//! The projects under `examples/`, run as their READMEs say: the support inbox on the embedded
//! engine, and the dbt-core project under real dbt-postgres against pg_convlytics.

mod cli;
mod common;
mod dbt;

use std::path::Path;

fn example(name: &str) -> tempfile::TempDir {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name);
    cli::copy_project(&dir, |top| top != "target")
}

#[test]
fn support_inbox_builds_and_labels_its_conversations() {
    if !convlytics_core::embed::available_for_test("support_inbox_builds_and_labels_its_conversations") {
        return;
    }
    let project = example("support_inbox");
    let (ok, out, err) = cli::convlytics(project.path(), &["build"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("8 models built, 16 tests passed, 0 errors, 0 skipped"), "{out}");
    assert!(out.contains("Quarantined: 2 row(s)"), "{out}");
    let (ok, out, err) = cli::convlytics(
        project.path(),
        &[
            "sql",
            "--format",
            "csv",
            "select c.id, c.records, l.intent, l.resolution from analytics.conversations c
             join analytics.conversation_labels l using (conversation_id) order by c.id",
        ],
    );
    assert!(ok, "{out}{err}");
    for row in
        ["C-100,1,billing,solved", "C-101,1,account_access,escalated", "E-200,2,billing,", "V-301,1,outage,escalated"]
    {
        assert!(out.contains(row), "{row} in\n{out}");
    }
    let (ok, out, err) = cli::convlytics(
        project.path(),
        &["sql", "--format", "csv", "select count(*) as n from analytics.turns where text_redacted like '%555-2671%'"],
    );
    assert!(ok && out.contains("n\n0\n"), "the phone number in E-200 is redacted: {out}{err}");
}

#[test]
fn dbt_postgres_example_runs_under_dbt_core() {
    let Some(url) = common::postgres_url("dbt_postgres_example_runs_under_dbt_core") else { return };
    let Some(dbt) = common::required("CONVLYTICS_TEST_DBT", "dbt_postgres_example_runs_under_dbt_core") else { return };
    let project = example("dbt_postgres");
    let mut env = dbt::libpq_env(&url);
    env.push(("HELPDESK_SCHEMA", "example_helpdesk".into()));
    dbt::run(&dbt, project.path(), &["build", "--profiles-dir", "."], &env, "PASS=12");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
        tokio::spawn(connection);
        let rows = client
            .query("select ticket_id, intent, coalesce(language, '-'), text_redacted from example_helpdesk.ticket_insights order by 1", &[])
            .await
            .expect("ticket_insights");
        let labels: Vec<(String, String, String)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
        for expected in [("T-1001", "billing", "en"), ("T-1002", "account_access", "fr"), ("T-1003", "bug_report", "en"), ("T-1006", "cancellation", "en")] {
            let found = labels.iter().find(|l| l.0 == expected.0).expect(expected.0);
            assert_eq!((found.1.as_str(), found.2.as_str()), (expected.1, expected.2), "{labels:?}");
        }
        let charge: String = rows[0].get(3);
        assert!(charge.contains("<PHONE_NUMBER>") && !charge.contains("555 0101"), "{charge}");
        client.batch_execute("drop schema example_helpdesk cascade").await.expect("clean up");
    });
}
