//! A small per-thread cache of settings compiled from JSON text, so a query that passes the
//! same settings on every row compiles them once.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

/// The last few values built from text keys; the oldest goes first when full.
pub(crate) struct TextCache<T>(RefCell<Vec<(String, Rc<T>)>>);

impl<T> TextCache<T> {
    const CAPACITY: usize = 8;

    /// An empty cache (usable in `thread_local!`).
    pub(crate) const fn new() -> Self {
        Self(RefCell::new(Vec::new()))
    }

    /// The value built from `key`, building it with `build` when not cached.
    pub(crate) fn get_or_build<E>(&self, key: &str, build: impl FnOnce(&str) -> Result<T, E>) -> Result<Rc<T>, E> {
        if let Some(hit) = self.0.borrow().iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()) {
            return Ok(hit);
        }
        let built = Rc::new(build(key)?);
        let mut entries = self.0.borrow_mut();
        if entries.len() == Self::CAPACITY {
            entries.remove(0);
        }
        entries.push((key.to_string(), built.clone()));
        Ok(built)
    }
}

/// The last few values compiled in this process, shared by every thread, keyed by text (a
/// taxonomy's version, or its YAML); the oldest goes first when full.
pub(crate) struct SharedCache<T>(Mutex<Vec<(String, Arc<T>)>>);

impl<T> SharedCache<T> {
    const CAPACITY: usize = 8;

    /// An empty cache (usable in a `static`).
    pub(crate) const fn new() -> Self {
        Self(Mutex::new(Vec::new()))
    }

    /// The value cached under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<Arc<T>> {
        let entries = self.0.lock().unwrap_or_else(|p| p.into_inner());
        entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    /// Caches `value` under `key`.
    pub(crate) fn insert(&self, key: String, value: Arc<T>) {
        let mut entries = self.0.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|(k, _)| *k != key);
        if entries.len() == Self::CAPACITY {
            entries.remove(0);
        }
        entries.push((key, value));
    }

    /// The value cached under `key`, built (outside the lock) with `build` when missing.
    pub(crate) fn get_or_build<E>(&self, key: &str, build: impl FnOnce() -> Result<T, E>) -> Result<Arc<T>, E> {
        if let Some(hit) = self.get(key) {
            return Ok(hit);
        }
        let built = Arc::new(build()?);
        self.insert(key.to_owned(), built.clone());
        Ok(built)
    }
}
