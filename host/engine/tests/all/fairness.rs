//! Sharing the engine between workflows: a backlog of one workflow does
//! not starve the others, and a run waiting for its workflow's
//! `concurrency:` permit stays queued.

use std::time::Duration;

use relais_store::RunStatus;
use serde_json::json;

use crate::*;

/// A plugin step that loops until its timeout.
const SLOW: &str = r#"
id: slow
steps:
  - id: loop
    uses: probe/spin
    timeout: 60s
"#;

const FAST: &str = r#"
id: fast
steps:
  - id: ping
    uses: probe/noop
"#;

// Two threads: the looping guest keeps one busy between its yields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_of_looping_runs_does_not_starve_another_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let config = EngineConfig {
        workers: 2,
        workers_per_workflow: Some(1),
        ..config()
    };
    // 256 runs in memory at most, 128 of them of one workflow.
    assert_eq!(
        (config.runs_in_flight(), config.runs_per_workflow()),
        (256, 128)
    );
    let engine = engine_configured(&store, probe_plugins().await, &[SLOW, FAST], config).await;
    let submit = |wf: &'static str| {
        let engine = engine.clone();
        async move {
            engine
                .submit(wf, TriggerKind::Manual, Value::Null, json!({}), None)
                .await
                .unwrap()
                .run_id()
                .unwrap()
        }
    };
    for _ in 0..300 {
        submit("slow").await;
    }
    engine.start();
    for _ in 0..500 {
        if store.count_runs(Some("slow")).await.unwrap().running > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let fast = submit("fast").await;
    let done = engine
        .wait_finished(fast, Duration::from_secs(20))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, RunStatus::Succeeded, "{done:?}");

    // Every slow run is still running or queued: the fast one did not
    // wait for them, and at most its share of them is in memory.
    let slow = store.count_runs(Some("slow")).await.unwrap();
    assert_eq!(slow.running + slow.queued, 300, "{slow:?}");
    assert!(slow.running <= 128, "{slow:?}");
    engine.shutdown(Duration::from_millis(100)).await;
}

const LIMITED: &str = r#"
id: limited
concurrency: 1
timeout: 2s
steps:
  - id: work
    uses: probe/sleep
    with: { ms: 800 }
"#;

#[tokio::test]
async fn a_run_waiting_for_its_concurrency_permit_stays_queued() {
    let f = fixture(&[LIMITED]).await;
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(f.submit("limited", json!({})).await);
    }
    f.engine.start();
    until_status(&f.store, runs[0], RunStatus::Running).await;
    for run in &runs[1..] {
        let d = f.detail(*run).await;
        assert_eq!(d.run.status, RunStatus::Queued, "waits in the queue");
        assert_eq!(d.run.try_started_at, None, "its timeout has not started");
        assert!(d.attempts.is_empty());
    }
    assert_eq!(f.engine.active_runs(), 1, "only the run with the permit");

    // The last run waits at least 1.6 s, then runs 0.8 s: over its 2 s
    // timeout if that counted from its creation, not from its start.
    for run in runs {
        let d = f.finish(run).await;
        assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
        let started = d.run.try_started_at.unwrap().as_millis();
        assert!(d.attempts[0].started_at.as_millis() >= started);
    }
}

#[tokio::test]
async fn runs_resumed_past_their_concurrency_limit_go_back_to_the_queue() {
    let one = r#"
id: one
concurrency: 1
steps:
  - id: work
    uses: probe/sleep
    with: { ms: 300 }
"#;
    let f = fixture(&[one]).await;
    let runs = [
        f.submit("one", json!({})).await,
        f.submit("one", json!({})).await,
    ];
    // A previous process claimed both and died.
    let claimed = f
        .store
        .claim_runs("dead", 10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    f.engine.start();
    // One resumes with the permit; the other waits for it in the queue.
    until_status(&f.store, runs[1], RunStatus::Queued).await;
    for run in runs {
        let d = f.finish(run).await;
        assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
    }
}
