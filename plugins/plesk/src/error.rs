//! [`PleskError`]: how a Plesk call fails, and what the engine should do
//! about it.
//!
//! The REST API answers errors with an HTTP status and the document's
//! `ErrorResponse` (`{"code", "message"}`): 400 means the request was
//! refused (the workflow's input to fix), 404 that the object does not
//! exist. XML-RPC answers HTTP 200 and puts `<status>error</status>`,
//! `<errcode>` and `<errtext>` in the operation's result (docs.plesk.com,
//! XML API "Packet structure"). Free-text reasons are sorted by wording,
//! as for WHM.

use relais_plugin_sdk::StepError;
use relais_plugin_sdk::http;

/// XML-RPC's code for "object not found" (docs.plesk.com, XML API "Error
/// codes").
pub(crate) const XML_NOT_FOUND: u32 = 1013;

/// A Plesk call that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum PleskError {
    /// The REST API refused the request or found nothing.
    #[error("plesk {method} {path} returned {status}: {message}")]
    Api {
        /// The method.
        method: String,
        /// The path, from `/api/v2`.
        path: String,
        /// The HTTP status.
        status: u16,
        /// `message` of the error document, or the start of the body.
        message: String,
    },
    /// An XML-RPC operation reported an error.
    #[error("plesk xml api {operation} failed{}: {text}", code_suffix(*.code))]
    Xml {
        /// The operation, e.g. `webspace switch-subscription`.
        operation: String,
        /// `errcode`.
        code: Option<u32>,
        /// `errtext`.
        text: String,
    },
    /// Plesk refused the credentials (HTTP 401/403, or XML-RPC's system
    /// error on authentication).
    #[error("plesk refused the credentials for {what} ({detail}): check {hint}")]
    Auth {
        /// The request.
        what: String,
        /// The status or error text.
        detail: String,
        /// Which setting to check.
        hint: String,
    },
    /// The answer is not the API's (a login page, a proxy error page).
    #[error(
        "the answer to {what} is not plesk's (http {status}{}): check that connection.url is the Plesk address (port 8443)",
        detail_suffix(.detail)
    )]
    NotPlesk {
        /// The request.
        what: String,
        /// The HTTP status.
        status: u16,
        /// What was found instead.
        detail: String,
    },
    /// The request got no usable answer (transport, 5xx, 429, refused by
    /// the host).
    #[error(transparent)]
    Http(#[from] http::Error),
}

fn code_suffix(code: Option<u32>) -> String {
    code.map(|c| format!(" (code {c})")).unwrap_or_default()
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl PleskError {
    /// Whether this says the object does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Api { status, .. } => *status == 404,
            Self::Xml { code, .. } => *code == Some(XML_NOT_FOUND),
            _ => false,
        }
    }

    /// The error's message (REST `message`, XML-RPC `errtext`).
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Api { message, .. } => Some(message),
            Self::Xml { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// Whether free text says a value was refused.
fn says_input(text: &str) -> bool {
    let text = text.to_lowercase();
    [
        "invalid",
        "not valid",
        "incorrect",
        "must ",
        "too long",
        "too short",
        "too weak",
        "required",
        "missing",
        "already exists",
        "already in use",
        "is used",
        "not allowed",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// Whether free text says the server is busy.
fn says_transient(text: &str) -> bool {
    let text = text.to_lowercase();
    [
        "try again",
        "temporarily",
        "timeout",
        "timed out",
        "in progress",
    ]
    .iter()
    .any(|w| text.contains(w))
}

impl From<PleskError> for StepError {
    fn from(err: PleskError) -> Self {
        match err {
            PleskError::Http(inner) => inner.into(),
            PleskError::Api { status, .. } if status == 400 || status == 422 => {
                StepError::invalid_input(err.to_string())
            }
            PleskError::Xml { ref text, code, .. } if code != Some(XML_NOT_FOUND) => {
                if says_transient(text) {
                    StepError::retryable(err.to_string())
                } else if says_input(text) {
                    StepError::invalid_input(err.to_string())
                } else {
                    StepError::fatal(err.to_string())
                }
            }
            other => StepError::fatal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_statuses_and_xml_texts_become_step_errors() {
        let api = |status| PleskError::Api {
            method: "POST".into(),
            path: "/clients".into(),
            status,
            message: "Account with this name already exists".into(),
        };
        assert_eq!(
            StepError::from(api(400)),
            StepError::invalid_input(
                "plesk POST /clients returned 400: Account with this name already exists"
            )
        );
        assert_eq!(StepError::from(api(404)).kind(), "fatal");
        assert_eq!(StepError::from(api(409)).kind(), "fatal");
        assert!(api(404).is_not_found());
        assert!(!api(400).is_not_found());

        let xml = |code, text: &str| PleskError::Xml {
            operation: "webspace switch-subscription".into(),
            code,
            text: text.into(),
        };
        let err = StepError::from(xml(Some(1013), "Subscription does not exist"));
        assert_eq!(
            err,
            StepError::fatal(
                "plesk xml api webspace switch-subscription failed (code 1013): Subscription does not exist"
            )
        );
        assert_eq!(
            StepError::from(xml(Some(1019), "Invalid plan GUID")).kind(),
            "invalid-input"
        );
        assert!(
            StepError::from(xml(None, "Another operation is in progress, try again"))
                .is_retryable()
        );
        // A locked subscription is one customised away from its plan: not busy.
        assert_eq!(
            StepError::from(xml(Some(1023), "The subscription is locked")).kind(),
            "fatal"
        );
        assert_eq!(
            StepError::from(xml(Some(1023), "Operation failed")).kind(),
            "fatal"
        );
        let auth = PleskError::Auth {
            what: "GET /server".into(),
            detail: "http 401".into(),
            hint: "the API key in secret plesk_api_key".into(),
        };
        assert_eq!(
            StepError::from(auth),
            StepError::fatal(
                "plesk refused the credentials for GET /server (http 401): check the API key in secret plesk_api_key"
            )
        );
    }
}
