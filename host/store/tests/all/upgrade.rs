//! A store whose run indexes were written in format 1 is upgraded when it
//! opens: listings, the queue and the counts still follow the run headers,
//! and its JSON run headers are still read.
//!
//! Format 1 laid the indexes out as `status ‖ run id`, `workflow ‖ run id`
//! and `workflow ‖ status ‖ run id` for every status (workflow names as a
//! `u16` big-endian length then the bytes); it had no `format` entry.

use redb::{
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle,
};
use relais_store::{Run, RunStatus};

use crate::listing::{assert_listings_follow_the_headers, populate};
use crate::support::*;

const RUNS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("runs");
const BY_STATUS: TableDefinition<&[u8], ()> = TableDefinition::new("runs_by_status");
const BY_WORKFLOW: TableDefinition<&[u8], ()> = TableDefinition::new("runs_by_workflow");
const BY_WORKFLOW_STATUS: TableDefinition<&[u8], ()> =
    TableDefinition::new("runs_by_workflow_status");
const META: TableDefinition<&[u8], u64> = TableDefinition::new("meta");

fn code(status: RunStatus) -> u8 {
    RunStatus::ALL.iter().position(|s| *s == status).unwrap() as u8 + 1
}

fn name_key(name: &str) -> Vec<u8> {
    let mut out = (name.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(name.as_bytes());
    out
}

/// Rewrites the run indexes of the store file at `path` as format 1 did
/// for `runs` (every run in it), and its run headers as the JSON it wrote.
fn downgrade(path: &std::path::Path, runs: &[Run]) {
    let db = Database::open(path).unwrap();
    let tx = db.begin_write().unwrap();
    {
        let mut table = tx.open_table(RUNS).unwrap();
        let mut by_status = tx.open_table(BY_STATUS).unwrap();
        let mut by_workflow = tx.open_table(BY_WORKFLOW).unwrap();
        let mut by_workflow_status = tx.open_table(BY_WORKFLOW_STATUS).unwrap();
        by_status.retain(|_, ()| false).unwrap();
        assert_eq!(table.len().unwrap(), runs.len() as u64);
        for run in runs {
            let id = run.id.to_bytes();
            let json = serde_json::to_vec(run).unwrap();
            table.insert(&id[..], json.as_slice()).unwrap();
            let (s, wf) = (code(run.status), name_key(&run.workflow_id));
            by_status
                .insert([&[s][..], &id].concat().as_slice(), ())
                .unwrap();
            by_workflow
                .insert([&wf[..], &id].concat().as_slice(), ())
                .unwrap();
            let per_wf = [&wf[..], &[s], &id].concat();
            by_workflow_status.insert(per_wf.as_slice(), ()).unwrap();
        }
        tx.open_table(META).unwrap().remove(&b"format"[..]).unwrap();
    }
    tx.commit().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_format_1_store_is_reindexed_when_it_opens() {
    let f = fixture().await;
    let ids = populate(&f.store, &f.rev).await;
    let counts = f.store.count_runs(Some("wf")).await.unwrap();
    let mut runs = Vec::new();
    for id in &ids {
        runs.push(f.store.run(*id).await.unwrap().unwrap());
    }
    let Fixture { dir, store, rev } = f;
    drop(store);
    let path = dir.path().join("relais.redb");
    downgrade(&path, &runs);

    let store = open_in(dir.path()).store;
    let f = Fixture { dir, store, rev };
    assert_listings_follow_the_headers(&f.store, &ids).await;
    for run in &runs {
        assert_eq!(f.store.run(run.id).await.unwrap().as_ref(), Some(run));
    }
    assert_eq!(f.store.count_runs(Some("wf")).await.unwrap(), counts);
    // The queue still hands out the oldest queued runs first.
    let claimed = claim_all(&f.store, "w2").await;
    assert_eq!(claimed, ids[40..]);
    assert_listings_follow_the_headers(&f.store, &ids).await;
    let Fixture { dir, store, .. } = f;
    drop(store);

    let db = Database::open(dir.path().join("relais.redb")).unwrap();
    let tx = db.begin_read().unwrap();
    let names: Vec<String> = tx
        .list_tables()
        .unwrap()
        .map(|t| t.name().to_owned())
        .collect();
    assert!(!names.contains(&"runs_by_workflow".to_owned()), "{names:?}");
    let format = tx.open_table(META).unwrap().get(&b"format"[..]).unwrap();
    assert_eq!(format.map(|g| g.value()), Some(2));
    // Only settled statuses stay in the workflow-status index.
    let by_workflow_status = tx.open_table(BY_WORKFLOW_STATUS).unwrap();
    for entry in by_workflow_status.iter().unwrap() {
        let (k, _) = entry.unwrap();
        let k = k.value();
        let status = k[k.len() - 17];
        assert!(status > code(RunStatus::Running), "status code {status}");
    }
}

#[tokio::test]
async fn a_store_from_a_newer_format_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    drop(open_in(dir.path()).store);
    let path = dir.path().join("relais.redb");
    {
        let db = Database::open(&path).unwrap();
        let tx = db.begin_write().unwrap();
        tx.open_table(META)
            .unwrap()
            .insert(&b"format"[..], 3)
            .unwrap();
        tx.commit().unwrap();
    }
    let err = relais_store::Store::open(options(dir.path())).unwrap_err();
    assert!(err.to_string().contains("index format 3"), "{err}");
    let db = Database::open(&path).unwrap();
    let tx = db.begin_read().unwrap();
    let format = tx.open_table(META).unwrap().get(&b"format"[..]).unwrap();
    assert_eq!(format.map(|g| g.value()), Some(3));
}
