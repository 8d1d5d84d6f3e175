//! The ways a message leaves: the host's SMTP relays and three HTTP APIs.
//! Each returns what the provider said, or a step error whose kind says
//! whether trying again may help.

mod mailgun;
mod postmark;
mod sendgrid;
mod smtp;

use std::collections::BTreeMap;

use relais_plugin_sdk::http::Response;
use relais_plugin_sdk::mail::Mailbox;
use relais_plugin_sdk::prelude::*;

use crate::input::Provider;

/// A message ready to go: checked addresses, rendered content.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Sender.
    pub from: Mailbox,
    /// Recipients.
    pub to: Vec<Mailbox>,
    /// Copies.
    pub cc: Vec<Mailbox>,
    /// Blind copies.
    pub bcc: Vec<Mailbox>,
    /// Where answers go.
    pub reply_to: Vec<Mailbox>,
    /// Subject, one line.
    pub subject: String,
    /// Plain-text body.
    pub text: Option<String>,
    /// HTML body.
    pub html: Option<String>,
    /// Extra header fields.
    pub headers: BTreeMap<String, String>,
    /// Statistics tag.
    pub tag: Option<String>,
    /// `Message-ID` derived from the idempotency key (SMTP).
    pub message_id: String,
}

/// What a provider answered when it accepted the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The provider's id for the message, when it gives one.
    pub message_id: Option<String>,
    /// The provider's answer, in short.
    pub response: String,
}

/// Hands `message` to `provider`.
pub fn deliver(provider: &Provider, message: &Outgoing) -> Result<Accepted, StepError> {
    match provider {
        Provider::Smtp(p) => smtp::deliver(p, message),
        Provider::Postmark(p) => postmark::deliver(p, message),
        Provider::Sendgrid(p) => sendgrid::deliver(p, message),
        Provider::Mailgun(p) => mailgun::deliver(p, message),
    }
}

/// `Name <address>` with the name quoted when it holds specials (RFC 5322
/// `quoted-string`); the providers encode non-ASCII names themselves.
pub fn display(m: &Mailbox) -> String {
    match &m.name {
        None => m.address.clone(),
        Some(name) => {
            let plain = name
                .chars()
                .all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '\'');
            if plain {
                format!("{name} <{}>", m.address)
            } else {
                let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
                format!("\"{escaped}\" <{}>", m.address)
            }
        }
    }
}

/// `https://x/` + `/v3/...` without a doubled slash.
pub fn join(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

/// A failed answer as a step error: 429 and 5xx retryable (with
/// `Retry-After`), 401/403 fatal as refused credentials, other statuses
/// fatal with the vendor's own message when `explain` finds one.
pub fn status_error(
    label: &str,
    response: Response,
    explain: impl Fn(&serde_json::Value) -> Option<String>,
) -> StepError {
    let status = response.status();
    let vendor = response
        .json::<serde_json::Value>()
        .ok()
        .and_then(|v| explain(&v));
    let base = StepError::from(response.into_status_error());
    let detail = match (status, vendor) {
        (401 | 403, Some(v)) => format!("credentials refused ({v})"),
        (401 | 403, None) => "credentials refused".to_owned(),
        (_, Some(v)) => v,
        (_, None) => return base.context(label),
    };
    let message = format!("{label}: status {status}: {detail}");
    match base {
        StepError::Retryable { retry_after, .. } => StepError::Retryable {
            message,
            retry_after,
        },
        _ => StepError::fatal(message),
    }
}
