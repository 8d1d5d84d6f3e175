//! The durable store of Relais: workflow revisions, runs and their step
//! attempts, the run queue, durable timers, dedupe keys and cron slots,
//! plugin key-value data, API token records and encrypted secrets.
//!
//! One concrete type, [`Store`], is the interface; its records are plain
//! serde data. The embedded implementation keeps everything in one
//! [`redb`] file, with a bounded page cache ([`StoreOptions::cache_size`],
//! 64 MiB by default) so the store's memory stays flat as history grows.
//! Every write is one atomic, durable operation: it goes to a
//! writer thread that commits every operation waiting in one transaction
//! (group commit, one fsync) and answers each caller only after the commit.
//! A refused operation (for example a step start on a cancelled run) fails
//! alone; the others in its batch commit. Reads use read transactions
//! directly.
//!
//! ```no_run
//! # async fn demo() -> relais_store::Result<()> {
//! use relais_store::*;
//! let opened = Store::open(StoreOptions::new(
//!     "data/relais.redb",
//!     MasterKeySource::File("data/master.key".into()),
//! ))?;
//! if opened.master_key_created {
//!     eprintln!("a new master key was created: back it up");
//! }
//! let store = opened.store;
//! let now = Timestamp::now();
//! let rev = store.put_revision("dunning", "id: dunning\n...", "workflows/dunning.yaml", now).await?;
//! let outcome = store
//!     .create_run(NewRun {
//!         workflow_id: "dunning".into(),
//!         revision: rev.hash,
//!         trigger: TriggerKind::Webhook,
//!         payload: serde_json::json!({"id": "evt_1"}),
//!         input: serde_json::json!({}),
//!         created_at: now,
//!         guard: Some(RunGuard::Dedupe {
//!             key: "evt_1".into(),
//!             expires_at: now.saturating_add(std::time::Duration::from_secs(86400)),
//!         }),
//!     })
//!     .await?;
//! # let _ = outcome;
//! # Ok(())
//! # }
//! ```

pub mod codec;
mod error;
mod id;
mod list;
mod migrate;
mod model;
mod ops;
mod read;
mod secrets;
mod step;
mod store;
mod tables;
mod time;
mod tokens;
mod writer;

pub use error::{Result, StoreError};
pub use id::{ParseRunIdError, RunId};
pub use list::MAX_PAGE;
pub use model::{
    ClaimQuota, CreateOutcome, FiredTimer, NewRun, PruneReport, RetryFrom, Revision, Run,
    RunDetail, RunFilter, RunGuard, RunPage, RunStatus, StatusCounts, TimerPurpose, TriggerKind,
    Wake,
};
pub use ops::kv_usage::KvQuota;
pub use ops::misc::{MAX_KV_KEY, MAX_KV_VALUE};
pub use secrets::{MasterKeySource, SecretValue};
pub use step::{
    Attempt, AttemptEnd, AttemptOutcome, AttemptStart, ErrorKind, LogLevel, LogLine, NextState,
    StepError,
};
pub use store::{
    DEFAULT_CACHE_SIZE, DEFAULT_MAX_BATCH, DEFAULT_QUEUE_DEPTH, Opened, RevisionPut, Store,
    StoreOptions,
};
pub use time::Timestamp;
pub use tokens::{TOKEN_NAMESPACE, TokenRecord};
pub use writer::{COMMIT_SECONDS, WriterStats};
