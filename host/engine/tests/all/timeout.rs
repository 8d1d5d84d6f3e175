//! A workflow's run `timeout`: over it the run fails and its step in
//! flight is stopped, under it the run succeeds, a waiting run times out at
//! its deadline, and the deadline holds across a restart.

use std::time::Duration;

use relais_store::{
    AttemptStart, ErrorKind, RetryFrom, RunStatus, StepError, TimerPurpose, Timestamp,
};
use serde_json::json;

use crate::*;

fn slow(id: &str, timeout: &str, sleep_ms: u64) -> String {
    format!(
        r#"
id: {id}
timeout: {timeout}
steps:
  - id: work
    uses: probe/sleep
    with: {{ ms: {sleep_ms} }}
  - id: after
    uses: probe/count
"#
    )
}

fn waits(id: &str, timeout: &str, pause: &str) -> String {
    format!(
        r#"
id: {id}
timeout: {timeout}
steps:
  - id: pause
    {pause}
  - id: after
    uses: probe/count
"#
    )
}

fn timed_out(limit: &str) -> StepError {
    StepError {
        kind: ErrorKind::Timeout,
        message: format!("run timed out after {limit}"),
        retry_after_ms: None,
    }
}

fn started(run: &relais_store::Run) -> u64 {
    run.try_started_at.expect("the try's start").as_millis()
}

#[tokio::test]
async fn a_run_over_its_timeout_fails_and_its_step_in_flight_is_stopped() {
    let over = slow("over", "600ms", 4_000);
    let f = fixture(&[&over]).await;
    f.engine.start();
    let run = f.submit("over", json!({})).await;
    let d = f.finish(run).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    assert_eq!(d.run.error, Some(timed_out("600ms")));
    assert_eq!(trail(&d), [("work".into(), 1)], "no further step starts");
    let stopped = error(&d.attempts[0]);
    assert_eq!(stopped.kind, ErrorKind::Timeout);
    assert_eq!(
        stopped.message,
        "stopped: the run's timeout of 600ms passed"
    );
    let a = &d.attempts[0];
    let ran = a.ended_at.unwrap().as_millis() - a.started_at.as_millis();
    assert!(
        ran < 4_000,
        "the step was cut off, not run to its end ({ran} ms)"
    );
    let finished = d.run.finished_at.unwrap().as_millis();
    assert!(finished >= started(&d.run) + 600, "not before the deadline");
    assert_eq!(d.run.next_step, 0, "a retry runs the step cut off");
}

#[tokio::test]
async fn a_run_under_its_timeout_succeeds() {
    let under = slow("under", "20s", 150);
    let f = fixture(&[&under]).await;
    f.engine.start();
    let d = f.finish(f.submit("under", json!({})).await).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
    assert_eq!(trail(&d), [("work".into(), 1), ("after".into(), 1)]);
}

#[tokio::test]
async fn a_waiting_run_times_out_at_its_deadline_and_a_retry_is_a_new_try() {
    let wait = waits("parked", "700ms", "wait: 1h");
    let backoff = r#"
id: backoff
timeout: 700ms
steps:
  - id: pause
    uses: probe/fail
    with: { kind: retryable, message: busy }
    retry: { attempts: 3, initial: 1h }
"#;
    let f = fixture(&[&wait, backoff]).await;
    f.engine.start();
    for wf in ["parked", "backoff"] {
        let run = f.submit(wf, json!({})).await;
        let waiting = until_status(&f.store, run, RunStatus::Waiting).await;
        let wake = waiting.wake.clone().unwrap();
        assert_eq!(wake.due.as_millis(), started(&waiting) + 700, "{wf}");
        assert_eq!(wake.purpose, TimerPurpose::Other("run timeout".into()));
        let d = f.finish(run).await;
        assert_eq!(d.run.status, RunStatus::Failed, "{wf}");
        assert_eq!(d.run.error, Some(timed_out("700ms")), "{wf}");
        assert!(d.attempts.iter().all(|a| a.step_id == "pause"), "{wf}");
    }

    // Retried by a user, the run gets a new try and a new deadline: the
    // step after the wait runs.
    let run = f.submit("parked", json!({})).await;
    let first = f.finish(run).await.run;
    let again = f.engine.retry(run, RetryFrom::FailedStep).await.unwrap();
    assert_eq!(again.try_started_at, None);
    let d = f.finish(run).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
    assert!(started(&d.run) > first.finished_at.unwrap().as_millis() - 1);
    assert_eq!(d.attempts.last().unwrap().step_id, "after");
}

#[tokio::test]
async fn the_deadline_holds_across_a_restart() {
    let wait = waits("parked", "1500ms", "wait: 3d");
    let slow_wf = slow("slow", "300ms", 100);
    let files = [wait.as_str(), slow_wf.as_str()];
    let dir = tempfile::tempdir().unwrap();

    let store = open_store(dir.path());
    let engine = engine_on(&store, &files).await;
    let parked = engine
        .submit("parked", TriggerKind::Manual, json!(null), json!({}), None)
        .await
        .unwrap()
        .run_id()
        .unwrap();
    // A run a previous process claimed, then died inside its first step.
    let cut = engine
        .submit("slow", TriggerKind::Manual, json!(null), json!({}), None)
        .await
        .unwrap()
        .run_id()
        .unwrap();
    let claimed = store
        .claim_runs("dead", 10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    store
        .start_attempt(
            cut,
            AttemptStart {
                step_id: "work".into(),
                step_index: 0,
                attempt: 1,
                item: None,
                input: json!({"ms": 100}),
                idempotency_key: format!("{cut}/work"),
                started_at: Timestamp::now(),
            },
        )
        .await
        .unwrap();
    // `cut` is past its deadline when the engine resumes it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let loops = engine.start();
    let c = engine
        .wait_finished(cut, Duration::from_secs(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, RunStatus::Failed);
    let d = store.run_detail(cut).await.unwrap().unwrap();
    assert_eq!(d.run.error, Some(timed_out("300ms")));
    assert_eq!(d.attempts.len(), 1, "the step is not run again");
    assert_eq!(error(&d.attempts[0]).kind, ErrorKind::Timeout);

    let waiting = until_status(&store, parked, RunStatus::Waiting).await;
    let deadline = started(&waiting) + 1_500;
    assert_eq!(waiting.wake.unwrap().due.as_millis(), deadline);
    engine.shutdown(Duration::from_secs(1)).await;
    loops.await.unwrap();
    drop(engine);
    drop(store);

    let store = reopen_store(dir.path()).await;
    let engine = engine_on(&store, &files).await;
    engine.start();
    let p = engine
        .wait_finished(parked, Duration::from_secs(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.status, RunStatus::Failed);
    assert_eq!(p.error, Some(timed_out("1s500ms")));
    assert!(p.finished_at.unwrap().as_millis() >= deadline);

    engine.shutdown(Duration::from_secs(1)).await;
}
