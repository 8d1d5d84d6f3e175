//! Step attempts stored with the run's next state.

use relais_store::{
    AttemptEnd, AttemptOutcome, ErrorKind, LogLevel, LogLine, NextState, RunStatus, StepError,
    StoreError, TimerPurpose,
};
use serde_json::json;

use crate::support::*;

fn retryable() -> StepError {
    StepError {
        kind: ErrorKind::Retryable,
        message: "503 from smtp relay".into(),
        retry_after_ms: Some(30_000),
    }
}

#[tokio::test]
async fn a_run_goes_step_by_step_through_a_retry_to_success() {
    let f = fixture().await;
    let id = create(&f.store, new_run("wf", &f.rev, at(0))).await;
    assert_eq!(claim_all(&f.store, "w").await, [id]);

    let s0 = f
        .store
        .start_attempt(id, start("customer", 0, 1, at(1)))
        .await
        .unwrap();
    assert_eq!(s0, 0);
    let end = AttemptEnd {
        outcome: AttemptOutcome::Succeeded {
            output: json!({"email": "a@example.com"}),
        },
        logs: vec![LogLine {
            at: at(2),
            level: LogLevel::Info,
            message: "found customer".into(),
        }],
        ended_at: at(3),
    };
    let status = f
        .store
        .end_attempt(id, s0, end, NextState::Continue { next_step: 1 })
        .await
        .unwrap();
    assert_eq!(status, RunStatus::Running);
    assert_eq!(f.store.run(id).await.unwrap().unwrap().next_step, 1);

    let s1 = f
        .store
        .start_attempt(id, start("email", 1, 1, at(4)))
        .await
        .unwrap();
    assert_eq!(s1, 1);
    let failed = AttemptEnd {
        outcome: AttemptOutcome::Failed { error: retryable() },
        logs: Vec::new(),
        ended_at: at(5),
    };
    let wait = NextState::Wait {
        next_step: 1,
        due: at(30_005),
        purpose: TimerPurpose::Retry,
    };
    let status = f.store.end_attempt(id, s1, failed, wait).await.unwrap();
    assert_eq!(status, RunStatus::Waiting);
    assert_eq!(f.store.next_timer_due().await.unwrap(), Some(at(30_005)));
    assert!(
        claim_all(&f.store, "w").await.is_empty(),
        "waiting runs are not queued"
    );
    assert!(
        f.store
            .pop_due_timers(at(30_004), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let fired = f.store.pop_due_timers(at(30_005), 10).await.unwrap();
    assert_eq!(fired.len(), 1);
    assert_eq!((fired[0].run_id, fired[0].due), (id, at(30_005)));
    assert_eq!(fired[0].purpose, TimerPurpose::Retry);
    assert_eq!(f.store.next_timer_due().await.unwrap(), None);

    assert_eq!(claim_all(&f.store, "w").await, [id]);
    let run = f.store.run(id).await.unwrap().unwrap();
    assert_eq!(run.next_step, 1, "resumes at the step that failed");
    let s2 = f
        .store
        .start_attempt(id, start("email", 1, 2, at(30_006)))
        .await
        .unwrap();
    let status = f
        .store
        .end_attempt(
            id,
            s2,
            ok_end(json!({"sent": true}), at(30_007)),
            NextState::Succeeded,
        )
        .await
        .unwrap();
    assert_eq!(status, RunStatus::Succeeded);

    let detail = f.store.run_detail(id).await.unwrap().unwrap();
    assert_eq!(detail.run.status, RunStatus::Succeeded);
    assert_eq!(detail.run.finished_at, Some(at(30_007)));
    assert_eq!(detail.run.owner, None);
    let a = &detail.attempts;
    assert_eq!(a.len(), 3);
    assert_eq!(
        a.iter()
            .map(|x| (x.seq, x.step_id.as_str(), x.attempt))
            .collect::<Vec<_>>(),
        [(0, "customer", 1), (1, "email", 1), (2, "email", 2)]
    );
    assert_eq!(a[0].logs[0].message, "found customer");
    assert_eq!(a[0].input, json!({"step": "customer"}));
    assert_eq!(a[1].idempotency_key, "idem-email");
    assert_eq!(
        a[1].outcome,
        Some(AttemptOutcome::Failed { error: retryable() })
    );
    assert_eq!(
        (a[2].started_at, a[2].ended_at),
        (at(30_006), Some(at(30_007)))
    );
    let counts = f.store.count_runs(None).await.unwrap();
    assert_eq!((counts.succeeded, counts.total()), (1, 1));
}

#[tokio::test]
async fn attempt_ends_are_recorded_once_and_only_for_known_attempts() {
    let f = fixture().await;
    let id = create(&f.store, new_run("wf", &f.rev, at(0))).await;
    claim_all(&f.store, "w").await;
    let seq = f
        .store
        .start_attempt(id, start("a", 0, 1, at(1)))
        .await
        .unwrap();
    f.store
        .end_attempt(
            id,
            seq,
            ok_end(json!(1), at(2)),
            NextState::Continue { next_step: 1 },
        )
        .await
        .unwrap();
    let err = f
        .store
        .end_attempt(
            id,
            seq,
            ok_end(json!(2), at(3)),
            NextState::Continue { next_step: 1 },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::AttemptEnded { seq: 0, .. }),
        "{err}"
    );
    let err = f
        .store
        .end_attempt(id, 7, ok_end(json!(2), at(3)), NextState::Succeeded)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::AttemptNotFound { seq: 7, .. }),
        "{err}"
    );
    // The refused end changed nothing.
    let detail = f.store.run_detail(id).await.unwrap().unwrap();
    assert_eq!(detail.run.status, RunStatus::Running);
    assert_eq!(
        detail.attempts[0].outcome,
        Some(AttemptOutcome::Succeeded { output: json!(1) })
    );
}

#[tokio::test]
async fn steps_start_only_on_running_runs() {
    let f = fixture().await;
    let id = create(&f.store, new_run("wf", &f.rev, at(0))).await;
    let err = f
        .store
        .start_attempt(id, start("a", 0, 1, at(1)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::RunState {
                status: RunStatus::Queued,
                ..
            }
        ),
        "{err}"
    );
    claim_all(&f.store, "w").await;
    let err = f
        .store
        .start_attempt(id, start("", 0, 1, at(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
    let mut long_key = start("a", 0, 1, at(1));
    long_key.idempotency_key = "k".repeat(513);
    assert!(f.store.start_attempt(id, long_key).await.is_err());
    let missing = relais_store::RunId::generate(at(0));
    let err = f
        .store
        .start_attempt(missing, start("a", 0, 1, at(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::RunNotFound { .. }));
    assert_eq!(
        f.store
            .run_detail(id)
            .await
            .unwrap()
            .unwrap()
            .attempts
            .len(),
        0
    );
}

#[tokio::test]
async fn a_fatal_step_error_fails_the_run_at_that_step() {
    let f = fixture().await;
    let id = create(&f.store, new_run("wf", &f.rev, at(0))).await;
    claim_all(&f.store, "w").await;
    f.store
        .advance_run(id, NextState::Continue { next_step: 3 })
        .await
        .unwrap();
    let seq = f
        .store
        .start_attempt(id, start("suspend", 3, 1, at(1)))
        .await
        .unwrap();
    let error = StepError {
        kind: ErrorKind::Timeout,
        message: "no answer in 30s".into(),
        retry_after_ms: None,
    };
    let end = AttemptEnd {
        outcome: AttemptOutcome::Failed {
            error: error.clone(),
        },
        logs: Vec::new(),
        ended_at: at(2),
    };
    let status = f
        .store
        .end_attempt(
            id,
            seq,
            end,
            NextState::Failed {
                error: error.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(status, RunStatus::Failed);
    let run = f.store.run(id).await.unwrap().unwrap();
    assert_eq!((run.next_step, run.error.clone()), (3, Some(error)));
    let json = serde_json::to_value(&run).unwrap();
    assert_eq!(json["error"]["kind"], "timeout");
}

#[tokio::test]
async fn a_running_run_can_be_handed_back_to_the_queue() {
    let f = fixture().await;
    let id = create(&f.store, new_run("wf", &f.rev, at(0))).await;
    claim_all(&f.store, "w").await;
    let status = f
        .store
        .advance_run(id, NextState::Requeue { next_step: 2 })
        .await
        .unwrap();
    assert_eq!(status, RunStatus::Queued);
    let run = f.store.run(id).await.unwrap().unwrap();
    assert_eq!((run.owner, run.next_step), (None, 2));
    assert_eq!(claim_all(&f.store, "other").await, [id]);
    // advance_run refuses runs that are not running.
    f.store.cancel_run(id).await.unwrap();
    let err = f
        .store
        .advance_run(id, NextState::Succeeded)
        .await
        .unwrap_err();
    assert!(err.is_cancelled());
}

#[tokio::test]
async fn a_whole_attempt_is_recorded_in_one_operation_on_running_runs_only() {
    let f = fixture().await;
    let id = create(&f.store, new_run("wf", &f.rev, at(0))).await;
    let whole = |ended_at| AttemptEnd {
        outcome: AttemptOutcome::Succeeded {
            output: json!({"plan": "pro"}),
        },
        logs: Vec::new(),
        ended_at,
    };
    let err = f
        .store
        .record_attempt(
            id,
            start("set", 0, 1, at(1)),
            whole(at(1)),
            NextState::Succeeded,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::RunState { .. }), "{err}");

    claim_all(&f.store, "w").await;
    let (seq, status) = f
        .store
        .record_attempt(
            id,
            start("set", 0, 1, at(2)),
            whole(at(3)),
            NextState::Continue { next_step: 1 },
        )
        .await
        .unwrap();
    assert_eq!((seq, status), (0, RunStatus::Running));
    let (seq, status) = f
        .store
        .record_attempt(
            id,
            start("done", 1, 1, at(4)),
            whole(at(5)),
            NextState::Succeeded,
        )
        .await
        .unwrap();
    assert_eq!((seq, status), (1, RunStatus::Succeeded));
    let detail = f.store.run_detail(id).await.unwrap().unwrap();
    assert_eq!(detail.run.attempts, 2);
    assert_eq!(detail.run.finished_at, Some(at(5)));
    let first = &detail.attempts[0];
    assert_eq!((first.started_at, first.ended_at), (at(2), Some(at(3))));
    assert_eq!(
        first.outcome,
        Some(AttemptOutcome::Succeeded {
            output: json!({"plan": "pro"})
        })
    );

    // A cancelled run records nothing more.
    let other = create(&f.store, new_run("wf", &f.rev, at(6))).await;
    claim_all(&f.store, "w").await;
    f.store.cancel_run(other).await.unwrap();
    let err = f
        .store
        .record_attempt(
            other,
            start("set", 0, 1, at(7)),
            whole(at(7)),
            NextState::Succeeded,
        )
        .await
        .unwrap_err();
    assert!(err.is_cancelled(), "{err}");
    let detail = f.store.run_detail(other).await.unwrap().unwrap();
    assert!(detail.attempts.is_empty());
    assert_eq!(detail.run.status, RunStatus::Cancelled);
}
