//! Native tests for plugins: a fake host with scripted HTTP answers,
//! recorded requests, secrets, an in-memory key-value store and captured
//! log lines. Plain `cargo test`, no WebAssembly toolchain.
//!
//! Also checks every plugin wants: [`assert_inputs_are_strict`] (the
//! declaration and its input schemas) and [`Readme`] (the README documents
//! every step and field, and its workflow examples parse).
//!
//! ```
//! use relais_plugin_sdk::prelude::*;
//! use relais_plugin_sdk::http::{self, Method};
//! use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
//! use serde_json::json;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct PingIn { url: String }
//! #[derive(Serialize, JsonSchema)]
//! struct PingOut { status: u16 }
//!
//! fn ping(input: PingIn, _cx: &Context) -> Result<PingOut, StepError> {
//!     let token = secrets::require("token")?;
//!     let response = http::get(&input.url).bearer(&token).send()?.error_for_status()?;
//!     log::info!("pinged {}", input.url);
//!     Ok(PingOut { status: response.status() })
//! }
//!
//! relais_plugin_sdk::plugin! {
//!     name: "pinger", version: "1.0.0", description: "Pings",
//!     steps: { "ping" => ping: "Ping a URL" },
//! }
//!
//! let host = FakeHost::new()
//!     .with_secret("token", "t0k")
//!     .on(Method::Get, "https://up.test/health", FakeResponse::status(204));
//! let cx = Context::new("run-1", "ping");
//! let out = host.invoke(&PLUGIN, "ping", json!({"url": "https://up.test/health"}), &cx);
//! assert_eq!(out, Ok(json!({"status": 204})));
//! assert_eq!(host.requests()[0].header("authorization"), Some("Bearer t0k"));
//! assert_eq!(host.logs()[0].message, "pinged https://up.test/health");
//!
//! // No secret granted: the step fails, fatally, before any request.
//! let bare = FakeHost::new();
//! let err = bare.invoke(&PLUGIN, "ping", json!({"url": "https://up.test/health"}), &cx);
//! assert_eq!(err, Err(StepError::fatal("secret token is not granted to this step")));
//! assert!(bare.requests().is_empty());
//! ```

mod declaration;
pub(crate) mod host;
mod readme;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Serialize;

use crate::http::{Headers, Method};
use crate::log::Level;
use crate::{Context, Plugin, StepError};

pub use declaration::{assert_inputs_are_strict, input_schemas, schema_properties};
pub use readme::Readme;

/// A scripted answer, or a scripted failure to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeResponse {
    outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    Transport(String),
    Refused(String),
}

impl FakeResponse {
    /// An answer with `status`, no header and an empty body.
    pub fn status(status: u16) -> Self {
        Self {
            outcome: Outcome::Answer {
                status,
                headers: Vec::new(),
                body: Vec::new(),
            },
        }
    }

    /// A `200` answer.
    pub fn ok() -> Self {
        Self::status(200)
    }

    /// No answer: the transport failed (the SDK reports
    /// [`http::Error::Transport`](crate::http::Error::Transport)).
    pub fn transport_error(reason: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Transport(reason.into()),
        }
    }

    /// The host refused to let the request leave (the SDK reports
    /// [`http::Error::Refused`](crate::http::Error::Refused)).
    pub fn refused(reason: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Refused(reason.into()),
        }
    }

    /// Adds a header to an answer.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        if let Outcome::Answer { headers, .. } = &mut self.outcome {
            headers.push((name.to_ascii_lowercase(), value.into()));
        }
        self
    }

    /// A JSON body, with `content-type: application/json`.
    ///
    /// # Panics
    ///
    /// When `value` does not serialise (a bug in the test).
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value)
            .unwrap_or_else(|err| panic!("fake response body does not serialise: {err}"));
        self.header("content-type", "application/json").body(body)
    }

    /// A text body, with `content-type: text/plain; charset=utf-8`.
    pub fn text(self, text: impl Into<String>) -> Self {
        self.header("content-type", "text/plain; charset=utf-8")
            .body(text.into().into_bytes())
    }

    /// A raw body.
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        if let Outcome::Answer { body, .. } = &mut self.outcome {
            *body = bytes.into();
        }
        self
    }
}

/// A request the plugin sent, as the fake host received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The URL, as the plugin gave it (query included).
    pub url: String,
    /// The headers, names lowercase.
    pub headers: Headers,
    /// The body (empty when none).
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    ///
    /// When the body is not JSON: the assertion the test meant to make.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "body of {} {} is not JSON ({err}): {:?}",
                self.method,
                self.url,
                self.text()
            )
        })
    }
}

/// `Basic base64(USER:PASSWORD)`: the `Authorization` value
/// [`RequestBuilder::basic`](crate::http::RequestBuilder::basic) sends,
/// to compare with a recorded request's header.
///
/// ```
/// use relais_plugin_sdk::testing::basic_auth;
/// assert_eq!(basic_auth("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
/// ```
pub fn basic_auth(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        crate::http::url::base64(format!("{user}:{password}").as_bytes())
    )
}

/// A line the plugin logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: Level,
    /// Its text.
    pub message: String,
}

type Responder = Box<dyn FnMut(&RecordedRequest) -> Option<FakeResponse>>;

enum Route {
    Fixed {
        method: Method,
        url: String,
        response: FakeResponse,
        once: bool,
    },
    Dynamic(Responder),
}

#[derive(Default)]
struct State {
    secrets: BTreeMap<String, String>,
    kv: BTreeMap<String, Vec<u8>>,
    kv_failure: Option<String>,
    requests: Vec<RecordedRequest>,
    logs: Vec<LogLine>,
}

#[derive(Default)]
pub(crate) struct Inner {
    state: RefCell<State>,
    routes: RefCell<Vec<Route>>,
}

/// A fake host for native tests.
///
/// Build it with the `with_*` and `on*` methods, run steps with
/// [`invoke`](Self::invoke) (or any plugin code with [`run`](Self::run)),
/// then look at [`requests`](Self::requests), [`logs`](Self::logs) and
/// [`kv_value`](Self::kv_value).
///
/// HTTP routes are tried in the order they were added; the first that
/// matches answers. A request no route matches fails with a transport error
/// naming it (`no scripted response for GET https://...`). Every request is
/// recorded, matched or not.
#[derive(Default, Clone)]
pub struct FakeHost {
    inner: Rc<Inner>,
}

impl std::fmt::Debug for FakeHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.state.borrow();
        f.debug_struct("FakeHost")
            .field("secrets", &state.secrets.keys().collect::<Vec<_>>())
            .field("kv", &state.kv.keys().collect::<Vec<_>>())
            .field("requests", &state.requests.len())
            .field("logs", &state.logs.len())
            .field("routes", &self.inner.routes.borrow().len())
            .finish()
    }
}

impl FakeHost {
    /// A host that grants nothing, stores nothing and answers nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Grants secret `name` with `value`.
    pub fn with_secret(self, name: &str, value: &str) -> Self {
        self.inner
            .state
            .borrow_mut()
            .secrets
            .insert(name.to_owned(), value.to_owned());
        self
    }

    /// Stores `value` under `key` in the plugin's key-value store.
    pub fn with_kv(self, key: &str, value: impl Into<Vec<u8>>) -> Self {
        self.inner
            .state
            .borrow_mut()
            .kv
            .insert(key.to_owned(), value.into());
        self
    }

    /// Makes every key-value operation fail with `message` (a store that is
    /// down).
    pub fn with_kv_failure(self, message: &str) -> Self {
        self.inner.state.borrow_mut().kv_failure = Some(message.to_owned());
        self
    }

    /// Answers every `method` request to exactly `url` with `response`.
    pub fn on(self, method: Method, url: &str, response: FakeResponse) -> Self {
        self.push_route(Route::Fixed {
            method,
            url: url.to_owned(),
            response,
            once: false,
        })
    }

    /// Answers the next `method` request to exactly `url` with `response`,
    /// then forgets the route (script a failure before a success with
    /// `on_once(..., 503)` then `on(..., 200)`).
    pub fn on_once(self, method: Method, url: &str, response: FakeResponse) -> Self {
        self.push_route(Route::Fixed {
            method,
            url: url.to_owned(),
            response,
            once: true,
        })
    }

    /// Answers with a closure: `Some(response)` answers, `None` lets the
    /// next route try.
    pub fn on_request(
        self,
        responder: impl FnMut(&RecordedRequest) -> Option<FakeResponse> + 'static,
    ) -> Self {
        self.push_route(Route::Dynamic(Box::new(responder)))
    }

    fn push_route(self, route: Route) -> Self {
        self.inner.routes.borrow_mut().push(route);
        self
    }

    /// Runs step `step` of `plugin` with `input`, as the host would: the
    /// input goes in as JSON text and the output comes back parsed.
    pub fn invoke(
        &self,
        plugin: &Plugin,
        step: &str,
        input: serde_json::Value,
        cx: &Context,
    ) -> Result<serde_json::Value, StepError> {
        let output = self.invoke_raw(plugin, step, &input.to_string(), cx)?;
        serde_json::from_str(&output)
            .map_err(|err| StepError::fatal(format!("step {step} returned invalid JSON: {err}")))
    }

    /// Runs step `step` with raw input text (to try input that is not
    /// JSON) and returns the raw output text.
    pub fn invoke_raw(
        &self,
        plugin: &Plugin,
        step: &str,
        input: &str,
        cx: &Context,
    ) -> Result<String, StepError> {
        self.run(|| plugin.invoke(step, input, cx))
    }

    /// Runs `f` with this host installed: whatever SDK call `f` makes
    /// (HTTP, secrets, key-value, log) goes to this host.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = host::install(Rc::clone(&self.inner));
        f()
    }

    /// Every request sent so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.state.borrow().requests.clone()
    }

    /// Every request sent so far as a `METHOD URL` line, in order: a short
    /// way to assert which calls a step made, and in which order.
    pub fn request_lines(&self) -> Vec<String> {
        self.inner
            .state
            .borrow()
            .requests
            .iter()
            .map(|request| format!("{} {}", request.method, request.url))
            .collect()
    }

    /// Every line logged so far, in order.
    pub fn logs(&self) -> Vec<LogLine> {
        self.inner.state.borrow().logs.clone()
    }

    /// The value stored under `key`.
    pub fn kv_value(&self, key: &str) -> Option<Vec<u8>> {
        self.inner.state.borrow().kv.get(key).cloned()
    }

    /// Every stored key, sorted.
    pub fn kv_keys(&self) -> Vec<String> {
        self.inner.state.borrow().kv.keys().cloned().collect()
    }
}

impl Inner {
    /// The scripted outcome for `request`.
    fn respond(&self, request: &RecordedRequest) -> Outcome {
        let mut routes = self.routes.borrow_mut();
        let mut hit = None;
        for (i, route) in routes.iter_mut().enumerate() {
            match route {
                Route::Fixed {
                    method,
                    url,
                    response,
                    once,
                } => {
                    if *method == request.method && *url == request.url {
                        hit = Some((i, *once, response.outcome.clone()));
                        break;
                    }
                }
                Route::Dynamic(responder) => {
                    if let Some(response) = responder(request) {
                        hit = Some((i, false, response.outcome));
                        break;
                    }
                }
            }
        }
        match hit {
            Some((i, once, outcome)) => {
                if once {
                    routes.remove(i);
                }
                outcome
            }
            None => Outcome::Transport(format!(
                "no scripted response for {} {}",
                request.method, request.url
            )),
        }
    }
}

#[cfg(test)]
mod tests;
