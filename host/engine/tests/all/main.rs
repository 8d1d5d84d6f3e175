//! Engine tests against the real probe guest (`scripts/build-plugins.sh`
//! builds it into `target/test-guests/`) and a real store on disk.

mod fairness;
mod flow;
mod foreach;
mod identity;
mod keys;
mod metrics;
mod recovery;
mod sandbox;
mod steps;
mod timeout;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use relais_engine::{Engine, EngineConfig, Plugins, Workflows};
use relais_runtime::{PluginSettings, Runtime, RuntimeConfig};
use relais_store::{
    Attempt, AttemptOutcome, MasterKeySource, Run, RunDetail, RunId, RunStatus, Store,
    StoreOptions, TriggerKind,
};
use serde_json::Value;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A built component: `target/test-guests/NAME.wasm` for a test guest,
/// `target/plugins/NAME.wasm` for a bundled plugin.
pub fn component(folder: &str, name: &str) -> PathBuf {
    let path = repo_root().join(format!("target/{folder}/{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-plugins.sh first",
        path.display()
    );
    path
}

/// A runtime compiling through a cache shared by the tests.
pub fn runtime() -> Runtime {
    Runtime::new(&RuntimeConfig {
        cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("engine-cache")),
        max_instances: 64,
        ..RuntimeConfig::default()
    })
    .expect("runtime")
}

/// The probe guest, loaded once per test (compiled through a shared cache).
pub async fn probe_plugins() -> Plugins {
    let path = component("test-guests", "probe");
    let runtime = runtime();
    let (plugin, _) = runtime
        .load(&path, PluginSettings::default())
        .await
        .expect("load probe");
    Plugins::from_plugins([plugin]).expect("plugins")
}

pub struct Fixture {
    pub engine: Engine,
    pub store: Store,
    pub dir: tempfile::TempDir,
}

pub fn open_store(dir: &std::path::Path) -> Store {
    Store::open(StoreOptions::new(
        dir.join("relais.redb"),
        MasterKeySource::File(dir.join("master.key")),
    ))
    .expect("open store")
    .store
}

/// Opens the store again once every task of a stopped engine let go of it
/// (aborted run tasks drop their handle when next polled).
pub async fn reopen_store(dir: &std::path::Path) -> Store {
    let options = StoreOptions::new(
        dir.join("relais.redb"),
        MasterKeySource::File(dir.join("master.key")),
    );
    for _ in 0..100 {
        match Store::open(options.clone()) {
            Ok(opened) => return opened.store,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    open_store(dir)
}

pub fn config() -> EngineConfig {
    EngineConfig {
        workers: 4,
        workers_per_workflow: None,
        owner: "test".into(),
        lease: Duration::from_secs(60),
        poll: Duration::from_millis(100),
        default_timezone: chrono_tz::UTC,
    }
}

/// An engine over a fresh store running the given workflow files (text).
pub async fn fixture(files: &[&str]) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(dir.path());
    let engine = engine_on(&store, files).await;
    Fixture { engine, store, dir }
}

pub async fn engine_on(store: &Store, files: &[&str]) -> Engine {
    engine_with(store, probe_plugins().await, files).await
}

/// An engine over `store` running the given workflow files with `plugins`.
pub async fn engine_with(store: &Store, plugins: Plugins, files: &[&str]) -> Engine {
    engine_configured(store, plugins, files, config()).await
}

/// [`engine_with`] under `config`.
pub async fn engine_configured(
    store: &Store,
    plugins: Plugins,
    files: &[&str],
    config: EngineConfig,
) -> Engine {
    let catalog = plugins.catalog();
    let workflows = files.iter().enumerate().map(|(i, text)| {
        relais_workflow::parse_workflow(format!("w{i}.yaml"), text.to_string(), &catalog)
            .unwrap_or_else(|e| panic!("workflow {i}: {e}"))
    });
    let workflows = Workflows::from_workflows(workflows, store)
        .await
        .expect("workflows");
    Engine::new(
        store.clone(),
        Arc::new(workflows),
        Arc::new(plugins),
        config,
    )
}

impl Fixture {
    pub async fn submit(&self, workflow: &str, input: Value) -> RunId {
        self.engine
            .submit(workflow, TriggerKind::Manual, Value::Null, input, None)
            .await
            .expect("submit")
            .run_id()
            .expect("created")
    }

    /// Runs to the end (10 s at most) and returns the detail.
    pub async fn finish(&self, run: RunId) -> RunDetail {
        let header = self
            .engine
            .wait_finished(run, Duration::from_secs(10))
            .await
            .expect("wait")
            .expect("run exists");
        assert!(header.status.is_finished(), "not finished: {header:?}");
        self.detail(run).await
    }

    pub async fn detail(&self, run: RunId) -> RunDetail {
        self.store.run_detail(run).await.unwrap().unwrap()
    }

    pub async fn status(&self, run: RunId) -> RunStatus {
        self.store.run(run).await.unwrap().unwrap().status
    }
}

/// Waits until the run reaches `status` (5 s at most).
pub async fn until_status(store: &Store, run: RunId, status: RunStatus) -> Run {
    for _ in 0..500 {
        let r = store.run(run).await.unwrap().unwrap();
        if r.status == status {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("run {run} never became {status}");
}

pub fn output(a: &Attempt) -> &Value {
    match &a.outcome {
        Some(AttemptOutcome::Succeeded { output }) => output,
        other => panic!(
            "attempt {} of {} did not succeed: {other:?}",
            a.seq, a.step_id
        ),
    }
}

pub fn error(a: &Attempt) -> &relais_store::StepError {
    match &a.outcome {
        Some(AttemptOutcome::Failed { error }) => error,
        other => panic!("attempt {} of {} did not fail: {other:?}", a.seq, a.step_id),
    }
}

/// `(step id, attempt number)` of every attempt, in order.
pub fn trail(d: &RunDetail) -> Vec<(String, u32)> {
    d.attempts
        .iter()
        .map(|a| (a.step_id.clone(), a.attempt))
        .collect()
}
