//! Talking to Twilio's REST API (2010-04-01): connection settings,
//! HTTP basic auth with the account SID and auth token, and the mapping of
//! Twilio's errors onto step errors.

use std::time::Duration;

use relais_plugin_sdk::http::{self, RequestBuilder, Response};
use relais_plugin_sdk::prelude::*;
use serde::de::DeserializeOwned;

/// Where Twilio's API lives.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";
/// The secret read for the account SID by default.
pub const DEFAULT_ACCOUNT_SID_SECRET: &str = "twilio_account_sid";
/// The secret read for the auth token by default.
pub const DEFAULT_AUTH_TOKEN_SECRET: &str = "twilio_auth_token";

/// Twilio error codes that mean the request itself was malformed (the
/// workflow must change); other 400s are about the recipient or the
/// account and are fatal.
const INPUT_ERRORS: [u32; 6] = [21602, 21603, 21604, 21606, 21212, 21617];

/// How to reach Twilio. Every field has a default: leave the whole object
/// out for the live API with the secrets `twilio_account_sid` and
/// `twilio_auth_token`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// Base URL of the API (default `https://api.twilio.com`).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Name of the secret holding the account SID (`AC...`; default
    /// `twilio_account_sid`).
    #[serde(default = "default_account_sid_secret")]
    pub account_sid_secret: String,
    /// Name of the secret holding the auth token (default
    /// `twilio_auth_token`).
    #[serde(default = "default_auth_token_secret")]
    pub auth_token_secret: String,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn default_account_sid_secret() -> String {
    DEFAULT_ACCOUNT_SID_SECRET.to_owned()
}

fn default_auth_token_secret() -> String {
    DEFAULT_AUTH_TOKEN_SECRET.to_owned()
}

impl Default for Connection {
    fn default() -> Self {
        Self {
            base_url: default_base_url(),
            account_sid_secret: default_account_sid_secret(),
            auth_token_secret: default_auth_token_secret(),
        }
    }
}

/// Whether `value` is `PREFIX` followed by 32 hexadecimal digits (Twilio's
/// SIDs: `AC...`, `SM...`, `MG...`).
pub(crate) fn is_sid(value: &str, prefixes: &[&str]) -> bool {
    value.len() == 34
        && prefixes.iter().any(|prefix| value.starts_with(prefix))
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// An authenticated client for one account.
pub(crate) struct Client {
    base: String,
    account: String,
    token: String,
}

impl Client {
    /// Checks the connection and reads the credentials.
    pub(crate) fn connect(connection: &Connection) -> Result<Self, StepError> {
        let base = http::base_url("connection.base_url", &connection.base_url)?;
        let account = secrets::require(&connection.account_sid_secret)?;
        if !is_sid(&account, &["AC"]) {
            return Err(StepError::fatal(format!(
                "secret {} does not hold an account SID (AC and 32 hexadecimal digits)",
                connection.account_sid_secret
            )));
        }
        Ok(Self {
            base: base.to_owned(),
            account,
            token: secrets::require(&connection.auth_token_secret)?,
        })
    }

    /// The account's `Messages` resource path, `/2010-04-01/Accounts/AC.../Messages`.
    pub(crate) fn messages_path(&self) -> String {
        format!("/2010-04-01/Accounts/{}/Messages", self.account)
    }

    /// `GET path` with `query`, parsed.
    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<T, ApiError> {
        self.send(
            "GET",
            path,
            http::get(format!("{}{path}", self.base)).query(query),
        )
    }

    /// `POST path` with a form body, parsed.
    pub(crate) fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &[(String, String)],
    ) -> Result<T, ApiError> {
        self.send(
            "POST",
            path,
            http::post(format!("{}{path}", self.base)).form(form),
        )
    }

    fn send<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        request: RequestBuilder,
    ) -> Result<T, ApiError> {
        let response = request
            .basic(&self.account, &self.token)
            .header("accept", "application/json")
            .send()?;
        log::debug!("{method} {path} -> {}", response.status());
        if response.is_success() {
            Ok(response.json()?)
        } else {
            Err(ApiError::from_response(method, path, &response))
        }
    }
}

/// Twilio's error body: `{code, message, more_info, status}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorBody {
    code: Option<u32>,
    message: Option<String>,
    more_info: Option<String>,
}

/// A request Twilio answered with an error status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The request was malformed (a missing body, an invalid sender):
    /// the workflow must change.
    #[error("{operation}: invalid request, twilio error {code}: {message}")]
    InvalidRequest {
        /// Method and path.
        operation: String,
        /// Twilio's error code (0 when none).
        code: u32,
        /// Twilio's message and its documentation link.
        message: String,
    },
    /// Twilio refused (a recipient that opted out or cannot get SMS,
    /// refused credentials, a region not enabled, ...): fatal.
    #[error("{operation}: twilio refused (status {status}, error {code}): {message}")]
    Refused {
        /// Method and path.
        operation: String,
        /// The HTTP status.
        status: u16,
        /// Twilio's error code (0 when none).
        code: u32,
        /// Twilio's message and its documentation link.
        message: String,
    },
    /// Too many requests, or Twilio failing: retryable.
    #[error("{operation}: twilio is unavailable (status {status}): {message}")]
    Unavailable {
        /// Method and path.
        operation: String,
        /// The HTTP status.
        status: u16,
        /// Twilio's message.
        message: String,
        /// Twilio's `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// No usable answer: the transport failed, the host refused the
    /// destination, or the body was not the JSON expected.
    #[error(transparent)]
    Http(#[from] http::Error),
}

impl ApiError {
    /// Classifies an error answer.
    pub(crate) fn from_response(method: &str, path: &str, response: &Response) -> Self {
        let status = response.status();
        let body: ErrorBody = serde_json::from_slice(response.bytes()).unwrap_or_default();
        let operation = format!("{method} {path}");
        let code = body.code.unwrap_or(0);
        let mut message = body
            .message
            .unwrap_or_else(|| http::excerpt(response.bytes()));
        if let Some(link) = body.more_info {
            message = format!("{message} ({link})");
        }
        match status {
            429 | 500..=599 => Self::Unavailable {
                operation,
                status,
                message,
                retry_after: response.retry_after(),
            },
            404 => Self::InvalidRequest {
                operation,
                code,
                message,
            },
            400 if INPUT_ERRORS.contains(&code) => Self::InvalidRequest {
                operation,
                code,
                message,
            },
            _ => Self::Refused {
                operation,
                status,
                code,
                message,
            },
        }
    }

    /// Whether Twilio surely did not act on the request: it answered with
    /// a client error (as opposed to a 5xx or no answer at all, after which
    /// the message may have been sent).
    pub(crate) fn surely_not_sent(&self) -> bool {
        matches!(self, Self::InvalidRequest { .. } | Self::Refused { .. })
            || matches!(self, Self::Unavailable { status: 429, .. })
            || matches!(
                self,
                Self::Http(
                    http::Error::Refused { .. }
                        | http::Error::InvalidUrl { .. }
                        | http::Error::InvalidRequest { .. }
                )
            )
    }
}

impl From<ApiError> for StepError {
    fn from(err: ApiError) -> Self {
        let message = err.to_string();
        match err {
            ApiError::Http(err) => err.into(),
            ApiError::InvalidRequest { .. } => StepError::InvalidInput(message),
            ApiError::Refused { .. } => StepError::Fatal(message),
            ApiError::Unavailable { retry_after, .. } => StepError::Retryable {
                message,
                retry_after,
            },
        }
    }
}
