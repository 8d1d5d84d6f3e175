//! Listing with filters and cursor pagination, and counts.

use relais_store::{NextState, Run, RunFilter, RunId, RunStatus, Store, StoreError};

use crate::support::*;

/// Creates 120 runs (alternating `wf` / `other`), claims the 40 oldest and
/// completes 20 of those. Returns every run, oldest first.
pub async fn populate(store: &Store, rev: &str) -> Vec<RunId> {
    let mut tasks = Vec::new();
    for i in 0..120u64 {
        let store = store.clone();
        let wf = if i % 2 == 0 { "wf" } else { "other" };
        let run = new_run(wf, rev, at(i * 10));
        tasks.push(tokio::spawn(async move { create(&store, run).await }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.sort();
    let claimed = store
        .claim_runs("w", 40, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|r| r.id).collect::<Vec<_>>(), ids[..40]);
    for id in &ids[..20] {
        store.advance_run(*id, NextState::Succeeded).await.unwrap();
    }
    ids
}

async fn walk(store: &Store, filter: &RunFilter, limit: usize) -> Vec<Run> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_runs(filter, cursor, limit).await.unwrap();
        assert!(page.runs.len() <= limit);
        out.extend(page.runs);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_complete_newest_first_for_every_filter() {
    let f = fixture().await;
    let mut ids = populate(&f.store, &f.rev).await;
    // A workflow whose name extends `wf`'s must not leak into its listings.
    f.store
        .put_revision("wf2", SOURCE, "workflows/wf2.yaml", at(0))
        .await
        .unwrap();
    ids.push(create(&f.store, new_run("wf2", &f.rev, at(5))).await);
    ids.sort();
    assert_listings_follow_the_headers(&f.store, &ids).await;
}

/// Lists `ids` (every run in the store) through every kind of filter and
/// checks each listing against the run headers, at several page sizes.
pub async fn assert_listings_follow_the_headers(store: &Store, ids: &[RunId]) {
    let mut filters = vec![
        (None, None),
        (Some("wf"), None),
        (Some("other"), None),
        (Some("nobody"), None),
    ];
    for status in RunStatus::ALL {
        filters.push((None, Some(status)));
        filters.push((Some("wf"), Some(status)));
        filters.push((Some("other"), Some(status)));
    }
    for (wf, status) in filters {
        let filter = RunFilter {
            workflow_id: wf.map(str::to_owned),
            status,
        };
        let mut expected = Vec::new();
        for id in ids {
            let run = store.run(*id).await.unwrap().unwrap();
            if wf.is_none_or(|w| run.workflow_id == w) && status.is_none_or(|s| run.status == s) {
                expected.push(run.id);
            }
        }
        expected.reverse();
        for limit in [1, 7, 60, 1000] {
            let got: Vec<RunId> = walk(store, &filter, limit)
                .await
                .iter()
                .map(|r| r.id)
                .collect();
            assert_eq!(got, expected, "filter {filter:?}, limit {limit}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_is_stable_while_new_runs_arrive() {
    let f = fixture().await;
    let ids = populate(&f.store, &f.rev).await;
    let filter = RunFilter::default();
    let first = f.store.list_runs(&filter, None, 50).await.unwrap();
    let mut seen: Vec<RunId> = first.runs.iter().map(|r| r.id).collect();
    // Newer runs arrive between pages; they belong before the first page.
    for i in 0..5 {
        create(&f.store, new_run("wf", &f.rev, at(100_000 + i))).await;
    }
    let mut cursor = first.next_cursor;
    while let Some(c) = cursor {
        let page = f.store.list_runs(&filter, Some(c), 50).await.unwrap();
        seen.extend(page.runs.iter().map(|r| r.id));
        cursor = page.next_cursor;
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn the_last_full_page_has_no_cursor_and_bad_limits_are_refused() {
    let f = fixture().await;
    for i in 0..4 {
        create(&f.store, new_run("wf", &f.rev, at(i))).await;
    }
    let filter = RunFilter::default();
    let page = f.store.list_runs(&filter, None, 4).await.unwrap();
    assert_eq!((page.runs.len(), page.next_cursor), (4, None));
    let page = f.store.list_runs(&filter, None, 3).await.unwrap();
    assert_eq!(page.runs.len(), 3);
    assert_eq!(page.next_cursor, Some(page.runs[2].id));
    for limit in [0, 1001] {
        let err = f.store.list_runs(&filter, None, limit).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{limit}");
    }
    assert!(f.store.list_runs(&filter, None, 1000).await.is_ok());
    let empty = f
        .store
        .list_runs(&filter, Some(RunId::from_bytes([0; 16])), 10)
        .await
        .unwrap();
    assert!(empty.runs.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_follow_every_transition() {
    let f = fixture().await;
    populate(&f.store, &f.rev).await;
    let all = f.store.count_runs(None).await.unwrap();
    assert_eq!(
        (all.queued, all.running, all.succeeded, all.total()),
        (80, 20, 20, 120)
    );
    let wf = f.store.count_runs(Some("wf")).await.unwrap();
    let other = f.store.count_runs(Some("other")).await.unwrap();
    assert_eq!((wf.total(), other.total()), (60, 60));
    assert_eq!((wf.succeeded, other.succeeded), (10, 10));
    assert_eq!(f.store.count_runs(Some("nobody")).await.unwrap().total(), 0);
}
