//! Step attempts (start, end) and run state changes that go with them.

use redb::ReadableTable;

use super::{load_run, put_run};
use crate::error::{Result, StorageContext, StoreError};
use crate::tables::{Tables, attempt_key, check_name, decode, encode, get_json};
use crate::writer::Op;
use crate::{
    Attempt, AttemptEnd, AttemptOutcome, AttemptStart, NextState, Run, RunId, RunStatus, StepError,
    Timestamp, Wake,
};

/// Longest idempotency key accepted, in bytes.
const MAX_IDEMPOTENCY_KEY: usize = 512;

/// Applies `next` to a running run; `failed_step` is the step index a
/// failure is recorded at.
fn apply_next(old: &Run, next: &NextState, failed_step: u32, now: Timestamp) -> Run {
    let mut run = old.clone();
    run.updated_at = now;
    run.wake = None;
    match next {
        NextState::Continue { next_step } => {
            run.next_step = *next_step;
        }
        NextState::Requeue { next_step } => {
            run.next_step = *next_step;
            run.status = RunStatus::Queued;
            run.owner = None;
            run.lease_until = None;
        }
        NextState::Wait {
            next_step,
            due,
            purpose,
        } => {
            run.next_step = *next_step;
            run.status = RunStatus::Waiting;
            run.owner = None;
            run.lease_until = None;
            run.wake = Some(Wake {
                due: *due,
                purpose: purpose.clone(),
            });
        }
        NextState::Succeeded => {
            run.status = RunStatus::Succeeded;
            run.finished_at = Some(now);
            run.owner = None;
            run.lease_until = None;
        }
        NextState::Failed { error } => {
            run.status = RunStatus::Failed;
            run.next_step = failed_step;
            run.error = Some(error.clone());
            run.finished_at = Some(now);
            run.owner = None;
            run.lease_until = None;
        }
    }
    run
}

fn require_running(run: &Run, action: &'static str) -> Result<()> {
    if run.status == RunStatus::Running {
        Ok(())
    } else {
        Err(StoreError::RunState {
            run: run.id,
            status: run.status,
            action,
        })
    }
}

/// The attempt `start` opens on running run `old`, and the run with it
/// counted.
fn open_attempt(old: &Run, s: &AttemptStart) -> Result<(Attempt, Run)> {
    check_name("step id", &s.step_id)?;
    if s.idempotency_key.len() > MAX_IDEMPOTENCY_KEY {
        return Err(StoreError::Invalid {
            what: "idempotency key",
            reason: format!("longer than {MAX_IDEMPOTENCY_KEY} bytes"),
        });
    }
    require_running(old, "start a step")?;
    let attempt = Attempt {
        seq: old.attempts,
        step_id: s.step_id.clone(),
        step_index: s.step_index,
        attempt: s.attempt,
        item: s.item,
        input: s.input.clone(),
        idempotency_key: s.idempotency_key.clone(),
        started_at: s.started_at,
        ended_at: None,
        outcome: None,
        logs: Vec::new(),
    };
    let mut new = old.clone();
    new.attempts = old.attempts.checked_add(1).ok_or(StoreError::Invalid {
        what: "attempt",
        reason: "the run has too many attempts".into(),
    })?;
    new.updated_at = s.started_at;
    Ok((attempt, new))
}

/// Records the start of a step attempt of a running run.
pub(crate) struct StartAttempt {
    pub run: RunId,
    pub start: AttemptStart,
}

impl Op for StartAttempt {
    type Plan = (Run, Run, Vec<u8>);
    type Output = u32;

    fn check(&self, t: &Tables<'_>) -> Result<Self::Plan> {
        let old = load_run(&t.runs, self.run)?;
        let (attempt, new) = open_attempt(&old, &self.start)?;
        Ok((old, new, encode("attempt", &attempt)?))
    }

    fn write(&self, (old, new, bytes): Self::Plan, t: &mut Tables<'_>) -> Result<u32> {
        let seq = old.attempts;
        t.attempts
            .insert(&attempt_key(self.run, seq)[..], bytes.as_slice())
            .during("recording a step start")?;
        put_run(t, Some(&old), &new)?;
        Ok(seq)
    }
}

/// Records the end of an attempt together with the run's next state.
///
/// On a run cancelled while the step ran, the end is recorded and the run
/// stays cancelled; the returned status says so.
pub(crate) struct EndAttempt {
    pub run: RunId,
    pub seq: u32,
    pub end: AttemptEnd,
    pub next: NextState,
}

impl Op for EndAttempt {
    type Plan = (Run, Option<Run>, Vec<u8>);
    type Output = RunStatus;

    fn check(&self, t: &Tables<'_>) -> Result<Self::Plan> {
        let old = load_run(&t.runs, self.run)?;
        let mut attempt: Attempt =
            get_json(&t.attempts, "attempts", &attempt_key(self.run, self.seq))?.ok_or(
                StoreError::AttemptNotFound {
                    run: self.run,
                    seq: self.seq,
                },
            )?;
        if attempt.ended_at.is_some() {
            return Err(StoreError::AttemptEnded {
                run: self.run,
                seq: self.seq,
            });
        }
        let new = if old.status == RunStatus::Cancelled {
            None
        } else {
            require_running(&old, "record a step end")?;
            Some(apply_next(
                &old,
                &self.next,
                attempt.step_index,
                self.end.ended_at,
            ))
        };
        attempt.ended_at = Some(self.end.ended_at);
        attempt.outcome = Some(self.end.outcome.clone());
        attempt.logs = self.end.logs.clone();
        Ok((old, new, encode("attempt", &attempt)?))
    }

    fn write(&self, (old, new, bytes): Self::Plan, t: &mut Tables<'_>) -> Result<RunStatus> {
        t.attempts
            .insert(&attempt_key(self.run, self.seq)[..], bytes.as_slice())
            .during("recording a step end")?;
        match new {
            Some(new) => {
                put_run(t, Some(&old), &new)?;
                Ok(new.status)
            }
            None => Ok(old.status),
        }
    }
}

/// Records a whole attempt, start and end, with the run's next state: for
/// steps with no effect outside the run (`set`, `wait`, an expression that
/// fails), whose start need not be durable before they act. Refused, with
/// nothing recorded, unless the run is running.
pub(crate) struct RecordAttempt {
    pub run: RunId,
    pub start: AttemptStart,
    pub end: AttemptEnd,
    pub next: NextState,
}

impl Op for RecordAttempt {
    type Plan = (Run, Run, u32, Vec<u8>);
    type Output = (u32, RunStatus);

    fn check(&self, t: &Tables<'_>) -> Result<Self::Plan> {
        let old = load_run(&t.runs, self.run)?;
        let (mut attempt, counted) = open_attempt(&old, &self.start)?;
        let new = apply_next(&counted, &self.next, attempt.step_index, self.end.ended_at);
        attempt.ended_at = Some(self.end.ended_at);
        attempt.outcome = Some(self.end.outcome.clone());
        attempt.logs = self.end.logs.clone();
        Ok((old, new, attempt.seq, encode("attempt", &attempt)?))
    }

    fn write(
        &self,
        (old, new, seq, bytes): Self::Plan,
        t: &mut Tables<'_>,
    ) -> Result<(u32, RunStatus)> {
        t.attempts
            .insert(&attempt_key(self.run, seq)[..], bytes.as_slice())
            .during("recording a step")?;
        put_run(t, Some(&old), &new)?;
        Ok((seq, new.status))
    }
}

/// Changes a running run's state without an attempt (for example a run that
/// fails before its step starts, or a run handed back at shutdown).
pub(crate) struct Advance {
    pub run: RunId,
    pub next: NextState,
    pub now: Timestamp,
}

impl Op for Advance {
    type Plan = (Run, Run);
    type Output = RunStatus;

    fn check(&self, t: &Tables<'_>) -> Result<Self::Plan> {
        let old = load_run(&t.runs, self.run)?;
        require_running(&old, "change the state of a run that is not running")?;
        let new = apply_next(&old, &self.next, old.next_step, self.now);
        Ok((old, new))
    }

    fn write(&self, (old, new): Self::Plan, t: &mut Tables<'_>) -> Result<RunStatus> {
        put_run(t, Some(&old), &new)?;
        Ok(new.status)
    }
}

/// Fails a run that has not finished (queued, running or waiting), closing
/// every attempt still open; a finished run is left as it is.
pub(crate) struct FailRun {
    pub run: RunId,
    /// Recorded on the run.
    pub error: StepError,
    /// Recorded on each attempt still open.
    pub attempt_error: StepError,
    pub now: Timestamp,
}

/// The run before and after, and the closed attempts (seq, record).
type FailPlan = (Run, Option<(Run, Vec<(u32, Vec<u8>)>)>);

impl Op for FailRun {
    type Plan = FailPlan;
    type Output = Run;

    fn check(&self, t: &Tables<'_>) -> Result<FailPlan> {
        let old = load_run(&t.runs, self.run)?;
        if old.status.is_finished() {
            return Ok((old, None));
        }
        let ctx = "reading attempts";
        let first = attempt_key(self.run, 0);
        let last = attempt_key(self.run, u32::MAX);
        let mut closed = Vec::new();
        for entry in t.attempts.range(&first[..]..=&last[..]).during(ctx)? {
            let (_, value) = entry.during(ctx)?;
            let mut attempt: Attempt = decode("attempts", value.value())?;
            if attempt.ended_at.is_some() {
                continue;
            }
            attempt.ended_at = Some(self.now);
            attempt.outcome = Some(AttemptOutcome::Failed {
                error: self.attempt_error.clone(),
            });
            closed.push((attempt.seq, encode("attempt", &attempt)?));
        }
        let mut new = old.clone();
        new.status = RunStatus::Failed;
        new.error = Some(self.error.clone());
        new.finished_at = Some(self.now);
        new.updated_at = self.now;
        new.owner = None;
        new.lease_until = None;
        new.wake = None;
        Ok((old, Some((new, closed))))
    }

    fn write(&self, (old, plan): FailPlan, t: &mut Tables<'_>) -> Result<Run> {
        let Some((new, closed)) = plan else {
            return Ok(old);
        };
        for (seq, bytes) in closed {
            t.attempts
                .insert(&attempt_key(self.run, seq)[..], bytes.as_slice())
                .during("closing an attempt")?;
        }
        put_run(t, Some(&old), &new)?;
        Ok(new)
    }
}
