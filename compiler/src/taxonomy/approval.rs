//! Approved taxonomies: a `taxonomy_approvals:` entry in a property file names a taxonomy, the
//! version that was approved and the diff report it was approved on (with the report's
//! SHA-256). The compile refuses a project whose approved taxonomy has changed since, or whose
//! report is missing or edited, so a change to an approved taxonomy lands only with its diff
//! report (`convlytics taxonomy diff`, then `convlytics taxonomy approve`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::diff::{header, Header};
use crate::error::{Error, Result};
use crate::project::Project;
use crate::review::sha256;

/// The property-file key of the approvals.
pub const KEY: &str = "taxonomy_approvals";

/// One approval. Unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The taxonomy approved.
    pub taxonomy: String,
    /// Its version when approved: the `to` of the report.
    pub version: String,
    /// The diff report, relative to the property file.
    pub report: PathBuf,
    /// The report's SHA-256 (64 hex digits).
    pub report_sha256: String,
    /// Who approved it.
    pub approved_by: String,
    /// When (a date).
    pub approved_on: String,
}

/// Each approval of `project` holds: its taxonomy is at the approved version, and its report is
/// there, unedited, and previews that version. Problems name the approval's file and line.
pub fn check(project: &Project) -> Result<()> {
    for (name, (rel, approval)) in &project.approvals {
        let file = project.root.join(rel);
        let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        let (line, column) = locate(&text, name);
        let fail = |message: String| Error::Yaml { path: rel.clone(), line, column, message };
        let Some((_, taxonomy)) = project.taxonomies.get(name) else {
            return Err(fail(format!("{KEY}: no taxonomy '{name}' to approve")));
        };
        let version = taxonomy.version();
        let how = format!(
            "preview the change with `convlytics taxonomy diff --taxonomy {name} --out REPORT.md` (against HEAD; \
             --rev REV where the approved version is committed), then record it with \
             `convlytics taxonomy approve --taxonomy {name} --report REPORT.md --by NAME`"
        );
        if approval.version != version {
            return Err(fail(format!(
                "taxonomy '{name}' changed since it was approved (approved version {}, now {version}): {how}",
                approval.version
            )));
        }
        let report = report_path(&file, &approval.report);
        let bytes = std::fs::read(&report)
            .map_err(|e| fail(format!("the approval's report {}: {e}: {how}", report.display())))?;
        if sha256(&bytes) != approval.report_sha256 {
            return Err(fail(format!(
                "the report {} is not the one approved (its SHA-256 differs from report_sha256): restore it, or {how}",
                report.display()
            )));
        }
        let previews = std::str::from_utf8(&bytes).ok().and_then(header);
        if !previews.as_ref().is_some_and(|h| h.taxonomy == *name && h.to == version) {
            return Err(fail(format!(
                "the report {} is not a diff report of taxonomy '{name}' to version {version}: {how}",
                report.display()
            )));
        }
    }
    Ok(())
}

/// The approval `convlytics taxonomy approve` records.
#[derive(Debug)]
pub struct Approved {
    /// The property file written.
    pub file: PathBuf,
    /// Its new text.
    pub text: String,
    /// The approval.
    pub approval: Approval,
}

/// Records `report` (a diff report) as the approval of taxonomy `name` by `by` on `on`, in the
/// property file that declares the taxonomy. The report must preview the taxonomy's version now
/// and, when it was approved before, start from the approved version.
pub fn approve(project: &Project, name: &str, report: &Path, by: &str, on: &str) -> Result<Approved> {
    let (rel, taxonomy) = super::named(project, Some(name))?;
    if by.trim().is_empty() {
        return Err(Error::Project("taxonomy approve: --by needs a name".into()));
    }
    let bytes = std::fs::read(report).map_err(|e| Error::io(report, e))?;
    let not_a_report = || Error::Input {
        path: report.to_path_buf(),
        message: "not a diff report (write one with `convlytics taxonomy diff --out FILE`)".into(),
    };
    let Header { taxonomy: of, from, to } =
        std::str::from_utf8(&bytes).ok().and_then(header).ok_or_else(not_a_report)?;
    let version = taxonomy.version();
    let refuse = |message: String| Err(Error::Input { path: report.to_path_buf(), message });
    if of != taxonomy.name {
        return refuse(format!("a diff report of taxonomy '{of}', not '{}'", taxonomy.name));
    }
    if to != version {
        return refuse(format!(
            "previews version {to}, but taxonomy '{name}' is now {version}: run the diff again on the taxonomy as it is"
        ));
    }
    if let Some((_, before)) = project.approvals.get(name) {
        if from != before.version {
            return refuse(format!(
                "starts from version {from}, but the approved version is {}: diff against the approved taxonomy \
                 (--rev of the commit that has it, or --from FILE)",
                before.version
            ));
        }
    }
    let file = project.root.join(rel);
    let dir = file.parent().unwrap_or(Path::new("."));
    let relative = relative_to(&std::path::absolute(report).map_err(|e| Error::io(report, e))?, dir)?;
    let approval = Approval {
        taxonomy: taxonomy.name.clone(),
        version,
        report: relative,
        report_sha256: sha256(&bytes),
        approved_by: by.trim().to_owned(),
        approved_on: on.to_owned(),
    };
    let before = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
    let text = with_approval(&before, &approval);
    let read: crate::project::properties::PropertiesFile = serde_yaml::from_str(&text)
        .map_err(|e| Error::Project(format!("{}: the approval did not write: {e}", rel.display())))?;
    if !read.taxonomy_approvals.contains(&approval) {
        return Err(Error::Project(format!("{}: the approval did not write back as written", rel.display())));
    }
    Ok(Approved { file, text, approval })
}

/// Where a report named `report` in the property file `file` is, `..` resolved.
fn report_path(file: &Path, report: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in file.parent().unwrap_or(Path::new(".")).join(report).components() {
        match part {
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to the directory `dir` (both absolute), with `..` where needed.
fn relative_to(path: &Path, dir: &Path) -> Result<PathBuf> {
    let dir = std::path::absolute(dir).map_err(|e| Error::io(dir, e))?;
    let (a, b): (Vec<_>, Vec<_>) = (path.components().collect(), dir.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out: PathBuf = b[common..].iter().map(|_| "..").collect();
    out.extend(&a[common..]);
    Ok(out)
}

/// The line and column of the approval of `name` in `text` (the start of the file when absent).
fn locate(text: &str, name: &str) -> (usize, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let block = lines.iter().position(|l| l.trim_end() == format!("{KEY}:"));
    block
        .and_then(|b| (b + 1..lines.len()).find(|&i| entry_name(lines[i]) == Some(name)))
        .map_or((1, 1), |i| (i + 1, lines[i].find("taxonomy").unwrap_or(0) + 1))
}

/// The taxonomy of an entry's first line (`- taxonomy: name`).
fn entry_name(line: &str) -> Option<&str> {
    let value = line.trim_start().strip_prefix("- ")?.trim_start().strip_prefix("taxonomy:")?;
    Some(value.trim().trim_matches(|c| c == '"' || c == '\''))
}

/// `text` with `approval` as the entry of its taxonomy under `taxonomy_approvals:` (replacing
/// the entry there, or added to the block, which is added at the end when missing). The rest
/// of the text is kept as it was.
fn with_approval(text: &str, approval: &Approval) -> String {
    let quote = |s: &str| serde_json::to_string(s).expect("a string serializes");
    let entry = [
        format!("  - taxonomy: {}", quote(&approval.taxonomy)),
        format!("    version: {}", quote(&approval.version)),
        format!("    report: {}", quote(&approval.report.to_string_lossy())),
        format!("    report_sha256: {}", quote(&approval.report_sha256)),
        format!("    approved_by: {}", quote(&approval.approved_by)),
        format!("    approved_on: {}", quote(&approval.approved_on)),
    ];
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let top = |l: &str| !l.is_empty() && !l.starts_with([' ', '#', '-']);
    match lines.iter().position(|l| l.trim_end() == format!("{KEY}:")) {
        None => {
            if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                lines.push(String::new());
            }
            lines.push(format!("{KEY}:"));
            lines.extend(entry);
        }
        Some(block) => {
            let end = (block + 1..lines.len()).find(|&i| top(&lines[i])).unwrap_or(lines.len());
            let at = (block + 1..end).find(|&i| entry_name(&lines[i]) == Some(approval.taxonomy.as_str()));
            match at {
                Some(start) => {
                    let dash = lines[start].len() - lines[start].trim_start().len();
                    let stop = (start + 1..end)
                        .find(|&i| {
                            let l = &lines[i];
                            l.trim().is_empty() || l.len() - l.trim_start().len() <= dash
                        })
                        .unwrap_or(end);
                    lines.splice(start..stop, entry);
                }
                None => {
                    let last = (block + 1..end).rev().find(|&i| !lines[i].trim().is_empty()).unwrap_or(block);
                    lines.splice(last + 1..last + 1, entry);
                }
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approval(taxonomy: &str, version: &str) -> Approval {
        Approval {
            taxonomy: taxonomy.into(),
            version: version.into(),
            report: "diffs/a.md".into(),
            report_sha256: "ab".into(),
            approved_by: "dana".into(),
            approved_on: "2026-12-03".into(),
        }
    }

    fn read(text: &str) -> Vec<Approval> {
        serde_yaml::from_str::<crate::project::properties::PropertiesFile>(text)
            .expect("a property file")
            .taxonomy_approvals
    }

    #[test]
    fn an_approval_is_added_then_replaced() {
        let text = "version: 2\ntaxonomies:\n  - name: support\n    intents: []\n";
        let once = with_approval(text, &approval("support", "0011"));
        assert!(once.starts_with(text), "the rest is kept: {once}");
        assert_eq!(read(&once), [approval("support", "0011")]);
        let other = with_approval(&once, &approval("sales", "22"));
        let twice = with_approval(&other, &approval("support", "0033"));
        assert_eq!(read(&twice), [approval("support", "0033"), approval("sales", "22")]);
        assert_eq!(locate(&twice, "sales"), (13, 5));
    }

    #[test]
    fn a_block_before_other_keys_keeps_them() {
        let text = "taxonomy_approvals:\n  - taxonomy: support\n    version: \"1\"\n    report: r.md\n    report_sha256: x\n    approved_by: a\n    approved_on: b\n\nmodels: []\n";
        let out = with_approval(text, &approval("support", "0044"));
        assert_eq!(read(&out), [approval("support", "0044")]);
        assert!(out.ends_with("\n\nmodels: []\n"), "{out}");
    }

    #[test]
    fn reports_are_named_relative_to_the_property_file() {
        let path = relative_to(Path::new("/p/reports/a.md"), Path::new("/p/models/taxonomies")).unwrap();
        assert_eq!(path, PathBuf::from("../../reports/a.md"));
        assert_eq!(report_path(Path::new("models/taxonomies/t.yml"), &path), PathBuf::from("reports/a.md"));
    }
}
