//! `pg_convlytics`: the convlytics conversation functions as SQL functions in schema `convlytics`.
//!
//! Adapters only: every function converts PostgreSQL types to Rust ones, calls
//! `convlytics-core`, and converts back. No language logic lives here.

use pgrx::prelude::*;

::pgrx::pg_module_magic!(name, version);

/// Declares the extension's settings (`convlytics.model_dir`, `convlytics.onnx_threads`).
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    classify::define_settings();
}

/// The canonical UUIDv5 of a conversation from its source system and that system's id.
#[pg_extern(immutable, parallel_safe, strict)]
fn conversation_id(source: &str, source_id: &str) -> pgrx::Uuid {
    pgrx::Uuid::from_bytes(*convlytics_core::conversation_id(source, source_id).as_bytes())
}

/// The ISO 639-1 code of the text's language, or NULL when unsure.
#[pg_extern(immutable, parallel_safe, strict)]
fn detect_language(text: &str) -> Option<String> {
    convlytics_core::detect_language(text)
}

/// The canonical form of an email, phone number (E.164), id or name; NULL when invalid.
#[pg_extern(immutable, parallel_safe, strict, name = "normalize_identifier")]
fn normalize_identifier(kind: &str, value: &str) -> Option<String> {
    normalize(kind, value, None)
}

/// As `normalize_identifier(kind, value)`, reading national phone numbers in `region`.
#[pg_extern(immutable, parallel_safe, strict, name = "normalize_identifier")]
fn normalize_identifier_in_region(kind: &str, value: &str, region: &str) -> Option<String> {
    normalize(kind, value, Some(region))
}

fn normalize(kind: &str, value: &str, region: Option<&str>) -> Option<String> {
    convlytics_core::identity::normalize_identifier_text(kind, value, region).unwrap_or_else(|e| error!("{e}"))
}

mod classify;
mod identity;
mod pii;
mod signals;
mod transcript;
pub use identity::stitch_identity;

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    /// The volatility, parallel safety and strictness that the design promises for every function.
    #[pg_test]
    fn functions_are_immutable_parallel_safe_and_strict() {
        let wrong = Spi::get_one::<i64>(
            "select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'convlytics'
               and p.proname in ('conversation_id', 'detect_language', 'normalize_identifier', 'remove_lines')
               and (p.provolatile <> 'i' or p.proparallel <> 's' or not p.proisstrict)",
        );
        assert_eq!(wrong, Ok(Some(0)));
        let found = Spi::get_one::<i64>(
            "select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'convlytics' and p.proname in ('conversation_id', 'detect_language', 'normalize_identifier', 'remove_lines')",
        );
        assert_eq!(found, Ok(Some(5)));
    }

    /// detect_pii depends only on its arguments; redact_pii may read the hash key from the
    /// server's environment, so it is stable. Both are parallel safe and strict.
    #[pg_test]
    fn pii_functions_volatility() {
        let flags = Spi::get_one::<String>(
            "select string_agg(p.proname || ':' || p.provolatile::text || p.proparallel::text || p.proisstrict::text, ' '
                               order by p.proname, p.pronargs)
             from pg_proc p join pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'convlytics' and p.proname in ('detect_pii', 'redact_pii')",
        );
        assert_eq!(flags, Ok(Some("detect_pii:istrue detect_pii:istrue redact_pii:sstrue redact_pii:sstrue".into())));
    }

    /// The transcript functions depend only on their arguments: immutable, parallel safe and
    /// strict, and set-returning.
    #[pg_test]
    fn transcript_functions_volatility() {
        let flags = Spi::get_one::<String>(
            "select string_agg(p.proname || ':' || p.provolatile::text || p.proparallel::text || p.proisstrict::text
                               || p.proretset::text, ' ' order by p.proname)
             from pg_proc p join pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'convlytics' and p.proname in ('parse_transcript', 'transcript_info')",
        );
        assert_eq!(flags, Ok(Some("parse_transcript:istruetrue transcript_info:istruetrue".into())));
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

    /// stitch_identity runs a query through SPI: volatile and kept out of parallel workers.
    #[pg_test]
    fn stitch_identity_is_volatile_and_parallel_unsafe() {
        let flags = Spi::get_one::<String>(
            "select p.provolatile::text || p.proparallel::text || p.proretset::text from pg_proc p
             join pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'convlytics' and p.proname = 'stitch_identity'",
        );
        assert_eq!(flags, Ok(Some("vutrue".into())));
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

    /// The taxonomy functions read convlytics.taxonomies: stable, parallel safe and strict.
    /// Registering writes it: volatile.
    #[pg_test]
    fn taxonomy_functions_volatility() {
        let flags = Spi::get_one::<String>(
            "select string_agg(p.proname || ':' || p.provolatile::text || p.proparallel::text || p.proisstrict::text, ' '
                               order by p.proname)
             from pg_proc p join pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'convlytics' and p.proname in ('classify_intent', 'classify_intents',
                   'classify_intent_explain', 'tag_topics', 'taxonomy_version', 'register_taxonomy')",
        );
        assert_eq!(
            flags,
            Ok(Some(
                "classify_intent:sstrue classify_intent_explain:sstrue classify_intents:sstrue register_taxonomy:vutrue tag_topics:sstrue taxonomy_version:sstrue"
                    .into()
            ))
        );
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
        error = "register_taxonomy: 1:31: intents[0]: unknown field `keyword`, expected one of `name`, `description`, `examples`, `keywords`, `patterns`, `exclusions`, `parent`"
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
