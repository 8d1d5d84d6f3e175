//! `relais serve`: webhooks, the API, the scheduler and the workers in one
//! process. On SIGTERM/SIGINT it stops accepting, gives running steps the
//! grace period, and leaves the rest durably queued for the next start.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context as _, Result};
use relais_engine::{Engine, EngineConfig, Plugins, Workflows};
use relais_server::cron::Scheduler;
use relais_server::{AppState, LoadedWorkflow, PluginDoc, PluginStepDoc, Registry, ServerConfig};
use relais_store::{MasterKeySource, Store, StoreOptions};
use relais_workflow::Catalog;

use crate::cmd::engine::EngineBackend;

use crate::config::Config;
use crate::plugins;

/// Environment variable that, when set, holds the master key (64 hex
/// characters) instead of `DATA_DIR/master.key`.
pub const MASTER_KEY_ENV: &str = "RELAIS_MASTER_KEY";

/// Opens the configured store, creating the data folder and master key.
pub fn open_store(config: &Config) -> Result<Store> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let key = if std::env::var_os(MASTER_KEY_ENV).is_some() {
        MasterKeySource::Env(MASTER_KEY_ENV.to_owned())
    } else {
        MasterKeySource::File(config.data_dir.join("master.key"))
    };
    let opened = Store::open(StoreOptions::new(config.store_path(), key))
        .with_context(|| format!("opening the store {}", config.store_path().display()))?;
    if opened.master_key_created {
        eprintln!(
            "a new master key was created in {}: back it up",
            config.data_dir.join("master.key").display()
        );
    }
    Ok(opened.store)
}

fn plugin_docs(plugins: &Plugins) -> Vec<PluginDoc> {
    plugins
        .iter()
        .map(|p| {
            let info = p.info();
            PluginDoc {
                name: info.name.clone(),
                version: info.version.clone(),
                description: info.description.clone(),
                steps: info
                    .steps
                    .iter()
                    .map(|s| PluginStepDoc {
                        name: s.name.clone(),
                        description: s.description.clone(),
                        input_schema: s.input_schema.clone(),
                        output_schema: s.output_schema.clone(),
                    })
                    .collect(),
            }
        })
        .collect()
}

pub async fn run(config: &Config) -> Result<ExitCode> {
    let zone: chrono_tz::Tz = config.server.timezone.parse().map_err(|_| {
        anyhow::anyhow!(
            "{}: unknown [server] timezone {:?}",
            config.source,
            config.server.timezone
        )
    })?;
    let store = open_store(config)?;
    let runtime = plugins::runtime(config)?;
    let (plugins, catalog) = if config.plugins_dir.is_dir() {
        let (plugins, failures) = Plugins::load(&runtime, &config.plugins_dir, |stem| {
            config.plugin_settings(stem)
        })
        .await?;
        for f in &failures {
            eprintln!("warning: {f}");
        }
        let catalog = plugins.catalog()?;
        (plugins, catalog)
    } else {
        eprintln!(
            "warning: plugins folder {} does not exist: no plugin is loaded (build them with scripts/build-plugins.sh)",
            config.plugins_dir.display()
        );
        (Plugins::default(), Catalog::new())
    };
    let (loaded, errors) = if config.workflows_dir.is_dir() {
        Workflows::load(&config.workflows_dir, &catalog, &store).await?
    } else {
        eprintln!(
            "warning: workflows folder {} does not exist",
            config.workflows_dir.display()
        );
        (
            Workflows::from_workflows(Vec::new(), &store).await?,
            relais_workflow::WorkflowErrors::default(),
        )
    };
    for d in errors.iter() {
        eprintln!("warning: {d}");
    }
    let workflows = Arc::new(Registry::new(loaded.iter().map(|l| {
        Arc::new(LoadedWorkflow {
            workflow: l.workflow.clone(),
            revision: l.revision.clone(),
        })
    })));
    let docs = plugin_docs(&plugins);
    let plugin_count = docs.len();
    let engine = Engine::new(
        store.clone(),
        Arc::new(loaded),
        Arc::new(plugins),
        EngineConfig {
            workers: config.server.workers.max(1),
            default_timezone: zone,
            ..EngineConfig::default()
        },
    );
    let engine_task = engine.start();
    let backend: Arc<dyn relais_server::Backend> = Arc::new(EngineBackend(engine.clone()));
    let metrics = relais_server::metrics::install().map_err(anyhow::Error::msg)?;
    let state = AppState {
        store: store.clone(),
        backend: backend.clone(),
        workflows: workflows.clone(),
        plugins: Arc::new(docs),
        config: Arc::new(ServerConfig {
            body_limit: config.server.body_limit,
            default_timezone: zone,
        }),
        metrics: Some(metrics),
        ready: Arc::new(std::sync::atomic::AtomicBool::new(false)),
    };

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let scheduler = Scheduler::new(store.clone(), backend, &workflows, zone);
    let cron_task = tokio::spawn(scheduler.run(stop_rx));

    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let address = listener.local_addr()?;
    let ready = state.ready.clone();
    ready.store(true, Ordering::Relaxed);
    eprintln!(
        "relais listening on http://{address} ({} workflow(s), {} plugin(s))",
        workflows.iter().count(),
        plugin_count
    );
    axum::serve(listener, relais_server::app(state))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            ready.store(false, Ordering::Relaxed);
            eprintln!("shutting down: no new requests");
        })
        .await
        .context("serving HTTP")?;
    let _ = stop_tx.send(true);
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let _ = tokio::time::timeout(grace, cron_task).await;
    engine.shutdown(grace).await;
    engine_task.abort();
    eprintln!("stopped; unfinished runs stay queued for the next start");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
