//! The Relais sandbox.
//!
//! Loads WebAssembly components that implement the `relais:plugin@0.1.0`
//! contract (`wit/plugin.wit`), and runs their steps, each in a fresh
//! instance, under per-plugin limits (memory, time, output, log volume, HTTP
//! response size) and grants (outbound HTTP origins and their TLS settings,
//! secrets, the SMTP relays of the `mail` capability).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use relais_runtime::{Context, Invocation, MemoryKv, PluginSettings, Runtime, RuntimeConfig, Secrets};
//!
//! let runtime = Runtime::new(&RuntimeConfig::default())?;
//! let (plugin, _) = runtime.load("target/plugins/http.wasm", PluginSettings::default()).await?;
//! let outcome = plugin
//!     .invoke(Invocation {
//!         step: "request".into(),
//!         input: r#"{"url": "https://example.com"}"#.into(),
//!         context: Context::default(),
//!         secrets: Secrets::new(),
//!         kv: Arc::new(MemoryKv::default()),
//!     })
//!     .await;
//! println!("{:?}", outcome.result);
//! # Ok(()) }
//! ```

mod cache;
mod classify;
mod grants;
mod host;
mod invoke;
mod kv;
mod limits;
mod mail;
mod outbound;
mod output;
mod plugin;
mod resources;
mod runtime;
mod secrets;
mod stderr;
mod tls;

pub use cache::{CacheOutcome, ComponentCache};
pub use grants::{HttpGrants, Origin, OriginError, is_public};
pub use host::LogLine;
pub use invoke::{Context, Invocation, InvokeError, Outcome, StepError};
pub use kv::{KvError, KvFuture, KvQuota, KvStore, MAX_KEY_BYTES, MAX_VALUE_BYTES, MemoryKv};
pub use limits::{DESCRIBE_TIMEOUT, LOG_LINE_OVERHEAD, Limit, Limits, MAX_MEMORY_BYTES};
pub use mail::{
    MAX_MESSAGE_BYTES, MAX_MESSAGES_PER_INVOCATION, MailRelay, MailRelayError, MailTls,
};
pub use plugin::{Plugin, PluginInfo, PluginSettings, StepInfo};
pub use runtime::{EPOCH_TICK, LoadError, Runtime, RuntimeConfig, file_stem};
pub use secrets::{MIN_SECRET_BYTES, SecretValue, Secrets};
pub use tls::{Fingerprint, FingerprintError, OPERATOR_TRUST, TLS_HEADER, TlsError, TlsGrant};
