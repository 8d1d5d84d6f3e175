//! One invocation of a plugin step: a fresh instance under limits, and a
//! typed account of how it ended.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi_http::WasiHttpCtx;

use crate::host::{LogBuffer, LogLine, State, bindings};
use crate::kv::KvStore;
use crate::limits::{Limit, Limiter};
use crate::outbound::{Incidents, Outbound};
use crate::plugin::{Inner, Plugin};
use crate::secrets::Secrets;
use crate::stderr::Captured;

use bindings::relais::plugin::types as wit;

/// Where an invocation stands in its workflow run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// The run.
    pub run_id: String,
    /// The workflow's step id.
    pub step_id: String,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// Stable across retries and restarts of this step of this run.
    pub idempotency_key: String,
}

/// What to run.
#[derive(Clone)]
pub struct Invocation {
    /// The plugin's step name.
    pub step: String,
    /// The input, as JSON text.
    pub input: String,
    /// Where it stands.
    pub context: Context,
    /// Secrets granted to this step.
    pub secrets: Secrets,
    /// The plugin key-value store.
    pub kv: Arc<dyn KvStore>,
}

/// A failure the plugin itself reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StepError {
    /// Worth trying again.
    #[error("retryable: {message}")]
    Retryable {
        /// What went wrong.
        message: String,
        /// When the remote side asked to be retried, in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// Retrying would not help.
    #[error("fatal: {message}")]
    Fatal {
        /// What went wrong.
        message: String,
    },
    /// The input was wrong.
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What was wrong with it.
        message: String,
    },
}

/// Why an invocation did not produce an output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum InvokeError {
    /// The plugin returned an error.
    #[error("{0}")]
    Step(StepError),
    /// A sandbox limit stopped it.
    #[error("{limit} limit exceeded: {message}")]
    Limit {
        /// Which one.
        limit: Limit,
        /// Details.
        message: String,
    },
    /// The plugin panicked.
    #[error("plugin panicked: {message}")]
    Panic {
        /// The panic message, from the guest's stderr.
        message: String,
    },
    /// The plugin trapped (a bug in it, or a malformed component).
    #[error("plugin trapped: {message}")]
    Trap {
        /// What wasmtime reported.
        message: String,
    },
    /// The output was not a JSON document.
    #[error("plugin returned an invalid output: {message}")]
    InvalidOutput {
        /// Why.
        message: String,
    },
    /// The instance could not be created (e.g. every slot is busy).
    #[error("cannot instantiate the plugin: {message}")]
    Instantiate {
        /// Why.
        message: String,
    },
}

impl InvokeError {
    /// Whether the engine may try again: retryable step errors, timeouts,
    /// and a pool that was momentarily full.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            InvokeError::Step(StepError::Retryable { .. })
                | InvokeError::Limit {
                    limit: Limit::Timeout,
                    ..
                }
                | InvokeError::Instantiate { .. }
        )
    }

    /// A delay the plugin asked for before the next attempt.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            InvokeError::Step(StepError::Retryable {
                retry_after_ms: Some(ms),
                ..
            }) => Some(Duration::from_millis(*ms)),
            _ => None,
        }
    }
}

/// How an invocation ended, with its log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// The output, or why there is none.
    pub result: Result<serde_json::Value, InvokeError>,
    /// Log lines written by the plugin and notes added by the host.
    pub logs: Vec<LogLine>,
    /// Wall-clock time, instantiation included.
    pub duration: Duration,
}

impl Plugin {
    /// Runs one step in a fresh instance.
    pub async fn invoke(&self, inv: Invocation) -> Outcome {
        let started = Instant::now();
        let inner = &self.inner;
        let secrets = inv.secrets.clone();
        let output_cap = inner.settings.limits.output_bytes;
        let (result, log) = run(inner, inv, Call::Invoke).await;
        let result = match result {
            Ok(Returned::Output(Ok(text))) => output(&text, output_cap, &secrets),
            Ok(Returned::Output(Err(e))) => {
                Err(InvokeError::Step(step_error(e, output_cap, &secrets)))
            }
            Ok(Returned::Info(_)) => Err(InvokeError::InvalidOutput {
                message: "describe answered an invoke".into(),
            }),
            Err(e) => Err(e),
        };
        Outcome {
            result,
            logs: log,
            duration: started.elapsed(),
        }
    }
}

pub(crate) async fn describe(
    inner: &Inner,
    inv: Invocation,
) -> Result<wit::PluginInfo, InvokeError> {
    match run(inner, inv, Call::Describe).await.0? {
        Returned::Info(info) => Ok(info),
        Returned::Output(_) => Err(InvokeError::InvalidOutput {
            message: "invoke answered a describe".into(),
        }),
    }
}

/// Which export to call.
#[derive(Clone, Copy)]
enum Call {
    Describe,
    Invoke,
}

enum Returned {
    Info(wit::PluginInfo),
    Output(Result<String, wit::StepError>),
}

async fn call_export(
    plugin: bindings::Plugin,
    store: &mut Store<State>,
    call: Call,
    inv: Invocation,
) -> wasmtime::Result<Returned> {
    let guest = plugin.relais_plugin_guest();
    match call {
        Call::Describe => guest.call_describe(store).await.map(Returned::Info),
        Call::Invoke => {
            let ctx = wit::Context {
                run_id: inv.context.run_id,
                step_id: inv.context.step_id,
                attempt: inv.context.attempt,
                idempotency_key: inv.context.idempotency_key,
            };
            guest
                .call_invoke(store, &inv.step, &inv.input, &ctx)
                .await
                .map(Returned::Output)
        }
    }
}

/// Instantiates the plugin afresh, runs `call` under the limits, and turns
/// traps into typed errors.
async fn run(
    inner: &Inner,
    inv: Invocation,
    call: Call,
) -> (Result<Returned, InvokeError>, Vec<LogLine>) {
    let limits = inner.settings.limits;
    let shared = &inner.runtime.shared;
    let deadline = Instant::now() + limits.timeout;
    let stderr = Captured::new(8 << 10);
    let incidents = Arc::new(std::sync::Mutex::new(Incidents::default()));
    let wasi = WasiCtxBuilder::new()
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build();
    let state = State {
        plugin: inner.name.clone(),
        wasi,
        table: wasmtime::component::ResourceTable::new(),
        http: WasiHttpCtx::new(),
        outbound: Outbound {
            grants: inner.grants.clone(),
            max_response_bytes: limits.http_response_bytes,
            requests_left: limits.http_requests,
            deadline: tokio::time::Instant::from_std(deadline),
            tls: inner.tls.clone(),
            incidents: incidents.clone(),
        },
        limiter: Limiter::new(&limits),
        log: LogBuffer::new(limits.log_bytes),
        secrets: inv.secrets.clone(),
        kv: inv.kv.clone(),
        mail: crate::mail::MailCtx::new(
            shared.mail.clone(),
            &inner.settings.mail,
            inner.name.clone(),
            tokio::time::Instant::from_std(deadline),
        ),
    };
    let mut store = Store::new(&shared.engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });

    let work = async {
        let instance = inner
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| Failure::Instantiate(format!("{e:#}")))?;
        call_export(instance, &mut store, call, inv)
            .await
            .map_err(Failure::Wasm)
    };
    // The epoch stops a busy guest; this stops one waiting on the host
    // (an HTTP response that never comes).
    let outcome =
        match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), work).await {
            Ok(r) => r,
            Err(_) => Err(Failure::HostTimeout),
        };

    let state = store.into_data();
    let mut log = state.log;
    let incidents = std::mem::take(&mut *incidents.lock().unwrap_or_else(|e| e.into_inner()));
    for n in &incidents.notes {
        log.host(n.clone());
    }
    let panic_text = stderr.text();
    let result = match outcome {
        // A step that failed because the host cut it off (an HTTP response
        // over its cap, too many requests) failed on a limit, whatever the
        // plugin made of it.
        Ok(Returned::Output(Err(_))) if incidents.limit.is_some() => Err(InvokeError::Limit {
            limit: incidents.limit.unwrap_or(Limit::Resources),
            message: incidents.notes.last().cloned().unwrap_or_default(),
        }),
        Ok(r) => Ok(r),
        Err(f) => Err(classify(
            f,
            &state.limiter,
            &incidents,
            &limits,
            &panic_text,
        )),
    };
    if result.is_err() && !panic_text.is_empty() {
        log.host(format!("stderr: {}", state.secrets.redact(&panic_text)));
    }
    if let Err(e) = &result {
        log.host(state.secrets.redact(&e.to_string()));
    }
    (result, log.finish())
}

enum Failure {
    Instantiate(String),
    Wasm(wasmtime::Error),
    HostTimeout,
}

fn classify(
    f: Failure,
    limiter: &Limiter,
    incidents: &Incidents,
    limits: &crate::limits::Limits,
    stderr: &str,
) -> InvokeError {
    let timeout = || InvokeError::Limit {
        limit: Limit::Timeout,
        message: format!("the invocation ran longer than {:?}", limits.timeout),
    };
    let err = match f {
        Failure::Instantiate(message) => {
            if limiter.hit == Some(Limit::Memory) {
                return InvokeError::Limit {
                    limit: Limit::Memory,
                    message: format!("initial memory exceeds {} bytes", limits.memory_bytes),
                };
            }
            return InvokeError::Instantiate { message };
        }
        Failure::HostTimeout => return timeout(),
        Failure::Wasm(e) => e,
    };
    if let Some(limit) = limiter.hit {
        let message = match limit {
            Limit::Memory => format!(
                "the instance tried to grow its memory past {} bytes",
                limits.memory_bytes
            ),
            _ => format!("{err:#}"),
        };
        return InvokeError::Limit { limit, message };
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => return timeout(),
        Some(Trap::UnreachableCodeReached) if stderr.contains("panicked") => {
            return InvokeError::Panic {
                message: panic_message(stderr),
            };
        }
        _ => {}
    }
    if let Some(limit) = incidents.limit {
        return InvokeError::Limit {
            limit,
            message: incidents.notes.last().cloned().unwrap_or_default(),
        };
    }
    InvokeError::Trap {
        message: format!("{err:#}"),
    }
}

/// `thread 'main' panicked at src/lib.rs:3:5:\nmessage` → `message (at src/lib.rs:3:5)`.
fn panic_message(stderr: &str) -> String {
    let mut lines = stderr.lines().skip_while(|l| !l.contains("panicked"));
    let Some(head) = lines.next() else {
        return stderr.to_string();
    };
    let at = head
        .split_once("panicked at ")
        .map(|(_, r)| r.trim_end_matches(':').to_string());
    let msg: Vec<&str> = lines.take_while(|l| !l.starts_with("note:")).collect();
    match (msg.is_empty(), at) {
        (false, Some(at)) => format!("{} (at {at})", msg.join("\n")),
        (false, None) => msg.join("\n"),
        (true, _) => head.to_string(),
    }
}

fn output(text: &str, cap: usize, secrets: &Secrets) -> Result<serde_json::Value, InvokeError> {
    if text.len() > cap {
        return Err(InvokeError::Limit {
            limit: Limit::OutputSize,
            message: format!("the output is {} bytes, the limit is {cap}", text.len()),
        });
    }
    let mut value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| InvokeError::InvalidOutput {
            message: format!("not JSON: {e}"),
        })?;
    redact_value(&mut value, secrets);
    Ok(value)
}

fn redact_value(value: &mut serde_json::Value, secrets: &Secrets) {
    match value {
        serde_json::Value::String(s) => {
            let r = secrets.redact(s);
            if r != *s {
                *s = r;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_value(v, secrets)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| redact_value(v, secrets)),
        _ => {}
    }
}

fn truncate(mut s: String, cap: usize) -> String {
    if s.len() > cap {
        let mut end = cap;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("… (truncated)");
    }
    s
}

fn step_error(e: wit::StepError, cap: usize, secrets: &Secrets) -> StepError {
    let clean = |m: String| truncate(secrets.redact(&m), cap.min(16 << 10));
    match e {
        wit::StepError::Retryable(r) => StepError::Retryable {
            message: clean(r.message),
            retry_after_ms: r.retry_after_ms,
        },
        wit::StepError::Fatal(m) => StepError::Fatal { message: clean(m) },
        wit::StepError::InvalidInput(m) => StepError::InvalidInput { message: clean(m) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_are_readable() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nprobe panicked on purpose\nnote: run with `RUST_BACKTRACE=1`";
        assert_eq!(
            panic_message(stderr),
            "probe panicked on purpose (at src/lib.rs:10:5)"
        );
    }

    #[test]
    fn outputs_are_checked_and_redacted() {
        let secrets: Secrets = [("k", "sk_live_secret")].into_iter().collect();
        let v = output(r#"{"a":"x sk_live_secret y","n":[1]}"#, 100, &secrets).unwrap();
        assert_eq!(v, serde_json::json!({"a": "x *** y", "n": [1]}));
        assert!(matches!(
            output("{}", 1, &secrets),
            Err(InvokeError::Limit {
                limit: Limit::OutputSize,
                ..
            })
        ));
        assert!(matches!(
            output("not json", 100, &secrets),
            Err(InvokeError::InvalidOutput { .. })
        ));
    }

    #[test]
    fn retryability() {
        let t = InvokeError::Limit {
            limit: Limit::Timeout,
            message: String::new(),
        };
        assert!(t.is_retryable());
        let m = InvokeError::Limit {
            limit: Limit::Memory,
            message: String::new(),
        };
        assert!(!m.is_retryable());
        let r = InvokeError::Step(StepError::Retryable {
            message: "x".into(),
            retry_after_ms: Some(1500),
        });
        assert_eq!(r.retry_after(), Some(Duration::from_millis(1500)));
        assert!(
            !InvokeError::Step(StepError::Fatal {
                message: "x".into()
            })
            .is_retryable()
        );
    }
}
