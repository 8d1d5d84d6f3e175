//! Run creation (with dedupe and cron guards), claiming, cancel and retry.

use std::collections::HashMap;
use std::time::Duration;

use redb::ReadableTable;

use super::{load_run, put_run};
use crate::error::{Result, StorageContext, StoreError};
use crate::tables::{
    META_CRON_HORIZON, RunData, Tables, check_name, count_key, encode, key, name_key, read_ts,
    status_key_id, status_key_workflow, trailing_id, ts,
};
use crate::writer::Op;
use crate::{
    ClaimQuota, CreateOutcome, NewRun, RetryFrom, Run, RunGuard, RunId, RunStatus, Timestamp,
};

/// Longest dedupe key accepted, in bytes.
pub(crate) const MAX_DEDUPE_KEY: usize = 1024;
/// Longest revision hash accepted, in bytes.
const MAX_REVISION: usize = 128;

/// Checks a new run's fields (before it is queued for the writer).
pub(crate) fn validate_new_run(new: &NewRun) -> Result<()> {
    check_name("workflow id", &new.workflow_id)?;
    if new.revision.is_empty() || new.revision.len() > MAX_REVISION {
        return Err(StoreError::Invalid {
            what: "revision",
            reason: format!("must be 1 to {MAX_REVISION} bytes"),
        });
    }
    if let Some(RunGuard::Dedupe { key, .. }) = &new.guard
        && (key.is_empty() || key.len() > MAX_DEDUPE_KEY)
    {
        return Err(StoreError::Invalid {
            what: "dedupe key",
            reason: format!("{} bytes: must be 1 to {MAX_DEDUPE_KEY}", key.len()),
        });
    }
    Ok(())
}

/// Creates and queues a run, unless its guard matches an earlier one.
pub(crate) struct CreateRun {
    /// The run, its payload and input moved out into `data`.
    new: NewRun,
    id: RunId,
    /// Payload and input, encoded by the caller (off the writer thread).
    data: Vec<u8>,
}

impl CreateRun {
    /// Validates `new` and encodes its payload and input.
    pub(crate) fn prepare(mut new: NewRun, id: RunId) -> Result<Self> {
        validate_new_run(&new)?;
        let data = encode(
            "run data",
            &RunData {
                payload: std::mem::take(&mut new.payload),
                input: std::mem::take(&mut new.input),
            },
        )?;
        Ok(Self { new, id, data })
    }
}

pub(crate) enum CreatePlan {
    Done(CreateOutcome),
    Create {
        run: Box<Run>,
        /// Dedupe entry key, and the expiry-index key of the entry it replaces.
        dedupe: Option<(Vec<u8>, Option<Vec<u8>>)>,
        cron_last: Option<u64>,
    },
}

impl Op for CreateRun {
    type Plan = CreatePlan;
    type Output = CreateOutcome;

    /// A webhook's acknowledgement waits on this commit.
    fn urgent(&self) -> bool {
        true
    }

    fn check(&self, t: &Tables<'_>) -> Result<CreatePlan> {
        let new = &self.new;
        validate_new_run(new)?;
        let wf = name_key(&new.workflow_id);
        let rev_key = key(&[&wf, new.revision.as_bytes()]);
        if t.revisions
            .get(rev_key.as_slice())
            .during("reading a revision")?
            .is_none()
        {
            return Err(StoreError::RevisionNotFound {
                workflow: new.workflow_id.clone(),
                revision: new.revision.clone(),
            });
        }

        if t.runs
            .get(&self.id.to_bytes()[..])
            .during("reading a run")?
            .is_some()
        {
            return Err(StoreError::Invalid {
                what: "run id",
                reason: format!("{} is already taken", self.id),
            });
        }

        let mut dedupe = None;
        let mut cron_last = None;
        match &new.guard {
            Some(RunGuard::Dedupe { key: dk, .. }) => {
                let entry_key = key(&[&wf, dk.as_bytes()]);
                let mut replaces = None;
                if let Some(entry) = t
                    .dedupe
                    .get(entry_key.as_slice())
                    .during("reading a dedupe key")?
                {
                    let value = entry.value();
                    let (run, expires) = (trailing_id(&value[..16]), read_ts(value, 16));
                    if let (Some(run), Some(expires)) = (run, expires) {
                        if expires > new.created_at {
                            return Ok(CreatePlan::Done(CreateOutcome::Existing(run)));
                        }
                        replaces = Some(key(&[&ts(expires), &entry_key]));
                    }
                }
                dedupe = Some((entry_key, replaces));
            }
            Some(RunGuard::CronSlot { slot }) => {
                let horizon = t
                    .meta
                    .get(META_CRON_HORIZON)
                    .during("reading the cron horizon")?
                    .map_or(0, |g| g.value());
                if slot.as_millis() < horizon {
                    return Ok(CreatePlan::Done(CreateOutcome::SlotTooOld));
                }
                let slot_key = key(&[&wf, &ts(*slot)]);
                if let Some(existing) = t
                    .cron_slots
                    .get(slot_key.as_slice())
                    .during("reading a cron slot")?
                    && let Some(run) = trailing_id(existing.value())
                {
                    return Ok(CreatePlan::Done(CreateOutcome::Existing(run)));
                }
                let last = t
                    .cron_last
                    .get(wf.as_slice())
                    .during("reading the last cron slot")?
                    .map(|g| g.value());
                if last.is_none_or(|l| l < slot.as_millis()) {
                    cron_last = Some(slot.as_millis());
                }
            }
            None => {}
        }

        let run = Run {
            id: self.id,
            workflow_id: new.workflow_id.clone(),
            revision: new.revision.clone(),
            trigger: new.trigger,
            status: RunStatus::Queued,
            next_step: 0,
            created_at: new.created_at,
            started_at: None,
            try_started_at: None,
            updated_at: new.created_at,
            finished_at: None,
            owner: None,
            lease_until: None,
            wake: None,
            error: None,
            retries: 0,
            attempts: 0,
            history_from: 0,
            budget_from: 0,
            dedupe_key: match &new.guard {
                Some(RunGuard::Dedupe { key, .. }) => Some(key.clone()),
                _ => None,
            },
            cron_slot: match &new.guard {
                Some(RunGuard::CronSlot { slot }) => Some(*slot),
                _ => None,
            },
        };
        Ok(CreatePlan::Create {
            run: Box::new(run),
            dedupe,
            cron_last,
        })
    }

    fn write(&self, plan: CreatePlan, t: &mut Tables<'_>) -> Result<CreateOutcome> {
        let (run, dedupe, cron_last) = match plan {
            CreatePlan::Done(outcome) => return Ok(outcome),
            CreatePlan::Create {
                run,
                dedupe,
                cron_last,
            } => (run, dedupe, cron_last),
        };
        let id = run.id.to_bytes();
        let ctx = "creating a run";
        put_run(t, None, &run)?;
        t.run_data
            .insert(&id[..], self.data.as_slice())
            .during(ctx)?;
        let wf = name_key(&run.workflow_id);
        if let (Some((entry_key, replaces)), Some(RunGuard::Dedupe { expires_at, .. })) =
            (dedupe, &self.new.guard)
        {
            if let Some(old_index) = replaces {
                t.dedupe_expiry.remove(old_index.as_slice()).during(ctx)?;
            }
            let value = key(&[&id, &ts(*expires_at)]);
            t.dedupe
                .insert(entry_key.as_slice(), value.as_slice())
                .during(ctx)?;
            let index = key(&[&ts(*expires_at), &entry_key]);
            t.dedupe_expiry.insert(index.as_slice(), ()).during(ctx)?;
        }
        if let Some(slot) = run.cron_slot {
            let slot_key = key(&[&wf, &ts(slot)]);
            t.cron_slots
                .insert(slot_key.as_slice(), &id[..])
                .during(ctx)?;
        }
        if let Some(last) = cron_last {
            t.cron_last.insert(wf.as_slice(), last).during(ctx)?;
        }
        Ok(CreateOutcome::Created(run.id))
    }
}

/// Takes queued runs, oldest first, within a quota per workflow, and marks
/// them running.
pub(crate) struct Claim {
    pub owner: String,
    /// Most runs in all.
    pub max: usize,
    /// Most runs of a workflow `workflows` does not name.
    pub per_workflow: usize,
    /// Most runs of these workflows, by name key.
    pub workflows: HashMap<Vec<u8>, usize>,
    pub now: Timestamp,
    pub lease_until: Timestamp,
}

impl Claim {
    /// A claim of `quota` for `owner` at `now`.
    pub(crate) fn new(owner: &str, quota: &ClaimQuota, now: Timestamp, lease: Duration) -> Self {
        Self {
            owner: owner.to_owned(),
            max: quota.max,
            per_workflow: quota.per_workflow,
            workflows: quota
                .workflows
                .iter()
                .map(|(wf, n)| (name_key(wf), *n))
                .collect(),
            now,
            lease_until: now.saturating_add(lease),
        }
    }
}

impl Op for Claim {
    type Plan = Vec<(Run, Run)>;
    type Output = Vec<Run>;

    fn check(&self, t: &Tables<'_>) -> Result<Self::Plan> {
        check_name("owner", &self.owner)?;
        let mut plan = Vec::new();
        if self.max == 0 {
            return Ok(plan);
        }
        let code = RunStatus::Queued.code();
        let (queued, after) = ([code], [code + 1]);
        let range = t.by_status.range(&queued[..]..&after[..]);
        // Runs taken per workflow (by name key), and whether it has its
        // quota.
        let mut taken: HashMap<Vec<u8>, (usize, bool)> = HashMap::new();
        // Queued runs that may still be taken: the scan stops when none
        // is left, rather than read past a long backlog of workflows that
        // have their quota.
        let mut left = t.counted(&count_key(None, RunStatus::Queued))?;
        let queued_of = |workflow: &[u8]| t.counted(&key(&[workflow, &[code]]));
        for entry in range.during("reading the queue")? {
            if left == 0 || plan.len() >= self.max {
                break;
            }
            let (k, _) = entry.during("reading the queue")?;
            let k = k.value();
            let id = status_key_id(k).ok_or_else(|| StoreError::Invalid {
                what: "queue entry",
                reason: "not a run id".into(),
            })?;
            let workflow = status_key_workflow(k);
            let quota = self
                .workflows
                .get(workflow)
                .copied()
                .unwrap_or(self.per_workflow);
            let (n, full) = match taken.get_mut(workflow) {
                Some(state) => state,
                None => taken.entry(workflow.to_vec()).or_insert((0, false)),
            };
            if *full {
                continue;
            }
            if *n < quota {
                *n += 1;
                left = left.saturating_sub(1);
                let old = load_run(&t.runs, id)?;
                let mut new = old.clone();
                new.status = RunStatus::Running;
                new.owner = Some(self.owner.clone());
                new.lease_until = Some(self.lease_until);
                new.started_at = Some(self.now);
                new.try_started_at = old.try_started_at.or(Some(self.now));
                new.updated_at = self.now;
                plan.push((old, new));
            }
            if *n >= quota {
                // The workflow's other queued runs stay: count them out.
                *full = true;
                let rest = queued_of(workflow)?.saturating_sub(*n as u64);
                left = left.saturating_sub(rest);
            }
        }
        Ok(plan)
    }

    fn write(&self, plan: Self::Plan, t: &mut Tables<'_>) -> Result<Vec<Run>> {
        let mut out = Vec::with_capacity(plan.len());
        for (old, new) in plan {
            put_run(t, Some(&old), &new)?;
            out.push(new);
        }
        Ok(out)
    }
}

/// Cancels a run that has not finished; cancelling a cancelled run is a no-op.
pub(crate) struct Cancel {
    pub run: RunId,
    pub now: Timestamp,
}

impl Op for Cancel {
    type Plan = (Run, Option<Run>);
    type Output = Run;

    fn check(&self, t: &Tables<'_>) -> Result<Self::Plan> {
        let old = load_run(&t.runs, self.run)?;
        match old.status {
            RunStatus::Cancelled => Ok((old, None)),
            RunStatus::Succeeded | RunStatus::Failed => Err(StoreError::RunState {
                run: self.run,
                status: old.status,
                action: "cancel a finished run",
            }),
            _ => {
                let mut new = old.clone();
                new.status = RunStatus::Cancelled;
                new.finished_at = Some(self.now);
                new.updated_at = self.now;
                new.owner = None;
                new.lease_until = None;
                new.wake = None;
                Ok((old, Some(new)))
            }
        }
    }

    fn write(&self, (old, new): Self::Plan, t: &mut Tables<'_>) -> Result<Run> {
        match new {
            Some(new) => {
                put_run(t, Some(&old), &new)?;
                Ok(new)
            }
            None => Ok(old),
        }
    }
}

/// Queues a finished run again, at its failed step or at the start.
pub(crate) struct Retry {
    pub run: RunId,
    pub from: RetryFrom,
    pub now: Timestamp,
}

impl Op for Retry {
    type Plan = (Run, Run);
    type Output = Run;

    fn check(&self, t: &Tables<'_>) -> Result<Self::Plan> {
        let old = load_run(&t.runs, self.run)?;
        let allowed = match self.from {
            RetryFrom::FailedStep => {
                matches!(old.status, RunStatus::Failed | RunStatus::Cancelled)
            }
            RetryFrom::Start => old.status.is_finished(),
        };
        if !allowed {
            return Err(StoreError::RunState {
                run: self.run,
                status: old.status,
                action: match self.from {
                    RetryFrom::FailedStep => "retry from the failed step",
                    RetryFrom::Start => "retry from the start",
                },
            });
        }
        let mut new = old.clone();
        new.status = RunStatus::Queued;
        if self.from == RetryFrom::Start {
            new.next_step = 0;
            new.history_from = old.attempts;
        }
        new.budget_from = old.attempts;
        new.try_started_at = None;
        new.finished_at = None;
        new.error = None;
        new.owner = None;
        new.lease_until = None;
        new.updated_at = self.now;
        new.retries = old.retries.saturating_add(1);
        Ok((old, new))
    }

    fn write(&self, (old, new): Self::Plan, t: &mut Tables<'_>) -> Result<Run> {
        put_run(t, Some(&old), &new)?;
        Ok(new)
    }
}
