//! dbt's Jinja on minijinja: macros by package (`dbt_utils.star(...)`), `adapter.dispatch` in
//! the project's `dispatch:` search order, `return()`, changeable lists and dicts, and the
//! context objects packages read at compile time (`adapter`, `exceptions`, `execute`, `flags`,
//! `log`, `run_query`, `statement`).

pub mod collections;
pub mod preprocess;
pub mod query;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Kwargs, Object, Rest};
use minijinja::{Environment, Error, ErrorKind, State, Value};

pub use preprocess::{macro_names, preprocess};

/// The package of dbt's own macros (`dbt.concat`, `dbt.type_string`...).
pub const DBT: &str = "dbt";

/// The package of convlytics' engine versions of other packages' macros (`datafusion__...`),
/// searched by `adapter.dispatch` right after the root project.
pub const SHIMS: &str = "(convlytics shims)";

/// Every macro the renderer can call: by package, then name, the template defining it.
#[derive(Debug, Default)]
pub struct Registry {
    /// Package name to macro name to template name; the root project and [`DBT`] included.
    pub packages: BTreeMap<String, BTreeMap<String, String>>,
    /// The root project's name: its macros, and dbt's, are callable without a package.
    pub root: String,
    /// `dispatch:` of `dbt_project.yml`: a macro namespace and the packages searched for it.
    pub dispatch: BTreeMap<String, Vec<String>>,
    /// The adapter prefix tried first by `adapter.dispatch` (`postgres`, `datafusion`).
    pub adapter: String,
}

impl Registry {
    /// The template defining `name` in `package`.
    fn find(&self, package: &str, name: &str) -> Option<&String> {
        self.packages.get(package).and_then(|m| m.get(name))
    }

    /// The macro `adapter.dispatch(name, namespace)` calls: in each package of the search order,
    /// `<adapter>__<name>`, then `default__<name>`, then `<name>` itself for a macro a project
    /// overrides without prefix.
    fn dispatch(&self, name: &str, namespace: Option<&str>) -> Option<(String, String)> {
        let mut order: Vec<String> = match namespace.and_then(|ns| self.dispatch.get(ns)) {
            Some(configured) => configured.clone(),
            None => std::iter::once(self.root.clone()).chain(namespace.map(str::to_owned)).collect(),
        };
        order.insert(1.min(order.len()), SHIMS.to_owned());
        order.push(DBT.to_owned());
        let candidates = [format!("{}__{name}", self.adapter), format!("default__{name}")];
        order
            .iter()
            .find_map(|package| candidates.iter().find_map(|c| self.find(package, c).map(|t| (t.clone(), c.clone()))))
    }
}

/// What macros may ask the warehouse while compiling; `None` is "not known yet" (the question
/// is recorded, see [`crate::introspect`]) and is answered as empty for now.
pub trait Warehouse: Send + Sync {
    /// The columns `(name, type)` of `relation`, `Some(None)` when it does not exist.
    #[allow(clippy::type_complexity)]
    fn columns(&self, state: &State, relation: &Value) -> Result<Option<Option<Vec<(String, String)>>>, Error>;
    /// The column names and rows of `sql`.
    fn query(&self, state: &State, sql: &str) -> Option<crate::introspect::Rows>;
}

/// A column as `adapter.get_columns_in_relation` gives it (dbt's `Column`).
#[derive(Debug)]
struct Column {
    name: String,
    data_type: String,
}

impl Column {
    fn is_string(&self) -> bool {
        let t = self.data_type.to_lowercase();
        ["char", "text", "string", "varchar"].iter().any(|s| t.contains(s))
    }

    fn is_number(&self) -> bool {
        let t = self.data_type.to_lowercase();
        ["int", "numeric", "decimal", "double", "float", "real"].iter().any(|s| t.contains(s))
    }

    /// The length in `character varying(n)`, when given.
    fn string_size(&self) -> Option<u64> {
        let (_, rest) = self.data_type.split_once('(')?;
        rest.trim_end_matches(')').parse().ok()
    }
}

impl Object for Column {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "name" | "column" => Some(Value::from(self.name.clone())),
            "data_type" | "dtype" => Some(Value::from(self.data_type.clone())),
            "quoted" => Some(Value::from(crate::render::quote_ident(&self.name))),
            "char_size" => Some(self.string_size().map_or(Value::from(()), Value::from)),
            _ => None,
        }
    }

    fn call_method(self: &Arc<Self>, _: &State<'_, '_>, method: &str, _: &[Value]) -> Result<Value, Error> {
        match method {
            "is_string" => Ok(Value::from(self.is_string())),
            "is_number" | "is_numeric" => Ok(Value::from(self.is_number())),
            "is_integer" => Ok(Value::from(self.data_type.to_lowercase().contains("int"))),
            "is_float" => Ok(Value::from(self.is_number() && !self.data_type.to_lowercase().contains("int"))),
            "string_size" => Ok(Value::from(self.string_size().unwrap_or(256))),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

thread_local! {
    /// One slot per macro call in progress: what its `return()` gave.
    static RETURNS: RefCell<Vec<Option<Value>>> = const { RefCell::new(Vec::new()) };
}

/// The context variables a macro sees from its caller.
pub const INHERITED: [&str; 7] =
    ["__convlytics_capture", "__convlytics_exists", "target", "this", "invocation_id", "model", "execute"];

/// Calls the macro `name` defined in `template` with the caller's context: the value it
/// `return()`ed, else what it rendered. Keyword arguments it does not declare go to its
/// `kwargs` parameter when it has one (see [`preprocess`]).
pub fn call(state: &State, template: &str, name: &str, args: &[Value]) -> Result<Value, Error> {
    let ctx: BTreeMap<&str, Value> = INHERITED.iter().filter_map(|k| state.lookup(k).map(|v| (*k, v))).collect();
    let tmpl = state.env().get_template(template)?;
    let captured = tmpl.render_captured(ctx)?;
    let module = captured.state();
    let callable = module.lookup(name).ok_or_else(|| {
        Error::new(ErrorKind::UnknownFunction, format!("macro '{name}' is not defined in {template}"))
    })?;
    let args = fold_kwargs(&callable, args)?;
    RETURNS.with(|r| r.borrow_mut().push(None));
    let result = callable.call(module, &args);
    let returned = RETURNS.with(|r| r.borrow_mut().pop().flatten());
    match returned {
        Some(value) => Ok(value),
        None => result,
    }
}

/// `args` with the keyword arguments `callable` does not declare gathered into `kwargs`, when
/// it declares `kwargs`.
fn fold_kwargs(callable: &Value, args: &[Value]) -> Result<Vec<Value>, Error> {
    let Some(last) = args.last().filter(|v| v.is_kwargs()) else { return Ok(args.to_vec()) };
    let declared: Vec<String> = match callable.get_attr("arguments") {
        Ok(list) if !list.is_undefined() => list.try_iter()?.filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => return Ok(args.to_vec()),
    };
    if !declared.iter().any(|a| a == "kwargs") {
        return Ok(args.to_vec());
    }
    let kwargs = Kwargs::try_from(last.clone())?;
    let mut known = Vec::new();
    let mut extra = Vec::new();
    for key in kwargs.args() {
        let value: Value = kwargs.peek(key)?;
        if declared.iter().any(|a| a == key) {
            known.push((key.to_owned(), value));
        } else {
            extra.push((Value::from(key), value));
        }
    }
    let extra = Value::from_object(collections::Dict::from_pairs(extra));
    known.push(("kwargs".to_owned(), extra));
    let mut out = args[..args.len() - 1].to_vec();
    out.push(Value::from(known.into_iter().collect::<Kwargs>()));
    Ok(out)
}

/// `return(value)`: ends the macro being called, which gives `value`.
fn give_back(value: Option<Value>) -> Result<Value, Error> {
    let value = value.unwrap_or(Value::from(()));
    let stored = RETURNS.with(|r| match r.borrow_mut().last_mut() {
        Some(slot) => {
            *slot = Some(value);
            true
        }
        None => false,
    });
    Err(Error::new(
        ErrorKind::InvalidOperation,
        if stored { "return() ends the macro" } else { "return() is only for macros" },
    ))
}

/// The macros of one package, as `package.name(...)`.
#[derive(Debug)]
struct Namespace {
    package: String,
    registry: Arc<Registry>,
}

impl Object for Namespace {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        let template = self.registry.find(&self.package, name)?.clone();
        let name = name.to_owned();
        Some(Value::from_function(move |state: &State, args: Rest<Value>| call(state, &template, &name, &args)))
    }

    fn call_method(self: &Arc<Self>, state: &State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match self.registry.find(&self.package, method) {
            Some(template) => call(state, template, method, args),
            None => Err(Error::new(
                ErrorKind::UnknownFunction,
                format!("package '{}' has no macro named '{method}'", self.package),
            )),
        }
    }
}

/// `adapter`: `dispatch`, `quote`, `type` and `get_columns_in_relation`; its other methods are
/// errors naming the method.
struct Adapter {
    registry: Arc<Registry>,
    warehouse: Arc<dyn Warehouse>,
}

impl std::fmt::Debug for Adapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("adapter")
    }
}

impl Object for Adapter {
    fn call_method(self: &Arc<Self>, state: &State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match method {
            "get_columns_in_relation" => {
                let relation = args.first().ok_or_else(|| Error::new(ErrorKind::MissingArgument, "a relation"))?;
                let columns = self.warehouse.columns(state, relation)?.flatten().unwrap_or_default();
                let columns =
                    columns.into_iter().map(|(name, data_type)| Value::from_object(Column { name, data_type }));
                Ok(Value::from(columns.collect::<Vec<_>>()))
            }
            "dispatch" => {
                let (name, namespace) = match args {
                    [name] => (name.clone(), None),
                    [name, ns] if ns.is_kwargs() => {
                        let kwargs = Kwargs::try_from(ns.clone())?;
                        (name.clone(), kwargs.get::<Option<String>>("macro_namespace")?)
                    }
                    [name, ns, ..] => (name.clone(), ns.as_str().map(str::to_owned)),
                    _ => {
                        return Err(Error::new(
                            ErrorKind::MissingArgument,
                            "adapter.dispatch(macro_name, macro_namespace)",
                        ))
                    }
                };
                let name = name
                    .as_str()
                    .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "macro_name must be a string"))?;
                let (template, found) = self.registry.dispatch(name, namespace.as_deref()).ok_or_else(|| {
                    Error::new(
                        ErrorKind::UnknownFunction,
                        format!(
                            "adapter.dispatch('{name}', '{}'): no {a}__{name} or default__{name} in the search order",
                            namespace.as_deref().unwrap_or(&self.registry.root),
                            a = self.registry.adapter
                        ),
                    )
                })?;
                Ok(Value::from_function(move |state: &State, args: Rest<Value>| call(state, &template, &found, &args)))
            }
            "get_relation" => {
                let relation = relation_arg(args)?;
                Ok(match self.warehouse.columns(state, &relation)? {
                    Some(None) => Value::from(()),
                    _ => relation,
                })
            }
            "quote" => {
                let name = args.first().map(|v| v.to_string()).unwrap_or_default();
                Ok(Value::from(crate::render::quote_ident(&name)))
            }
            "type" => Ok(Value::from(self.registry.adapter.clone())),
            other => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("adapter.{other}() is not supported (docs/dbt.md lists what is)"),
            )),
        }
    }
}

/// The relation named by `(database, schema, identifier)`, positional or keyword arguments.
fn relation_arg(args: &[Value]) -> Result<Value, Error> {
    let (positional, kwargs) = match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => (rest, Some(Kwargs::try_from(last.clone())?)),
        _ => (args, None),
    };
    let part = |i: usize, key: &str| -> Result<Option<String>, Error> {
        if let Some(v) = positional.get(i).filter(|v| !v.is_none()) {
            return Ok(Some(v.to_string()));
        }
        Ok(match &kwargs {
            Some(k) => k.get::<Option<String>>(key)?,
            None => None,
        })
    };
    let (schema, identifier) = (part(1, "schema")?, part(2, "identifier")?);
    match (schema, identifier) {
        (Some(schema), Some(identifier)) => Ok(Value::from_object(crate::render::Relation { schema, identifier })),
        _ => Err(Error::new(ErrorKind::MissingArgument, "a relation needs a schema and an identifier")),
    }
}

/// `api`: `api.Relation.create(database=, schema=, identifier=)`.
#[derive(Debug)]
struct Api;

impl Object for Api {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        (key.as_str()? == "Relation").then(|| Value::from_object(Api))
    }

    fn call_method(self: &Arc<Self>, _: &State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match method {
            "create" => relation_arg(args),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `modules`: `modules.re` (`sub`, `search`, `match`, `findall`, `split`) and
/// `modules.datetime.datetime.now()`, the Python modules packages use at compile time.
#[derive(Debug)]
struct Modules;

/// Python's `re`, on the `regex` crate (`\1` in a replacement is a group, as in Python).
#[derive(Debug)]
struct Re;

impl Object for Modules {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "re" => Some(Value::from_object(Re)),
            "datetime" => Some(Value::from_object(DateTime(None))),
            _ => None,
        }
    }
}

/// Python's `datetime` module and its `datetime` class (`now()`, `utcnow()`), and an instant
/// (`strftime(format)`, `isoformat()`).
#[derive(Debug)]
struct DateTime(Option<chrono::NaiveDateTime>);

impl Object for DateTime {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        (self.0.is_none() && key.as_str()? == "datetime").then(|| Value::from_object(DateTime(None)))
    }

    fn call_method(self: &Arc<Self>, _: &State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match (self.0, method) {
            (None, "now") => Ok(Value::from_object(DateTime(Some(chrono::Local::now().naive_local())))),
            (None, "utcnow") => Ok(Value::from_object(DateTime(Some(chrono::Utc::now().naive_utc())))),
            (Some(at), "strftime") => {
                let format = args.first().and_then(|v| v.as_str()).unwrap_or("%Y-%m-%d %H:%M:%S");
                Ok(Value::from(at.format(format).to_string()))
            }
            (Some(at), "isoformat") => Ok(Value::from(at.format("%Y-%m-%dT%H:%M:%S%.f").to_string())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(at) => write!(f, "{}", at.format("%Y-%m-%d %H:%M:%S%.f")),
            None => f.write_str("<module 'datetime'>"),
        }
    }
}

impl Object for Re {
    fn call_method(self: &Arc<Self>, _: &State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let text = |i: usize| args.get(i).and_then(|v| v.as_str()).map(str::to_owned);
        let pattern = text(0).ok_or_else(|| Error::new(ErrorKind::MissingArgument, "a pattern"))?;
        let re = regex::Regex::new(&pattern)
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("modules.re: pattern {pattern:?}: {e}")))?;
        let arg = |i: usize| {
            text(i).ok_or_else(|| Error::new(ErrorKind::MissingArgument, format!("modules.re.{method}: a string")))
        };
        match method {
            "sub" => {
                let group = regex::Regex::new(r"\\(\d+)").expect("valid regex");
                let replacement = group.replace_all(&arg(1)?, "$${$1}").into_owned();
                Ok(Value::from(re.replace_all(&arg(2)?, replacement.as_str()).into_owned()))
            }
            "search" => Ok(re.find(&arg(1)?).map_or(Value::from(()), |m| Value::from(m.as_str()))),
            "match" => {
                let subject = arg(1)?;
                Ok(re.find(&subject).filter(|m| m.start() == 0).map_or(Value::from(()), |m| Value::from(m.as_str())))
            }
            "findall" => Ok(Value::from(re.find_iter(&arg(1)?).map(|m| m.as_str().to_owned()).collect::<Vec<_>>())),
            "split" => Ok(Value::from(re.split(&arg(1)?).map(str::to_owned).collect::<Vec<_>>())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `exceptions`: `raise_compiler_error(message)` fails the render; `warn(message)` prints.
#[derive(Debug)]
struct Exceptions;

impl Object for Exceptions {
    fn call_method(self: &Arc<Self>, _: &State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let message = args.first().map(|v| v.to_string()).unwrap_or_default();
        match method {
            "raise_compiler_error" | "raise_not_implemented" => Err(Error::new(ErrorKind::InvalidOperation, message)),
            "warn" => {
                eprintln!("warning: {message}");
                Ok(Value::from(""))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// Registers the macros of `registry` and dbt's context objects in `env`: each package as a
/// namespace, the root project's and dbt's macros also by bare name (except `skip`, which the
/// renderer has built in).
pub fn install(
    env: &mut Environment<'static>,
    registry: Registry,
    skip: &[&str],
    on_call: impl Fn(&State, &str) + Send + Sync + 'static,
    warehouse: Arc<dyn Warehouse>,
) {
    let on_call = Arc::new(on_call);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    let registry = Arc::new(registry);
    let bare: BTreeMap<String, String> = registry
        .packages
        .get(DBT)
        .into_iter()
        .chain(registry.packages.get(&registry.root))
        .flat_map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    for (name, template) in bare.into_iter().filter(|(n, _)| !skip.contains(&n.as_str())) {
        let macro_name = name.clone();
        let on_call = on_call.clone();
        env.add_function(name, move |state: &State, args: Rest<Value>| {
            on_call(state, &macro_name);
            call(state, &template, &macro_name, &args)
        });
    }
    for package in registry.packages.keys().filter(|p| *p != SHIMS) {
        let namespace = Namespace { package: package.clone(), registry: registry.clone() };
        env.add_global(package.clone(), Value::from_object(namespace));
    }
    env.add_global("adapter", Value::from_object(Adapter { registry: registry.clone(), warehouse: warehouse.clone() }));
    env.add_global("exceptions", Value::from_object(Exceptions));
    env.add_global("api", Value::from_object(Api));
    env.add_global("modules", Value::from_object(Modules));
    env.add_global("flags", Value::from_serialize(serde_json::json!({"WHICH": "run", "FULL_REFRESH": false})));
    env.add_function("return", give_back);
    env.add_function("__list", collections::list);
    env.add_function("__dict", collections::dict);
    env.add_function("log", |message: Value, info: Option<Value>, kwargs: Kwargs| -> Result<String, Error> {
        let info = match kwargs.get::<Option<bool>>("info")? {
            Some(i) => i,
            None => info.is_some_and(|v| v.is_true()),
        };
        if info {
            eprintln!("{message}");
        }
        Ok(String::new())
    });
    // Python's set(), as a sorted list without repeats (so that two sets compare equal).
    env.add_function("set", |items: Option<Value>| -> Result<Value, Error> {
        let mut values: Vec<Value> = match items {
            Some(items) => items.try_iter()?.collect(),
            None => Vec::new(),
        };
        values.sort();
        values.dedup();
        collections::list(Value::from(values))
    });
    env.add_function("print", |message: Value| {
        eprintln!("{message}");
        String::new()
    });
    env.add_function("should_store_failures", || false);
    let asked = warehouse.clone();
    env.add_function("run_query", move |state: &State, sql: String| query::run_query(state, asked.as_ref(), &sql));
    env.add_function("statement", move |state: &State, args: Rest<Value>| {
        query::statement(state, warehouse.as_ref(), &args)
    });
    env.add_function("load_result", query::load_result);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(files: &[(&str, &str, &str)]) -> Environment<'static> {
        let mut env = Environment::new();
        let mut registry = Registry { root: "app".into(), adapter: "postgres".into(), ..Registry::default() };
        for (package, file, text) in files {
            let text = preprocess(text).into_owned();
            for name in macro_names(&text) {
                registry.packages.entry(package.to_string()).or_default().insert(name, file.to_string());
            }
            env.add_template_owned(file.to_string(), text).unwrap();
        }
        install(&mut env, registry, &[], |_, _| {}, Arc::new(Nothing));
        env
    }

    /// A warehouse that knows one relation's columns and no query.
    struct Nothing;

    impl Warehouse for Nothing {
        fn columns(&self, _: &State, _: &Value) -> Result<Option<Option<Vec<(String, String)>>>, Error> {
            Ok(Some(Some(vec![("id".into(), "character varying(20)".into())])))
        }

        fn query(&self, _: &State, _: &str) -> Option<crate::introspect::Rows> {
            None
        }
    }

    #[test]
    fn dispatch_return_and_changeable_lists() {
        let env = env(&[
            (
                "pkg",
                "pkg.sql",
                "{% macro cols(n) %}{{ return(adapter.dispatch('cols', 'pkg')(n)) }}{% endmacro %}\
                 {% macro default__cols(n) %}{% set out = [] %}{% for i in range(n) %}{% do out.append('c' ~ i) %}{% endfor %}{{ return(out) }}{% endmacro %}\
                 {% macro postgres__cols(n) %}{% set out = [] %}{% do out.append('pg') %}{{ return(out) }}{% endmacro %}",
            ),
            ("app", "app.sql", "{% macro shout(x) %}{{ x | upper }}{% endmacro %}"),
        ]);
        let out = env.render_str("{{ pkg.cols(2) | join(',') }} {{ shout('a') }} {{ app.shout('b') }}", ()).unwrap();
        assert_eq!(out, "pg A B");
        let out = env.render_str(r"{{ modules.re.sub('([a-z]+)-(\\d)', '\\2_\\1', 'ab-1 cd-2') }}", ()).unwrap();
        assert_eq!(out, "1_ab 2_cd");
        assert_eq!(env.render_str("{{ set(['b', 'a', 'b']) == set(['a', 'b']) }}", ()).unwrap(), "True");
        let err = env.render_str("{{ exceptions.raise_compiler_error('nope') }}", ()).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        let cols = env.render_str("{% for c in adapter.get_columns_in_relation('x') %}{{ c.quoted }} {{ c.is_string() }} {{ c.string_size() }}{% endfor %}", ()).unwrap();
        assert_eq!(cols, "\"id\" True 20");
    }

    #[test]
    fn undeclared_keyword_arguments_reach_kwargs() {
        let env =
            env(&[("app", "app.sql", "{% macro t(model) %}{{ model }}:{{ kwargs.get('at_least') }}{% endmacro %}")]);
        assert_eq!(env.render_str("{{ t('m', at_least=0.9) }}", ()).unwrap(), "m:0.9");
    }
}
