//! Rendering models and data tests with Jinja: `ref()`, `source()`, `config()`, `var()`,
//! `env_var()`, `is_incremental()`, `target` and `this`, recording what each model depends on;
//! the project's macros as global functions; the named settings (`pii_policy()`,
//! `identity_settings()`, `transcript_settings()`, and `taxonomy()`, which checks the name); and
//! `parse_transcripts()` / `transcript_infos()` and `explain_intents()`, which write a
//! transcript or taxonomy function over a relation for the target engine.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use minijinja::value::{Kwargs, Object};
use minijinja::{Environment, ErrorKind, State, UndefinedBehavior, Value};

use convlytics_core::catalog::{self, Function, EXPLAIN_COLUMNS};

use crate::compile::CompileOptions;
use crate::error::{Error, Result};
use crate::project::dbt_keys::{Scope, Verdict, Warnings};
use crate::project::profiles::Target;
use crate::project::{Materialization, Model, ModelConfig, Project};

/// A relation in the warehouse: renders as `"schema"."identifier"` on both engines.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Relation {
    /// The schema.
    pub schema: String,
    /// The table or view name.
    pub identifier: String,
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", quote_ident(&self.schema), quote_ident(&self.identifier))
    }
}

impl Object for Relation {
    /// A mapping, as dbt's relations are to packages that check for one (`obj is mapping`).
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "schema" => Some(Value::from(self.schema.clone())),
            "identifier" | "name" | "table" => Some(Value::from(self.identifier.clone())),
            "database" => Some(Value::from(())),
            "is_cte" => Some(Value::from(false)),
            "metadata" => Some(Value::from_serialize(BTreeMap::from([("type", "Relation")]))),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Str(&["database", "schema", "identifier"])
    }

    /// `relation.get(key, default)` and `relation.render()`, as packages call them.
    fn call_method(
        self: &Arc<Self>,
        state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, minijinja::Error> {
        match method {
            "get" => {
                let found = args.first().and_then(|k| self.get_value(k));
                Ok(found.or_else(|| args.get(1).cloned()).unwrap_or(Value::from(())))
            }
            // dbt's render() names the database too, when the target has one.
            "render" => {
                let database =
                    state.lookup("target").and_then(|t| t.get_attr("database").ok()).filter(|d| !d.is_none());
                Ok(Value::from(match database.and_then(|d| d.as_str().map(quote_ident)) {
                    Some(db) => format!("{db}.{self}"),
                    None => self.to_string(),
                }))
            }
            _ => Err(minijinja::Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_ref(), f)
    }

    /// A relation is true in `{% if %}`, as dbt's are (`load_relation()` gives none when absent).
    fn is_true(self: &Arc<Self>) -> bool {
        true
    }
}

/// A SQL identifier in double quotes, with embedded quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a SQL string literal, quotes doubled (the same on both engines).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A model after rendering: its SQL, its final config and what it reads.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CompiledModel {
    /// The model's name.
    pub name: String,
    /// Its file, relative to the project root.
    pub path: std::path::PathBuf,
    /// Where it is built.
    pub relation: Relation,
    /// The rendered SQL.
    pub sql: String,
    /// Folder config with its own `config()` applied.
    pub config: ModelConfig,
    /// Models it reads through `ref()`.
    pub refs: BTreeSet<String>,
    /// Source tables it reads through `source()`.
    pub sources: BTreeSet<(String, String)>,
    /// Named settings it uses, as `(function, name)`: `("taxonomy", "support")`.
    pub settings: BTreeSet<(String, String)>,
    /// Macros it calls, directly or through other macros.
    pub macros: BTreeSet<String>,
    /// Its output columns and the upstream columns each is computed from.
    pub columns: Vec<crate::analysis::ColumnLineage>,
    /// Whether this build adds to an existing incremental relation (`is_incremental()` held).
    pub incremental: bool,
    /// Configs of its `config()` call that convlytics accepts and ignores.
    #[serde(skip)]
    pub warnings: Warnings,
    /// Whether its macros asked the warehouse (it is rendered again right before it is built).
    pub introspects: bool,
    /// What they asked that was not known when it was rendered: its SQL is a placeholder until
    /// it is rendered again with the answers.
    #[serde(skip)]
    pub questions: Vec<crate::introspect::Question>,
}

/// What one render records; reached from the Jinja functions through the context.
#[derive(Debug, Default)]
struct Capture {
    refs: Mutex<BTreeSet<String>>,
    sources: Mutex<BTreeSet<(String, String)>>,
    config: Mutex<Vec<(String, serde_yaml::Value)>>,
    settings: Mutex<BTreeSet<(String, String)>>,
    macros: Mutex<BTreeSet<String>>,
    /// What its macros asked the warehouse and could not be told yet.
    questions: Mutex<BTreeSet<crate::introspect::Question>>,
    /// Whether its macros asked the warehouse anything.
    introspects: std::sync::atomic::AtomicBool,
    /// The folder config's materialization, before the model's own `config()`.
    folder_materialized: Option<Materialization>,
}

impl Capture {
    /// Whether `is_incremental()` holds: the model is incremental (after any `config()` so far).
    fn incremental(&self) -> bool {
        let set = self.config.lock().expect("capture lock");
        let named = set.iter().rev().find(|(k, _)| k == "materialized").map(|(_, v)| v.as_str() == Some("incremental"));
        named.unwrap_or(self.folder_materialized == Some(Materialization::Incremental))
    }
}

const CAPTURE: &str = "__convlytics_capture";

/// Renders the models of one project for one target.
pub struct Renderer<'p> {
    project: &'p Project,
    target: Target,
    env: Environment<'static>,
    options: &'p CompileOptions,
    relations: Relations,
    known: Arc<crate::introspect::Known>,
}

/// Where each model is built: `"<target schema>"."<model>"` unless its `schema` or `alias`
/// config, or the project's `generate_schema_name` / `generate_alias_name`, says otherwise.
#[derive(Debug, Clone)]
struct Relations {
    schema: String,
    custom: Arc<Mutex<BTreeMap<String, Relation>>>,
}

impl Relations {
    /// The relation of the model or seed `name`.
    fn of(&self, name: &str) -> Relation {
        let custom = self.custom.lock().expect("relations lock");
        custom
            .get(name)
            .cloned()
            .unwrap_or_else(|| Relation { schema: self.schema.clone(), identifier: name.to_owned() })
    }
}

impl<'p> Renderer<'p> {
    /// A renderer for `project` building into `target`, with `options.vars` over the project's
    /// vars and `options.existing` deciding `is_incremental()`.
    pub fn new(project: &'p Project, target: Target, options: &'p CompileOptions) -> Result<Self> {
        let mut vars = project.config.vars.clone();
        vars.extend(options.vars.clone());
        let mut env = Environment::new();
        // As in dbt (Jinja2's default): an undefined value renders as nothing, its attributes fail.
        env.set_undefined_behavior(UndefinedBehavior::Lenient);
        env.add_function("env_var", env_var);
        let vars = Arc::new(vars);
        env.add_function("var", move |name: String, default: Option<Value>| var(&vars, &name, default));
        let seeds = project.seeds.values().filter(|s| s.enabled).map(|s| s.name.clone());
        let models: Arc<BTreeSet<String>> = Arc::new(project.models.keys().cloned().chain(seeds).collect());
        let relations = Relations { schema: target.schema.clone(), custom: Arc::default() };
        let resolved = relations.clone();
        env.add_function("ref", move |state: &State, a: String, b: Option<String>| {
            let name = b.unwrap_or(a);
            if !models.contains(&name) {
                return Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    format!("ref('{name}'): no model or seed named '{name}' in this project"),
                ));
            }
            capture(state)?.refs.lock().expect("capture lock").insert(name.clone());
            Ok(Value::from_object(resolved.of(&name)))
        });
        let sources: Arc<BTreeMap<(String, String), Relation>> = Arc::new(
            project
                .sources
                .iter()
                .map(|(k, t)| (k.clone(), Relation { schema: t.schema.clone(), identifier: t.identifier.clone() }))
                .collect(),
        );
        let located: Arc<BTreeMap<Relation, (String, String)>> = Arc::new(
            project
                .sources
                .iter()
                .map(|(k, t)| (Relation { schema: t.schema.clone(), identifier: t.identifier.clone() }, k.clone()))
                .collect(),
        );
        let present = Arc::new(options.existing_sources.clone());
        let known = Arc::new(crate::introspect::Known { answers: Mutex::default(), ask: record_question });
        let warehouse = known.clone();
        env.add_function("load_relation", move |state: &State, relation: Value| {
            let declared = relation.downcast_object_ref::<Relation>().and_then(|r| located.get(r).map(|k| (r, k)));
            let Some((found, key)) = declared else {
                // Another relation (a model's, as packages pass): whether the warehouse has it.
                use crate::jinja::Warehouse;
                return Ok(match warehouse.columns(state, &relation)? {
                    Some(None) => Value::from(()),
                    _ => relation,
                });
            };
            if present.contains(&(found.schema.clone(), found.identifier.clone())) {
                return Ok(relation);
            }
            // A source only probed, and absent, is not something the model reads.
            capture(state)?.sources.lock().expect("capture lock").remove(key);
            Ok(Value::from(()))
        });
        env.add_function("source", move |state: &State, source: String, table: String| {
            let key = (source, table);
            let relation = sources.get(&key).cloned().ok_or_else(|| {
                minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "source('{}', '{}') is not declared in any property file under the model paths",
                        key.0, key.1
                    ),
                )
            })?;
            capture(state)?.sources.lock().expect("capture lock").insert(key);
            Ok(Value::from_object(relation))
        });
        env.add_function("config", |state: &State, kwargs: Kwargs| {
            let capture = capture(state)?;
            let mut config = capture.config.lock().expect("capture lock");
            for key in kwargs.args() {
                let value: Value = kwargs.get(key)?;
                let value = serde_yaml::to_value(&value)
                    .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
                config.push((key.to_owned(), value));
            }
            kwargs.assert_all_used()?;
            Ok(String::new())
        });
        let identities =
            project.identities.iter().map(|(name, (_, spec))| (name, serde_json::to_string(&spec.settings)));
        add_named_settings(&mut env, "identity_settings", "identity", identities);
        let policies = project.pii_policies.iter().map(|(name, (_, spec))| (name, serde_json::to_string(&spec.policy)));
        add_named_settings(&mut env, "pii_policy", "pii policy", policies);
        let transcripts =
            project.transcripts.iter().map(|(name, (_, spec))| (name, serde_json::to_string(&spec.settings)));
        add_named_settings(&mut env, "transcript_settings", "transcripts", transcripts);
        let taxonomies = project.taxonomies.keys().map(|name| (name, Ok(name.clone())));
        add_named_settings(&mut env, "taxonomy", "taxonomy", taxonomies);
        add_contracts(&mut env, project);
        env.add_function("is_incremental", |state: &State| -> Result<bool, minijinja::Error> {
            let exists = state.lookup(EXISTS).is_some_and(|v| v.is_true());
            Ok(exists && capture(state)?.incremental())
        });
        add_macros(&mut env, project, &target, known.clone())?;
        let postgres = target.kind.is_postgres();
        env.add_function("explain_intents", move |relation: Value, kwargs: Kwargs| {
            let sql = explain_intents_sql(postgres, &relation.to_string(), &kwargs)?;
            kwargs.assert_all_used()?;
            Ok(sql)
        });
        for kind in [Transcript::Turns, Transcript::Info] {
            env.add_function(kind.jinja_name(), move |relation: Value, kwargs: Kwargs| {
                let sql = transcripts_sql(kind, postgres, &relation.to_string(), &kwargs)?;
                kwargs.assert_all_used()?;
                Ok(sql)
            });
        }
        Ok(Self { project, target, env, options, relations, known })
    }

    /// What it knows of the warehouse, taken out (to add answers to; see [`Renderer::learn`]).
    pub fn answers(&self) -> crate::introspect::Answers {
        std::mem::take(&mut *self.known.answers.lock().expect("answers lock"))
    }

    /// Renders with `answers` from now on.
    pub fn learn(&self, answers: crate::introspect::Answers) {
        *self.known.answers.lock().expect("answers lock") = answers;
    }

    /// Builds models where `relations` says (as [`Renderer::place`] decided for a compile).
    pub fn place_as(&self, relations: impl Iterator<Item = (String, Relation)>) {
        let default = |name: &str| Relation { schema: self.relations.schema.clone(), identifier: name.to_owned() };
        let moved = relations.filter(|(name, r)| *r != default(name)).collect();
        *self.relations.custom.lock().expect("relations lock") = moved;
    }

    /// The target it renders for.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The `target` object of the Jinja context.
    fn target_value(&self) -> Value {
        let database = self.target.kind.database();
        Value::from_serialize(serde_json::json!({
            "name": self.target.name,
            "schema": self.target.schema,
            "type": self.target.kind.as_str(),
            "database": database,
        }))
    }

    /// The config a model has before its own `config()` call: its folder and property-file
    /// settings, string values rendered as Jinja (`+enabled: "{{ var('x', false) }}"`) and read
    /// back as YAML, as dbt renders them.
    fn settings_config(&self, model: &Model) -> Result<ModelConfig> {
        let mut config = ModelConfig::default();
        for (key, value) in &model.settings {
            let value = match value.as_str().filter(|v| v.contains("{{") || v.contains("{%")) {
                Some(text) => {
                    let rendered = self.render_str(text, std::path::Path::new("dbt_project.yml"))?;
                    serde_yaml::from_str(&rendered).unwrap_or(serde_yaml::Value::String(rendered))
                }
                None => value.clone(),
            };
            config.set(key, &value).map_err(|m| {
                Error::Project(format!(
                    "model config of {} (dbt_project.yml or its property file): {m}",
                    model.path.display()
                ))
            })?;
        }
        Ok(config)
    }

    /// Decides where each of `models` (rendered once) is built, through `generate_schema_name`
    /// and `generate_alias_name` with its `schema` and `alias` configs, as dbt does; true when
    /// any is not the default `"<target schema>"."<model>"` (the models must then be rendered
    /// again, so that `ref()` and `this` name the relations).
    pub fn place(&self, models: &[CompiledModel]) -> Result<bool> {
        let overridden =
            ["generate_schema_name", "generate_alias_name"].iter().any(|m| self.project.macros.contains_key(*m));
        let mut custom = BTreeMap::new();
        for model in models {
            let config = &model.config;
            if !overridden && config.schema.is_none() && config.alias.is_none() {
                continue;
            }
            let node = Value::from_serialize(serde_json::json!({
                "name": model.name,
                "resource_type": "model",
                "package_name": self.project.config.name,
                "path": model.path,
                "original_file_path": model.path,
                "unique_id": format!("model.{}.{}", self.project.config.name, model.name),
                "fqn": [self.project.config.name.clone(), model.name.clone()],
                "config": config,
                "version": null,
            }));
            let call = |function: &str, custom: &Option<String>| -> Result<String> {
                let ctx = minijinja::context! {
                    target => self.target_value(),
                    custom => custom.clone().map_or(Value::from(()), Value::from),
                    node => node.clone(),
                };
                let out = self
                    .env
                    .render_str(&format!("{{{{ {function}(custom, node) }}}}"), ctx)
                    .map_err(|e| Error::template(&self.project.root, self.project.root.join(&model.path), &e))?;
                let out = out.trim().to_owned();
                if out.is_empty() {
                    return Err(Error::Project(format!("{function} gave an empty name for model {}", model.name)));
                }
                Ok(out)
            };
            let relation = Relation {
                schema: call("generate_schema_name", &config.schema)?,
                identifier: call("generate_alias_name", &config.alias)?,
            };
            if relation != (Relation { schema: self.target.schema.clone(), identifier: model.name.clone() }) {
                custom.insert(model.name.clone(), relation);
            }
        }
        let moved = !custom.is_empty();
        *self.relations.custom.lock().expect("relations lock") = custom;
        Ok(moved)
    }

    /// Renders one model.
    pub fn render_model(&self, model: &Model) -> Result<CompiledModel> {
        let relation = self.relations.of(&model.name);
        let key = (relation.schema.clone(), relation.identifier.clone());
        let exists = self.options.existing.contains(&key) && !self.options.full_refresh;
        let mut config = self.settings_config(model)?;
        let (rendered, capture) =
            self.render_settled(&model.path, &model.raw_sql, &relation, exists, Some(config.materialized));
        let (sql, capture) = match rendered {
            // A model its folder disables is not compiled, as in dbt: its SQL may not render.
            Err(_) if !config.enabled => (String::new(), Arc::new(Capture::default())),
            rendered => (rendered?, capture),
        };
        let path = self.project.root.join(&model.path);
        let mut warnings = Warnings::default();
        for (key, value) in capture.config.lock().expect("capture lock").iter() {
            let at = model.raw_sql.find("config(").unwrap_or(0);
            let fail = |message: String| {
                let (line, column) = crate::analysis::source_map::line_column(&model.raw_sql, at);
                Error::Template { path: path.clone(), line, column, message }
            };
            match Scope::ModelConfig.judge(key) {
                Verdict::Supported => config.set(key, value).map_err(fail)?,
                Verdict::Quiet => {}
                Verdict::Ignored => warnings.ignored(&model.path, Scope::ModelConfig, key),
                Verdict::Unknown(near) => return Err(fail(Scope::ModelConfig.unknown(key, near))),
            }
        }
        let refs = std::mem::take(&mut *capture.refs.lock().expect("capture lock"));
        let sources = std::mem::take(&mut *capture.sources.lock().expect("capture lock"));
        let settings = std::mem::take(&mut *capture.settings.lock().expect("capture lock"));
        let macros = std::mem::take(&mut *capture.macros.lock().expect("capture lock"));
        let questions = std::mem::take(&mut *capture.questions.lock().expect("capture lock")).into_iter().collect();
        let incremental = exists && config.materialized == Materialization::Incremental;
        Ok(CompiledModel {
            name: model.name.clone(),
            path: model.path.clone(),
            relation,
            sql,
            config,
            refs,
            sources,
            settings,
            macros,
            columns: Vec::new(),
            incremental,
            warnings,
            introspects: capture.introspects.load(std::sync::atomic::Ordering::Relaxed),
            questions,
        })
    }

    /// Renders a SQL template of the project (a model, a data test) as the model `this`, returning
    /// the SQL (trimmed, without a trailing `;`) and what it recorded.
    fn render_capturing(
        &self,
        file: &std::path::Path,
        source: &str,
        this: &Relation,
        exists: bool,
        folder_materialized: Option<Materialization>,
        execute: bool,
    ) -> (Result<String>, Arc<Capture>) {
        let capture = Arc::new(Capture { folder_materialized, ..Capture::default() });
        let ctx = minijinja::context! {
            execute => execute,
            target => self.target_value(),
            invocation_id => self.options.invocation_id.clone(),
            this => Value::from_object(this.clone()),
            __convlytics_capture => Value::from_dyn_object(capture.clone()),
            __convlytics_exists => exists,
        };
        let name = file.to_string_lossy();
        let source = crate::jinja::preprocess(source);
        let sql = self
            .env
            .template_from_named_str(&name, &source)
            .and_then(|t| t.render(ctx))
            .map(|sql| sql.trim_end().trim_end_matches(';').trim_end().to_owned() + "\n")
            .map_err(|e| Error::template(&self.project.root, self.project.root.join(file), &e));
        (sql, capture)
    }

    /// Renders a data test's SQL template declared in `file`, for the model or source `this`.
    pub fn render_test(&self, file: &std::path::Path, source: &str, this: &Relation) -> Result<RenderedTest> {
        let (sql, capture) = self.render_settled(file, source, this, false, None);
        let sql = sql?;
        let refs = std::mem::take(&mut *capture.refs.lock().expect("capture lock"));
        let sources = std::mem::take(&mut *capture.sources.lock().expect("capture lock"));
        let introspects = capture.introspects.load(std::sync::atomic::Ordering::Relaxed);
        let questions = std::mem::take(&mut *capture.questions.lock().expect("capture lock")).into_iter().collect();
        let config = std::mem::take(&mut *capture.config.lock().expect("capture lock"));
        Ok(RenderedTest { sql, refs, sources, introspects, questions, config })
    }

    /// Renders as [`Renderer::render_capturing`] with `execute` true; when its macros asked
    /// what the warehouse has not answered yet, renders again as dbt parses (`execute` false),
    /// keeping the questions: the SQL waits for the answers.
    fn render_settled(
        &self,
        file: &std::path::Path,
        source: &str,
        this: &Relation,
        exists: bool,
        folder_materialized: Option<Materialization>,
    ) -> (Result<String>, Arc<Capture>) {
        let (rendered, capture) = self.render_capturing(file, source, this, exists, folder_materialized, true);
        if capture.questions.lock().expect("capture lock").is_empty() {
            return (rendered, capture);
        }
        let (parsed, parse_capture) = self.render_capturing(file, source, this, exists, folder_materialized, false);
        let questions = std::mem::take(&mut *capture.questions.lock().expect("capture lock"));
        *parse_capture.questions.lock().expect("capture lock") = questions;
        parse_capture.introspects.store(true, std::sync::atomic::Ordering::Relaxed);
        (parsed, parse_capture)
    }

    /// Renders a string from YAML (e.g. a source's `external_location`) with `var` and `env_var`.
    pub fn render_str(&self, text: &str, origin: &std::path::Path) -> Result<String> {
        let ctx = minijinja::context! { target => self.target_value() };
        self.env
            .render_str(text, ctx)
            .map_err(|e| Error::template(&self.project.root, self.project.root.join(origin), &e))
    }
}

/// A data test after rendering: its SQL (the failing rows) and what it reads.
#[derive(Debug, Clone)]
pub struct RenderedTest {
    /// The SQL selecting the rows that fail the test.
    pub sql: String,
    /// Models it reads.
    pub refs: BTreeSet<String>,
    /// Source tables it reads.
    pub sources: BTreeSet<(String, String)>,
    /// Whether its macros asked the warehouse (it is rendered again right before it runs).
    pub introspects: bool,
    /// What they asked that was not known yet.
    pub questions: Vec<crate::introspect::Question>,
    /// Its `config(...)` call's settings (a test macro's `fail_calc`, `warn_if`...).
    pub config: Vec<(String, serde_yaml::Value)>,
}

const EXISTS: &str = "__convlytics_exists";

/// The Jinja functions convlytics has built in. A project macro of the same name (such as those
/// `convlytics dbt macros` writes, which give dbt these functions) is not registered: the
/// built-in wins.
pub const BUILTINS: [&str; 14] = [
    "ref",
    "source",
    "config",
    "var",
    "env_var",
    "is_incremental",
    "identity_settings",
    "pii_policy",
    "transcript_settings",
    "taxonomy",
    "explain_intents",
    "parse_transcripts",
    "transcript_infos",
    "contract_violation",
];

/// dbt's own macros (`generate_schema_name`, `dbt.concat`...): the template's name, as errors
/// show it, and its text.
const GLOBAL_MACROS: (&str, &str) = ("(dbt global macros)", include_str!("../macros/dbt_global.sql"));

/// convlytics' DataFusion versions of package macros ([`crate::jinja::SHIMS`]).
const SHIM_MACROS: (&str, &str) = ("(convlytics shims)", include_str!("../macros/datafusion_shims.sql"));

/// Registers every macro: the project's (also by bare name), dbt's global ones (by bare name
/// unless the project replaces them, and as `dbt.name`) and each package's (as
/// `package.name`). A call evaluates the macro's file with the caller's context, so `ref()`,
/// `config()` and `this` inside it record for the calling model.
fn add_macros(
    env: &mut Environment<'static>,
    project: &Project,
    target: &Target,
    known: Arc<crate::introspect::Known>,
) -> Result<()> {
    let mut registry = crate::jinja::Registry {
        root: project.config.name.clone(),
        dispatch: project.config.dispatch.iter().map(|d| (d.macro_namespace.clone(), d.search_order.clone())).collect(),
        adapter: if target.kind.is_postgres() { "postgres" } else { "datafusion" }.into(),
        ..Default::default()
    };
    let global = [
        (crate::jinja::DBT, std::path::Path::new(GLOBAL_MACROS.0), GLOBAL_MACROS.1),
        (crate::jinja::SHIMS, std::path::Path::new(SHIM_MACROS.0), SHIM_MACROS.1),
    ];
    let own = project.macro_files.iter().map(|(f, t)| (project.config.name.as_str(), f.as_path(), t.as_str()));
    let packages = project
        .packages
        .iter()
        .flat_map(|p| p.macro_files.iter().map(|(f, t)| (p.name.as_str(), f.as_path(), t.as_str())));
    for (package, file, text) in global.into_iter().chain(own).chain(packages) {
        let name = file.to_string_lossy().into_owned();
        let text = crate::jinja::preprocess(text).into_owned();
        for defined in crate::jinja::macro_names(&text) {
            registry.packages.entry(package.to_owned()).or_default().insert(defined, name.clone());
        }
        env.add_template_owned(name, text).map_err(|e| Error::template(&project.root, project.root.join(file), &e))?;
    }
    let record_macro = |state: &State, name: &str| {
        if let Ok(capture) = capture(state) {
            capture.macros.lock().expect("capture lock").insert(name.to_owned());
        }
    };
    crate::jinja::install(env, registry, &BUILTINS, record_macro, known);
    Ok(())
}

/// Records, for the model rendering, that its macros asked the warehouse, and what they could
/// not be told yet.
fn record_question(state: &State, question: Option<crate::introspect::Question>) {
    if let Ok(capture) = capture(state) {
        capture.introspects.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(q) = question {
            capture.questions.lock().expect("capture lock").insert(q);
        }
    }
}

fn capture(state: &State) -> Result<Arc<Capture>, minijinja::Error> {
    state.lookup(CAPTURE).and_then(|v| v.downcast_object::<Capture>()).ok_or_else(|| {
        minijinja::Error::new(ErrorKind::InvalidOperation, "ref(), source() and config() work only in models")
    })
}

impl Object for Capture {}

/// `var(name[, default])`: a project or `--vars` variable; a missing one without default is an error.
fn var(
    vars: &BTreeMap<String, serde_yaml::Value>,
    name: &str,
    default: Option<Value>,
) -> Result<Value, minijinja::Error> {
    match (vars.get(name), default) {
        (Some(v), _) => Ok(Value::from_serialize(v)),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(minijinja::Error::new(
            ErrorKind::UndefinedError,
            format!(
                "var('{name}') is not set: define it under vars: in dbt_project.yml, pass --vars, or give a default"
            ),
        )),
    }
}

/// `env_var(name[, default])`: an environment variable; a missing one without default is an error.
pub fn env_var(name: String, default: Option<String>) -> Result<String, minijinja::Error> {
    match (std::env::var(&name), default) {
        (Ok(v), _) => Ok(v),
        (Err(_), Some(d)) => Ok(d),
        (Err(_), None) => Err(minijinja::Error::new(
            ErrorKind::UndefinedError,
            format!("env_var('{name}') is not set and has no default"),
        )),
    }
}

/// The Jinja functions that apply a transcript function to every row of a relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transcript {
    /// `parse_transcripts(relation, ...)`: `parse_transcript`'s turns, one row per turn.
    Turns,
    /// `transcript_infos(relation, ...)`: `transcript_info`'s row per row of the relation.
    Info,
}

impl Transcript {
    /// The SQL function it calls.
    pub(crate) fn function(self) -> &'static Function {
        let name = match self {
            Transcript::Turns => "parse_transcript",
            Transcript::Info => "transcript_info",
        };
        catalog::function(name).unwrap_or_else(|| panic!("{name} is in the catalogue"))
    }

    /// The Jinja function's name.
    pub(crate) fn jinja_name(self) -> &'static str {
        match self {
            Transcript::Turns => "parse_transcripts",
            Transcript::Info => "transcript_infos",
        }
    }

    /// The SQL function's output columns.
    pub(crate) fn columns(self) -> impl Iterator<Item = &'static str> {
        self.function().columns().iter().map(|c| c.name)
    }
}

/// The default payload and format columns of `parse_transcripts` / `transcript_infos`, and the
/// default text column of `explain_intents`.
pub(crate) const DEFAULT_COLUMNS: (&str, &str, &str) = ("payload", "format", "text");

/// The SQL of `parse_transcripts(relation, ...)` or `transcript_infos(relation, ...)`: a
/// subquery with the relation's columns and the function's columns. `parse_transcripts` gives
/// one row per turn (rows whose payload or format is NULL give none); `transcript_infos` one row
/// per row of the relation (its columns NULL when the payload or format is).
fn transcripts_sql(
    kind: Transcript,
    postgres: bool,
    relation: &str,
    kwargs: &Kwargs,
) -> Result<String, minijinja::Error> {
    let column = |key: &str, default: &str| -> Result<String, minijinja::Error> {
        Ok(quote_ident(&kwargs.get::<Option<String>>(key)?.unwrap_or_else(|| default.into())))
    };
    let payload = column("payload", DEFAULT_COLUMNS.0)?;
    let format = column("format", DEFAULT_COLUMNS.1)?;
    let settings = kwargs.get::<Option<String>>("settings")?.map(|s| format!(", {s}")).unwrap_or_default();
    let call = transcripts_call(kind, &payload, &format, &settings);
    Ok(per_row_sql(postgres, relation, &call, kind.columns(), kind == Transcript::Turns))
}

/// The call `parse_transcripts` / `transcript_infos` makes on each row `__r`; `settings` is
/// empty or `, <settings>`.
pub(crate) fn transcripts_call(kind: Transcript, payload: &str, format: &str, settings: &str) -> String {
    format!("{}(__r.{payload}, __r.{format}{settings})", kind.function().name)
}

/// The call `explain_intents` makes on each row `__r`.
pub(crate) fn explain_call(text: &str, taxonomy: &str) -> String {
    format!("classify_intent_explain(__r.{text}, {taxonomy})")
}

/// `explain_intents(relation, text='text', taxonomy=taxonomy('name'))`: every column of
/// `relation` and `classify_intent_explain`'s of its text column.
fn explain_intents_sql(postgres: bool, relation: &str, kwargs: &Kwargs) -> Result<String, minijinja::Error> {
    let text = quote_ident(&kwargs.get::<Option<String>>("text")?.unwrap_or_else(|| DEFAULT_COLUMNS.2.into()));
    let taxonomy: String = kwargs.get("taxonomy").map_err(|_| {
        minijinja::Error::new(
            ErrorKind::MissingArgument,
            "explain_intents(relation, text='text', taxonomy=taxonomy('name')) needs the taxonomy",
        )
    })?;
    let call = explain_call(&text, &taxonomy);
    Ok(per_row_sql(postgres, relation, &call, EXPLAIN_COLUMNS.iter().map(|c| c.name), false))
}

/// A subquery with every column of `relation` (aliased `__r` in `call`) followed by the
/// `columns` of `call`: on PostgreSQL a lateral join to the set-returning function (rows without
/// a result kept, unless `many`); on the embedded engine the scalar form's struct fields, or
/// `unnest` of its list when `many`.
pub(crate) fn per_row_sql<'c>(
    postgres: bool,
    relation: &str,
    call: &str,
    columns: impl Iterator<Item = &'c str>,
    many: bool,
) -> String {
    if postgres {
        return if many {
            format!("(select __r.*, __f.* from {relation} as __r cross join lateral convlytics.{call} as __f)")
        } else {
            format!("(select __r.*, __f.* from {relation} as __r left join lateral convlytics.{call} as __f on true)")
        };
    }
    let value = if many { format!("unnest({call})") } else { call.to_owned() };
    let fields: Vec<String> = columns.map(|c| format!("__u.__f['{c}'] as {}", quote_ident(c))).collect();
    format!(
        "(select __u.* exclude (__f), {} from (select __r.*, {value} as __f from {relation} as __r) as __u)",
        fields.join(", ")
    )
}

/// Registers `contract_violation('source', 'table')`: the SQL expression giving the reason a
/// record of the source table breaks its contract, or NULL (`docs/observability.md`).
fn add_contracts(env: &mut Environment<'static>, project: &Project) {
    let contracts: Arc<BTreeMap<(String, String), Option<String>>> = Arc::new(
        project
            .sources
            .iter()
            .map(|(key, t)| {
                let name = format!("{}.{}", key.0, key.1);
                (key.clone(), t.contract.as_ref().map(|c| crate::monitor::contract::violation_sql(&name, c)))
            })
            .collect(),
    );
    env.add_function("contract_violation", move |source: String, table: String| {
        match contracts.get(&(source.clone(), table.clone())) {
            Some(Some(sql)) => Ok(sql.clone()),
            found => Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                if found.is_some() {
                    format!("contract_violation('{source}', '{table}'): the source table declares no contract:")
                } else {
                    format!("contract_violation('{source}', '{table}'): no such source table")
                },
            )),
        }
    });
}

/// Registers the Jinja function `function('name')`, which renders the named settings as a SQL
/// string literal of their JSON.
fn add_named_settings<'a>(
    env: &mut Environment<'static>,
    function: &'static str,
    what: &'static str,
    entries: impl Iterator<Item = (&'a String, serde_json::Result<String>)>,
) {
    let literals: Arc<BTreeMap<String, String>> = Arc::new(
        entries
            .map(|(name, json)| {
                let json = json.expect("settings serialize");
                (name.clone(), quote_literal(&json))
            })
            .collect(),
    );
    env.add_function(function, move |state: &State, name: String| {
        if let Ok(capture) = capture(state) {
            capture.settings.lock().expect("capture lock").insert((function.to_owned(), name.clone()));
        }
        literals.get(&name).cloned().ok_or_else(|| {
            let known: Vec<&str> = literals.keys().map(String::as_str).collect();
            minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("{function}('{name}'): no {what} named '{name}' (declared: {})", known.join(", ")),
            )
        })
    });
}
