//! Running the `convlytics` binary on project copies, for the end-to-end tests.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

/// Runs `convlytics args` in `dir` (no `DBT_PROFILES_DIR`): success, stdout and stderr.
pub fn convlytics(dir: &Path, args: &[impl AsRef<OsStr>]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_convlytics"))
        .args(args)
        .current_dir(dir)
        .env_remove("DBT_PROFILES_DIR")
        .output()
        .expect("run convlytics");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A temporary copy of the entries of `from` whose first path component `keep` accepts.
pub fn copy_project(from: &Path, keep: impl Fn(&str) -> bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in walkdir::WalkDir::new(from).min_depth(1) {
        let entry = entry.expect("walk");
        let rel = entry.path().strip_prefix(from).expect("under the project");
        if !keep(rel.iter().next().and_then(|c| c.to_str()).unwrap_or_default()) {
            continue;
        }
        let to = dir.path().join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &to).expect("copy");
        }
    }
    dir
}
