//! `convlytics docs generate`: a static site in `target/docs` (no network, every asset inside the
//! binary) with a page per model, seed, source and taxonomy, the lineage graph of the project and
//! of each node, column lineage, data-test, monitor and label-quality results, and the KPI charts
//! of the default warehouse; `convlytics docs serve` shows it on the loopback interface.

mod charts;
mod graph;
mod lineage;
pub mod serve;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use convlytics_core::taxonomy::{EntityValue, Taxonomy};
use minijinja::{context, Environment, Value as Template};
use serde_json::{json, Value};

use crate::compile::Compiled;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::project::profiles::Target;
use crate::project::Project;
use crate::render::Relation;
use graph::{Graph, Node};
use lineage::ColumnGraph;

/// Where the site is written, under the project's target directory.
pub const SITE_DIR: &str = "docs";

/// The stylesheet, script and templates, compiled into the binary.
const ASSETS: [(&str, &str); 2] =
    [("assets/site.css", include_str!("site/site.css")), ("assets/site.js", include_str!("site/site.js"))];
const TEMPLATES: [(&str, &str); 7] = [
    ("layout.html", include_str!("site/layout.html")),
    ("index.html", include_str!("site/index.html")),
    ("node.html", include_str!("site/node.html")),
    ("charts.html", include_str!("site/charts.html")),
    ("quality.html", include_str!("site/quality.html")),
    ("taxonomies.html", include_str!("site/taxonomies.html")),
    ("taxonomy.html", include_str!("site/taxonomy.html")),
];

/// The columns read from `monitor_results` for the last run.
const MONITOR_COLUMNS: [&str; 9] =
    ["check_name", "monitor", "relation", "column_name", "dimension", "period", "status", "message", "checked_at"];
/// The columns of `mart_label_quality` the quality page shows.
const LABEL_QUALITY_COLUMNS: [&str; 9] = [
    "field",
    "label",
    "taxonomy_version",
    "reviews",
    "precision",
    "precision_low",
    "precision_high",
    "recall",
    "reviewer_agreement",
];

/// What a site is made of: the manifest, the taxonomies, the last run's results and, when the
/// warehouse is built, what it holds.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// `target/manifest.json` as [`crate::manifest::build`] writes it.
    pub manifest: Value,
    /// The project's taxonomies with the files that declare them.
    pub taxonomies: Vec<(PathBuf, Taxonomy)>,
    /// `target/run_results.json` of the last run, when there is one.
    pub run: Option<Value>,
    /// What the warehouse holds; `None` before the first build.
    pub warehouse: Option<Warehouse>,
}

/// What the built warehouse says about the project.
#[derive(Debug, Clone, Default)]
pub struct Warehouse {
    /// The engine's name (`embedded`, `postgres`).
    pub engine: String,
    /// Each built relation's columns `(name, SQL type)`, by the node's unique id.
    pub columns: BTreeMap<String, Vec<(String, String)>>,
    /// The last monitor run's results, in [`MONITOR_COLUMNS`] order.
    pub monitors: Vec<Vec<Option<String>>>,
    /// `mart_label_quality`, in [`LABEL_QUALITY_COLUMNS`] order, when built.
    pub label_quality: Option<Vec<Vec<Option<String>>>>,
    /// Each chart's rows, by chart id, for the charts whose mart is built.
    pub charts: BTreeMap<String, Vec<Vec<Option<String>>>>,
}

/// A written site: where, how many files and bytes, and the largest page.
#[derive(Debug, Clone)]
pub struct Written {
    /// The site's directory.
    pub dir: PathBuf,
    /// Files written.
    pub files: usize,
    /// Their total size in bytes.
    pub bytes: u64,
    /// The largest file and its size.
    pub largest: (String, u64),
}

/// Reads everything a site needs from the project and, where it is built, the warehouse
/// `engine` connects to; what cannot be read is said on stderr and left out of the site.
pub async fn collect(project: &Project, target: &Target, compiled: &Compiled, engine: &Engine) -> Result<Inputs> {
    let manifest = crate::manifest::build(project, target, compiled);
    let run_path = project.target_dir().join("run_results.json");
    let run = match std::fs::read_to_string(&run_path) {
        Ok(text) => Some(
            serde_json::from_str(&text)
                .map_err(|e| Error::Project(format!("{}: not a run record: {e}", run_path.display())))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(run_path, e)),
    };
    let taxonomies = project.taxonomies.values().map(|(file, t)| (file.clone(), t.clone())).collect();
    if let Err(e) = engine.register_sources(compiled).await {
        eprintln!("warning: the sources' column types are left out: {e}");
    }
    let mut relations: Vec<(String, Relation)> = compiled
        .models
        .iter()
        .map(|m| (crate::manifest::node_id(project, &m.name), m.relation.clone()))
        .chain(
            compiled
                .seeds
                .iter()
                .map(|s| (crate::manifest::node_id(project, &s.name), Compiled::seed_relation(target, s))),
        )
        .collect();
    relations.extend(compiled.sources.iter().map(|(t, _)| {
        let id = crate::manifest::source_id(project, &(t.source.clone(), t.name.clone()));
        (id, Relation { schema: t.schema.clone(), identifier: t.identifier.clone() })
    }));
    let mut columns = BTreeMap::new();
    for (id, relation) in &relations {
        if let Some(found) = engine.columns(relation).await? {
            columns.insert(id.clone(), found);
        }
    }
    let built = compiled.models.iter().any(|m| columns.contains_key(&crate::manifest::node_id(project, &m.name)));
    if !built {
        return Ok(Inputs { manifest, taxonomies, run, warehouse: None });
    }
    let relation_of = |model: &str| {
        let id = crate::manifest::node_id(project, model);
        relations.iter().find(|(i, _)| *i == id && columns.contains_key(&id)).map(|(_, r)| r.to_string())
    };
    let read = |sql: String, what: String| async move {
        engine.rows(&sql, &what).await.map_err(|e| eprintln!("warning: {what} is left out of the site: {e}")).ok()
    };
    let mut charts = BTreeMap::new();
    for chart in &charts::CHARTS {
        if let Some(relation) = relation_of(chart.mart) {
            if let Some(rows) = read(chart.sql(&relation), format!("the chart of {}", chart.mart)).await {
                charts.insert(chart.id.to_owned(), rows);
            }
        }
    }
    let label_quality = match relation_of("mart_label_quality") {
        Some(relation) => {
            let sql = format!(
                "select {} from {relation} order by field, label, taxonomy_version",
                LABEL_QUALITY_COLUMNS.join(", ")
            );
            read(sql, "mart_label_quality".to_owned()).await
        }
        None => None,
    };
    let results = Relation { schema: target.schema.clone(), identifier: crate::monitor::MONITOR_RESULTS.to_owned() };
    let monitors = match engine.columns(&results).await? {
        Some(_) => {
            let sql = format!(
                "select {} from {results} where run_id = (select run_id from {results} order by checked_at desc limit 1) order by check_name, relation, column_name, dimension, period",
                MONITOR_COLUMNS.join(", ")
            );
            read(sql, "the last monitor run".to_owned()).await.unwrap_or_default()
        }
        None => Vec::new(),
    };
    let warehouse = Warehouse { engine: engine.kind().to_owned(), columns, monitors, label_quality, charts };
    Ok(Inputs { manifest, taxonomies, run, warehouse: Some(warehouse) })
}

/// Writes the site of `inputs` into `dir` (emptied first), and says how big it came out.
pub fn write(inputs: &Inputs, dir: &Path) -> Result<Written> {
    let files = render(inputs)?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::create_dir_all(dir.join("assets")).map_err(|e| Error::io(dir, e))?;
    let mut bytes = 0;
    let mut largest = (String::new(), 0);
    for (name, text) in &files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        let size = text.len() as u64;
        bytes += size;
        if size > largest.1 {
            largest = (name.clone(), size);
        }
    }
    Ok(Written { dir: dir.to_owned(), files: files.len(), bytes, largest })
}

/// Every file of the site of `inputs`: `(path in the site, contents)`.
pub fn render(inputs: &Inputs) -> Result<Vec<(String, String)>> {
    let mut env = Environment::new();
    // A missing description or type is left blank, not written as `none`.
    env.set_formatter(|out, state, value| match value.is_none() {
        true => Ok(()),
        false => minijinja::escape_formatter(out, state, value),
    });
    for (name, source) in TEMPLATES {
        env.add_template(name, source).map_err(|e| Error::Project(format!("docs template {name}: {e}")))?;
    }
    let site = Site::new(inputs);
    let mut files: Vec<(String, String)> = ASSETS.iter().map(|(n, t)| ((*n).to_owned(), (*t).to_owned())).collect();
    files.push((
        "assets/search.js".to_owned(),
        format!("window.CONVLYTICS_SEARCH = {};\n", script_json(&site.search())),
    ));
    let page = |name: &str, ctx: Template| -> Result<String> {
        let template = env.get_template(name).map_err(|e| Error::Project(format!("docs template {name}: {e}")))?;
        template
            .render(context! { ..site.common(), ..ctx })
            .map_err(|e| Error::Project(format!("docs page from {name}: {e}")))
    };
    files.push(("index.html".to_owned(), page("index.html", site.index())?));
    for node in &site.nodes {
        files.push((node.href.clone(), page("node.html", site.node(node))?));
    }
    files.push(("charts.html".to_owned(), page("charts.html", site.charts())?));
    files.push(("quality.html".to_owned(), page("quality.html", site.quality())?));
    files.push(("taxonomies.html".to_owned(), page("taxonomies.html", context! { taxonomies => site.taxonomies() })?));
    for t in site.taxonomies() {
        let name = format!("taxonomy.{}.html", file_safe(t["name"].as_str().unwrap_or_default()));
        files.push((name, page("taxonomy.html", context! { t => t })?));
    }
    Ok(files)
}

/// `text` with the characters HTML and SVG give meaning to escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `value` as JSON that is safe inside a `<script>` element: `<`, `>` and `&` as `\u` escapes,
/// so no text in it can end the element.
pub(crate) fn script_json(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// `name` with anything but letters, digits, `_`, `-` and `.` replaced, for a file name.
fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') { c } else { '_' }).collect()
}

/// A model, seed or source as the site shows it.
#[derive(Debug, Clone)]
struct Page {
    /// The unique id (`model.project.name`).
    id: String,
    /// `model`, `seed` or `source`.
    kind: &'static str,
    /// Its name (`source.table` for a source).
    name: String,
    /// Its page.
    href: String,
    /// The manifest's entry.
    entry: Value,
}

/// One data test and how it went in the last run.
#[derive(Debug, Clone, serde::Serialize)]
struct TestRow {
    name: String,
    short: String,
    /// The unique id of the node it tests.
    of: Option<String>,
    /// That node's name.
    subject: Option<String>,
    href: Option<String>,
    column: Option<String>,
    severity: String,
    status: String,
    failures: Option<u64>,
}

/// The site being rendered: the nodes, their graph and column lineage, and the last results.
struct Site<'a> {
    inputs: &'a Inputs,
    nodes: Vec<Page>,
    graph: Graph,
    columns: ColumnGraph,
    tests: Vec<TestRow>,
}

impl<'a> Site<'a> {
    fn new(inputs: &'a Inputs) -> Self {
        let manifest = &inputs.manifest;
        let mut nodes: Vec<Page> = Vec::new();
        let entries = manifest["nodes"]
            .as_object()
            .into_iter()
            .flatten()
            .chain(manifest["sources"].as_object().into_iter().flatten());
        for (id, entry) in entries {
            let kind = match entry["resource_type"].as_str() {
                Some("model") => "model",
                Some("seed") => "seed",
                Some("source") => "source",
                _ => continue,
            };
            let name = match kind {
                "source" => format!(
                    "{}.{}",
                    entry["source_name"].as_str().unwrap_or_default(),
                    entry["name"].as_str().unwrap_or_default()
                ),
                _ => entry["name"].as_str().unwrap_or_default().to_owned(),
            };
            let href = format!("{kind}.{}.html", file_safe(&name));
            nodes.push(Page { id: id.clone(), kind, name, href, entry: entry.clone() });
        }
        let parents: BTreeMap<String, Vec<String>> =
            serde_json::from_value(manifest["parent_map"].clone()).unwrap_or_default();
        let graph = Graph::new(
            nodes
                .iter()
                .map(|n| Node { id: n.id.clone(), label: n.name.clone(), kind: n.kind, href: n.href.clone() })
                .collect(),
            &parents,
        );
        let depth: BTreeMap<String, usize> =
            graph.nodes.iter().zip(graph.depths()).map(|(n, d)| (n.id.clone(), d)).collect();
        nodes.sort_by(|a, b| (a.kind, depth[&a.id], &a.name).cmp(&(b.kind, depth[&b.id], &b.name)));
        let columns = ColumnGraph::of(manifest);
        let statuses: BTreeMap<&str, &Value> = inputs
            .run
            .iter()
            .flat_map(|r| r["results"].as_array().into_iter().flatten())
            .filter(|r| r["resource_type"] == "test")
            .filter_map(|r| Some((r["name"].as_str()?, r)))
            .collect();
        let mut tests: Vec<TestRow> = manifest["nodes"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, t)| t["resource_type"] == "test")
            .map(|(_, t)| {
                let name = t["name"].as_str().unwrap_or_default().to_owned();
                let subject = t["attached_node"].as_str().and_then(|a| nodes.iter().find(|n| n.id == a));
                let result = statuses.get(name.as_str());
                let column = t["column_name"].as_str().map(str::to_owned);
                let short = short_test_name(
                    &name,
                    subject.map(|s| s.entry["name"].as_str().unwrap_or_default()),
                    column.as_deref(),
                );
                TestRow {
                    short,
                    of: subject.map(|s| s.id.clone()),
                    subject: subject.map(|s| s.name.clone()),
                    href: subject.map(|s| s.href.clone()),
                    column,
                    severity: t["config"]["severity"].as_str().unwrap_or("error").to_owned(),
                    status: result.and_then(|r| r["status"].as_str()).unwrap_or("not run").to_owned(),
                    failures: result.and_then(|r| r["failures"].as_u64()),
                    name,
                }
            })
            .collect();
        tests.sort_by_key(|t| (status_rank(&t.status), t.name.clone()));
        Self { inputs, nodes, graph, columns, tests }
    }

    /// What every page's layout shows.
    fn common(&self) -> Template {
        let metadata = &self.inputs.manifest["metadata"];
        context! {
            project => metadata["project_name"].as_str(),
            generator => metadata["generator"].as_str(),
            target => metadata["target_name"].as_str(),
            built => self.inputs.warehouse.is_some(),
            engine => self.inputs.warehouse.as_ref().map(|w| w.engine.clone()),
        }
    }

    /// The front page: the counts, the whole lineage graph and the lists of nodes.
    fn index(&self) -> Template {
        let list = |kind: &str| -> Vec<Value> {
            self.nodes
                .iter()
                .filter(|n| n.kind == kind)
                .map(|n| {
                    json!({
                        "name": n.name, "href": n.href, "description": n.entry["description"].as_str().map(lead),
                        "materialized": n.entry["config"]["materialized"],
                    })
                })
                .collect()
        };
        let label = format!("Lineage of {} nodes", self.graph.nodes.len());
        context! {
            models => list("model"), seeds => list("seed"), sources => list("source"),
            tests => self.test_summary(),
            taxonomies => self.inputs.taxonomies.len(),
            dag => Template::from_safe_string(self.graph.svg(None, &label)),
        }
    }

    /// The page of one model, seed or source.
    fn node(&self, node: &Page) -> Template {
        let entry = &node.entry;
        let documented = entry["columns"].as_object().cloned().unwrap_or_default();
        let catalog = self.inputs.warehouse.as_ref().and_then(|w| w.columns.get(&node.id));
        let mut names: Vec<String> = catalog.map(|c| c.iter().map(|(n, _)| n.clone()).collect()).unwrap_or_default();
        names.extend(documented.keys().filter(|k| !names.contains(k)).cloned().collect::<Vec<_>>());
        let columns: Vec<Value> = names
            .iter()
            .map(|c| {
                let doc = documented.get(c).cloned().unwrap_or(Value::Null);
                let kind = catalog.and_then(|cols| cols.iter().find(|(n, _)| n == c)).map(|(_, t)| json!(t));
                let tests: Vec<&TestRow> = self
                    .tests
                    .iter()
                    .filter(|t| t.of.as_deref() == Some(&node.id) && t.column.as_deref() == Some(c))
                    .collect();
                json!({
                    "name": c, "type": kind.unwrap_or_else(|| doc["data_type"].clone()),
                    "data_class": doc["meta"]["data_class"], "description": doc["description"], "tests": tests,
                })
            })
            .collect();
        let node_tests: Vec<&TestRow> =
            self.tests.iter().filter(|t| t.of.as_deref() == Some(&node.id) && t.column.is_none()).collect();
        let lineage: BTreeMap<&String, Value> = names
            .iter()
            .filter_map(|c| {
                let ends = |up| -> Vec<Value> {
                    self.columns
                        .reach(&node.id, c, up)
                        .into_iter()
                        .map(|(id, column)| {
                            let page = self.nodes.iter().find(|n| n.id == id);
                            json!({
                                "node": id, "name": page.map(|p| p.name.clone()), "column": column,
                                "href": page.map(|p| format!("{}#column-{column}", p.href)),
                            })
                        })
                        .collect()
                };
                let (up, down) = (ends(true), ends(false));
                (!up.is_empty() || !down.is_empty()).then(|| (c, json!({ "up": up, "down": down })))
            })
            .collect();
        let relation = match node.kind {
            "source" => format!(
                "{}.{}",
                entry["schema"].as_str().unwrap_or_default(),
                entry["identifier"].as_str().unwrap_or_default()
            ),
            _ => format!(
                "{}.{}",
                entry["schema"].as_str().unwrap_or_default(),
                entry["alias"].as_str().unwrap_or_default()
            ),
        };
        let monitors: Vec<Value> =
            self.monitors().into_iter().filter(|m| m["relation"].as_str() == Some(relation.as_str())).collect();
        let taxonomies: Vec<Value> = entry["taxonomies"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, version)| json!({ "name": name, "file": format!("taxonomy.{}.html", file_safe(name)), "version": version }))
            .collect();
        let rows = self.result(&node.entry).and_then(|r| r["rows"].as_u64());
        let around = self.graph.around(&node.id);
        let label = format!("Lineage of {} {}: {} nodes", node.kind, node.name, around.nodes.len());
        context! {
            node => json!({
                "kind": node.kind, "name": node.name, "relation": relation,
                "path": entry["original_file_path"], "materialized": entry["config"]["materialized"],
                "tags": entry["tags"], "taxonomies": taxonomies, "rows": rows,
                "description": entry["description"], "compiled": entry["compiled_code"],
            }),
            columns => columns,
            node_tests => node_tests,
            lineage_columns => lineage.keys().collect::<Vec<_>>(),
            lineage_data => Template::from_safe_string(script_json(&json!(lineage))),
            dag => Template::from_safe_string(around.svg(Some(&node.id), &label)),
            monitors => monitors,
        }
    }

    /// The KPI charts whose mart is a model of the project.
    fn charts(&self) -> Template {
        let charts: Vec<Template> = charts::CHARTS
            .iter()
            .filter_map(|chart| {
                let page = self.nodes.iter().find(|n| n.kind == "model" && n.name == chart.mart)?;
                let rows = self.inputs.warehouse.as_ref().and_then(|w| w.charts.get(chart.id));
                Some(context! {
                    id => chart.id, title => chart.title, question => chart.question, mart => chart.mart,
                    href => page.href, relation => page.entry["relation_name"], hint => chart.empty,
                    rows => rows.map(Vec::len),
                    svg => rows.filter(|r| !r.is_empty()).map(|r| Template::from_safe_string(chart.svg(r))),
                })
            })
            .collect();
        context! { charts => charts }
    }

    /// The data tests, monitors and label quality.
    fn quality(&self) -> Template {
        let monitors = self.monitors();
        let checked_at = monitors.iter().filter_map(|m| m["checked_at"].as_str()).max().map(str::to_owned);
        let label_quality: Vec<Value> = self
            .inputs
            .warehouse
            .iter()
            .flat_map(|w| w.label_quality.iter().flatten())
            .map(|row| {
                let value = |i: usize| row.get(i).cloned().flatten();
                let share =
                    |i: usize| value(i).and_then(|v| v.parse::<f64>().ok()).map(|v| format!("{:.1}%", v * 100.0));
                json!({
                    "field": value(0), "label": value(1), "version": value(2), "reviews": value(3),
                    "precision": share(4),
                    "interval": share(5).zip(share(6)).map(|(l, h)| format!("{l} to {h}")),
                    "recall": share(7), "agreement": share(8),
                })
            })
            .collect();
        context! {
            tests => self.test_summary(),
            monitors_summary => summary(monitors.iter().filter_map(|m| m["status"].as_str())),
            monitors_checked_at => checked_at,
            monitors => monitors,
            label_quality => label_quality,
        }
    }

    /// Each taxonomy with its labels, entity types and the models that use it.
    fn taxonomies(&self) -> Vec<Value> {
        self.inputs
            .taxonomies
            .iter()
            .map(|(path, t)| {
                let models: Vec<&str> = self
                    .nodes
                    .iter()
                    .filter(|n| n.entry["taxonomies"].get(&t.name).is_some())
                    .map(|n| n.name.as_str())
                    .collect();
                let entities: Vec<Value> = t
                    .entities
                    .iter()
                    .map(|e| {
                        let values: Vec<String> = e
                            .values
                            .iter()
                            .map(|v| match v {
                                EntityValue::Name(name) => name.clone(),
                                EntityValue::WithSynonyms { value, synonyms } => {
                                    format!("{value} ({})", synonyms.join(", "))
                                }
                            })
                            .collect();
                        let patterns: Vec<&String> = e.pattern.iter().chain(&e.patterns).collect();
                        json!({ "name": e.name, "description": e.description, "values": values, "patterns": patterns })
                    })
                    .collect();
                json!({
                    "name": t.name, "version": t.version(), "description": t.description, "path": path,
                    "threshold": t.threshold, "topic_threshold": t.topic_threshold, "models": models,
                    "intents": t.intents, "topics": t.topics, "entities": entities,
                })
            })
            .collect()
    }

    /// The search index: models, seeds and sources, their columns, taxonomy labels.
    fn search(&self) -> Value {
        let mut entries = Vec::new();
        for n in &self.nodes {
            entries.push(json!({ "kind": n.kind, "name": n.name, "text": n.entry["description"], "href": n.href }));
            let mut columns: BTreeSet<String> =
                n.entry["columns"].as_object().into_iter().flatten().map(|(c, _)| c.clone()).collect();
            if let Some(found) = self.inputs.warehouse.as_ref().and_then(|w| w.columns.get(&n.id)) {
                columns.extend(found.iter().map(|(c, _)| c.clone()));
            }
            for c in columns {
                let text = &n.entry["columns"][&c]["description"];
                entries.push(json!({
                    "kind": "column", "name": format!("{}.{c}", n.name), "text": text,
                    "href": format!("{}#column-{c}", n.href),
                }));
            }
        }
        for (_, t) in &self.inputs.taxonomies {
            let page = format!("taxonomy.{}.html", file_safe(&t.name));
            entries.push(json!({ "kind": "taxonomy", "name": t.name, "text": t.description, "href": page }));
            for (kind, labels) in [("intent", &t.intents), ("topic", &t.topics)] {
                for l in labels {
                    entries.push(json!({
                        "kind": kind, "name": l.name, "text": l.description,
                        "href": format!("{page}#{kind}-{}", l.name),
                    }));
                }
            }
        }
        Value::Array(entries)
    }

    /// The last run's result of a model or seed.
    fn result(&self, entry: &Value) -> Option<&Value> {
        self.inputs
            .run
            .as_ref()?
            .get("results")?
            .as_array()?
            .iter()
            .find(|r| r["name"] == entry["name"] && r["resource_type"] == entry["resource_type"])
    }

    /// The data tests and the counts of their last statuses.
    fn test_summary(&self) -> Value {
        let ran: Vec<&str> = self.tests.iter().map(|t| t.status.as_str()).filter(|s| *s != "not run").collect();
        json!({
            "total": self.tests.len(), "ran": !ran.is_empty(),
            "summary": summary(self.tests.iter().map(|t| t.status.as_str())), "rows": self.tests,
        })
    }

    /// The last monitor run's results as objects.
    fn monitors(&self) -> Vec<Value> {
        let keys = ["check", "monitor", "relation", "column", "dimension", "period", "status", "message", "checked_at"];
        let mut rows: Vec<Value> = self
            .inputs
            .warehouse
            .iter()
            .flat_map(|w| &w.monitors)
            .map(|row| keys.iter().zip(row).map(|(k, v)| ((*k).to_owned(), json!(v))).collect())
            .collect();
        rows.sort_by_key(|m| status_rank(m["status"].as_str().unwrap_or_default()));
        rows
    }
}

/// The first sentence of `text`.
fn lead(text: &str) -> String {
    let text = text.trim();
    match text.find(". ") {
        Some(end) => text[..=end].to_owned(),
        None => text.to_owned(),
    }
}

/// Failures first, then warnings, errors, passes, and what did not run.
fn status_rank(status: &str) -> u8 {
    match status {
        "fail" | "error" => 0,
        "warn" => 1,
        "pass" | "success" => 2,
        "skipped" => 3,
        _ => 4,
    }
}

/// `3 pass, 1 warn`: how many of each status, in [`status_rank`] order.
fn summary<'s>(statuses: impl Iterator<Item = &'s str>) -> String {
    let mut counts: BTreeMap<(u8, &str), usize> = BTreeMap::new();
    for s in statuses {
        *counts.entry((status_rank(s), s)).or_default() += 1;
    }
    counts.iter().map(|((_, s), n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ")
}

/// The generic test's name in `name` (`not_null` of `not_null_orders_id`), else `name`.
fn short_test_name(name: &str, subject: Option<&str>, column: Option<&str>) -> String {
    let Some(subject) = subject else { return name.to_owned() };
    let marker = match column {
        Some(c) => format!("_{subject}_{c}"),
        None => format!("_{subject}"),
    };
    match name.find(&marker) {
        Some(at) if at > 0 => name[..at].to_owned(),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_attribute_quotes() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn script_json_cannot_end_its_element() {
        let text = script_json(&json!({ "note": "</script><script>alert(1)</script> & more" }));
        assert!(!text.contains('<') && !text.contains('&'), "{text}");
        let back: Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back["note"], "</script><script>alert(1)</script> & more");
    }

    #[test]
    fn short_names_drop_the_subject_and_column() {
        assert_eq!(short_test_name("not_null_orders_id", Some("orders"), Some("id")), "not_null");
        assert_eq!(short_test_name("unique_orders", Some("orders"), None), "unique");
        assert_eq!(short_test_name("assert_totals", None, None), "assert_totals");
    }

    #[test]
    fn lead_is_the_first_sentence() {
        assert_eq!(lead("One row per turn. Read with parse_transcript.\n"), "One row per turn.");
        assert_eq!(lead(" No full stop "), "No full stop");
    }

    #[test]
    fn summaries_put_failures_first() {
        assert_eq!(summary(["pass", "fail", "pass", "not run"].into_iter()), "1 fail, 2 pass, 1 not run");
    }
}
