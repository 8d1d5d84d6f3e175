//! Executing one claimed run: rebuild its state from the stored attempts,
//! then run its steps in order until it finishes, waits or is cancelled.
//!
//! `Run::next_step` is an index into the workflow's steps (file order),
//! fallbacks included. While a fallback runs, the step whose failure it
//! handles (its *origin*) is the last sequence step with an attempt.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use relais_runtime::Context;
use relais_store::{
    Attempt, AttemptEnd, AttemptOutcome, AttemptStart, ErrorKind, NextState, Run, RunStatus,
    TimerPurpose, Timestamp, TriggerKind,
};
use relais_workflow::context::{RunContext, StepState, manual_trigger};
use relais_workflow::model::{Action, Step, Wait, Workflow};
use serde_json::{Value, json};

use crate::EngineError;
use crate::deadline::{Deadline, time_out};
use crate::engine::Inner;
use crate::invoke::{self, step_error};
use crate::settle::Slot;

/// Runs `run` until it finishes, waits, is cancelled or the engine stops.
/// Every log line on the way carries the run's id and workflow.
#[tracing::instrument(
    name = "run",
    skip_all,
    fields(run_id = %run.id, workflow = run.workflow_id.as_str())
)]
pub(crate) async fn execute(inner: &Arc<Inner>, run: Run) {
    let id = run.id;
    if let Err(e) = execute_inner(inner, run).await {
        tracing::error!(run = %id, error = %e, "run stopped on an engine error");
        if !matches!(e, EngineError::Store(_)) {
            let error = step_error(ErrorKind::Internal, e.to_string());
            if let Err(e) = inner
                .store
                .advance_run(id, NextState::Failed { error })
                .await
            {
                tracing::error!(run = %id, error = %e, "cannot record the run's failure");
            }
        }
    }
}

/// What the run does after a step.
pub(crate) enum Flow {
    /// Go on at this step, in this task.
    Next(usize),
    /// The task is done (finished, waiting, requeued or cancelled).
    Done,
}

/// The trigger object templates see.
fn trigger_value(kind: TriggerKind, payload: &Value, input: &Value) -> Value {
    match kind {
        TriggerKind::Manual if payload.get("input").is_none() => manual_trigger(input.clone()),
        _ => payload.clone(),
    }
}

pub(crate) fn now_rfc3339(ts: Timestamp) -> String {
    DateTime::<Utc>::from(ts.to_system_time()).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One run being executed.
pub(crate) struct Runner<'a> {
    pub inner: &'a Arc<Inner>,
    pub run: Run,
    pub wf: Arc<Workflow>,
    pub ctx: RunContext,
    /// Attempts since `run.history_from`, oldest first.
    pub history: Vec<Attempt>,
    /// The sequence step whose failure the current fallback handles.
    pub origin: Option<usize>,
    /// When the run must be over, if its workflow has a `timeout`.
    pub deadline: Option<Deadline>,
}

async fn execute_inner(inner: &Arc<Inner>, run: Run) -> Result<(), EngineError> {
    let wf = inner.workflow_for(&run).await?;
    let id = run.id;
    let Some(deadline) = Deadline::of(&wf, &run) else {
        return execute_run(inner, run, wf, None).await;
    };
    let left = deadline
        .at
        .as_millis()
        .saturating_sub(Timestamp::now().as_millis());
    if left > 0 {
        // At the deadline the run's task is dropped where it stands: a
        // plugin call in flight is stopped with it.
        tokio::select! {
            biased;
            done = execute_run(inner, run, wf, Some(deadline)) => return done,
            _ = tokio::time::sleep(std::time::Duration::from_millis(left)) => {}
        }
    }
    time_out(inner, id, deadline).await
}

async fn execute_run(
    inner: &Arc<Inner>,
    run: Run,
    wf: Arc<Workflow>,
    deadline: Option<Deadline>,
) -> Result<(), EngineError> {
    let detail = inner
        .store
        .run_detail(run.id)
        .await?
        .ok_or(relais_store::StoreError::RunNotFound { run: run.id })?;
    let run = detail.run;
    if run.status != RunStatus::Running {
        return Ok(());
    }
    let mut history: Vec<Attempt> = detail
        .attempts
        .into_iter()
        .filter(|a| a.seq >= run.history_from)
        .collect();
    // Attempts cut off by a crash or a hard stop: close them, so the step
    // runs again (with the same idempotency key).
    for a in history.iter_mut().filter(|a| a.ended_at.is_none()) {
        let end = AttemptEnd {
            outcome: AttemptOutcome::Failed {
                error: step_error(
                    ErrorKind::Internal,
                    "interrupted: the host stopped before this attempt ended",
                ),
            },
            logs: Vec::new(),
            ended_at: Timestamp::now(),
        };
        let next = NextState::Continue {
            next_step: run.next_step,
        };
        let status = inner
            .store
            .end_attempt(run.id, a.seq, end.clone(), next)
            .await?;
        if status != RunStatus::Running {
            inner.finished.notify_waiters();
            return Ok(());
        }
        a.ended_at = Some(end.ended_at);
        a.outcome = Some(end.outcome);
    }
    let started = DateTime::<Utc>::from(run.created_at.to_system_time());
    let trigger = trigger_value(run.trigger, &detail.payload, &detail.input);
    let ctx = RunContext::new(&run.id.to_string(), wf.id.as_str(), started, trigger);
    let mut runner = Runner {
        inner,
        wf,
        ctx,
        history,
        origin: None,
        run,
        deadline,
    };
    let pos = runner.rebuild();
    runner.drive(pos).await
}

impl Runner<'_> {
    /// Fills the context from the history; returns the step to run.
    fn rebuild(&mut self) -> usize {
        let steps = &self.wf.steps;
        let pos = self.run.next_step as usize;
        if pos < steps.len() && steps[pos].is_fallback() {
            self.origin = self
                .history
                .iter()
                .rev()
                .map(|a| a.step_index as usize)
                .find(|&i| i < steps.len() && !steps[i].is_fallback());
        }
        let reached = self.origin.unwrap_or(pos);
        for (i, step) in steps.iter().enumerate() {
            if i == pos {
                continue;
            }
            let mine = || {
                self.history
                    .iter()
                    .filter(move |a| a.step_index as usize == i && a.item.is_none())
            };
            let tries = mine()
                .filter(|a| a.seq >= self.run.budget_from && counts(a))
                .count() as u32;
            let last = mine().rev().find_map(|a| a.outcome.as_ref());
            let state = match last {
                Some(AttemptOutcome::Succeeded { output }) => {
                    StepState::succeeded(output.clone(), tries)
                }
                Some(AttemptOutcome::Failed { error }) => {
                    StepState::failed(error.message.clone(), tries)
                }
                None if !step.is_fallback() && i < reached => StepState::skipped(),
                None => continue,
            };
            self.ctx.record(step.id.as_str(), &state);
        }
        pos
    }

    /// Attempts of step `pos` (or one of its items) that count against its
    /// retry budget.
    pub(crate) fn tries(&self, pos: usize, item: Option<u32>) -> u32 {
        self.history
            .iter()
            .filter(|a| {
                a.step_index as usize == pos
                    && a.item == item
                    && a.seq >= self.run.budget_from
                    && counts(a)
            })
            .count() as u32
    }

    /// The idempotency key of `step` (or one of its items) in the run's
    /// current key generation.
    pub(crate) fn key(&self, step: &Step, item: Option<u32>) -> String {
        self.run.idempotency_key(step.id.as_str(), item)
    }

    pub(crate) fn context(&self, step: &Step, attempt: u32, item: Option<u32>) -> Context {
        Context {
            run_id: self.run.id.to_string(),
            step_id: step.id.as_str().to_owned(),
            attempt,
            idempotency_key: self.key(step, item),
        }
    }

    async fn drive(&mut self, mut pos: usize) -> Result<(), EngineError> {
        let wf = self.wf.clone();
        loop {
            if pos >= wf.steps.len() {
                self.advance(NextState::Succeeded).await?;
                return Ok(());
            }
            if self.inner.stopping() {
                self.advance(NextState::Requeue {
                    next_step: pos as u32,
                })
                .await?;
                return Ok(());
            }
            let step = &wf.steps[pos];
            let ctx = self.ctx.to_value();
            let flow = match step.condition.as_ref().map(|c| c.eval_bool(&ctx)) {
                Some(Ok(false)) if step.is_fallback() => {
                    self.ctx.record(step.id.as_str(), &StepState::skipped());
                    let error = step_error(
                        ErrorKind::Fatal,
                        format!("fallback step {} was skipped by its if", step.id.as_str()),
                    );
                    let slot = self.instant(pos, 1, Value::Null);
                    self.settle(pos, slot, 1, Err(error), Vec::new(), None)
                        .await?
                }
                Some(Ok(false)) => {
                    self.ctx.record(step.id.as_str(), &StepState::skipped());
                    match self.following(pos) {
                        Some(next) => Flow::Next(next),
                        None => {
                            self.advance(NextState::Succeeded).await?;
                            Flow::Done
                        }
                    }
                }
                Some(Err(e)) => {
                    let error = step_error(ErrorKind::InvalidInput, format!("if: {e}"));
                    let attempt = self.tries(pos, None) + 1;
                    let slot = self.instant(pos, attempt, Value::Null);
                    self.settle(pos, slot, attempt, Err(error), Vec::new(), None)
                        .await?
                }
                None | Some(Ok(true)) => self.action(pos, &ctx).await?,
            };
            match flow {
                Flow::Next(next) => pos = next,
                Flow::Done => return Ok(()),
            }
        }
    }

    async fn action(&mut self, pos: usize, ctx: &Value) -> Result<Flow, EngineError> {
        let wf = self.wf.clone();
        let step = &wf.steps[pos];
        match &step.action {
            Action::Plugin(call) if call.for_each.is_some() => self.for_each(pos, call).await,
            Action::Plugin(call) => {
                let attempt = self.tries(pos, None) + 1;
                let (input, render_error) = match call.with.render(ctx) {
                    Ok(v) => (v, None),
                    Err(e) => (
                        Value::Null,
                        Some(step_error(ErrorKind::InvalidInput, format!("with: {e}"))),
                    ),
                };
                let Some(slot) = self.start(pos, attempt, input.clone()).await? else {
                    return Ok(Flow::Done);
                };
                let called = match render_error {
                    Some(error) => invoke::Called {
                        result: Err(error),
                        logs: Vec::new(),
                    },
                    None => {
                        let context = self.context(step, attempt, None);
                        invoke::call_plugin(self.inner, self.wf.id.as_str(), call, context, &input)
                            .await
                    }
                };
                let retry = match &called.result {
                    Err(e) if invoke::retryable(e) && attempt < call.retry.attempts => {
                        let key = self.key(step, None);
                        Some(invoke::retry_delay(&call.retry, attempt, e, &key))
                    }
                    _ => None,
                };
                self.settle(pos, slot, attempt, called.result, called.logs, retry)
                    .await
            }
            Action::Set(values) => {
                let mut out = serde_json::Map::new();
                let mut result = Ok(());
                for (name, value) in values {
                    match value.render(ctx) {
                        Ok(v) => {
                            out.insert(name.as_str().to_owned(), v);
                        }
                        Err(e) => {
                            result = Err(step_error(
                                ErrorKind::InvalidInput,
                                format!("set {}: {e}", name.as_str()),
                            ));
                            break;
                        }
                    }
                }
                let attempt = self.tries(pos, None) + 1;
                let slot = self.instant(pos, attempt, Value::Null);
                let result = result.map(|()| Value::Object(out));
                self.settle(pos, slot, attempt, result, Vec::new(), None)
                    .await
            }
            Action::Wait(wait) => self.wait(pos, wait, ctx).await,
        }
    }

    async fn wait(&mut self, pos: usize, wait: &Wait, ctx: &Value) -> Result<Flow, EngineError> {
        let wf = self.wf.clone();
        let now = Timestamp::now();
        let due = match wait {
            Wait::For(d) => Ok(now.saturating_add(d.as_std())),
            Wait::Until(t) => t
                .render(ctx)
                .and_then(|v| relais_workflow::expr::parse_instant(&v))
                .map(|at| Timestamp::from_millis(u64::try_from(at.timestamp_millis()).unwrap_or(0)))
                .map_err(|e| step_error(ErrorKind::InvalidInput, format!("wait until: {e}"))),
        };
        let attempt = self.tries(pos, None) + 1;
        let slot = self.instant(pos, attempt, Value::Null);
        let due = match due {
            Ok(due) => due,
            Err(error) => {
                return self
                    .settle(pos, slot, attempt, Err(error), Vec::new(), None)
                    .await;
            }
        };
        let output = json!({ "until": now_rfc3339(due) });
        if due <= now {
            return self
                .settle(pos, slot, attempt, Ok(output), Vec::new(), None)
                .await;
        }
        let next_step = self.following(pos).unwrap_or(wf.steps.len()) as u32;
        let next = self.park(next_step, due, TimerPurpose::Delay);
        self.end(slot, Ok(output), Vec::new(), next).await?;
        Ok(Flow::Done)
    }

    /// An attempt of step `pos` that acts on nothing outside the run: its
    /// start is recorded together with its end.
    pub(crate) fn instant(&self, pos: usize, attempt: u32, input: Value) -> Slot {
        Slot::deferred(self.attempt_start(pos, attempt, input))
    }

    /// Attempt `attempt` of step `pos` (a whole step, not an item), now.
    fn attempt_start(&self, pos: usize, attempt: u32, input: Value) -> AttemptStart {
        let step = &self.wf.steps[pos];
        AttemptStart {
            step_id: step.id.as_str().to_owned(),
            step_index: pos as u32,
            attempt,
            item: None,
            input,
            idempotency_key: self.key(step, None),
            started_at: Timestamp::now(),
        }
    }

    /// Records the start of an attempt of step `pos` that acts outside the
    /// run (a plugin call), before it acts; `None` when the run was
    /// cancelled.
    pub(crate) async fn start(
        &self,
        pos: usize,
        attempt: u32,
        input: Value,
    ) -> Result<Option<Slot>, EngineError> {
        let start = self.attempt_start(pos, attempt, input);
        match self.inner.store.start_attempt(self.run.id, start).await {
            Ok(seq) => Ok(Some(Slot::open(pos, seq))),
            Err(e) if e.is_cancelled() => {
                self.inner.finished.notify_waiters();
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether an attempt counts against a retry budget: attempts cut off by
/// the host do not.
fn counts(a: &Attempt) -> bool {
    !matches!(
        &a.outcome,
        Some(AttemptOutcome::Failed { error }) if error.kind == ErrorKind::Internal
    )
}
