//! Talking to Stripe: connection settings, authenticated requests with the
//! step's idempotency key, ids, and the mapping of Stripe's errors onto step
//! errors.

use std::time::Duration;

use relais_plugin_sdk::http::{self, RequestBuilder, Response};
use relais_plugin_sdk::keys;
use relais_plugin_sdk::prelude::*;
use serde::de::DeserializeOwned;

/// Where the Stripe API lives.
pub const DEFAULT_BASE_URL: &str = "https://api.stripe.com";
/// The secret read for the API key when the connection names none.
pub const DEFAULT_API_KEY_SECRET: &str = "stripe_api_key";
/// The API version every request pins (`Stripe-Version`): the shapes this
/// plugin reads are the ones of this version, whatever the account's default.
pub const API_VERSION: &str = "2024-04-10";
/// Stripe's longest `Idempotency-Key`, in bytes.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// How to reach Stripe. Every field has a default: leave the whole object
/// out to use the live API with the secret `stripe_api_key`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// Base URL of the API (default `https://api.stripe.com`).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Name of the secret that holds the secret or restricted API key
    /// (default `stripe_api_key`).
    #[serde(default = "default_api_key_secret")]
    pub api_key_secret: String,
    /// A connected account to act for (`acct_...`, sent as
    /// `Stripe-Account`).
    #[serde(default)]
    pub account: Option<String>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn default_api_key_secret() -> String {
    DEFAULT_API_KEY_SECRET.to_owned()
}

impl Default for Connection {
    fn default() -> Self {
        Self {
            base_url: default_base_url(),
            api_key_secret: default_api_key_secret(),
            account: None,
        }
    }
}

/// Form fields of a request, in order (`metadata[plan]`, `expand[]`, ...).
pub(crate) type Form = Vec<(String, String)>;

/// An authenticated Stripe client for one invocation.
pub(crate) struct Client {
    base: String,
    key: String,
    account: Option<String>,
}

impl Client {
    /// Checks the connection and reads the API key secret.
    pub(crate) fn connect(connection: &Connection) -> Result<Self, StepError> {
        let base = http::base_url("connection.base_url", &connection.base_url)?;
        if let Some(account) = &connection.account {
            check_id("connection.account", account, &["acct_"])?;
        }
        let key = secrets::require(&connection.api_key_secret)?;
        Ok(Self {
            base: base.to_owned(),
            key,
            account: connection.account.clone(),
        })
    }

    /// `GET path?query`.
    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<T, ApiError> {
        let request = http::get(format!("{}{path}", self.base)).query(query);
        self.send("GET", path, request)
    }

    /// `POST path` with a form body and `Idempotency-Key` set from the
    /// step's key: a retry of the step replays Stripe's first answer instead
    /// of acting twice.
    pub(crate) fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &Form,
        cx: &Context,
    ) -> Result<T, ApiError> {
        let request = http::post(format!("{}{path}", self.base))
            .header("idempotency-key", idempotency_key(&cx.idempotency_key))
            .form(form);
        self.send("POST", path, request)
    }

    /// `DELETE path` with a form body (Stripe ignores idempotency keys on
    /// `DELETE`: deleting twice is deleting once).
    pub(crate) fn delete<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &Form,
    ) -> Result<T, ApiError> {
        let request = http::delete(format!("{}{path}", self.base)).form(form);
        self.send("DELETE", path, request)
    }

    fn send<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        request: RequestBuilder,
    ) -> Result<T, ApiError> {
        let mut request = request
            .bearer(&self.key)
            .header("stripe-version", API_VERSION);
        if let Some(account) = &self.account {
            request = request.header("stripe-account", account.clone());
        }
        let response = request.send()?;
        log::debug!("{method} {path} -> {}", response.status());
        if response.is_success() {
            Ok(response.json()?)
        } else {
            Err(ApiError::from_response(method, path, &response))
        }
    }
}

/// The step's idempotency key as Stripe takes it: as is when it fits,
/// otherwise cut and suffixed with a hash of the whole key, so two long keys
/// that share a prefix stay distinct.
pub(crate) fn idempotency_key(key: &str) -> String {
    keys::fit(key, MAX_IDEMPOTENCY_KEY)
}

/// Checks that `value` looks like a Stripe id with one of `prefixes`, so a
/// wrong id fails before any request (and cannot reach another path).
pub(crate) fn check_id(field: &str, value: &str, prefixes: &[&str]) -> Result<(), StepError> {
    let charset = !value.is_empty()
        && value.len() <= 255
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !charset || !prefixes.iter().any(|prefix| value.starts_with(prefix)) {
        return Err(StepError::invalid_input(format!(
            "{field}: {value:?} is not a Stripe id starting with {}",
            prefixes.join(" or ")
        )));
    }
    Ok(())
}

/// Stripe's error envelope: `{"error": {"type", "code", "decline_code", ...}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Envelope {
    error: ErrorBody,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<String>,
    decline_code: Option<String>,
    message: Option<String>,
    param: Option<String>,
}

/// A request Stripe answered with an error status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The card was declined (HTTP 402, `card_error`): fatal, with the
    /// decline code.
    #[error("{operation}: card declined ({decline_code}): {message}")]
    CardDeclined {
        /// Method, path and Stripe's request id.
        operation: String,
        /// `decline_code` when Stripe gave one, else the error `code`.
        decline_code: String,
        /// Stripe's message.
        message: String,
    },
    /// Too many requests (HTTP 429): retryable, after `retry_after`.
    #[error("{operation}: stripe rate limit ({code}): {message}")]
    RateLimited {
        /// Method, path and Stripe's request id.
        operation: String,
        /// Stripe's error code (`rate_limit`, `lock_timeout`).
        code: String,
        /// Stripe's message.
        message: String,
        /// Stripe's `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// The request was refused as invalid (HTTP 400/404,
    /// `invalid_request_error`): the input must change.
    #[error("{operation}: invalid request{}: {message}", param_suffix(.param))]
    InvalidRequest {
        /// Method, path and Stripe's request id.
        operation: String,
        /// Stripe's error code (`resource_missing`, ...).
        code: String,
        /// The parameter Stripe blames.
        param: Option<String>,
        /// Stripe's message.
        message: String,
    },
    /// The API key was refused or lacks a permission (HTTP 401/403).
    #[error("{operation}: stripe refused the api key (status {status}): {message}")]
    Unauthorized {
        /// Method, path and Stripe's request id.
        operation: String,
        /// 401 or 403.
        status: u16,
        /// Stripe's message.
        message: String,
    },
    /// A transient failure Stripe says may be retried.
    #[error("{operation}: stripe is unavailable (status {status}): {message}")]
    Unavailable {
        /// Method, path and Stripe's request id.
        operation: String,
        /// The status.
        status: u16,
        /// Stripe's message.
        message: String,
        /// Stripe's `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// A failure that retrying would not mend.
    #[error("{operation}: stripe failed (status {status}, {code}): {message}")]
    Failed {
        /// Method, path and Stripe's request id.
        operation: String,
        /// The status.
        status: u16,
        /// Stripe's error code, or `unknown`.
        code: String,
        /// Stripe's message, or why retrying is pointless.
        message: String,
    },
    /// No usable answer: the transport failed, the host refused the
    /// destination, or the body was not the JSON expected.
    #[error(transparent)]
    Http(#[from] http::Error),
}

fn param_suffix(param: &Option<String>) -> String {
    param
        .as_ref()
        .map(|param| format!(" (parameter {param})"))
        .unwrap_or_default()
}

impl ApiError {
    /// Classifies an error answer, following Stripe's own libraries: a
    /// `Stripe-Should-Retry` header decides when present; a 500 to a `POST`
    /// is not retried, because Stripe saved that answer under the
    /// idempotency key and would replay it.
    pub(crate) fn from_response(method: &str, path: &str, response: &Response) -> Self {
        let status = response.status();
        let body = serde_json::from_slice::<Envelope>(response.bytes())
            .unwrap_or_default()
            .error;
        let operation = match response.header("request-id") {
            Some(id) => format!("{method} {path} [{id}]"),
            None => format!("{method} {path}"),
        };
        let message = body
            .message
            .clone()
            .unwrap_or_else(|| http::excerpt(response.bytes()));
        let code = body.code.clone().unwrap_or_else(|| "unknown".to_owned());
        let kind = body.kind.as_deref().unwrap_or_default();
        let retry_after = response.retry_after();
        let should_retry = response
            .header("stripe-should-retry")
            .map(|value| value.trim().eq_ignore_ascii_case("true"));

        if status == 402 || kind == "card_error" {
            return Self::CardDeclined {
                operation,
                decline_code: body.decline_code.unwrap_or(code),
                message,
            };
        }
        if status == 429 {
            return Self::RateLimited {
                operation,
                code,
                message,
                retry_after,
            };
        }
        match should_retry {
            Some(true) => {
                return Self::Unavailable {
                    operation,
                    status,
                    message,
                    retry_after,
                };
            }
            Some(false) if !matches!(status, 400 | 404) => {
                return Self::Failed {
                    operation,
                    status,
                    code,
                    message: format!("{message} (stripe advises not to retry)"),
                };
            }
            _ => {}
        }
        match status {
            400 | 404 => Self::InvalidRequest {
                operation,
                code,
                param: body.param,
                message,
            },
            401 | 403 => Self::Unauthorized {
                operation,
                status,
                message,
            },
            409 if kind == "idempotency_error" => Self::Failed {
                operation,
                status,
                code,
                message,
            },
            500 if method == "POST" => Self::Failed {
                operation,
                status,
                code,
                message: format!(
                    "{message} (the outcome is unknown and a retry with the same idempotency key \
                     would replay this answer: check the Stripe dashboard)"
                ),
            },
            409 | 500..=599 => Self::Unavailable {
                operation,
                status,
                message,
                retry_after,
            },
            _ => Self::Failed {
                operation,
                status,
                code,
                message,
            },
        }
    }

    /// Stripe's error code (`resource_missing`, `card_declined`, ...).
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            Self::CardDeclined { decline_code, .. } => Some(decline_code),
            Self::RateLimited { code, .. }
            | Self::InvalidRequest { code, .. }
            | Self::Failed { code, .. } => Some(code),
            Self::Unauthorized { .. } | Self::Unavailable { .. } | Self::Http(_) => None,
        }
    }
}

impl From<ApiError> for StepError {
    fn from(err: ApiError) -> Self {
        let message = err.to_string();
        match err {
            ApiError::Http(err) => err.into(),
            ApiError::RateLimited { retry_after, .. }
            | ApiError::Unavailable { retry_after, .. } => StepError::Retryable {
                message,
                retry_after,
            },
            ApiError::InvalidRequest { .. } => StepError::InvalidInput(message),
            ApiError::CardDeclined { .. }
            | ApiError::Unauthorized { .. }
            | ApiError::Failed { .. } => StepError::Fatal(message),
        }
    }
}
