//! Group commit: one writer thread applies every waiting operation in one
//! redb write transaction, commits it durably (one fsync), and only then
//! answers each caller.
//!
//! An operation first checks its preconditions with read-only access to the
//! tables, then writes. A refused operation therefore leaves nothing behind
//! and fails alone; the rest of the batch commits. When the batch itself
//! fails (an I/O error, a record that cannot be encoded), it is rolled back
//! and every operation is applied again in a transaction of its own, so only
//! the culprit fails.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redb::{Database, Durability};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Result, StorageContext, StoreError};
use crate::tables::Tables;

/// One write operation.
pub(crate) trait Op: Send + 'static {
    /// What the check phase hands to the write phase.
    type Plan;
    /// What the caller gets back.
    type Output: Send + 'static;

    /// Checks preconditions (reads only) and prepares the writes. An error
    /// that is not a storage error refuses this operation alone.
    fn check(&self, t: &Tables<'_>) -> Result<Self::Plan>;

    /// Performs the writes. Any error here rolls the whole batch back.
    fn write(&self, plan: Self::Plan, t: &mut Tables<'_>) -> Result<Self::Output>;

    /// Whether someone outside waits on this commit (see the module doc).
    fn urgent(&self) -> bool {
        false
    }
}

/// Most background operations in a batch while urgent ones keep coming.
pub(crate) const BACKGROUND_PER_BATCH: usize = 64;
/// How long after the last urgent operation batches stay short.
const URGENT_WINDOW: Duration = Duration::from_millis(500);

/// Histogram of batch durations (apply and commit), recorded through the
/// `metrics` facade: how long an acknowledgement waits on the store.
pub const COMMIT_SECONDS: &str = "relais_store_commit_seconds";

/// A batch that takes this long (apply and commit) is logged.
const SLOW_COMMIT: Duration = Duration::from_millis(50);

/// An operation with its caller's reply channel, type-erased.
trait Job: Send {
    /// Applies the operation; `Err` means the batch must be rolled back.
    fn apply(&mut self, t: &mut Tables<'_>) -> Result<()>;
    /// Sends the result kept by `apply` (after the commit).
    fn reply(self: Box<Self>);
    /// Sends an error.
    fn fail(self: Box<Self>, error: StoreError);
    /// See [`Op::urgent`].
    fn urgent(&self) -> bool;
}

struct Pending<O: Op> {
    op: O,
    result: Option<Result<O::Output>>,
    reply: oneshot::Sender<Result<O::Output>>,
}

impl<O: Op> Job for Pending<O> {
    fn apply(&mut self, t: &mut Tables<'_>) -> Result<()> {
        self.result = None;
        match self.op.check(t) {
            Ok(plan) => {
                let out = self.op.write(plan, t)?;
                self.result = Some(Ok(out));
                Ok(())
            }
            Err(e) if e.is_storage() => Err(e),
            Err(e) => {
                self.result = Some(Err(e));
                Ok(())
            }
        }
    }

    fn reply(self: Box<Self>) {
        let result = self.result.unwrap_or(Err(StoreError::WriterStopped));
        // The caller may have gone away: nothing to do then.
        let _ = self.reply.send(result);
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }

    fn urgent(&self) -> bool {
        self.op.urgent()
    }
}

/// Counters of the writer, for tests and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Write transactions committed.
    pub commits: u64,
    /// Operations answered (successfully or not).
    pub operations: u64,
    /// Batches that failed as a whole and were replayed one by one.
    pub replays: u64,
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    operations: AtomicU64,
    replays: AtomicU64,
}

/// The handle to the writer thread. Dropping it lets the thread finish what
/// is queued, then joins it.
pub(crate) struct Writer {
    sender: Option<mpsc::Sender<Box<dyn Job>>>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl Writer {
    /// Starts the writer thread.
    pub(crate) fn start(db: Arc<Database>, max_batch: usize, queue_depth: usize) -> Result<Self> {
        let (sender, receiver) = mpsc::channel(queue_depth.max(1));
        let counters = Arc::new(Counters::default());
        let thread_counters = counters.clone();
        let max_batch = max_batch.max(1);
        let thread = std::thread::Builder::new()
            .name("relais-store-writer".into())
            .spawn(move || writer_loop(&db, receiver, max_batch, &thread_counters))
            .map_err(|e| StoreError::Invalid {
                what: "writer thread",
                reason: format!("cannot start it: {e}"),
            })?;
        Ok(Self {
            sender: Some(sender),
            thread: Some(thread),
            counters,
        })
    }

    fn job<O: Op>(op: O) -> (Box<dyn Job>, oneshot::Receiver<Result<O::Output>>) {
        let (reply, receiver) = oneshot::channel();
        let job = Box::new(Pending {
            op,
            result: None,
            reply,
        });
        (job, receiver)
    }

    /// Queues `op` and waits until it is durably committed (or refused).
    pub(crate) async fn submit<O: Op>(&self, op: O) -> Result<O::Output> {
        let sender = self.sender.as_ref().ok_or(StoreError::WriterStopped)?;
        let (job, receiver) = Self::job(op);
        sender
            .send(job)
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        receiver.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Like [`Writer::submit`], for threads outside an async runtime.
    pub(crate) fn submit_blocking<O: Op>(&self, op: O) -> Result<O::Output> {
        let sender = self.sender.as_ref().ok_or(StoreError::WriterStopped)?;
        let (job, receiver) = Self::job(op);
        sender
            .blocking_send(job)
            .map_err(|_| StoreError::WriterStopped)?;
        receiver
            .blocking_recv()
            .map_err(|_| StoreError::WriterStopped)?
    }

    /// A snapshot of the counters.
    pub(crate) fn stats(&self) -> WriterStats {
        WriterStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            operations: self.counters.operations.load(Ordering::Relaxed),
            replays: self.counters.replays.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the store writer thread panicked");
        }
    }
}

fn writer_loop(
    db: &Database,
    mut receiver: mpsc::Receiver<Box<dyn Job>>,
    max_batch: usize,
    counters: &Counters,
) {
    let mut queues = Queues::default();
    loop {
        if queues.is_empty() {
            match receiver.blocking_recv() {
                Some(job) => queues.push(job),
                None => return,
            }
        }
        // Everything waiting: callers await their reply, so what can be
        // waiting is bounded by how many callers there are.
        while let Ok(job) = receiver.try_recv() {
            queues.push(job);
        }
        let jobs = queues.batch(max_batch);
        // A panic in an operation drops its batch (each caller sees
        // `WriterStopped`) but keeps the writer serving later batches.
        if catch_unwind(AssertUnwindSafe(|| run_batch(db, jobs, counters))).is_err() {
            tracing::error!("a store operation panicked; its batch was rolled back");
        }
    }
}

/// Operations received and not yet applied, urgent ones apart.
#[derive(Default)]
struct Queues {
    urgent: VecDeque<Box<dyn Job>>,
    background: VecDeque<Box<dyn Job>>,
    last_urgent: Option<Instant>,
}

impl Queues {
    fn is_empty(&self) -> bool {
        self.urgent.is_empty() && self.background.is_empty()
    }

    fn push(&mut self, job: Box<dyn Job>) {
        if job.urgent() {
            self.last_urgent = Some(Instant::now());
            self.urgent.push_back(job);
        } else {
            self.background.push_back(job);
        }
    }

    /// The next batch: urgent operations first, then background ones, at
    /// most [`BACKGROUND_PER_BATCH`] of those while urgent work is recent.
    fn batch(&mut self, max_batch: usize) -> Vec<Box<dyn Job>> {
        let n = self.urgent.len().min(max_batch);
        let mut jobs: Vec<Box<dyn Job>> = self.urgent.drain(..n).collect();
        let recent = self
            .last_urgent
            .is_some_and(|t| t.elapsed() < URGENT_WINDOW);
        let room = max_batch - jobs.len();
        let room = if recent {
            room.clamp(1, BACKGROUND_PER_BATCH)
        } else {
            room
        };
        let n = self.background.len().min(room);
        jobs.extend(self.background.drain(..n));
        jobs
    }
}

/// Applies `jobs` in one transaction and answers them; on a batch failure,
/// replays them one per transaction.
fn run_batch(db: &Database, mut jobs: Vec<Box<dyn Job>>, counters: &Counters) {
    let n = jobs.len() as u64;
    let began = Instant::now();
    let committed = commit(db, &mut jobs);
    let took = began.elapsed();
    metrics::histogram!(COMMIT_SECONDS).record(took.as_secs_f64());
    if took >= SLOW_COMMIT {
        tracing::warn!(
            took_ms = took.as_millis() as u64,
            operations = n,
            "slow store commit: every caller of this batch waited for it"
        );
    }
    match committed {
        Ok(()) => {
            counters.commits.fetch_add(1, Ordering::Relaxed);
            counters.operations.fetch_add(n, Ordering::Relaxed);
            for job in jobs {
                job.reply();
            }
        }
        Err(error) if jobs.len() == 1 => {
            counters.operations.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%error, "store write failed");
            if let Some(job) = jobs.pop() {
                job.fail(error);
            }
        }
        Err(error) => {
            counters.replays.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%error, batch = n, "store batch failed; replaying its operations one by one");
            for job in jobs {
                run_batch(db, vec![job], counters);
            }
        }
    }
}

fn commit(db: &Database, jobs: &mut [Box<dyn Job>]) -> Result<()> {
    let mut tx = db.begin_write().during("starting a write transaction")?;
    tx.set_durability(Durability::Immediate)
        .during("setting durability")?;
    let applied = (|| {
        let mut tables = Tables::open(&tx)?;
        for job in jobs.iter_mut() {
            job.apply(&mut tables)?;
        }
        tables.finish()
    })();
    match applied {
        Ok(()) => tx.commit().during("committing a write transaction"),
        Err(e) => {
            if let Err(abort) = tx.abort() {
                tracing::warn!(error = %abort, "aborting a store transaction failed");
            }
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::KV;
    use redb::ReadableDatabase;

    /// Writes `key` into the KV table; refuses `refuse`, and fails its write
    /// phase (as an I/O error would) when `break_batch`.
    struct Put {
        key: &'static str,
        refuse: bool,
        break_batch: bool,
        urgent: bool,
    }

    impl Op for Put {
        type Plan = ();
        type Output = ();
        fn check(&self, _t: &Tables<'_>) -> Result<()> {
            if self.refuse {
                return Err(StoreError::Invalid {
                    what: "test op",
                    reason: "refused".into(),
                });
            }
            Ok(())
        }
        fn write(&self, (): (), t: &mut Tables<'_>) -> Result<()> {
            t.kv.insert(self.key.as_bytes(), &b"v"[..])
                .during("test write")?;
            if self.break_batch {
                return Err(StoreError::WriterStopped);
            }
            Ok(())
        }
        fn urgent(&self) -> bool {
            self.urgent
        }
    }

    fn db() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("t.redb")).unwrap();
        (dir, db)
    }

    fn has(db: &Database, key: &str) -> bool {
        let tx = db.begin_read().unwrap();
        let t = tx.open_table(KV).unwrap();
        t.get(key.as_bytes()).unwrap().is_some()
    }

    fn put(key: &'static str, refuse: bool, break_batch: bool) -> Put {
        Put {
            key,
            refuse,
            break_batch,
            urgent: false,
        }
    }

    #[test]
    fn urgent_work_goes_first_and_keeps_batches_short() {
        let mut q = Queues::default();
        for _ in 0..200 {
            q.push(Writer::job(put("bg", false, false)).0);
        }
        // No urgent work lately: full batches of background work.
        assert_eq!(q.batch(150).len(), 150);
        let urgent = Put {
            urgent: true,
            ..put("u", false, false)
        };
        q.push(Writer::job(urgent).0);
        for _ in 0..100 {
            q.push(Writer::job(put("bg", false, false)).0);
        }
        let batch = q.batch(150);
        assert!(batch[0].urgent(), "the urgent operation comes first");
        assert_eq!(batch.len(), 1 + BACKGROUND_PER_BATCH);
        assert!(batch[1..].iter().all(|j| !j.urgent()));
        // Background work still moves while urgent work is recent.
        assert!(!q.batch(150).is_empty() || q.is_empty());
    }

    #[test]
    fn a_refused_op_fails_alone_in_one_commit() {
        let (_dir, db) = db();
        let counters = Counters::default();
        let (a, ra) = Writer::job(put("a", false, false));
        let (b, rb) = Writer::job(put("b", true, false));
        let (c, rc) = Writer::job(put("c", false, false));
        run_batch(&db, vec![a, b, c], &counters);
        assert!(ra.blocking_recv().unwrap().is_ok());
        assert!(matches!(
            rb.blocking_recv().unwrap(),
            Err(StoreError::Invalid { .. })
        ));
        assert!(rc.blocking_recv().unwrap().is_ok());
        assert!(has(&db, "a") && has(&db, "c") && !has(&db, "b"));
        assert_eq!(counters.commits.load(Ordering::Relaxed), 1);
        assert_eq!(counters.replays.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_broken_batch_is_replayed_and_only_the_culprit_fails() {
        let (_dir, db) = db();
        let counters = Counters::default();
        let (a, ra) = Writer::job(put("a", false, false));
        let (b, rb) = Writer::job(put("b", false, true));
        let (c, rc) = Writer::job(put("c", false, false));
        run_batch(&db, vec![a, b, c], &counters);
        assert!(ra.blocking_recv().unwrap().is_ok());
        assert!(rb.blocking_recv().unwrap().is_err());
        assert!(rc.blocking_recv().unwrap().is_ok());
        // The culprit's partial write was rolled back.
        assert!(has(&db, "a") && has(&db, "c") && !has(&db, "b"));
        assert_eq!(counters.replays.load(Ordering::Relaxed), 1);
        assert_eq!(counters.commits.load(Ordering::Relaxed), 2);
    }
}
