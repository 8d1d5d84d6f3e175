//! The error every verification returns.

use thiserror::Error;

/// Why a webhook request was refused.
///
/// The messages name the header and the check that failed. None of them
/// contains the secret, the expected signature or the value that was sent,
/// so they are safe to log; the HTTP edge still answers the client with a
/// generic 401.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// The header carrying the signature or token is absent.
    #[error("missing header `{header}`")]
    MissingHeader {
        /// The header's name, lowercase.
        header: String,
    },
    /// The header is present but cannot be read.
    #[error("malformed header `{header}`: {reason}")]
    MalformedHeader {
        /// The header's name, lowercase.
        header: String,
        /// What is wrong with it, in words that never quote the value.
        reason: &'static str,
    },
    /// The header is well formed but no signature in it matches the body.
    #[error("no signature in header `{header}` matches the request body")]
    NoMatchingSignature {
        /// The header's name, lowercase.
        header: String,
    },
    /// The signature matches but its timestamp is outside the tolerance.
    #[error(
        "stale timestamp in header `{header}`: signed {}, tolerance is {tolerance_secs} s",
        describe_age(.age_secs)
    )]
    StaleTimestamp {
        /// The header's name, lowercase.
        header: String,
        /// `now` minus the signed timestamp, in seconds: negative when the
        /// timestamp is in the future.
        age_secs: i64,
        /// The tolerance that was exceeded, in seconds.
        tolerance_secs: u64,
    },
    /// The token does not match the shared secret.
    #[error("the token in header `{header}` does not match")]
    TokenMismatch {
        /// The header's name, lowercase.
        header: String,
    },
    /// The configured secret is empty, which would accept forgeries.
    #[error("the configured webhook secret is empty")]
    EmptySecret,
}

impl VerifyError {
    /// A short stable name for the failed check, for metrics labels:
    /// `missing_header`, `malformed_header`, `bad_signature`, `stale`,
    /// `bad_token` or `empty_secret`.
    pub fn kind(&self) -> &'static str {
        match self {
            VerifyError::MissingHeader { .. } => "missing_header",
            VerifyError::MalformedHeader { .. } => "malformed_header",
            VerifyError::NoMatchingSignature { .. } => "bad_signature",
            VerifyError::StaleTimestamp { .. } => "stale",
            VerifyError::TokenMismatch { .. } => "bad_token",
            VerifyError::EmptySecret => "empty_secret",
        }
    }
}

fn describe_age(age_secs: &i64) -> String {
    if *age_secs >= 0 {
        format!("{age_secs} s ago")
    } else {
        format!("{} s in the future", age_secs.unsigned_abs())
    }
}
