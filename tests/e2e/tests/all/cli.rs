//! The CLI as an operator uses it: `relais run`, `runs`, `secret` and
//! `token`, with the server stopped (the CLI works on the store itself) and
//! running (the CLI goes through its control socket).

use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{HELLO, http, relais, serve, server_config, wait_listening};

const WORKFLOWS: &[(&str, &str)] = &[
    ("hello.yaml", HELLO),
    (
        "broken.yaml",
        r#"id: broken
steps:
  - id: first
    set: { ok: "yes" }
  - id: deep
    set: { value: "{{ trigger.input.customer.email }}" }
"#,
    ),
    (
        "later.yaml",
        "id: later\nsteps:\n  - id: nap\n    wait: 1h\n  - id: after\n    set: { done: \"yes\" }\n",
    ),
];

struct Node {
    config: PathBuf,
    port: u16,
    server: Option<Child>,
    _dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut c) = self.server.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn node() -> Node {
    let dir = tempfile::tempdir().unwrap();
    let (config, port) = server_config(dir.path());
    for (name, text) in WORKFLOWS {
        std::fs::write(dir.path().join("workflows").join(name), text).unwrap();
    }
    Node {
        config,
        port,
        server: None,
        _dir: dir,
    }
}

impl Node {
    fn cli(&self, args: &[&str]) -> (bool, String, String) {
        relais(&self.config, args, None)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.cli(args);
        assert!(ok, "relais {args:?} failed: {err}");
        out
    }

    fn show(&self, id: &str) -> Value {
        serde_json::from_str(&self.ok(&["runs", "show", id, "--json"])).unwrap()
    }

    fn wait_status(&self, id: &str, want: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let d = self.show(id);
            if d["run"]["status"] == want {
                return d;
            }
            assert!(Instant::now() < deadline, "{id} never became {want}: {d}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn start(&mut self) {
        self.server = Some(serve(&self.config));
        wait_listening(self.port);
    }
}

#[test]
fn run_runs_secret_and_token_with_the_server_stopped_and_running() {
    let mut n = node();

    // Stopped: `run --wait` executes here and prints the output.
    let (ok, out, err) = n.cli(&["run", "hello", "--input", r#"{"name":"Ana"}"#, "--wait"]);
    assert!(ok, "{err}");
    let output: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(output["greeting"], "Hello Ana");
    assert!(err.contains("greet") && err.contains("succeeded"), "{err}");

    // Bad input is refused with the schema's words; nothing is queued.
    let (ok, _, err) = n.cli(&["run", "hello", "--input", r#"{"nom":"Ana"}"#]);
    assert!(!ok);
    assert!(err.contains("\"name\" is a required property"), "{err}");
    let (ok, _, err) = n.cli(&["run", "hello", "--input", "{not json"]);
    assert!(!ok);
    assert!(err.contains("--input is not valid JSON"), "{err}");
    let (ok, _, err) = n.cli(&["run", "nowhere"]);
    assert!(!ok);
    assert!(err.contains("workflow nowhere not found"), "{err}");

    // Stopped, without --wait: queued for the next start, and said so.
    let (ok, out, err) = n.cli(&["run", "hello", "-i", r#"{"name":"Bo"}"#]);
    assert!(ok, "{err}");
    assert!(err.contains("next `relais serve`"), "{err}");
    let queued = out.trim().to_owned();
    assert_eq!(n.show(&queued)["run"]["status"], "queued");

    // Secrets: from stdin only, listed by name, removed once.
    let (ok, _, err) = relais(&n.config, &["secret", "set", "api_key"], Some("s3cret\n"));
    assert!(ok, "{err}");
    let (ok, _, err) = relais(&n.config, &["secret", "set", "api_key"], Some(""));
    assert!(!ok);
    assert!(err.contains("empty"), "{err}");
    assert_eq!(n.ok(&["secret", "list"]).trim(), "api_key");
    assert!(!n.ok(&["secret", "list"]).contains("s3cret"));

    // Running: the queued run is executed; the CLI goes through the socket.
    n.start();
    n.wait_status(&queued, "succeeded");
    assert_eq!(n.ok(&["secret", "list"]).trim(), "api_key");
    n.ok(&["secret", "rm", "api_key"]);
    let (ok, _, err) = n.cli(&["secret", "rm", "api_key"]);
    assert!(!ok);
    assert!(err.contains("no secret named api_key"), "{err}");

    // A failing run: exit status 1, the missing path named; retried from
    // its failed step, the first step's output is kept.
    let (ok, out, err) = n.cli(&["run", "broken", "--wait"]);
    assert!(!ok, "{out}");
    assert!(err.contains("customer"), "{err}");
    let listed = n.ok(&["runs", "list", "--workflow", "broken", "--status", "failed"]);
    let failed = listed
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let text = n.ok(&["runs", "show", &failed]);
    assert!(text.contains("workflow broken · failed"), "{text}");
    assert!(text.contains("customer"), "{text}");
    let (ok, _, err) = n.cli(&["runs", "retry", &failed]);
    assert!(ok, "{err}");
    assert!(err.contains("from step 2"), "{err}");
    let d = n.wait_status(&failed, "failed");
    let firsts = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["step_id"] == "first")
        .count();
    assert_eq!(firsts, 1, "the first step ran again: {d}");
    let (ok, _, err) = n.cli(&["runs", "retry", &failed, "--from-start"]);
    assert!(ok, "{err}");

    // Cancel: a run parked on a one-hour wait is cancelled (again: still
    // cancelled); a run that succeeded cannot be.
    let parked = n.ok(&["run", "later"]).trim().to_owned();
    n.wait_status(&parked, "waiting");
    n.ok(&["runs", "cancel", &parked]);
    assert_eq!(n.show(&parked)["run"]["status"], "cancelled");
    n.ok(&["runs", "cancel", &parked]);
    let (ok, _, err) = n.cli(&["runs", "cancel", &queued]);
    assert!(!ok);
    assert!(err.contains("succeeded"), "{err}");
    let (ok, _, err) = n.cli(&["runs", "show", "01M814WDF2RVP3TH3JFFGEVER3"]);
    assert!(!ok);
    assert!(err.contains("not found"), "{err}");

    // A token created while the server runs works at once; revoked, it stops.
    let token = n.ok(&["token", "create", "live"]).trim().to_owned();
    let auth = [("Authorization", format!("Bearer {token}"))];
    assert_eq!(http(n.port, "GET", "/api/v1/runs", &auth, b"").0, 200);
    assert!(n.ok(&["token", "list"]).starts_with("live\t"));
    n.ok(&["token", "revoke", "live"]);
    assert_eq!(http(n.port, "GET", "/api/v1/runs", &auth, b"").0, 401);

    // A server killed outright leaves its socket file behind: the CLI sees
    // nobody answers and works on the store itself.
    let mut server = n.server.take().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(n.config.parent().unwrap().join("data/relais.sock").exists());
    let listed = n.ok(&["runs", "list", "--workflow", "hello", "--json"]);
    let page: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(page["runs"].as_array().unwrap().len(), 2, "{page}");
}
