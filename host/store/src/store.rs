//! The [`Store`] type: opening, and every write operation.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use redb::Database;
use sha2::{Digest, Sha256};

use crate::error::{Result, StorageContext, StoreError};
use crate::ops::kv_usage::KvQuota;
use crate::ops::misc::{
    KvDelete, KvSet, PutRevision, SecretPut, SecretRemove, SetCronLast, validate_kv,
};
use crate::ops::retention::Prune;
use crate::ops::runs::{Cancel, Claim, CreateRun, Retry};
use crate::ops::steps::{Advance, EndAttempt, FailRun, RecordAttempt, StartAttempt};
use crate::ops::timers::{PopDue, ScheduleTimer};
use crate::secrets::{MasterKey, check_secret_name};
use crate::tables::{Tables, check_name};
use crate::writer::{Writer, WriterStats};
use crate::{
    AttemptEnd, AttemptStart, ClaimQuota, CreateOutcome, FiredTimer, MasterKeySource, NewRun,
    NextState, PruneReport, RetryFrom, Revision, Run, RunId, RunStatus, StepError, TimerPurpose,
    Timestamp,
};

/// Default bound on the number of operations committed together.
pub const DEFAULT_MAX_BATCH: usize = 1024;
/// Default number of operations that may wait for the writer.
pub const DEFAULT_QUEUE_DEPTH: usize = 16 * 1024;
/// Default bound on the database's page cache, in bytes (64 MiB).
pub const DEFAULT_CACHE_SIZE: usize = 64 * 1024 * 1024;

/// How to open a store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// The database file (its folder is created when absent).
    pub path: PathBuf,
    /// Where the secrets master key comes from.
    pub master_key: MasterKeySource,
    /// At most this many operations are committed in one transaction.
    pub max_batch: usize,
    /// At most this many operations wait for the writer; callers beyond
    /// that wait for room (back-pressure).
    pub queue_depth: usize,
    /// Most bytes of database pages kept in memory (read cache and pages
    /// written but not yet flushed). redb's own default is 1 GiB, which a
    /// growing history fills: the store's memory would grow with it.
    pub cache_size: usize,
}

impl StoreOptions {
    /// Options with the default batch bound, queue depth and cache size.
    pub fn new(path: impl Into<PathBuf>, master_key: MasterKeySource) -> Self {
        Self {
            path: path.into(),
            master_key,
            max_batch: DEFAULT_MAX_BATCH,
            queue_depth: DEFAULT_QUEUE_DEPTH,
            cache_size: DEFAULT_CACHE_SIZE,
        }
    }
}

/// An opened store, and whether its master key was just created (the caller
/// should then warn loudly that the key file must be backed up: without it
/// the stored secrets are lost).
#[derive(Debug)]
pub struct Opened {
    /// The store.
    pub store: Store,
    /// True when the master key file did not exist and was created.
    pub master_key_created: bool,
}

/// What [`Store::put_revision`] stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionPut {
    /// SHA-256 of the source, lowercase hex: the revision's id.
    pub hash: String,
    /// False when this exact revision was already stored.
    pub created: bool,
}

/// The durable store. Cheap to clone; every clone shares one database and
/// one writer thread, which stops when the last clone is dropped.
///
/// Writes are queued to the writer thread and committed in groups (one
/// fsync for every operation waiting); each `async` write returns once its
/// operation is durable. A write whose future is dropped after it was
/// queued may still be committed. Reads use their own read transactions.
///
/// Dropping the last clone waits for the writer to finish what is queued.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    // Dropped first: the writer finishes its queue before the database closes.
    pub(crate) writer: Writer,
    pub(crate) db: Arc<Database>,
    pub(crate) master: MasterKey,
    path: PathBuf,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store at `options.path`, creating the database and the
    /// master key file when absent.
    pub fn open(options: StoreOptions) -> Result<Opened> {
        let path = options.path.clone();
        let open_err = |source: redb::Error| StoreError::Open {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(redb::Error::Io(e)))?;
        }
        let db = Database::builder()
            .set_cache_size(options.cache_size)
            .create(&path)
            .map_err(|e| open_err(e.into()))?;
        let tx = db.begin_write().map_err(|e| open_err(e.into()))?;
        drop(Tables::open(&tx)?);
        tx.delete_table(crate::tables::LEGACY_QUEUE)
            .during("dropping the legacy run queue")?;
        crate::migrate::upgrade(&tx)?;
        tx.commit().during("creating the tables")?;
        let (master, master_key_created) = MasterKey::load(&options.master_key)?;
        let db = Arc::new(db);
        let writer = Writer::start(db.clone(), options.max_batch, options.queue_depth)?;
        let store = Store {
            inner: Arc::new(Inner {
                writer,
                db,
                master,
                path,
            }),
        };
        Ok(Opened {
            store,
            master_key_created,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Counters of the writer thread (commits, operations, replays).
    pub fn writer_stats(&self) -> WriterStats {
        self.inner.writer.stats()
    }

    /// Stores a workflow revision (idempotent: the same source for the same
    /// workflow is stored once). Its id is the SHA-256 of `source`.
    pub async fn put_revision(
        &self,
        workflow_id: &str,
        source: &str,
        path: &str,
        now: Timestamp,
    ) -> Result<RevisionPut> {
        check_name("workflow id", workflow_id)?;
        let hash = hex::encode(Sha256::digest(source.as_bytes()));
        let revision = Revision {
            workflow_id: workflow_id.to_owned(),
            hash: hash.clone(),
            source: source.to_owned(),
            path: path.to_owned(),
            stored_at: now,
        };
        let created = self.inner.writer.submit(PutRevision { revision }).await?;
        Ok(RevisionPut { hash, created })
    }

    /// Creates a run and queues it, in one durable operation, unless its
    /// guard (dedupe key or cron slot) matches an earlier run. The run's
    /// revision must have been stored.
    pub async fn create_run(&self, new: NewRun) -> Result<CreateOutcome> {
        let id = RunId::generate(new.created_at);
        let op = CreateRun::prepare(new, id)?;
        self.inner.writer.submit(op).await
    }

    /// Takes up to `max` queued runs, oldest first, marks them running for
    /// `owner` with a lease of `lease`, and returns them.
    pub async fn claim_runs(&self, owner: &str, max: usize, lease: Duration) -> Result<Vec<Run>> {
        let quota = ClaimQuota {
            max,
            per_workflow: max,
            workflows: Default::default(),
        };
        self.claim_runs_within(owner, &quota, lease).await
    }

    /// Takes queued runs, oldest first, within `quota` (in all and per
    /// workflow: the runs of a workflow past its quota stay queued, and
    /// younger runs of other workflows are taken instead), marks them
    /// running for `owner` with a lease of `lease`, and returns them.
    pub async fn claim_runs_within(
        &self,
        owner: &str,
        quota: &ClaimQuota,
        lease: Duration,
    ) -> Result<Vec<Run>> {
        check_name("owner", owner)?;
        let op = Claim::new(owner, quota, Timestamp::now(), lease);
        self.inner.writer.submit(op).await
    }

    /// Records the start of a step attempt; returns its sequence number in
    /// the run. Refused unless the run is running (a cancelled run starts no
    /// further step: see [`StoreError::is_cancelled`]).
    pub async fn start_attempt(&self, run: RunId, start: AttemptStart) -> Result<u32> {
        self.inner.writer.submit(StartAttempt { run, start }).await
    }

    /// Records the end of attempt `seq` (output or error, logs, end time)
    /// and the run's next state, in one durable operation. Returns the
    /// run's status afterwards (`cancelled` if it was cancelled meanwhile:
    /// the end is still recorded, the next state is not applied).
    pub async fn end_attempt(
        &self,
        run: RunId,
        seq: u32,
        end: AttemptEnd,
        next: NextState,
    ) -> Result<RunStatus> {
        let op = EndAttempt {
            run,
            seq,
            end,
            next,
        };
        self.inner.writer.submit(op).await
    }

    /// Records a whole attempt (start and end) and the run's next state in
    /// one durable operation, for a step that acts on nothing outside the
    /// run. Returns the attempt's sequence number and the run's status
    /// afterwards. Refused, with nothing recorded, unless the run is running
    /// (see [`StoreError::is_cancelled`]).
    pub async fn record_attempt(
        &self,
        run: RunId,
        start: AttemptStart,
        end: AttemptEnd,
        next: NextState,
    ) -> Result<(u32, RunStatus)> {
        let op = RecordAttempt {
            run,
            start,
            end,
            next,
        };
        self.inner.writer.submit(op).await
    }

    /// Changes a running run's state without an attempt.
    pub async fn advance_run(&self, run: RunId, next: NextState) -> Result<RunStatus> {
        let op = Advance {
            run,
            next,
            now: Timestamp::now(),
        };
        self.inner.writer.submit(op).await
    }

    /// Fails a run that has not finished (queued, running or waiting), in
    /// one durable operation: `error` is recorded on the run, every attempt
    /// still open is closed with `attempt_error`, its timer is dropped, and
    /// no further step starts. Returns the run afterwards; a finished run
    /// is returned unchanged.
    pub async fn fail_run(
        &self,
        run: RunId,
        error: StepError,
        attempt_error: StepError,
    ) -> Result<Run> {
        let op = FailRun {
            run,
            error,
            attempt_error,
            now: Timestamp::now(),
        };
        self.inner.writer.submit(op).await
    }

    /// Puts a run that has not finished to sleep until `due`; it is queued
    /// again when [`Store::pop_due_timers`] finds it due.
    pub async fn schedule_timer(
        &self,
        run: RunId,
        due: Timestamp,
        purpose: TimerPurpose,
    ) -> Result<()> {
        let op = ScheduleTimer {
            run,
            due,
            purpose,
            now: Timestamp::now(),
        };
        self.inner.writer.submit(op).await
    }

    /// Fires up to `max` timers due at or before `now`, earliest first:
    /// their runs go back to the queue.
    pub async fn pop_due_timers(&self, now: Timestamp, max: usize) -> Result<Vec<FiredTimer>> {
        self.inner.writer.submit(PopDue { now, max }).await
    }

    /// Cancels a run that has not finished: no further step starts.
    /// Cancelling a cancelled run returns it unchanged.
    pub async fn cancel_run(&self, run: RunId) -> Result<Run> {
        let op = Cancel {
            run,
            now: Timestamp::now(),
        };
        self.inner.writer.submit(op).await
    }

    /// Queues a finished run again: from its failed step (failed or
    /// cancelled runs) or from the start (any finished run). Earlier
    /// attempts are kept.
    pub async fn retry_run(&self, run: RunId, from: RetryFrom) -> Result<Run> {
        let op = Retry {
            run,
            from,
            now: Timestamp::now(),
        };
        self.inner.writer.submit(op).await
    }

    /// Sets a plugin's KV value (key 1 to 512 bytes, value at most 1 MiB).
    pub async fn kv_set(&self, plugin: &str, key: &str, value: Vec<u8>) -> Result<()> {
        validate_kv(plugin, key, Some(&value))?;
        let op = KvSet {
            plugin: plugin.to_owned(),
            key: key.to_owned(),
            value,
            quota: None,
        };
        self.inner.writer.submit(op).await
    }

    /// Like [`Store::kv_set`], refused with [`StoreError::KvQuota`] when the
    /// plugin's data (bytes of keys and values, number of keys) would then
    /// exceed `quota`. A write that does not grow the data always passes.
    pub async fn kv_set_within(
        &self,
        plugin: &str,
        key: &str,
        value: Vec<u8>,
        quota: KvQuota,
    ) -> Result<()> {
        validate_kv(plugin, key, Some(&value))?;
        let op = KvSet {
            plugin: plugin.to_owned(),
            key: key.to_owned(),
            value,
            quota: Some(quota),
        };
        self.inner.writer.submit(op).await
    }

    /// Like [`Store::kv_set`], for a thread outside the async runtime. Must
    /// not be called from async code (it blocks the thread).
    pub fn kv_set_blocking(&self, plugin: &str, key: &str, value: Vec<u8>) -> Result<()> {
        validate_kv(plugin, key, Some(&value))?;
        let op = KvSet {
            plugin: plugin.to_owned(),
            key: key.to_owned(),
            value,
            quota: None,
        };
        self.inner.writer.submit_blocking(op)
    }

    /// Deletes a plugin's KV value; returns whether it existed.
    pub async fn kv_delete(&self, plugin: &str, key: &str) -> Result<bool> {
        validate_kv(plugin, key, None)?;
        let op = KvDelete {
            plugin: plugin.to_owned(),
            key: key.to_owned(),
        };
        self.inner.writer.submit(op).await
    }

    /// Like [`Store::kv_delete`], for a thread outside the async runtime.
    pub fn kv_delete_blocking(&self, plugin: &str, key: &str) -> Result<bool> {
        validate_kv(plugin, key, None)?;
        let op = KvDelete {
            plugin: plugin.to_owned(),
            key: key.to_owned(),
        };
        self.inner.writer.submit_blocking(op)
    }

    /// Records the last fired cron slot of a workflow (creating a run with
    /// a cron slot guard also advances it).
    pub async fn set_cron_last(&self, workflow_id: &str, slot: Timestamp) -> Result<()> {
        check_name("workflow id", workflow_id)?;
        let op = SetCronLast {
            workflow: workflow_id.to_owned(),
            slot,
        };
        self.inner.writer.submit(op).await
    }

    /// Encrypts and stores a secret; returns whether it replaced one.
    pub async fn secret_set(&self, name: &str, value: &str) -> Result<bool> {
        check_secret_name(name)?;
        let sealed = self.inner.master.seal(name, value)?;
        let op = SecretPut {
            name: name.to_owned(),
            sealed,
        };
        self.inner.writer.submit(op).await
    }

    /// Removes a secret; returns whether it existed.
    pub async fn secret_remove(&self, name: &str) -> Result<bool> {
        check_secret_name(name)?;
        let op = SecretRemove {
            name: name.to_owned(),
        };
        self.inner.writer.submit(op).await
    }

    /// Removes up to `max` runs finished before `finished_before` (with
    /// their attempts), up to `max` dedupe keys expired at `now`, and up to
    /// `max` cron slot records before `finished_before`; cron slots before
    /// `finished_before` are refused from then on. Call again while the
    /// report says `more`.
    pub async fn prune(
        &self,
        finished_before: Timestamp,
        now: Timestamp,
        max: usize,
    ) -> Result<PruneReport> {
        let op = Prune {
            finished_before,
            now,
            max,
        };
        self.inner.writer.submit(op).await
    }
}
