//! `relais serve` as a user runs it: webhooks (Stripe signatures, dedupe,
//! body limit, sync answers), bearer tokens on every API route, shutdown.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use relais_triggers::verify::Scheme;
use serde_json::Value;

use crate::support::{HELLO, free_port, http, relais, serve, wait_listening};

const STRIPE_SECRET: &str = "whsec_e2e";
const BODY_LIMIT: usize = 2048;

struct Server {
    child: Child,
    port: u16,
    token: String,
    config: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const WORKFLOWS: &[(&str, &str)] = &[
    (
        "stripe.yaml",
        r#"id: dunning
trigger:
  webhook:
    path: stripe
    verify: { scheme: stripe, secret: stripe_secret }
    dedupe: "{{ body.id }}"
steps:
  - id: note
    set: { event: "{{ trigger.body.id }}" }
"#,
    ),
    (
        "sync.yaml",
        r#"id: echo
trigger:
  webhook:
    path: echo
    verify: { scheme: token, secret: echo_token }
    respond: sync
steps:
  - id: answer
    set: { echoed: "{{ trigger.body.msg }}" }
"#,
    ),
    ("hello.yaml", HELLO),
];

fn start() -> Server {
    start_with(&[])
}

fn start_with(extra: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join("workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
    for (name, text) in WORKFLOWS.iter().chain(extra) {
        std::fs::write(wf.join(name), text).unwrap();
    }
    let port = free_port();
    let data = dir.path().join("data");
    let config = dir.path().join("relais.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\nplugins_dir = {:?}\nworkflows_dir = {wf:?}\n[server]\nlisten = \"127.0.0.1:{port}\"\nbody_limit = {BODY_LIMIT}\nshutdown_grace_secs = 2\n",
            dir.path().join("plugins")
        ),
    )
    .unwrap();
    for (name, value) in [
        ("stripe_secret", STRIPE_SECRET),
        ("echo_token", "echo-token"),
    ] {
        let (ok, _, err) = relais(
            &config,
            &["secret", "set", name],
            Some(&format!("{value}\n")),
        );
        assert!(ok, "secret set {name}: {err}");
    }
    let (ok, out, err) = relais(&config, &["token", "create", "e2e"], None);
    assert!(ok, "token create: {err}");
    let token = out.trim().to_owned();
    let server = Server {
        child: serve(&config),
        port,
        token,
        config,
        _dir: dir,
    };
    wait_listening(port);
    server
}

impl Server {
    /// Stops the server with SIGTERM and starts it again on the same data.
    fn restart(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let code = self.child.wait().unwrap();
        assert!(code.success(), "serve exited with {code}");
        self.child = serve(&self.config);
        wait_listening(self.port);
    }
}

fn stripe(port: u16, body: &str, secret: &str, at: chrono::DateTime<Utc>) -> (u16, Value) {
    let (name, value) = Scheme::stripe().sign(secret.as_bytes(), body.as_bytes(), at);
    http(
        port,
        "POST",
        "/hooks/stripe",
        &[
            (name.as_str(), value),
            ("Content-Type", "application/json".into()),
        ],
        body.as_bytes(),
    )
}

fn wait_status(server: &Server, run: &str, want: &str) -> Value {
    let auth = [("Authorization", format!("Bearer {}", server.token))];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, detail) = http(
            server.port,
            "GET",
            &format!("/api/v1/runs/{run}"),
            &auth,
            b"",
        );
        assert_eq!(status, 200, "{detail}");
        if detail["run"]["status"] == want {
            return detail;
        }
        assert!(
            Instant::now() < deadline,
            "run {run} never became {want}: {detail}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn webhooks_tokens_and_runs_against_the_binary() {
    let server = start();
    let port = server.port;

    // Stripe: signed, wrong secret, stale, just inside the tolerance.
    let body = r#"{"id":"evt_e2e_1","type":"invoice.payment_failed"}"#;
    let (status, first) = stripe(port, body, STRIPE_SECRET, Utc::now());
    assert_eq!(status, 202, "{first}");
    let run = first["run_id"].as_str().unwrap().to_owned();
    let detail = wait_status(&server, &run, "succeeded");
    assert_eq!(detail["payload"]["body"]["id"], "evt_e2e_1");
    let (status, refused) = stripe(port, r#"{"id":"evt_e2e_2"}"#, "whsec_other", Utc::now());
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused["error"]["code"], "signature_invalid");
    let stale = Utc::now() - TimeDelta::seconds(301);
    assert_eq!(
        stripe(port, r#"{"id":"evt_e2e_3"}"#, STRIPE_SECRET, stale).0,
        401
    );

    // Dedupe: the same event id answers the first run.
    let (status, again) = stripe(port, body, STRIPE_SECRET, Utc::now());
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["run_id"], run.as_str());

    // Body limit, both sides.
    let pad = |tag: &str, n: usize| format!(r#"{{"id":"{tag}","p":"{}"}}"#, "x".repeat(n));
    let fits = pad("evt_fit", BODY_LIMIT - pad("evt_fit", 0).len());
    assert_eq!(stripe(port, &fits, STRIPE_SECRET, Utc::now()).0, 202);
    let over = pad("evt_big", BODY_LIMIT - pad("evt_big", 0).len() + 1);
    let (status, answer) = stripe(port, &over, STRIPE_SECRET, Utc::now());
    assert_eq!(status, 413, "{answer}");

    // Sync response: the run's output.
    let (status, answer) = http(
        port,
        "POST",
        "/hooks/echo",
        &[
            ("Authorization", "Bearer echo-token".into()),
            ("Content-Type", "application/json".into()),
        ],
        br#"{"msg":"ping"}"#,
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["output"]["echoed"], "ping");

    // Unknown path, wrong method.
    assert_eq!(http(port, "POST", "/hooks/nowhere", &[], b"{}").0, 404);
    assert_eq!(http(port, "GET", "/hooks/stripe", &[], b"").0, 405);

    // Every API route: refused without a token, served with one.
    let fake = "01M814WDF2RVP3TH3JFFGEVER3";
    let routes = [
        ("GET", "/api/v1/workflows".to_owned()),
        ("GET", "/api/v1/workflows/hello".to_owned()),
        ("POST", "/api/v1/workflows/hello/runs".to_owned()),
        ("GET", "/api/v1/runs".to_owned()),
        ("GET", format!("/api/v1/runs/{fake}")),
        ("POST", format!("/api/v1/runs/{fake}/retry")),
        ("POST", format!("/api/v1/runs/{fake}/cancel")),
        ("GET", "/api/v1/plugins".to_owned()),
    ];
    let auth = [("Authorization", format!("Bearer {}", server.token))];
    for (method, path) in &routes {
        let (status, answer) = http(port, method, path, &[], b"{}");
        assert_eq!(status, 401, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["code"], "unauthorized");
        let (status, _) = http(port, method, path, &auth, b"{\"name\":\"x\"}");
        assert_ne!(status, 401, "{method} {path}");
    }

    // A manual run through the API runs to completion.
    let (status, started) = http(
        port,
        "POST",
        "/api/v1/workflows/hello/runs",
        &[auth[0].clone(), ("Content-Type", "application/json".into())],
        br#"{"name":"Ana"}"#,
    );
    assert_eq!(status, 202, "{started}");
    let detail = wait_status(&server, started["run_id"].as_str().unwrap(), "succeeded");
    assert_eq!(detail["input"]["name"], "Ana");

    // The OpenAPI document is served and names the routes.
    let (status, doc) = http(port, "GET", "/api/v1/openapi.json", &[], b"");
    assert_eq!(status, 200);
    assert!(doc["paths"]["/runs/{id}/retry"].is_object());

    // Metrics: webhook outcomes, runs by workflow and status, step
    // durations as a histogram, queue depth, the store's group commit.
    let (status, text) = http(port, "GET", "/metrics", &[], b"");
    assert_eq!(status, 200);
    let text = text.as_str().unwrap();
    let at_least = |name: &str, labels: &[&str], min: f64| {
        let got = metric(text, name, labels);
        assert!(
            got >= min,
            "{name}{labels:?} = {got}, wanted >= {min}:\n{text}"
        );
    };
    at_least("relais_webhooks_total", &[r#"outcome="accepted""#], 2.0);
    at_least("relais_webhooks_total", &[r#"outcome="duplicate""#], 1.0);
    at_least("relais_webhooks_total", &[r#"outcome="answered""#], 1.0);
    at_least(
        "relais_webhooks_total",
        &[r#"outcome="signature_invalid""#],
        2.0,
    );
    at_least(
        "relais_webhooks_total",
        &[r#"outcome="payload_too_large""#],
        1.0,
    );
    // Every answer is timed: the accepted ones, and the sync answer whose
    // wait for its run is part of it.
    let accepted = metric(text, "relais_webhooks_total", &[r#"outcome="accepted""#]);
    let timed = metric(
        text,
        "relais_webhook_duration_seconds_count",
        &[r#"outcome="accepted""#],
    );
    assert_eq!(timed, accepted, "one duration per accepted delivery");
    at_least(
        "relais_webhook_duration_seconds_bucket",
        &[r#"outcome="answered""#, r#"le="+Inf""#],
        1.0,
    );
    let dunning = [r#"workflow="dunning""#, r#"status="succeeded""#];
    at_least("relais_runs", &dunning, 2.0);
    let note = [
        r#"workflow="dunning""#,
        r#"step="note""#,
        r#"outcome="succeeded""#,
    ];
    at_least("relais_step_duration_seconds_count", &note, 2.0);
    let mut le_inf = note.to_vec();
    le_inf.push(r#"le="+Inf""#);
    at_least("relais_step_duration_seconds_bucket", &le_inf, 2.0);
    at_least("relais_queue_depth", &[], 0.0);
    at_least("relais_store_commits_total", &[], 1.0);
    at_least("relais_store_commit_seconds_bucket", &[r#"le="+Inf""#], 1.0);
    assert!(!text.contains(&run), "a run id is never a label");
}

/// The sum of the samples of `name` whose labels include all of `labels`;
/// panics when there is none.
fn metric(text: &str, name: &str, labels: &[&str]) -> f64 {
    let samples: Vec<f64> = text
        .lines()
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (n, rest) = series.split_once('{').unwrap_or((series, ""));
            (n == name && labels.iter().all(|l| rest.contains(l))).then(|| value.parse().ok())?
        })
        .collect();
    assert!(!samples.is_empty(), "no {name}{labels:?} in:\n{text}");
    samples.iter().sum()
}

/// The OpenAPI document checked against the running server by schemathesis
/// (installed with `python3 -m pip install schemathesis` when missing).
/// Manual-run inputs are checked against each workflow's own schema, which
/// the static document cannot state, so schemathesis' "valid data is
/// accepted" check is left out.
#[test]
fn openapi_document_matches_the_server() {
    let have = |cmd: &str| {
        Command::new(cmd)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("st") {
        let status = Command::new("python3")
            .args(["-m", "pip", "install", "-q", "schemathesis"])
            .status()
            .unwrap();
        assert!(status.success(), "cannot install schemathesis");
    }
    let server = start();
    let base = format!("http://127.0.0.1:{}/api/v1", server.port);
    // schemathesis keeps a cache folder in its working folder.
    let out = Command::new("timeout")
        .current_dir(server._dir.path())
        .args(["300", "st", "run"])
        .arg(format!("{base}/openapi.json"))
        .args(["--url", &base, "--max-examples", "15", "--seed", "1"])
        .args(["--exclude-checks", "positive_data_acceptance"])
        .args(["-H", &format!("Authorization: Bearer {}", server.token)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "schemathesis found problems:\n{text}");
}

fn cron_slots(server: &Server) -> Vec<String> {
    let auth = [("Authorization", format!("Bearer {}", server.token))];
    let (status, page) = http(
        server.port,
        "GET",
        "/api/v1/runs?workflow=minutely",
        &auth,
        b"",
    );
    assert_eq!(status, 200, "{page}");
    let mut slots = Vec::new();
    for run in page["runs"].as_array().unwrap() {
        let id = run["id"].as_str().unwrap();
        let (_, detail) = http(
            server.port,
            "GET",
            &format!("/api/v1/runs/{id}"),
            &auth,
            b"",
        );
        slots.push(
            detail["payload"]["scheduled_at"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    slots.sort();
    slots
}

/// An every-minute schedule fires once its minute comes, and a restart
/// right after does not fire that slot again.
#[test]
fn cron_fires_once_across_a_restart() {
    let mut server = start_with(&[(
        "minutely.yaml",
        "id: minutely\ntrigger:\n  cron: \"* * * * *\"\n  timezone: Europe/Paris\nsteps:\n  - id: tick\n    set: { at: \"{{ trigger.scheduled_at }}\" }\n",
    )]);
    let deadline = Instant::now() + Duration::from_secs(75);
    let first = loop {
        let slots = cron_slots(&server);
        if !slots.is_empty() {
            break slots;
        }
        assert!(Instant::now() < deadline, "the schedule never fired");
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].ends_with(":00Z"), "{first:?}");
    server.restart();
    std::thread::sleep(Duration::from_millis(1500));
    let after = cron_slots(&server);
    // The slot that fired is not fired again; at most the next minute's
    // slot may have come meanwhile.
    assert_eq!(
        after.iter().filter(|s| **s == first[0]).count(),
        1,
        "{after:?}"
    );
    assert!(after.len() <= 2, "{after:?}");
}
