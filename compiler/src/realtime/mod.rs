//! Real time: new raw records enriched as they arrive, by the same compiled models as the batch
//! run, and alert rules fired on what they produce.
//!
//! A project's `realtime:` (one property file) names the raw model, the key of a raw record, the
//! model and column that group records into a conversation, and the normalized and enriched
//! models to keep current. [`Chain`] takes those models' compiled SQL and points it at the
//! records of one arrival: the new records and the earlier records of the conversations they
//! continue (an email reply re-reads its thread), each table model's rows of those conversations
//! replacing the stored ones, each incremental model reading and merging into its stored table
//! as a batch run does. The same [`Plan`] runs in a PostgreSQL trigger ([`postgres`]) and in the
//! embedded engine's watcher ([`watch`]).

pub mod alerts;
pub mod postgres;
pub mod watch;

use std::path::PathBuf;

use serde::Deserialize;

use crate::compile::Compiled;
use crate::error::{Error, Result};
use crate::project::profiles::Target;
use crate::project::{Materialization, Project};
use crate::render::{quote_ident, Relation};

/// The `realtime:` key of a property file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealtimeSpec {
    /// The model over the raw records (a view of the one source table records arrive in).
    pub raw: String,
    /// The columns that identify a raw record.
    pub key: Vec<String>,
    /// The model and column that group records into one conversation.
    pub conversation: Grouping,
    /// The models kept current, each with the key its rows are replaced by.
    pub models: Vec<RealtimeModel>,
    /// Where a record that cannot be enriched goes, with the reason.
    pub quarantine: Grouping,
    /// Rules fired on newly enriched rows.
    #[serde(default)]
    pub alerts: Vec<alerts::AlertRule>,
}

/// A model and one of its columns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grouping {
    /// The model.
    pub model: String,
    /// The column.
    pub column: String,
}

/// One model kept current.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealtimeModel {
    /// The model.
    pub name: String,
    /// The columns whose stored rows an arrival's rows replace (an incremental model's
    /// `unique_key` when left out).
    #[serde(default)]
    pub key: Vec<String>,
}

/// One model of the chain, compiled for an arrival.
#[derive(Debug, Clone)]
pub struct Step {
    /// The model.
    pub name: String,
    /// Its stored relation.
    pub stored: Relation,
    /// Where an arrival's rows of it are kept while the chain runs.
    pub scoped: Relation,
    /// Its SQL, reading the arrival's rows of the chain models before it.
    pub sql: String,
    /// The columns whose stored rows its rows replace.
    pub key: Vec<String>,
    /// Its `event_time` column, if configured (alert rules that look back an hour read by it).
    pub event_time: Option<String>,
}

/// Where an engine keeps an arrival's relations while the chain runs.
pub trait Scope {
    /// The relation holding the arrival's rows of `name`.
    fn relation(&self, name: &str) -> Relation;
}

/// The chain of one project, compiled for an engine.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The source table records arrive in.
    pub source: Relation,
    /// The columns that identify a raw record.
    pub key: Vec<String>,
    /// The raw model's SQL, reading [`Chain::records`] instead of the source table.
    pub raw: Step,
    /// The new records of an arrival (the engine fills it).
    pub new: Relation,
    /// The records an arrival reads: the new ones and the earlier ones of their conversations.
    pub records: Relation,
    /// The keys of the earlier records of the conversations an arrival continues.
    pub earlier: Relation,
    /// The models kept current, in build order.
    pub steps: Vec<Step>,
    /// The index in `steps` of the model that groups records into conversations.
    pub grouping: usize,
    /// The grouping column.
    pub group_column: String,
    /// The quarantine model's stored relation and its reason column.
    pub quarantine: (Relation, String),
    /// The alert rules, rendered.
    pub alerts: Vec<alerts::Alert>,
    /// The relation alerts are written to.
    pub alerts_relation: Relation,
}

/// One statement of an arrival's processing.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Keep the rows of `sql` as `relation` (replacing what it held).
    Create {
        /// The arrival's relation.
        relation: Relation,
        /// What it holds.
        sql: String,
    },
    /// Replace the rows of `stored` whose `key` is among `scoped`'s with `scoped`'s rows.
    Merge {
        /// The stored model.
        stored: Relation,
        /// The arrival's rows of it.
        scoped: Relation,
        /// The key columns.
        key: Vec<String>,
    },
    /// Add the firings of an alert rule to the alerts relation (folding repeats).
    Alert(alerts::Alert),
}

impl Chain {
    /// The chain of `project` (its `realtime:`) from `compiled`, a compile on `target` whose
    /// chain models already exist, with the arrival's relations where `scope` keeps them.
    pub fn new(project: &Project, target: &Target, compiled: &Compiled, scope: &dyn Scope) -> Result<Self> {
        let (file, spec) = spec(project)?;
        let fail = |message: String| Error::Project(format!("{}: realtime: {message}", file.display()));
        let model = |name: &str| {
            compiled.models.iter().find(|m| m.name == name).ok_or_else(|| fail(format!("no enabled model '{name}'")))
        };
        let raw = model(&spec.raw)?;
        let source = source(project, compiled)?;
        let records = scope.relation("__records");
        let mut replaced: Vec<(String, String)> =
            vec![(raw.relation.to_string(), scope.relation(&raw.name).to_string())];
        if !raw.sql.contains(&source.to_string()) {
            return Err(fail(format!(
                "raw model '{}' must name its source as source() renders it ({source})",
                raw.name
            )));
        }
        let raw_step = Step {
            name: raw.name.clone(),
            stored: raw.relation.clone(),
            scoped: scope.relation(&raw.name),
            sql: raw.sql.replace(&source.to_string(), &records.to_string()),
            key: spec.key.clone(),
            event_time: raw.config.event_time.clone(),
        };
        for wanted in &spec.models {
            model(&wanted.name)?;
        }
        let mut steps = Vec::new();
        for compiled_model in &compiled.models {
            let Some(wanted) = spec.models.iter().find(|c| c.name == compiled_model.name) else { continue };
            let name = &compiled_model.name;
            let key = match (compiled_model.config.materialized, wanted.key.is_empty()) {
                (Materialization::Incremental, true) => compiled_model.config.unique_key.clone(),
                (Materialization::Table | Materialization::Incremental, _) => wanted.key.clone(),
                (other, _) => {
                    return Err(fail(format!(
                        "model '{name}' is materialized as {}: only tables and incremental models are kept current",
                        other.as_str()
                    )))
                }
            };
            if key.is_empty() {
                return Err(fail(format!("model '{name}' needs a key: the columns its rows are replaced by")));
            }
            if compiled_model.config.materialized == Materialization::Incremental && !compiled_model.incremental {
                return Err(Error::Project(format!(
                    "{} does not exist yet: build the project once (convlytics build) before it runs in real time",
                    compiled_model.relation
                )));
            }
            let mut sql = compiled_model.sql.clone();
            for (stored, scoped) in &replaced {
                sql = sql.replace(stored, scoped);
            }
            let scoped = scope.relation(name);
            // An incremental model reads and merges into its stored table, as a batch run does;
            // later models read that table, already merged.
            if compiled_model.config.materialized == Materialization::Table {
                replaced.push((compiled_model.relation.to_string(), scoped.to_string()));
            }
            steps.push(Step {
                name: name.clone(),
                stored: compiled_model.relation.clone(),
                scoped,
                sql,
                key,
                event_time: compiled_model.config.event_time.clone(),
            });
        }
        let grouping = steps
            .iter()
            .position(|s| s.name == spec.conversation.model)
            .ok_or_else(|| fail(format!("conversation.model '{}' is not among models:", spec.conversation.model)))?;
        let quarantine = model(&spec.quarantine.model)?.relation.clone();
        let alerts_relation = Relation { schema: raw.relation.schema.clone(), identifier: alerts::ALERTS.into() };
        let renderer = crate::render::Renderer::new(project, target.clone(), &compiled.options)?;
        let origin = project.realtime.as_ref().map(|(f, _)| f.clone()).unwrap_or_default();
        let alerts = spec
            .alerts
            .iter()
            .map(|rule| {
                let step = steps.iter().find(|s| s.name == rule.model).ok_or_else(|| {
                    fail(format!("alert '{}': model '{}' is not among models:", rule.name, rule.model))
                })?;
                alerts::Alert::new(&renderer, &origin, rule, step, &alerts_relation)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            source,
            key: spec.key.clone(),
            raw: raw_step,
            new: scope.relation("__new"),
            records,
            earlier: scope.relation("__earlier"),
            steps,
            grouping,
            group_column: spec.conversation.column.clone(),
            quarantine: (quarantine, spec.quarantine.column.clone()),
            alerts,
            alerts_relation,
        })
    }

    /// What one arrival runs, once [`Chain::new`] holds its new records: the models up to the
    /// grouping one on the new records, to find their conversations; then every model on the new
    /// records and the earlier ones of those conversations, each merged into its stored table;
    /// then the alert rules.
    pub fn plan(&self) -> Vec<Action> {
        let grouping = &self.steps[self.grouping];
        let column = quote_ident(&self.group_column);
        let matches = |a: &str, b: &str| {
            self.key.iter().map(|k| format!("{a}.{k} = {b}.{k}", k = quote_ident(k))).collect::<Vec<_>>().join(" and ")
        };
        let mut actions =
            vec![Action::Create { relation: self.records.clone(), sql: format!("select * from {}", self.new) }];
        actions.push(Action::Create { relation: self.raw.scoped.clone(), sql: self.raw.sql.clone() });
        for step in &self.steps[..=self.grouping] {
            actions.push(Action::Create { relation: step.scoped.clone(), sql: step.sql.clone() });
        }
        // The records of those conversations stored before: read again with the new ones.
        actions.push(Action::Create {
            relation: self.earlier.clone(),
            sql: format!(
                "select distinct {keys} from {stored} where {column} in (select {column} from {scoped})",
                keys = self.key.iter().map(|k| format!("g.{}", quote_ident(k))).collect::<Vec<_>>().join(", "),
                stored = format_args!("{} as g", grouping.stored),
                scoped = grouping.scoped,
            ),
        });
        actions.push(Action::Create {
            relation: self.records.clone(),
            sql: format!(
                "select n.* from {new} as n
                 union all
                 select s.* from {source} as s
                 where exists (select 1 from {earlier} as e where {earlier_match})
                   and not exists (select 1 from {new} as n where {new_match})",
                new = self.new,
                source = self.source,
                earlier = self.earlier,
                earlier_match = matches("e", "s"),
                new_match = matches("n", "s"),
            ),
        });
        actions.push(Action::Create { relation: self.raw.scoped.clone(), sql: self.raw.sql.clone() });
        for step in &self.steps {
            actions.push(Action::Create { relation: step.scoped.clone(), sql: step.sql.clone() });
            actions.push(Action::Merge {
                stored: step.stored.clone(),
                scoped: step.scoped.clone(),
                key: step.key.clone(),
            });
        }
        actions.extend(self.alerts.iter().cloned().map(Action::Alert));
        actions
    }
}

/// The project's `realtime:` block and its file, or an error saying it has none.
pub fn spec(project: &Project) -> Result<(&std::path::Path, &RealtimeSpec)> {
    let (file, spec) = project
        .realtime
        .as_ref()
        .ok_or_else(|| Error::Project("the project declares no `realtime:` (docs/realtime.md)".into()))?;
    Ok((file.as_path(), spec))
}

/// The source table records arrive in: the one the project's `realtime: raw:` model reads.
pub fn source(project: &Project, compiled: &Compiled) -> Result<Relation> {
    let (file, spec) = spec(project)?;
    let fail = |message: String| Error::Project(format!("{}: realtime: {message}", file.display()));
    let raw = compiled
        .models
        .iter()
        .find(|m| m.name == spec.raw)
        .ok_or_else(|| fail(format!("no enabled model '{}'", spec.raw)))?;
    let [key] = raw.sources.iter().collect::<Vec<_>>()[..] else {
        return Err(fail(format!("raw model '{}' must read exactly one source table", raw.name)));
    };
    let table = &project.sources[key];
    Ok(Relation { schema: table.schema.clone(), identifier: table.identifier.clone() })
}

/// The realtime spec of a project, with the file that declares it; a second one is an error.
pub fn declare(slot: &mut Option<(PathBuf, RealtimeSpec)>, file: &std::path::Path, spec: RealtimeSpec) -> Result<()> {
    if let Some((first, _)) = slot {
        return Err(Error::Project(format!(
            "{}: realtime: is declared twice (also in {}): a project has one",
            file.display(),
            first.display()
        )));
    }
    *slot = Some((file.to_path_buf(), spec));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{compile, CompileOptions};

    /// A project: a source, a raw view, a grouping table, an incremental model reading it and a
    /// table reading both; `realtime` is its `realtime:` block.
    fn project(realtime: &str) -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = [
            ("dbt_project.yml", "name: rt\nprofile: rt\n"),
            (
                "models/sources.yml",
                "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: records\n",
            ),
            ("models/raw_records.sql", "{{ config(materialized='view') }}\nselect source, id, body from {{ source('raw', 'records') }}"),
            (
                "models/threads.sql",
                "{{ config(materialized='table') }}\nselect source, id, upper(body) as thread from {{ ref('raw_records') }}",
            ),
            (
                "models/labels.sql",
                "{{ config(materialized='incremental', unique_key='thread') }}\nselect thread, count(*) as n from {{ ref('threads') }}\n{% if is_incremental() %}where thread not in (select thread from {{ this }}){% endif %}\ngroup by thread",
            ),
            (
                "models/summary.sql",
                "{{ config(materialized='table') }}\nselect t.thread, l.n from {{ ref('threads') }} t join {{ ref('labels') }} l on l.thread = t.thread",
            ),
            ("models/realtime.yml", realtime),
        ];
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let project = Project::load(dir.path()).expect("load");
        (dir, project)
    }

    const SPEC: &str = "version: 2
realtime:
  raw: raw_records
  key: [source, id]
  conversation: {model: threads, column: thread}
  models:
    - {name: summary, key: [thread]}
    - {name: labels}
    - {name: threads, key: [source, id]}
  quarantine: {model: threads, column: thread}
  alerts:
    - {name: big, model: labels, where: 'n > {{ var(\"big\", 2) }}', detail: thread}
";

    struct Test;

    impl Scope for Test {
        fn relation(&self, name: &str) -> Relation {
            Relation { schema: "rt".into(), identifier: name.to_owned() }
        }
    }

    fn chain(spec: &str, built: bool) -> Result<Chain> {
        let (_dir, project) = project(spec);
        let target = Target::embedded("dev", "analytics");
        let existing = match built {
            true => {
                ["raw_records", "threads", "labels", "summary"].map(|m| ("analytics".to_owned(), m.to_owned())).into()
            }
            false => Default::default(),
        };
        let compiled = compile(&project, &target, &CompileOptions { existing, ..CompileOptions::default() })?;
        Chain::new(&project, &target, &compiled, &Test)
    }

    #[test]
    fn the_chain_reads_the_arrival_and_merges_incremental_models_as_a_run_does() {
        let chain = chain(SPEC, true).expect("chain");
        let names: Vec<&str> = chain.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["threads", "labels", "summary"], "build order, whatever the YAML's");
        assert_eq!(chain.source.to_string(), "\"raw\".\"records\"");
        assert!(chain.raw.sql.contains("from \"rt\".\"__records\""), "{}", chain.raw.sql);
        let [threads, labels, summary] = &chain.steps[..] else { panic!("three steps") };
        assert!(threads.sql.contains("from \"rt\".\"raw_records\""), "{}", threads.sql);
        // An incremental model reads the arrival's rows of a table model, and its stored self.
        assert!(labels.sql.contains("from \"rt\".\"threads\"") && labels.sql.contains("from \"analytics\".\"labels\""));
        assert_eq!(labels.key, ["thread"], "its unique_key");
        // Later models read an incremental model stored (merged), a table model's arrival rows.
        assert!(summary.sql.contains("\"rt\".\"threads\" t join \"analytics\".\"labels\" l"), "{}", summary.sql);
        assert_eq!(chain.alerts[0].condition, "n > 2", "Jinja rendered");

        let plan = chain.plan();
        let creates: Vec<String> = plan
            .iter()
            .map(|a| match a {
                Action::Create { relation, .. } => format!("create {}", relation.identifier),
                Action::Merge { stored, .. } => format!("merge {}", stored.identifier),
                Action::Alert(a) => format!("alert {}", a.rule),
            })
            .collect();
        assert_eq!(
            creates,
            [
                "create __records",
                "create raw_records",
                "create threads",
                "create __earlier",
                "create __records",
                "create raw_records",
                "create threads",
                "merge threads",
                "create labels",
                "merge labels",
                "create summary",
                "merge summary",
                "alert big",
            ]
        );
        let Action::Create { sql: earlier, .. } = &plan[3] else { panic!("earlier records") };
        assert!(
            earlier.contains(
                "from \"analytics\".\"threads\" as g where \"thread\" in (select \"thread\" from \"rt\".\"threads\")"
            ),
            "{earlier}"
        );
    }

    #[test]
    fn a_chain_that_cannot_run_says_why() {
        let fail = |spec: &str, built: bool| chain(spec, built).expect_err("refused").to_string();
        assert!(fail(SPEC, false).contains("\"analytics\".\"labels\" does not exist yet: build the project once"));
        let view = SPEC.replace("{name: threads, key: [source, id]}", "{name: raw_records, key: [id]}");
        assert!(fail(&view, true).contains("model 'raw_records' is materialized as view"), "{}", fail(&view, true));
        let keyless = SPEC.replace("{name: summary, key: [thread]}", "{name: summary}");
        assert!(fail(&keyless, true).contains("model 'summary' needs a key"));
        let grouping = SPEC.replace("{model: threads, column: thread}", "{model: labelz, column: thread}");
        assert!(fail(&grouping, true).contains("conversation.model 'labelz' is not among models:"));
        let unknown = SPEC.replace("{name: labels}", "{name: lables}");
        assert!(fail(&unknown, true).contains("no enabled model 'lables'"));
        let alert = SPEC.replace("model: labels, where", "model: raw_records, where");
        assert!(fail(&alert, true).contains("alert 'big': model 'raw_records' is not among models:"));
    }

    #[test]
    fn an_alert_reads_stored_models_by_ref_and_folds_by_once_per() {
        let spike = SPEC.replace(
            "detail: thread}",
            "detail: thread, once_per: \"thread || 'x'\"}\n    - {name: spike, model: labels, where: \"thread in (select thread from {{ ref('summary') }} union select thread from {{ this }})\"}",
        );
        let built = chain(&spike, true).expect("chain");
        let [big, spike] = &built.alerts[..] else { panic!("{:?}", built.alerts) };
        assert_eq!(big.once_per, "thread || 'x'");
        assert!(big.select().contains("cast((thread || 'x') as varchar) as once_per"), "{}", big.select());
        assert_eq!(spike.once_per, "n.\"conversation_id\"", "by default, once per conversation");
        assert_eq!(
            spike.condition,
            "thread in (select thread from \"analytics\".\"summary\" union select thread from \"analytics\".\"labels\")"
        );
        let unknown =
            SPEC.replace("where: 'n > {{ var(\"big\", 2) }}'", "where: \"n in (select n from {{ ref('nope') }})\"");
        let e = chain(&unknown, true).expect_err("refused").to_string();
        assert!(e.contains("nope"), "{e}");
    }

    #[test]
    fn the_realtime_block_is_checked_when_the_project_loads() {
        let load = |spec: &str| {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::write(dir.path().join("dbt_project.yml"), "name: rt\nprofile: rt\n").expect("write");
            std::fs::create_dir_all(dir.path().join("models")).expect("mkdir");
            std::fs::write(dir.path().join("models/realtime.yml"), spec).expect("write");
            Project::load(dir.path()).map(|_| ()).expect_err("refused").to_string()
        };
        let twice = SPEC.replace("detail: thread}", "detail: thread}\n    - {name: big, model: labels, where: 'true'}");
        assert!(load(&twice).contains("realtime: alert 'big' is declared twice"), "{}", load(&twice));
        let unknown = SPEC.replace("  key: [source, id]", "  keys: [source, id]");
        assert!(load(&unknown).contains("keys"), "{}", load(&unknown));
        let severity = SPEC.replace("detail: thread}", "detail: thread, severity: loud}");
        let (_dir, project) = project(&severity);
        let target = Target::embedded("dev", "analytics");
        let existing =
            ["raw_records", "threads", "labels", "summary"].map(|m| ("analytics".to_owned(), m.to_owned())).into();
        let compiled =
            compile(&project, &target, &CompileOptions { existing, ..CompileOptions::default() }).expect("compile");
        let e = Chain::new(&project, &target, &compiled, &Test).expect_err("refused").to_string();
        assert!(e.contains("severity 'loud' is not one of info, warn, error"), "{e}");
    }
}
