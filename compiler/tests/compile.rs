//! Compiler fixtures: each `inputs/<project>/` is compiled for the embedded target; the result
//! (models in build order with their config and SQL, or the error) is an insta snapshot.

use std::fmt::Write;

use convlytics::compile::{compile, CompileOptions};
use convlytics::project::profiles::{Target, TargetKind};
use convlytics::project::Project;

fn target() -> Target {
    Target { name: "dev".into(), schema: "analytics".into(), kind: TargetKind::Embedded }
}

/// Options that compile the same SQL every time: a fixed run id, and retention aging rows
/// against a fixed instant.
fn options() -> CompileOptions {
    CompileOptions {
        invocation_id: "00000000-0000-4000-8000-000000000000".into(),
        now: chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").expect("instant").into(),
        ..CompileOptions::default()
    }
}

fn describe(dir: &std::path::Path) -> String {
    let compiled = Project::load(dir).and_then(|p| compile(&p, &target(), &options()));
    let root = dir.to_string_lossy().into_owned() + "/";
    match compiled {
        Err(e) => e.report().replace(&root, ""),
        Ok(c) => {
            let mut out = String::new();
            for w in c.warnings.lines() {
                let _ = writeln!(out, "-- warning: {w}");
            }
            for s in &c.seeds {
                let _ = writeln!(out, "-- seed {} ({}, column_types {:?})", s.name, s.path.display(), s.column_types);
            }
            for m in &c.models {
                let _ = write!(
                    out,
                    "-- {} ({}, {}, tags {:?}, refs {:?})\n{}",
                    m.relation,
                    m.path.display(),
                    m.config.materialized.as_str(),
                    m.config.tags,
                    m.refs,
                    m.sql
                );
                let lineage: Vec<String> = m
                    .columns
                    .iter()
                    .map(|col| {
                        let from: Vec<String> = col.from.iter().map(|o| format!("{}.{}", o.node, o.column)).collect();
                        format!("{} <- [{}]", col.name, from.join(", "))
                    })
                    .collect();
                let classes: Vec<String> = m
                    .columns
                    .iter()
                    .map(|c| {
                        let class = c.data_class.map_or("unclassified", |d| d.as_str());
                        format!("{} {class} ({})", c.name, c.why.join(" -> "))
                    })
                    .collect();
                let _ = writeln!(out, "-- lineage: {}\n-- classes: {}\n", lineage.join("; "), classes.join("; "));
            }
            for t in &c.tests {
                let _ = writeln!(out, "-- test {} ({}, {:?})\n{}", t.name, t.declared_in.display(), t.severity, t.sql);
            }
            out
        }
    }
}

#[test]
fn fixtures() {
    insta::glob!("inputs/*/dbt_project.yml", |path| {
        insta::assert_snapshot!(describe(path.parent().expect("project dir")));
    });
}

#[test]
fn default_project() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("default_project_compiled_sql", describe(&root)));
}

#[test]
fn the_dbt_macros_of_the_default_project_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let written = std::fs::read_to_string(root.join("macros/convlytics_dbt.sql")).expect("macros/convlytics_dbt.sql");
    let project = Project::load(&root).expect("load");
    assert!(
        written == convlytics::dbt::macros(&project),
        "macros/convlytics_dbt.sql is stale: run `convlytics dbt macros --out macros/convlytics_dbt.sql`"
    );
}
