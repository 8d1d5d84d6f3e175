//! [`Response`] and [`Headers`].

use std::time::Duration;

use serde::de::DeserializeOwned;

use super::Method;
use super::error::{self, Error};

/// Header fields: names lowercase, in the order received, repeats kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a field (the name is lowercased).
    pub fn append(&mut self, name: &str, value: impl Into<String>) {
        self.entries.push((name.to_ascii_lowercase(), value.into()));
    }

    /// Replaces every field called `name` with one field.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.remove(name);
        self.append(name, value);
    }

    /// Removes every field called `name`.
    pub fn remove(&mut self, name: &str) {
        self.entries.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The first value of `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// Every value of `name` (any case), in order.
    pub fn get_all<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether a field called `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every `(name, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// How many fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no field.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<N: AsRef<str>, V: Into<String>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut headers = Self::new();
        for (name, value) in iter {
            headers.append(name.as_ref(), value);
        }
        headers
    }
}

/// A complete HTTP answer: status, headers and the whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    method: Method,
    url: String,
    status: u16,
    headers: Headers,
    body: Vec<u8>,
}

impl Response {
    pub(crate) fn new(
        method: Method,
        url: String,
        status: u16,
        headers: Headers,
        body: Vec<u8>,
    ) -> Self {
        Self {
            method,
            url,
            status,
            headers,
            body,
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The `Retry-After` header in seconds, whatever the status (see
    /// [`parse_retry_after`](super::parse_retry_after)); `None` when absent
    /// or not a number of seconds.
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after")
            .and_then(error::parse_retry_after)
    }

    /// The URL that was requested.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The body's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body, consumed.
    pub fn into_bytes(self) -> Vec<u8> {
        self.body
    }

    /// The body as text (invalid UTF-8 becomes `U+FFFD`).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON into `T`. A body that does not parse is
    /// [`Error::Decode`] (fatal).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|err| Error::Decode {
            url: self.url.clone(),
            reason: format!("body is not the expected JSON: {err}"),
        })
    }

    /// Whether the `content-type` says JSON (`application/json` or a
    /// `+json` type).
    pub fn is_json(&self) -> bool {
        self.header("content-type").is_some_and(|value| {
            let mime = value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        })
    }

    /// The response when its status is below 400, else
    /// [`Error::Status`]: retryable for 5xx and 429 (honouring
    /// `Retry-After` in seconds), fatal for other 4xx.
    pub fn error_for_status(self) -> Result<Self, Error> {
        if self.status >= 400 {
            Err(self.into_status_error())
        } else {
            Ok(self)
        }
    }

    /// [`Error::Status`] for this response, whatever its status: for steps
    /// that expect other statuses than the usual ones. Retryable when 5xx
    /// or 429, fatal otherwise.
    pub fn into_status_error(self) -> Error {
        let retry_after = if error::is_retryable_status(self.status) {
            self.retry_after()
        } else {
            None
        };
        Error::Status {
            method: self.method.to_string(),
            url: self.url,
            status: self.status,
            excerpt: error::excerpt(&self.body),
            retry_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response::new(
            Method::Post,
            "https://api.test/v1".into(),
            status,
            headers.iter().copied().collect(),
            body.as_bytes().to_vec(),
        )
    }

    #[test]
    fn headers_are_case_insensitive_and_ordered() {
        let mut h: Headers = [("Set-Cookie", "a=1"), ("X-Id", "7"), ("set-cookie", "b=2")]
            .into_iter()
            .collect();
        assert_eq!(h.get("SET-COOKIE"), Some("a=1"));
        assert_eq!(h.get_all("set-cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
        assert_eq!(h.iter().next(), Some(("set-cookie", "a=1")));
        h.set("x-id", "8");
        assert_eq!(h.get_all("X-ID").collect::<Vec<_>>(), ["8"]);
        h.remove("Set-Cookie");
        assert_eq!(h.len(), 1);
        assert!(!h.contains("set-cookie"));
    }

    #[test]
    fn error_for_status_boundaries() {
        for ok in [100, 200, 204, 299, 301, 304, 399] {
            assert!(response(ok, &[], "").error_for_status().is_ok(), "{ok}");
        }
        for (code, retryable) in [
            (400, false),
            (404, false),
            (428, false),
            (429, true),
            (499, false),
            (500, true),
            (503, true),
            (599, true),
        ] {
            let err = response(code, &[("retry-after", "30")], "body")
                .error_for_status()
                .unwrap_err();
            assert_eq!(err.status(), Some(code));
            assert_eq!(err.is_retryable(), retryable, "{code}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_on_any_status() {
        for status in [200, 404, 409, 503] {
            let r = response(status, &[("Retry-After", " 7 ")], "");
            assert_eq!(r.retry_after(), Some(Duration::from_secs(7)), "{status}");
        }
        assert_eq!(response(503, &[], "").retry_after(), None);
        let date = response(503, &[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], "");
        assert_eq!(date.retry_after(), None);
    }

    #[test]
    fn retry_after_only_on_retryable_statuses() {
        let err = response(429, &[("Retry-After", "12")], "")
            .error_for_status()
            .unwrap_err();
        let step: crate::StepError = err.into();
        assert_eq!(step.retry_after(), Some(Duration::from_secs(12)));
        let err = response(503, &[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], "")
            .error_for_status()
            .unwrap_err();
        assert_eq!(crate::StepError::from(err).retry_after(), None);
        let err = response(404, &[("retry-after", "12")], "").into_status_error();
        assert_eq!(crate::StepError::from(err).retry_after(), None);
    }

    #[test]
    fn status_error_message_names_method_url_status_and_body() {
        let err = response(422, &[], "{\"error\": \"amount\n too small\"}").into_status_error();
        assert_eq!(
            err.to_string(),
            "POST https://api.test/v1 returned status 422: {\"error\": \"amount too small\"}"
        );
        let err = response(500, &[], "").into_status_error();
        assert_eq!(
            err.to_string(),
            "POST https://api.test/v1 returned status 500"
        );
    }

    #[test]
    fn json_and_text() {
        let r = response(
            200,
            &[("content-type", "application/json; charset=utf-8")],
            "{\"id\": 3}",
        );
        assert!(r.is_json());
        assert_eq!(r.json::<serde_json::Value>().unwrap()["id"], 3);
        assert_eq!(r.text(), "{\"id\": 3}");
        let err = response(200, &[], "<html>")
            .json::<serde_json::Value>()
            .unwrap_err();
        assert!(matches!(err, Error::Decode { .. }));
        assert_eq!(crate::StepError::from(err).kind(), "fatal");
        assert!(response(200, &[("content-type", "application/problem+json")], "").is_json());
        assert!(!response(200, &[("content-type", "text/json-ish")], "").is_json());
        assert!(!response(200, &[], "{}").is_json());
    }
}
