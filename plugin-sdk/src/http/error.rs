//! [`Error`]: what can go wrong with an HTTP request, and how it maps onto
//! [`StepError`].

use std::time::Duration;

use crate::StepError;

/// Longest body excerpt quoted in a status error, in characters.
pub const EXCERPT_CHARS: usize = 200;

/// An HTTP request that did not give the expected answer.
///
/// Converts into [`StepError`] (so `?` works in a step):
///
/// | variant | step error |
/// | --- | --- |
/// | [`InvalidUrl`](Error::InvalidUrl), [`InvalidRequest`](Error::InvalidRequest) | `invalid-input` |
/// | [`Transport`](Error::Transport) | `retryable` |
/// | [`Refused`](Error::Refused) | `fatal` (a grant is missing: retrying cannot help) |
/// | [`Status`](Error::Status) 5xx or 429 | `retryable`, with `Retry-After` seconds |
/// | [`Status`](Error::Status) other | `fatal` |
/// | [`Decode`](Error::Decode) | `fatal` |
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The URL is not an absolute `http`/`https` URL the host can use.
    #[error("invalid url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request cannot be built (bad header, body that does not
    /// serialise).
    #[error("invalid request to {url}: {reason}")]
    InvalidRequest {
        /// The URL of the request.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request did not get an answer (DNS, connection, TLS, timeout).
    #[error("request to {url} failed: {reason}")]
    Transport {
        /// The URL of the request.
        url: String,
        /// The transport's error.
        reason: String,
    },
    /// The host refused to let the request leave (the destination is not
    /// granted to this plugin, or its address is forbidden).
    #[error("request to {url} refused by the host: {reason}")]
    Refused {
        /// The URL of the request.
        url: String,
        /// The host's reason.
        reason: String,
    },
    /// The answer's status says the request failed.
    #[error("{method} {url} returned status {status}{}", excerpt_suffix(.excerpt))]
    Status {
        /// The request's method.
        method: String,
        /// The URL of the request.
        url: String,
        /// The answer's status code.
        status: u16,
        /// The start of the answer's body, on one line.
        excerpt: String,
        /// The answer's `Retry-After`, when given in seconds.
        retry_after: Option<Duration>,
    },
    /// The answer's body is not what the step expected.
    #[error("response from {url} cannot be read: {reason}")]
    Decode {
        /// The URL of the request.
        url: String,
        /// What is wrong with the body.
        reason: String,
    },
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

impl Error {
    /// Whether the engine may try again (transport errors, 5xx and 429).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Status { status, .. } => is_retryable_status(*status),
            _ => false,
        }
    }

    /// The status code, for [`Error::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// 5xx and 429 are worth retrying; other statuses are not.
pub fn is_retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

impl From<Error> for StepError {
    fn from(err: Error) -> Self {
        let retry_after = match &err {
            Error::Status { retry_after, .. } => *retry_after,
            _ => None,
        };
        let message = err.to_string();
        match err {
            Error::InvalidUrl { .. } | Error::InvalidRequest { .. } => {
                StepError::InvalidInput(message)
            }
            Error::Transport { .. } => StepError::retryable(message),
            Error::Status { status, .. } if is_retryable_status(status) => StepError::Retryable {
                message,
                retry_after,
            },
            Error::Refused { .. } | Error::Status { .. } | Error::Decode { .. } => {
                StepError::Fatal(message)
            }
        }
    }
}

/// The start of a body, on one line: control characters and runs of
/// whitespace become one space, at most [`EXCERPT_CHARS`] characters, `…`
/// when cut.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut line = String::new();
    let words = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty());
    for word in words {
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        if line.chars().count() > EXCERPT_CHARS {
            break;
        }
    }
    if line.chars().count() > EXCERPT_CHARS {
        let mut cut: String = line.chars().take(EXCERPT_CHARS).collect();
        cut.push('…');
        cut
    } else {
        line
    }
}

/// `Retry-After` in delta-seconds (`120`, spaces around allowed); an HTTP
/// date, a negative or fractional number or junk gives `None`.
///
/// ```
/// # use std::time::Duration;
/// use relais_plugin_sdk::http::parse_retry_after;
/// assert_eq!(parse_retry_after(" 30 "), Some(Duration::from_secs(30)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
/// ```
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, retry_after: Option<Duration>) -> Error {
        Error::Status {
            method: "GET".into(),
            url: "https://x.test/a".into(),
            status: code,
            excerpt: "oops".into(),
            retry_after,
        }
    }

    #[test]
    fn status_classes_map_onto_step_errors() {
        for code in [429, 500, 502, 503, 599] {
            let err: StepError = status(code, Some(Duration::from_secs(7))).into();
            assert_eq!(err.kind(), "retryable", "{code}");
            assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        }
        for code in [400, 401, 403, 404, 409, 422, 428, 430, 499, 600, 301, 200] {
            let err: StepError = status(code, Some(Duration::from_secs(7))).into();
            assert_eq!(err.kind(), "fatal", "{code}");
            assert_eq!(err.retry_after(), None);
        }
        let err: StepError = status(503, None).into();
        assert_eq!(
            err.message(),
            "GET https://x.test/a returned status 503: oops"
        );
    }

    #[test]
    fn other_variants_map_onto_step_errors() {
        let url = "https://x.test/".to_owned();
        let reason = "r".to_owned();
        let cases = [
            (
                Error::InvalidUrl {
                    url: url.clone(),
                    reason: reason.clone(),
                },
                "invalid-input",
            ),
            (
                Error::InvalidRequest {
                    url: url.clone(),
                    reason: reason.clone(),
                },
                "invalid-input",
            ),
            (
                Error::Transport {
                    url: url.clone(),
                    reason: reason.clone(),
                },
                "retryable",
            ),
            (
                Error::Refused {
                    url: url.clone(),
                    reason: reason.clone(),
                },
                "fatal",
            ),
            (
                Error::Decode {
                    url: url.clone(),
                    reason,
                },
                "fatal",
            ),
        ];
        for (err, kind) in cases {
            let text = err.to_string();
            assert!(text.contains("https://x.test/"), "{text}");
            let step: StepError = err.into();
            assert_eq!(step.kind(), kind, "{text}");
            assert_eq!(step.message(), text);
        }
    }

    #[test]
    fn excerpt_is_one_short_line() {
        assert_eq!(excerpt(b""), "");
        assert_eq!(
            excerpt(b"  {\"error\":\n\t\"nope\"}\r\n"),
            "{\"error\": \"nope\"}"
        );
        let long = "é".repeat(EXCERPT_CHARS + 50);
        let cut = excerpt(long.as_bytes());
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        let exact = "a".repeat(EXCERPT_CHARS);
        assert_eq!(excerpt(exact.as_bytes()), exact);
        assert_eq!(excerpt(&[0xff, b'a']), "\u{fffd}a");
    }

    #[test]
    fn retry_after_seconds_only() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("1.5"), None);
        assert_eq!(parse_retry_after(""), None);
        assert_eq!(parse_retry_after("99999999999999999999999"), None);
    }
}
