//! `type: sendgrid`: `POST /v3/mail/send` with a bearer API key
//! (<https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send>).
//!
//! A 202 with an empty body means accepted; the id is in `X-Message-Id`.
//! Errors: 400 with `{errors: [{message, field}]}`, 401/403 refused key,
//! 413 too large, 429 rate limit, 5xx. SendGrid has no idempotency key.

use relais_plugin_sdk::http;
use relais_plugin_sdk::mail::Mailbox;
use relais_plugin_sdk::prelude::*;
use serde_json::{Value, json};

use super::{Accepted, Outgoing, join, status_error};
use crate::input::SendgridProvider;

fn address(m: &Mailbox) -> Value {
    match &m.name {
        Some(name) => json!({"email": m.address, "name": name}),
        None => json!({"email": m.address}),
    }
}

/// The request body SendGrid's `PostMailSend` describes.
pub fn body(m: &Outgoing) -> Value {
    let mut personalization = json!({});
    for (name, list) in [("to", &m.to), ("cc", &m.cc), ("bcc", &m.bcc)] {
        if !list.is_empty() {
            personalization[name] = list.iter().map(address).collect();
        }
    }
    // SendGrid requires `to` in every personalization: a message with only
    // Bcc recipients goes to its sender.
    if m.to.is_empty() {
        personalization["to"] = json!([address(&m.from)]);
    }
    // `text/plain` must come before `text/html`.
    let mut content = Vec::new();
    if let Some(text) = m.text.as_deref().filter(|t| !t.is_empty()) {
        content.push(json!({"type": "text/plain", "value": text}));
    }
    if let Some(html) = m.html.as_deref().filter(|t| !t.is_empty()) {
        content.push(json!({"type": "text/html", "value": html}));
    }
    let mut body = json!({
        "personalizations": [personalization],
        "from": address(&m.from),
        "subject": m.subject,
        "content": content,
    });
    match m.reply_to.as_slice() {
        [] => {}
        [one] => body["reply_to"] = address(one),
        many => body["reply_to_list"] = many.iter().map(address).collect(),
    }
    if !m.headers.is_empty() {
        body["headers"] = json!(m.headers);
    }
    if let Some(tag) = &m.tag {
        body["categories"] = json!([tag]);
    }
    body
}

pub fn deliver(p: &SendgridProvider, m: &Outgoing) -> Result<Accepted, StepError> {
    let key = secrets::require(&p.api_key_secret).map_err(|e| e.context("sendgrid"))?;
    let response = http::post(join(&p.base_url, "/v3/mail/send"))
        .bearer(&key)
        .json(&body(m))
        .send()
        .map_err(|e| StepError::from(e).context("sendgrid"))?;
    if response.status() >= 300 {
        return Err(status_error("sendgrid", response, explain));
    }
    Ok(Accepted {
        message_id: response.header("x-message-id").map(str::to_owned),
        response: format!("{} Accepted", response.status()),
    })
}

/// The `errors[].message` list, joined.
fn explain(v: &Value) -> Option<String> {
    let messages: Vec<String> = v["errors"]
        .as_array()?
        .iter()
        .filter_map(|e| {
            let message = e["message"].as_str()?;
            Some(match e["field"].as_str().filter(|f| *f != "null") {
                Some(field) => format!("{message} ({field})"),
                None => message.to_owned(),
            })
        })
        .collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}
