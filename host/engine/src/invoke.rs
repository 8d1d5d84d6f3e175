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

/// Calls `call` (a step of `workflow`) with `input` under a worker of the
/// pool.
pub(crate) async fn call_plugin(
    inner: &Inner,
    workflow: &str,
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
        worker = inner.workers.acquire(workflow) => worker,
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
    let result = outcome
        .result
        .map_err(|e| translate(&e))
        .and_then(|output| {
            inner
                .plugins
                .check_output(&call.uses.plugin, &call.uses.step, &output)
                .map(|()| output)
                .map_err(|message| step_error(ErrorKind::Fatal, message))
        });
    Called { result, logs }
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

/// The delay before the next attempt after failed attempt `attempt`: the
/// plugin's retry-after, else the step's backoff with a jitter drawn from
/// `key` (the idempotency key) and `attempt`. The same arguments give the
/// same delay, so a retry's due time can be computed again from the stored
/// attempt after a restart.
pub(crate) fn retry_delay(
    retry: &relais_workflow::model::Retry,
    attempt: u32,
    error: &StepError,
    key: &str,
) -> std::time::Duration {
    match error.retry_after_ms {
        Some(ms) => std::time::Duration::from_millis(ms),
        None => retry.delay_after(attempt, jitter(key, attempt)),
    }
}

/// A number in `[0, 1)` that depends only on `key` and `attempt` (FNV-1a,
/// then a SplitMix64 finaliser); spreads retries, protects nothing.
fn jitter(key: &str, attempt: u32) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes().chain(attempt.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::jitter;

    #[test]
    fn jitter_is_stable_spread_and_in_range() {
        assert_eq!(jitter("run/step", 1), jitter("run/step", 1));
        assert_ne!(jitter("run/step", 1), jitter("run/step", 2));
        assert_ne!(jitter("run/a", 1), jitter("run/b", 1));
        let draws: Vec<f64> = (0..1000).map(|i| jitter(&format!("r{i}/s"), 1)).collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        let low = draws.iter().filter(|x| **x < 0.5).count();
        assert!((400..600).contains(&low), "{low} of 1000 below one half");
    }
}
