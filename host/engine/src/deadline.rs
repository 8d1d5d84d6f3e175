//! A run's `timeout`: its deadline, the timers it cuts short, and what
//! happens when it passes.
//!
//! The deadline is the workflow's `timeout` after the start of the run's
//! current try ([`relais_store::Run::try_started_at`]: its first claim by
//! a worker; a user retry starts a new try). It is derived from stored data
//! only (the try's start and the run's workflow revision), so it holds
//! across restarts: a run resumed after its deadline fails at once, and a
//! run that waits (a `wait` step, a retry back-off) sleeps on a durable
//! timer no later than its deadline.

use relais_store::{ErrorKind, NextState, Run, RunId, RunStatus, TimerPurpose, Timestamp};
use relais_workflow::model::Workflow;

use crate::EngineError;
use crate::engine::Inner;
use crate::invoke::step_error;
use crate::run::Runner;

/// When a run must be over: its workflow's `timeout` after the start of
/// its current try (its first claim; a user retry starts a new try).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    pub at: Timestamp,
    pub limit: relais_workflow::Duration,
}

impl Deadline {
    pub(crate) fn of(wf: &Workflow, run: &Run) -> Option<Deadline> {
        let limit = wf.timeout?;
        let began = run
            .try_started_at
            .or(run.started_at)
            .unwrap_or(run.created_at);
        Some(Deadline {
            at: began.saturating_add(limit.as_std()),
            limit,
        })
    }
}

/// The purpose of a timer that wakes a run at its deadline (a wait or a
/// retry that would end later).
pub(crate) const DEADLINE_TIMER: &str = "run timeout";

/// Fails a run whose deadline passed; closes the attempts it left open.
pub(crate) async fn time_out(
    inner: &Inner,
    run: RunId,
    deadline: Deadline,
) -> Result<(), EngineError> {
    let limit = deadline.limit;
    let error = step_error(ErrorKind::Timeout, format!("run timed out after {limit}"));
    let stopped = step_error(
        ErrorKind::Timeout,
        format!("stopped: the run's timeout of {limit} passed"),
    );
    let after = inner.store.fail_run(run, error, stopped).await?;
    if after.status == RunStatus::Failed {
        tracing::info!(run = %run, %limit, "run timed out");
    }
    inner.finished.notify_waiters();
    Ok(())
}

impl Runner<'_> {
    /// Sleep until `due` (durably), then resume at `next_step`; or only
    /// until the run's deadline when that comes first (it then times out).
    pub(crate) fn park(&self, next_step: u32, due: Timestamp, purpose: TimerPurpose) -> NextState {
        match self.deadline {
            Some(d) if d.at < due => NextState::Wait {
                next_step,
                due: d.at,
                purpose: TimerPurpose::Other(DEADLINE_TIMER.into()),
            },
            _ => NextState::Wait {
                next_step,
                due,
                purpose,
            },
        }
    }
}
