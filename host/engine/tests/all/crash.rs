//! Crash safety for real: a worker process is killed with SIGKILL at random
//! moments over several rounds and restarted; then every accepted run has
//! finished, no step succeeded twice, and only a step cut off mid-call ran
//! twice, with the same idempotency key.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use relais_store::{AttemptOutcome, RunFilter, RunId, RunStatus};

use crate::*;

const RUNS: usize = 300;
const ROUNDS: usize = 6;

fn worker(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crash-worker"));
    cmd.arg(dir)
        .arg(repo_root().join("target/test-guests/probe.wasm"))
        .args(args)
        .stderr(Stdio::inherit());
    cmd
}

/// A number in `[lo, hi)` from a small xorshift generator.
fn pick(state: &mut u64, lo: u64, hi: u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    lo + *state % (hi - lo)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = worker(dir.path(), &["submit", &RUNS.to_string()])
        .output()
        .expect("run crash-worker submit");
    assert!(out.status.success(), "submit failed");
    let accepted: Vec<RunId> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().expect("run id"))
        .collect();
    assert_eq!(accepted.len(), RUNS);

    let mut seed = Instant::now().elapsed().as_nanos() as u64 | 1;
    seed ^= u64::from(std::process::id()) << 20;
    for _ in 0..ROUNDS {
        let mut child = worker(dir.path(), &["work"])
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn worker");
        let ms = pick(&mut seed, 150, 700);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }
    let drained = worker(dir.path(), &["drain"])
        .stdout(Stdio::null())
        .status()
        .expect("drain");
    assert!(drained.success());

    let store = open_store(dir.path());
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
    all.sort();
    let mut expected = accepted.clone();
    expected.sort();
    assert_eq!(all, expected, "every accepted run exists, once");

    let mut cut_off = 0;
    for id in accepted {
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
    eprintln!("{cut_off} steps were cut off mid-call and called again with the same key");
}
