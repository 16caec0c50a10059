//! Taxonomies and intent classification: `register_taxonomy` stores a taxonomy in
//! `convlytics.taxonomies`; `classify_intent`, `classify_intent_explain`, `tag_topics`,
//! `taxonomy_version` and the batch form `classify_intents` take a registered taxonomy's name
//! or a taxonomy's YAML. The logic is `convlytics_core::classify`'s.
//!
//! They read `convlytics.taxonomies`, so they are STABLE. A backend is one session: it keeps its
//! own registry of the taxonomies it has read by name, and compiles each taxonomy version once;
//! the embedding model loads once per backend, on first use, from `convlytics.model_dir` with
//! `convlytics.onnx_threads` threads.
//!
//! `classify_intent_explain`'s `evidence` column is `jsonb` since 0.2.0; its entry point is a new
//! symbol (`classify_intent_explain_json`), so a database still on 0.1.0's definition never reads
//! a `jsonb` column as text.

use std::cell::RefCell;
use std::ffi::CString;
use std::sync::{Arc, Once};

use convlytics_core::classify::{self, Classifier, Explanation};
use convlytics_core::embed::{self, ModelConfig};
use convlytics_core::taxonomy::{self, Registry};
use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::prelude::*;

use crate::error::{check, is_superuser, raise, MODEL_UNAVAILABLE};
use crate::jsonb;
use crate::text::{elements, Text, TextArray};

/// The taxonomies this backend has read by name.
static SESSION: Registry = Registry::new();

/// This backend's taxonomy registry (kept in step with `convlytics.taxonomies` by
/// [`sync_registered`]).
pub(crate) fn session() -> &'static Registry {
    &SESSION
}

static MODEL_DIR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static ONNX_THREADS: GucSetting<i32> = GucSetting::<i32>::new(1);

static TAXONOMY_ADMIN_ROLE: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"convlytics_taxonomy_admin"));

/// Declares `convlytics.model_dir`, `convlytics.onnx_threads` and
/// `convlytics.taxonomy_admin_role` (read by the table's guard trigger).
pub(crate) fn define_settings() {
    GucRegistry::define_string_guc(
        c"convlytics.taxonomy_admin_role",
        c"Role whose members (and superusers) may register, replace or delete taxonomies.",
        c"Every role's labels follow convlytics.taxonomies, so writing it is a privilege.",
        &TAXONOMY_ADMIN_ROLE,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"convlytics.model_dir",
        c"Directory with model.onnx, tokenizer.json and libonnxruntime.so for semantic classification.",
        c"Read when a backend first classifies; unset means $CONVLYTICS_MODEL_DIR, else ~/.cache/convlytics/models/minilm-l6-int8 of the server's user.",
        &MODEL_DIR,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"convlytics.onnx_threads",
        c"ONNX Runtime threads per backend for semantic classification.",
        c"Read when a backend first classifies.",
        &ONNX_THREADS,
        1,
        64,
        GucContext::Suset,
        GucFlags::default(),
    );
}

extension_sql!(
    r#"
CREATE TABLE convlytics.taxonomies (
    name text PRIMARY KEY,
    version text NOT NULL,
    definition text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    owner name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE convlytics.taxonomies IS 'Taxonomies registered with convlytics.register_taxonomy(), by name: their version (content hash), YAML, and the role that registered them.';
SELECT pg_catalog.pg_extension_config_dump('convlytics.taxonomies', '');
"#,
    name = "taxonomies_table",
    bootstrap
);

// Only superusers and members of `convlytics.taxonomy_admin_role` write the table (one file,
// also run by the 0.2.0 -> 0.3.0 upgrade).
extension_sql_file!("taxonomies_guard.sql", name = "taxonomies_guard", requires = ["taxonomies_table"]);

/// Whether the taxonomy called `name` was already looked up in `convlytics.taxonomies` during
/// the current statement (and command: a function that registers mid-statement starts a new
/// one); records that it now is. A statement reads the table once per name, not once per row.
fn checked_this_statement(name: &str) -> bool {
    thread_local! {
        static CHECKED: RefCell<Vec<(String, (i64, u32))>> = const { RefCell::new(Vec::new()) };
    }
    // SAFETY: plain reads of the backend's statement start time and command counter, on the
    // backend's own thread.
    #[allow(unsafe_code)] // reads of backend globals through pgrx's bindings
    let now = unsafe { (pg_sys::GetCurrentStatementStartTimestamp(), pg_sys::GetCurrentCommandId(false)) };
    CHECKED.with_borrow_mut(|checked| match checked.iter_mut().find(|(n, _)| n == name) {
        Some((_, at)) if *at == now => true,
        Some((_, at)) => {
            *at = now;
            false
        }
        None => {
            checked.push((name.to_owned(), now));
            false
        }
    })
}

/// The classifier `taxonomy` names: a name in `convlytics.taxonomies` or a taxonomy's YAML.
fn resolve(function: &str, taxonomy: &str) -> Arc<Classifier> {
    static CONFIGURED: Once = Once::new();
    CONFIGURED.call_once(|| {
        let mut config = ModelConfig::from_env();
        if let Some(dir) = MODEL_DIR.get() {
            config.dir = dir.to_string_lossy().into_owned().into();
        }
        config.threads = ONNX_THREADS.get().max(1) as usize;
        embed::configure(config);
    });
    sync_registered(function, taxonomy);
    let classifier = check(function, classify::resolve(&SESSION, taxonomy));
    if let Some(notice) = classify::rules_only_notice(&SESSION, &classifier) {
        if is_superuser() {
            warning!("{notice}");
        } else {
            log!("{notice}");
            warning!("semantic intent classification is off ({MODEL_UNAVAILABLE}); classifying with keyword and pattern rules only");
        }
    }
    classifier
}

/// When `taxonomy` is a name, makes this backend's registry hold what `convlytics.taxonomies`
/// holds under it as the statement sees the table (read once per statement and name): the
/// stored version, or nothing when there is no row.
pub(crate) fn sync_registered(function: &str, taxonomy: &str) {
    if taxonomy::is_name(taxonomy) && !checked_this_statement(taxonomy) {
        let stored: Result<(Option<String>, Option<String>), _> = Spi::connect(|client| {
            let found = client.select(
                "select version, definition from convlytics.taxonomies where name = $1",
                Some(1),
                &[taxonomy.into()],
            )?;
            if found.is_empty() {
                return Ok((None, None));
            }
            found.first().get_two::<String, String>()
        });
        match stored {
            Ok((Some(version), Some(definition))) => {
                if SESSION.version_of(taxonomy).is_none_or(|v| v != version) {
                    let parsed = taxonomy::parse_one(&definition)
                        .unwrap_or_else(|e| error!("{function}: taxonomy '{taxonomy}' in convlytics.taxonomies: {e}"));
                    SESSION.register(parsed);
                }
            }
            // Deleted, or registered in a transaction that rolled back: this backend forgets it
            // too, as a parallel worker (which reads the table afresh) does.
            Ok(_) => SESSION.unregister(taxonomy),
            Err(e) => error!("{function}: reading convlytics.taxonomies: {e}"),
        }
    }
}

fn explain(function: &str, texts: &[Option<&str>], taxonomy: &str) -> Vec<Option<Explanation>> {
    check(function, resolve(function, taxonomy).explain(texts))
}

/// The explained intent of one text.
pub(crate) fn explain_one(function: &str, text: &str, taxonomy: &str) -> Explanation {
    match explain(function, &[Some(text)], taxonomy).into_iter().next().flatten() {
        Some(e) => e,
        None => error!("{function}: no explanation for a text"),
    }
}

/// Validates the taxonomies of a YAML document (one taxonomy, a list, or a property file's
/// `taxonomies:`) and stores each in `convlytics.taxonomies` under its name, replacing one of
/// that name. Returns each name with its version.
#[pg_extern(volatile, parallel_unsafe, strict)]
fn register_taxonomy(definition: Text<'_>) -> TableIterator<'static, (name!(name, String), name!(version, String))> {
    let definition = definition.get("register_taxonomy", "definition");
    let parsed = taxonomy::parse(definition).unwrap_or_else(|e| raise("register_taxonomy", e.into()));
    let mut out = Vec::new();
    for t in parsed {
        let version = t.version();
        let yaml = taxonomy::to_yaml(&t);
        Spi::run_with_args(
            "insert into convlytics.taxonomies (name, version, definition) values ($1, $2, $3)
             on conflict (name) do update set version = excluded.version, definition = excluded.definition, registered_at = now()",
            &[t.name.as_str().into(), version.as_str().into(), yaml.as_str().into()],
        )
        .unwrap_or_else(|e| error!("register_taxonomy: {e}"));
        out.push((t.name.clone(), version));
        SESSION.register(t);
    }
    TableIterator::new(out)
}

/// The intent of `text` under `taxonomy`, or `unknown` below its threshold.
#[pg_extern(stable, parallel_safe, strict)]
fn classify_intent(text: Text<'_>, taxonomy: Text<'_>) -> String {
    let text = text.get("classify_intent", "text");
    let taxonomy = taxonomy.get("classify_intent", "taxonomy");
    let out = explain("classify_intent", &[Some(text)], taxonomy);
    out.into_iter().next().flatten().map(|e| e.label).unwrap_or_default()
}

/// The intents of `texts` in one call: the texts the rules do not decide go through the model
/// together. NULL elements stay NULL.
#[pg_extern(stable, parallel_safe, strict)]
fn classify_intents(texts: TextArray<'_>, taxonomy: Text<'_>) -> Vec<Option<String>> {
    const NAME: &str = "classify_intents";
    let taxonomy = taxonomy.get(NAME, "taxonomy");
    explain(NAME, &elements(NAME, "texts", &texts), taxonomy).into_iter().map(|e| e.map(|e| e.label)).collect()
}

/// One row: the intent, its confidence, the runner-up and its confidence, how it was decided
/// (`rule`, `semantic`, `none`), the evidence as a JSON array, and the taxonomy's version.
// pgrx reads the output column names from the name!() tuple, so it must be written inline.
#[allow(clippy::type_complexity)]
#[pg_extern(stable, parallel_safe, strict, name = "classify_intent_explain")]
fn classify_intent_explain_json(
    text: Text<'_>,
    taxonomy: Text<'_>,
) -> TableIterator<
    'static,
    (
        name!(label, String),
        name!(confidence, f64),
        name!(runner_up, Option<String>),
        name!(runner_up_confidence, Option<f64>),
        name!(method, String),
        name!(evidence, pgrx::JsonB),
        name!(taxonomy_version, String),
    ),
> {
    const NAME: &str = "classify_intent_explain";
    let (text, taxonomy) = (text.get(NAME, "text"), taxonomy.get(NAME, "taxonomy"));
    let e = explain_one(NAME, text, taxonomy);
    let evidence = jsonb(NAME, e.evidence_json());
    TableIterator::once((
        e.label,
        e.confidence,
        e.runner_up,
        e.runner_up_confidence,
        e.method.to_owned(),
        evidence,
        e.taxonomy_version,
    ))
}

/// The topics of `text` under `taxonomy`, in taxonomy order (empty when none).
#[pg_extern(stable, parallel_safe, strict)]
fn tag_topics(text: Text<'_>, taxonomy: Text<'_>) -> Vec<String> {
    let text = text.get("tag_topics", "text");
    let taxonomy = taxonomy.get("tag_topics", "taxonomy");
    let classifier = resolve("tag_topics", taxonomy);
    check("tag_topics", classifier.topics(&[Some(text)])).into_iter().next().flatten().unwrap_or_default()
}

/// The version (content hash) of `taxonomy`, without compiling it.
#[pg_extern(stable, parallel_safe, strict)]
fn taxonomy_version(taxonomy: Text<'_>) -> String {
    let taxonomy = taxonomy.get("taxonomy_version", "taxonomy");
    sync_registered("taxonomy_version", taxonomy);
    check("taxonomy_version", SESSION.version(taxonomy))
}
