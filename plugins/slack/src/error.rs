//! Slack's error strings, and what the engine should do about them.

use std::time::Duration;

use relais_plugin_sdk::StepError;

/// Slack errors worth trying again: rate limits and Slack's own failures.
const TRANSIENT: [&str; 7] = [
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
];

/// What the common errors mean, for the run log.
fn hint(error: &str) -> &'static str {
    match error {
        "channel_not_found" => "the channel does not exist, or the app cannot see it",
        "not_in_channel" => "invite the app to the channel first",
        "is_archived" | "channel_is_archived" => "the channel is archived",
        "invalid_payload" => "Slack cannot read the message (check the blocks)",
        "no_text" => "give text or blocks",
        "msg_too_long" => "the text is too long",
        "invalid_blocks" | "invalid_blocks_format" => "the blocks are not valid Block Kit",
        "user_not_found" => "the user is gone",
        "action_prohibited" | "restricted_action" | "posting_to_general_channel_denied" => {
            "a workspace admin restricts posting there"
        }
        "no_service" | "no_service_id" => "the incoming webhook was removed or disabled",
        "no_team" | "team_disabled" | "account_inactive" => "the workspace is gone or disabled",
        "invalid_auth" | "not_authed" | "invalid_token" | "token_revoked" | "token_expired" => {
            "the token was refused"
        }
        "missing_scope" => "the app lacks the chat:write scope",
        _ => "",
    }
}

/// A message Slack did not take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackError {
    /// Slack refused it for good (a documented error string): fatal.
    #[error("{target}: slack refused the message: {error}{}", hint_suffix(.error))]
    Refused {
        /// Where it was posted (`chat.postMessage`, or the webhook's
        /// secret name: never the webhook URL).
        target: String,
        /// Slack's error string (`channel_not_found`, ...).
        error: String,
    },
    /// Rate limited, or Slack failing: retryable.
    #[error("{target}: slack is unavailable (status {status}, {error})")]
    Unavailable {
        /// Where it was posted.
        target: String,
        /// The HTTP status.
        status: u16,
        /// Slack's error string, or the start of the body.
        error: String,
        /// Slack's `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// No answer, or an answer that cannot be read (a transport failure is
    /// retryable; a destination the host refuses is fatal).
    #[error("{target}: {reason}")]
    NoAnswer {
        /// Where it was posted.
        target: String,
        /// What happened (never the webhook URL).
        reason: String,
        /// Whether trying again may help.
        retryable: bool,
    },
}

fn hint_suffix(error: &str) -> String {
    match hint(error) {
        "" => String::new(),
        hint => format!(" ({hint})"),
    }
}

impl SlackError {
    /// Classifies Slack's answer: `status` and its error string.
    pub(crate) fn classify(
        target: &str,
        status: u16,
        error: &str,
        retry_after: Option<Duration>,
    ) -> Self {
        if status == 429 || status >= 500 || TRANSIENT.contains(&error) {
            Self::Unavailable {
                target: target.to_owned(),
                status,
                error: error.to_owned(),
                retry_after,
            }
        } else {
            Self::Refused {
                target: target.to_owned(),
                error: error.to_owned(),
            }
        }
    }
}

impl From<SlackError> for StepError {
    fn from(err: SlackError) -> Self {
        let message = err.to_string();
        match err {
            SlackError::Refused { .. } => StepError::Fatal(message),
            SlackError::Unavailable { retry_after, .. } => StepError::Retryable {
                message,
                retry_after,
            },
            SlackError::NoAnswer { retryable, .. } if retryable => StepError::retryable(message),
            SlackError::NoAnswer { .. } => StepError::Fatal(message),
        }
    }
}
