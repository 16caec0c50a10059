//! dbt compatibility: the macros that give dbt-core (dbt-postgres, with pg_convlytics installed)
//! the Jinja functions convlytics has built in, so the same project runs under both. The named
//! settings are written in as literals and the relation functions as the SQL convlytics writes
//! for PostgreSQL (from the same code); `convlytics_register_taxonomies()` registers the
//! project's taxonomies, for an `on-run-start` hook, and the generic test `taxonomy_labels` is
//! written out for each taxonomy. convlytics itself ignores these macros (its
//! built-ins win), so the file only matters to dbt.

use std::fmt::Write;

use convlytics_core::catalog::EXPLAIN_COLUMNS;

use crate::data_tests::{taxonomy_labels_sql, Labels};
use crate::project::Project;
use crate::render::{explain_call, per_row_sql, transcripts_call, Transcript, DEFAULT_COLUMNS};

/// The macro file for `project`.
pub fn macros(project: &Project) -> String {
    let mut out = String::from(
        "{#- Written by `convlytics dbt macros`: the convlytics Jinja functions for dbt-core with dbt-postgres and\n    \
         pg_convlytics. Do not edit; write it again when the project's settings or taxonomies change.\n    \
         convlytics uses its own built-in functions of these names. -#}\n",
    );
    let literal = |json: String| crate::render::quote_literal(&json);
    let named = [
        (
            "identity_settings",
            "identity",
            project
                .identities
                .iter()
                .map(|(n, (_, s))| (n, literal(serde_json::to_string(&s.settings).expect("json"))))
                .collect::<Vec<_>>(),
        ),
        (
            "pii_policy",
            "pii policy",
            project
                .pii_policies
                .iter()
                .map(|(n, (_, s))| (n, literal(serde_json::to_string(&s.policy).expect("json"))))
                .collect(),
        ),
        (
            "transcript_settings",
            "transcripts",
            project
                .transcripts
                .iter()
                .map(|(n, (_, s))| (n, literal(serde_json::to_string(&s.settings).expect("json"))))
                .collect(),
        ),
        ("taxonomy", "taxonomy", project.taxonomies.keys().map(|n| (n, format!("'{n}'"))).collect()),
    ];
    for (function, what, entries) in named {
        let known: Vec<String> =
            entries.iter().map(|(name, sql)| format!("{}: {}", jinja_string(name), jinja_string(sql))).collect();
        let _ = write!(
            out,
            "\n{{% macro {function}(name) -%}}\n\
             {{%- set known = {{{}}} -%}}\n\
             {{%- if name not in known -%}}\n\
             {{{{ exceptions.raise_compiler_error(\"{function}('\" ~ name ~ \"'): no {what} named '\" ~ name ~ \"'\") }}}}\n\
             {{%- endif -%}}\n\
             {{{{ known[name] }}}}\n\
             {{%- endmacro %}}\n",
            known.join(", ")
        );
    }
    let contracts: Vec<String> = project
        .sources
        .iter()
        .filter_map(|((source, table), t)| {
            let name = format!("{source}.{table}");
            let sql = crate::monitor::contract::violation_sql(&name, t.contract.as_ref()?);
            Some(format!("{}: {}", jinja_string(&name), jinja_string(&sql)))
        })
        .collect();
    let _ = write!(
        out,
        "\n{{% macro contract_violation(source_name, table_name) -%}}\n\
         {{%- set known = {{{}}} -%}}\n\
         {{%- set key = source_name ~ '.' ~ table_name -%}}\n\
         {{%- if key not in known -%}}\n\
         {{{{ exceptions.raise_compiler_error(\"contract_violation('\" ~ source_name ~ \"', '\" ~ table_name ~ \"'): no contract: on that source table\") }}}}\n\
         {{%- endif -%}}\n\
         {{{{ known[key] }}}}\n\
         {{%- endmacro %}}\n",
        contracts.join(", ")
    );
    let quoted = |arg: &str| format!("{{{{ adapter.quote({arg}) }}}}");
    for kind in [Transcript::Turns, Transcript::Info] {
        let call = transcripts_call(
            kind,
            &quoted("payload"),
            &quoted("format"),
            "{% if settings %}, {{ settings }}{% endif %}",
        );
        let sql = per_row_sql(true, "{{ relation }}", &call, kind.columns(), kind == Transcript::Turns);
        let _ = write!(
            out,
            "\n{{% macro {}(relation, payload='{}', format='{}', settings=none) -%}}\n{sql}\n{{%- endmacro %}}\n",
            kind.jinja_name(),
            DEFAULT_COLUMNS.0,
            DEFAULT_COLUMNS.1
        );
    }
    let sql = per_row_sql(
        true,
        "{{ relation }}",
        &explain_call(&quoted("text"), "{{ taxonomy }}"),
        EXPLAIN_COLUMNS.iter().map(|c| c.name),
        false,
    );
    let _ = write!(
        out,
        "\n{{% macro explain_intents(relation, text='{}', taxonomy=none) -%}}\n{sql}\n{{%- endmacro %}}\n",
        DEFAULT_COLUMNS.2
    );
    let mut branches = Vec::new();
    for (name, (_, taxonomy)) in &project.taxonomies {
        let intents: Vec<String> = taxonomy.intents.iter().map(|l| l.name.clone()).collect();
        let topics: Vec<String> = taxonomy.topics.iter().map(|l| l.name.clone()).collect();
        let cases = [
            ("'intents'", "", Labels::Intents, &intents),
            ("'topics'", " and not separator", Labels::Topics { separator: None }, &topics),
            ("'topics'", " and separator", Labels::Topics { separator: Some("{{ separator }}".into()) }, &topics),
        ];
        for (labels, separator, kind, values) in cases {
            let sql = taxonomy_labels_sql("{{ model }}", "{{ column_name }}", &kind, values);
            branches.push(format!("taxonomy == {} and labels == {labels}{separator} %}}\n{sql}\n", jinja_string(name)));
        }
    }
    let _ = write!(
        out,
        "\n{{% macro test_taxonomy_labels(model, column_name, taxonomy, labels='intents', separator=none) -%}}\n{{%- if {}{{%- else -%}}\n\
         {{{{ exceptions.raise_compiler_error(\"taxonomy_labels: no taxonomy '\" ~ taxonomy ~ \"' with labels '\" ~ labels ~ \"'\") }}}}\n\
         {{%- endif -%}}\n{{%- endmacro %}}\n",
        branches.join("{%- elif ")
    );
    let registrations: Vec<String> = project
        .taxonomies
        .values()
        .map(|(_, t)| {
            jinja_string(&format!(
                "select convlytics.register_taxonomy({})",
                literal(convlytics_core::taxonomy::to_yaml(t))
            ))
        })
        .collect();
    let _ = write!(
        out,
        "\n{{% macro convlytics_register_taxonomies() -%}}\n{{{{ {} }}}}\n{{%- endmacro %}}\n",
        if registrations.is_empty() { "''".to_owned() } else { registrations.join(" ~ ';\\n' ~ ") }
    );
    out
}

/// `text` as a Jinja string literal (Jinja reads JSON's escapes).
fn jinja_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}
