//! `twilio`: send an SMS through Twilio's Messages API and read its
//! delivery status.
//!
//! ```yaml
//! - id: sms
//!   uses: twilio/send-sms
//!   with: { to: "{{ steps.customer.output.phone }}", from: "+33700000000", body: Payment failed }
//!   secrets: [twilio_account_sid, twilio_auth_token]
//! ```
//!
//! Every step takes an optional `connection` (`base_url`,
//! `account_sid_secret`, `auth_token_secret`); the default is the live API
//! with the secrets `twilio_account_sid` and `twilio_auth_token`.
//!
//! Twilio has no idempotency key: `send-sms` keeps a record per step
//! idempotency key in the plugin's key-value store so a retried step does
//! not text twice. Errors: malformed requests are `invalid-input`, refusals
//! (an opted-out recipient, refused credentials) `fatal`, 429/5xx and
//! connection failures `retryable`.

pub mod api;
pub mod guard;
pub mod messages;

relais_plugin_sdk::plugin! {
    name: "twilio",
    version: env!("CARGO_PKG_VERSION"),
    description: "Send SMS through Twilio and read their delivery status",
    steps: {
        "send-sms" => messages::send_sms:
            "Send an SMS or MMS (never twice for the same step)",
        "message-status" => messages::message_status:
            "Read a message's delivery status, or wait until it is sent or delivered",
    },
}

#[cfg(test)]
mod tests;
