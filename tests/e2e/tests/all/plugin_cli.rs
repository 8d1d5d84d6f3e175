//! `relais plugin` against the real binary and real guests: a closed pipe,
//! a step timeout, the JSON of a step error, and a step's stderr; and the
//! shortest secret value `relais secret set` takes, which masking relies on.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::relais_bin;

/// A folder with a configuration whose plugins folder holds the probe and
/// hostile test guests.
struct Setup {
    config: PathBuf,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let guests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-guests");
    for name in ["probe", "hostile"] {
        let from = guests.join(format!("{name}.wasm"));
        assert!(
            from.exists(),
            "{} is missing: run scripts/build-plugins.sh first",
            from.display()
        );
        std::fs::copy(&from, plugins.join(format!("{name}.wasm"))).unwrap();
    }
    let workflows = dir.path().join("workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let config = dir.path().join("relais.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nplugins_dir = {plugins:?}\nworkflows_dir = {workflows:?}\n",
            dir.path().join("data")
        ),
    )
    .unwrap();
    Setup { config, _dir: dir }
}

impl Setup {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(relais_bin());
        c.arg("-c").arg(&self.config).args(args);
        c.stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    let s = setup();
    for args in [
        &["plugin", "inspect", "probe"][..],
        &["plugin", "list"],
        &["validate"],
        &["cron", "next", "--expr", "* * * * *", "-n", "50"],
    ] {
        let mut child = s
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Like `| head -0`: the reader is gone before anything is written.
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_step_timeout_is_the_timeout_limit_not_a_describe_failure() {
    let s = setup();
    let out = s.run(&["plugin", "invoke", "probe", "spin", "--timeout", "1ms"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("timeout limit exceeded"), "{stderr}");
    assert!(!stderr.contains("describe failed"), "{stderr}");

    let out = s.run(&[
        "plugin",
        "invoke",
        "probe",
        "spin",
        "--timeout",
        "1ms",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["result"]["Err"]["kind"], "limit", "{v}");
    assert_eq!(v["result"]["Err"]["limit"], "timeout", "{v}");
}

#[test]
fn a_step_error_in_json_has_one_kind_per_object() {
    let s = setup();
    let out = s.run(&[
        "plugin",
        "invoke",
        "probe",
        "fail",
        "--json",
        "-i",
        r#"{"kind": "fatal", "message": "card declined"}"#,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let err = &v["result"]["Err"];
    assert_eq!(err["kind"], "step", "{stdout}");
    assert_eq!(err["error"]["kind"], "fatal", "{stdout}");
    assert_eq!(err["error"]["message"], "card declined", "{stdout}");
    // No object of the document repeats a key.
    let err_text = stdout.split("\"Err\"").nth(1).unwrap();
    let kinds = err_text.matches("\"kind\"").count();
    assert_eq!(kinds, 2, "{stdout}");
}

#[test]
fn a_successful_step_keeps_its_stderr_in_the_log() {
    let s = setup();
    let out = s.run(&[
        "plugin",
        "invoke",
        "hostile",
        "stderr",
        "-i",
        r#"{"text": "cache warmed"}"#,
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("stderr: cache warmed"), "{stderr}");
}

#[test]
fn a_secret_value_under_four_bytes_is_refused() {
    let s = setup();
    let set = |value: &str| {
        let mut child = s
            .command(&["secret", "set", "panel_password"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(value.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = set("abc\n");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the value of panel_password is 3 bytes: a secret needs at least 4"),
        "{stderr}"
    );
    let out = set("abcd\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
}
