//! Retries, fallbacks, `continue_on_error`, user retries, cancel,
//! per-workflow concurrency and what `submit` refuses.

use std::time::Duration;

use relais_engine::EngineError;
use relais_store::{ErrorKind, RetryFrom, RunGuard, RunStatus, Timestamp, TriggerKind};
use serde_json::{Value, json};

use crate::*;

fn failing(id: &str, kind: &str, extra: &str) -> String {
    format!(
        r#"
id: {id}
steps:
  - id: first
    uses: probe/echo
  - id: flaky
    uses: probe/fail
    with: {{ kind: {kind}, message: "nope {kind}" }}
    retry: {{ attempts: 3, initial: 20ms, jitter: 0.5 }}
{extra}"#
    )
}

#[tokio::test]
async fn retryable_errors_are_retried_then_fail_the_run() {
    let wf = failing("r", "retryable", "");
    let f = fixture(&[&wf]).await;
    f.engine.start();
    let run = f.submit("r", json!({})).await;
    let d = f.finish(run).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    assert_eq!(
        trail(&d),
        [
            ("first".into(), 1),
            ("flaky".into(), 1),
            ("flaky".into(), 2),
            ("flaky".into(), 3)
        ]
    );
    let keys: Vec<_> = d.attempts[1..].iter().map(|a| &a.idempotency_key).collect();
    assert!(keys.iter().all(|k| **k == format!("{run}/flaky")));
    let err = d.run.error.clone().unwrap();
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert_eq!(err.message, "step flaky: nope retryable");
    assert_eq!(d.run.next_step, 1, "the failed step");
}

#[tokio::test]
async fn fatal_and_invalid_input_are_never_retried() {
    let fatal = failing("fa", "fatal", "");
    let invalid = failing("inv", "invalid-input", "");
    let f = fixture(&[&fatal, &invalid]).await;
    f.engine.start();
    for (wf, kind) in [("fa", ErrorKind::Fatal), ("inv", ErrorKind::InvalidInput)] {
        let d = f.finish(f.submit(wf, json!({})).await).await;
        assert_eq!(d.run.status, RunStatus::Failed);
        assert_eq!(trail(&d), [("first".into(), 1), ("flaky".into(), 1)]);
        assert_eq!(error(&d.attempts[1]).kind, kind);
    }
}

#[tokio::test]
async fn retry_after_from_the_plugin_sets_the_delay() {
    let f = fixture(&[r#"
id: ra
steps:
  - id: flaky
    uses: probe/fail
    with: { kind: retryable, message: busy, retry_after_ms: 300 }
    retry: { attempts: 2, initial: 1ms }
"#])
    .await;
    f.engine.start();
    let run = f.submit("ra", json!({})).await;
    let waiting = until_status(&f.store, run, RunStatus::Waiting).await;
    let wake = waiting.wake.unwrap();
    let d = f.finish(run).await;
    let (first, second) = (&d.attempts[0], &d.attempts[1]);
    let gap = second.started_at.as_millis() - first.ended_at.unwrap().as_millis();
    assert!(gap >= 290, "retried after {gap} ms");
    assert!(wake.due.as_millis() >= first.ended_at.unwrap().as_millis() + 300);
}

#[tokio::test]
async fn a_fallback_handles_a_failure_and_the_run_goes_on() {
    let wf = failing(
        "fb",
        "fatal",
        r#"    on_failure: notify
  - id: notify
    uses: probe/echo
    with: { failed: "{{ steps.flaky.failed }}" }
  - id: last
    uses: probe/echo
    with: { ok: true }
"#,
    );
    let f = fixture(&[&wf]).await;
    f.engine.start();
    let d = f.finish(f.submit("fb", json!({})).await).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
    assert_eq!(
        trail(&d),
        [
            ("first".into(), 1),
            ("flaky".into(), 1),
            ("notify".into(), 1),
            ("last".into(), 1)
        ]
    );
    assert_eq!(output(&d.attempts[2]), &json!({"failed": true}));
}

#[tokio::test]
async fn a_failing_fallback_fails_the_run_at_the_original_step() {
    let wf = failing(
        "fb2",
        "fatal",
        r#"    on_failure: notify
  - id: notify
    uses: probe/fail
    with: { kind: fatal, message: "sms down" }
  - id: last
    uses: probe/echo
"#,
    );
    let f = fixture(&[&wf]).await;
    f.engine.start();
    let d = f.finish(f.submit("fb2", json!({})).await).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    assert_eq!(d.run.next_step, 1, "retry resumes at the original step");
    assert_eq!(d.run.error.unwrap().message, "step notify: sms down");
    assert!(d.attempts.iter().all(|a| a.step_id != "last"));
}

#[tokio::test]
async fn continue_on_error_goes_on_and_if_skips() {
    let wf = failing(
        "coe",
        "fatal",
        r#"    continue_on_error: true
  - id: only_if_failed
    if: "{{ steps.flaky.failed }}"
    uses: probe/echo
    with: { seen: "{{ steps.flaky.error }}" }
  - id: only_if_ok
    if: "{{ steps.flaky.succeeded }}"
    uses: probe/echo
"#,
    );
    let f = fixture(&[&wf]).await;
    f.engine.start();
    let d = f.finish(f.submit("coe", json!({})).await).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
    assert_eq!(
        trail(&d),
        [
            ("first".into(), 1),
            ("flaky".into(), 1),
            ("only_if_failed".into(), 1)
        ]
    );
    assert_eq!(output(&d.attempts[2]), &json!({"seen": "nope fatal"}));
}

#[tokio::test]
async fn a_failed_run_is_retried_from_its_failed_step_or_the_start() {
    let wf = failing("rt", "fatal", "");
    let f = fixture(&[&wf]).await;
    f.engine.start();
    let run = f.submit("rt", json!({})).await;
    f.finish(run).await;
    f.engine.retry(run, RetryFrom::FailedStep).await.unwrap();
    let d = f.finish(run).await;
    assert_eq!(
        trail(&d),
        [
            ("first".into(), 1),
            ("flaky".into(), 1),
            ("flaky".into(), 1)
        ],
        "earlier outputs kept, a fresh budget"
    );
    f.engine.retry(run, RetryFrom::Start).await.unwrap();
    let d = f.finish(run).await;
    assert_eq!(d.attempts.len(), 5);
    assert_eq!(trail(&d)[3..], [("first".into(), 1), ("flaky".into(), 1)]);
    assert_eq!(d.run.retries, 2);
    // A succeeded run cannot be retried from a failed step.
    let ok = fixture(&[r#"
id: ok
steps:
  - id: a
    uses: probe/noop
"#])
    .await;
    ok.engine.start();
    let run = ok.submit("ok", json!({})).await;
    ok.finish(run).await;
    assert!(ok.engine.retry(run, RetryFrom::FailedStep).await.is_err());
}

#[tokio::test]
async fn a_cancelled_run_starts_no_further_step() {
    let f = fixture(&[r#"
id: cx
steps:
  - id: a
    uses: probe/noop
  - id: pause
    wait: 1h
  - id: b
    uses: probe/noop
"#])
    .await;
    f.engine.start();
    let run = f.submit("cx", json!({})).await;
    until_status(&f.store, run, RunStatus::Waiting).await;
    let cancelled = f.engine.cancel(run).await.unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    f.engine.wake();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let d = f.detail(run).await;
    assert_eq!(d.run.status, RunStatus::Cancelled);
    assert_eq!(trail(&d), [("a".into(), 1), ("pause".into(), 1)]);
    assert_eq!(f.store.next_timer_due().await.unwrap(), None);
}

#[tokio::test]
async fn concurrency_limits_runs_of_a_workflow() {
    let f = fixture(&[r#"
id: one_at_a_time
concurrency: 1
steps:
  - id: a
    uses: probe/sleep
    with: { ms: 60 }
"#])
    .await;
    f.engine.start();
    let mut runs = Vec::new();
    for _ in 0..4 {
        runs.push(f.submit("one_at_a_time", json!({})).await);
    }
    let mut spans = Vec::new();
    for run in runs {
        let d = f.finish(run).await;
        assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
        let a = &d.attempts[0];
        spans.push((a.started_at.as_millis(), a.ended_at.unwrap().as_millis()));
    }
    spans.sort();
    for pair in spans.windows(2) {
        assert!(pair[1].0 >= pair[0].1, "overlap: {spans:?}");
    }
}

#[tokio::test]
async fn submit_checks_the_workflow_the_input_and_the_guard() {
    let f = fixture(&[r#"
id: typed
input:
  type: object
  required: [email]
  properties: { email: { type: string } }
steps:
  - id: a
    uses: probe/noop
"#])
    .await;
    let err = f
        .engine
        .submit("nope", TriggerKind::Manual, Value::Null, json!({}), None)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::UnknownWorkflow { ref id } if id == "nope"));
    let err = f
        .engine
        .submit(
            "typed",
            TriggerKind::Manual,
            Value::Null,
            json!({"email": 3}),
            None,
        )
        .await
        .unwrap_err();
    let EngineError::InvalidInput { problems, .. } = err else {
        panic!("{err}")
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("/email: "), "{problems:?}");
    let guard = || {
        Some(RunGuard::Dedupe {
            key: "evt_1".into(),
            expires_at: Timestamp::now().saturating_add(Duration::from_secs(60)),
        })
    };
    let payload = json!({"body": {"id": "evt_1"}});
    let first = f
        .engine
        .submit(
            "typed",
            TriggerKind::Webhook,
            payload.clone(),
            json!({}),
            guard(),
        )
        .await
        .unwrap();
    let second = f
        .engine
        .submit("typed", TriggerKind::Webhook, payload, json!({}), guard())
        .await
        .unwrap();
    assert!(matches!(first, relais_store::CreateOutcome::Created(_)));
    assert_eq!(
        second,
        relais_store::CreateOutcome::Existing(first.run_id().unwrap())
    );
}
