//! Rendering models with Jinja: `ref()`, `source()`, `config()`, `var()`, `env_var()`, `target`
//! and `this`, recording what each model depends on; the named settings (`pii_policy()`,
//! `identity_settings()`, `transcript_settings()`, and `taxonomy()`, which checks the name); and
//! `parse_transcripts()` / `transcript_infos()` and `explain_intents()`, which write a
//! transcript or taxonomy function over a relation for the target engine.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use minijinja::value::{Kwargs, Object};
use minijinja::{Environment, ErrorKind, State, UndefinedBehavior, Value};

use crate::error::{Error, Result};
use crate::functions::{Transcript, EXPLAIN_COLUMNS};
use crate::project::profiles::{Target, TargetKind};
use crate::project::{Model, ModelConfig, Project};

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
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "schema" => Some(Value::from(self.schema.clone())),
            "identifier" | "name" | "table" => Some(Value::from(self.identifier.clone())),
            _ => None,
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_ref(), f)
    }
}

/// A SQL identifier in double quotes, with embedded quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
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
}

/// What one render records; reached from the Jinja functions through the context.
#[derive(Debug, Default)]
struct Capture {
    refs: Mutex<BTreeSet<String>>,
    sources: Mutex<BTreeSet<(String, String)>>,
    config: Mutex<Vec<(String, serde_yaml::Value)>>,
}

const CAPTURE: &str = "__convlytics_capture";

/// Renders the models of one project for one target.
pub struct Renderer<'p> {
    project: &'p Project,
    target: Target,
    env: Environment<'static>,
}

impl<'p> Renderer<'p> {
    /// A renderer for `project` building into `target`, with CLI `--vars` over the project's vars.
    pub fn new(project: &'p Project, target: Target, cli_vars: &BTreeMap<String, serde_yaml::Value>) -> Self {
        let mut vars = project.config.vars.clone();
        vars.extend(cli_vars.clone());
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_function("env_var", env_var);
        let vars = Arc::new(vars);
        env.add_function("var", move |name: String, default: Option<Value>| var(&vars, &name, default));
        let models: Arc<BTreeSet<String>> = Arc::new(project.models.keys().cloned().collect());
        let schema = target.schema.clone();
        env.add_function("ref", move |state: &State, a: String, b: Option<String>| {
            let name = b.unwrap_or(a);
            if !models.contains(&name) {
                return Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    format!("ref('{name}'): no model named '{name}' in this project"),
                ));
            }
            capture(state)?.refs.lock().expect("capture lock").insert(name.clone());
            Ok(Value::from_object(Relation { schema: schema.clone(), identifier: name }))
        });
        let sources: Arc<BTreeMap<(String, String), Relation>> = Arc::new(
            project
                .sources
                .iter()
                .map(|(k, t)| (k.clone(), Relation { schema: t.schema.clone(), identifier: t.identifier.clone() }))
                .collect(),
        );
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
        let postgres = matches!(target.kind, TargetKind::Postgres { .. });
        env.add_function("explain_intents", move |relation: Value, kwargs: Kwargs| {
            let sql = explain_intents_sql(postgres, &relation.to_string(), &kwargs)?;
            kwargs.assert_all_used()?;
            Ok(sql)
        });
        for kind in [Transcript::Turns, Transcript::Info] {
            env.add_function(kind.relation_function(), move |relation: Value, kwargs: Kwargs| {
                let sql = transcripts_sql(kind, postgres, &relation.to_string(), &kwargs)?;
                kwargs.assert_all_used()?;
                Ok(sql)
            });
        }
        Self { project, target, env }
    }

    /// The `target` object of the Jinja context.
    fn target_value(&self) -> Value {
        Value::from_serialize(BTreeMap::from([
            ("name", self.target.name.as_str()),
            ("schema", self.target.schema.as_str()),
            ("type", self.target.kind.as_str()),
        ]))
    }

    /// Renders one model.
    pub fn render_model(&self, model: &Model) -> Result<CompiledModel> {
        let relation = Relation { schema: self.target.schema.clone(), identifier: model.name.clone() };
        let capture = Arc::new(Capture::default());
        let ctx = minijinja::context! {
            target => self.target_value(),
            this => Value::from_object(relation.clone()),
            __convlytics_capture => Value::from_dyn_object(capture.clone()),
        };
        let name = model.path.to_string_lossy();
        let path = self.project.root.join(&model.path);
        let sql = self
            .env
            .template_from_named_str(&name, &model.raw_sql)
            .and_then(|t| t.render(ctx))
            .map_err(|e| Error::template(&path, &e))?;
        let mut config = model.folder_config.clone();
        for (key, value) in capture.config.lock().expect("capture lock").iter() {
            config.set(key, value).map_err(|message| Error::Template { path: path.clone(), line: 0, message })?;
        }
        let refs = std::mem::take(&mut *capture.refs.lock().expect("capture lock"));
        let sources = std::mem::take(&mut *capture.sources.lock().expect("capture lock"));
        Ok(CompiledModel {
            name: model.name.clone(),
            path: model.path.clone(),
            relation,
            sql: sql.trim().trim_end_matches(';').trim_end().to_owned() + "\n",
            config,
            refs,
            sources,
        })
    }

    /// Renders a string from YAML (e.g. a source's `external_location`) with `var` and `env_var`.
    pub fn render_str(&self, text: &str, origin: &std::path::Path) -> Result<String> {
        let ctx = minijinja::context! { target => self.target_value() };
        self.env.render_str(text, ctx).map_err(|e| Error::template(self.project.root.join(origin), &e))
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
    let payload = quote_ident(&kwargs.get::<Option<String>>("payload")?.unwrap_or_else(|| "payload".into()));
    let format = quote_ident(&kwargs.get::<Option<String>>("format")?.unwrap_or_else(|| "format".into()));
    let settings = kwargs.get::<Option<String>>("settings")?.map(|s| format!(", {s}")).unwrap_or_default();
    let call = format!("{}(__r.{payload}, __r.{format}{settings})", kind.name());
    Ok(per_row_sql(postgres, relation, &call, kind.columns(), kind == Transcript::Turns))
}

/// `explain_intents(relation, text='text', taxonomy=taxonomy('name'))`: every column of
/// `relation` and `classify_intent_explain`'s of its text column.
fn explain_intents_sql(postgres: bool, relation: &str, kwargs: &Kwargs) -> Result<String, minijinja::Error> {
    let text = quote_ident(&kwargs.get::<Option<String>>("text")?.unwrap_or_else(|| "text".into()));
    let taxonomy: String = kwargs.get("taxonomy").map_err(|_| {
        minijinja::Error::new(
            ErrorKind::MissingArgument,
            "explain_intents(relation, text='text', taxonomy=taxonomy('name')) needs the taxonomy",
        )
    })?;
    let call = format!("classify_intent_explain(__r.{text}, {taxonomy})");
    Ok(per_row_sql(postgres, relation, &call, EXPLAIN_COLUMNS.iter().copied(), false))
}

/// A subquery with every column of `relation` (aliased `__r` in `call`) followed by the
/// `columns` of `call`: on PostgreSQL a lateral join to the set-returning function (rows without
/// a result kept, unless `many`); on the embedded engine the scalar form's struct fields, or
/// `unnest` of its list when `many`.
fn per_row_sql<'c>(
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
                (name.clone(), format!("'{}'", json.replace('\'', "''")))
            })
            .collect(),
    );
    env.add_function(function, move |name: String| {
        literals.get(&name).cloned().ok_or_else(|| {
            let known: Vec<&str> = literals.keys().map(String::as_str).collect();
            minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("{function}('{name}'): no {what} named '{name}' (declared: {})", known.join(", ")),
            )
        })
    });
}
