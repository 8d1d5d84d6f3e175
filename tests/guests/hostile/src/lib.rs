//! `hostile`: a test guest that tries to exhaust the host through what a
//! plugin may hold there, written against the raw contract (its `describe`
//! is its own, so it can misbehave too). Built to
//! `target/test-guests/hostile.wasm` by `scripts/build-plugins.sh`.
//!
//! `describe` tries an HTTP request to `http://127.0.0.1:9` and tells how
//! it went in its description (`http: …`). Steps, each with a JSON input:
//!
//! - `fields` `{headers, value_bytes}`: creates header maps of `headers`
//!   fields of `value_bytes` bytes in a loop, never dropping one;
//! - `bodies` `{}`: creates requests and fills their bodies in a loop,
//!   never sending one;
//! - `logs` `{lines}`: writes `lines` empty log lines;
//! - `stderr` `{text}`: writes `text` to stderr and succeeds;
//! - `kv-fill` `{value_bytes}`: stores values under new keys until the
//!   host refuses, and fails with the host's message;
//! - `leak` `{secret}`: logs the secret JSON-escaped, and outputs it
//!   percent-encoded, in base64 and in a basic-auth header.

#[cfg(target_arch = "wasm32")]
mod guest;
