//! A small per-thread cache of settings compiled from JSON text, so a query that passes the
//! same settings on every row compiles them once.

use std::cell::RefCell;
use std::rc::Rc;

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
