//! Pruning old runs, expired dedupe keys and old cron slots.

use redb::{ReadableDatabase, ReadableTableMetadata, TableDefinition};
use relais_store::{CreateOutcome, NextState, RunFilter, RunId, RunStatus, Store, StoreError};
use serde_json::json;

use crate::support::*;

/// A run that ran one step and succeeded at `finished`.
async fn finished_run(store: &Store, rev: &str, finished: u64) -> RunId {
    let id = create(store, new_run("wf", rev, at(finished - 2))).await;
    let claimed = claim_all(store, "w").await;
    assert_eq!(claimed, [id]);
    let seq = store
        .start_attempt(id, start("only", 0, 1, at(finished - 1)))
        .await
        .unwrap();
    store
        .end_attempt(
            id,
            seq,
            ok_end(json!(1), at(finished)),
            NextState::Succeeded,
        )
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn old_finished_runs_are_pruned_in_bounded_batches() {
    let f = fixture().await;
    let mut finished = Vec::new();
    for t in [100, 200, 300, 400, 500] {
        finished.push(finished_run(&f.store, &f.rev, t).await);
    }
    // Old but unfinished runs are kept whatever their age.
    let queued = create(&f.store, new_run("wf", &f.rev, at(0))).await;

    let first = f.store.prune(at(350), at(350), 2).await.unwrap();
    assert_eq!((first.runs, first.attempts, first.more), (2, 2, true));
    let second = f.store.prune(at(350), at(350), 2).await.unwrap();
    assert_eq!((second.runs, second.attempts, second.more), (1, 1, false));
    let third = f.store.prune(at(350), at(350), 2).await.unwrap();
    assert_eq!((third.runs, third.more), (0, false));

    for id in &finished[..3] {
        assert!(f.store.run_detail(*id).await.unwrap().is_none());
    }
    for id in &finished[3..] {
        assert_eq!(
            f.store
                .run_detail(*id)
                .await
                .unwrap()
                .unwrap()
                .attempts
                .len(),
            1
        );
    }
    assert!(f.store.run(queued).await.unwrap().is_some());
    let counts = f.store.count_runs(None).await.unwrap();
    assert_eq!((counts.succeeded, counts.queued, counts.total()), (2, 1, 3));
    let page = f
        .store
        .list_runs(&RunFilter::default(), None, 100)
        .await
        .unwrap();
    assert_eq!(page.runs.len(), 3);
    let wf_page = f
        .store
        .list_runs(
            &RunFilter {
                workflow_id: Some("wf".into()),
                status: Some(RunStatus::Succeeded),
            },
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(
        wf_page.runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        [finished[4], finished[3]]
    );
    let err = f.store.prune(at(350), at(350), 0).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }));

    // No attempt record of a pruned run is left behind.
    let dir = f.dir;
    drop(f.store);
    let db = redb::Database::open(dir.path().join("relais.redb")).unwrap();
    let tx = db.begin_read().unwrap();
    let attempts: TableDefinition<&[u8], &[u8]> = TableDefinition::new("attempts");
    assert_eq!(tx.open_table(attempts).unwrap().len().unwrap(), 2);
}

#[tokio::test]
async fn expired_dedupe_keys_are_pruned_and_live_ones_kept() {
    let f = fixture().await;
    create(
        &f.store,
        with_dedupe(new_run("wf", &f.rev, at(1)), "a", at(100)),
    )
    .await;
    create(
        &f.store,
        with_dedupe(new_run("wf", &f.rev, at(1)), "b", at(200)),
    )
    .await;
    let live = create(
        &f.store,
        with_dedupe(new_run("wf", &f.rev, at(1)), "c", at(5_000)),
    )
    .await;
    let report = f.store.prune(at(0), at(300), 1).await.unwrap();
    assert_eq!((report.dedupe_keys, report.more), (1, true));
    let report = f.store.prune(at(0), at(300), 10).await.unwrap();
    assert_eq!((report.dedupe_keys, report.more), (1, false));
    assert_eq!(report.runs, 0);
    let again = f
        .store
        .create_run(with_dedupe(new_run("wf", &f.rev, at(400)), "c", at(9_000)))
        .await
        .unwrap();
    assert_eq!(again, CreateOutcome::Existing(live));
}

#[tokio::test]
async fn pruned_cron_slots_are_refused_and_later_ones_still_guarded() {
    let f = fixture().await;
    for slot in [0, 60_000, 120_000] {
        create(
            &f.store,
            with_slot(new_run("wf", &f.rev, at(slot)), at(slot)),
        )
        .await;
    }
    let report = f.store.prune(at(100_000), at(100_000), 10).await.unwrap();
    assert_eq!(report.cron_slots, 2);
    let f = f.reopen();
    let old = f
        .store
        .create_run(with_slot(new_run("wf", &f.rev, at(200_000)), at(60_000)))
        .await
        .unwrap();
    assert_eq!(old, CreateOutcome::SlotTooOld);
    let kept = f
        .store
        .create_run(with_slot(new_run("wf", &f.rev, at(200_000)), at(120_000)))
        .await
        .unwrap();
    assert!(matches!(kept, CreateOutcome::Existing(_)));
    create(
        &f.store,
        with_slot(new_run("wf", &f.rev, at(200_000)), at(180_000)),
    )
    .await;
    // The horizon never moves back.
    f.store.prune(at(10), at(10), 10).await.unwrap();
    let old = f
        .store
        .create_run(with_slot(new_run("wf", &f.rev, at(200_000)), at(99_999)))
        .await
        .unwrap();
    assert_eq!(old, CreateOutcome::SlotTooOld);
}
