//! The Relais workflow engine.
//!
//! The [`relais_store::Store`] is the source of truth: queued runs, timers
//! and attempts live there, so a crash or a restart loses nothing. The
//! engine claims queued runs in batches, keeps many of them in flight (so
//! they share each group commit of the store), and runs their steps in
//! order, each plugin call in the sandbox ([`relais_runtime`]).
//!
//! For each step it records an attempt (rendered input, idempotency key,
//! start) before the call, and its end (output or typed error, logs) together
//! with the run's next state in one durable operation. A step that acts on
//! nothing outside the run (`set`, `wait`, an expression that fails) has its
//! start and end recorded together, in that same one operation:
//! - `retryable` errors and timeouts are retried with the step's backoff
//!   and jitter (or the plugin's retry-after) through a durable timer, the
//!   items of a `for_each` too;
//!   `invalid-input`, `fatal`, limits and traps are never retried;
//! - a final failure runs the `on_failure` step, then goes on
//!   (`continue_on_error`) or fails the run;
//! - `wait` steps are durable timers, `set` steps compute values, and
//!   `for_each` steps call the plugin once per item (see `foreach`);
//! - the idempotency key is `RUN/STEP` (`RUN/STEP/ITEM` for an item of a
//!   `for_each`): the same across automatic retries and restarts; a retry
//!   by a user starts a new key generation N, whose keys end in `/gN`
//!   ([`relais_store::Run::idempotency_key`]);
//! - steps are called under a worker of a pool shared fairly between
//!   workflows (`EngineConfig::workers_per_workflow`), and a run of a
//!   workflow with `concurrency:` is claimed only with a permit of it;
//! - secrets named by a step are read from the store and granted to that
//!   call only; they never reach the expression context or a record;
//! - a workflow's `timeout` bounds a run from the start of its current try
//!   (its first claim by a worker, which for a `concurrency:`-limited
//!   workflow comes with its permit; a user retry starts a new try): at the
//!   deadline the step in flight is stopped, attempts left open are closed
//!   as timed out and the run fails (`run timed out after 10m`); a wait or
//!   a retry back-off never sleeps past it, and it holds across restarts.
//!
//! On [`Engine::start`], runs left `running` resume at their first
//! unfinished step; an attempt cut off mid-call is closed as interrupted
//! and the step is invoked again with the same idempotency key. This is a
//! one-process engine: leases are recorded but not renewed, and the store
//! file is locked by one process.
//!
//! ```no_run
//! # async fn demo(store: relais_store::Store, runtime: relais_runtime::Runtime) -> Result<(), relais_engine::EngineError> {
//! use std::sync::Arc;
//! use relais_engine::*;
//! let (plugins, _problems) = Plugins::load(&runtime, "plugins".as_ref(), [], |_| Default::default()).await?;
//! let (workflows, _errors) = Workflows::load("workflows".as_ref(), &plugins.catalog(), &store).await?;
//! let engine = Engine::new(store, Arc::new(workflows), Arc::new(plugins), EngineConfig::default());
//! engine.start();
//! let created = engine
//!     .submit("hello", relais_store::TriggerKind::Manual, serde_json::Value::Null, serde_json::json!({}), None)
//!     .await?;
//! if let Some(id) = created.run_id() {
//!     engine.wait_finished(id, std::time::Duration::from_secs(30)).await?;
//! }
//! engine.shutdown(std::time::Duration::from_secs(10)).await;
//! # Ok(()) }
//! ```

mod claim;
mod deadline;
mod engine;
mod error;
mod foreach;
mod invoke;
mod kv;
pub mod metrics;
mod plugins;
mod pool;
mod run;
mod settle;
mod workflows;

pub use engine::{Engine, EngineConfig};
pub use error::EngineError;
pub use kv::StoreKv;
pub use plugins::{PluginOptions, PluginSource, Plugins, file_stem, load_source, plugin_sources};
pub use workflows::{Loaded, Workflows};

use relais_store::{RunId, Store};
use serde_json::Value;

/// The output of a finished run (see [`relais_store::RunDetail::output`]).
/// `None`: no such run.
pub async fn run_output(store: &Store, run: RunId) -> Result<Option<Value>, EngineError> {
    Ok(store.run_detail(run).await?.map(|d| d.output()))
}
