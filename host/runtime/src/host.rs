//! The imports the host grants a plugin (`log`, `secrets`, `kv`, and the
//! standard `wasi:*` interfaces a Rust guest links), and the per-invocation
//! state behind them.

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::kv::{self, KvError, KvQuota, KvStore};
use crate::limits::{LOG_LINE_OVERHEAD, Limit, Limiter, Limits};
use crate::outbound::Outbound;
use crate::secrets::Secrets;

pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "relais:plugin/plugin",
        imports: { default: async },
        exports: { default: async },
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        },
        require_store_data_send: true,
    });
}

pub use bindings::relais::plugin::types::Level;

/// One line of an invocation's log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogLine {
    /// Milliseconds since the invocation started.
    pub at_ms: u64,
    /// `trace`, `debug`, `info`, `warn`, `error`; `host` for lines the host
    /// adds (refused requests, limits, a panic message).
    pub level: String,
    /// The text, with granted secret values masked.
    pub message: String,
}

/// The log of one invocation, capped in bytes and in lines. Every line
/// costs its text plus [`LOG_LINE_OVERHEAD`], so a flood of empty lines
/// runs into the cap as surely as a few long ones.
#[derive(Debug)]
pub(crate) struct LogBuffer {
    pub(crate) lines: Vec<LogLine>,
    bytes: usize,
    max_bytes: usize,
    max_lines: usize,
    dropped: usize,
    started: std::time::Instant,
}

impl LogBuffer {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            lines: Vec::new(),
            bytes: 0,
            max_bytes: limits.log_bytes,
            max_lines: usize::try_from(limits.log_lines).unwrap_or(usize::MAX),
            dropped: 0,
            started: std::time::Instant::now(),
        }
    }

    pub(crate) fn push(&mut self, level: &str, message: String) {
        let cost = message.len().saturating_add(LOG_LINE_OVERHEAD);
        if self.bytes.saturating_add(cost) > self.max_bytes || self.lines.len() >= self.max_lines {
            self.drop_line();
            return;
        }
        self.bytes += cost;
        self.lines.push(LogLine {
            at_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            level: level.to_string(),
            message,
        });
    }

    /// Whether no further line fits (even an empty one).
    pub(crate) fn is_full(&self) -> bool {
        self.lines.len() >= self.max_lines
            || self.bytes.saturating_add(LOG_LINE_OVERHEAD) > self.max_bytes
    }

    /// Counts a line that did not fit.
    pub(crate) fn drop_line(&mut self) {
        self.dropped += 1;
    }

    /// Host lines are always kept: they explain failures.
    pub(crate) fn host(&mut self, message: String) {
        self.lines.push(LogLine {
            at_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            level: "host".into(),
            message,
        });
    }

    pub(crate) fn finish(mut self) -> Vec<LogLine> {
        if self.dropped > 0 {
            let text = format!(
                "{} log line(s) dropped: the log limit is {} lines or {} bytes per invocation \
                 (each line counts {LOG_LINE_OVERHEAD} bytes more than its text)",
                self.dropped, self.max_lines, self.max_bytes
            );
            self.host(text);
        }
        self.lines
    }
}

/// Everything one store (one invocation) owns.
pub(crate) struct State {
    pub(crate) plugin: Arc<str>,
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) http: WasiHttpCtx,
    pub(crate) outbound: Outbound,
    pub(crate) limiter: Limiter,
    pub(crate) log: LogBuffer,
    pub(crate) secrets: Secrets,
    pub(crate) kv: Arc<dyn KvStore>,
    pub(crate) kv_quota: KvQuota,
    pub(crate) mail: crate::mail::MailCtx,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

impl bindings::relais::plugin::types::Host for State {}

impl bindings::relais::plugin::log::Host for State {
    async fn write(&mut self, level: Level, message: String) {
        let level = match level {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        if self.log.is_full() {
            self.log.drop_line();
            return;
        }
        let message = self.secrets.redact(&message);
        self.log.push(level, message);
    }
}

impl bindings::relais::plugin::secrets::Host for State {
    async fn get(&mut self, name: String) -> Option<String> {
        self.secrets.get(&name).map(|v| v.expose().to_string())
    }
}

impl bindings::relais::plugin::kv::Host for State {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, String> {
        kv::check(&key, None)?;
        self.kv
            .get(&self.plugin, &key)
            .await
            .map_err(|e| e.to_string())
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), String> {
        kv::check(&key, Some(&value))?;
        match self.kv.set(&self.plugin, &key, value, self.kv_quota).await {
            Ok(()) => Ok(()),
            Err(e @ KvError::Quota(_)) => {
                let text = e.to_string();
                crate::outbound::hit(&self.outbound.incidents, Limit::KvQuota, text.clone());
                Err(text)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    async fn delete(&mut self, key: String) -> Result<(), String> {
        kv::check(&key, None)?;
        self.kv
            .delete(&self.plugin, &key)
            .await
            .map_err(|e| e.to_string())
    }
}

impl crate::mail::bindings::relais::plugin::mail::Host for State {
    #[tracing::instrument(skip(self, message), fields(plugin = %self.plugin))]
    async fn send(
        &mut self,
        relay: String,
        message: crate::mail::bindings::relais::plugin::mail::Message,
    ) -> Result<
        crate::mail::bindings::relais::plugin::mail::Sent,
        crate::mail::bindings::relais::plugin::mail::SendError,
    > {
        let (result, note) = self.mail.send(&relay, message).await;
        self.log.host(self.secrets.redact(&note));
        result
    }
}

/// Links every import a plugin may use. WASI is linked because Rust's std
/// imports it, but the context built for each invocation grants nothing:
/// no preopened directories, no environment, no sockets, no name lookup,
/// no stdin, stdout discarded, stderr captured into the run log.
pub(crate) fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<State>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    use bindings::relais::plugin as p;
    p::types::add_to_linker::<_, HasSelf<State>>(&mut linker, |s| s)?;
    p::log::add_to_linker::<_, HasSelf<State>>(&mut linker, |s| s)?;
    p::secrets::add_to_linker::<_, HasSelf<State>>(&mut linker, |s| s)?;
    p::kv::add_to_linker::<_, HasSelf<State>>(&mut linker, |s| s)?;
    crate::mail::bindings::relais::plugin::mail::add_to_linker::<_, HasSelf<State>>(
        &mut linker,
        |s| s,
    )?;
    Ok(linker)
}
