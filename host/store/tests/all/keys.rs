//! Idempotency key generations: a retry by a user starts a new generation,
//! automatic retries and a resume after a crash keep it, and it survives a
//! reopen of the store.

use relais_store::{
    AttemptEnd, AttemptOutcome, ErrorKind, NextState, RetryFrom, Run, RunId, StepError,
    TimerPurpose, Timestamp,
};

use crate::support::*;

fn declined() -> StepError {
    StepError {
        kind: ErrorKind::Fatal,
        message: "card declined".into(),
        retry_after_ms: None,
    }
}

fn failed_end(t: Timestamp) -> AttemptEnd {
    AttemptEnd {
        outcome: AttemptOutcome::Failed { error: declined() },
        logs: Vec::new(),
        ended_at: t,
    }
}

async fn header(f: &Fixture, id: RunId) -> Run {
    f.store.run(id).await.unwrap().unwrap()
}

/// Claims the run and records one attempt of `pay` with the key its header
/// gives, ended with `next`; returns the key.
async fn attempt(f: &Fixture, id: RunId, attempt: u32, next: NextState) -> String {
    assert_eq!(claim_all(&f.store, "w").await, [id]);
    let key = header(f, id).await.idempotency_key("pay", None);
    let mut s = start("pay", 0, attempt, at(attempt.into()));
    s.idempotency_key = key.clone();
    let seq = f.store.start_attempt(id, s).await.unwrap();
    f.store
        .end_attempt(id, seq, failed_end(at(attempt.into())), next)
        .await
        .unwrap();
    key
}

#[tokio::test]
async fn a_retry_by_a_user_starts_a_new_key_generation() {
    let f = fixture().await;
    let id = create(&f.store, new_run("wf", &f.rev, at(0))).await;
    let run = header(&f, id).await;
    assert_eq!(run.key_generation(), 0);
    // Generation 0 keeps the keys runs always had.
    assert_eq!(run.idempotency_key("pay", None), format!("{id}/pay"));
    assert_eq!(run.idempotency_key("pay", Some(3)), format!("{id}/pay/3"));

    // An automatic retry (a back-off timer) keeps the key.
    let retry = NextState::Wait {
        next_step: 0,
        due: at(2),
        purpose: TimerPurpose::Retry,
    };
    let first = attempt(&f, id, 1, retry).await;
    assert_eq!(f.store.pop_due_timers(at(3), 10).await.unwrap().len(), 1);
    let failed = NextState::Failed { error: declined() };
    let second = attempt(&f, id, 2, failed.clone()).await;
    assert_eq!(first, second);
    assert_eq!(first, format!("{id}/pay"));

    // A user's retry: generation 1, for the step it runs again.
    let retried = f.store.retry_run(id, RetryFrom::FailedStep).await.unwrap();
    assert_eq!(retried.key_generation(), 1);
    assert_eq!(retried.idempotency_key("pay", None), format!("{id}/pay/g1"));
    assert_eq!(
        retried.idempotency_key("pay", Some(3)),
        format!("{id}/pay/3/g1")
    );

    // Durable: after a reopen, and on a run resumed after a crash.
    let f = f.reopen();
    assert_eq!(header(&f, id).await.key_generation(), 1);
    assert_eq!(claim_all(&f.store, "w").await, [id]);
    let f = f.reopen();
    let resumed = f.store.running_runs().await.unwrap();
    assert_eq!(resumed.len(), 1);
    assert_eq!(
        resumed[0].idempotency_key("pay", None),
        format!("{id}/pay/g1")
    );
    f.store
        .advance_run(id, failed.clone())
        .await
        .expect("fails again");

    // Every retry by a user, from the failed step or the start, is a new
    // generation.
    f.store.retry_run(id, RetryFrom::Start).await.unwrap();
    let third = attempt(&f, id, 3, failed).await;
    assert_eq!(third, format!("{id}/pay/g2"));
    let detail = f.store.run_detail(id).await.unwrap().unwrap();
    let keys: Vec<&str> = detail
        .attempts
        .iter()
        .map(|a| a.idempotency_key.as_str())
        .collect();
    assert_eq!(keys, [first.as_str(), first.as_str(), third.as_str()]);
}
