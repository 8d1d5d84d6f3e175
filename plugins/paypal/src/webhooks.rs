//! Step `verify-webhook-signature`: asks PayPal whether a webhook it
//! delivered is genuine, before a workflow acts on it.

use std::collections::BTreeMap;

use relais_plugin_sdk::prelude::*;
use serde_json::{Value, json};

use crate::api::Client;
use crate::api::Connection;

/// The headers PayPal signs a webhook delivery with, and the fields of the
/// verification request they fill.
const SIGNATURE_HEADERS: [(&str, &str); 5] = [
    ("paypal-auth-algo", "auth_algo"),
    ("paypal-cert-url", "cert_url"),
    ("paypal-transmission-id", "transmission_id"),
    ("paypal-transmission-sig", "transmission_sig"),
    ("paypal-transmission-time", "transmission_time"),
];

/// Input of `verify-webhook-signature`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyIn {
    /// The webhook's id, as the PayPal developer dashboard shows it.
    pub webhook_id: String,
    /// The delivery's HTTP headers (any case), for instance
    /// `{{ trigger.headers }}`.
    pub headers: BTreeMap<String, String>,
    /// The delivery's body, parsed (`{{ trigger.body }}`).
    pub event: Value,
    /// Fail the step (fatal) when the signature is not valid (default
    /// `true`); with `false` the step succeeds with `verified: false`.
    #[serde(default = "default_true")]
    pub fail_if_invalid: bool,
    /// How to reach PayPal (default: the live API, secrets
    /// `paypal_client_id` and `paypal_client_secret`).
    #[serde(default)]
    pub connection: Connection,
}

fn default_true() -> bool {
    true
}

/// Output of `verify-webhook-signature`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VerifyOut {
    /// Whether PayPal vouches for the delivery.
    pub verified: bool,
    /// `SUCCESS` or `FAILURE` (also `FAILURE` when a signature header is
    /// missing or the body is not a JSON object: PayPal is then not asked).
    pub verification_status: String,
    /// The event's id, when the body has one.
    pub event_id: Option<String>,
    /// The event's type (`PAYMENT.CAPTURE.COMPLETED`, ...), when the body
    /// has one.
    pub event_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Verdict {
    verification_status: String,
}

/// Sends the delivery's signature headers and body to
/// `/v1/notifications/verify-webhook-signature`. A delivery that lacks a
/// signature header, or whose body is not an object, cannot be genuine:
/// it fails the same way as a bad signature, without asking PayPal.
pub(crate) fn verify_webhook_signature(
    input: VerifyIn,
    _cx: &Context,
) -> Result<VerifyOut, StepError> {
    let valid_id = !input.webhook_id.is_empty()
        && input.webhook_id.len() <= 50
        && input.webhook_id.bytes().all(|b| b.is_ascii_alphanumeric());
    if !valid_id {
        return Err(StepError::invalid_input(format!(
            "webhook_id: {:?} is not a PayPal webhook id",
            input.webhook_id
        )));
    }
    let header = |name: &str| {
        input
            .headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let mut request = json!({"webhook_id": input.webhook_id, "webhook_event": input.event});
    let mut missing = Vec::new();
    for (name, field) in SIGNATURE_HEADERS {
        match header(name) {
            Some(value) => request[field] = json!(value),
            None => missing.push(name),
        }
    }
    let event_id = input
        .event
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let event_type = input
        .event
        .get("event_type")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let status = if !missing.is_empty() {
        log::warn!("webhook delivery lacks {}", missing.join(", "));
        "FAILURE".to_owned()
    } else if !input.event.is_object() {
        log::warn!("webhook delivery body is not a JSON object");
        "FAILURE".to_owned()
    } else {
        let mut client = Client::connect(&input.connection)?;
        let verdict: Verdict = client
            .send(
                relais_plugin_sdk::http::Method::Post,
                "/v1/notifications/verify-webhook-signature",
                Some(&request),
                None,
            )?
            .json()?;
        verdict.verification_status
    };
    let verified = status == "SUCCESS";
    let what = format!(
        "webhook delivery {} ({})",
        header("paypal-transmission-id").unwrap_or_else(|| "without transmission id".to_owned()),
        event_type.as_deref().unwrap_or("unknown event type")
    );
    if !verified && input.fail_if_invalid {
        return Err(StepError::fatal(format!(
            "{what}: signature not valid ({status})"
        )));
    }
    log::info!("{what}: signature {status}");
    Ok(VerifyOut {
        verified,
        verification_status: status,
        event_id,
        event_type,
    })
}
