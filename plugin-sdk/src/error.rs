//! [`StepError`]: how a step fails, and what the engine should do about it.

use std::time::Duration;

/// Why a step failed. The engine reads the kind to decide what happens next:
///
/// - [`StepError::Retryable`]: a transient failure (timeout, 5xx, rate limit);
///   the engine tries again following the step's retry policy, not before
///   `retry_after` when it is set;
/// - [`StepError::Fatal`]: retrying would not help (declined card, unknown
///   account, refused credentials);
/// - [`StepError::InvalidInput`]: the input makes no sense to the step; the
///   workflow must be fixed. Never retried.
///
/// The SDK's own errors convert into it, so `?` works in a step:
///
/// ```
/// use relais_plugin_sdk::prelude::*;
///
/// fn charge(amount: i64) -> Result<i64, StepError> {
///     if amount <= 0 {
///         return Err(StepError::invalid_input(format!("amount must be positive, got {amount}")));
///     }
///     let key = secrets::require("stripe_api_key")?; // missing → fatal
///     let _ = key;
///     Ok(amount)
/// }
/// # let _ = charge;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// A transient failure: the engine may try again.
    #[error("{message}")]
    Retryable {
        /// What went wrong, for the run log.
        message: String,
        /// The earliest sensible retry, when the remote side said so.
        retry_after: Option<Duration>,
    },
    /// A permanent failure: retrying would not help.
    #[error("{0}")]
    Fatal(String),
    /// The input did not make sense to the step.
    #[error("{0}")]
    InvalidInput(String),
}

impl StepError {
    /// A transient failure, with no hint of when to retry.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::Retryable {
            message: message.into(),
            retry_after: None,
        }
    }

    /// A transient failure that should not be retried before `after`.
    pub fn retryable_after(message: impl Into<String>, after: Duration) -> Self {
        Self::Retryable {
            message: message.into(),
            retry_after: Some(after),
        }
    }

    /// A permanent failure.
    pub fn fatal(message: impl Into<String>) -> Self {
        Self::Fatal(message.into())
    }

    /// The input did not make sense to the step.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }

    /// The message, whatever the kind.
    pub fn message(&self) -> &str {
        match self {
            Self::Retryable { message, .. } => message,
            Self::Fatal(message) | Self::InvalidInput(message) => message,
        }
    }

    /// Whether the engine may try again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable { .. })
    }

    /// The retry hint of a retryable error.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Retryable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The kind as the contract names it: `retryable`, `fatal` or
    /// `invalid-input`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Retryable { .. } => "retryable",
            Self::Fatal(_) => "fatal",
            Self::InvalidInput(_) => "invalid-input",
        }
    }

    /// Prefixes the message with `context: ` and keeps the kind.
    ///
    /// ```
    /// # use relais_plugin_sdk::StepError;
    /// let err = StepError::fatal("card declined").context("charge customer cus_1");
    /// assert_eq!(err.to_string(), "charge customer cus_1: card declined");
    /// ```
    #[must_use]
    pub fn context(self, context: impl std::fmt::Display) -> Self {
        match self {
            Self::Retryable {
                message,
                retry_after,
            } => Self::Retryable {
                message: format!("{context}: {message}"),
                retry_after,
            },
            Self::Fatal(message) => Self::Fatal(format!("{context}: {message}")),
            Self::InvalidInput(message) => Self::InvalidInput(format!("{context}: {message}")),
        }
    }
}

/// A JSON error inside a step (building or reading a document) is a bug or a
/// remote side that broke its contract: retrying does not help.
impl From<serde_json::Error> for StepError {
    fn from(err: serde_json::Error) -> Self {
        Self::Fatal(format!("json error: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_the_kind() {
        assert_eq!(StepError::retryable("x").kind(), "retryable");
        assert_eq!(StepError::fatal("x").kind(), "fatal");
        assert_eq!(StepError::invalid_input("x").kind(), "invalid-input");
        let err = StepError::retryable_after("slow down", Duration::from_secs(3));
        assert!(err.is_retryable());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(err.message(), "slow down");
        assert_eq!(StepError::fatal("x").retry_after(), None);
        assert!(!StepError::invalid_input("x").is_retryable());
    }

    #[test]
    fn context_keeps_kind_and_hint() {
        let err = StepError::retryable_after("busy", Duration::from_millis(5)).context("ping");
        assert_eq!(
            err,
            StepError::Retryable {
                message: "ping: busy".into(),
                retry_after: Some(Duration::from_millis(5)),
            }
        );
        let err = StepError::invalid_input("bad").context("to");
        assert_eq!(err, StepError::InvalidInput("to: bad".into()));
    }

    #[test]
    fn json_errors_are_fatal() {
        let err: StepError = serde_json::from_str::<u8>("x").unwrap_err().into();
        assert_eq!(err.kind(), "fatal");
        assert!(err.message().starts_with("json error: "), "{err}");
    }
}
