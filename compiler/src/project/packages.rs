//! Packages: those `packages.yml` (or `dependencies.yml`) names, `local:` ones read where they
//! are, and every package already installed under `packages-install-path` (`dbt_packages/`,
//! as `dbt deps` leaves them; convlytics downloads nothing). A package gives its macros and
//! generic tests, called as `package.macro(...)`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::project::dbt_keys::{Scope, Warnings};

/// One package's macros.
#[derive(Debug, Clone)]
pub struct Package {
    /// The package's name (its `dbt_project.yml` `name:`), the namespace of its macros.
    pub name: String,
    /// Its macro files: a path naming each (relative to the project root when inside it), and
    /// its text.
    pub macro_files: BTreeMap<PathBuf, String>,
    /// The macros (and `test_` generic tests) its files define.
    pub macros: std::collections::BTreeSet<String>,
}

#[derive(Debug, Deserialize)]
struct PackagesFile {
    #[serde(default)]
    packages: Vec<serde_yaml::Value>,
}

/// The part of a package's `dbt_project.yml` convlytics reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PackageProject {
    name: String,
    #[serde(default = "crate::project::config::default_macro_paths")]
    macro_paths: Vec<String>,
    #[serde(default = "crate::project::config::default_model_paths")]
    model_paths: Vec<String>,
    #[serde(default = "crate::project::config::default_test_paths")]
    test_paths: Vec<String>,
}

impl Package {
    /// Whether one of its macro files defines the macro (or `test_` generic test) `name`.
    pub fn defines(&self, name: &str) -> bool {
        self.macros.contains(name)
    }
}

/// The packages of the project at `root`, installed ones first, then `local:` ones.
pub fn load(root: &Path, install_path: &str, warnings: &mut Warnings) -> Result<Vec<Package>> {
    let installed_dir = root.join(install_path);
    let mut packages: BTreeMap<String, Package> = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(&installed_dir) {
        let mut dirs: Vec<PathBuf> =
            entries.flatten().map(|e| e.path()).filter(|p| p.join("dbt_project.yml").is_file()).collect();
        dirs.sort();
        for dir in dirs {
            let package = read(root, &dir, warnings)?;
            packages.insert(package.name.clone(), package);
        }
    }
    let Some(file) = ["packages.yml", "dependencies.yml"].iter().map(|f| root.join(f)).find(|p| p.is_file()) else {
        return Ok(packages.into_values().collect());
    };
    let rel = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
    let declared: PackagesFile = serde_yaml::from_str(&text).map_err(|e| Error::yaml(&file, &e))?;
    for entry in &declared.packages {
        let key = |k: &str| entry.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        if let Some(local) = key("local") {
            let dir = root.join(&local);
            if !dir.join("dbt_project.yml").is_file() {
                return Err(Error::Project(format!(
                    "{}: local package '{local}' has no dbt_project.yml at {}",
                    rel.display(),
                    dir.display()
                )));
            }
            let package = read(root, &dir, warnings)?;
            packages.insert(package.name.clone(), package);
        } else if let Some(hub) = key("package") {
            let name = hub.rsplit('/').next().unwrap_or(&hub).to_owned();
            if !packages.contains_key(&name) {
                return Err(Error::Project(format!(
                    "{}: package '{hub}' is not installed under {install_path}/ (convlytics downloads nothing: run \
                     `dbt deps`, or copy the package there, or declare it as `local:`)",
                    rel.display()
                )));
            }
        } else if key("git").is_none() && key("tarball").is_none() && key("private").is_none() {
            return Err(Error::Project(format!(
                "{}: a package entry needs one of local, package, git, tarball or private",
                rel.display()
            )));
        }
    }
    Ok(packages.into_values().collect())
}

/// Reads the package in `dir`: its name and macro files.
fn read(root: &Path, dir: &Path, warnings: &mut Warnings) -> Result<Package> {
    let config = dir.join("dbt_project.yml");
    let text = std::fs::read_to_string(&config).map_err(|e| Error::io(&config, e))?;
    let project: PackageProject = serde_yaml::from_str(&text).map_err(|e| Error::yaml(&config, &e))?;
    let name_of = |path: &Path| path.strip_prefix(root).map(Path::to_path_buf).unwrap_or_else(|_| path.to_path_buf());
    let mut macro_files = BTreeMap::new();
    let generic_tests = project.test_paths.iter().map(|t| format!("{t}/generic"));
    for macro_path in project.macro_paths.iter().cloned().chain(generic_tests) {
        for file in crate::project::files_under(&dir.join(macro_path))? {
            if file.extension().is_some_and(|e| e == "sql") {
                let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
                macro_files.insert(name_of(&file), text);
            }
        }
    }
    for model_path in &project.model_paths {
        let models = crate::project::files_under(&dir.join(model_path))?;
        if models.iter().any(|f| f.extension().is_some_and(|e| e == "sql")) {
            warnings.ignored(
                &name_of(&config),
                Scope::Project,
                "models (of a package: only its macros and tests are used)",
            );
        }
    }
    let macros = macro_files.values().flat_map(|text| crate::jinja::macro_names(text)).collect();
    Ok(Package { name: project.name, macro_files, macros })
}
