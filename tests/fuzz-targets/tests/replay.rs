//! Replays every input kept in `fuzz/corpus/TARGET/` through its target, so
//! `cargo test` checks on stable Rust what the fuzzers found and every bug
//! they found stays fixed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use relais_fuzz_targets::TARGETS;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

#[test]
fn every_target_has_a_corpus_and_every_corpus_a_target() {
    let root = corpus_root();
    let mut dirs: Vec<String> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .map(|entry| entry.expect("a readable folder entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(dirs, names, "fuzz/corpus/ holds one folder per target");
    for name in names {
        assert!(
            !files(&root.join(name)).is_empty(),
            "fuzz/corpus/{name} is empty"
        );
    }
}

#[test]
fn every_corpus_input_passes_its_target() {
    let root = corpus_root();
    let mut failures = Vec::new();
    let mut count = 0;
    for (name, target) in TARGETS {
        for path in files(&root.join(name)) {
            let data = std::fs::read(&path).expect("a readable corpus file");
            count += 1;
            if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
                failures.push(format!("{name}: {}", path.display()));
            }
        }
    }
    assert!(count > 0, "no corpus input found under {}", root.display());
    assert!(
        failures.is_empty(),
        "{} of {count} corpus inputs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
