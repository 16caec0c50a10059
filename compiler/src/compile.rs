//! Compiling a project: render every enabled model, order them, write `target/compiled/`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::dag;
use crate::error::{Error, Result};
use crate::project::profiles::Target;
use crate::project::{Project, SourceTable};
use crate::render::{CompiledModel, Renderer};

/// A compiled project: models in build order and sources with their files located.
#[derive(Debug)]
pub struct Compiled {
    /// Enabled models, each after the models it reads.
    pub models: Vec<CompiledModel>,
    /// Source tables with `external_location` rendered and made absolute.
    pub sources: Vec<(SourceTable, Option<PathBuf>)>,
}

/// Renders and orders every enabled model of `project` for `target`.
pub fn compile(project: &Project, target: &Target, vars: &BTreeMap<String, serde_yaml::Value>) -> Result<Compiled> {
    let renderer = Renderer::new(project, target.clone(), vars);
    let mut rendered = BTreeMap::new();
    for model in project.models.values() {
        let compiled = renderer.render_model(model)?;
        if compiled.config.enabled {
            rendered.insert(compiled.name.clone(), compiled);
        }
    }
    for model in rendered.values() {
        if let Some(disabled) = model.refs.iter().find(|r| !rendered.contains_key(*r)) {
            return Err(Error::Project(format!("{}: ref('{disabled}') names a disabled model", model.path.display())));
        }
    }
    let deps = rendered.iter().map(|(k, m)| (k.clone(), m.refs.clone())).collect();
    let order = dag::order(&deps)?;
    let models = order.into_iter().map(|name| rendered.remove(&name).expect("ordered model")).collect();
    let sources = locate(project, &renderer)?;
    Ok(Compiled { models, sources })
}

/// The project's source tables with their `external_location` rendered and made absolute, without
/// rendering any model (a broken model does not stop ad-hoc queries on the sources).
pub fn locate_sources(
    project: &Project,
    target: &Target,
    vars: &BTreeMap<String, serde_yaml::Value>,
) -> Result<Vec<(SourceTable, Option<PathBuf>)>> {
    locate(project, &Renderer::new(project, target.clone(), vars))
}

fn locate(project: &Project, renderer: &Renderer) -> Result<Vec<(SourceTable, Option<PathBuf>)>> {
    project
        .sources
        .values()
        .map(|table| {
            let location = match &table.external_location {
                Some(loc) => Some(project.root.join(renderer.render_str(loc, &table.declared_in)?)),
                None => None,
            };
            Ok((table.clone(), location))
        })
        .collect()
}

/// Writes each model's SQL to `target/compiled/<project>/<model path>`, as dbt does.
pub fn write_compiled(project: &Project, compiled: &Compiled) -> Result<()> {
    let base = project.target_dir().join("compiled").join(&project.config.name);
    for model in &compiled.models {
        let path = base.join(&model.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        std::fs::write(&path, &model.sql).map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}
