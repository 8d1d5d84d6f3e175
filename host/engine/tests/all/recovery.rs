//! Restarts: runs left running resume at their first unfinished step,
//! timers survive, and shutdown hands unfinished work back durably.

use std::time::Duration;

use relais_store::{AttemptOutcome, AttemptStart, ErrorKind, RunStatus, Timestamp};
use serde_json::json;

use crate::*;

const COUNT: &str = r#"
id: counted
steps:
  - id: a
    uses: probe/count
  - id: b
    uses: probe/count
"#;

#[tokio::test]
async fn a_step_cut_off_by_a_crash_runs_again_with_the_same_key() {
    let f = fixture(&[COUNT]).await;
    // Not started: the run stays queued. A previous process claims it and
    // dies in the middle of step `a`.
    let run = f.submit("counted", json!({})).await;
    let claimed = f
        .store
        .claim_runs("dead", 10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    f.store
        .start_attempt(
            run,
            AttemptStart {
                step_id: "a".into(),
                step_index: 0,
                attempt: 1,
                item: None,
                input: json!({}),
                idempotency_key: format!("{run}/a"),
                started_at: Timestamp::now(),
            },
        )
        .await
        .unwrap();
    f.engine.start();
    let d = f.finish(run).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
    assert_eq!(
        trail(&d),
        [("a".into(), 1), ("a".into(), 1), ("b".into(), 1)],
        "the interrupted attempt does not use up the budget"
    );
    assert_eq!(error(&d.attempts[0]).kind, ErrorKind::Internal);
    assert_eq!(d.attempts[1].idempotency_key, d.attempts[0].idempotency_key);
    assert_eq!(output(&d.attempts[1])["count"], json!(1));
    assert_eq!(output(&d.attempts[2])["key"], json!(format!("{run}/b")));
}

#[tokio::test]
async fn timers_survive_a_restart() {
    let wf = r#"
id: later
steps:
  - id: pause
    wait: 300ms
  - id: after
    uses: probe/noop
"#;
    let f = fixture(&[wf]).await;
    f.engine.start();
    let run = f.submit("later", json!({})).await;
    until_status(&f.store, run, RunStatus::Waiting).await;
    f.engine.shutdown(Duration::from_secs(1)).await;
    let again = engine_on(&f.store, &[wf]).await;
    again.start();
    let header = again
        .wait_finished(run, Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(header.status, RunStatus::Succeeded, "{:?}", header.error);
}

#[tokio::test]
async fn shutdown_hands_work_back_and_the_next_start_finishes_it() {
    let wf = r#"
id: slow
steps:
  - id: a
    uses: probe/sleep
    with: { ms: 400 }
  - id: b
    uses: probe/count
"#;
    // More runs than the worker pool can finish within the grace period.
    let f = fixture(&[wf]).await;
    f.engine.start();
    let mut runs = Vec::new();
    for _ in 0..20 {
        runs.push(f.submit("slow", json!({})).await);
    }
    tokio::time::sleep(Duration::from_millis(80)).await;
    f.engine.shutdown(Duration::from_secs(1)).await;
    assert_eq!(f.engine.active_runs(), 0);
    let counts = f.store.count_runs(None).await.unwrap();
    assert_eq!(counts.running, 0, "{counts:?}");
    assert!(counts.queued > 0, "work was handed back: {counts:?}");
    assert_eq!(counts.total(), 20);

    let again = engine_on(&f.store, &[wf]).await;
    again.start();
    for run in runs {
        let h = again
            .wait_finished(run, Duration::from_secs(10))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(h.status, RunStatus::Succeeded, "{:?}", h.error);
        let d = f.detail(run).await;
        let b: Vec<_> = d.attempts.iter().filter(|a| a.step_id == "b").collect();
        let (done, handed_back): (Vec<_>, Vec<_>) = b
            .iter()
            .partition(|a| matches!(a.outcome, Some(AttemptOutcome::Succeeded { .. })));
        assert_eq!(done.len(), 1);
        assert_eq!(output(done[0])["count"], json!(1), "b ran once");
        for a in handed_back {
            assert_eq!(error(a).message, "interrupted: the host is shutting down");
        }
    }
}
