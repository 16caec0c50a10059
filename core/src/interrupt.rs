//! Stopping long calls: an engine installs a check that says whether the running call should
//! stop (on PostgreSQL, a cancel, a statement timeout or a terminate request is pending), and the
//! core's long loops ask it as they go, every few milliseconds of work, returning
//! [`Error::Cancelled`]. Without an installed check nothing is ever cancelled.

use std::sync::OnceLock;

use crate::{Error, Result};

static CHECK: OnceLock<fn() -> bool> = OnceLock::new();

/// Installs `pending`, asked by long computations whether to stop; the first call wins.
pub fn install(pending: fn() -> bool) {
    let _ = CHECK.set(pending);
}

/// `Err(Error::Cancelled)` when the installed check says to stop.
pub(crate) fn poll() -> Result<()> {
    if CHECK.get().is_some_and(|pending| pending()) {
        Err(Error::Cancelled)
    } else {
        Ok(())
    }
}

/// Polls every `every`-th step of a loop, so a tight loop pays for a counter, not a check.
pub(crate) struct Every {
    every: u32,
    left: u32,
}

impl Every {
    /// A poll every `every` steps.
    pub(crate) const fn new(every: u32) -> Self {
        Self { every, left: every }
    }

    /// One step: polls when `every` steps have passed since the last poll.
    pub(crate) fn step(&mut self) -> Result<()> {
        self.left -= 1;
        if self.left == 0 {
            self.left = self.every;
            poll()
        } else {
            Ok(())
        }
    }
}
