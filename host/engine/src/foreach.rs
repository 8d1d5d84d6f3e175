//! `for_each` steps: one call per item, at most `for_each_concurrency`
//! items at once. Every item attempt is recorded with its index, and where
//! each item stands is rebuilt from those records when the run resumes:
//! items that succeeded are not run again, items that failed for good stay
//! failed, and an item waiting for a retry is due at the time computed from
//! its last attempt (its end, plus a delay that depends only on the step,
//! the attempt and the idempotency key).
//!
//! An item holds one of the concurrency slots from its first attempt until
//! it ends for good, its retry waits included. While other items of the run
//! are being called, a retry that falls due is started at once; when every
//! item left is waiting for a retry, the run sleeps on a durable timer
//! until the earliest is due. When every item has ended, one summary
//! attempt records the step's output (the items' outputs in order) or its
//! failure.

use std::sync::Arc;
use std::time::Instant;

use relais_runtime::Context;
use relais_store::{
    Attempt, AttemptEnd, AttemptOutcome, AttemptStart, ErrorKind, NextState, RunId, RunStatus,
    StepError, TimerPurpose, Timestamp,
};
use relais_workflow::model::{ForEachPolicy, PluginCall, Workflow};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::engine::Inner;
use crate::invoke::{self, step_error};
use crate::run::{Flow, Runner};
use crate::{EngineError, metrics};

/// Where one item stands.
#[derive(Clone, Debug)]
enum State {
    Done(Value),
    /// Failed for good.
    Failed(StepError),
    /// To be called at or after `at`; `started`: it has attempts already
    /// (so it holds a slot).
    Due {
        at: Timestamp,
        started: bool,
    },
    /// Being called.
    Running,
    /// Never to start (policy `stop` after a failure).
    NotRun,
}

/// How one item attempt ended.
enum ItemEnd {
    Succeeded(Value),
    /// `retry_at`: when it is tried again, if it is.
    Failed {
        error: StepError,
        retry_at: Option<Timestamp>,
    },
    /// The run was cancelled.
    Cancelled,
    /// The engine is stopping: the item runs again on the next start.
    Interrupted,
}

/// What an item task needs to make one attempt.
struct ItemCall {
    inner: Arc<Inner>,
    workflow: Arc<Workflow>,
    run: RunId,
    pos: u32,
    call: Arc<PluginCall>,
    start: AttemptStart,
    input: Result<Value, StepError>,
    context: Context,
}

impl Runner<'_> {
    pub(crate) async fn for_each(
        &mut self,
        pos: usize,
        call: &PluginCall,
    ) -> Result<Flow, EngineError> {
        let wf = self.wf.clone();
        let step = &wf.steps[pos];
        let Some(fe) = &call.for_each else {
            return Ok(Flow::Done);
        };
        let ctx = self.ctx.to_value();
        let items = match fe.items.render(&ctx) {
            Ok(Value::Array(items)) => Ok(items),
            Ok(other) => Err(step_error(
                ErrorKind::InvalidInput,
                format!("for_each must give a list, got {}", kind_of(&other)),
            )),
            Err(e) => Err(step_error(
                ErrorKind::InvalidInput,
                format!("for_each: {e}"),
            )),
        };
        let items = match items {
            Ok(items) => items,
            Err(error) => {
                let attempt = self.tries(pos, None) + 1;
                let slot = self.instant(pos, attempt, Value::Null);
                return self
                    .settle(pos, slot, attempt, Err(error), Vec::new(), None)
                    .await;
            }
        };
        let n = items.len();
        let mut states = self.item_states(pos, call, n);
        let mut tries: Vec<u32> = (0..n as u32).map(|i| self.tries(pos, Some(i))).collect();
        let policy_stop = fe.policy == ForEachPolicy::Stop;
        let mut stop = policy_stop && states.iter().any(|s| matches!(s, State::Failed(_)));
        let limit = fe.concurrency.max(1) as usize;
        let call = Arc::new(call.clone());

        let mut set = JoinSet::new();
        let (mut cancelled, mut interrupted) = (false, false);
        loop {
            if self.inner.stopping() {
                interrupted = true;
            }
            let halted = cancelled || interrupted;
            let now = Timestamp::now();
            let mut busy = states
                .iter()
                .filter(|s| matches!(s, State::Running | State::Due { started: true, .. }))
                .count();
            for i in 0..n {
                let run_it = match states[i] {
                    _ if halted => false,
                    State::Due { at, started: true } => at <= now,
                    State::Due { started: false, .. } if stop => {
                        states[i] = State::NotRun;
                        false
                    }
                    State::Due { started: false, .. } if busy < limit => {
                        busy += 1;
                        true
                    }
                    _ => false,
                };
                if !run_it {
                    continue;
                }
                states[i] = State::Running;
                let index = i as u32;
                let input = call
                    .with
                    .render(&self.ctx.with_item(&items[i], i))
                    .map_err(|e| step_error(ErrorKind::InvalidInput, format!("with: {e}")));
                let attempt = tries[i] + 1;
                let context = self.context(step, attempt, Some(index));
                let item = ItemCall {
                    inner: self.inner.clone(),
                    workflow: self.wf.clone(),
                    run: self.run.id,
                    pos: pos as u32,
                    call: call.clone(),
                    start: AttemptStart {
                        step_id: step.id.as_str().to_owned(),
                        step_index: pos as u32,
                        attempt,
                        item: Some(index),
                        input: input.clone().unwrap_or(Value::Null),
                        idempotency_key: self.key(step, Some(index)),
                        started_at: Timestamp::now(),
                    },
                    input,
                    context,
                };
                set.spawn(async move { (index, item.attempt().await) });
            }

            if set.is_empty() {
                let next = earliest_retry(&states);
                match next {
                    Some(due) if !halted => {
                        // Only retries are left: sleep durably.
                        let next = self.park(pos as u32, due, TimerPurpose::Retry);
                        self.advance(next).await?;
                        return Ok(Flow::Done);
                    }
                    _ => break,
                }
            }
            let next = earliest_retry(&states).filter(|_| !halted);
            let nap = next.map(|due| {
                std::time::Duration::from_millis(
                    due.as_millis().saturating_sub(Timestamp::now().as_millis()),
                )
            });
            let joined = tokio::select! {
                joined = set.join_next() => joined,
                _ = tokio::time::sleep(nap.unwrap_or_default()), if nap.is_some() => continue,
            };
            let Some(joined) = joined else { continue };
            let (index, end) = joined.map_err(|e| EngineError::Revision {
                run: self.run.id,
                message: format!("a for_each item task failed: {e}"),
            })?;
            let i = index as usize;
            states[i] = match end {
                ItemEnd::Succeeded(output) => State::Done(output),
                ItemEnd::Failed { error, retry_at } => {
                    if error.kind != ErrorKind::Internal {
                        tries[i] += 1;
                    }
                    match retry_at {
                        Some(at) => State::Due { at, started: true },
                        None => {
                            stop |= policy_stop;
                            State::Failed(error)
                        }
                    }
                }
                ItemEnd::Cancelled => {
                    cancelled = true;
                    State::NotRun
                }
                ItemEnd::Interrupted => {
                    interrupted = true;
                    State::NotRun
                }
            };
        }

        if cancelled {
            self.inner.finished.notify_waiters();
            return Ok(Flow::Done);
        }
        if interrupted {
            self.advance(NextState::Requeue {
                next_step: pos as u32,
            })
            .await?;
            return Ok(Flow::Done);
        }
        self.summarize(pos, states).await
    }

    /// Where each of `n` items stands after the stored attempts.
    fn item_states(&self, pos: usize, call: &PluginCall, n: usize) -> Vec<State> {
        let fresh = State::Due {
            at: Timestamp::from_millis(0),
            started: false,
        };
        let mut states = vec![fresh; n];
        let mut last: Vec<Option<&Attempt>> = vec![None; n];
        for a in &self.history {
            let Some(i) = a.item.map(|i| i as usize).filter(|&i| i < n) else {
                continue;
            };
            if a.step_index as usize != pos {
                continue;
            }
            if let Some(AttemptOutcome::Succeeded { output }) = &a.outcome {
                states[i] = State::Done(output.clone());
            } else if a.seq >= self.run.budget_from {
                last[i] = Some(a);
            }
        }
        for (i, a) in last.into_iter().enumerate() {
            let Some(a) = a.filter(|_| !matches!(states[i], State::Done(_))) else {
                continue;
            };
            let resume_now = State::Due {
                at: Timestamp::from_millis(0),
                started: true,
            };
            states[i] = match &a.outcome {
                Some(AttemptOutcome::Failed { error }) if error.kind != ErrorKind::Internal => {
                    let tries = self.tries(pos, Some(i as u32));
                    match (invoke::retryable(error), a.ended_at) {
                        (true, Some(ended)) if tries < call.retry.attempts => {
                            let delay = invoke::retry_delay(
                                &call.retry,
                                a.attempt,
                                error,
                                &a.idempotency_key,
                            );
                            State::Due {
                                at: ended.saturating_add(delay),
                                started: true,
                            }
                        }
                        _ => State::Failed(error.clone()),
                    }
                }
                // Cut off by the host: called again now.
                _ => resume_now,
            };
        }
        states
    }

    /// Records the step's summary attempt once every item has ended.
    async fn summarize(&mut self, pos: usize, states: Vec<State>) -> Result<Flow, EngineError> {
        let n = states.len();
        let failures: Vec<(usize, &StepError)> = states
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                State::Failed(e) => Some((i, e)),
                _ => None,
            })
            .collect();
        let result = match failures.first() {
            Some((i, error)) => Err(StepError {
                kind: error.kind,
                message: format!(
                    "item {i}: {} ({} of {n} items failed)",
                    error.message,
                    failures.len()
                ),
                retry_after_ms: None,
            }),
            None => Ok(Value::Array(
                states
                    .into_iter()
                    .map(|s| match s {
                        State::Done(output) => output,
                        _ => Value::Null,
                    })
                    .collect(),
            )),
        };
        let attempt = self.tries(pos, None) + 1;
        let slot = self.instant(pos, attempt, json!({ "items": n }));
        self.settle(pos, slot, attempt, result, Vec::new(), None)
            .await
    }
}

/// When the earliest retry waiting (not yet started again) is due.
fn earliest_retry(states: &[State]) -> Option<Timestamp> {
    states
        .iter()
        .filter_map(|s| match s {
            State::Due { at, started: true } => Some(*at),
            _ => None,
        })
        .min()
}

impl ItemCall {
    /// One attempt of one item, recorded before and after the call.
    async fn attempt(self) -> ItemEnd {
        let ItemCall {
            inner,
            workflow,
            run,
            pos,
            call,
            start,
            input,
            context,
        } = self;
        if inner.stopping() {
            return ItemEnd::Interrupted;
        }
        let internal = |e: relais_store::StoreError| ItemEnd::Failed {
            error: step_error(ErrorKind::Internal, e.to_string()),
            retry_at: None,
        };
        let attempt = start.attempt;
        let key = start.idempotency_key.clone();
        let seq = match inner.store.start_attempt(run, start).await {
            Ok(seq) => seq,
            Err(e) if e.is_cancelled() => return ItemEnd::Cancelled,
            Err(e) => return internal(e),
        };
        let since = Instant::now();
        let called = match &input {
            Ok(input) => {
                invoke::call_plugin(&inner, workflow.id.as_str(), &call, context, input).await
            }
            Err(e) => invoke::Called {
                result: Err(e.clone()),
                logs: Vec::new(),
            },
        };
        let step = &workflow.steps[pos as usize];
        metrics::step_ended(
            workflow.id.as_str(),
            step.id.as_str(),
            since.elapsed(),
            &called.result,
        );
        let ended_at = Timestamp::now();
        let end = AttemptEnd {
            outcome: match &called.result {
                Ok(output) => AttemptOutcome::Succeeded {
                    output: output.clone(),
                },
                Err(error) => AttemptOutcome::Failed {
                    error: error.clone(),
                },
            },
            logs: called.logs,
            ended_at,
        };
        let next = NextState::Continue { next_step: pos };
        match inner.store.end_attempt(run, seq, end, next).await {
            Ok(RunStatus::Running) => {}
            Ok(_) => return ItemEnd::Cancelled,
            Err(e) => return internal(e),
        }
        match called.result {
            Ok(output) => ItemEnd::Succeeded(output),
            Err(e) if e.kind == ErrorKind::Internal && inner.stopping() => ItemEnd::Interrupted,
            Err(error) => {
                let retry_at =
                    (invoke::retryable(&error) && attempt < call.retry.attempts).then(|| {
                        let delay = invoke::retry_delay(&call.retry, attempt, &error, &key);
                        ended_at.saturating_add(delay)
                    });
                ItemEnd::Failed { error, retry_at }
            }
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
