//! What macros ask the warehouse while compiling (`adapter.get_columns_in_relation`,
//! `run_query` of a relation, as `dbt_utils.star`, `union_relations` and `get_column_values`
//! do). Rendering stays pure: an unanswered question is recorded and answered empty; the caller
//! asks the engine (asynchronously) and renders again, until the model asks nothing new. A
//! model that asks is rendered again right before it is built, as dbt compiles a node after its
//! parents ran, so its answers are about the relations this run built.

use std::collections::BTreeMap;
use std::sync::Mutex;

use minijinja::{State, Value};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::render::Relation;

/// A question a macro asked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Question {
    /// The columns of a relation.
    Columns(Relation),
    /// The rows of a query.
    Query(String),
}

/// A query's result: column names and rows (JSON values).
pub type Rows = (Vec<String>, Vec<Vec<serde_json::Value>>);

/// The answers known so far.
#[derive(Debug, Default)]
pub struct Answers {
    columns: BTreeMap<Relation, Option<Vec<(String, String)>>>,
    queries: BTreeMap<String, Rows>,
}

/// The renderer's side of [`crate::jinja::Warehouse`]: answers what it knows, and tells `ask`
/// of every question (`None` when it was answered), for the model rendering.
pub struct Known {
    /// What is known.
    pub answers: Mutex<Answers>,
    /// Told of each question: `Some` when it could not be answered yet.
    pub ask: fn(&State, Option<Question>),
}

impl crate::jinja::Warehouse for Known {
    fn columns(
        &self,
        state: &State,
        relation: &Value,
    ) -> Result<Option<Option<Vec<(String, String)>>>, minijinja::Error> {
        let relation = relation.downcast_object_ref::<Relation>().cloned().ok_or_else(|| {
            minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("expected a relation (ref() or source()), got {relation}"),
            )
        })?;
        let known = self.answers.lock().expect("answers lock").columns.get(&relation).cloned();
        match known {
            Some(found) => {
                (self.ask)(state, None);
                Ok(Some(found))
            }
            None => {
                (self.ask)(state, Some(Question::Columns(relation)));
                Ok(None)
            }
        }
    }

    fn query(&self, state: &State, sql: &str) -> Option<Rows> {
        let known = self.answers.lock().expect("answers lock").queries.get(sql).cloned();
        (self.ask)(state, known.is_none().then(|| Question::Query(sql.to_owned())));
        known
    }
}

impl Answers {
    /// Asks `engine` each of `questions` not answered yet.
    pub async fn fetch(&mut self, engine: &Engine, questions: &[Question]) -> Result<()> {
        for question in questions {
            match question {
                Question::Columns(relation) if !self.columns.contains_key(relation) => {
                    let columns = engine.columns(relation).await?;
                    self.columns.insert(relation.clone(), columns);
                }
                Question::Query(sql) if !self.queries.contains_key(sql) => {
                    let rows = engine.query_rows(sql).await?;
                    self.queries.insert(sql.clone(), rows);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// How many times a model is rendered again for new answers before giving up (a macro whose
/// questions depend on earlier answers needs more than one).
pub const ROUNDS: usize = 8;

/// The error when a model or test still asks after [`ROUNDS`] renders.
pub fn unsettled(node: &str, questions: &[Question]) -> Error {
    Error::Project(format!(
        "{node} asked the warehouse new questions {ROUNDS} times while compiling (last: {questions:?})"
    ))
}

/// Renders models again right before they are built, for those whose macros ask the warehouse.
pub struct Refresher<'p> {
    project: &'p crate::project::Project,
    target: &'p crate::project::profiles::Target,
    compiled: &'p crate::compile::Compiled,
    renderer: crate::render::Renderer<'p>,
}

impl<'p> Refresher<'p> {
    /// A refresher for the models of `compiled`, placed where the compile placed them.
    pub fn new(
        project: &'p crate::project::Project,
        target: &'p crate::project::profiles::Target,
        compiled: &'p crate::compile::Compiled,
    ) -> Result<Self> {
        let renderer = crate::render::Renderer::new(project, target.clone(), &compiled.options)?;
        renderer.place_as(compiled.models.iter().map(|m| (m.name.clone(), m.relation.clone())));
        Ok(Self { project, target, compiled, renderer })
    }

    /// `model` rendered again, asking `engine` what its macros ask until they ask nothing new,
    /// then finished as a compile finishes it.
    pub async fn render(
        &self,
        model: &crate::render::CompiledModel,
        engine: &Engine,
    ) -> Result<crate::render::CompiledModel> {
        let source = &self.project.models[&model.name];
        let fresh = self
            .settle(&model.name, engine, || {
                self.renderer.render_model(source).map(|m| {
                    let questions = m.questions.clone();
                    (m, questions)
                })
            })
            .await?;
        crate::compile::finish_again(self.project, self.target, self.compiled, fresh)
    }

    /// `test`'s SQL rendered again, as [`Refresher::render`] renders a model.
    pub async fn render_test(&self, test: &crate::compile::CompiledTest, engine: &Engine) -> Result<String> {
        let fresh = self
            .settle(&test.name, engine, || {
                self.renderer.render_test(&test.declared_in, &test.template, &test.this).map(|t| {
                    let questions = t.questions.clone();
                    (t, questions)
                })
            })
            .await?;
        Ok(crate::compile::finish_test_again(self.compiled, &fresh))
    }

    /// What `render` gives once it asks nothing new, asking `engine` its questions between
    /// renders; `node` names it in the error when it never settles.
    async fn settle<T>(
        &self,
        node: &str,
        engine: &Engine,
        render: impl Fn() -> Result<(T, Vec<Question>)>,
    ) -> Result<T> {
        let mut asked = Vec::new();
        for _ in 0..ROUNDS {
            let (fresh, questions) = render()?;
            if questions.is_empty() {
                return Ok(fresh);
            }
            let mut answers = self.renderer.answers();
            let fetched = answers.fetch(engine, &questions).await;
            self.renderer.learn(answers);
            fetched?;
            asked = questions;
        }
        Err(unsettled(node, &asked))
    }
}
