//! Errors: what the server's parts return, and the JSON error answer every
//! route sends (`{"error": {"code": "...", "message": "..."}}`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use relais_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a [`crate::Backend`] can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// No workflow with this id is loaded.
    #[error("workflow {id} not found")]
    WorkflowNotFound {
        /// The id asked for.
        id: String,
    },
    /// A manual run's input does not match the workflow's input schema.
    #[error("invalid input: {}", problems.join("; "))]
    InvalidInput {
        /// Every problem found.
        problems: Vec<String>,
    },
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else the engine reports.
    #[error("{0}")]
    Engine(String),
}

/// An error answer: a status, a stable code and a message for the client.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code (`not_found`, `unauthorized`, ...).
    pub code: &'static str,
    /// A human-readable explanation.
    pub message: String,
}

/// The JSON body of every error answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code.
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 500 `internal`: the detail is logged, the client gets a generic text.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error (see the server log)",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::RunNotFound { .. } => ApiError::not_found(e.to_string()),
            StoreError::RunState { .. } => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            StoreError::Invalid { .. } => ApiError::bad_request(e.to_string()),
            other => ApiError::internal(other),
        }
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> ApiError {
        match e {
            BackendError::WorkflowNotFound { .. } => ApiError::not_found(e.to_string()),
            BackendError::InvalidInput { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                e.to_string(),
            ),
            BackendError::Store(s) => s.into(),
            BackendError::Engine(m) => ApiError::internal(m),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
