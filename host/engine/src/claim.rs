//! Taking runs from the queue: which queued runs a claim takes, and the
//! `concurrency:` permits they need first.
//!
//! A claim takes queued runs oldest first, within two quotas:
//! - no workflow holds more than [`crate::EngineConfig::runs_per_workflow`]
//!   runs in memory, so a backlog of one workflow leaves room to claim the
//!   runs of the others (which then get workers by the rules of
//!   [`crate::pool`]);
//! - a run of a workflow with a `concurrency:` limit is claimed only with a
//!   permit of that limit in hand: until then it stays `queued`, holds no
//!   slot and no worker, and its `timeout:` has not started (a run's try
//!   starts at its first claim).

use std::collections::HashMap;

use relais_store::{ClaimQuota, NextState, Run};
use tokio::sync::OwnedSemaphorePermit;

use crate::engine::Engine;

/// Most runs claimed in one store operation.
const CLAIM_BATCH: usize = 256;

impl Engine {
    /// Resumes the runs a previous process left `running`. A run of a
    /// `concurrency:`-limited workflow that finds no permit goes back to
    /// the queue, where it waits for one.
    pub(crate) async fn resume(&self) {
        let inner = &self.inner;
        let runs = match inner.store.running_runs().await {
            Ok(runs) => runs,
            Err(e) => {
                tracing::error!(error = %e, "cannot list the runs to resume");
                return;
            }
        };
        for run in runs {
            let permit = match self.limit_of(&run.workflow_id) {
                Some(sem) => match sem.try_acquire_owned() {
                    Ok(permit) => Some(permit),
                    Err(_) => {
                        let next = NextState::Requeue {
                            next_step: run.next_step,
                        };
                        if let Err(e) = inner.store.advance_run(run.id, next).await {
                            tracing::error!(run = %run.id, error = %e, "cannot queue a run again");
                        }
                        continue;
                    }
                },
                None => None,
            };
            let Ok(slot) = inner.slots.clone().acquire_owned().await else {
                break;
            };
            self.spawn_run(run, slot, permit);
        }
    }

    /// The `concurrency:` semaphore of a loaded workflow, if it has one.
    fn limit_of(&self, workflow: &str) -> Option<std::sync::Arc<tokio::sync::Semaphore>> {
        let loaded = self.inner.workflows.get(workflow)?;
        loaded
            .workflow
            .concurrency
            .map(|n| self.inner.limit(workflow, n))
    }

    /// What the next claim may take, and the permits it takes them with.
    fn quota(&self, free: usize) -> (ClaimQuota, HashMap<String, Vec<OwnedSemaphorePermit>>) {
        let inner = &self.inner;
        let share = inner.config.runs_per_workflow();
        let held = inner
            .active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .per_workflow
            .clone();
        let room = |wf: &str| share.saturating_sub(held.get(wf).copied().unwrap_or(0));
        let mut quota = ClaimQuota {
            max: free,
            per_workflow: share,
            workflows: held.keys().map(|wf| (wf.clone(), room(wf))).collect(),
        };
        let mut permits = HashMap::new();
        for loaded in inner.workflows.iter() {
            let id = loaded.id();
            let Some(n) = loaded.workflow.concurrency else {
                continue;
            };
            let sem = inner.limit(id, n);
            let mut got = Vec::new();
            while got.len() < room(id).min(free) {
                match sem.clone().try_acquire_owned() {
                    Ok(permit) => got.push(permit),
                    Err(_) => break,
                }
            }
            quota.workflows.insert(id.to_owned(), got.len());
            permits.insert(id.to_owned(), got);
        }
        (quota, permits)
    }

    /// Claims queued runs while there is room, and runs them.
    pub(crate) async fn claim_loop(self) {
        let inner = &self.inner;
        let lease = inner.config.lease;
        loop {
            if inner.stopping() {
                return;
            }
            let free = inner.slots.available_permits().min(CLAIM_BATCH);
            let mut full = false;
            if free > 0 {
                let (quota, mut permits) = self.quota(free);
                match inner
                    .store
                    .claim_runs_within(&inner.config.owner, &quota, lease)
                    .await
                {
                    Ok(runs) => {
                        full = runs.len() == free;
                        for run in runs {
                            let permit = permits.get_mut(&run.workflow_id).and_then(Vec::pop);
                            if !self.start_claimed(run, permit).await {
                                return;
                            }
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "cannot claim runs"),
                }
            }
            if full && !inner.stopping() {
                continue;
            }
            tokio::select! {
                _ = inner.wake.notified() => {}
                _ = tokio::time::sleep(inner.config.poll) => {}
            }
        }
    }

    /// Runs a claimed run in a slot; false when the slots are closed.
    async fn start_claimed(&self, run: Run, permit: Option<OwnedSemaphorePermit>) -> bool {
        let slots = &self.inner.slots;
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => match slots.clone().acquire_owned().await {
                Ok(slot) => slot,
                Err(_) => return false,
            },
        };
        self.spawn_run(run, slot, permit);
        true
    }
}
