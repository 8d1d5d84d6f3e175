//! The one place where the SDK meets its host: the real one through the
//! generated bindings on `wasm32`, the fake one of [`crate::testing`]
//! everywhere else. Plugin code never sees the difference.

use crate::http::url::UrlParts;
use crate::http::{Headers, Method};

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::{http_send, kv_delete, kv_get, kv_set, log_write, secret_get};

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use crate::testing::host::{
    http_send, kv_delete, kv_get, kv_set, log_write, secret_get,
};

/// A request ready for the wire.
#[derive(Debug)]
pub(crate) struct WireRequest<'a> {
    pub method: &'a Method,
    /// The URL as the plugin gave it (the fake host records and matches it).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub url: &'a str,
    /// The URL split for `wasi:http` (the fake host matches on `url`).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub parts: &'a UrlParts,
    pub headers: &'a Headers,
    pub body: Option<&'a [u8]>,
}

/// An answer as it came off the wire.
#[derive(Debug)]
pub(crate) struct WireResponse {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

/// Why a request got no answer.
#[derive(Debug)]
pub(crate) enum WireError {
    /// No answer (DNS, connection, TLS, timeout, broken body).
    Transport(String),
    /// The host would not let the request leave, or cut the answer.
    Refused(String),
    /// The host found the request malformed (never from the fake host).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Invalid(String),
}
