//! The documents hold what the binary does: every command of README's
//! "Using it" block that needs no server runs as written, and every YAML
//! example of `docs/workflows.md` validates against the bundled plugins
//! (or fails with the error its `<!-- error: TEXT -->` note announces).

use std::path::{Path, PathBuf};

use crate::support::{bundled_plugins, relais_in, repo_root};

/// A configuration in `dir` on the bundled plugins and the example
/// workflows. Its data folder, which holds only the cache of compiled
/// plugins for these commands, is kept between runs.
fn bundled_node(dir: &Path) -> PathBuf {
    let config = dir.join("relais.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nplugins_dir = {:?}\nworkflows_dir = {:?}\n",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("docs-data"),
            bundled_plugins(),
            repo_root().join("examples/workflows")
        ),
    )
    .unwrap();
    config
}

/// The lines of the first fenced block after the heading `heading`.
fn block_after(text: &str, heading: &str) -> Vec<String> {
    let rest = &text[text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("no heading {heading:?}"))..];
    let mut lines = rest.lines().skip_while(|l| !l.starts_with("```")).skip(1);
    lines
        .by_ref()
        .take_while(|l| !l.starts_with("```"))
        .map(str::to_owned)
        .collect()
}

/// Splits a command line as a shell would, for the quoting README uses.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut any = false;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                any = true;
            }
            None if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            None => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The commands that run without a server, without the network and
/// without changing anything.
const RUNNABLE: &[&[&str]] = &[
    &["validate"],
    &["cron", "next"],
    &["plugin", "list"],
    &["plugin", "inspect"],
];

#[test]
fn the_readme_commands_run_as_written() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = bundled_node(dir.path());
    let mut ran = Vec::new();
    for line in block_after(&readme, "## Using it") {
        let command = line.split(" #").next().unwrap_or_default().trim();
        let Some(args) = command.strip_prefix("relais ") else {
            continue;
        };
        let mut argv = words(args);
        // `[--flag X]` marks what may be left out.
        argv.retain({
            let mut optional = false;
            move |w| {
                let skip = optional || w.starts_with('[');
                optional = skip && !w.ends_with(']');
                !skip
            }
        });
        let Some(kind) = RUNNABLE
            .iter()
            .find(|k| argv.len() >= k.len() && k.iter().zip(&argv).all(|(k, a)| *k == a.as_str()))
        else {
            continue;
        };
        assert!(
            !argv.iter().any(|w| w == "|"),
            "one command per line in README: {line}"
        );
        let mut full = vec!["-c", config.to_str().unwrap()];
        full.extend(argv.iter().map(String::as_str));
        let (ok, out, err) = relais_in(dir.path(), &full, None);
        assert!(ok, "README's `{command}` failed:\n{out}{err}");
        assert!(
            !out.trim().is_empty(),
            "README's `{command}` printed nothing"
        );
        ran.push(*kind);
    }
    for kind in RUNNABLE {
        assert!(
            ran.contains(kind),
            "README's \"Using it\" shows no `relais {}`",
            kind.join(" ")
        );
    }
}

/// A ```yaml block of a document: where it starts and the error it must
/// fail with, if any.
struct Example {
    line: usize,
    text: String,
    error: Option<String>,
}

fn yaml_examples(doc: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut last = "";
    let mut lines = doc.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        if line.trim_end() == "```yaml" {
            let error = last
                .trim()
                .strip_prefix("<!-- error:")
                .and_then(|r| r.strip_suffix("-->"))
                .map(|e| e.trim().to_owned());
            let text: Vec<&str> = lines
                .by_ref()
                .map(|(_, l)| l)
                .take_while(|l| !l.starts_with("```"))
                .collect();
            out.push(Example {
                line: i + 1,
                text: text.join("\n") + "\n",
                error,
            });
        }
        if !line.trim().is_empty() {
            last = line;
        }
    }
    out
}

#[test]
fn the_workflow_reference_examples_validate() {
    let doc = std::fs::read_to_string(repo_root().join("docs/workflows.md")).unwrap();
    let examples = yaml_examples(&doc);
    assert!(examples.len() >= 20, "{} examples", examples.len());
    assert!(examples.iter().any(|e| e.error.is_some()));
    let dir = tempfile::tempdir().unwrap();
    let config = bundled_node(dir.path());
    // One file per example, all validated by one command: each problem is
    // reported on a line that starts with its file's path.
    let folder = dir.path().join("examples");
    std::fs::create_dir_all(&folder).unwrap();
    let files: Vec<PathBuf> = examples
        .iter()
        .map(|e| {
            let file = folder.join(format!("workflows-md-line-{}.yaml", e.line));
            std::fs::write(&file, &e.text).unwrap();
            file
        })
        .collect();
    let args = [
        "-c",
        config.to_str().unwrap(),
        "validate",
        folder.to_str().unwrap(),
    ];
    let (_, out, err) = relais_in(dir.path(), &args, None);
    let mut failures = Vec::new();
    for (e, file) in examples.iter().zip(&files) {
        let prefix = format!("{}:", file.display());
        let problems: Vec<&str> = err.lines().filter(|l| l.starts_with(&prefix)).collect();
        match &e.error {
            None if !problems.is_empty() => failures.push(format!(
                "docs/workflows.md:{}: the example is not valid:\n{}",
                e.line,
                problems.join("\n")
            )),
            Some(want) if !problems.iter().any(|p| p.contains(want.as_str())) => {
                failures.push(format!(
                    "docs/workflows.md:{}: expected the error {want:?}, got:\n{}",
                    e.line,
                    problems.join("\n")
                ));
            }
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let valid = examples.iter().filter(|e| e.error.is_none()).count();
    assert!(
        out.contains(&format!("{valid} workflow(s) valid")),
        "{out}{err}"
    );
}

#[test]
fn the_example_workflows_validate() {
    let dir = tempfile::tempdir().unwrap();
    let config = bundled_node(dir.path());
    let (ok, out, err) = relais_in(
        dir.path(),
        &["-c", config.to_str().unwrap(), "validate"],
        None,
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("0 error(s)"), "{out}");
}
