//! At most one run per dedupe key (until it expires) and per cron slot.

use std::collections::HashSet;

use relais_store::{CreateOutcome, Store};

use crate::support::*;

#[tokio::test]
async fn the_same_dedupe_key_twice_gives_the_same_run_and_creates_one() {
    let f = fixture().await;
    let expires = at(10_000);
    let first = f
        .store
        .create_run(with_dedupe(new_run("wf", &f.rev, at(1)), "evt_1", expires))
        .await
        .unwrap();
    let CreateOutcome::Created(id) = first else {
        panic!("{first:?}")
    };
    // One millisecond before expiry the key still guards.
    let second = f
        .store
        .create_run(with_dedupe(
            new_run("wf", &f.rev, at(9_999)),
            "evt_1",
            at(20_000),
        ))
        .await
        .unwrap();
    assert_eq!(second, CreateOutcome::Existing(id));
    assert_eq!(f.store.count_runs(None).await.unwrap().total(), 1);
    // Another key, or the same key of another workflow, is another run.
    create(
        &f.store,
        with_dedupe(new_run("wf", &f.rev, at(2)), "evt_2", expires),
    )
    .await;
    create(
        &f.store,
        with_dedupe(new_run("other", &f.rev, at(2)), "evt_1", expires),
    )
    .await;
    assert_eq!(f.store.count_runs(None).await.unwrap().total(), 3);
}

#[tokio::test]
async fn after_expiry_the_same_key_starts_a_new_run_and_guards_again() {
    let f = fixture().await;
    let first = create(
        &f.store,
        with_dedupe(new_run("wf", &f.rev, at(1)), "k", at(100)),
    )
    .await;
    // At the expiry instant the key no longer guards.
    let second = create(
        &f.store,
        with_dedupe(new_run("wf", &f.rev, at(100)), "k", at(500)),
    )
    .await;
    assert_ne!(first, second);
    let third = f
        .store
        .create_run(with_dedupe(new_run("wf", &f.rev, at(200)), "k", at(900)))
        .await
        .unwrap();
    assert_eq!(third, CreateOutcome::Existing(second));
    assert_eq!(f.store.count_runs(None).await.unwrap().total(), 2);
}

#[tokio::test]
async fn the_guard_survives_reopening() {
    let f = fixture().await;
    let id = create(
        &f.store,
        with_dedupe(new_run("wf", &f.rev, at(1)), "k", at(100)),
    )
    .await;
    let f = f.reopen();
    let again = f
        .store
        .create_run(with_dedupe(new_run("wf", &f.rev, at(2)), "k", at(100)))
        .await
        .unwrap();
    assert_eq!(again, CreateOutcome::Existing(id));
}

async fn race(store: &Store, make: impl Fn() -> relais_store::NewRun) -> Vec<CreateOutcome> {
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let store = store.clone();
        let run = make();
        tasks.push(tokio::spawn(async move { store.create_run(run).await }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap().unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_of_one_event_create_one_run() {
    let f = fixture().await;
    let rev = f.rev.clone();
    let outcomes = race(&f.store, || {
        with_dedupe(new_run("wf", &rev, at(1)), "evt_race", at(1_000))
    })
    .await;
    let created: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, CreateOutcome::Created(_)))
        .collect();
    assert_eq!(created.len(), 1);
    let ids: HashSet<_> = outcomes.iter().map(|o| o.run_id().unwrap()).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(f.store.count_runs(None).await.unwrap().total(), 1);
}

#[tokio::test]
async fn a_cron_slot_starts_at_most_one_run() {
    let f = fixture().await;
    let slot = at(60_000);
    let id = create(&f.store, with_slot(new_run("wf", &f.rev, at(60_001)), slot)).await;
    for late in [60_002, 3_600_000] {
        let again = f
            .store
            .create_run(with_slot(new_run("wf", &f.rev, at(late)), slot))
            .await
            .unwrap();
        assert_eq!(again, CreateOutcome::Existing(id));
    }
    assert_eq!(f.store.cron_last("wf").await.unwrap(), Some(slot));
    // The next slot and the same slot of another workflow are new runs.
    create(
        &f.store,
        with_slot(new_run("wf", &f.rev, at(120_001)), at(120_000)),
    )
    .await;
    create(
        &f.store,
        with_slot(new_run("other", &f.rev, at(60_001)), slot),
    )
    .await;
    assert_eq!(f.store.cron_last("wf").await.unwrap(), Some(at(120_000)));
    // A missed earlier slot may still fire once; it does not move the last slot back.
    create(
        &f.store,
        with_slot(new_run("wf", &f.rev, at(120_002)), at(0)),
    )
    .await;
    assert_eq!(f.store.cron_last("wf").await.unwrap(), Some(at(120_000)));
    assert_eq!(f.store.count_runs(Some("wf")).await.unwrap().total(), 3);

    // Completing a run does not free its slot: "ever".
    claim_all(&f.store, "w").await;
    f.store
        .advance_run(id, relais_store::NextState::Succeeded)
        .await
        .unwrap();
    let f = f.reopen();
    let again = f
        .store
        .create_run(with_slot(new_run("wf", &f.rev, at(9_000_000)), slot))
        .await
        .unwrap();
    assert_eq!(again, CreateOutcome::Existing(id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_firings_of_one_slot_create_one_run() {
    let f = fixture().await;
    let rev = f.rev.clone();
    let outcomes = race(&f.store, || with_slot(new_run("wf", &rev, at(5)), at(0))).await;
    let ids: HashSet<_> = outcomes.iter().map(|o| o.run_id().unwrap()).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(f.store.count_runs(None).await.unwrap().total(), 1);
}

#[tokio::test]
async fn the_last_cron_slot_can_be_set_and_survives_reopening() {
    let f = fixture().await;
    assert_eq!(f.store.cron_last("wf").await.unwrap(), None);
    f.store.set_cron_last("wf", at(42)).await.unwrap();
    let f = f.reopen();
    assert_eq!(f.store.cron_last("wf").await.unwrap(), Some(at(42)));
    assert_eq!(f.store.cron_last("other").await.unwrap(), None);
    assert!(f.store.set_cron_last("", at(1)).await.is_err());
}
