//! What a new operator meets first: a configuration file used from any
//! folder, `relais serve --listen`, and the log as JSON lines.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{HELLO, free_port, http, relais_bin, relais_in, wait_listening};

/// A site folder with `relais.toml` written with relative paths, and the
/// hello workflow.
fn site(root: &Path, extra: &str) -> PathBuf {
    let site = root.join("srv").join("relais");
    std::fs::create_dir_all(site.join("workflows")).unwrap();
    std::fs::create_dir_all(site.join("plugins")).unwrap();
    std::fs::write(site.join("workflows/hello.yaml"), HELLO).unwrap();
    let config = site.join("relais.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\nplugins_dir = \"plugins\"\nworkflows_dir = \"workflows\"\n{extra}"
        ),
    )
    .unwrap();
    config
}

#[test]
fn a_config_files_relative_paths_are_read_from_its_folder() {
    let root = tempfile::tempdir().unwrap();
    let config = site(root.path(), "");
    let config_arg = config.to_str().unwrap();
    let elsewhere = root.path().join("home");
    std::fs::create_dir_all(&elsewhere).unwrap();

    let (ok, _, err) = relais_in(
        &elsewhere,
        &["-c", config_arg, "secret", "set", "api_key"],
        Some("s3cret\n"),
    );
    assert!(ok, "{err}");
    let (ok, out, err) = relais_in(
        &elsewhere,
        &[
            "-c",
            config_arg,
            "run",
            "hello",
            "--input",
            r#"{"name":"Ana"}"#,
            "--wait",
        ],
        None,
    );
    assert!(ok, "run from another folder: {err}");
    assert!(out.contains("Hello Ana"), "{out}");

    // From a third folder, and with the file named relative to it: the same
    // store, the same master key, the same run and secret.
    let key = std::fs::read(config.with_file_name("data").join("master.key")).unwrap();
    for (cwd, arg) in [
        (root.path().to_path_buf(), "srv/relais/relais.toml"),
        (elsewhere.clone(), config_arg),
    ] {
        let (ok, out, err) = relais_in(&cwd, &["-c", arg, "runs", "list"], None);
        assert!(ok, "{err}");
        assert!(
            out.contains("hello") && out.contains("succeeded"),
            "runs list from {}: {out}{err}",
            cwd.display()
        );
        let (ok, out, err) = relais_in(&cwd, &["-c", arg, "secret", "list"], None);
        assert!(ok, "{err}");
        assert_eq!(out.trim(), "api_key");
    }
    assert_eq!(
        std::fs::read(config.with_file_name("data").join("master.key")).unwrap(),
        key
    );
    assert!(!elsewhere.join("data").exists());
    assert!(!root.path().join("data").exists());
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// Stops it with SIGTERM and waits for its exit.
    fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let code = self.0.wait().unwrap();
        assert!(code.success(), "serve exited with {code}");
    }
}

fn serve(config: &Path, args: &[&str], stderr: Stdio) -> Server {
    let child = Command::new(relais_bin())
        .env_remove("RUST_LOG")
        .arg("-c")
        .arg(config)
        .arg("serve")
        .args(args)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    Server(child)
}

#[test]
fn serve_listen_overrides_the_configured_address() {
    let root = tempfile::tempdir().unwrap();
    let (configured, flag) = (free_port(), free_port());
    let config = site(
        root.path(),
        &format!("[server]\nlisten = \"127.0.0.1:{configured}\"\nshutdown_grace_secs = 1\n"),
    );
    let listen = format!("127.0.0.1:{flag}");
    let server = serve(&config, &["--listen", &listen], Stdio::null());
    wait_listening(flag);
    assert_eq!(http(flag, "GET", "/healthz", &[], b"").0, 200);
    assert!(std::net::TcpStream::connect(("127.0.0.1", configured)).is_err());
    server.stop();

    let (ok, _, err) = relais_in(
        root.path(),
        &[
            "-c",
            config.to_str().unwrap(),
            "serve",
            "--listen",
            "localhost",
        ],
        None,
    );
    assert!(!ok);
    assert!(err.contains("--listen"), "{err}");
}

const PING: &str = r#"id: ping
trigger:
  webhook:
    path: ping
    verify: { scheme: token, secret: ping_token }
steps:
  - id: note
    set: { got: "{{ trigger.body.n }}" }
"#;

#[test]
fn json_logs_carry_the_run_id_and_workflow() {
    let root = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = site(
        root.path(),
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nshutdown_grace_secs = 1\n[log]\nformat = \"json\"\nlevel = \"info\"\n"
        ),
    );
    std::fs::write(config.with_file_name("workflows").join("ping.yaml"), PING).unwrap();
    let c = config.to_str().unwrap();
    let (ok, _, err) = relais_in(
        root.path(),
        &["-c", c, "secret", "set", "ping_token"],
        Some("ping-token\n"),
    );
    assert!(ok, "{err}");
    let log_path = root.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let server = serve(&config, &[], Stdio::from(log));
    wait_listening(port);
    let auth = [
        ("Authorization", "Bearer ping-token".to_owned()),
        ("Content-Type", "application/json".to_owned()),
    ];
    let (status, body) = http(port, "POST", "/hooks/ping", &auth, br#"{"n": 7}"#);
    assert_eq!(status, 202, "{body}");
    let run = body["run_id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (ok, out, _) = relais_in(
            root.path(),
            &["-c", c, "runs", "show", &run, "--json"],
            None,
        );
        let status =
            serde_json::from_str::<Value>(&out).unwrap_or_default()["run"]["status"].clone();
        if ok && (status == "succeeded" || status == "failed") {
            assert_eq!(status, "succeeded", "{out}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "run {run} did not succeed: {out}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server.stop();

    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let of_run = |message: &str| {
        lines.iter().any(|l| {
            l["message"] == message
                && l["run_id"] == run.as_str()
                && l["workflow"] == "ping"
                && l["level"].is_string()
                && l["timestamp"].is_string()
        })
    };
    assert!(
        of_run("webhook accepted"),
        "no server line for {run}:\n{text}"
    );
    assert!(
        of_run("step succeeded"),
        "no engine line for {run}:\n{text}"
    );
    assert!(
        lines.iter().any(|l| l["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("relais listening on"))),
        "{text}"
    );
}

#[test]
fn a_bad_log_setting_is_named() {
    let root = tempfile::tempdir().unwrap();
    let config = site(root.path(), "[log]\nformat = \"xml\"\n");
    let (ok, _, err) = relais_in(
        root.path(),
        &["-c", config.to_str().unwrap(), "runs", "list"],
        None,
    );
    assert!(!ok);
    assert!(err.contains("relais.toml") && err.contains("xml"), "{err}");
    let config = site(root.path(), "[log]\nlevel = \"relais=loud\"\n");
    let (ok, _, err) = relais_in(
        root.path(),
        &["-c", config.to_str().unwrap(), "runs", "list"],
        None,
    );
    assert!(!ok);
    assert!(err.contains("[log] level"), "{err}");
}
