//! One Relais node built from the configuration: the store, the loaded
//! plugins and workflows, the engine (not started) and the server state.
//! `relais serve` serves it; the CLI commands talk to it in process when no
//! server holds the store.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context as _, Result};
use relais_engine::{Engine, EngineConfig, Plugins, Workflows};
use relais_server::{AppState, PluginDoc, PluginStepDoc, ServerConfig};
use relais_store::{MasterKeySource, Store, StoreOptions};
use relais_workflow::{Catalog, WorkflowErrors};

use crate::config::Config;
use crate::{logging, plugins};

/// Environment variable that, when set, holds the master key (64 hex
/// characters) instead of `DATA_DIR/master.key`.
pub const MASTER_KEY_ENV: &str = "RELAIS_MASTER_KEY";

/// What a command needs loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    /// The store only: runs, secrets and tokens.
    Store,
    /// Plugins and workflows too: to start or run workflows.
    Workflows,
}

/// A node: everything but the listeners.
pub struct Node {
    pub store: Store,
    pub engine: Engine,
    pub state: AppState,
    pub zone: chrono_tz::Tz,
}

/// Opens the configured store, creating the data folder and master key.
pub fn open_store(config: &Config) -> Result<Store> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let key = if std::env::var_os(MASTER_KEY_ENV).is_some() {
        MasterKeySource::Env(MASTER_KEY_ENV.to_owned())
    } else {
        MasterKeySource::File(config.data_dir.join("master.key"))
    };
    let path = config.store_path();
    let opened = Store::open(StoreOptions::new(&path, key)).map_err(|e| {
        let locked = e.to_string().to_lowercase().contains("already open");
        let hint = if locked {
            " (another relais process holds it: stop it, or run this command while its \
             control socket is reachable)"
        } else {
            ""
        };
        anyhow::anyhow!("opening the store {}: {e}{hint}", path.display())
    })?;
    if opened.master_key_created {
        logging::warn(format_args!(
            "a new master key was created in {}: back it up, the secrets cannot be read without it",
            config.data_dir.join("master.key").display()
        ));
    }
    Ok(opened.store)
}

fn plugin_docs(plugins: &Plugins) -> Vec<PluginDoc> {
    plugins
        .iter()
        .map(|p| {
            let info = p.info();
            PluginDoc {
                name: p.name().to_owned(),
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

/// The configured plugins, or none (with a warning) when the folder is missing.
async fn load_plugins(config: &Config) -> Result<Plugins> {
    if !config.plugins_dir.is_dir() {
        logging::warn(format_args!(
            "plugins folder {} does not exist: no plugin is loaded (build them with scripts/build-plugins.sh)",
            config.plugins_dir.display()
        ));
        return Ok(Plugins::default());
    }
    let (plugins, failures) = plugins::load_all(config).await?;
    for f in &failures {
        logging::warn(f);
    }
    Ok(plugins)
}

async fn load_workflows(
    config: &Config,
    catalog: &Catalog,
    store: &Store,
) -> Result<(Workflows, WorkflowErrors)> {
    if config.workflows_dir.is_dir() {
        return Ok(Workflows::load(&config.workflows_dir, catalog, store).await?);
    }
    logging::warn(format_args!(
        "workflows folder {} does not exist",
        config.workflows_dir.display()
    ));
    Ok((
        Workflows::from_workflows(Vec::new(), store).await?,
        WorkflowErrors::default(),
    ))
}

impl Node {
    /// Opens the store and, with [`Load::Workflows`], loads the plugins and
    /// workflows (warnings on stderr).
    pub async fn open(config: &Config, load: Load) -> Result<Node> {
        let zone: chrono_tz::Tz = config.server.timezone.parse().map_err(|_| {
            anyhow::anyhow!(
                "{}: unknown [server] timezone {:?}",
                config.source,
                config.server.timezone
            )
        })?;
        let store = open_store(config)?;
        let (plugins, loaded) = match load {
            Load::Store => (
                Plugins::default(),
                Workflows::from_workflows(Vec::new(), &store).await?,
            ),
            Load::Workflows => {
                let plugins = load_plugins(config).await?;
                let catalog = plugins.catalog();
                let (loaded, errors) = load_workflows(config, &catalog, &store).await?;
                for d in errors.iter() {
                    logging::warn(d);
                }
                (plugins, loaded)
            }
        };
        let workflows = Arc::new(loaded);
        let docs = plugin_docs(&plugins);
        let engine = Engine::new(
            store.clone(),
            workflows.clone(),
            Arc::new(plugins),
            EngineConfig {
                workers: config.server.workers,
                workers_per_workflow: config.server.workers_per_workflow,
                default_timezone: zone,
                ..EngineConfig::default()
            },
        );
        let state = AppState {
            store: store.clone(),
            backend: Arc::new(engine.clone()),
            workflows,
            plugins: Arc::new(docs),
            config: Arc::new(ServerConfig {
                body_limit: config.server.body_limit,
                default_timezone: zone,
            }),
            metrics: None,
            ready: Arc::new(AtomicBool::new(false)),
            secrets: Arc::default(),
        };
        Ok(Node {
            store,
            engine,
            state,
            zone,
        })
    }
}
