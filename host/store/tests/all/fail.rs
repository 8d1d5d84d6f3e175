//! Failing a run from outside its steps (a run timeout), and the start of
//! a run's current try.

use relais_store::{
    AttemptOutcome, ErrorKind, NextState, RetryFrom, RunId, RunStatus, StepError, StoreError,
    TimerPurpose,
};
use serde_json::json;

use crate::support::*;

fn timed_out() -> StepError {
    StepError {
        kind: ErrorKind::Timeout,
        message: "run timed out after 10m".into(),
        retry_after_ms: None,
    }
}

fn stopped() -> StepError {
    StepError {
        kind: ErrorKind::Timeout,
        message: "stopped: the run's timeout of 10m passed".into(),
        retry_after_ms: None,
    }
}

async fn running(f: &Fixture) -> RunId {
    let id = create(&f.store, new_run("wf", &f.rev, at(0))).await;
    assert_eq!(claim_all(&f.store, "w").await, [id]);
    id
}

#[tokio::test]
async fn failing_a_running_run_closes_its_open_attempts_only() {
    let f = fixture().await;
    let id = running(&f).await;
    let done = f.store.start_attempt(id, start("a", 0, 1, at(1))).await;
    let done = done.unwrap();
    f.store
        .end_attempt(
            id,
            done,
            ok_end(json!({"ok": 1}), at(2)),
            NextState::Continue { next_step: 1 },
        )
        .await
        .unwrap();
    let open1 = f.store.start_attempt(id, start("b", 1, 1, at(3))).await;
    let open2 = f.store.start_attempt(id, start("b", 1, 1, at(3))).await;
    let (open1, open2) = (open1.unwrap(), open2.unwrap());

    let run = f.store.fail_run(id, timed_out(), stopped()).await.unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error, Some(timed_out()));
    assert_eq!(run.next_step, 1, "where it stood");
    assert!(run.finished_at.is_some() && run.owner.is_none());

    let f = f.reopen();
    let d = f.store.run_detail(id).await.unwrap().unwrap();
    assert_eq!(d.run, run);
    assert_eq!(
        d.attempts[0].outcome,
        Some(AttemptOutcome::Succeeded {
            output: json!({"ok": 1})
        }),
        "an ended attempt is kept as it was"
    );
    for seq in [open1, open2] {
        let a = &d.attempts[seq as usize];
        assert_eq!(a.outcome, Some(AttemptOutcome::Failed { error: stopped() }));
        assert!(a.ended_at.is_some());
    }
    assert_eq!(f.store.count_runs(None).await.unwrap().failed, 1);
    assert_eq!(f.store.count_runs(None).await.unwrap().running, 0);

    // Nothing else happens to it.
    let refused = f.store.start_attempt(id, start("c", 2, 1, at(4))).await;
    assert!(matches!(refused, Err(StoreError::RunState { .. })));
    let late = f
        .store
        .end_attempt(id, open1, ok_end(json!({}), at(5)), NextState::Succeeded)
        .await;
    assert!(matches!(late, Err(StoreError::AttemptEnded { .. })));
}

#[tokio::test]
async fn failing_a_waiting_or_queued_run_drops_its_timer_and_queue_entry() {
    let f = fixture().await;
    let waiting = running(&f).await;
    f.store
        .schedule_timer(waiting, at(60_000), TimerPurpose::Delay)
        .await
        .unwrap();
    let queued = create(&f.store, new_run("wf", &f.rev, at(1))).await;
    for id in [waiting, queued] {
        let run = f.store.fail_run(id, timed_out(), stopped()).await.unwrap();
        assert_eq!(run.status, RunStatus::Failed);
        assert_eq!(run.wake, None);
    }
    assert_eq!(f.store.next_timer_due().await.unwrap(), None);
    assert!(
        f.store
            .pop_due_timers(at(120_000), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(claim_all(&f.store, "w").await.is_empty());
    let counts = f.store.count_runs(None).await.unwrap();
    assert_eq!((counts.failed, counts.total()), (2, 2), "{counts:?}");
}

#[tokio::test]
async fn a_finished_run_is_left_as_it_is() {
    let f = fixture().await;
    let ok = running(&f).await;
    f.store.advance_run(ok, NextState::Succeeded).await.unwrap();
    let cancelled = create(&f.store, new_run("wf", &f.rev, at(1))).await;
    f.store.cancel_run(cancelled).await.unwrap();
    for (id, status) in [
        (ok, RunStatus::Succeeded),
        (cancelled, RunStatus::Cancelled),
    ] {
        let before = f.store.run(id).await.unwrap().unwrap();
        let after = f.store.fail_run(id, timed_out(), stopped()).await.unwrap();
        assert_eq!(after, before);
        assert_eq!(after.status, status);
    }
    let missing = RunId::generate(at(5));
    let err = f.store.fail_run(missing, timed_out(), stopped()).await;
    assert!(matches!(err, Err(StoreError::RunNotFound { .. })));
}

#[tokio::test]
async fn a_try_starts_at_the_first_claim_and_again_after_a_user_retry() {
    let f = fixture().await;
    let id = create(&f.store, new_run("wf", &f.rev, at(0))).await;
    assert_eq!(f.store.run(id).await.unwrap().unwrap().try_started_at, None);
    claim_all(&f.store, "w").await;
    let first = f.store.run(id).await.unwrap().unwrap();
    let began = first.try_started_at.expect("set by the claim");
    assert_eq!(first.started_at, Some(began));

    // A timer puts it back in the queue; the next claim keeps the start.
    f.store
        .schedule_timer(id, at(0), TimerPurpose::Delay)
        .await
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    f.store.pop_due_timers(at(1), 10).await.unwrap();
    claim_all(&f.store, "w").await;
    let again = f.store.run(id).await.unwrap().unwrap();
    assert_eq!(again.try_started_at, Some(began));
    assert!(again.started_at > Some(began));

    f.store.fail_run(id, timed_out(), stopped()).await.unwrap();
    let retried = f.store.retry_run(id, RetryFrom::FailedStep).await.unwrap();
    assert_eq!(retried.try_started_at, None, "a retry is a new try");
    std::thread::sleep(std::time::Duration::from_millis(5));
    claim_all(&f.store, "w").await;
    let third = f.store.run(id).await.unwrap().unwrap();
    assert!(third.try_started_at > Some(began));
}
