//! Taxonomies known by name in one session (a DataFusion `SessionContext`, a PostgreSQL backend).
//!
//! A SQL function's taxonomy argument is either such a name or a taxonomy written out as YAML or
//! JSON. Each session has its own registry, so two sessions may hold different taxonomies of the
//! same name; what is compiled from a taxonomy is cached process-wide by its content (name and
//! version), never by name alone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::{parse_one, Taxonomy};
use crate::cache::{SharedCache, TextCache};
use crate::{Error, Result};

/// The taxonomy a SQL function's argument names, with the key (`name@version`) under which
/// what is compiled from it is cached.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The taxonomy.
    pub taxonomy: Arc<Taxonomy>,
    /// `name@version`: the same content always has the same key.
    pub key: String,
}

/// The taxonomies one session knows by name.
#[derive(Debug, Default)]
pub struct Registry {
    named: Mutex<Vec<(Arc<Taxonomy>, String)>>,
    noticed_rules_only: AtomicBool,
}

/// Taxonomies parsed from the YAML text SQL passed, by that text (keyed by content).
static PARSED: SharedCache<Resolved> = SharedCache::new();

thread_local! {
    static VERSIONS: TextCache<String> = const { TextCache::new() };
}

/// Whether a taxonomy argument is a name rather than a definition: a name has no white space
/// and none of YAML's or JSON's structure characters.
pub fn is_name(argument: &str) -> bool {
    !argument.is_empty() && !argument.contains(|c: char| c.is_whitespace() || "{}[]:,#".contains(c))
}

impl Registry {
    /// An empty registry (usable in a `static`, as a PostgreSQL backend holds its own).
    pub const fn new() -> Self {
        Self { named: Mutex::new(Vec::new()), noticed_rules_only: AtomicBool::new(false) }
    }

    fn named(&self) -> std::sync::MutexGuard<'_, Vec<(Arc<Taxonomy>, String)>> {
        self.named.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes `taxonomy` known by its name (replacing one of that name); returns its version.
    pub fn register(&self, taxonomy: Taxonomy) -> String {
        let version = taxonomy.version();
        let mut named = self.named();
        named.retain(|(t, _)| t.name != taxonomy.name);
        named.push((Arc::new(taxonomy), version.clone()));
        version
    }

    /// Forgets the taxonomy registered as `name` (deleted, or its registration rolled back).
    pub fn unregister(&self, name: &str) {
        self.named().retain(|(t, _)| t.name != name);
    }

    /// The version of the taxonomy registered as `name`.
    pub fn version_of(&self, name: &str) -> Option<String> {
        self.named().iter().find(|(t, _)| t.name == name).map(|(_, v)| v.clone())
    }

    /// The names registered, in registration order.
    pub fn names(&self) -> Vec<String> {
        self.named().iter().map(|(t, _)| t.name.clone()).collect()
    }

    /// The taxonomies registered, in registration order.
    pub fn taxonomies(&self) -> Vec<Arc<Taxonomy>> {
        self.named().iter().map(|(t, _)| t.clone()).collect()
    }

    fn unknown(&self, name: &str) -> Error {
        Error::UnknownTaxonomy { name: name.to_owned(), known: self.names() }
    }

    /// The taxonomy `argument` names: a registered name, or a taxonomy's YAML or JSON (one
    /// taxonomy, or a document with exactly one), parsed once per process and text.
    pub fn resolve(&self, argument: &str) -> Result<Resolved> {
        if !is_name(argument) {
            let parsed = PARSED.get_or_build(argument, || {
                let taxonomy = parse_one(argument)?;
                let key = format!("{}@{}", taxonomy.name, taxonomy.version());
                Ok::<_, Error>(Resolved { taxonomy: Arc::new(taxonomy), key })
            })?;
            return Ok((*parsed).clone());
        }
        let named = self.named();
        let found = named.iter().find(|(t, _)| t.name == argument);
        let resolved = found.map(|(t, v)| Resolved { taxonomy: t.clone(), key: format!("{argument}@{v}") });
        drop(named);
        resolved.ok_or_else(|| self.unknown(argument))
    }

    /// The version of the taxonomy `argument` names, without compiling it.
    pub fn version(&self, argument: &str) -> Result<String> {
        if is_name(argument) {
            return self.version_of(argument).ok_or_else(|| self.unknown(argument));
        }
        let version = VERSIONS.with(|cache| cache.get_or_build(argument, |text| parse_one(text).map(|t| t.version())));
        Ok((*version?).clone())
    }

    /// True the first time it is asked in this session: whether to tell the user that
    /// classification runs on rules alone.
    pub fn first_rules_only_notice(&self) -> bool {
        !self.noticed_rules_only.swap(true, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "{name: shared, intents: [{name: a, keywords: [x]}]}";
    const OTHER: &str = "{name: shared, intents: [{name: b, keywords: [y]}]}";

    #[test]
    fn sessions_do_not_see_each_others_taxonomies() {
        let (first, second, third) = (Registry::new(), Registry::new(), Registry::new());
        let v1 = first.register(parse_one(ONE).unwrap());
        let v2 = second.register(parse_one(OTHER).unwrap());
        assert_ne!(v1, v2);
        assert_eq!(first.resolve("shared").unwrap().taxonomy.intents[0].name, "a");
        assert_eq!(second.resolve("shared").unwrap().taxonomy.intents[0].name, "b");
        assert_eq!(first.version("shared").unwrap(), v1);
        let unknown = third.resolve("shared").unwrap_err();
        assert!(
            matches!(unknown, Error::UnknownTaxonomy { ref name, ref known } if name == "shared" && known.is_empty())
        );
    }

    #[test]
    fn a_definition_needs_no_registration_and_re_registering_replaces() {
        let registry = Registry::new();
        assert_eq!(registry.resolve(ONE).unwrap().key, format!("shared@{}", parse_one(ONE).unwrap().version()));
        assert_eq!(registry.version(ONE).unwrap(), parse_one(ONE).unwrap().version());
        registry.register(parse_one(ONE).unwrap());
        registry.register(parse_one(OTHER).unwrap());
        assert_eq!(registry.names(), ["shared"]);
        assert_eq!(registry.resolve("shared").unwrap().taxonomy.intents[0].name, "b");
        assert!(registry.version("{name: t, intents: []}").unwrap_err().to_string().contains("has no labels"));
    }

    #[test]
    fn the_rules_only_notice_is_given_once_per_session() {
        let (a, b) = (Registry::new(), Registry::new());
        assert!(a.first_rules_only_notice());
        assert!(!a.first_rules_only_notice());
        assert!(b.first_rules_only_notice());
    }
}
