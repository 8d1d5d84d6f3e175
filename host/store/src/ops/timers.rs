//! Durable timers: a run waits until its timer fires, then is queued again.

use redb::ReadableTable;

use super::{load_run, put_run};
use crate::error::{Result, StorageContext, StoreError};
use crate::tables::{Tables, key, read_ts, trailing_id, ts};
use crate::writer::Op;
use crate::{FiredTimer, Run, RunId, RunStatus, TimerPurpose, Timestamp, Wake};

/// Puts a run that has not finished to sleep until `due` (replacing any
/// timer it had).
pub(crate) struct ScheduleTimer {
    pub run: RunId,
    pub due: Timestamp,
    pub purpose: TimerPurpose,
    pub now: Timestamp,
}

impl Op for ScheduleTimer {
    type Plan = (Run, Run);
    type Output = ();

    fn check(&self, t: &Tables<'_>) -> Result<Self::Plan> {
        let old = load_run(&t.runs, self.run)?;
        if old.status.is_finished() {
            return Err(StoreError::RunState {
                run: self.run,
                status: old.status,
                action: "schedule a timer",
            });
        }
        let mut new = old.clone();
        new.status = RunStatus::Waiting;
        new.owner = None;
        new.lease_until = None;
        new.updated_at = self.now;
        new.wake = Some(Wake {
            due: self.due,
            purpose: self.purpose.clone(),
        });
        Ok((old, new))
    }

    fn write(&self, (old, new): Self::Plan, t: &mut Tables<'_>) -> Result<()> {
        put_run(t, Some(&old), &new)
    }
}

/// Fires up to `max` timers due at or before `now`, earliest first: their
/// runs go back to the queue.
pub(crate) struct PopDue {
    pub now: Timestamp,
    pub max: usize,
}

pub(crate) enum Due {
    Fire(Box<(Run, Run, FiredTimer)>),
    /// A timer entry whose run no longer waits on it.
    Stale(Vec<u8>),
}

impl Op for PopDue {
    type Plan = Vec<Due>;
    type Output = Vec<FiredTimer>;

    fn check(&self, t: &Tables<'_>) -> Result<Self::Plan> {
        let end = key(&[&ts(self.now), &[0xff; 16]]);
        let ctx = "reading timers";
        let mut plan = Vec::new();
        for entry in t
            .timers
            .range(..=end.as_slice())
            .during(ctx)?
            .take(self.max)
        {
            let (k, _) = entry.during(ctx)?;
            let k = k.value();
            let (Some(due), Some(id)) = (read_ts(k, 0), trailing_id(k)) else {
                plan.push(Due::Stale(k.to_vec()));
                continue;
            };
            let old = match load_run(&t.runs, id) {
                Ok(run) => run,
                Err(StoreError::RunNotFound { .. }) => {
                    plan.push(Due::Stale(k.to_vec()));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Some(wake) = old.wake.clone().filter(|w| w.due == due) else {
                plan.push(Due::Stale(k.to_vec()));
                continue;
            };
            let mut new = old.clone();
            new.status = RunStatus::Queued;
            new.wake = None;
            new.updated_at = self.now;
            let fired = FiredTimer {
                run_id: id,
                due,
                purpose: wake.purpose,
            };
            plan.push(Due::Fire(Box::new((old, new, fired))));
        }
        Ok(plan)
    }

    fn write(&self, plan: Self::Plan, t: &mut Tables<'_>) -> Result<Vec<FiredTimer>> {
        let mut fired = Vec::with_capacity(plan.len());
        for due in plan {
            match due {
                Due::Fire(fire) => {
                    let (old, new, timer) = *fire;
                    put_run(t, Some(&old), &new)?;
                    fired.push(timer);
                }
                Due::Stale(k) => {
                    t.timers
                        .remove(k.as_slice())
                        .during("removing a stale timer")?;
                }
            }
        }
        Ok(fired)
    }
}
