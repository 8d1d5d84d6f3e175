//! `type: postmark`: `POST /email` with the server token in
//! `X-Postmark-Server-Token` (<https://postmarkapp.com/developer/api/email-api>).
//!
//! Errors (<https://postmarkapp.com/developer/api/overview#response-codes>):
//! 401 bad token, 422 with `{ErrorCode, Message}` for a refused message
//! (e.g. 300 invalid request, 406 inactive recipient), 429 rate limit, 500
//! and 503 on Postmark's side. Postmark has no idempotency key: see the
//! README for what a retry does.

use relais_plugin_sdk::http;
use relais_plugin_sdk::prelude::*;
use serde_json::{Value, json};

use super::{Accepted, Outgoing, display, join, status_error};
use crate::input::PostmarkProvider;

/// The request body Postmark's `SendEmailRequest` describes.
pub fn body(m: &Outgoing) -> Value {
    let list = |l: &[relais_plugin_sdk::mail::Mailbox]| {
        (!l.is_empty()).then(|| l.iter().map(display).collect::<Vec<_>>().join(", "))
    };
    let mut body = json!({
        "From": display(&m.from),
        "Subject": m.subject,
    });
    let fields = [
        ("To", list(&m.to)),
        ("Cc", list(&m.cc)),
        ("Bcc", list(&m.bcc)),
        ("ReplyTo", list(&m.reply_to)),
        ("TextBody", m.text.clone()),
        ("HtmlBody", m.html.clone()),
        ("Tag", m.tag.clone()),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            body[name] = Value::String(v);
        }
    }
    if !m.headers.is_empty() {
        body["Headers"] = m
            .headers
            .iter()
            .map(|(name, value)| json!({"Name": name, "Value": value}))
            .collect();
    }
    body
}

pub fn deliver(p: &PostmarkProvider, m: &Outgoing) -> Result<Accepted, StepError> {
    let token = secrets::require(&p.server_token_secret).map_err(|e| e.context("postmark"))?;
    let response = http::post(join(&p.base_url, "/email"))
        .header("accept", "application/json")
        .header("x-postmark-server-token", token)
        .json(&body(m))
        .send()
        .map_err(|e| StepError::from(e).context("postmark"))?;
    if response.status() >= 300 {
        return Err(status_error("postmark", response, explain));
    }
    let answer: Value = response
        .json()
        .map_err(|e| StepError::from(e).context("postmark"))?;
    // 200 with a non-zero ErrorCode is still a refusal.
    let code = answer["ErrorCode"].as_i64().unwrap_or(0);
    if code != 0 {
        return Err(StepError::fatal(format!(
            "postmark: refused: {}",
            explain(&answer).unwrap_or_default()
        )));
    }
    Ok(Accepted {
        message_id: answer["MessageID"].as_str().map(str::to_owned),
        response: answer["Message"].as_str().unwrap_or("accepted").to_owned(),
    })
}

/// `ErrorCode N: Message`.
fn explain(v: &Value) -> Option<String> {
    let message = v["Message"].as_str()?;
    Some(match v["ErrorCode"].as_i64() {
        Some(code) => format!("ErrorCode {code}: {message}"),
        None => message.to_owned(),
    })
}
