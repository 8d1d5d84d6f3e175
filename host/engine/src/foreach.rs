//! `for_each` steps: one call per item, at most `for_each_concurrency` at
//! once. Every item attempt is recorded with its index; after a crash the
//! items that already succeeded are not run again. When every item has
//! ended, one summary attempt records the step's output (the items'
//! outputs in order) or its failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use relais_store::{
    AttemptEnd, AttemptOutcome, AttemptStart, ErrorKind, NextState, RunStatus, StepError, Timestamp,
};
use relais_workflow::model::{ForEachPolicy, PluginCall};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::EngineError;
use crate::invoke::{self, step_error};
use crate::run::{Flow, Runner};

/// How one item ended in this task.
enum ItemEnd {
    Succeeded(Value),
    Failed(StepError),
    /// Not started (policy `stop` after a failure).
    NotRun,
    /// The run was cancelled.
    Cancelled,
    /// The engine is stopping: the item will run on the next start.
    Interrupted,
}

struct Item {
    index: u32,
    tries: u32,
    input: Result<Value, StepError>,
    start: AttemptStart,
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
                let Some(seq) = self.start(step, pos, attempt, None, Value::Null).await? else {
                    return Ok(Flow::Done);
                };
                return self
                    .settle(pos, seq, attempt, Err(error), Vec::new(), None)
                    .await;
            }
        };
        let n = items.len();
        let mut outputs: Vec<Option<Value>> = vec![None; n];
        for a in &self.history {
            if a.step_index as usize == pos
                && let (Some(i), Some(AttemptOutcome::Succeeded { output })) = (a.item, &a.outcome)
                && let Some(slot) = outputs.get_mut(i as usize)
            {
                *slot = Some(output.clone());
            }
        }
        let mut pending = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if outputs[i].is_some() {
                continue;
            }
            let index = i as u32;
            let input = call
                .with
                .render(&self.ctx.with_item(item, i))
                .map_err(|e| step_error(ErrorKind::InvalidInput, format!("with: {e}")));
            pending.push(Item {
                index,
                tries: self.tries(pos, Some(index)),
                start: AttemptStart {
                    step_id: step.id.as_str().to_owned(),
                    step_index: pos as u32,
                    attempt: 0,
                    item: Some(index),
                    input: input.clone().unwrap_or(Value::Null),
                    idempotency_key: self.key(step, Some(index)),
                    started_at: Timestamp::now(),
                },
                input,
            });
        }

        let gate = Arc::new(Semaphore::new(fe.concurrency.max(1) as usize));
        let stop = Arc::new(AtomicBool::new(false));
        let mut set = JoinSet::new();
        for item in pending {
            let inner = self.inner.clone();
            let call = call.clone();
            let gate = gate.clone();
            let stop = stop.clone();
            let run_id = self.run.id;
            let context = self.context(step, 0, Some(item.index));
            let stop_on_failure = fe.policy == ForEachPolicy::Stop;
            set.spawn(async move {
                let Ok(_permit) = gate.acquire_owned().await else {
                    return (item.index, ItemEnd::NotRun);
                };
                if stop.load(Ordering::SeqCst) {
                    return (item.index, ItemEnd::NotRun);
                }
                let mut tries = item.tries;
                loop {
                    if inner.stopping() {
                        return (item.index, ItemEnd::Interrupted);
                    }
                    let attempt = tries + 1;
                    let mut start = item.start.clone();
                    start.attempt = attempt;
                    start.started_at = Timestamp::now();
                    let seq = match inner.store.start_attempt(run_id, start).await {
                        Ok(seq) => seq,
                        Err(e) if e.is_cancelled() => return (item.index, ItemEnd::Cancelled),
                        Err(e) => {
                            return (
                                item.index,
                                ItemEnd::Failed(step_error(ErrorKind::Internal, e.to_string())),
                            );
                        }
                    };
                    let called = match &item.input {
                        Ok(input) => {
                            let mut context = context.clone();
                            context.attempt = attempt;
                            invoke::call_plugin(&inner, &call, context, input).await
                        }
                        Err(e) => invoke::Called {
                            result: Err(e.clone()),
                            logs: Vec::new(),
                        },
                    };
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
                        ended_at: Timestamp::now(),
                    };
                    let next = NextState::Continue {
                        next_step: pos as u32,
                    };
                    match inner.store.end_attempt(run_id, seq, end, next).await {
                        Ok(RunStatus::Running) => {}
                        Ok(_) => return (item.index, ItemEnd::Cancelled),
                        Err(e) => {
                            return (
                                item.index,
                                ItemEnd::Failed(step_error(ErrorKind::Internal, e.to_string())),
                            );
                        }
                    }
                    match called.result {
                        Ok(output) => return (item.index, ItemEnd::Succeeded(output)),
                        Err(e) if e.kind == ErrorKind::Internal && inner.stopping() => {
                            return (item.index, ItemEnd::Interrupted);
                        }
                        Err(e) if invoke::retryable(&e) && attempt < call.retry.attempts => {
                            let delay = invoke::retry_delay(&call.retry, attempt, &e);
                            tokio::select! {
                                _ = tokio::time::sleep(delay) => {}
                                _ = inner.stop.notified() => {
                                    return (item.index, ItemEnd::Interrupted);
                                }
                            }
                            tries = attempt;
                        }
                        Err(e) => {
                            // Before the item's permit is released: no
                            // further item starts under policy `stop`.
                            if stop_on_failure {
                                stop.store(true, Ordering::SeqCst);
                            }
                            return (item.index, ItemEnd::Failed(e));
                        }
                    }
                }
            });
        }

        let mut failures: Vec<(u32, StepError)> = Vec::new();
        let (mut cancelled, mut interrupted) = (false, false);
        while let Some(joined) = set.join_next().await {
            let (index, end) = match joined {
                Ok(v) => v,
                Err(e) => {
                    return Err(EngineError::Revision {
                        run: self.run.id,
                        message: format!("a for_each item task failed: {e}"),
                    });
                }
            };
            match end {
                ItemEnd::Succeeded(output) => outputs[index as usize] = Some(output),
                ItemEnd::Failed(error) => {
                    if fe.policy == ForEachPolicy::Stop {
                        stop.store(true, Ordering::SeqCst);
                    }
                    failures.push((index, error));
                }
                ItemEnd::NotRun => {}
                ItemEnd::Cancelled => {
                    cancelled = true;
                    stop.store(true, Ordering::SeqCst);
                }
                ItemEnd::Interrupted => interrupted = true,
            }
        }
        if cancelled {
            self.inner.finished.notify_waiters();
            return Ok(Flow::Done);
        }
        if interrupted {
            let next = NextState::Requeue {
                next_step: pos as u32,
            };
            match self.inner.store.advance_run(self.run.id, next).await {
                Ok(_) => {}
                Err(e) if e.is_cancelled() => {}
                Err(e) => return Err(e.into()),
            }
            return Ok(Flow::Done);
        }
        failures.sort_by_key(|(i, _)| *i);
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
                outputs
                    .into_iter()
                    .map(|o| o.unwrap_or(Value::Null))
                    .collect(),
            )),
        };
        let attempt = self.tries(pos, None) + 1;
        let Some(seq) = self
            .start(step, pos, attempt, None, json!({ "items": n }))
            .await?
        else {
            return Ok(Flow::Done);
        };
        self.settle(pos, seq, attempt, result, Vec::new(), None)
            .await
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
