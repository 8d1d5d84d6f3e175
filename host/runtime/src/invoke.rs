//! One invocation of a plugin step: a fresh instance under limits, and a
//! typed account of how it ended.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::WasiCtxBuilder;

use crate::classify::{Failure, classify};
use crate::host::{LogBuffer, LogLine, State, bindings};
use crate::kv::{KvQuota, KvStore};
use crate::limits::{Limit, Limiter};
use crate::outbound::{Incidents, MAX_NOTES, Outbound};
use crate::output::{output, step_error};
use crate::plugin::{Inner, Plugin};
use crate::resources;
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
    /// The plugin returned an error; in JSON
    /// `{"kind": "step", "error": {"kind": "fatal", "message": …}}`.
    #[error("{0}")]
    #[serde(with = "step_json")]
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

/// A step error nested under `error`, so its own `kind` does not collide
/// with [`InvokeError`]'s.
mod step_json {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::StepError;

    #[derive(Serialize, Deserialize)]
    struct Nested<T> {
        error: T,
    }

    pub fn serialize<S: Serializer>(e: &StepError, s: S) -> Result<S::Ok, S::Error> {
        Nested { error: e }.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<StepError, D::Error> {
        Nested::<StepError>::deserialize(d).map(|n| n.error)
    }
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

/// Runs `describe` with no grants; its log goes to tracing, with the
/// plugin file, since there is no run to keep it.
pub(crate) async fn describe(
    inner: &Inner,
    inv: Invocation,
) -> Result<wit::PluginInfo, InvokeError> {
    let (result, logs) = run(inner, inv, Call::Describe).await;
    let file = inner.path.display();
    for l in &logs {
        match l.level.as_str() {
            "warn" | "error" | "host" => {
                tracing::warn!(plugin = %file, level = %l.level, "describe: {}", l.message);
            }
            _ => tracing::debug!(plugin = %file, level = %l.level, "describe: {}", l.message),
        }
    }
    match result? {
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
    let mut limits = inner.settings.limits;
    if let Call::Describe = call {
        limits.timeout = crate::limits::DESCRIBE_TIMEOUT;
    }
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
    // `describe` runs with no grants: no origin, no mail relay.
    let (grants, mail) = match call {
        Call::Invoke => (inner.grants.clone(), inner.settings.mail.clone()),
        Call::Describe => (Arc::default(), Vec::new()),
    };
    let state = State {
        plugin: inner.name.clone(),
        wasi,
        table: resources::table(&limits),
        http: resources::http_ctx(&limits),
        outbound: Outbound {
            grants,
            max_response_bytes: limits.http_response_bytes,
            requests_left: limits.http_requests,
            deadline: tokio::time::Instant::from_std(deadline),
            tls: inner.tls.clone(),
            incidents: incidents.clone(),
        },
        limiter: Limiter::new(&limits),
        log: LogBuffer::new(&limits),
        secrets: inv.secrets.clone(),
        kv: inv.kv.clone(),
        kv_quota: KvQuota::of(&limits),
        mail: crate::mail::MailCtx::new(
            shared.mail.clone(),
            &mail,
            inner.name.clone(),
            tokio::time::Instant::from_std(deadline),
        ),
    };
    let mut store = Store::new(&shared.engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |mut cx| {
        if Instant::now() >= deadline {
            return Ok(UpdateDeadline::Interrupt);
        }
        let state = cx.data_mut();
        let held = resources::held_bytes(&mut state.table);
        if held > limits.host_bytes {
            state.limiter.hit = Some(Limit::HostMemory);
            wasmtime::bail!(
                "the plugin holds {held} bytes of HTTP headers in host memory, the limit is {}",
                limits.host_bytes
            );
        }
        Ok(UpdateDeadline::Yield(1))
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
        log.host(state.secrets.redact(n));
    }
    if incidents.dropped > 0 {
        log.host(format!(
            "{} more host note(s) dropped: {MAX_NOTES} are kept per invocation",
            incidents.dropped
        ));
    }
    let panic_text = stderr.text();
    let result = match outcome {
        // A step that failed because the host cut it off (an HTTP response
        // over its cap, too many requests, a full KV store) failed on a
        // limit, whatever the plugin made of it.
        Ok(Returned::Output(Err(_))) if incidents.limit.is_some() => Err(InvokeError::Limit {
            limit: incidents.limit.unwrap_or(Limit::Resources),
            message: incidents.limit_note.clone(),
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
    // What the guest wrote to stderr joins its log, whether the step
    // failed (a panic message) or not.
    if !panic_text.is_empty() {
        log.host(format!("stderr: {}", state.secrets.redact(&panic_text)));
    }
    if let Err(e) = &result {
        log.host(state.secrets.redact(&e.to_string()));
    }
    (result, log.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_errors_have_one_kind_per_object() {
        let e = InvokeError::Step(StepError::Fatal {
            message: "no".into(),
        });
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(
            text,
            r#"{"kind":"step","error":{"kind":"fatal","message":"no"}}"#
        );
        assert_eq!(serde_json::from_str::<InvokeError>(&text).unwrap(), e);
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
