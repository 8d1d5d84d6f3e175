//! The scheduler: fires cron workflows in their zone, at most once per slot
//! (the store's cron-slot guard), and after a downtime follows each
//! workflow's `catch_up` (`none`, `latest`, `all`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use relais_engine::Workflows;
use relais_store::{CreateOutcome, RunGuard, Store, Timestamp, TriggerKind};
use relais_triggers::cron::{CatchUp, CatchUpPolicy, Schedule};
use relais_workflow::context::cron_trigger;
use relais_workflow::model::{self, Trigger};
use serde_json::json;
use tokio::sync::watch;

use crate::error::BackendError;
use crate::{Backend, metrics};

/// The longest the scheduler sleeps between two looks.
const MAX_SLEEP: Duration = Duration::from_secs(60);

fn catch_up(policy: model::CatchUp) -> CatchUp {
    CatchUp::with_policy(match policy {
        model::CatchUp::None => CatchUpPolicy::None,
        model::CatchUp::Latest => CatchUpPolicy::Latest,
        model::CatchUp::All => CatchUpPolicy::All,
    })
}

fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp::from_millis(u64::try_from(at.timestamp_millis()).unwrap_or(0))
}

fn datetime(at: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(i64::try_from(at.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Why a scheduler tick failed.
#[derive(Debug, thiserror::Error)]
pub enum CronError {
    /// The store failed.
    #[error("cron workflow {workflow}: {source}")]
    Store {
        /// The workflow.
        workflow: String,
        /// The failure.
        source: relais_store::StoreError,
    },
    /// The engine refused a run.
    #[error("cron workflow {workflow}: {source}")]
    Submit {
        /// The workflow.
        workflow: String,
        /// The failure.
        source: BackendError,
    },
}

/// Fires the cron workflows of a registry.
pub struct Scheduler {
    store: Store,
    backend: Arc<dyn Backend>,
    schedules: Vec<(String, Schedule, CatchUp)>,
}

impl Scheduler {
    /// A scheduler for every cron workflow of `workflows`, each in its own
    /// zone or `default_zone`.
    pub fn new(
        store: Store,
        backend: Arc<dyn Backend>,
        workflows: &Workflows,
        default_zone: chrono_tz::Tz,
    ) -> Scheduler {
        let mut schedules = Vec::new();
        for w in workflows.iter() {
            let Trigger::Cron(c) = &w.workflow.trigger else {
                continue;
            };
            schedules.push((
                w.id().to_owned(),
                c.schedule_in(default_zone),
                catch_up(c.catch_up),
            ));
        }
        Scheduler {
            store,
            backend,
            schedules,
        }
    }

    /// Fires every slot due at `now`; returns the next instant to look
    /// again. A workflow that never fired is armed at `now`: its first slot
    /// after `now` fires.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, CronError> {
        let mut wake = now + TimeDelta::from_std(MAX_SLEEP).unwrap_or(TimeDelta::seconds(60));
        for (id, schedule, catch_up) in &self.schedules {
            let store_err = |source| CronError::Store {
                workflow: id.clone(),
                source,
            };
            let last = match self.store.cron_last(id).await.map_err(store_err)? {
                Some(last) => datetime(last),
                None => {
                    self.store
                        .set_cron_last(id, timestamp(now))
                        .await
                        .map_err(store_err)?;
                    now
                }
            };
            let plan = schedule.plan(Some(last), now, catch_up);
            for fire in &plan.fire_now {
                let outcome = self
                    .backend
                    .submit(
                        id,
                        TriggerKind::Cron,
                        cron_trigger(fire.at()),
                        json!({}),
                        Some(RunGuard::CronSlot {
                            slot: timestamp(fire.at()),
                        }),
                    )
                    .await
                    .map_err(|source| CronError::Submit {
                        workflow: id.clone(),
                        source,
                    })?;
                let result = match outcome {
                    CreateOutcome::Created(run) => {
                        tracing::info!(workflow = %id, slot = %fire.utc_rfc3339(), run_id = %run, "cron fired");
                        "fired"
                    }
                    CreateOutcome::Existing(_) => "already_fired",
                    CreateOutcome::SlotTooOld => "too_old",
                };
                metrics::cron_fire(id, result);
            }
            if plan.dropped > 0 {
                tracing::warn!(workflow = %id, dropped = plan.dropped, "missed cron slots not caught up");
                if plan.fire_now.is_empty() {
                    self.store
                        .set_cron_last(id, timestamp(now))
                        .await
                        .map_err(store_err)?;
                }
            }
            if let Some(next) = plan.next {
                wake = wake.min(next.at());
            }
        }
        Ok(wake)
    }

    /// Ticks until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let now = Utc::now();
            let wake = match self.tick(now).await {
                Ok(wake) => wake,
                Err(e) => {
                    tracing::error!(error = %e, "cron tick failed");
                    now + TimeDelta::seconds(5)
                }
            };
            let pause = (wake - Utc::now())
                .to_std()
                .unwrap_or_default()
                .min(MAX_SLEEP)
                + Duration::from_millis(5);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}
