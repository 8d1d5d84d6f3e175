//! Snapshot tests: every `tests/ui/good/*.yaml` must validate and match the
//! `.out` beside it (a compact rendering of the resolved workflow); every
//! `tests/ui/bad/*.yaml` must fail with exactly the errors in the `.err`
//! beside it. `UPDATE_SNAPSHOTS=1 cargo test` rewrites the snapshots.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use relais_workflow::model::Workflow;
use relais_workflow::parse_workflow;

use crate::common::catalog;

fn files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
        .expect("ui folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| p.strip_prefix(root).expect("inside crate").to_path_buf())
        .collect();
    v.sort();
    v
}

/// One line for the workflow, one per step.
fn render(w: &Workflow) -> String {
    let mut head = serde_json::to_value(w).expect("serializes");
    let steps = head
        .as_object_mut()
        .and_then(|o| o.remove("steps"))
        .and_then(|s| s.as_array().cloned())
        .unwrap_or_default();
    let mut out = format!("{head}\n");
    for s in steps {
        let _ = writeln!(out, "{s}");
    }
    out
}

fn compare(path: &Path, ext: &str, actual: &str, failures: &mut Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let snap = root.join(path).with_extension(ext);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snap, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&snap).unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "{}: snapshot differs\n--- expected\n{expected}--- actual\n{actual}",
            path.display()
        ));
    }
}

fn run(dir: &str, want_ok: bool) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = catalog();
    let mut failures = Vec::new();
    let files = files(dir);
    for path in &files {
        let text = std::fs::read_to_string(root.join(path)).expect("read");
        match (parse_workflow(path, text, &catalog), want_ok) {
            (Ok(w), true) => compare(path, "out", &render(&w), &mut failures),
            (Err(e), false) => compare(path, "err", &format!("{e}\n"), &mut failures),
            (Ok(_), false) => {
                failures.push(format!("{}: expected errors, it validated", path.display()))
            }
            (Err(e), true) => {
                failures.push(format!("{}: expected to validate:\n{e}", path.display()))
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    files.len()
}

#[test]
fn good_workflows_validate_and_match_their_snapshots() {
    assert!(run("tests/ui/good", true) >= 5);
}

#[test]
fn bad_workflows_fail_with_their_snapshot_errors() {
    assert!(run("tests/ui/bad", false) >= 25);
}
