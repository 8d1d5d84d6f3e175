//! `email`: send one message through a list of providers tried in order —
//! an SMTP relay configured on the host (the `mail` capability), Postmark,
//! SendGrid or Mailgun — with subject and bodies from small templates.
//!
//! ```yaml
//! - id: remind
//!   uses: email/send
//!   with:
//!     from: "Agence Dupont <facturation@agence.fr>"
//!     to: "{{ steps.customer.output.email }}"
//!     template: payment-failed
//!     vars: { name: "{{ steps.customer.output.name }}", attempt: 2 }
//!     providers:
//!       - { type: postmark }
//!       - { type: smtp, relay: primary }
//!   secrets: [postmark_server_token]
//! ```
//!
//! Steps: `send`, `render` (the same templates, nothing sent) and
//! `put-template` (stores a named template in the plugin's key-value
//! store). See the README for every input, output and error.

mod content;
mod input;
mod providers;
mod template;

use relais_plugin_sdk::mail;
use relais_plugin_sdk::prelude::*;

pub use content::Rendered;
pub use input::{
    Address, Addresses, Content, MailgunProvider, PostmarkProvider, Provider, SendIn,
    SendgridProvider, SmtpProvider, TemplateIn,
};
use providers::Outgoing;

relais_plugin_sdk::plugin! {
    name: "email",
    version: env!("CARGO_PKG_VERSION"),
    description: "Email through a host SMTP relay, Postmark, SendGrid or Mailgun, with fallback",
    steps: {
        "send" => send: "Send one message, trying each provider in order until one accepts it",
        "render" => render: "Render a message's subject and bodies without sending it",
        "put-template" => put_template: "Store a named template (subject, text, html)",
    },
}

/// How one provider fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Attempt {
    /// `postmark`, `sendgrid`, `mailgun` or `smtp:RELAY`.
    pub provider: String,
    /// `delivered`, `retryable` or `fatal`.
    pub outcome: String,
    /// Why it failed (absent when delivered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Output of `send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SendOut {
    /// The provider that accepted the message.
    pub delivered_by: String,
    /// Its position in `providers` (from 0).
    pub provider_index: usize,
    /// The provider's id for the message (Postmark `MessageID`, Mailgun
    /// `id`, SendGrid `X-Message-Id`, the SMTP `Message-ID`), when given.
    pub message_id: Option<String>,
    /// The provider's answer, e.g. `250 2.0.0 Ok: queued as 4F1B2`.
    pub response: String,
    /// Every provider tried, in order, with why the others failed.
    pub attempts: Vec<Attempt>,
    /// True when this step had already sent the message (same idempotency
    /// key) and nothing was sent again.
    pub replayed: bool,
}

/// Output of `put-template`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PutTemplateOut {
    /// The name it is stored under.
    pub name: String,
    /// Whether it replaced an existing template.
    pub replaced: bool,
}

fn send_key(idempotency_key: &str) -> Option<String> {
    let key = format!("sent/{idempotency_key}");
    (key.len() <= relais_plugin_sdk::kv::MAX_KEY_BYTES).then_some(key)
}

fn outgoing(input: &SendIn, cx: &Context) -> Result<Outgoing, StepError> {
    let from = input.from.mailbox("from")?;
    let to = input.to.mailboxes("to")?;
    let cc = input.cc.mailboxes("cc")?;
    let bcc = input.bcc.mailboxes("bcc")?;
    let reply_to = input.reply_to.mailboxes("reply_to")?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(StepError::invalid_input(
            "no recipient: give at least one of to, cc, bcc",
        ));
    }
    for (name, value) in &input.headers {
        let lower = name.to_ascii_lowercase();
        let reserved = [
            "from",
            "sender",
            "to",
            "cc",
            "bcc",
            "reply-to",
            "subject",
            "date",
            "message-id",
            "mime-version",
        ];
        if reserved.contains(&lower.as_str()) || lower.starts_with("content-") {
            return Err(StepError::invalid_input(format!(
                "headers: {name} is set from the other inputs"
            )));
        }
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(StepError::invalid_input(format!(
                "headers: {name:?} is not a header name"
            )));
        }
        if value.contains(['\r', '\n']) {
            return Err(StepError::invalid_input(format!(
                "headers: {name} holds a line break"
            )));
        }
    }
    let rendered = content::render(&input.content())?;
    let domain = from
        .address
        .rsplit_once('@')
        .map_or("relais.invalid", |x| x.1);
    Ok(Outgoing {
        message_id: mail::message_id_for(&cx.idempotency_key, domain),
        from,
        to,
        cc,
        bcc,
        reply_to,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        headers: input.headers.clone(),
        tag: input.tag.clone(),
    })
}

fn send(input: SendIn, cx: &Context) -> Result<SendOut, StepError> {
    if input.providers.is_empty() {
        return Err(StepError::invalid_input("providers: give at least one"));
    }
    let message = outgoing(&input, cx)?;
    let key = send_key(&cx.idempotency_key);
    if let Some(key) = &key
        && let Some(mut done) = kv::get_json::<SendOut>(key)?
    {
        log::info!(
            "already sent by {} in an earlier attempt: not sent again",
            done.delivered_by
        );
        done.replayed = true;
        return Ok(done);
    }

    let mut attempts = Vec::new();
    let mut failures: Vec<(String, StepError)> = Vec::new();
    for (index, provider) in input.providers.iter().enumerate() {
        let label = provider.label();
        match providers::deliver(provider, &message) {
            Ok(accepted) => {
                log::info!("delivered by {label} (provider {index})");
                attempts.push(record(&label, "delivered", None));
                let out = SendOut {
                    delivered_by: label,
                    provider_index: index,
                    message_id: accepted.message_id,
                    response: accepted.response,
                    attempts,
                    replayed: false,
                };
                if let Some(key) = &key
                    && let Err(e) = kv::set_json(key, &out)
                {
                    log::warn!("sent, but not recorded for retries: {e}");
                }
                return Ok(out);
            }
            Err(err) => {
                log::warn!("{label} failed ({}): {}", err.kind(), err.message());
                attempts.push(record(&label, err.kind(), Some(err.message())));
                failures.push((label, err));
            }
        }
    }
    Err(all_failed(failures))
}

fn record(provider: &str, outcome: &str, error: Option<&str>) -> Attempt {
    Attempt {
        provider: provider.to_owned(),
        outcome: outcome.to_owned(),
        error: error.map(str::to_owned),
    }
}

/// Every provider failed. The step is retryable when any provider failed
/// in a way that may pass later (the last one included), fatal only when
/// all failed for good; invalid input from a provider stays invalid input
/// when every provider said so.
fn all_failed(failures: Vec<(String, StepError)>) -> StepError {
    let summary: Vec<String> = failures
        .iter()
        .map(|(label, e)| {
            let text = e.message();
            let text = text.strip_prefix(&format!("{label}: ")).unwrap_or(text);
            format!("{label} ({}): {text}", e.kind())
        })
        .collect();
    let message = format!("no provider accepted the message: {}", summary.join("; "));
    let retry_after = failures.iter().rev().find_map(|(_, e)| e.retry_after());
    if failures.iter().any(|(_, e)| e.is_retryable()) {
        StepError::Retryable {
            message,
            retry_after,
        }
    } else if failures.iter().all(|(_, e)| e.kind() == "invalid-input") {
        StepError::invalid_input(message)
    } else {
        StepError::fatal(message)
    }
}

fn render(input: Content, _cx: &Context) -> Result<Rendered, StepError> {
    content::render(&input)
}

fn put_template(input: TemplateIn, _cx: &Context) -> Result<PutTemplateOut, StepError> {
    content::check_name(&input.name)?;
    content::check_syntax("subject", &input.subject)?;
    if input.subject.trim().is_empty() {
        return Err(StepError::invalid_input("subject is empty"));
    }
    if input.text.is_none() && input.html.is_none() {
        return Err(StepError::invalid_input("give a body: text, html or both"));
    }
    if let Some(text) = &input.text {
        content::check_syntax("text", text)?;
    }
    if let Some(html) = &input.html {
        content::check_syntax("html", html)?;
    }
    let key = content::template_key(&input.name);
    let replaced = kv::get(&key)?.is_some();
    kv::set_json(&key, &input)?;
    log::info!("template {} stored", input.name);
    Ok(PutTemplateOut {
        name: input.name,
        replaced,
    })
}

#[cfg(test)]
mod tests;
