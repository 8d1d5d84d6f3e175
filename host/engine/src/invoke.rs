//! One call into a plugin for a step: secrets, the worker pool, the step's
//! timeout, and the translation of the runtime's outcome into store records.

use relais_runtime::{Context, Invocation, InvokeError, Limit, Secrets, StepError as RtError};
use relais_store::{ErrorKind, LogLevel, LogLine, StepError, Timestamp};
use relais_workflow::model::PluginCall;
use serde_json::Value;

use crate::engine::Inner;

/// The message of an attempt that never reached the plugin because the
/// engine was shutting down.
pub(crate) const INTERRUPTED: &str = "interrupted: the host is shutting down";

/// The result of a plugin call, as the store records it.
pub(crate) struct Called {
    pub result: Result<Value, StepError>,
    pub logs: Vec<LogLine>,
}

pub(crate) fn step_error(kind: ErrorKind, message: impl Into<String>) -> StepError {
    StepError {
        kind,
        message: message.into(),
        retry_after_ms: None,
    }
}

/// Calls `call` with `input` under a worker permit.
pub(crate) async fn call_plugin(
    inner: &Inner,
    call: &PluginCall,
    context: Context,
    input: &Value,
) -> Called {
    let fail = |kind, message: String| Called {
        result: Err(step_error(kind, message)),
        logs: Vec::new(),
    };
    let Some(plugin) = inner.plugins.get(&call.uses.plugin) else {
        return fail(
            ErrorKind::Fatal,
            format!("plugin {:?} is not loaded", call.uses.plugin),
        );
    };
    let mut secrets = Secrets::new();
    for name in &call.secrets {
        match inner.store.secret_get(name.as_str()).await {
            Ok(Some(value)) => secrets.insert(
                name.as_str(),
                relais_runtime::SecretValue::new(value.expose()),
            ),
            Ok(None) => {
                return fail(
                    ErrorKind::Fatal,
                    format!(
                        "secret {:?} is not set (relais secret set {})",
                        name.as_str(),
                        name.as_str()
                    ),
                );
            }
            Err(e) => {
                return fail(
                    ErrorKind::Internal,
                    format!("cannot read secret {:?}: {e}", name.as_str()),
                );
            }
        }
    }
    let stop = inner.stop.notified();
    tokio::pin!(stop);
    stop.as_mut().enable();
    if inner.stopping() {
        return fail(ErrorKind::Internal, INTERRUPTED.into());
    }
    let _worker = tokio::select! {
        permit = inner.workers.acquire() => match permit {
            Ok(permit) => permit,
            Err(_) => return fail(ErrorKind::Internal, "the worker pool is closed".into()),
        },
        _ = stop => return fail(ErrorKind::Internal, INTERRUPTED.into()),
    };
    let started = Timestamp::now();
    let invocation = Invocation {
        step: call.uses.step.clone(),
        input: input.to_string(),
        context,
        secrets,
        kv: inner.kv.clone(),
    };
    let outcome = match call.timeout {
        Some(limit) => {
            match tokio::time::timeout(limit.as_std(), plugin.invoke(invocation)).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    return fail(
                        ErrorKind::Timeout,
                        format!("the step's timeout of {limit} passed"),
                    );
                }
            }
        }
        None => plugin.invoke(invocation).await,
    };
    let logs = outcome
        .logs
        .into_iter()
        .map(|l| LogLine {
            at: started.saturating_add(std::time::Duration::from_millis(l.at_ms)),
            level: level(&l.level),
            message: l.message,
        })
        .collect();
    Called {
        result: outcome.result.map_err(|e| translate(&e)),
        logs,
    }
}

fn level(level: &str) -> LogLevel {
    match level {
        "trace" => LogLevel::Trace,
        "debug" => LogLevel::Debug,
        "info" => LogLevel::Info,
        "error" => LogLevel::Error,
        _ => LogLevel::Warn,
    }
}

/// The store's typed error for a runtime error.
pub(crate) fn translate(e: &InvokeError) -> StepError {
    let kind = match e {
        InvokeError::Step(RtError::Retryable { .. }) | InvokeError::Instantiate { .. } => {
            ErrorKind::Retryable
        }
        InvokeError::Step(RtError::Fatal { .. }) | InvokeError::InvalidOutput { .. } => {
            ErrorKind::Fatal
        }
        InvokeError::Step(RtError::InvalidInput { .. }) => ErrorKind::InvalidInput,
        InvokeError::Limit {
            limit: Limit::Timeout,
            ..
        } => ErrorKind::Timeout,
        InvokeError::Limit { .. } => ErrorKind::Limit,
        InvokeError::Panic { .. } | InvokeError::Trap { .. } => ErrorKind::Trap,
    };
    let message = match e {
        InvokeError::Step(
            RtError::Retryable { message, .. }
            | RtError::Fatal { message }
            | RtError::InvalidInput { message },
        ) => message.clone(),
        other => other.to_string(),
    };
    StepError {
        kind,
        message,
        retry_after_ms: e
            .retry_after()
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
    }
}

/// Whether an error may be tried again (budget permitting).
pub(crate) fn retryable(e: &StepError) -> bool {
    matches!(e.kind, ErrorKind::Retryable | ErrorKind::Timeout)
}

/// The delay before the next attempt after failed attempt `attempt`.
pub(crate) fn retry_delay(
    retry: &relais_workflow::model::Retry,
    attempt: u32,
    error: &StepError,
) -> std::time::Duration {
    match error.retry_after_ms {
        Some(ms) => std::time::Duration::from_millis(ms),
        None => retry.delay_after(attempt, random()),
    }
}

/// A number in `[0, 1)` for jitter (not for anything secret).
fn random() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Timestamp::now().as_millis());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}
