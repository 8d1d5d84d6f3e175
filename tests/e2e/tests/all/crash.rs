//! Crash safety for real: `relais serve` takes webhooks for three-step runs
//! (a counted step, a slow one, a counted step) and is killed with SIGKILL
//! at random moments over several rounds, then restarted; deliveries that
//! got no answer are sent again, as Stripe or PayPal would. In the end every
//! acknowledged run has finished, each event started exactly one run, no
//! step succeeded twice, and only a step cut off mid-call was called again,
//! with the same idempotency key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use relais_store::{
    AttemptOutcome, MasterKeySource, RunFilter, RunId, RunStatus, Store, StoreOptions,
};
use serde_json::Value;

use crate::support::{free_port, relais, serve, try_http, wait_listening};

/// Events to deliver over all rounds.
const EVENTS: usize = 300;
const ROUNDS: usize = 6;
const TOKEN: &str = "crash-token";

const WORKFLOW: &str = r#"id: crash
trigger:
  webhook:
    path: crash
    verify: { scheme: token, secret: crash_token }
    dedupe: "{{ body.id }}"
steps:
  - id: a
    uses: probe/count
  - id: slow
    uses: probe/sleep
    with: { ms: 15 }
  - id: c
    uses: probe/count
"#;

/// A number in `[lo, hi)` from a small xorshift generator.
fn pick(state: &mut u64, lo: u64, hi: u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    lo + *state % (hi - lo)
}

struct Setup {
    config: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (wf, plugins, data) = (
        dir.path().join("workflows"),
        dir.path().join("plugins"),
        dir.path().join("data"),
    );
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::write(wf.join("crash.yaml"), WORKFLOW).unwrap();
    let probe = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-guests/probe.wasm");
    assert!(
        probe.exists(),
        "{} missing: run scripts/build-plugins.sh",
        probe.display()
    );
    std::fs::copy(&probe, plugins.join("probe.wasm")).unwrap();
    let port = free_port();
    let config = dir.path().join("relais.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\nplugins_dir = {plugins:?}\nworkflows_dir = {wf:?}\n[server]\nlisten = \"127.0.0.1:{port}\"\nworkers = 8\nshutdown_grace_secs = 5\n"
        ),
    )
    .unwrap();
    let (ok, _, err) = relais(&config, &["secret", "set", "crash_token"], Some(TOKEN));
    assert!(ok, "secret set: {err}");
    Setup {
        config,
        data,
        port,
        _dir: dir,
    }
}

/// Delivers event `n`: `Some(run id)` when acknowledged (202 new, 200
/// duplicate), `None` when the server did not answer.
fn deliver(port: u16, n: usize) -> Option<(u16, String)> {
    let body = format!(r#"{{"id":"evt_{n}"}}"#);
    let headers = [
        ("Content-Type", "application/json".to_owned()),
        ("Authorization", format!("Bearer {TOKEN}")),
    ];
    let (status, answer) =
        try_http(port, "POST", "/hooks/crash", &headers, body.as_bytes()).ok()?;
    assert!(status == 202 || status == 200, "evt_{n}: {status} {answer}");
    Some((status, answer["run_id"].as_str()?.to_owned()))
}

/// Delivers events from `next` up to `until` (a few milliseconds apart, so
/// that kills land during deliveries too) or until the server stops
/// answering; records each acknowledgement.
fn deliver_until_killed(
    port: u16,
    next: &mut usize,
    until: usize,
    acked: &mut BTreeMap<usize, String>,
) {
    while *next < until {
        std::thread::sleep(Duration::from_millis(2));
        match deliver(port, *next) {
            Some((_, run)) => {
                if let Some(first) = acked.insert(*next, run.clone()) {
                    assert_eq!(first, run, "evt_{next} answered with two runs");
                }
                *next += 1;
            }
            None => return,
        }
    }
}

fn kill(child: &mut Child) {
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
}

/// The last server, killed if the test fails before stopping it.
struct Last(Child);

impl Drop for Last {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sigkill_at_random_moments_loses_and_repeats_nothing() {
    let s = setup();
    let mut seed = (Instant::now().elapsed().as_nanos() as u64) | 1;
    seed ^= u64::from(std::process::id()) << 20;
    let mut acked = BTreeMap::new();
    let mut next: usize = 0;
    for round in 1..=ROUNDS {
        let mut child = serve(&s.config);
        wait_listening(s.port);
        let ms = pick(&mut seed, 150, 900);
        let port = s.port;
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            kill(&mut child);
        });
        // Delivery `next` may have been cut off by the kill: it is sent
        // again, as a vendor would. The one before it was acknowledged:
        // sending it again must answer the same run (dedupe survives).
        next = next.saturating_sub(1);
        deliver_until_killed(port, &mut next, EVENTS * round / ROUNDS, &mut acked);
        killer.join().unwrap();
    }
    // The last start: deliver what is left, then wait for every run to end.
    let mut last = Last(serve(&s.config));
    wait_listening(s.port);
    next = next.saturating_sub(1);
    deliver_until_killed(s.port, &mut next, EVENTS, &mut acked);
    assert_eq!(acked.len(), EVENTS, "every event acknowledged in the end");
    wait_all_finished(&s.config);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &last.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(last.0.wait().unwrap().success());

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(check(&s.data, &acked));
}

/// Polls `relais runs list` (through the server's control socket) until no
/// run is queued, running or waiting.
fn wait_all_finished(config: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut open = 0;
        for status in ["queued", "running", "waiting"] {
            let (ok, out, err) = relais(
                config,
                &["runs", "list", "--status", status, "--json", "-n", "1"],
                None,
            );
            assert!(ok, "runs list: {err}");
            let page: Value = serde_json::from_str(&out).unwrap();
            open += page["runs"].as_array().unwrap().len();
        }
        if open == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "runs still unfinished");
        std::thread::sleep(Duration::from_millis(200));
    }
}

async fn check(data: &Path, acked: &BTreeMap<usize, String>) {
    let store = Store::open(StoreOptions::new(
        data.join("relais.redb"),
        MasterKeySource::File(data.join("master.key")),
    ))
    .unwrap()
    .store;
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_runs(&RunFilter::default(), cursor, relais_store::MAX_PAGE)
            .await
            .unwrap();
        all.extend(page.runs.iter().map(|r| r.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    // Each event started exactly one run: as many runs as events, and every
    // acknowledged id among them.
    let stored: BTreeSet<RunId> = all.iter().copied().collect();
    assert_eq!(stored.len(), all.len(), "a run is listed twice");
    assert_eq!(all.len(), EVENTS, "one run per event, no more");
    for (n, id) in acked {
        assert!(
            stored.contains(&id.parse().unwrap()),
            "evt_{n}: acknowledged run {id} is lost"
        );
    }

    let mut cut_off = 0;
    for id in all {
        let d = store.run_detail(id).await.unwrap().unwrap();
        assert_eq!(
            d.run.status,
            RunStatus::Succeeded,
            "{id}: {:?}",
            d.run.error
        );
        for step in ["a", "slow", "c"] {
            let attempts: Vec<_> = d.attempts.iter().filter(|a| a.step_id == step).collect();
            let succeeded = attempts
                .iter()
                .filter(|a| matches!(a.outcome, Some(AttemptOutcome::Succeeded { .. })))
                .count();
            assert_eq!(succeeded, 1, "{id}/{step} succeeded {succeeded} times");
            let key = format!("{id}/{step}");
            assert!(attempts.iter().all(|a| a.idempotency_key == key));
            if step == "slow" {
                continue;
            }
            let calls: u64 = store
                .kv_get("probe", &format!("count:{key}"))
                .await
                .unwrap()
                .map(|v| String::from_utf8(v).unwrap().parse().unwrap())
                .unwrap_or(0);
            let interrupted = attempts.len() - 1;
            assert!(
                (1..=1 + interrupted as u64).contains(&calls),
                "{key}: {calls} calls for {} attempts",
                attempts.len()
            );
            if calls > 1 {
                cut_off += 1;
            }
        }
    }
    eprintln!(
        "{EVENTS} events, {ROUNDS} kills: {cut_off} steps were cut off mid-call and called again with the same key"
    );
}
