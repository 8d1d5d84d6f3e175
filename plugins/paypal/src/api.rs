//! Talking to PayPal: connection settings, the client-credentials token
//! (kept in the plugin's key-value store until it expires), authenticated
//! requests with `PayPal-Request-Id`, and the mapping of PayPal's errors
//! onto step errors.

use std::time::Duration;

use relais_plugin_sdk::http::{self, Method, Response};
use relais_plugin_sdk::prelude::*;
use relais_plugin_sdk::{clock, keys};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Where PayPal's live API lives (the sandbox is
/// `https://api-m.sandbox.paypal.com`).
pub const DEFAULT_BASE_URL: &str = "https://api-m.paypal.com";
/// The secret read for the REST app's client id by default.
pub const DEFAULT_CLIENT_ID_SECRET: &str = "paypal_client_id";
/// The secret read for the REST app's secret by default.
pub const DEFAULT_CLIENT_SECRET_SECRET: &str = "paypal_client_secret";
/// PayPal's longest `PayPal-Request-Id`, in bytes.
pub const MAX_REQUEST_ID: usize = 108;
/// A cached token is renewed this long before PayPal says it expires.
pub const TOKEN_MARGIN_SECS: i64 = 120;

/// How to reach PayPal. Every field has a default: leave the whole object
/// out for the live API with the secrets `paypal_client_id` and
/// `paypal_client_secret`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// Base URL of the API (default `https://api-m.paypal.com`; the sandbox
    /// is `https://api-m.sandbox.paypal.com`).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Name of the secret holding the REST app's client id (default
    /// `paypal_client_id`).
    #[serde(default = "default_client_id_secret")]
    pub client_id_secret: String,
    /// Name of the secret holding the REST app's secret (default
    /// `paypal_client_secret`).
    #[serde(default = "default_client_secret_secret")]
    pub client_secret_secret: String,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn default_client_id_secret() -> String {
    DEFAULT_CLIENT_ID_SECRET.to_owned()
}

fn default_client_secret_secret() -> String {
    DEFAULT_CLIENT_SECRET_SECRET.to_owned()
}

impl Default for Connection {
    fn default() -> Self {
        Self {
            base_url: default_base_url(),
            client_id_secret: default_client_id_secret(),
            client_secret_secret: default_client_secret_secret(),
        }
    }
}

/// A token as the key-value store keeps it.
#[derive(Debug, Serialize, Deserialize)]
struct CachedToken {
    access_token: String,
    /// Unix seconds.
    expires_at: i64,
}

/// PayPal's answer to `POST /v1/oauth2/token`.
#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: i64,
}

/// An authenticated PayPal client for one invocation.
pub(crate) struct Client {
    base: String,
    client_id: String,
    client_secret: String,
    token: String,
}

impl Client {
    /// Checks the connection, reads the credentials and gets a token (the
    /// cached one while it is valid).
    pub(crate) fn connect(connection: &Connection) -> Result<Self, StepError> {
        let base = http::base_url("connection.base_url", &connection.base_url)?;
        let mut client = Self {
            base: base.to_owned(),
            client_id: secrets::require(&connection.client_id_secret)?,
            client_secret: secrets::require(&connection.client_secret_secret)?,
            token: String::new(),
        };
        client.token = match client.cached_token() {
            Some(token) => token,
            None => client.new_token()?,
        };
        Ok(client)
    }

    /// Where the token for this app and API is kept.
    fn token_key(&self) -> String {
        let key = format!("oauth-token:{}:{}", self.base, self.client_id);
        if key.len() <= relais_plugin_sdk::kv::MAX_KEY_BYTES {
            key
        } else {
            format!("oauth-token:{:016x}", keys::fnv1a64(key.as_bytes()))
        }
    }

    /// The stored token, unless it expires within the margin. A store that
    /// fails is only a missed cache.
    fn cached_token(&self) -> Option<String> {
        match kv::get_json::<CachedToken>(&self.token_key()) {
            Ok(Some(cached)) if cached.expires_at - TOKEN_MARGIN_SECS > clock::unix_now() => {
                Some(cached.access_token)
            }
            Ok(_) => None,
            Err(err) => {
                log::warn!("cannot read the cached paypal token: {err}");
                None
            }
        }
    }

    /// Asks PayPal for a token and stores it.
    fn new_token(&self) -> Result<String, ApiError> {
        let path = "/v1/oauth2/token";
        let response = http::post(format!("{}{path}", self.base))
            .basic(&self.client_id, &self.client_secret)
            .header("accept", "application/json")
            .form([("grant_type", "client_credentials")])
            .send()?;
        if !response.is_success() {
            return Err(ApiError::from_response("POST", path, &response));
        }
        let answer: TokenAnswer = response.json()?;
        let cached = CachedToken {
            expires_at: clock::unix_now() + answer.expires_in,
            access_token: answer.access_token,
        };
        if let Err(err) = kv::set_json(&self.token_key(), &cached) {
            log::warn!("cannot cache the paypal token: {err}");
        }
        log::debug!("new paypal token, valid {} s", answer.expires_in);
        Ok(cached.access_token)
    }

    /// Sends a request and returns the successful answer. `request_id`
    /// becomes `PayPal-Request-Id`. A 401 (a token revoked or expired early)
    /// gets one new token and one more try.
    pub(crate) fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        request_id: Option<&str>,
    ) -> Result<Response, ApiError> {
        let mut response = self.send_once(&method, path, body, request_id)?;
        if response.status() == 401 {
            log::info!("paypal refused the token: asking for a new one");
            self.token = self.new_token()?;
            response = self.send_once(&method, path, body, request_id)?;
        }
        log::debug!("{method} {path} -> {}", response.status());
        if response.is_success() {
            Ok(response)
        } else {
            Err(ApiError::from_response(method.as_str(), path, &response))
        }
    }

    fn send_once(
        &self,
        method: &Method,
        path: &str,
        body: Option<&Value>,
        request_id: Option<&str>,
    ) -> Result<Response, ApiError> {
        let mut request = http::request(method.clone(), format!("{}{path}", self.base))
            .bearer(&self.token)
            .header("accept", "application/json");
        if let Some(id) = request_id {
            request = request.header("paypal-request-id", request_id_for(id));
        }
        if let Some(body) = body {
            request = request.header("prefer", "return=representation").json(body);
        }
        Ok(request.send()?)
    }

    /// `GET path`, parsed.
    pub(crate) fn get<T: DeserializeOwned>(&mut self, path: &str) -> Result<T, ApiError> {
        Ok(self.send(Method::Get, path, None, None)?.json()?)
    }

    /// `POST path` with a JSON body and the step's idempotency key as
    /// `PayPal-Request-Id`.
    pub(crate) fn post(
        &mut self,
        path: &str,
        body: &Value,
        cx: &Context,
    ) -> Result<Response, ApiError> {
        self.send(Method::Post, path, Some(body), Some(&cx.idempotency_key))
    }
}

/// The step's idempotency key as PayPal takes it: as is when it fits,
/// otherwise cut and suffixed with a hash of the whole key.
pub(crate) fn request_id_for(key: &str) -> String {
    keys::fit(key, MAX_REQUEST_ID)
}

/// Checks an id that goes into a path: letters, digits and `-`, at most
/// `max` characters.
pub(crate) fn check_id(field: &str, value: &str, max: usize) -> Result<(), StepError> {
    let valid = !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(StepError::invalid_input(format!(
            "{field}: {value:?} is not a PayPal id (letters, digits and '-', at most {max})"
        )))
    }
}

/// PayPal's error body: `{name, message, debug_id, details: [{issue, field,
/// description}]}`; the token endpoint answers `{error, error_description}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorBody {
    name: Option<String>,
    message: Option<String>,
    debug_id: Option<String>,
    details: Vec<ErrorDetail>,
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorDetail {
    issue: Option<String>,
    field: Option<String>,
    description: Option<String>,
}

/// A request PayPal answered with an error status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or names something that does not exist
    /// (400, 404): the input must change.
    #[error("{operation}: invalid request ({issue}): {message}")]
    InvalidRequest {
        /// Method, path and PayPal's debug id.
        operation: String,
        /// PayPal's issue code (`INVALID_PARAMETER_VALUE`, ...).
        issue: String,
        /// PayPal's description.
        message: String,
    },
    /// The credentials or the token were refused, or lack a permission
    /// (401, 403).
    #[error("{operation}: paypal refused the credentials (status {status}, {issue}): {message}")]
    Unauthorized {
        /// Method, path and PayPal's debug id.
        operation: String,
        /// 401 or 403.
        status: u16,
        /// PayPal's issue code.
        issue: String,
        /// PayPal's description.
        message: String,
    },
    /// PayPal understood but refused (422: declined instrument, order not
    /// approved, invoice in the wrong state, ...).
    #[error("{operation}: paypal refused ({issue}): {message}")]
    Unprocessable {
        /// Method, path and PayPal's debug id.
        operation: String,
        /// PayPal's issue code (`INSTRUMENT_DECLINED`, ...).
        issue: String,
        /// PayPal's description.
        message: String,
    },
    /// Too many requests (429): retryable.
    #[error("{operation}: paypal rate limit: {message}")]
    RateLimited {
        /// Method, path and PayPal's debug id.
        operation: String,
        /// PayPal's description.
        message: String,
        /// PayPal's `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// A transient failure (5xx, 409 while a request with the same id runs).
    #[error("{operation}: paypal is unavailable (status {status}): {message}")]
    Unavailable {
        /// Method, path and PayPal's debug id.
        operation: String,
        /// The status.
        status: u16,
        /// PayPal's description.
        message: String,
        /// PayPal's `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// Any other refusal.
    #[error("{operation}: paypal failed (status {status}): {message}")]
    Failed {
        /// Method, path and PayPal's debug id.
        operation: String,
        /// The status.
        status: u16,
        /// PayPal's description.
        message: String,
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
        let debug_id = body
            .debug_id
            .clone()
            .or_else(|| response.header("paypal-debug-id").map(str::to_owned));
        let operation = match debug_id {
            Some(id) => format!("{method} {path} [{id}]"),
            None => format!("{method} {path}"),
        };
        let detail = body.details.first();
        let issue = detail
            .and_then(|d| d.issue.clone())
            .or_else(|| body.name.clone())
            .or_else(|| body.error.clone())
            .unwrap_or_else(|| "UNKNOWN".to_owned());
        let mut message = detail
            .and_then(|d| d.description.clone())
            .or_else(|| body.message.clone())
            .or_else(|| body.error_description.clone())
            .unwrap_or_else(|| http::excerpt(response.bytes()));
        if let Some(field) = detail.and_then(|d| d.field.as_deref()) {
            message = format!("{message} (field {field})");
        }
        let retry_after = response.retry_after();
        match status {
            400 | 404 => Self::InvalidRequest {
                operation,
                issue,
                message,
            },
            401 | 403 => Self::Unauthorized {
                operation,
                status,
                issue,
                message,
            },
            422 => Self::Unprocessable {
                operation,
                issue,
                message,
            },
            429 => Self::RateLimited {
                operation,
                message,
                retry_after,
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
                message,
            },
        }
    }

    /// PayPal's issue code, when it gave one.
    pub(crate) fn issue(&self) -> Option<&str> {
        match self {
            Self::InvalidRequest { issue, .. }
            | Self::Unauthorized { issue, .. }
            | Self::Unprocessable { issue, .. } => Some(issue),
            _ => None,
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
            ApiError::Unauthorized { .. }
            | ApiError::Unprocessable { .. }
            | ApiError::Failed { .. } => StepError::Fatal(message),
        }
    }
}
