//! Durable timers.

use relais_store::{RunStatus, StoreError, TimerPurpose};

use crate::support::*;

#[tokio::test]
async fn timers_survive_reopening_and_fire_earliest_first() {
    let f = fixture().await;
    let mut ids = Vec::new();
    for due in [3_000, 1_000, 2_000] {
        let id = create(&f.store, new_run("wf", &f.rev, at(due))).await;
        f.store
            .schedule_timer(id, at(due), TimerPurpose::Delay)
            .await
            .unwrap();
        ids.push(id);
    }
    assert_eq!(f.store.count_runs(None).await.unwrap().waiting, 3);
    assert!(claim_all(&f.store, "w").await.is_empty());

    let f = f.reopen();
    assert_eq!(f.store.next_timer_due().await.unwrap(), Some(at(1_000)));
    let fired = f.store.pop_due_timers(at(2_500), 10).await.unwrap();
    assert_eq!(
        fired.iter().map(|t| t.run_id).collect::<Vec<_>>(),
        [ids[1], ids[2]]
    );
    assert_eq!(f.store.next_timer_due().await.unwrap(), Some(at(3_000)));
    assert_eq!(claim_all(&f.store, "w").await, [ids[1], ids[2]]);
    let f = f.reopen();
    let fired = f.store.pop_due_timers(at(10_000), 10).await.unwrap();
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].run_id, ids[0]);
    assert_eq!(f.store.next_timer_due().await.unwrap(), None);
}

#[tokio::test]
async fn popping_is_bounded() {
    let f = fixture().await;
    for i in 0..5 {
        let id = create(&f.store, new_run("wf", &f.rev, at(0))).await;
        f.store
            .schedule_timer(id, at(100 + i), TimerPurpose::Retry)
            .await
            .unwrap();
    }
    assert_eq!(f.store.pop_due_timers(at(1_000), 2).await.unwrap().len(), 2);
    assert_eq!(f.store.pop_due_timers(at(1_000), 2).await.unwrap().len(), 2);
    assert_eq!(f.store.pop_due_timers(at(1_000), 2).await.unwrap().len(), 1);
    assert!(
        f.store
            .pop_due_timers(at(1_000), 2)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(f.store.count_runs(None).await.unwrap().queued, 5);
}

#[tokio::test]
async fn a_new_timer_replaces_the_old_one() {
    let f = fixture().await;
    let id = create(&f.store, new_run("wf", &f.rev, at(0))).await;
    f.store
        .schedule_timer(id, at(100), TimerPurpose::Delay)
        .await
        .unwrap();
    f.store
        .schedule_timer(id, at(500), TimerPurpose::Other("poll".into()))
        .await
        .unwrap();
    assert_eq!(f.store.next_timer_due().await.unwrap(), Some(at(500)));
    assert!(
        f.store
            .pop_due_timers(at(499), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let fired = f.store.pop_due_timers(at(500), 10).await.unwrap();
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].purpose, TimerPurpose::Other("poll".into()));
    let run = f.store.run(id).await.unwrap().unwrap();
    assert_eq!((run.status, run.wake), (RunStatus::Queued, None));
}

#[tokio::test]
async fn cancelling_removes_the_timer_and_finished_runs_get_none() {
    let f = fixture().await;
    let id = create(&f.store, new_run("wf", &f.rev, at(0))).await;
    f.store
        .schedule_timer(id, at(100), TimerPurpose::Delay)
        .await
        .unwrap();
    f.store.cancel_run(id).await.unwrap();
    assert_eq!(f.store.next_timer_due().await.unwrap(), None);
    assert!(
        f.store
            .pop_due_timers(at(1_000), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let err = f
        .store
        .schedule_timer(id, at(200), TimerPurpose::Delay)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::RunState {
            status: RunStatus::Cancelled,
            ..
        }
    ));
    assert_eq!(
        f.store.run(id).await.unwrap().unwrap().status,
        RunStatus::Cancelled
    );
}
