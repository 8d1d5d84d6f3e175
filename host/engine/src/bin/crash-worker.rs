//! A test helper for the crash test (`tests/all/crash.rs`): runs the engine
//! on a data folder until it is killed, or until every run has finished.
//!
//! ```text
//! crash-worker DATA_DIR PROBE_WASM submit N   # create N runs, print their ids, exit
//! crash-worker DATA_DIR PROBE_WASM work       # run the engine until killed
//! crash-worker DATA_DIR PROBE_WASM drain      # run the engine until no run is left
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use relais_engine::{Engine, EngineConfig, Plugins, Workflows};
use relais_runtime::{PluginSettings, Runtime, RuntimeConfig};
use relais_store::{MasterKeySource, Store, StoreOptions, TriggerKind};
use serde_json::{Value, json};

/// The workflow every run executes: two counted steps around a slow one.
pub const WORKFLOW: &str = "id: crash\nsteps:\n  - id: a\n    uses: probe/count\n  - id: slow\n    uses: probe/sleep\n    with: { ms: 15 }\n  - id: c\n    uses: probe/count\n";

async fn engine(dir: &Path, probe: &Path) -> Result<Engine, String> {
    let store = Store::open(StoreOptions::new(
        dir.join("relais.redb"),
        MasterKeySource::File(dir.join("master.key")),
    ))
    .map_err(|e| e.to_string())?
    .store;
    let runtime = Runtime::new(&RuntimeConfig {
        cache_dir: Some(dir.join("cache")),
        max_instances: 32,
        ..RuntimeConfig::default()
    })
    .map_err(|e| e.to_string())?;
    let (plugin, _) = runtime
        .load(probe, PluginSettings::default())
        .await
        .map_err(|e| e.to_string())?;
    let plugins = Plugins::from_plugins([plugin])?;
    let catalog = plugins.catalog().map_err(|e| e.to_string())?;
    let wf = relais_workflow::parse_workflow("crash.yaml", WORKFLOW.to_owned(), &catalog)
        .map_err(|e| e.to_string())?;
    let workflows = Workflows::from_workflows([wf], &store)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Engine::new(
        store,
        Arc::new(workflows),
        Arc::new(plugins),
        EngineConfig {
            workers: 4,
            owner: format!("crash-{}", std::process::id()),
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(50),
            default_timezone: chrono_tz::UTC,
        },
    ))
}

async fn main_async(args: Vec<String>) -> Result<(), String> {
    let [dir, probe, mode, rest @ ..] = args.as_slice() else {
        return Err("usage: crash-worker DATA_DIR PROBE_WASM submit N|work|drain".into());
    };
    let engine = engine(&PathBuf::from(dir), &PathBuf::from(probe)).await?;
    match mode.as_str() {
        "submit" => {
            let n: usize = rest
                .first()
                .and_then(|n| n.parse().ok())
                .ok_or("submit needs a count")?;
            for _ in 0..n {
                let created = engine
                    .submit("crash", TriggerKind::Manual, Value::Null, json!({}), None)
                    .await
                    .map_err(|e| e.to_string())?;
                if let Some(id) = created.run_id() {
                    println!("{id}");
                }
            }
            Ok(())
        }
        "work" => {
            engine.start();
            std::future::pending::<()>().await;
            Ok(())
        }
        "drain" => {
            engine.start();
            loop {
                let c = engine
                    .store()
                    .count_runs(None)
                    .await
                    .map_err(|e| e.to_string())?;
                if c.queued + c.running + c.waiting == 0 {
                    engine.shutdown(Duration::from_secs(5)).await;
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        other => Err(format!("unknown mode {other:?}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(main_async(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
