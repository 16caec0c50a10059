//! A build is all or nothing for readers. The embedded engine's warehouse, `target/warehouse`, is
//! a symbolic link to one generation directory under `target/generations/`. A build writes a new
//! generation (starting as hard links to every file of the published one, so unchanged models
//! and incremental state cost nothing) and, when it succeeds, switches the link in one rename.
//! A failed or killed build leaves the previous generation published and whole; the next build
//! removes what it left. One build of a project runs at a time: [`BuildLock`].

use std::fs::{self, File, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// The published warehouse under a target directory.
const WAREHOUSE: &str = "warehouse";
/// Where generations live under a target directory.
const GENERATIONS: &str = "generations";

/// The one build of a project that may run: an exclusive lock on `target/.build.lock`, held
/// until dropped (the operating system releases it when the process dies, however it dies).
#[derive(Debug)]
pub struct BuildLock {
    _file: File,
}

impl BuildLock {
    /// Takes the lock of the project whose target directory is `target`; when another build
    /// holds it, an error says which process and since when.
    pub fn acquire(target: &Path) -> Result<Self> {
        fs::create_dir_all(target).map_err(|e| Error::io(target, e))?;
        let path = target.join(".build.lock");
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() { "another process".to_owned() } else { holder.to_owned() };
                return Err(Error::Project(format!(
                    "another build of this project is running ({holder}; lock {}): wait for it to finish, or stop it",
                    path.display()
                )));
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        let started = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        file.set_len(0).map_err(|e| Error::io(&path, e))?;
        write!(file, "pid {}, started {started}", std::process::id()).map_err(|e| Error::io(&path, e))?;
        Ok(Self { _file: file })
    }
}

/// A generation being built, published by [`Generation::publish`].
#[derive(Debug)]
pub struct Generation {
    target: PathBuf,
    name: String,
}

impl Generation {
    /// Starts a new generation under `target` (whose [`BuildLock`] the caller holds): removes
    /// what failed or killed builds left, and links every file of the published warehouse into
    /// the new generation.
    pub fn start(target: &Path, _lock: &BuildLock) -> Result<Self> {
        let generations = target.join(GENERATIONS);
        fs::create_dir_all(&generations).map_err(|e| Error::io(&generations, e))?;
        let published = published(target);
        for entry in fs::read_dir(&generations).map_err(|e| Error::io(&generations, e))?.flatten() {
            if Some(entry.file_name().to_string_lossy().into_owned()) != published {
                let path = entry.path();
                fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
        // Time, process and a count within the process: unique even for two starts in one
        // millisecond.
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "{}-{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        );
        let dir = generations.join(&name);
        let current = target.join(WAREHOUSE);
        if current.is_dir() {
            link_tree(&current, &dir)?;
        } else {
            fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        Ok(Self { target: target.to_path_buf(), name })
    }

    /// The published warehouse this generation replaces when published.
    pub fn published(&self) -> PathBuf {
        self.target.join(WAREHOUSE)
    }

    /// The directory this generation's models are written to.
    pub fn dir(&self) -> PathBuf {
        self.target.join(GENERATIONS).join(&self.name)
    }

    /// Makes this generation the published warehouse in one rename of the link, and removes the
    /// generation it replaces (readers with files open keep reading them). A warehouse from
    /// before generations (a plain directory) is replaced the same way.
    pub fn publish(self) -> Result<()> {
        let warehouse = self.target.join(WAREHOUSE);
        let previous = published(&self.target);
        let next = self.target.join(".warehouse.next");
        let _ = fs::remove_file(&next);
        std::os::unix::fs::symlink(Path::new(GENERATIONS).join(&self.name), &next).map_err(|e| Error::io(&next, e))?;
        let plain_dir = fs::symlink_metadata(&warehouse).is_ok_and(|m| m.is_dir());
        if plain_dir {
            let aside = self.target.join(GENERATIONS).join(format!("{}-before", self.name));
            fs::rename(&warehouse, &aside).map_err(|e| Error::io(&warehouse, e))?;
        }
        fs::rename(&next, &warehouse).map_err(|e| Error::io(&warehouse, e))?;
        if let Some(previous) = previous {
            let path = self.target.join(GENERATIONS).join(previous);
            fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
        Ok(())
    }
}

/// The generation `target/warehouse` links to, if it is a link.
fn published(target: &Path) -> Option<String> {
    let link = fs::read_link(target.join(WAREHOUSE)).ok()?;
    link.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// Recreates the directories of `from` under `to`, every file a hard link to the original
/// (files a build writes are written aside and renamed, never changed in place). Files left
/// half-written (`*.building`) are not carried over.
fn link_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    for entry in fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let (source, dest) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().map_err(|e| Error::io(&source, e))?;
        if kind.is_dir() {
            link_tree(&source, &dest)?;
        } else if kind.is_file() && !entry.file_name().to_string_lossy().ends_with(".building") {
            fs::hard_link(&source, &dest).map_err(|e| Error::io(&dest, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap()
    }

    #[test]
    fn readers_see_the_previous_generation_until_the_next_is_published() {
        let target = tempfile::tempdir().unwrap();
        let target = target.path();
        let lock = BuildLock::acquire(target).unwrap();
        let first = Generation::start(target, &lock).unwrap();
        write(&first.dir().join("analytics/a.parquet"), "a1");
        write(&first.dir().join("analytics/b.parquet"), "b1");
        first.publish().unwrap();
        let warehouse = target.join(WAREHOUSE);
        assert_eq!(read(&warehouse.join("analytics/a.parquet")), "a1");

        // A build that rewrites a (aside, then renamed, as the engine writes) and dies unpublished.
        let killed = Generation::start(target, &lock).unwrap();
        write(&killed.dir().join("analytics/.a.parquet.building"), "a2");
        fs::rename(killed.dir().join("analytics/.a.parquet.building"), killed.dir().join("analytics/a.parquet"))
            .unwrap();
        assert_eq!(read(&killed.dir().join("analytics/b.parquet")), "b1", "unchanged files are carried over");
        drop(killed);
        assert_eq!(read(&warehouse.join("analytics/a.parquet")), "a1", "the published warehouse is untouched");

        let next = Generation::start(target, &lock).unwrap();
        assert_eq!(fs::read_dir(target.join(GENERATIONS)).unwrap().count(), 2, "the killed build's generation is gone");
        write(&next.dir().join("analytics/a.parquet"), "a3");
        next.publish().unwrap();
        assert_eq!(read(&warehouse.join("analytics/a.parquet")), "a3");
        assert_eq!(read(&warehouse.join("analytics/b.parquet")), "b1");
        assert_eq!(fs::read_dir(target.join(GENERATIONS)).unwrap().count(), 1, "the replaced generation is removed");
    }

    #[test]
    fn a_warehouse_from_before_generations_is_carried_over_and_replaced() {
        let target = tempfile::tempdir().unwrap();
        let target = target.path();
        write(&target.join("warehouse/analytics/a.parquet"), "old");
        let lock = BuildLock::acquire(target).unwrap();
        let generation = Generation::start(target, &lock).unwrap();
        assert_eq!(read(&generation.dir().join("analytics/a.parquet")), "old");
        generation.publish().unwrap();
        assert!(fs::symlink_metadata(target.join(WAREHOUSE)).unwrap().file_type().is_symlink());
        assert_eq!(read(&target.join("warehouse/analytics/a.parquet")), "old");
    }

    #[test]
    fn a_second_build_of_a_project_is_refused_while_the_first_runs() {
        let target = tempfile::tempdir().unwrap();
        let first = BuildLock::acquire(target.path()).unwrap();
        let second = BuildLock::acquire(target.path()).unwrap_err().to_string();
        assert!(second.contains("another build of this project is running"), "{second}");
        assert!(second.contains(&format!("pid {}", std::process::id())), "{second}");
        drop(first);
        BuildLock::acquire(target.path()).expect("free once the first ends");
    }
}
