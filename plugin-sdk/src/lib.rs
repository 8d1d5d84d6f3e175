//! Write Relais plugins in Rust.
//!
//! A plugin is a WebAssembly component (`wasm32-wasip2`) that offers steps to
//! workflows: `uses: NAME/STEP`. This crate gives it:
//!
//! - [`plugin!`]: the one way to declare a plugin and its steps, each a
//!   plain function from a typed input to a typed output; the JSON Schemas
//!   the host shows and checks are generated from the types;
//! - [`StepError`]: how a step fails (`retryable`, `fatal`, `invalid-input`),
//!   with conversions from the SDK's own errors so `?` does the right thing;
//! - [`Context`]: run id, step id, attempt and the idempotency key;
//! - [`http`] (outbound requests through the host), [`secrets`], [`kv`]
//!   (storage private to the plugin) and [`log`];
//! - [`keys`] (idempotency and store keys cut to a length limit, stably),
//!   [`clock`] and [`input`] (checks of common input values: domain names);
//! - [`testing`]: a fake host to test steps natively with `cargo test`.
//!
//! The same plugin code builds for `wasm32` (where it talks to the real
//! host through the contract in `wit/`) and natively (where it talks to
//! [`testing::FakeHost`]); the switch is inside this crate.
//!
//! # A complete plugin
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "plugin-mailer"
//!
//! [lib]
//! crate-type = ["cdylib", "rlib"]
//!
//! [dependencies]
//! relais-plugin-sdk = "0.1"
//! serde = { version = "1", features = ["derive"] }
//! serde_json = "1"
//! schemars = "1"
//! ```
//!
//! `src/lib.rs`:
//!
//! ```
//! use relais_plugin_sdk::prelude::*;
//!
//! /// Input of `send`.
//! #[derive(Deserialize, JsonSchema)]
//! struct SendIn {
//!     /// Recipient address.
//!     to: String,
//!     /// Subject line.
//!     subject: String,
//! }
//!
//! /// Output of `send`.
//! #[derive(Serialize, JsonSchema)]
//! struct SendOut {
//!     /// The provider's message id.
//!     id: String,
//! }
//!
//! #[derive(Deserialize)]
//! struct Sent {
//!     id: String,
//! }
//!
//! fn send(input: SendIn, cx: &Context) -> Result<SendOut, StepError> {
//!     if !input.to.contains('@') {
//!         return Err(StepError::invalid_input(format!("{:?} is not an address", input.to)));
//!     }
//!     let key = secrets::require("mail_api_key")?;
//!     let sent: Sent = http::post("https://mail.example.com/v1/messages")
//!         .bearer(&key)
//!         .header("idempotency-key", cx.idempotency_key.clone())
//!         .json(&serde_json::json!({"to": input.to, "subject": input.subject}))
//!         .send()?             // no answer → retryable, naming the URL
//!         .error_for_status()? // 5xx/429 → retryable, other 4xx → fatal
//!         .json()?;
//!     log::info!("sent message {}", sent.id);
//!     Ok(SendOut { id: sent.id })
//! }
//!
//! relais_plugin_sdk::plugin! {
//!     name: "mailer",
//!     version: "0.1.0", // usually env!("CARGO_PKG_VERSION")
//!     description: "Sends mail",
//!     steps: {
//!         "send" => send: "Send one message",
//!     },
//! }
//!
//! // The native test (in `#[cfg(test)] mod tests` of the plugin):
//! # fn main() {
//! use relais_plugin_sdk::http::Method;
//! use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
//! use serde_json::json;
//!
//! assert_eq!(PLUGIN.validate(), Ok(()));
//! let url = "https://mail.example.com/v1/messages";
//! let host = FakeHost::new()
//!     .with_secret("mail_api_key", "k-123")
//!     .on_once(Method::Post, url, FakeResponse::status(503).header("retry-after", "2"))
//!     .on(Method::Post, url, FakeResponse::ok().json(&json!({"id": "m-1"})));
//! let cx = Context::new("run-7", "notify");
//! let input = json!({"to": "ann@example.com", "subject": "Renewal"});
//!
//! // First attempt: the provider is down, the engine will retry in 2 s.
//! let err = host.invoke(&PLUGIN, "send", input.clone(), &cx).unwrap_err();
//! assert!(err.is_retryable());
//! assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(2)));
//!
//! // Second attempt: sent, with the same idempotency key.
//! let out = host.invoke(&PLUGIN, "send", input, &cx.clone().with_attempt(2));
//! assert_eq!(out, Ok(json!({"id": "m-1"})));
//! let requests = host.requests();
//! assert_eq!(requests.len(), 2);
//! assert_eq!(requests[1].header("authorization"), Some("Bearer k-123"));
//! assert_eq!(requests[1].header("idempotency-key"), Some("run-7/notify"));
//! assert_eq!(requests[1].json(), json!({"to": "ann@example.com", "subject": "Renewal"}));
//! assert_eq!(host.logs().last().map(|l| l.message.as_str()), Some("sent message m-1"));
//!
//! // Bad input never reaches the network.
//! let err = host.invoke(&PLUGIN, "send", json!({"to": 5}), &cx).unwrap_err();
//! assert_eq!(err.kind(), "invalid-input");
//! assert!(err.message().starts_with("invalid input at to: invalid type: integer `5`"));
//! # }
//! ```
//!
//! # Building
//!
//! `cargo build --target wasm32-wasip2 --release` on a machine with the
//! target installed (`rustup target add wasm32-wasip2`); in this repository
//! `scripts/build-plugins.sh` finds a way on any machine and writes
//! `target/plugins/NAME.wasm`.

mod context;
mod error;
#[cfg(target_arch = "wasm32")]
mod export;
mod host;
mod macros;
mod plugin;

pub mod clock;
pub mod http;
pub mod input;
pub mod keys;
pub mod kv;
pub mod log;
pub mod mail;
pub mod secrets;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use context::Context;
pub use error::StepError;
pub use plugin::{Plugin, PluginInfo, RunFn, SchemaFn, Step, StepInfo, schema_for};

/// What a plugin file needs, in one `use`.
pub mod prelude {
    pub use crate::{Context, StepError, http, kv, log, secrets};
    pub use schemars::JsonSchema;
    pub use serde::{Deserialize, Serialize};
}

/// Bindings generated from `wit/` (world `mailer`: `plugin` plus `mail`); use
/// the wrappers.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "mailer",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_world",
        default_bindings_module: "relais_plugin_sdk::bindings",
        generate_all,
    });
}

/// What [`plugin!`] expands to refers to; not part of the API.
#[doc(hidden)]
pub mod __private {
    #[cfg(target_arch = "wasm32")]
    pub use crate::export::PluginExport;
    pub use crate::plugin::{input_schema, output_schema, run_step};
}
