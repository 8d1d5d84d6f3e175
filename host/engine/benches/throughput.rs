//! Engine throughput, latency and memory, with the probe's `noop` step and
//! durable storage (a redb file in a temporary folder).
//!
//! `cargo bench -p relais-engine --bench throughput` (needs
//! `target/test-guests/probe.wasm`: `scripts/build-plugins.sh`). Prints:
//! - runs per second for a 1-step and a 5-step workflow (runs created
//!   first, then the engine started and timed until every run finished);
//! - p50/p99 latency of one 1-step run submitted alone (submit to finish);
//! - RSS while history grows: 1-step runs submitted in batches, RSS and the
//!   store file's size after each batch, then the memory after N runs.
//!
//! Settings (environment):
//! - `RELAIS_BENCH_RUNS`: runs of the 1-step throughput (default 20000;
//!   the 5-step one does a fifth of that);
//! - `RELAIS_BENCH_HISTORY`: runs of the memory phase (default 200000;
//!   `1000000` gives the one-million-run figure);
//! - `RELAIS_BENCH_BATCH`: runs per batch of the memory phase (default
//!   20000);
//! - `RELAIS_BENCH_PHASES`: which phases, comma-separated, of
//!   `throughput`, `latency`, `memory` (default all three);
//! - `RELAIS_BENCH_CACHE_MIB`: the store's page cache (default: the
//!   store's default).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use relais_engine::{Engine, EngineConfig, Plugins, Workflows};
use relais_runtime::{PluginSettings, Runtime, RuntimeConfig};
use relais_store::{MasterKeySource, RunStatus, Store, StoreOptions, TriggerKind};
use serde_json::{Value, json};

const ONE: &str = "id: one\nsteps:\n  - id: a\n    uses: probe/noop\n";
const FIVE: &str = "id: five\nsteps:\n  - id: a\n    uses: probe/noop\n  - id: b\n    uses: probe/noop\n  - id: c\n    uses: probe/noop\n  - id: d\n    uses: probe/noop\n  - id: e\n    uses: probe/noop\n";

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn engine(store: &Store) -> Engine {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let runtime = Runtime::new(&RuntimeConfig {
        cache_dir: Some(root.join("target/tmp/engine-bench-cache")),
        max_instances: 64,
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let (probe, _) = runtime
        .load(
            root.join("target/test-guests/probe.wasm"),
            PluginSettings::default(),
        )
        .await
        .expect("probe.wasm (scripts/build-plugins.sh)");
    let plugins = Plugins::from_plugins([probe]).expect("plugins");
    let catalog = plugins.catalog();
    let wfs = [ONE, FIVE].map(|t| {
        relais_workflow::parse_workflow("bench.yaml", t.to_owned(), &catalog).expect("workflow")
    });
    let workflows = Workflows::from_workflows(wfs, store).await.expect("load");
    Engine::new(
        store.clone(),
        Arc::new(workflows),
        Arc::new(plugins),
        EngineConfig {
            workers: 4,
            // One workflow at a time: it may use every worker.
            workers_per_workflow: Some(4),
            owner: "bench".into(),
            lease: Duration::from_secs(600),
            poll: Duration::from_millis(200),
            default_timezone: chrono_tz::UTC,
        },
    )
}

async fn create(engine: &Engine, workflow: &str, n: usize) {
    let mut tasks = tokio::task::JoinSet::new();
    let per = 64;
    for chunk in 0..n.div_ceil(per) {
        let engine = engine.clone();
        let workflow = workflow.to_owned();
        let count = per.min(n - chunk * per);
        tasks.spawn(async move {
            for _ in 0..count {
                engine
                    .submit(&workflow, TriggerKind::Manual, Value::Null, json!({}), None)
                    .await
                    .expect("submit");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

async fn until_done(store: &Store, workflow: &str, n: u64) {
    loop {
        let c = store.count_runs(Some(workflow)).await.expect("count");
        if c.succeeded + c.failed >= n {
            assert_eq!(c.failed, 0, "failed runs");
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Creates `n` runs with the engine stopped, then times the engine.
async fn throughput(dir: &std::path::Path, workflow: &str, n: usize) -> f64 {
    let store = open(dir);
    let e = engine(&store).await;
    create(&e, workflow, n).await;
    let started = Instant::now();
    e.start();
    until_done(&store, workflow, n as u64).await;
    let rate = n as f64 / started.elapsed().as_secs_f64();
    e.shutdown(Duration::from_secs(5)).await;
    rate
}

fn open(dir: &std::path::Path) -> Store {
    let mut options = StoreOptions::new(
        dir.join("relais.redb"),
        MasterKeySource::File(dir.join("master.key")),
    );
    if let Some(mib) = setting::<usize>("RELAIS_BENCH_CACHE_MIB") {
        options.cache_size = mib << 20;
    }
    Store::open(options).expect("store").store
}

fn setting<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn file_mib(path: &std::path::Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / (1024.0 * 1024.0))
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let phases =
        std::env::var("RELAIS_BENCH_PHASES").unwrap_or_else(|_| "throughput,latency,memory".into());
    let phase = |name: &str| phases.split(',').any(|p| p.trim() == name);
    rt.block_on(async {
        if phase("throughput") {
            let n: usize = setting("RELAIS_BENCH_RUNS").unwrap_or(20_000);
            let d1 = tempfile::tempdir().expect("tempdir");
            let one = throughput(d1.path(), "one", n).await;
            println!("1-step runs: {one:.0} runs/s ({n} runs)");
            let d5 = tempfile::tempdir().expect("tempdir");
            let five = throughput(d5.path(), "five", n / 5).await;
            println!(
                "5-step runs: {five:.0} runs/s ({} runs, {:.0} steps/s)",
                n / 5,
                five * 5.0
            );
        }
        if phase("latency") {
            latency().await;
        }
        if phase("memory") {
            memory().await;
        }
    });
}

async fn latency() {
    let dl = tempfile::tempdir().expect("tempdir");
    let store = open(dl.path());
    let e = engine(&store).await;
    e.start();
    let mut lat = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        let id = e
            .submit("one", TriggerKind::Manual, Value::Null, json!({}), None)
            .await
            .expect("submit")
            .run_id()
            .expect("created");
        let h = e
            .wait_finished(id, Duration::from_secs(10))
            .await
            .expect("wait")
            .expect("run");
        assert_eq!(h.status, RunStatus::Succeeded);
        lat.push(t.elapsed());
    }
    lat.sort();
    println!(
        "1-step latency, one run at a time: p50 {:.1} ms, p99 {:.1} ms",
        lat[lat.len() / 2].as_secs_f64() * 1e3,
        lat[lat.len() * 99 / 100].as_secs_f64() * 1e3
    );
    e.shutdown(Duration::from_secs(5)).await;
}

/// RSS as history grows: batches of 1-step runs on one store.
async fn memory() {
    let history: u64 = setting("RELAIS_BENCH_HISTORY").unwrap_or(200_000);
    let batch: u64 = setting::<u64>("RELAIS_BENCH_BATCH")
        .unwrap_or(20_000)
        .max(1);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let e = engine(&store).await;
    e.start();
    let file = dir.path().join("relais.redb");
    let start_rss = rss_mib();
    println!("history growth (1-step runs), RSS at start {start_rss:.1} MiB");
    println!("     runs  RSS MiB  file MiB   runs/s");
    let mut total = 0u64;
    let mut points = Vec::new();
    let t0 = Instant::now();
    while total < history {
        let n = batch.min(history - total);
        create(&e, "one", n as usize).await;
        total += n;
        until_done(&store, "one", total).await;
        let rss = rss_mib();
        points.push((total, rss));
        println!(
            "{total:>9} {rss:>8.1} {:>9.1} {:>8.0}",
            file_mib(&file),
            total as f64 / t0.elapsed().as_secs_f64()
        );
    }
    let rss = rss_mib();
    println!("memory after {total} runs: {rss:.1} MiB RSS");
    // The second half, once the store's page cache has filled.
    if let Some((runs, at)) = points
        .iter()
        .find(|(runs, _)| *runs >= total / 2)
        .filter(|(runs, _)| *runs < total)
    {
        let per_run = (rss - at) * 1024.0 * 1024.0 / (total - runs) as f64;
        println!("growth from {runs} to {total} runs: {per_run:.0} bytes per run");
    }
    e.shutdown(Duration::from_secs(5)).await;
}
