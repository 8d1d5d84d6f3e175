//! Run creation, claiming, resume after restart, cancel and retry.

use std::time::Duration;

use relais_store::{
    CreateOutcome, ErrorKind, NextState, RetryFrom, RunStatus, StepError, StoreError, Timestamp,
};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_created_run_is_queued_with_its_payload_and_revision() {
    let f = fixture().await;
    let id = create(&f.store, new_run("wf", &f.rev, at(5))).await;
    let detail = f.store.run_detail(id).await.unwrap().unwrap();
    assert_eq!(detail.run.status, RunStatus::Queued);
    assert_eq!(detail.run.workflow_id, "wf");
    assert_eq!(detail.run.revision, f.rev);
    assert_eq!(detail.run.next_step, 0);
    assert_eq!(detail.run.created_at, at(5));
    assert_eq!(detail.payload, json!({"body": {"id": "evt_1"}}));
    assert_eq!(detail.input, json!({"customer": "cus_1"}));
    assert!(detail.attempts.is_empty());
    assert_eq!(id.timestamp(), at(5));
    assert_eq!(f.store.count_runs(None).await.unwrap().queued, 1);
    assert_eq!(f.store.count_runs(Some("wf")).await.unwrap().queued, 1);
    assert_eq!(f.store.count_runs(Some("other")).await.unwrap().queued, 0);

    let rev = f.store.revision("wf", &f.rev).await.unwrap().unwrap();
    assert_eq!(rev.source, SOURCE);
    assert_eq!(rev.path, "workflows/wf.yaml");
    assert_eq!(rev.hash.len(), 64);
}

#[tokio::test]
async fn revisions_are_stored_once_per_content() {
    let f = fixture().await;
    let again = f
        .store
        .put_revision("wf", SOURCE, "elsewhere.yaml", at(9))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.hash, f.rev);
    // The first path and time are kept.
    let rev = f.store.revision("wf", &f.rev).await.unwrap().unwrap();
    assert_eq!(
        (rev.path.as_str(), rev.stored_at),
        ("workflows/wf.yaml", at(0))
    );
    let changed = f
        .store
        .put_revision("wf", "id: wf\n# changed\n", "workflows/wf.yaml", at(10))
        .await
        .unwrap();
    assert!(changed.created);
    assert_ne!(changed.hash, f.rev);
    assert!(f.store.revision("wf", "nope").await.unwrap().is_none());
    assert!(f.store.revision("third", &f.rev).await.unwrap().is_none());
}

#[tokio::test]
async fn a_run_of_an_unknown_revision_is_refused_and_nothing_is_created() {
    let f = fixture().await;
    let err = f
        .store
        .create_run(new_run("wf", "0000", at(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::RevisionNotFound { .. }), "{err}");
    // The revision of another workflow does not count.
    let err = f
        .store
        .create_run(new_run("third", &f.rev, at(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::RevisionNotFound { .. }), "{err}");
    assert_eq!(f.store.count_runs(None).await.unwrap().total(), 0);
}

#[tokio::test]
async fn bad_run_fields_are_refused_on_both_sides_of_each_limit() {
    let f = fixture().await;
    for wf in ["", "a\u{0}b", "line\nbreak"] {
        let err = f.store.create_run(new_run(wf, &f.rev, at(1))).await;
        assert!(matches!(err, Err(StoreError::Invalid { .. })), "{wf:?}");
    }
    let long = "w".repeat(257);
    let err = f.store.create_run(new_run(&long, &f.rev, at(1))).await;
    assert!(matches!(err, Err(StoreError::Invalid { .. })));
    let longest = "w".repeat(256);
    f.store
        .put_revision(&longest, SOURCE, "p", at(0))
        .await
        .unwrap();
    create(&f.store, new_run(&longest, &f.rev, at(1))).await;

    let err = f.store.create_run(new_run("wf", "", at(1))).await;
    assert!(matches!(err, Err(StoreError::Invalid { .. })));

    let expires = at(1000);
    let err = f
        .store
        .create_run(with_dedupe(new_run("wf", &f.rev, at(1)), "", expires))
        .await;
    assert!(matches!(err, Err(StoreError::Invalid { .. })));
    let err = f
        .store
        .create_run(with_dedupe(
            new_run("wf", &f.rev, at(1)),
            &"k".repeat(1025),
            expires,
        ))
        .await;
    assert!(matches!(err, Err(StoreError::Invalid { .. })));
    let key = "k".repeat(1024);
    create(
        &f.store,
        with_dedupe(new_run("wf", &f.rev, at(1)), &key, expires),
    )
    .await;
}

#[tokio::test]
async fn claims_take_the_oldest_queued_runs_and_mark_them_running() {
    let f = fixture().await;
    let a = create(&f.store, new_run("wf", &f.rev, at(1))).await;
    let b = create(&f.store, new_run("wf", &f.rev, at(2))).await;
    let c = create(&f.store, new_run("other", &f.rev, at(3))).await;
    let claimed = f
        .store
        .claim_runs("worker-1", 2, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|r| r.id).collect::<Vec<_>>(), [a, b]);
    for run in &claimed {
        assert_eq!(run.status, RunStatus::Running);
        assert_eq!(run.owner.as_deref(), Some("worker-1"));
        let lease = run.lease_until.unwrap().as_millis();
        let now = Timestamp::now().as_millis();
        assert!(
            lease > now + 25_000 && lease <= now + 30_000,
            "lease {lease}"
        );
    }
    let stored = f.store.run(a).await.unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Running);
    assert_eq!(claim_all(&f.store, "worker-2").await, [c]);
    assert!(claim_all(&f.store, "worker-2").await.is_empty());
    let counts = f.store.count_runs(None).await.unwrap();
    assert_eq!((counts.queued, counts.running), (0, 3));
    let err = f.store.claim_runs("", 1, Duration::from_secs(1)).await;
    assert!(matches!(err, Err(StoreError::Invalid { .. })));
}

#[tokio::test]
async fn runs_left_running_are_found_after_reopening() {
    let f = fixture().await;
    let a = create(&f.store, new_run("wf", &f.rev, at(1))).await;
    let b = create(&f.store, new_run("wf", &f.rev, at(2))).await;
    let queued = create(&f.store, new_run("wf", &f.rev, at(3))).await;
    f.store
        .claim_runs("host-a", 2, Duration::from_secs(30))
        .await
        .unwrap();
    let seq = f
        .store
        .start_attempt(a, start("first", 0, 1, at(10)))
        .await
        .unwrap();
    f.store
        .end_attempt(
            a,
            seq,
            ok_end(json!(1), at(11)),
            NextState::Continue { next_step: 1 },
        )
        .await
        .unwrap();

    let f = f.reopen();
    let running = f.store.running_runs().await.unwrap();
    assert_eq!(running.iter().map(|r| r.id).collect::<Vec<_>>(), [a, b]);
    assert_eq!(
        running[0].next_step, 1,
        "resumes at the first unfinished step"
    );
    assert_eq!(running[0].owner.as_deref(), Some("host-a"));
    assert_eq!(running[1].next_step, 0);
    // The queue survived too.
    assert_eq!(claim_all(&f.store, "host-b").await, [queued]);
}

#[tokio::test]
async fn a_cancelled_run_starts_no_further_step() {
    let f = fixture().await;
    let queued = create(&f.store, new_run("wf", &f.rev, at(1))).await;
    let cancelled = f.store.cancel_run(queued).await.unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    assert!(cancelled.finished_at.is_some());
    assert!(claim_all(&f.store, "w").await.is_empty(), "left the queue");
    // Cancelling again changes nothing.
    assert_eq!(f.store.cancel_run(queued).await.unwrap(), cancelled);

    let running = create(&f.store, new_run("wf", &f.rev, at(2))).await;
    claim_all(&f.store, "w").await;
    let seq = f
        .store
        .start_attempt(running, start("s", 0, 1, at(3)))
        .await
        .unwrap();
    f.store.cancel_run(running).await.unwrap();
    // The step that was running still gets its end recorded ...
    let status = f
        .store
        .end_attempt(
            running,
            seq,
            ok_end(json!("done"), at(4)),
            NextState::Continue { next_step: 1 },
        )
        .await
        .unwrap();
    assert_eq!(status, RunStatus::Cancelled);
    // ... but no further step starts.
    let err = f
        .store
        .start_attempt(running, start("t", 1, 1, at(5)))
        .await
        .unwrap_err();
    assert!(err.is_cancelled(), "{err}");
    let detail = f.store.run_detail(running).await.unwrap().unwrap();
    assert_eq!(detail.run.status, RunStatus::Cancelled);
    assert_eq!(detail.run.next_step, 0);
    assert_eq!(detail.attempts.len(), 1);
    assert_eq!(detail.attempts[0].ended_at, Some(at(4)));

    let missing = relais_store::RunId::generate(at(0));
    let err = f.store.cancel_run(missing).await.unwrap_err();
    assert!(matches!(err, StoreError::RunNotFound { .. }));
}

#[tokio::test]
async fn a_finished_run_cannot_be_cancelled() {
    let f = fixture().await;
    let id = create(&f.store, new_run("wf", &f.rev, at(1))).await;
    claim_all(&f.store, "w").await;
    f.store.advance_run(id, NextState::Succeeded).await.unwrap();
    let err = f.store.cancel_run(id).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::RunState {
                status: RunStatus::Succeeded,
                ..
            }
        ),
        "{err}"
    );
}

fn fatal(message: &str) -> StepError {
    StepError {
        kind: ErrorKind::Fatal,
        message: message.to_owned(),
        retry_after_ms: None,
    }
}

#[tokio::test]
async fn a_failed_run_is_retried_from_the_failed_step_or_the_start() {
    let f = fixture().await;
    let id = create(&f.store, new_run("wf", &f.rev, at(1))).await;
    claim_all(&f.store, "w").await;
    let s0 = f
        .store
        .start_attempt(id, start("a", 0, 1, at(2)))
        .await
        .unwrap();
    f.store
        .end_attempt(
            id,
            s0,
            ok_end(json!(0), at(3)),
            NextState::Continue { next_step: 1 },
        )
        .await
        .unwrap();
    let s1 = f
        .store
        .start_attempt(id, start("b", 1, 1, at(4)))
        .await
        .unwrap();
    let end = relais_store::AttemptEnd {
        outcome: relais_store::AttemptOutcome::Failed {
            error: fatal("card declined"),
        },
        logs: Vec::new(),
        ended_at: at(5),
    };
    let status = f
        .store
        .end_attempt(
            id,
            s1,
            end,
            NextState::Failed {
                error: fatal("card declined"),
            },
        )
        .await
        .unwrap();
    assert_eq!(status, RunStatus::Failed);
    let failed = f.store.run(id).await.unwrap().unwrap();
    assert_eq!(failed.next_step, 1, "the failed step");
    assert_eq!(failed.error, Some(fatal("card declined")));
    assert_eq!(failed.finished_at, Some(at(5)));

    let retried = f.store.retry_run(id, RetryFrom::FailedStep).await.unwrap();
    assert_eq!(retried.status, RunStatus::Queued);
    assert_eq!(retried.next_step, 1);
    assert_eq!(retried.retries, 1);
    assert_eq!((retried.history_from, retried.budget_from), (0, 2));
    assert_eq!(retried.error, None);
    assert_eq!(retried.finished_at, None);
    // Retrying a run that is not finished is refused.
    let err = f.store.retry_run(id, RetryFrom::Start).await.unwrap_err();
    assert!(matches!(
        err,
        StoreError::RunState {
            status: RunStatus::Queued,
            ..
        }
    ));

    assert_eq!(claim_all(&f.store, "w").await, [id]);
    let s2 = f
        .store
        .start_attempt(id, start("b", 1, 2, at(6)))
        .await
        .unwrap();
    assert_eq!(s2, 2);
    f.store
        .end_attempt(id, s2, ok_end(json!(1), at(7)), NextState::Succeeded)
        .await
        .unwrap();
    // A succeeded run has no failed step, but can start over.
    let err = f
        .store
        .retry_run(id, RetryFrom::FailedStep)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::RunState {
            status: RunStatus::Succeeded,
            ..
        }
    ));
    let again = f.store.retry_run(id, RetryFrom::Start).await.unwrap();
    assert_eq!((again.next_step, again.retries), (0, 2));
    assert_eq!((again.history_from, again.budget_from), (3, 3));
    let detail = f.store.run_detail(id).await.unwrap().unwrap();
    assert_eq!(detail.attempts.len(), 3, "history kept");
    let counts = f.store.count_runs(None).await.unwrap();
    assert_eq!((counts.queued, counts.failed, counts.succeeded), (1, 0, 0));
}

#[tokio::test]
async fn guards_are_recorded_on_the_run() {
    let f = fixture().await;
    let id = create(
        &f.store,
        with_dedupe(new_run("wf", &f.rev, at(1)), "evt_9", at(100)),
    )
    .await;
    let run = f.store.run(id).await.unwrap().unwrap();
    assert_eq!(run.dedupe_key.as_deref(), Some("evt_9"));
    let slot = at(60_000);
    let outcome = f
        .store
        .create_run(with_slot(new_run("wf", &f.rev, at(2)), slot))
        .await
        .unwrap();
    let CreateOutcome::Created(cron) = outcome else {
        panic!("{outcome:?}")
    };
    let run = f.store.run(cron).await.unwrap().unwrap();
    assert_eq!(run.cron_slot, Some(slot));
    assert_eq!(run.trigger, relais_store::TriggerKind::Cron);
}
