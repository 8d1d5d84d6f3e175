//! `type: mailgun`: `POST /v3/{domain}/messages` as `multipart/form-data`
//! with basic auth `api:KEY`
//! (<https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages>).
//!
//! Answers `{id, message}`. Errors: 400 `{message}` (bad parameter), 401
//! refused key, 429 rate limit (`try again after N seconds`), 5xx. Mailgun
//! has no idempotency key.

use relais_plugin_sdk::http;
use relais_plugin_sdk::prelude::*;
use serde_json::Value;

use super::{Accepted, Outgoing, display, join, status_error};
use crate::input::MailgunProvider;

/// The form fields, in order; repeated names for several recipients.
pub fn fields(m: &Outgoing) -> Vec<(String, String)> {
    let mut fields = vec![("from".to_owned(), display(&m.from))];
    for (name, list) in [("to", &m.to), ("cc", &m.cc), ("bcc", &m.bcc)] {
        for mb in list {
            fields.push((name.to_owned(), display(mb)));
        }
    }
    fields.push(("subject".to_owned(), m.subject.clone()));
    if let Some(text) = &m.text {
        fields.push(("text".to_owned(), text.clone()));
    }
    if let Some(html) = &m.html {
        fields.push(("html".to_owned(), html.clone()));
    }
    if !m.reply_to.is_empty() {
        let all: Vec<String> = m.reply_to.iter().map(display).collect();
        fields.push(("h:Reply-To".to_owned(), all.join(", ")));
    }
    for (name, value) in &m.headers {
        fields.push((format!("h:{name}"), value.clone()));
    }
    if let Some(tag) = &m.tag {
        fields.push(("o:tag".to_owned(), tag.clone()));
    }
    fields
}

/// A `multipart/form-data` body (RFC 7578) and its boundary. The boundary
/// is lengthened until no field holds it.
pub fn multipart(fields: &[(String, String)], seed: &str) -> (String, Vec<u8>) {
    let mut boundary = format!("relais-{:016x}", fnv(seed.as_bytes()));
    while fields
        .iter()
        .any(|(n, v)| n.contains(&boundary) || v.contains(&boundary))
    {
        boundary.push_str(&format!("{:x}", fnv(boundary.as_bytes()) & 0xffff));
    }
    let mut body = Vec::new();
    for (name, value) in fields {
        let name = name.replace(['"', '\r', '\n'], "");
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n").as_bytes(),
        );
        body.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n\r\n");
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub fn deliver(p: &MailgunProvider, m: &Outgoing) -> Result<Accepted, StepError> {
    let domain = p.domain.trim();
    if domain.is_empty() || domain.contains(['/', '?', '#', ' ']) {
        return Err(StepError::invalid_input(format!(
            "mailgun: domain {:?} is not a sending domain",
            p.domain
        )));
    }
    let key = secrets::require(&p.api_key_secret).map_err(|e| e.context("mailgun"))?;
    let (boundary, body) = multipart(&fields(m), &m.message_id);
    let response = http::post(join(&p.base_url, &format!("/v3/{domain}/messages")))
        .basic("api", &key)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .map_err(|e| StepError::from(e).context("mailgun"))?;
    if response.status() >= 300 {
        return Err(status_error("mailgun", response, explain));
    }
    let answer: Value = response
        .json()
        .map_err(|e| StepError::from(e).context("mailgun"))?;
    Ok(Accepted {
        message_id: answer["id"].as_str().map(str::to_owned),
        response: answer["message"].as_str().unwrap_or("queued").to_owned(),
    })
}

fn explain(v: &Value) -> Option<String> {
    v["message"].as_str().map(str::to_owned)
}
