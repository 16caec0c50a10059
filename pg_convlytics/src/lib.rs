//! `pg_convlytics`: the convlytics conversation functions as SQL functions in schema `convlytics`.
//!
//! Adapters only: every function converts PostgreSQL types to Rust ones, calls
//! `convlytics-core`, and converts back. No language logic lives here. What each function is
//! (name, arguments, result, volatility) is `convlytics_core::catalog`'s; pgrx needs it written
//! in each `#[pg_extern]`, and a test on a live server checks `pg_proc` against the catalogue.
//! The file per capability is the same as in `datafusion_convlytics`.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

::pgrx::pg_module_magic!(name, version);

mod catalog;
mod classify;
mod compat;
mod error;
mod identity;
mod language;
mod pii;
mod signals;
mod text;
mod transcript;

/// Declares the extension's settings (`convlytics.model_dir`, `convlytics.onnx_threads`,
/// `convlytics.pii_key_vars`, `convlytics.pii_hash_role`) and lets core's long computations
/// notice a cancel.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    classify::define_settings();
    pii::define_settings();
    convlytics_core::interrupt::install(error::interrupt_pending);
}

/// A JSON result (core writes it as text) as `jsonb`.
pub(crate) fn jsonb(function: &str, json: String) -> pgrx::JsonB {
    match serde_json::from_str(&json) {
        Ok(value) => pgrx::JsonB(value),
        Err(e) => {
            ereport!(ERROR, PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("{function}: invalid JSON result: {e}"));
        }
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    use std::collections::BTreeSet;

    use convlytics_core::catalog;

    /// One callable form as PostgreSQL has it: name, arguments, result, volatility, parallel
    /// safety, strictness.
    type Form = (String, String, String, String, bool, bool);

    /// Every function in schema convlytics, as `pg_proc` has it, equals the catalogue: the same
    /// names and forms (a DEFAULT argument counts as an optional one), argument names and
    /// types, results and output columns, volatility, parallel safety and strictness. A
    /// function the catalogue does not list, or one declared with other flags, fails this
    /// (the table's trigger function is not a function users call).
    #[pg_test]
    fn functions_match_the_catalogue() {
        let mut installed: BTreeSet<Form> = BTreeSet::new();
        Spi::connect(|client| {
            let rows = client.select(
                "select p.proname::text, pg_get_function_identity_arguments(p.oid), p.pronargdefaults::int4,
                        lower(pg_get_function_result(p.oid)),
                        case p.provolatile when 'i' then 'immutable' when 's' then 'stable' else 'volatile' end,
                        p.proparallel = 's', p.proisstrict
                 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                 where n.nspname = 'convlytics' and p.prorettype <> 'trigger'::regtype",
                None,
                &[],
            )?;
            for row in rows {
                let name: String = row.get(1)?.unwrap_or_default();
                let arguments: String = row.get(2)?.unwrap_or_default();
                let defaults = row.get::<i32>(3)?.unwrap_or_default() as usize;
                let returns: String = row.get(4)?.unwrap_or_default();
                let volatility: String = row.get(5)?.unwrap_or_default();
                let (parallel, strict) =
                    (row.get::<bool>(6)?.unwrap_or_default(), row.get::<bool>(7)?.unwrap_or_default());
                let args: Vec<&str> = if arguments.is_empty() { Vec::new() } else { arguments.split(", ").collect() };
                for n in args.len() - defaults..=args.len() {
                    let form = args[..n].join(", ");
                    installed.insert((name.clone(), form, returns.clone(), volatility.clone(), parallel, strict));
                }
            }
            Ok::<_, pgrx::spi::SpiError>(())
        })
        .expect("pg_proc");
        let expected: BTreeSet<Form> = catalog::rows()
            .into_iter()
            .map(|r| (r.name.to_owned(), r.arguments, r.returns, r.volatility.to_owned(), r.parallel_safe, r.strict))
            .collect();
        let missing: Vec<&Form> = expected.difference(&installed).collect();
        let unlisted: Vec<&Form> = installed.difference(&expected).collect();
        assert!(
            missing.is_empty() && unlisted.is_empty(),
            "in the catalogue only: {missing:#?}\ninstalled only: {unlisted:#?}"
        );
    }

    /// JSON results are jsonb and can be queried as such.
    #[pg_test]
    fn json_results_are_jsonb() {
        let frustration = Spi::get_one::<String>(
            "select convlytics.tones('This is the THIRD time!! I need it fixed today, it is urgent.')->>'frustration'",
        );
        assert_eq!(frustration, Ok(Some("0.84".into())));
        let first = Spi::get_one::<String>("select convlytics.detect_pii('mail jane@example.com')->0->>'type'");
        assert_eq!(first, Ok(Some("EMAIL_ADDRESS".into())));
    }

    /// Bad transcript settings are an ERROR the session survives; an unreadable payload is a
    /// quarantine reason, not an error.
    #[pg_test(error = "parse_transcript: transcript settings: silence_ms: -5 is negative")]
    fn bad_transcript_settings_are_an_error() {
        let reason = Spi::get_one::<String>("select quarantine_reason from convlytics.transcript_info('{', 'json')");
        assert_eq!(reason, Ok(Some("invalid JSON: EOF while parsing an object at line 1 column 1".into())));
        Spi::get_one::<i32>(
            "select turn_index from convlytics.parse_transcript('Agent: hi', 'plain', '{\"silence_ms\": -5}')",
        )
        .ok();
    }

    /// A bad policy is an ERROR the session survives, not a crash.
    #[pg_test(error = "redact_pii: pii policy: threshold: 2 is not between 0 and 1")]
    fn a_bad_policy_is_an_error() {
        Spi::get_one::<String>("select convlytics.redact_pii('hi', '{\"threshold\": 2}')").ok();
    }

    /// Oversized blocks are reported in a NOTICE, and the query still answers.
    #[pg_test]
    fn oversized_blocks_still_answer() {
        let clusters = Spi::get_one::<i64>(
            "select count(distinct cluster_key) from convlytics.stitch_identity(
               'select g::text as record_id, ''same@example.com'' as email from generate_series(1, 5) g',
               '{\"max_block_size\": 3}')",
        );
        assert_eq!(clusters, Ok(Some(5)));
    }

    /// Registering stores the taxonomy by name and replaces an earlier one; every backend then
    /// classifies with the new version.
    #[pg_test]
    fn register_taxonomy_stores_and_replaces() {
        Spi::run("select * from convlytics.register_taxonomy('{name: t, intents: [{name: late, keywords: [late]}]}')")
            .expect("register");
        let first = Spi::get_one::<String>("select version from convlytics.taxonomies where name = 't'").expect("row");
        assert_eq!(
            Spi::get_one::<String>("select convlytics.classify_intent('it is late', 't')"),
            Ok(Some("late".into()))
        );
        Spi::run(
            "select * from convlytics.register_taxonomy('{name: t, intents: [{name: slow, keywords: [late, slow]}]}')",
        )
        .expect("replace");
        let second = Spi::get_one::<String>("select version from convlytics.taxonomies where name = 't'").expect("row");
        assert_ne!(first, second);
        assert_eq!(
            Spi::get_one::<String>("select convlytics.classify_intent('it is late', 't')"),
            Ok(Some("slow".into()))
        );
        assert_eq!(Spi::get_one::<String>("select convlytics.taxonomy_version('t')"), Ok(second));
    }

    /// The batch form classifies an array in one call; NULL elements stay NULL.
    #[pg_test]
    fn classify_intents_takes_an_array() {
        let labels = Spi::get_one::<String>(
            "select array_to_string(convlytics.classify_intents(array['refund please', null, 'hello', 'my 2FA code'],
                 '{name: b, intents: [{name: refund, keywords: [refund]}, {name: login, patterns: [\"(?i)2fa\"]}]}'), ',', 'NULL')",
        );
        assert_eq!(labels, Ok(Some("refund,NULL,unknown,login".into())));
    }

    /// A taxonomy that cannot be used is an ERROR with its line and column, not a crash.
    #[pg_test(
        error = "register_taxonomy: taxonomy: 1:31: intents[0]: unknown field `keyword`, expected one of `name`, `description`, `examples`, `keywords`, `patterns`, `exclusions`, `parent`"
    )]
    fn a_bad_taxonomy_is_an_error() {
        Spi::run("select * from convlytics.register_taxonomy('{name: t, intents: [{name: a, keyword: [x]}]}')")
            .expect("unreachable");
    }

    /// A parallel query runs the functions in worker backends and gets the same answers.
    #[pg_test]
    fn parallel_workers_agree_with_the_leader() {
        Spi::run("create table t as select g, 'Bonjour, je voudrais annuler ma commande ' || g as txt from generate_series(1, 5000) g")
            .expect("create");
        Spi::run("set local parallel_setup_cost = 0; set local parallel_tuple_cost = 0; set local min_parallel_table_scan_size = 0")
            .expect("settings");
        let fr = Spi::get_one::<i64>(
            "select count(*) from t where convlytics.detect_language(txt) = 'fr'
               and convlytics.conversation_id('test', g::text) is not null",
        );
        assert_eq!(fr, Ok(Some(5000)));
    }

    /// A taxonomy registered earlier in the transaction is what parallel workers classify with,
    /// as the leader does: they read `convlytics.taxonomies` in the leader's snapshot.
    #[pg_test]
    fn parallel_workers_see_the_leaders_taxonomies() {
        Spi::run(
            "select * from convlytics.register_taxonomy('{name: par, intents: [{name: late, keywords: [late]}]}')",
        )
        .expect("register");
        Spi::run("create table p as select g, 'my parcel is late ' || g as txt from generate_series(1, 5000) g")
            .expect("create");
        Spi::run("set local parallel_setup_cost = 0; set local parallel_tuple_cost = 0; set local min_parallel_table_scan_size = 0")
            .expect("settings");
        let late = Spi::get_one::<i64>("select count(*) from p where convlytics.classify_intent(txt, 'par') = 'late'");
        assert_eq!(late, Ok(Some(5000)));
    }
}

/// Hooks `cargo pgrx test` calls; required at the crate root.
#[cfg(test)]
pub mod pg_test {
    /// One-off set-up before the tests run: none needed.
    pub fn setup(_options: Vec<&str>) {}

    /// postgresql.conf settings the tests need: none.
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
