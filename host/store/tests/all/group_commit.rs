//! Group commit: concurrent writes share commits; a refused one fails alone.

use relais_store::{CreateOutcome, StoreError};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_share_commits() {
    let f = fixture().await;
    let before = f.store.writer_stats();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = f.store.clone();
        let run = new_run("wf", &f.rev, at(i));
        tasks.push(tokio::spawn(async move { store.create_run(run).await }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap(), Ok(CreateOutcome::Created(_))));
    }
    let after = f.store.writer_stats();
    let commits = after.commits - before.commits;
    assert_eq!(after.operations - before.operations, 64);
    assert!(commits < 32, "64 concurrent creates took {commits} commits");
    assert_eq!(f.store.count_runs(None).await.unwrap().queued, 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_operation_fails_alone_not_its_batch() {
    let f = fixture().await;
    let before = f.store.writer_stats();
    let mut tasks = Vec::new();
    for i in 0..64u64 {
        let store = f.store.clone();
        let rev = if i % 4 == 0 {
            "missing".to_owned()
        } else {
            f.rev.clone()
        };
        let run = new_run("wf", &rev, at(i));
        tasks.push(tokio::spawn(
            async move { (i, store.create_run(run).await) },
        ));
    }
    for t in tasks {
        let (i, result) = t.await.unwrap();
        if i % 4 == 0 {
            assert!(
                matches!(result, Err(StoreError::RevisionNotFound { .. })),
                "{i}"
            );
        } else {
            assert!(matches!(result, Ok(CreateOutcome::Created(_))), "{i}");
        }
    }
    let after = f.store.writer_stats();
    assert!(after.commits - before.commits < 32);
    assert_eq!(after.replays, before.replays, "no batch was rolled back");
    assert_eq!(f.store.count_runs(None).await.unwrap().queued, 48);
}
