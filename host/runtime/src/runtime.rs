//! The engine: one wasmtime configuration for every plugin, a linker with
//! the granted imports, the precompiled-component cache and the epoch clock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::cache::{CacheOutcome, ComponentCache};
use crate::host::{self, State};
use crate::limits::MAX_MEMORY_BYTES;
use crate::mail::{MailRelay, MailRelayError, Relays};
use crate::plugin::{Plugin, PluginSettings};

/// How often the epoch advances: the granularity of timeouts, and how often
/// a busy guest yields its thread to other tasks.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Settings of the runtime as a whole (per-plugin settings are separate).
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Folder of precompiled components; `None` compiles in memory only.
    pub cache_dir: Option<PathBuf>,
    /// Instances that may exist at once across all plugins.
    pub max_instances: u32,
    /// Bytes of linear memory kept mapped in a reused slot, so a fresh
    /// instance of a small plugin does not fault its pages in again.
    pub keep_resident_bytes: usize,
    /// SMTP relays plugins may send mail through, by name (each plugin
    /// only through those its settings grant).
    pub mail_relays: BTreeMap<String, MailRelay>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            max_instances: 1000,
            keep_resident_bytes: 2 << 20,
            mail_relays: BTreeMap::new(),
        }
    }
}

/// Errors while setting up the runtime or loading a plugin.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The engine could not be created.
    #[error("cannot configure the wasm engine: {0:#}")]
    Engine(wasmtime::Error),
    /// A plugin file could not be read.
    #[error("cannot read plugin {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid component, or imports something not granted.
    #[error("plugin {path} is not a usable component: {message}")]
    Compile {
        /// The file.
        path: PathBuf,
        /// What wasmtime said.
        message: String,
    },
    /// A TLS setting of the plugin's HTTP grants cannot be used.
    #[error("plugin {path}: {source}")]
    Tls {
        /// The plugin file.
        path: PathBuf,
        /// Why.
        source: Box<crate::tls::TlsError>,
    },
    /// A configured mail relay cannot be used.
    #[error(transparent)]
    MailRelay(#[from] MailRelayError),
    /// The name a plugin is loaded under is not a valid plugin name.
    #[error(
        "plugin {path}: {name:?} is not a valid plugin name (lowercase letters, digits and '-'): rename the file or name it in the configuration"
    )]
    Name {
        /// The file.
        path: PathBuf,
        /// The name it was to be loaded under.
        name: String,
    },
    /// `describe` failed or returned something invalid.
    #[error("plugin {path}: describe failed: {message}")]
    Describe {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Advances the engine's epoch until dropped.
struct EpochClock {
    stop: Arc<AtomicBool>,
}

impl EpochClock {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let spawned = std::thread::Builder::new()
            .name("relais-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the epoch clock: timeouts will not fire");
        }
        Self { stop }
    }
}

impl Drop for EpochClock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

pub(crate) struct Shared {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<State>,
    pub(crate) tls: Arc<rustls::ClientConfig>,
    pub(crate) mail: Arc<Relays>,
    _clock: EpochClock,
}

/// The sandbox: load plugins with [`Runtime::load`], then invoke their steps.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) shared: Arc<Shared>,
    cache: Option<ComponentCache>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("cache", &self.cache)
            .finish()
    }
}

impl Runtime {
    /// Creates the engine, the linker and the cache.
    pub fn new(config: &RuntimeConfig) -> Result<Self, LoadError> {
        let engine = Engine::new(&engine_config(config)).map_err(LoadError::Engine)?;
        let linker = host::linker(&engine).map_err(LoadError::Engine)?;
        let mail = Arc::new(Relays::new(&config.mail_relays)?);
        let cache = match &config.cache_dir {
            Some(dir) => Some(
                ComponentCache::new(dir, &engine)
                    .map_err(|e| LoadError::Engine(wasmtime::Error::new(e)))?,
            ),
            None => None,
        };
        Ok(Self {
            shared: Arc::new(Shared {
                _clock: EpochClock::start(engine.clone()),
                tls: crate::tls::default_config(),
                mail,
                engine,
                linker,
            }),
            cache,
        })
    }

    /// The component cache, if any.
    pub fn cache(&self) -> Option<&ComponentCache> {
        self.cache.as_ref()
    }

    /// Loads one plugin file under its file stem (`stripe` for
    /// `stripe.wasm`): see [`Runtime::load_as`].
    pub async fn load(
        &self,
        path: impl AsRef<Path>,
        settings: PluginSettings,
    ) -> Result<(Plugin, CacheOutcome), LoadError> {
        let path = path.as_ref();
        self.load_as(&file_stem(path), path, settings).await
    }

    /// Loads one plugin file under `name`: compiles it (or loads it
    /// precompiled), links it, and asks it to describe itself. `name` is
    /// its identity ([`Plugin::name`]), whatever it declares.
    pub async fn load_as(
        &self,
        name: &str,
        path: impl AsRef<Path>,
        settings: PluginSettings,
    ) -> Result<(Plugin, CacheOutcome), LoadError> {
        let path = path.as_ref().to_path_buf();
        let wasm = std::fs::read(&path).map_err(|source| LoadError::Read {
            path: path.clone(),
            source,
        })?;
        let engine = self.shared.engine.clone();
        let cache = self.cache.clone();
        let compiled = tokio::task::spawn_blocking(move || match cache {
            Some(c) => c.load(&engine, &wasm),
            None => wasmtime::component::Component::new(&engine, &wasm)
                .map(|c| (c, CacheOutcome::Disabled)),
        })
        .await;
        let compile_err = |message: String| LoadError::Compile {
            path: path.clone(),
            message,
        };
        let (component, outcome) = compiled
            .map_err(|e| compile_err(e.to_string()))?
            .map_err(|e| compile_err(format!("{e:#}")))?;
        let plugin = Plugin::new(self.clone(), name, path, component, settings).await?;
        Ok((plugin, outcome))
    }
}

/// The file stem a plugin is named by (`stripe` for `stripe.wasm`).
pub fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn engine_config(config: &RuntimeConfig) -> Config {
    let mut c = Config::new();
    c.wasm_component_model(true);
    c.epoch_interruption(true);
    c.concurrency_support(false);
    c.parallel_compilation(true);
    c.max_wasm_stack(1 << 20);
    c.async_stack_size(2 << 20);

    let n = config.max_instances.max(1);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(n)
        // A Rust guest built for wasip2 has its module, the preview-1
        // adapter and a few shims: a handful of core instances.
        .max_core_instances_per_component(16)
        .total_core_instances(n.saturating_mul(8))
        .max_memories_per_component(4)
        .total_memories(n.saturating_mul(2))
        .max_tables_per_component(8)
        .total_tables(n.saturating_mul(4))
        .total_stacks(n)
        .max_memory_size(usize::try_from(MAX_MEMORY_BYTES).unwrap_or(usize::MAX))
        .linear_memory_keep_resident(config.keep_resident_bytes)
        .table_keep_resident(64 << 10)
        .async_stack_keep_resident(64 << 10)
        .max_component_instance_size(1 << 20)
        .max_core_instance_size(1 << 20);
    c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    c
}
