//! Loading a dbt-style project from disk: `dbt_project.yml`, models, property files, sources.

pub mod config;
pub mod dbt_keys;
pub mod model;
pub mod packages;
pub mod profiles;
pub mod properties;
pub mod seed;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use config::ProjectConfig;
use dbt_keys::{Scope, Verdict, Warnings};
pub use model::{Materialization, Model, ModelConfig};
pub use properties::{ColumnSpec, IdentitySpec, PiiPolicySpec, SourceTable, TranscriptSpec};
pub use seed::Seed;

use crate::data_tests::{self, DataTest, Declarations, Subject};

/// A project as read from disk, before rendering.
#[derive(Debug)]
pub struct Project {
    /// The project's root directory.
    pub root: PathBuf,
    /// `dbt_project.yml`.
    pub config: ProjectConfig,
    /// Every enabled-or-not model, by name.
    pub models: BTreeMap<String, Model>,
    /// Every declared source table, by `(source, table)`.
    pub sources: BTreeMap<(String, String), SourceTable>,
    /// Taxonomies by name, validated, with the property file that declares them.
    pub taxonomies: BTreeMap<String, (PathBuf, convlytics_core::taxonomy::Taxonomy)>,
    /// Identity-stitching settings by name, with the file that declared them.
    pub identities: BTreeMap<String, (PathBuf, IdentitySpec)>,
    /// PII policies by name, with the file that declared them.
    pub pii_policies: BTreeMap<String, (PathBuf, PiiPolicySpec)>,
    /// Transcript settings by name, with the property file that declares them.
    pub transcripts: BTreeMap<String, (PathBuf, TranscriptSpec)>,
    /// Macro files under the macro paths: path relative to the root, and text.
    pub macro_files: BTreeMap<PathBuf, String>,
    /// Every macro by name, with the file that defines it.
    pub macros: BTreeMap<String, PathBuf>,
    /// Seeds by name.
    pub seeds: BTreeMap<String, Seed>,
    /// Data tests: generic ones from property files, then singular ones from the test paths.
    pub tests: Vec<DataTest>,
    /// Roles by name, with the file that declared them.
    pub roles: BTreeMap<String, (PathBuf, crate::governance::roles::RoleSpec)>,
    /// Retention rules, with the file that declared each.
    pub retention: Vec<(PathBuf, crate::governance::retention::RetentionRule)>,
    /// Taxonomy approvals by taxonomy, with the file that declared each.
    pub approvals: BTreeMap<String, (PathBuf, crate::taxonomy::approval::Approval)>,
    /// Monitors, with the file that declared each, in declaration order.
    pub monitors: Vec<(PathBuf, crate::monitor::MonitorSpec)>,
    /// dbt keys the project uses that convlytics accepts and ignores, one line each.
    pub warnings: Warnings,
    /// Packages whose macros and generic tests the project calls (`docs/dbt.md`).
    pub packages: Vec<packages::Package>,
    /// dbt's unit tests, in declaration order.
    pub unit_tests: Vec<crate::unit_tests::UnitTest>,
    /// What runs as records arrive (`realtime:`), with the file that declares it.
    pub realtime: Option<(PathBuf, crate::realtime::RealtimeSpec)>,
}

/// A property file's model, seed and source declarations, kept until every taxonomy is known.
struct Declared {
    rel: PathBuf,
    text: String,
    models: Vec<properties::ModelSpec>,
    seeds: Vec<properties::SeedSpec>,
}

/// Adds a named declaration; a name declared twice is an error naming both files.
fn insert_named<T>(
    map: &mut BTreeMap<String, (PathBuf, T)>,
    what: &str,
    name: String,
    rel: &Path,
    spec: T,
) -> Result<()> {
    if let Some((prev, _)) = map.insert(name.clone(), (rel.to_path_buf(), spec)) {
        return Err(Error::Project(format!(
            "{}: {what} '{name}' is declared twice (also in {})",
            rel.display(),
            prev.display()
        )));
    }
    Ok(())
}

impl Project {
    /// Reads the project rooted at `root`.
    pub fn load(root: &Path) -> Result<Self> {
        let root = if root == Path::new(".") { Path::new("") } else { root };
        let config_path = root.join("dbt_project.yml");
        if !config_path.is_file() {
            return Err(Error::Project(format!(
                "{}: no dbt_project.yml here; run from a project directory or pass --project-dir",
                root.display()
            )));
        }
        let mut warnings = Warnings::default();
        let config = ProjectConfig::load(&config_path, &mut warnings)?;
        let mut project = Project {
            root: root.to_path_buf(),
            config,
            models: BTreeMap::new(),
            sources: BTreeMap::new(),
            taxonomies: BTreeMap::new(),
            identities: BTreeMap::new(),
            pii_policies: BTreeMap::new(),
            transcripts: BTreeMap::new(),
            macro_files: BTreeMap::new(),
            macros: BTreeMap::new(),
            seeds: BTreeMap::new(),
            tests: Vec::new(),
            roles: BTreeMap::new(),
            retention: Vec::new(),
            approvals: BTreeMap::new(),
            monitors: Vec::new(),
            warnings,
            packages: Vec::new(),
            unit_tests: Vec::new(),
            realtime: None,
        };
        project.packages = packages::load(root, &project.config.packages_install_path, &mut project.warnings)?;
        project.load_macros()?;
        project.load_seeds()?;
        let mut declared = Vec::new();
        for model_path in project.config.model_paths.clone() {
            let base = root.join(&model_path);
            for file in files_under(&base)? {
                let rel = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
                match file.extension().and_then(|e| e.to_str()) {
                    Some("sql") => project.add_model(&file, rel, &base)?,
                    Some("yml" | "yaml") => {
                        let props = properties::load(&file, &rel, &mut project.warnings)?;
                        check_monitors(&file, &rel, &props)?;
                        for source in &props.sources {
                            for table in source.resolve(&rel) {
                                let key = (table.source.clone(), table.name.clone());
                                if let Some(prev) = project.sources.insert(key, table) {
                                    return Err(Error::Project(format!(
                                        "{}: source '{}.{}' is declared twice (also in {})",
                                        rel.display(),
                                        prev.source,
                                        prev.name,
                                        prev.declared_in.display()
                                    )));
                                }
                            }
                        }
                        let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
                        declared.push(Declared { rel: rel.clone(), text, models: props.models, seeds: props.seeds });
                        if !props.taxonomies.is_empty() {
                            for taxonomy in properties::load_taxonomies(&file)? {
                                insert_named(
                                    &mut project.taxonomies,
                                    "taxonomy",
                                    taxonomy.name.clone(),
                                    &rel,
                                    taxonomy,
                                )?;
                            }
                        }
                        for role in props.roles {
                            role.check()
                                .map_err(|m| Error::Project(format!("{}: role '{}': {m}", rel.display(), role.name)))?;
                            insert_named(&mut project.roles, "role", role.name.clone(), &rel, role)?;
                        }
                        for rule in props.retention {
                            rule.check().map_err(|m| Error::Project(format!("{}: retention: {m}", rel.display())))?;
                            project.retention.push((rel.clone(), rule));
                        }
                        project.monitors.extend(props.monitors.into_iter().map(|m| (rel.clone(), m)));
                        if let Some(spec) = props.realtime {
                            crate::realtime::alerts::check(&spec.alerts)
                                .map_err(|m| Error::Project(format!("{}: realtime: {m}", rel.display())))?;
                            crate::realtime::declare(&mut project.realtime, &rel, spec)?;
                        }
                        let unit = props.unit_tests.into_iter();
                        project
                            .unit_tests
                            .extend(unit.map(|spec| crate::unit_tests::UnitTest { spec, declared_in: rel.clone() }));
                        for approval in props.taxonomy_approvals {
                            let name = approval.taxonomy.clone();
                            insert_named(&mut project.approvals, "taxonomy approval", name, &rel, approval)?;
                        }
                        for identity in props.identities {
                            insert_named(&mut project.identities, "identity", identity.name.clone(), &rel, identity)?;
                        }
                        for policy in props.pii_policies {
                            convlytics_core::pii::CompiledPolicy::new(policy.policy.clone()).map_err(|e| {
                                Error::Project(format!("{}: pii policy '{}': {e}", rel.display(), policy.name))
                            })?;
                            insert_named(&mut project.pii_policies, "pii policy", policy.name.clone(), &rel, policy)?;
                        }
                        for transcript in props.transcripts {
                            transcript.settings.clone().compile().map_err(|e| {
                                Error::Project(format!("{}: transcripts '{}': {e}", rel.display(), transcript.name))
                            })?;
                            insert_named(
                                &mut project.transcripts,
                                "transcripts",
                                transcript.name.clone(),
                                &rel,
                                transcript,
                            )?;
                        }
                    }
                    _ => {}
                }
            }
        }
        for d in &declared {
            project.apply_declarations(d)?;
        }
        project.add_source_tests(&declared)?;
        let mut singular = Vec::new();
        for test_path in &project.config.test_paths {
            // `<test path>/generic/` holds generic tests, read as macros (see `load_macros`).
            let generic = root.join(test_path).join("generic");
            singular.extend(files_under(&root.join(test_path))?.into_iter().filter(|f| !f.starts_with(&generic)));
        }
        project.tests.extend(data_tests::singular(root, &singular)?);
        project.check_unit_tests()?;
        data_tests::dedupe_names(&mut project.tests);
        Ok(project)
    }

    /// The intents and topics of the project's taxonomy `name`, for `taxonomy_labels` tests.
    fn taxonomy_labels(&self, name: &str) -> Option<(Vec<String>, Vec<String>)> {
        self.taxonomies.get(name).map(|(_, t)| {
            (t.intents.iter().map(|l| l.name.clone()).collect(), t.topics.iter().map(|l| l.name.clone()).collect())
        })
    }

    /// Each unit test names a model of the project, and one name is used once.
    fn check_unit_tests(&self) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for test in &self.unit_tests {
            let text = std::fs::read_to_string(self.root.join(&test.declared_in)).unwrap_or_default();
            let line = text.lines().position(|l| l.contains(&test.spec.name)).map_or(0, |i| i + 1);
            let problem = if seen.insert(test.spec.name.clone()) {
                test.check(self).err()
            } else {
                Some("the name is used by another unit test".into())
            };
            if let Some(message) = problem {
                return Err(Error::Yaml {
                    path: test.declared_in.clone(),
                    line,
                    column: 0,
                    message: format!("unit test '{}': {message}", test.spec.name),
                });
            }
        }
        Ok(())
    }

    /// The macro a generic test named `kind` in YAML calls, when the project (`kind`) or a
    /// package (`package.kind`) defines it with `{% test %}`.
    fn generic_test(&self, kind: &str) -> Option<String> {
        match kind.split_once('.') {
            None => self.macros.contains_key(&format!("test_{kind}")).then(|| format!("test_{kind}")),
            Some((package, name)) if package == self.config.name => {
                self.macros.contains_key(&format!("test_{name}")).then(|| format!("{package}.test_{name}"))
            }
            Some((package, name)) => {
                let found = self.packages.iter().find(|p| p.name == package)?;
                found.defines(&format!("test_{name}")).then(|| format!("{package}.test_{name}"))
            }
        }
    }

    /// Applies one property file's model and seed documentation and collects their tests.
    fn apply_declarations(&mut self, d: &Declared) -> Result<()> {
        // As dbt does, a property of a model that does not exist is a warning, and is not used.
        let absent: Vec<&String> = d.models.iter().map(|s| &s.name).filter(|n| !self.models.contains_key(*n)).collect();
        for name in absent {
            self.warnings.note(&d.rel, format!("documents model '{name}', which is not in this project: ignored"));
        }
        let labels = |name: &str| self.taxonomy_labels(name);
        let generic = |kind: &str| self.generic_test(kind);
        let decl = Declarations { file: &d.rel, text: &d.text, taxonomies: &labels, generic: &generic };
        let models: Vec<&properties::ModelSpec> =
            d.models.iter().filter(|s| self.models.contains_key(&s.name)).collect();
        let documented = models.iter().map(|m| (&m.name, &m.data_tests, &m.columns));
        let documented = documented.chain(d.seeds.iter().map(|s| (&s.name, &s.data_tests, &s.columns)));
        let mut tests = Vec::new();
        for (name, own, columns) in documented {
            let subject = Subject::Model(name.clone());
            tests.extend(decl.tests(&subject, None, own)?);
            for column in columns {
                tests.extend(decl.tests(&subject, Some(&column.name), &column.data_tests)?);
            }
        }
        for spec in models {
            let model = self.models.get_mut(&spec.name).expect("checked above");
            let config = spec.config.iter().filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.clone())));
            let read = config.filter(|(k, _)| Scope::ModelConfig.judge(k) == Verdict::Supported);
            model.settings.extend(read);
            model.description = spec.description.clone();
            model.columns = spec.columns.clone();
            model.contracts = spec.contracts.clone();
        }
        for spec in &d.seeds {
            let seed = self.seeds.get_mut(&spec.name).ok_or_else(|| {
                Error::Project(format!("{}: documents seed '{}', which has no CSV file", d.rel.display(), spec.name))
            })?;
            for (key, value) in &spec.config {
                let key = key.as_str().unwrap_or_default();
                if Scope::SeedConfig.judge(key) != Verdict::Supported {
                    continue;
                }
                seed.set(key, value)
                    .map_err(|m| Error::Project(format!("{}: seed '{}': {m}", d.rel.display(), spec.name)))?;
            }
            seed.description = spec.description.clone();
            seed.columns = spec.columns.clone();
        }
        self.tests.extend(tests);
        Ok(())
    }

    /// The tests declared on source tables and their columns.
    fn add_source_tests(&mut self, declared: &[Declared]) -> Result<()> {
        let labels = |name: &str| self.taxonomy_labels(name);
        let mut tests = Vec::new();
        for table in self.sources.values() {
            let Some(d) = declared.iter().find(|d| d.rel == table.declared_in) else { continue };
            let generic = |kind: &str| self.generic_test(kind);
            let decl = Declarations { file: &d.rel, text: &d.text, taxonomies: &labels, generic: &generic };
            let subject = Subject::Source(table.source.clone(), table.name.clone());
            tests.extend(decl.tests(&subject, None, &table.data_tests)?);
            for column in &table.columns {
                tests.extend(decl.tests(&subject, Some(&column.name), &column.data_tests)?);
            }
        }
        self.tests.extend(tests);
        Ok(())
    }

    /// Finds every `.csv` under the seed paths, with the seed configs of `dbt_project.yml`.
    fn load_seeds(&mut self) -> Result<()> {
        for seed_path in self.config.seed_paths.clone() {
            let base = self.root.join(&seed_path);
            for file in files_under(&base)? {
                if file.extension().is_none_or(|e| e != "csv") {
                    continue;
                }
                let rel = file.strip_prefix(&self.root).unwrap_or(&file).to_path_buf();
                let name = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
                let mut folders = folders_below(&file, &base);
                folders.push(name.clone());
                let mut seed = Seed {
                    name: name.clone(),
                    path: rel.clone(),
                    column_types: BTreeMap::new(),
                    tags: Vec::new(),
                    enabled: true,
                    delimiter: b',',
                    description: None,
                    columns: Vec::new(),
                    templated: Vec::new(),
                };
                for (key, value) in self.config.seed_settings(&folders, &rel)? {
                    seed.set(&key, &value).map_err(|m| {
                        Error::Project(format!("dbt_project.yml, seeds config for {}: {m}", rel.display()))
                    })?;
                }
                if let Some(prev) = self.seeds.insert(name.clone(), seed) {
                    return Err(Error::Project(format!(
                        "two seeds are named '{name}': {} and {}",
                        prev.path.display(),
                        rel.display()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Reads every `.sql` file under the macro paths (and the generic tests under
    /// `<test path>/generic/`, as dbt does) and the names of the macros it defines.
    fn load_macros(&mut self) -> Result<()> {
        let generic_tests = self.config.test_paths.iter().map(|t| format!("{t}/generic"));
        for macro_path in self.config.macro_paths.clone().into_iter().chain(generic_tests) {
            for file in files_under(&self.root.join(&macro_path))? {
                if file.extension().is_none_or(|e| e != "sql") {
                    continue;
                }
                let rel = file.strip_prefix(&self.root).unwrap_or(&file).to_path_buf();
                let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
                for name in crate::jinja::macro_names(&text) {
                    if let Some(prev) = self.macros.insert(name.clone(), rel.clone()) {
                        return Err(Error::Project(format!(
                            "{}: macro '{name}' is defined twice (also in {})",
                            rel.display(),
                            prev.display()
                        )));
                    }
                }
                self.macro_files.insert(rel, text);
            }
        }
        Ok(())
    }

    fn add_model(&mut self, file: &Path, rel: PathBuf, base: &Path) -> Result<()> {
        let name = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        let folders = folders_below(file, base);
        let raw_sql = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
        let settings = self.config.model_settings(&folders, &rel)?;
        if let Some(seed) = self.seeds.get(&name) {
            return Err(Error::Project(format!(
                "a model and a seed are both named '{name}': {} and {}",
                rel.display(),
                seed.path.display()
            )));
        }
        let model = Model {
            name: name.clone(),
            path: rel,
            raw_sql,
            settings,
            description: None,
            columns: Vec::new(),
            contracts: Vec::new(),
        };
        if let Some(prev) = self.models.insert(name.clone(), model) {
            return Err(Error::Project(format!(
                "two models are named '{name}': {} and {}",
                prev.path.display(),
                file.display()
            )));
        }
        Ok(())
    }

    /// The profile to read from `profiles.yml`.
    pub fn profile_name(&self) -> &str {
        self.config.profile.as_deref().unwrap_or(&self.config.name)
    }

    /// Writes `value` as pretty JSON to `file` in the target directory (an artefact such as
    /// `manifest.json`): aside, then renamed, so a reader never sees half of it.
    pub fn write_artefact(&self, file: &str, value: &impl serde::Serialize) -> Result<()> {
        let dir = self.target_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let (path, aside) = (dir.join(file), dir.join(format!(".{file}.writing")));
        let json = serde_json::to_string_pretty(value).expect("artefacts serialize");
        std::fs::write(&aside, json).map_err(|e| Error::io(&aside, e))?;
        std::fs::rename(&aside, &path).map_err(|e| Error::io(&path, e))
    }

    /// The target directory (`target/` unless `target-path` says otherwise).
    pub fn target_dir(&self) -> PathBuf {
        self.root.join(&self.config.target_path)
    }
}

/// The folders of `file` below `base`, outermost first (a path's folder configs apply by them).
fn folders_below(file: &Path, base: &Path) -> Vec<String> {
    file.parent()
        .and_then(|p| p.strip_prefix(base).ok())
        .map(|p| p.iter().map(|c| c.to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

/// Every file below `dir`, sorted, skipping hidden entries; a missing `dir` has none.
pub(crate) fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(dir).sort_by_file_name().into_iter();
    for entry in walker.filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            Error::io(path, e.into())
        })?;
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

/// Checks a property file's monitors and source contracts; a problem is an error at the line of
/// the monitor (or `contract:`) at fault.
fn check_monitors(file: &Path, rel: &Path, props: &properties::PropertiesFile) -> Result<()> {
    let contracts = props
        .sources
        .iter()
        .flat_map(|s| s.tables.iter())
        .filter_map(|t| t.contract.as_ref())
        .chain(props.models.iter().flat_map(|m| m.contracts.iter()));
    let problems = props
        .monitors
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.check().err().map(|e| (("monitors:", i), format!("monitor {}: {e}", m.display_name()))))
        .chain(contracts.enumerate().filter_map(|(i, c)| c.check().err().map(|e| (("contract:", i), e))))
        .next();
    let Some(((key, index), message)) = problems else { return Ok(()) };
    let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
    let (line, column) = item_position(&text, key, index);
    Err(Error::Yaml { path: rel.to_path_buf(), line, column, message })
}

/// The 1-based line and column of the `index`th item under the (first) `key` of a YAML text, or
/// of the `index`th `key` when its value is a mapping; `(0, 0)` when not found.
fn item_position(text: &str, key: &str, index: usize) -> (usize, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let keyed: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].trim_start().starts_with(key)).collect();
    if key != "monitors:" {
        return keyed.get(index).map_or((0, 0), |&i| (i + 1, lines[i].len() - lines[i].trim_start().len() + 1));
    }
    let indent = |i: usize| lines[i].len() - lines[i].trim_start().len();
    let Some(&start) = keyed.first() else { return (0, 0) };
    let items: Vec<usize> = (start + 1..lines.len()).filter(|&i| lines[i].trim_start().starts_with("- ")).collect();
    let Some(&first) = items.first() else { return (0, 0) };
    items.into_iter().filter(|&i| indent(i) == indent(first)).nth(index).map_or((0, 0), |i| (i + 1, indent(i) + 1))
}
