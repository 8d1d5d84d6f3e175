//! The engine: a claim loop that takes queued runs from the store, a timer
//! loop that fires durable timers, and one task per run in flight.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use relais_runtime::KvStore;
use relais_store::{
    CreateOutcome, NewRun, RetryFrom, Run, RunGuard, RunId, Store, Timestamp, TriggerKind,
};
use relais_workflow::{Catalog, Workflow};
use serde_json::Value;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::AbortHandle;

use crate::kv::StoreKv;
use crate::pool::Pool;
use crate::{EngineError, Plugins, Workflows};

/// Most timers fired in one store operation.
const TIMER_BATCH: usize = 512;

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Steps in flight at once across all runs (the global worker pool).
    pub workers: usize,
    /// Most workers the steps of one workflow hold at once (`None`: three
    /// quarters of `workers`, rounded down, at least 1). The rest stay free
    /// for other workflows; runs in memory are shared in the same
    /// proportion (see [`EngineConfig::runs_per_workflow`]).
    pub workers_per_workflow: Option<usize>,
    /// This process's lease owner name.
    pub owner: String,
    /// How long a claim holds.
    pub lease: Duration,
    /// Safety-net poll of the queue and the timers.
    pub poll: Duration,
    /// The zone of cron triggers without `timezone`.
    pub default_timezone: chrono_tz::Tz,
}

impl EngineConfig {
    /// Runs held in memory at once (claimed, between or inside steps):
    /// many runs share each group commit of the store.
    pub fn runs_in_flight(&self) -> usize {
        self.workers.saturating_mul(128).clamp(256, 4096)
    }

    /// Most workers one workflow holds: `workers_per_workflow`, within
    /// `1..=workers`.
    pub fn worker_share(&self) -> usize {
        let workers = self.workers.max(1);
        self.workers_per_workflow
            .unwrap_or(workers * 3 / 4)
            .clamp(1, workers)
    }

    /// Most runs of one workflow held in memory at once: the runs in
    /// flight in the proportion of [`EngineConfig::worker_share`], so a
    /// backlog of one workflow leaves room to claim runs of the others.
    pub fn runs_per_workflow(&self) -> usize {
        let share = self.runs_in_flight() * self.worker_share() / self.workers.max(1);
        share.clamp(1, self.runs_in_flight())
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            workers: 8,
            workers_per_workflow: None,
            owner: "relais".into(),
            lease: Duration::from_secs(300),
            poll: Duration::from_secs(1),
            default_timezone: chrono_tz::UTC,
        }
    }
}

/// Runs workflows durably. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("owner", &self.inner.config.owner)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) workflows: Arc<Workflows>,
    pub(crate) plugins: Arc<Plugins>,
    pub(crate) config: EngineConfig,
    pub(crate) kv: Arc<dyn KvStore>,
    pub(crate) catalog: Catalog,
    /// Steps in flight.
    pub(crate) workers: Arc<Pool>,
    /// Runs in memory.
    pub(crate) slots: Arc<Semaphore>,
    /// New work may be queued.
    pub(crate) wake: Notify,
    /// A timer may be due sooner than the timer loop thinks.
    pub(crate) timer_wake: Notify,
    /// A run finished, was cancelled or was parked.
    pub(crate) finished: Notify,
    /// Shutting down: claim nothing, start no further step.
    stopping: AtomicBool,
    pub(crate) stop: Notify,
    /// The runs in memory, with their tasks.
    pub(crate) active: Mutex<Active>,
    /// Per-workflow limits (`concurrency:`).
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Older revisions of workflows, parsed on demand for runs that started
    /// before the files changed.
    revisions: Mutex<HashMap<(String, String), Arc<Workflow>>>,
}

/// The runs in memory: their tasks, and how many each workflow has.
#[derive(Default)]
pub(crate) struct Active {
    runs: HashMap<RunId, AbortHandle>,
    pub(crate) per_workflow: HashMap<String, usize>,
}

impl Inner {
    pub(crate) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The semaphore of a workflow with a concurrency limit.
    pub(crate) fn limit(&self, workflow: &str, n: u32) -> Arc<Semaphore> {
        let mut map = self.limits.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(workflow.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(n.max(1) as usize)))
            .clone()
    }

    /// The workflow a run executes: the loaded one when the revision
    /// matches, else the stored revision parsed again.
    pub(crate) async fn workflow_for(&self, run: &Run) -> Result<Arc<Workflow>, EngineError> {
        if let Some(loaded) = self.workflows.get(&run.workflow_id)
            && loaded.revision == run.revision
        {
            return Ok(loaded.workflow.clone());
        }
        let key = (run.workflow_id.clone(), run.revision.clone());
        if let Some(w) = self
            .revisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(w.clone());
        }
        let rev = self
            .store
            .revision(&run.workflow_id, &run.revision)
            .await?
            .ok_or_else(|| EngineError::Revision {
                run: run.id,
                message: format!(
                    "workflow {} revision {} is not stored",
                    run.workflow_id, run.revision
                ),
            })?;
        let wf =
            relais_workflow::parse_workflow(&rev.path, rev.source, &self.catalog).map_err(|e| {
                EngineError::Revision {
                    run: run.id,
                    message: format!("its workflow revision no longer validates: {e}"),
                }
            })?;
        let wf = Arc::new(wf);
        self.revisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, wf.clone());
        Ok(wf)
    }
}

impl Engine {
    /// An engine over `store`, running `workflows` with `plugins`.
    pub fn new(
        store: Store,
        workflows: Arc<Workflows>,
        plugins: Arc<Plugins>,
        config: EngineConfig,
    ) -> Engine {
        let catalog = plugins.catalog();
        let in_flight = config.runs_in_flight();
        Engine {
            inner: Arc::new(Inner {
                kv: Arc::new(StoreKv(store.clone())),
                store,
                workflows,
                plugins,
                catalog,
                workers: Arc::new(Pool::new(config.workers, config.worker_share())),
                slots: Arc::new(Semaphore::new(in_flight)),
                config,
                wake: Notify::new(),
                timer_wake: Notify::new(),
                finished: Notify::new(),
                stopping: AtomicBool::new(false),
                stop: Notify::new(),
                active: Mutex::new(Active::default()),
                limits: Mutex::new(HashMap::new()),
                revisions: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Starts the workers and the timer loop; resumes runs left `running`
    /// by a previous process (at their first unfinished step).
    pub fn start(&self) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            engine.resume().await;
            let timers = tokio::spawn(engine.clone().timer_loop());
            engine.clone().claim_loop().await;
            let _ = timers.await;
        })
    }

    /// New work may be queued (a webhook stored a run, a user retried one):
    /// look now.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Durably creates and queues a run (optionally guarded by a dedupe key
    /// or a cron slot), then wakes the workers. Checks the workflow exists;
    /// for manual runs checks the input against the workflow's input schema.
    pub async fn submit(
        &self,
        workflow_id: &str,
        trigger: TriggerKind,
        payload: Value,
        input: Value,
        guard: Option<RunGuard>,
    ) -> Result<CreateOutcome, EngineError> {
        let loaded =
            self.inner
                .workflows
                .get(workflow_id)
                .ok_or_else(|| EngineError::UnknownWorkflow {
                    id: workflow_id.to_owned(),
                })?;
        if trigger == TriggerKind::Manual
            && let Err(problems) = loaded.workflow.check_input(&input)
        {
            return Err(EngineError::InvalidInput {
                workflow: workflow_id.to_owned(),
                problems,
            });
        }
        let outcome = self
            .inner
            .store
            .create_run(NewRun {
                workflow_id: workflow_id.to_owned(),
                revision: loaded.revision.clone(),
                trigger,
                payload,
                input,
                created_at: Timestamp::now(),
                guard,
            })
            .await?;
        if matches!(outcome, CreateOutcome::Created(_)) {
            self.wake();
        }
        Ok(outcome)
    }

    /// Waits until the run has finished (succeeded, failed or cancelled) or
    /// `timeout` passed; returns its header either way (`None`: no such run).
    pub async fn wait_finished(
        &self,
        run: RunId,
        timeout: Duration,
    ) -> Result<Option<Run>, EngineError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.finished.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let Some(header) = self.inner.store.run(run).await? else {
                return Ok(None);
            };
            let now = tokio::time::Instant::now();
            if header.status.is_finished() || now >= deadline {
                return Ok(Some(header));
            }
            let nap = (deadline - now).min(Duration::from_millis(250));
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(nap) => {}
            }
        }
    }

    /// Queues a failed or cancelled run again from its failed step (earlier
    /// outputs kept), or any finished run from the start. Its steps get a
    /// fresh retry budget.
    pub async fn retry(&self, run: RunId, from: RetryFrom) -> Result<Run, EngineError> {
        let run = self.inner.store.retry_run(run, from).await?;
        self.wake();
        Ok(run)
    }

    /// Cancels a run that has not finished: no further step starts (a step
    /// running now ends, and its result is kept).
    pub async fn cancel(&self, run: RunId) -> Result<Run, EngineError> {
        let run = self.inner.store.cancel_run(run).await?;
        self.inner.finished.notify_waiters();
        Ok(run)
    }

    /// Stops claiming work, lets running steps finish within `grace`, and
    /// leaves the rest queued (durably) for the next start.
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.stop.notify_waiters();
        self.inner.wake.notify_one();
        self.inner.timer_wake.notify_one();
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let notified = self.inner.finished.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.active_runs() == 0 || tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + Duration::from_millis(50))) => {}
            }
        }
        // Steps still running past the grace are cut: their runs stay
        // `running` and resume at that step on the next start.
        let handles: Vec<AbortHandle> = {
            let mut active = self.inner.active.lock().unwrap_or_else(|e| e.into_inner());
            active.per_workflow.clear();
            active.runs.drain().map(|(_, h)| h).collect()
        };
        for h in handles {
            h.abort();
        }
    }

    /// Runs held in memory right now.
    pub fn active_runs(&self) -> usize {
        self.inner
            .active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .runs
            .len()
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The loaded workflows.
    pub fn workflows(&self) -> &Arc<Workflows> {
        &self.inner.workflows
    }

    /// The loaded plugins.
    pub fn plugins(&self) -> &Arc<Plugins> {
        &self.inner.plugins
    }

    /// Runs `run` in a task of its own, holding its slot among the runs in
    /// memory and, for a workflow with a `concurrency:` limit, its permit.
    pub(crate) fn spawn_run(
        &self,
        run: Run,
        slot: OwnedSemaphorePermit,
        permit: Option<OwnedSemaphorePermit>,
    ) {
        let mut active = self.inner.active.lock().unwrap_or_else(|e| e.into_inner());
        if active.runs.contains_key(&run.id) {
            return;
        }
        let id = run.id;
        let workflow = run.workflow_id.clone();
        *active.per_workflow.entry(workflow.clone()).or_insert(0) += 1;
        let inner = self.inner.clone();
        let handle = tokio::spawn(async move {
            crate::run::execute(&inner, run).await;
            drop(permit);
            drop(slot);
            {
                let mut active = inner.active.lock().unwrap_or_else(|e| e.into_inner());
                if active.runs.remove(&id).is_some()
                    && let Some(n) = active.per_workflow.get_mut(&workflow)
                {
                    *n -= 1;
                    if *n == 0 {
                        active.per_workflow.remove(&workflow);
                    }
                }
            }
            inner.finished.notify_waiters();
            inner.wake.notify_one();
        });
        active.runs.insert(id, handle.abort_handle());
    }

    async fn timer_loop(self) {
        let inner = &self.inner;
        loop {
            if inner.stopping() {
                return;
            }
            match inner
                .store
                .pop_due_timers(Timestamp::now(), TIMER_BATCH)
                .await
            {
                Ok(fired) => {
                    if !fired.is_empty() {
                        inner.wake.notify_one();
                    }
                    if fired.len() == TIMER_BATCH {
                        continue;
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot fire timers"),
            }
            let nap = match inner.store.next_timer_due().await {
                Ok(Some(due)) => Duration::from_millis(
                    due.as_millis().saturating_sub(Timestamp::now().as_millis()),
                )
                .min(inner.config.poll),
                _ => inner.config.poll,
            };
            tokio::select! {
                _ = inner.timer_wake.notified() => {}
                _ = tokio::time::sleep(nap) => {}
            }
        }
    }
}
