//! Queries while compiling: `run_query(sql)`, `{% call statement(name, fetch_result=True) %}`
//! and `load_result(name)`. A query of constants (as `dbt_utils.date_spine` makes, through
//! `get_intervals_between`) runs on an in-memory DataFusion session with no tables, so it gives
//! the same answer for either target; one that reads a relation is asked of the warehouse
//! ([`super::Warehouse`]); a statement that would change the warehouse is an error.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::json::writer::{JsonArray, WriterBuilder};
use datafusion::prelude::SessionContext;
use minijinja::value::{Kwargs, Object};
use minijinja::{Error, ErrorKind, State, Value};

thread_local! {
    /// What each named `statement` fetched, for `load_result` in the same render.
    static RESULTS: RefCell<BTreeMap<String, Value>> = const { RefCell::new(BTreeMap::new()) };
}

/// A query's result as dbt's agate table: its rows (iterated, or `rows`), `columns` (each with
/// `name` and `values()`) and `column_names`.
#[derive(Debug)]
struct Table {
    names: Vec<String>,
    rows: Vec<Vec<Value>>,
}

/// A table's columns, as agate's mapped sequence: by position or by name, and `items()`,
/// `keys()`, `values()`.
#[derive(Debug)]
struct Columns(Vec<(String, Value)>);

impl Object for Columns {
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str() {
            Some(name) => self.0.iter().find(|(n, _)| n == name).map(|(_, c)| c.clone()),
            None => self.0.get(usize::try_from(key.clone()).ok()?).map(|(_, c)| c.clone()),
        }
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Values(self.0.iter().map(|(_, c)| c.clone()).collect())
    }

    fn call_method(self: &Arc<Self>, _: &State<'_, '_>, method: &str, _: &[Value]) -> Result<Value, Error> {
        let pairs = || self.0.iter().map(|(n, c)| Value::from(vec![Value::from(n.clone()), c.clone()]));
        match method {
            "items" => Ok(Value::from(pairs().collect::<Vec<_>>())),
            "keys" => Ok(Value::from(self.0.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>())),
            "values" => Ok(Value::from(self.0.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// One column of a [`Table`].
#[derive(Debug)]
struct Column {
    name: String,
    values: Vec<Value>,
}

impl Table {
    /// Its rows as agate's: by position (`row[0]`) and by column name (`row.table_name`).
    fn row_values(&self) -> Vec<Value> {
        let names: Arc<[String]> = self.names.clone().into();
        self.rows.iter().map(|r| Value::from_object(Row { names: names.clone(), values: r.clone() })).collect()
    }
}

/// One row of a [`Table`].
#[derive(Debug)]
struct Row {
    names: Arc<[String]>,
    values: Vec<Value>,
}

impl Object for Row {
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str() {
            Some(name) => self.names.iter().position(|n| n == name).map(|i| self.values[i].clone()),
            None => self.values.get(usize::try_from(key.clone()).ok()?).cloned(),
        }
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Values(self.values.clone())
    }
}

impl Object for Table {
    /// A sequence of its rows, as an agate table iterates.
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Seq
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Values(self.row_values())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.rows.len())
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if let Ok(i) = usize::try_from(key.clone()) {
            return self.row_values().get(i).cloned();
        }
        match key.as_str()? {
            "rows" => Some(Value::from(self.row_values())),
            "column_names" => Some(Value::from(self.names.clone())),
            "columns" => Some(Value::from_object(Columns(
                (0..self.names.len())
                    .map(|i| {
                        let values = self.rows.iter().map(|r| r[i].clone()).collect();
                        (self.names[i].clone(), Value::from_object(Column { name: self.names[i].clone(), values }))
                    })
                    .collect(),
            ))),
            _ => None,
        }
    }
}

impl Object for Column {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        (key.as_str()? == "name").then(|| Value::from(self.name.clone()))
    }

    fn call_method(self: &Arc<Self>, _: &State<'_, '_>, method: &str, _: &[Value]) -> Result<Value, Error> {
        match method {
            "values" => Ok(Value::from(self.values.clone())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// Runs `sql`: on a session without tables when it reads none, else through `warehouse` (an
/// empty table while its answer is not known).
fn execute(state: &State, warehouse: &dyn super::Warehouse, sql: &str) -> Result<Table, Error> {
    match constant(sql) {
        Ok(table) => Ok(table),
        Err(_) => Ok(match warehouse.query(state, sql.trim().trim_end_matches(';')) {
            Some((names, rows)) => {
                Table { names, rows: rows.iter().map(|r| r.iter().map(Value::from_serialize).collect()).collect() }
            }
            None => Table { names: Vec::new(), rows: Vec::new() },
        }),
    }
}

/// Runs `sql` (one query) on a session without tables, on its own thread so that it never
/// blocks the caller's runtime.
fn constant(sql: &str) -> Result<Table, Error> {
    let failed = |e: String| Error::new(ErrorKind::InvalidOperation, format!("a query while compiling failed: {e}"));
    let sql = sql.trim().trim_end_matches(';').to_owned();
    let run = move || -> Result<crate::introspect::Rows, String> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let ctx = SessionContext::new();
            let df =
                ctx.sql_with_options(&sql, crate::engine::embedded::read_only()).await.map_err(|e| e.to_string())?;
            dataframe_rows(df).await
        })
    };
    let (names, rows) =
        std::thread::scope(|s| s.spawn(run).join()).map_err(|_| failed("it panicked".into()))?.map_err(failed)?;
    let rows = rows.iter().map(|r| r.iter().map(Value::from_serialize).collect()).collect();
    Ok(Table { names, rows })
}

/// The column names and rows (as JSON values, typed as Arrow's JSON writer types them) of `df`.
pub async fn dataframe_rows(df: datafusion::dataframe::DataFrame) -> Result<crate::introspect::Rows, String> {
    let names: Vec<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
    let batches = df.collect().await.map_err(|e| e.to_string())?;
    let mut writer = WriterBuilder::new().with_explicit_nulls(true).build::<_, JsonArray>(Vec::new());
    let refs: Vec<_> = batches.iter().collect();
    writer.write_batches(&refs).and_then(|()| writer.finish()).map_err(|e| e.to_string())?;
    let rows = json_rows(&names, &writer.into_inner())?;
    Ok((names, rows))
}

/// The rows of Arrow's JSON-array output, in the order of `names`.
fn json_rows(names: &[String], json: &[u8]) -> Result<Vec<Vec<serde_json::Value>>, String> {
    let objects: Vec<serde_json::Map<String, serde_json::Value>> =
        if json.is_empty() { Vec::new() } else { serde_json::from_slice(json).map_err(|e| e.to_string())? };
    Ok(objects
        .iter()
        .map(|o| names.iter().map(|n| o.get(n).cloned().unwrap_or(serde_json::Value::Null)).collect())
        .collect())
}

/// `run_query(sql)`: the result as a table.
pub fn run_query(state: &State, warehouse: &dyn super::Warehouse, sql: &str) -> Result<Value, Error> {
    Ok(Value::from_object(execute(state, warehouse, sql)?))
}

/// `{% call statement(name, fetch_result=True) %}sql{% endcall %}`: runs the query and keeps
/// its result for `load_result(name)`.
pub fn statement(state: &State, warehouse: &dyn super::Warehouse, args: &[Value]) -> Result<Value, Error> {
    let (positional, kwargs) = match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => (rest.to_vec(), Kwargs::try_from(last.clone())?),
        _ => (args.to_vec(), Kwargs::from_iter(std::iter::empty::<(String, Value)>())),
    };
    let name = match positional.first() {
        Some(v) => v.to_string(),
        None => kwargs.get::<Option<String>>("name")?.unwrap_or_else(|| "main".into()),
    };
    let fetch: bool = kwargs.get::<Option<bool>>("fetch_result")?.unwrap_or(false);
    let caller: Value = kwargs.get("caller")?;
    if !fetch {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "statement('{name}') without fetch_result=True changes the warehouse, which convlytics does not do \
                 while compiling (use a model, or on-run-start)"
            ),
        ));
    }
    let sql = caller.call(state, &[])?.to_string();
    let table = Value::from_object(execute(state, warehouse, &sql)?);
    let data = table.get_attr("rows")?;
    let result =
        Value::from_serialize(BTreeMap::from([("response", Value::from("OK")), ("data", data), ("table", table)]));
    RESULTS.with(|r| r.borrow_mut().insert(name, result));
    Ok(Value::from(""))
}

/// `load_result(name)`: what `statement(name)` fetched, or none.
pub fn load_result(name: String) -> Value {
    RESULTS.with(|r| r.borrow().get(&name).cloned()).unwrap_or(Value::from(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_of_constants_run_and_others_go_to_the_warehouse() {
        struct Unknown;
        impl super::super::Warehouse for Unknown {
            fn columns(&self, _: &State, _: &Value) -> Result<Option<Option<Vec<(String, String)>>>, Error> {
                Ok(None)
            }
            fn query(&self, _: &State, sql: &str) -> Option<crate::introspect::Rows> {
                sql.contains("analytics.orders").then(|| (vec!["n".into()], vec![vec![serde_json::json!(3)]]))
            }
        }
        let mut env = minijinja::Environment::new();
        env.add_function("run_query", |state: &State, sql: String| run_query(state, &Unknown, &sql));
        env.add_function("statement", |state: &State, args: minijinja::value::Rest<Value>| {
            statement(state, &Unknown, &args)
        });
        env.add_function("load_result", load_result);
        let out = env
            .render_str(
                "{% call statement('n', fetch_result=True) %}select cast('2024-03-01' as date) - cast('2024-01-01' as date) as d{% endcall %}\
                 {{ load_result('n')['data'] | map(attribute=0) | list }} {{ run_query('select 1 as a, \\'x\\' as b').columns[1].values() }}",
                (),
            )
            .unwrap();
        assert_eq!(out, "[60] [\"x\"]");
        let out = env.render_str("{{ run_query('select count(*) as n from analytics.orders').rows }}", ()).unwrap();
        assert_eq!(out, "[[3]]", "a query of a relation is the warehouse's to answer");
        let out = env.render_str("{% for row in run_query('select count(*) as n from analytics.orders') %}{{ row.n }}/{{ row[0] }}{% endfor %}", ()).unwrap();
        assert_eq!(out, "3/3", "rows by name and by position");
        let out = env.render_str("{{ run_query('select * from analytics.customers').rows }}", ()).unwrap();
        assert_eq!(out, "[]", "empty while not known");
        let err = env.render_str("{% call statement('x') %}drop table t{% endcall %}", ()).unwrap_err();
        assert!(err.to_string().contains("without fetch_result=True"), "{err}");
    }
}
