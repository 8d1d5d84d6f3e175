//! Shared helpers: a store in a temporary folder with stored revisions.

use std::path::Path;

use relais_store::{
    AttemptEnd, AttemptOutcome, AttemptStart, MasterKeySource, NewRun, Opened, RunGuard, RunId,
    Store, StoreOptions, Timestamp, TriggerKind,
};
use serde_json::json;
use tempfile::TempDir;

/// A fixed base time for tests: 2025-06-15T15:06:40Z.
pub const T0: u64 = 1_750_000_000_000;

/// The source stored as the revision of every test workflow.
pub const SOURCE: &str = "id: wf\ntrigger: manual\nsteps: []\n";

pub fn at(offset_ms: u64) -> Timestamp {
    Timestamp::from_millis(T0 + offset_ms)
}

pub fn options(dir: &Path) -> StoreOptions {
    StoreOptions::new(
        dir.join("relais.redb"),
        MasterKeySource::File(dir.join("master.key")),
    )
}

pub fn open_in(dir: &Path) -> Opened {
    Store::open(options(dir)).expect("store opens")
}

pub struct Fixture {
    pub dir: TempDir,
    pub store: Store,
    pub rev: String,
}

impl Fixture {
    /// Closes the store and opens it again from the same files.
    pub fn reopen(self) -> Fixture {
        let Fixture { dir, store, rev } = self;
        drop(store);
        let store = open_in(dir.path()).store;
        Fixture { dir, store, rev }
    }
}

/// A fresh store with the revision of `wf` and `other` stored.
pub async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open_in(dir.path()).store;
    let mut rev = String::new();
    for wf in ["wf", "other"] {
        rev = store
            .put_revision(wf, SOURCE, "workflows/wf.yaml", at(0))
            .await
            .expect("revision stored")
            .hash;
    }
    Fixture { dir, store, rev }
}

pub fn new_run(wf: &str, rev: &str, created: Timestamp) -> NewRun {
    NewRun {
        workflow_id: wf.to_owned(),
        revision: rev.to_owned(),
        trigger: TriggerKind::Webhook,
        payload: json!({"body": {"id": "evt_1"}}),
        input: json!({"customer": "cus_1"}),
        created_at: created,
        guard: None,
    }
}

pub fn with_dedupe(mut run: NewRun, key: &str, expires: Timestamp) -> NewRun {
    run.guard = Some(RunGuard::Dedupe {
        key: key.to_owned(),
        expires_at: expires,
    });
    run
}

pub fn with_slot(mut run: NewRun, slot: Timestamp) -> NewRun {
    run.trigger = TriggerKind::Cron;
    run.guard = Some(RunGuard::CronSlot { slot });
    run
}

/// Creates a run that must be new.
pub async fn create(store: &Store, run: NewRun) -> RunId {
    match store.create_run(run).await.expect("create_run") {
        relais_store::CreateOutcome::Created(id) => id,
        other => panic!("expected a new run, got {other:?}"),
    }
}

pub fn start(step: &str, index: u32, attempt: u32, t: Timestamp) -> AttemptStart {
    AttemptStart {
        step_id: step.to_owned(),
        step_index: index,
        attempt,
        item: None,
        input: json!({"step": step}),
        idempotency_key: format!("idem-{step}"),
        started_at: t,
    }
}

pub fn ok_end(output: serde_json::Value, t: Timestamp) -> AttemptEnd {
    AttemptEnd {
        outcome: AttemptOutcome::Succeeded { output },
        logs: Vec::new(),
        ended_at: t,
    }
}

/// Claims exactly the runs queued (all of them) for `owner`.
pub async fn claim_all(store: &Store, owner: &str) -> Vec<RunId> {
    store
        .claim_runs(owner, 10_000, std::time::Duration::from_secs(60))
        .await
        .expect("claim")
        .into_iter()
        .map(|r| r.id)
        .collect()
}
