//! The store's error type.

use std::path::PathBuf;

use crate::{RunId, RunStatus};

/// Everything a store operation can fail with.
///
/// Variants that carry user data never carry a secret value: secret errors
/// name the secret, not its content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error("cannot open the store database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What redb said.
        #[source]
        source: redb::Error,
    },
    /// A read or write of the database failed (disk full, I/O error,
    /// corruption). The operation had no effect.
    #[error("store i/o failed while {action}: {source}")]
    Storage {
        /// What the store was doing.
        action: &'static str,
        /// What redb said.
        #[source]
        source: redb::Error,
    },
    /// A stored record could not be decoded.
    #[error("corrupt record in table {table}: {source}")]
    Corrupt {
        /// The table holding the record.
        table: &'static str,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// A record could not be encoded.
    #[error("cannot encode {what}: {source}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The encoding error.
        #[source]
        source: serde_json::Error,
    },
    /// An argument was refused before anything was written.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The argument that was refused.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// No run has this id.
    #[error("run {run} not found")]
    RunNotFound {
        /// The run asked for.
        run: RunId,
    },
    /// The run is in a state where the operation is not allowed (for
    /// example a step start on a cancelled run).
    #[error("run {run} is {status}: cannot {action}")]
    RunState {
        /// The run.
        run: RunId,
        /// Its current status.
        status: RunStatus,
        /// What was refused.
        action: &'static str,
    },
    /// The workflow revision a run names has not been stored.
    #[error("workflow {workflow} has no stored revision {revision}")]
    RevisionNotFound {
        /// The workflow id.
        workflow: String,
        /// The content hash asked for.
        revision: String,
    },
    /// No attempt with this sequence number exists in the run.
    #[error("run {run} has no attempt #{seq}")]
    AttemptNotFound {
        /// The run.
        run: RunId,
        /// The attempt's sequence number in the run.
        seq: u32,
    },
    /// The attempt already has its end recorded.
    #[error("attempt #{seq} of run {run} has already ended")]
    AttemptEnded {
        /// The run.
        run: RunId,
        /// The attempt's sequence number in the run.
        seq: u32,
    },
    /// A plugin KV key is empty or longer than the limit.
    #[error("kv key of plugin {plugin} is {len} bytes: keys must be 1 to {max} bytes")]
    KvKey {
        /// The plugin.
        plugin: String,
        /// The key's length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A plugin KV value is larger than the limit.
    #[error("kv value for key {key:?} of plugin {plugin} is {len} bytes: the limit is {max}")]
    KvValue {
        /// The plugin.
        plugin: String,
        /// The key.
        key: String,
        /// The value's size in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A write would take a plugin's KV data past its quota.
    #[error(
        "kv quota of plugin {plugin} exceeded: it would keep {would} {what}, the quota is {max}"
    )]
    KvQuota {
        /// The plugin.
        plugin: String,
        /// `keys` or `bytes`.
        what: &'static str,
        /// What it would keep after the write.
        would: u64,
        /// Its quota.
        max: u64,
    },
    /// The master key could not be read, parsed or created.
    #[error("master key {location}: {reason}")]
    MasterKey {
        /// The file path or `env:NAME`.
        location: String,
        /// What went wrong.
        reason: String,
    },
    /// A secret could not be encrypted or decrypted (wrong master key, a
    /// record moved to another name, or a tampered record).
    #[error("secret {name} cannot be {action}: wrong master key or tampered record")]
    SecretCrypto {
        /// The secret's name.
        name: String,
        /// `encrypted` or `decrypted`.
        action: &'static str,
    },
    /// The writer thread is gone (the store is closing or it panicked).
    #[error("the store writer has stopped")]
    WriterStopped,
}

impl StoreError {
    /// True when the error says nothing about the operation's own inputs
    /// but about the database (so a batch carrying it must be rolled back).
    pub(crate) fn is_storage(&self) -> bool {
        matches!(
            self,
            Self::Storage { .. } | Self::Corrupt { .. } | Self::Encode { .. } | Self::WriterStopped
        )
    }

    /// True when the run was refused because it is cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            Self::RunState {
                status: RunStatus::Cancelled,
                ..
            }
        )
    }
}

/// Converts any redb error into [`StoreError::Storage`] with a context.
pub(crate) trait StorageContext<T> {
    /// Attaches what the store was doing.
    fn during(self, action: &'static str) -> Result<T, StoreError>;
}

impl<T, E: Into<redb::Error>> StorageContext<T> for Result<T, E> {
    fn during(self, action: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Storage {
            action,
            source: e.into(),
        })
    }
}

/// Shorthand for the store's results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
