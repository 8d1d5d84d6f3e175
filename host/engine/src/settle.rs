//! How a step's attempt ends: recording it with the run's next state, and
//! choosing that state (the next step, a retry, a fallback, going on after
//! an error, or the end of the run).

use std::time::Instant;

use relais_store::{
    AttemptEnd, AttemptOutcome, AttemptStart, ErrorKind, LogLine, NextState, RunStatus, StepError,
    TimerPurpose, Timestamp,
};
use relais_workflow::context::StepState;
use relais_workflow::model::Action;
use serde_json::Value;

use crate::run::{Flow, Runner};
use crate::{EngineError, metrics};

/// An attempt being settled.
pub(crate) struct Slot {
    /// The step's position in the workflow.
    pos: usize,
    /// When it began to act, for the step duration metric.
    since: Instant,
    record: Record,
}

enum Record {
    /// Its start is recorded: attempt number `seq` of the run.
    Open(u32),
    /// Not recorded yet: the step acts on nothing outside the run, so its
    /// start and end are recorded together.
    Deferred(Box<AttemptStart>),
}

impl Slot {
    /// Attempt `seq` of step `pos`, whose start is recorded: it acts from
    /// now on.
    pub(crate) fn open(pos: usize, seq: u32) -> Self {
        Self {
            pos,
            since: Instant::now(),
            record: Record::Open(seq),
        }
    }

    /// An attempt whose start is recorded with its end.
    pub(crate) fn deferred(start: AttemptStart) -> Self {
        Self {
            pos: start.step_index as usize,
            since: Instant::now(),
            record: Record::Deferred(Box::new(start)),
        }
    }
}

impl Runner<'_> {
    /// Records an attempt's end with the run's next state; false when the
    /// run was cancelled meanwhile.
    pub(crate) async fn end(
        &self,
        slot: Slot,
        result: Result<Value, StepError>,
        logs: Vec<LogLine>,
        next: NextState,
    ) -> Result<bool, EngineError> {
        let step = &self.wf.steps[slot.pos];
        // A for_each step's items are measured one by one.
        if !matches!(&step.action, Action::Plugin(call) if call.for_each.is_some()) {
            metrics::step_ended(
                self.wf.id.as_str(),
                step.id.as_str(),
                slot.since.elapsed(),
                &result,
            );
        }
        match &result {
            Ok(_) => tracing::info!(step = step.id.as_str(), "step succeeded"),
            Err(e) => tracing::info!(
                step = step.id.as_str(),
                kind = ?e.kind,
                error = e.message.as_str(),
                "step failed"
            ),
        }
        let outcome = match result {
            Ok(output) => AttemptOutcome::Succeeded { output },
            Err(error) => AttemptOutcome::Failed { error },
        };
        let end = AttemptEnd {
            outcome,
            logs,
            ended_at: Timestamp::now(),
        };
        let parked = !matches!(next, NextState::Continue { .. });
        let timer = matches!(next, NextState::Wait { .. });
        let store = &self.inner.store;
        let status = match slot.record {
            Record::Open(seq) => store.end_attempt(self.run.id, seq, end, next).await?,
            Record::Deferred(start) => {
                match store.record_attempt(self.run.id, *start, end, next).await {
                    Ok((_, status)) => status,
                    Err(e) if e.is_cancelled() => RunStatus::Cancelled,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        if timer {
            self.inner.timer_wake.notify_one();
        }
        if parked || status != RunStatus::Running {
            self.inner.finished.notify_waiters();
        }
        Ok(status == RunStatus::Running || status == RunStatus::Waiting)
    }

    pub(crate) async fn advance(&self, next: NextState) -> Result<(), EngineError> {
        let timer = matches!(next, NextState::Wait { .. });
        match self.inner.store.advance_run(self.run.id, next).await {
            Ok(_) if timer => self.inner.timer_wake.notify_one(),
            Ok(_) => {}
            Err(e) if e.is_cancelled() => {}
            Err(e) => return Err(e.into()),
        }
        self.inner.finished.notify_waiters();
        Ok(())
    }

    /// Records how attempt `slot` of step `pos` ended and moves the run on:
    /// a retry (`retry`: its delay) waits on a durable timer; a final
    /// failure runs the fallback, goes on (`continue_on_error`) or fails
    /// the run.
    pub(crate) async fn settle(
        &mut self,
        pos: usize,
        slot: Slot,
        attempt: u32,
        result: Result<Value, StepError>,
        logs: Vec<LogLine>,
        retry: Option<std::time::Duration>,
    ) -> Result<Flow, EngineError> {
        let wf = self.wf.clone();
        let step = &wf.steps[pos];
        let mut fail_after = None;
        let next = match &result {
            Ok(output) => {
                let state = StepState::succeeded(output.clone(), attempt);
                self.ctx.record(step.id.as_str(), &state);
                let next = self.after_success(pos);
                if step.is_fallback() {
                    self.origin = None;
                }
                next
            }
            Err(error) if error.kind == ErrorKind::Internal && self.inner.stopping() => {
                NextState::Requeue {
                    next_step: pos as u32,
                }
            }
            Err(error) => match retry {
                Some(delay) => self.park(
                    pos as u32,
                    Timestamp::now().saturating_add(delay),
                    TimerPurpose::Retry,
                ),
                None => {
                    let state = StepState::failed(error.message.clone(), attempt);
                    self.ctx.record(step.id.as_str(), &state);
                    let origin_continues =
                        self.origin.is_some_and(|o| wf.steps[o].continue_on_error);
                    let run_error = StepError {
                        kind: error.kind,
                        message: format!("step {}: {}", step.id.as_str(), error.message),
                        retry_after_ms: None,
                    };
                    if let Some(fallback) = &step.on_failure
                        && let Some(f) = wf.steps.iter().position(|s| s.id == *fallback)
                    {
                        if self.origin.is_none() {
                            self.origin = Some(pos);
                        }
                        NextState::Continue {
                            next_step: f as u32,
                        }
                    } else if step.continue_on_error || origin_continues {
                        let next = self.after_success(pos);
                        self.origin = None;
                        next
                    } else if let Some(origin) = self.origin.filter(|_| step.is_fallback()) {
                        // Fail at the origin, so a retry from the failed
                        // step runs the step that failed first.
                        fail_after = Some(run_error);
                        NextState::Continue {
                            next_step: origin as u32,
                        }
                    } else {
                        NextState::Failed { error: run_error }
                    }
                }
            },
        };
        let go_on = match &next {
            NextState::Continue { next_step } => Some(*next_step as usize),
            _ => None,
        };
        if !self.end(slot, result, logs, next).await? {
            return Ok(Flow::Done);
        }
        if let Some(error) = fail_after {
            self.advance(NextState::Failed { error }).await?;
            return Ok(Flow::Done);
        }
        Ok(match go_on {
            Some(next) => Flow::Next(next),
            None => Flow::Done,
        })
    }

    /// The next sequence step after `pos` (after the origin for a
    /// fallback), if any.
    pub(crate) fn following(&self, pos: usize) -> Option<usize> {
        let steps = &self.wf.steps;
        let from = if steps[pos].is_fallback() {
            self.origin?
        } else {
            pos
        };
        (from + 1..steps.len()).find(|&i| !steps[i].is_fallback())
    }

    /// Where to go after `pos` ends well: the next sequence step whose `if`
    /// does not say no (skipped ones are recorded), or the end.
    fn after_success(&mut self, pos: usize) -> NextState {
        let wf = self.wf.clone();
        let mut next = self.following(pos);
        while let Some(j) = next {
            let step = &wf.steps[j];
            let Some(cond) = &step.condition else {
                return NextState::Continue {
                    next_step: j as u32,
                };
            };
            match cond.eval_bool(&self.ctx.to_value()) {
                Ok(false) => {
                    self.ctx.record(step.id.as_str(), &StepState::skipped());
                    next = (j + 1..wf.steps.len()).find(|&i| !wf.steps[i].is_fallback());
                }
                _ => {
                    return NextState::Continue {
                        next_step: j as u32,
                    };
                }
            }
        }
        NextState::Succeeded
    }
}
