//! Many files at once: every error of every file, and the checks across files.

use std::path::PathBuf;

use relais_workflow::{WorkflowError, load_workflow, validate_files, workflow_files};

use crate::common::catalog;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).expect("write");
    p
}

const HOOK: &str = "trigger:\n  webhook:\n    path: stripe\n    verify: { scheme: stripe, secret: whsec }\nsteps:\n  - id: a\n    uses: slack/post\n    with: { text: hi }\n";

#[test]
fn every_error_of_every_file_is_returned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(&dir, "a_good.yaml", &format!("id: one\n{HOOK}"));
    let bad1 = write(
        &dir,
        "b_bad.yaml",
        "id: two\nsteps:\n  - id: a\n    uses: emial/send\n  - id: b\n    uses: slack/post\n    with: { text: 1 }\n",
    );
    let bad2 = write(
        &dir,
        "c_bad.yml",
        "id: three\nsteps:\n  - id: a\n    wait: 5x\n",
    );
    let same_id = write(
        &dir,
        "d_same_id.yaml",
        "id: one\nsteps:\n  - id: a\n    wait: 1d\n",
    );
    let same_hook = write(&dir, "e_same_hook.yaml", &format!("id: five\n{HOOK}"));
    write(&dir, "notes.txt", "not a workflow");

    let files = workflow_files(dir.path()).expect("list");
    assert_eq!(
        files,
        vec![
            good.clone(),
            bad1.clone(),
            bad2.clone(),
            same_id.clone(),
            same_hook.clone()
        ]
    );

    let v = validate_files(&files, &catalog());
    assert_eq!(v.workflows.len(), 1);
    assert_eq!(v.workflows[0].id.as_str(), "one");
    assert_eq!(v.workflows[0].source.path, good);
    let lines: Vec<String> = v.errors.iter().map(ToString::to_string).collect();
    let d = dir.path().display();
    assert_eq!(
        lines,
        vec![
            format!(
                "{d}/b_bad.yaml:4:11: step \"a\": unknown plugin \"emial\" (known: cpanel, email, http, monitor, slack, stripe, twilio)"
            ),
            format!("{d}/b_bad.yaml:7:19: step \"b\": input /text: 1 is not of type \"string\""),
            format!(
                "{d}/c_bad.yml:4:11: step \"a\": invalid duration \"5x\": unknown unit \"x\" (expected w, d, h, m, s or ms); expected e.g. 30s, 5m, 1h30m, 3d"
            ),
            format!(
                "{d}/d_same_id.yaml:1:5: workflow id \"one\" is already used by {d}/a_good.yaml:1:5"
            ),
            format!(
                "{d}/e_same_hook.yaml:4:11: trigger: webhook path \"stripe\" is already used by workflow \"one\" ({d}/a_good.yaml:1:5)"
            ),
        ]
    );
}

#[test]
fn an_unreadable_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.yaml");
    let err = load_workflow(&missing, &catalog()).unwrap_err();
    assert_eq!(err.len(), 1);
    assert!(matches!(
        err.iter().next().map(|d| &d.error),
        Some(WorkflowError::Io { .. })
    ));
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot read the file: ", missing.display()))
    );
    assert!(workflow_files(dir.path().join("nope")).is_err());
}

#[test]
fn the_source_text_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!("id: one\n{HOOK}");
    let p = write(&dir, "one.yaml", &text);
    let w = load_workflow(&p, &catalog()).expect("valid");
    assert_eq!(w.source.text, text);
    assert_eq!(w.source.path, p);
}

#[test]
fn hostile_yaml_is_refused_without_crashing() {
    let deep = format!(
        "id: x\nsteps: {}{}\n",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        bomb.push_str(&format!(
            "{}: &{} [*{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}]\n",
            (b'a' + i) as char,
            (b'a' + i) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char
        ));
    }
    for text in [
        deep.as_str(),
        bomb.as_str(),
        "\u{0}",
        "id: [",
        "? [a]\n: b\n",
        "id: x\nsteps:\n  - {id: a, wait: 1d}\n  - *nope\n",
    ] {
        let r = relais_workflow::parse_workflow("h.yaml", text, &catalog());
        assert!(r.is_err(), "{text:.40}");
    }
}
