//! Outbound HTTP through the host (`wasi:http/outgoing-handler`), blocking.
//!
//! ```no_run
//! use relais_plugin_sdk::prelude::*;
//! use relais_plugin_sdk::http;
//!
//! #[derive(Deserialize)]
//! struct Customer { email: String }
//!
//! fn customer_email(id: &str) -> Result<String, StepError> {
//!     let key = secrets::require("stripe_api_key")?;
//!     let customer: Customer = http::get(format!("https://api.stripe.com/v1/customers/{id}"))
//!         .bearer(&key)
//!         .send()?            // transport error → retryable
//!         .error_for_status()? // 5xx/429 → retryable, other 4xx → fatal
//!         .json()?;
//!     Ok(customer.email)
//! }
//! # let _ = customer_email;
//! ```
//!
//! The host decides where a request may go: a destination that is not
//! granted to the plugin is [`Error::Refused`]. The host never follows
//! redirects: a 3xx comes back as it is, with its `location` header.
//!
//! For servers a plugin manages (control panels, appliances):
//! [`ServerAddress`] reads their address as users write it, and [`tls`]
//! asks the host for the operator's TLS setting when their certificate is
//! not publicly trusted.

mod address;
mod error;
mod response;
pub mod tls;
pub(crate) mod url;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

pub use address::{AddressError, ServerAddress, base_url};
pub use error::{EXCERPT_CHARS, Error, excerpt, is_retryable_status, parse_retry_after};
pub use response::{Headers, Response};

use crate::host;

/// An HTTP method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
    /// `CONNECT`
    Connect,
    /// `OPTIONS`
    Options,
    /// `TRACE`
    Trace,
    /// `PATCH`
    Patch,
    /// Any other method (a valid token, sent as given).
    Other(String),
}

impl Method {
    /// The method as sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
            Self::Connect => "CONNECT",
            Self::Options => "OPTIONS",
            Self::Trace => "TRACE",
            Self::Patch => "PATCH",
            Self::Other(other) => other,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A method name that is not an HTTP token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid http method {0:?}")]
pub struct InvalidMethod(pub String);

impl FromStr for Method {
    type Err = InvalidMethod;

    /// The standard methods in any case (`get` is `GET`); other tokens are
    /// kept as given.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text.to_ascii_uppercase().as_str() {
            "GET" => Self::Get,
            "HEAD" => Self::Head,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "DELETE" => Self::Delete,
            "CONNECT" => Self::Connect,
            "OPTIONS" => Self::Options,
            "TRACE" => Self::Trace,
            "PATCH" => Self::Patch,
            _ if is_token(text) => Self::Other(text.to_owned()),
            _ => return Err(InvalidMethod(text.to_owned())),
        })
    }
}

/// RFC 9110 token: what method and header names are made of.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// A `GET` request to `url`.
pub fn get(url: impl Into<String>) -> RequestBuilder {
    request(Method::Get, url)
}

/// A `POST` request to `url`.
pub fn post(url: impl Into<String>) -> RequestBuilder {
    request(Method::Post, url)
}

/// A `PUT` request to `url`.
pub fn put(url: impl Into<String>) -> RequestBuilder {
    request(Method::Put, url)
}

/// A `PATCH` request to `url`.
pub fn patch(url: impl Into<String>) -> RequestBuilder {
    request(Method::Patch, url)
}

/// A `DELETE` request to `url`.
pub fn delete(url: impl Into<String>) -> RequestBuilder {
    request(Method::Delete, url)
}

/// A request with any method.
pub fn request(method: Method, url: impl Into<String>) -> RequestBuilder {
    RequestBuilder {
        method,
        url: url.into(),
        headers: Headers::new(),
        body: None,
        error: None,
    }
}

/// A `(name, value)` pair for [`RequestBuilder::form`] and
/// [`RequestBuilder::query`]: `(k, v)` or `&(k, v)` with string-like parts.
pub trait FormPair {
    /// The pair as two strings.
    fn pair(&self) -> (&str, &str);
}

impl<K: AsRef<str>, V: AsRef<str>> FormPair for (K, V) {
    fn pair(&self) -> (&str, &str) {
        (self.0.as_ref(), self.1.as_ref())
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FormPair for &(K, V) {
    fn pair(&self) -> (&str, &str) {
        (self.0.as_ref(), self.1.as_ref())
    }
}

/// A request being built; [`send`](RequestBuilder::send) sends it.
///
/// Errors while building (a body that does not serialise) are kept and
/// returned by `send`, so the builder chains without `?`.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    method: Method,
    url: String,
    headers: Headers,
    body: Option<Vec<u8>>,
    error: Option<Error>,
}

impl RequestBuilder {
    /// Appends a header (repeats are kept).
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Appends `name=value` pairs to the URL's query, form-encoded.
    pub fn query<P: FormPair>(mut self, pairs: impl IntoIterator<Item = P>) -> Self {
        let pairs: Vec<P> = pairs.into_iter().collect();
        let encoded = url::form_pairs(pairs.iter().map(FormPair::pair));
        if !encoded.is_empty() {
            let (base, fragment) = match self.url.split_once('#') {
                Some((base, fragment)) => (base.to_owned(), Some(fragment.to_owned())),
                None => (self.url.clone(), None),
            };
            let sep = if base.contains('?') { "&" } else { "?" };
            self.url = format!("{base}{sep}{encoded}");
            if let Some(fragment) = fragment {
                self.url = format!("{}#{fragment}", self.url);
            }
        }
        self
    }

    /// `Authorization: Bearer TOKEN`.
    pub fn bearer(self, token: &str) -> Self {
        self.replace_header("authorization", format!("Bearer {token}"))
    }

    /// `Authorization: Basic base64(USER:PASSWORD)`.
    pub fn basic(self, user: &str, password: &str) -> Self {
        let encoded = url::base64(format!("{user}:{password}").as_bytes());
        self.replace_header("authorization", format!("Basic {encoded}"))
    }

    /// A JSON body (`content-type: application/json` unless already set).
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => self.with_body(body, "application/json"),
            Err(err) => {
                self.error = Some(Error::InvalidRequest {
                    url: self.url.clone(),
                    reason: format!("json body does not serialise: {err}"),
                });
                self
            }
        }
    }

    /// A form body (`application/x-www-form-urlencoded` unless a content
    /// type is already set).
    pub fn form<P: FormPair>(self, pairs: impl IntoIterator<Item = P>) -> Self {
        let pairs: Vec<P> = pairs.into_iter().collect();
        let body = url::form_pairs(pairs.iter().map(FormPair::pair));
        self.with_body(body.into_bytes(), "application/x-www-form-urlencoded")
    }

    /// A text body (`text/plain; charset=utf-8` unless a content type is
    /// already set).
    pub fn text(self, text: impl Into<String>) -> Self {
        self.with_body(text.into().into_bytes(), "text/plain; charset=utf-8")
    }

    /// Raw body bytes; set the content type with [`header`](Self::header).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sends the request and reads the whole answer.
    ///
    /// A body is sent with its `content-length` (a `content-length` header
    /// that does not match the body is refused); `POST`, `PUT` and `PATCH`
    /// without a body send an empty one. Any status is an `Ok` answer here; use
    /// [`Response::error_for_status`] to turn 4xx/5xx into errors.
    pub fn send(self) -> Result<Response, Error> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let parts = url::split(&self.url).map_err(|reason| Error::InvalidUrl {
            url: self.url.clone(),
            reason,
        })?;
        for (name, value) in self.headers.iter() {
            if !is_token(name) {
                return Err(Error::InvalidRequest {
                    url: self.url.clone(),
                    reason: format!("invalid header name {name:?}"),
                });
            }
            if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(Error::InvalidRequest {
                    url: self.url.clone(),
                    reason: format!("header {name} holds a line break or NUL"),
                });
            }
        }
        let mut headers = self.headers;
        let body = match (self.body, &self.method) {
            // Servers expect a length on these, even when there is no body.
            (None, Method::Post | Method::Put | Method::Patch) => Some(Vec::new()),
            (body, _) => body,
        };
        if let Some(body) = &body {
            match headers.get("content-length") {
                None => headers.append("content-length", body.len().to_string()),
                Some(given) if given.trim() == body.len().to_string() => {}
                Some(given) => {
                    return Err(Error::InvalidRequest {
                        url: self.url,
                        reason: format!(
                            "content-length {given:?} does not match the body's {} bytes",
                            body.len()
                        ),
                    });
                }
            }
        }
        let wire = host::WireRequest {
            method: &self.method,
            url: &self.url,
            parts: &parts,
            headers: &headers,
            body: body.as_deref(),
        };
        match host::http_send(&wire) {
            Ok(raw) => {
                let headers = raw
                    .headers
                    .iter()
                    .map(|(name, value)| (name, String::from_utf8_lossy(value).into_owned()))
                    .collect();
                Ok(Response::new(
                    self.method,
                    self.url,
                    raw.status,
                    headers,
                    raw.body,
                ))
            }
            Err(host::WireError::Transport(reason)) => Err(Error::Transport {
                url: self.url,
                reason,
            }),
            Err(host::WireError::Refused(reason)) => Err(Error::Refused {
                url: self.url,
                reason,
            }),
            Err(host::WireError::Invalid(reason)) => Err(Error::InvalidRequest {
                url: self.url,
                reason,
            }),
        }
    }

    fn with_body(mut self, body: Vec<u8>, content_type: &str) -> Self {
        if !self.headers.contains("content-type") {
            self.headers.append("content-type", content_type);
        }
        self.body = Some(body);
        self
    }

    fn replace_header(mut self, name: &str, value: String) -> Self {
        self.headers.set(name, value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_in_any_case() {
        assert_eq!("get".parse::<Method>(), Ok(Method::Get));
        assert_eq!("Patch".parse::<Method>(), Ok(Method::Patch));
        assert_eq!(
            "PROPFIND".parse::<Method>(),
            Ok(Method::Other("PROPFIND".into()))
        );
        assert_eq!(Method::Other("PROPFIND".into()).to_string(), "PROPFIND");
        for bad in ["", "GE T", "GET\r\n", "G(ET"] {
            assert!(bad.parse::<Method>().is_err(), "{bad:?}");
        }
    }

    #[test]
    // `&[(k, v)]` is a form callers write: it must keep compiling.
    #[allow(clippy::needless_borrows_for_generic_args)]
    fn query_appends_to_existing_query_and_keeps_fragment() {
        let r = get("https://x.test/a").query([("q", "a b"), ("n", "1")]);
        assert_eq!(r.url, "https://x.test/a?q=a+b&n=1");
        let r = get("https://x.test/a?x=1#top").query(&[("y", "2")]);
        assert_eq!(r.url, "https://x.test/a?x=1&y=2#top");
        let none: [(&str, &str); 0] = [];
        assert_eq!(get("https://x.test/").query(none).url, "https://x.test/");
    }

    #[test]
    fn body_helpers_set_content_type_once() {
        let r = post("https://x.test/").json(&serde_json::json!({"a": 1}));
        assert_eq!(r.headers.get("content-type"), Some("application/json"));
        assert_eq!(r.body.as_deref(), Some(&b"{\"a\":1}"[..]));
        let r = post("https://x.test/")
            .header("Content-Type", "application/vnd.api+json")
            .json(&1);
        assert_eq!(
            r.headers.get_all("content-type").collect::<Vec<_>>(),
            ["application/vnd.api+json"]
        );
        let r = post("https://x.test/").form([("a", "1"), ("b", "x y")]);
        assert_eq!(r.body.as_deref(), Some(&b"a=1&b=x+y"[..]));
        assert_eq!(
            r.headers.get("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        let r = post("https://x.test/").text("hi");
        assert_eq!(
            r.headers.get("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }

    #[test]
    fn auth_helpers_replace_each_other() {
        let r = get("https://x.test/")
            .bearer("t0k")
            .basic("Aladdin", "open sesame");
        assert_eq!(
            r.headers.get_all("authorization").collect::<Vec<_>>(),
            ["Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="]
        );
        let r = get("https://x.test/").bearer("t0k");
        assert_eq!(r.headers.get("Authorization"), Some("Bearer t0k"));
    }

    #[test]
    fn unserialisable_json_body_fails_at_send() {
        let mut map = std::collections::BTreeMap::new();
        map.insert(vec![1u8], 1);
        let err = post("https://x.test/").json(&map).send().unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
        assert!(err.to_string().contains("json body does not serialise"));
    }
}
