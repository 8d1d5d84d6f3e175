//! [`WhmError`]: how a WHM call fails, and what the engine should do about
//! it.
//!
//! WHM answers HTTP 200 even when a function fails: the envelope's
//! `metadata.result` is `0` and `metadata.reason` says why
//! (api.docs.cpanel.net/whm/introduction). The reason is free text, so it
//! is sorted by wording: a lock or a busy server is worth retrying, a
//! refused permission or a missing account is not, a value WHM rejects is
//! the workflow's input to fix.

use relais_plugin_sdk::StepError;
use relais_plugin_sdk::http;

/// A WHM call that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum WhmError {
    /// WHM ran the function and reported a failure (`metadata.result: 0`).
    #[error("whm {function} failed: {reason}")]
    Failed {
        /// The WHM function.
        function: String,
        /// WHM's `metadata.reason`.
        reason: String,
    },
    /// A UAPI function run through `uapi_cpanel` reported a failure
    /// (`data.uapi.status: 0`).
    #[error("uapi {module}::{function} for {user} failed: {reason}")]
    UapiFailed {
        /// The cPanel user the function ran as.
        user: String,
        /// The UAPI module.
        module: String,
        /// The UAPI function.
        function: String,
        /// The function's `errors`, joined.
        reason: String,
    },
    /// WHM refused the credentials (HTTP 401 or 403).
    #[error(
        "whm refused the credentials of {username} for {function} (http {status}){}: check connection.username and the token in secret {secret}",
        detail_suffix(.detail)
    )]
    Auth {
        /// The WHM function.
        function: String,
        /// The HTTP status.
        status: u16,
        /// The WHM user the token belongs to.
        username: String,
        /// The name of the secret holding the token.
        secret: String,
        /// The start of the answer.
        detail: String,
    },
    /// The answer is not a WHM API 1 envelope (a login page, a proxy's
    /// error page, a redirect).
    #[error(
        "the answer to whm {function} is not a whm api 1 reply (http {status}{}): check that connection.url is the WHM address (port 2087)",
        detail_suffix(.detail)
    )]
    NotWhm {
        /// The WHM function.
        function: String,
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

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl WhmError {
    /// WHM's reason for a failed function, if that is what happened.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Failed { reason, .. } | Self::UapiFailed { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// What a failure reason from WHM calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReasonKind {
    /// A busy server or a held lock: try again later.
    Transient,
    /// The workflow sent a value WHM will not take.
    Input,
    /// Anything else: a missing account, a refused permission.
    Permanent,
}

/// Sorts a WHM failure reason by its wording.
pub(crate) fn classify(reason: &str) -> ReasonKind {
    let reason = reason.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| reason.contains(w));
    if has(&[
        "try again",
        "temporarily",
        "timed out",
        "timeout",
        "obtain a lock",
        "obtain the lock",
        "obtain lock",
        "acquire a lock",
        "acquire the lock",
        "acquire lock",
        "is busy",
        "currently running",
        "in progress",
    ]) {
        ReasonKind::Transient
    } else if has(&[
        "permission",
        "access denied",
        "not permitted",
        "not allowed to",
        "you do not have",
        "does not have",
        "not authorized",
        "privilege",
        "does not exist",
        "not found",
        "no such",
        "no account",
    ]) {
        ReasonKind::Permanent
    } else if has(&[
        "invalid",
        "not valid",
        "not a valid",
        "must ",
        "cannot be",
        "can not be",
        "too long",
        "too short",
        "too weak",
        "strength",
        "is required",
        "missing",
        "reserved",
        "already exists",
        "already in use",
        "already owns",
    ]) {
        ReasonKind::Input
    } else {
        ReasonKind::Permanent
    }
}

impl From<WhmError> for StepError {
    fn from(err: WhmError) -> Self {
        let kind = match &err {
            WhmError::Failed { reason, .. } | WhmError::UapiFailed { reason, .. } => {
                classify(reason)
            }
            _ => ReasonKind::Permanent,
        };
        match (err, kind) {
            (WhmError::Http(inner), _) => inner.into(),
            (err, ReasonKind::Transient) => StepError::retryable(err.to_string()),
            (err, ReasonKind::Input) => StepError::invalid_input(err.to_string()),
            (err, ReasonKind::Permanent) => StepError::fatal(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_sorted_by_wording() {
        for (reason, kind) in [
            (
                "Unable to obtain a lock on the account",
                ReasonKind::Transient,
            ),
            (
                "The system is busy. Try again later.",
                ReasonKind::Transient,
            ),
            (
                "Permission denied: you do not have the ACL",
                ReasonKind::Permanent,
            ),
            ("User does not exist", ReasonKind::Permanent),
            ("The account “bob” does not exist.", ReasonKind::Permanent),
            ("bob is not a valid username", ReasonKind::Input),
            (
                "The password is too weak (strength 12, 65 required)",
                ReasonKind::Input,
            ),
            (
                "Sorry, a group for that username already exists.",
                ReasonKind::Input,
            ),
            (
                "example.com is already in use by another account",
                ReasonKind::Input,
            ),
            ("Something odd happened", ReasonKind::Permanent),
        ] {
            assert_eq!(classify(reason), kind, "{reason}");
        }
    }

    #[test]
    fn step_errors_keep_the_reason() {
        let failed = |reason: &str| WhmError::Failed {
            function: "createacct".into(),
            reason: reason.into(),
        };
        let err = StepError::from(failed("bob is not a valid username"));
        assert_eq!(
            err,
            StepError::invalid_input("whm createacct failed: bob is not a valid username")
        );
        assert!(StepError::from(failed("Could not acquire the lock.")).is_retryable());
        assert_eq!(StepError::from(failed("Access denied")).kind(), "fatal");
        let auth = WhmError::Auth {
            function: "listaccts".into(),
            status: 403,
            username: "root".into(),
            secret: "whm_api_token".into(),
            detail: "Access denied".into(),
        };
        assert_eq!(
            StepError::from(auth),
            StepError::fatal(
                "whm refused the credentials of root for listaccts (http 403): Access denied: \
                 check connection.username and the token in secret whm_api_token"
            )
        );
    }
}
