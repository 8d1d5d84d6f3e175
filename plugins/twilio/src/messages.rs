//! Steps `send-sms` and `message-status` (the Messages resource).

use relais_plugin_sdk::clock;
use relais_plugin_sdk::prelude::*;

use crate::api::{Client, Connection, is_sid};
use crate::guard::{self, Record};

/// Longest body Twilio takes, in characters.
pub const MAX_BODY_CHARS: usize = 1600;
/// Most media URLs one message may carry.
pub const MAX_MEDIA: usize = 10;

/// A message, as Twilio reports it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct Message {
    /// The message's SID (`SM...` or `MM...`).
    pub sid: String,
    /// `queued`, `accepted`, `scheduled`, `sending`, `sent`, `delivered`,
    /// `read`, `undelivered`, `failed`, `canceled`, ...
    pub status: String,
    /// The recipient.
    pub to: Option<String>,
    /// The sender (empty until a messaging service picks one).
    pub from: Option<String>,
    /// The messaging service that sends it, if any.
    pub messaging_service_sid: Option<String>,
    /// The text.
    pub body: Option<String>,
    /// How many segments it was split into (as Twilio writes it, a string).
    pub num_segments: Option<String>,
    /// Twilio's error code when it failed or was not delivered
    /// (<https://www.twilio.com/docs/api/errors>).
    pub error_code: Option<i64>,
    /// Twilio's error message.
    pub error_message: Option<String>,
    /// What it cost (negative), once known.
    pub price: Option<String>,
    /// The currency of `price`.
    pub price_unit: Option<String>,
    /// When it was created (RFC 2822).
    pub date_created: Option<String>,
    /// When it was sent (RFC 2822).
    pub date_sent: Option<String>,
    /// When it was last updated (RFC 2822).
    pub date_updated: Option<String>,
}

/// Input of `send-sms`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendSmsIn {
    /// The recipient, E.164 (`+33612345678`), or a channel address
    /// (`whatsapp:+33612345678`).
    pub to: String,
    /// The text, at most 1600 characters (may be empty with `media_url`).
    pub body: String,
    /// The sender: a Twilio number (E.164), a short code or an
    /// alphanumeric sender id. Give this or `messaging_service_sid`.
    #[serde(default)]
    pub from: Option<String>,
    /// A messaging service (`MG...`) that picks the sender.
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    /// Images or files to send as MMS, at most 10 http(s) URLs.
    #[serde(default)]
    pub media_url: Vec<String>,
    /// A URL Twilio calls at each status change.
    #[serde(default)]
    pub status_callback: Option<String>,
    /// Seconds the message may wait in Twilio's queue before it is
    /// dropped, 1 to 36000 (Twilio's default 36000).
    #[serde(default)]
    pub validity_period: Option<u32>,
    /// How to reach Twilio (default: the live API, secrets
    /// `twilio_account_sid` and `twilio_auth_token`).
    #[serde(default)]
    pub connection: Connection,
}

/// Output of `send-sms`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SendSmsOut {
    /// `false` when an earlier attempt of this step had already sent it
    /// (the message is then read back, not sent again).
    pub changed: bool,
    /// The message.
    pub message: Message,
}

fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// `+E164`, or `channel:+E164` (`whatsapp:`, `messenger:` ...).
fn is_address(value: &str) -> bool {
    match value.split_once(':') {
        Some((channel, number)) => {
            !channel.is_empty()
                && channel.bytes().all(|b| b.is_ascii_lowercase())
                && is_e164(number)
        }
        None => is_e164(value),
    }
}

/// An E.164 number or channel address, a short code (3 to 8 digits), or an
/// alphanumeric sender id (1 to 11 letters, digits and spaces, one letter at
/// least).
fn is_sender(value: &str) -> bool {
    let short_code = (3..=8).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit());
    let alphanumeric = (1..=11).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b' ')
        && value.bytes().any(|b| b.is_ascii_alphabetic());
    is_address(value) || short_code || alphanumeric
}

fn is_web_url(value: &str) -> bool {
    (value.starts_with("https://") || value.starts_with("http://"))
        && !value.contains(char::is_whitespace)
}

/// The form Twilio takes, checked.
fn message_form(input: &SendSmsIn) -> Result<Vec<(String, String)>, StepError> {
    let bad = |message: String| Err(StepError::invalid_input(message));
    if !is_address(&input.to) {
        return bad(format!(
            "to: {:?} is not an E.164 number (+ and 7 to 15 digits) or channel address",
            input.to
        ));
    }
    let chars = input.body.chars().count();
    if chars > MAX_BODY_CHARS {
        return bad(format!(
            "body: {chars} characters, at most {MAX_BODY_CHARS}"
        ));
    }
    if input.body.trim().is_empty() && input.media_url.is_empty() {
        return bad("body: empty, and no media_url".to_owned());
    }
    if input.media_url.len() > MAX_MEDIA {
        return bad(format!(
            "media_url: {} given, at most {MAX_MEDIA}",
            input.media_url.len()
        ));
    }
    if let Some(url) = input.media_url.iter().find(|url| !is_web_url(url)) {
        return bad(format!("media_url: {url:?} is not an http(s) url"));
    }
    let mut form = vec![
        ("To".to_owned(), input.to.clone()),
        ("Body".to_owned(), input.body.clone()),
    ];
    match (&input.from, &input.messaging_service_sid) {
        (Some(from), None) if is_sender(from) => form.push(("From".to_owned(), from.clone())),
        (Some(from), None) => {
            return bad(format!(
                "from: {from:?} is not a number, short code or alphanumeric sender id"
            ));
        }
        (None, Some(service)) if is_sid(service, &["MG"]) => {
            form.push(("MessagingServiceSid".to_owned(), service.clone()));
        }
        (None, Some(service)) => {
            return bad(format!(
                "messaging_service_sid: {service:?} is not MG and 32 hex digits"
            ));
        }
        _ => return bad("give exactly one of from and messaging_service_sid".to_owned()),
    }
    for url in &input.media_url {
        form.push(("MediaUrl".to_owned(), url.clone()));
    }
    if let Some(callback) = &input.status_callback {
        if !is_web_url(callback) {
            return bad(format!(
                "status_callback: {callback:?} is not an http(s) url"
            ));
        }
        form.push(("StatusCallback".to_owned(), callback.clone()));
    }
    if let Some(period) = input.validity_period {
        if !(1..=36000).contains(&period) {
            return bad(format!(
                "validity_period: {period} is not between 1 and 36000"
            ));
        }
        form.push(("ValidityPeriod".to_owned(), period.to_string()));
    }
    Ok(form)
}

/// Sends one SMS (or MMS). Twilio has no idempotency key, so the step keeps
/// its own record in the plugin's key-value store under the step's
/// idempotency key: a retry after a success reads the message back instead
/// of sending it again, and a retry after an attempt whose outcome is
/// unknown (no answer, a 5xx) looks for the message among the recipient's
/// recent messages before sending.
pub(crate) fn send_sms(input: SendSmsIn, cx: &Context) -> Result<SendSmsOut, StepError> {
    let form = message_form(&input)?;
    let client = Client::connect(&input.connection)?;
    let key = guard::key(&cx.idempotency_key);
    let path = format!("{}.json", client.messages_path());
    match kv::get_json::<Record>(&key)? {
        Some(Record::Sent { sid }) => {
            let message: Message =
                client.get(&format!("{}/{sid}.json", client.messages_path()), &[])?;
            log::info!("message {sid} was already sent by an earlier attempt");
            return Ok(SendSmsOut {
                changed: false,
                message,
            });
        }
        Some(Record::Pending { started_at }) => {
            if let Some(message) = guard::find_sent(&client, &input, started_at)? {
                log::info!("message {} was sent by an earlier attempt", message.sid);
                guard::record_sent(&key, &message.sid);
                return Ok(SendSmsOut {
                    changed: false,
                    message,
                });
            }
        }
        None => {}
    }
    kv::set_json(
        &key,
        &Record::Pending {
            started_at: clock::unix_now(),
        },
    )?;
    match client.post::<Message>(&path, &form) {
        Ok(message) => {
            guard::record_sent(&key, &message.sid);
            log::info!(
                "message {} to {}: {}",
                message.sid,
                input.to,
                message.status
            );
            Ok(SendSmsOut {
                changed: true,
                message,
            })
        }
        Err(err) => {
            if err.surely_not_sent()
                && let Err(kv_err) = kv::delete(&key)
            {
                log::warn!("cannot clear the send record: {kv_err}");
            }
            Err(err.into())
        }
    }
}

/// When `message-status` succeeds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitUntil {
    /// Report the status as it is (default).
    #[default]
    None,
    /// Succeed once the carrier took it (`sent`, `delivered`, `read`);
    /// retryable before that.
    Sent,
    /// Succeed once delivered (`delivered`, `read`); retryable before.
    Delivered,
}

/// Input of `message-status`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageStatusIn {
    /// The message's SID (`SM...` or `MM...`), e.g.
    /// `{{ steps.sms.output.message.sid }}`.
    pub message: String,
    /// `none` (default), `sent` or `delivered`: with `sent` or `delivered`
    /// the step is retryable until the message gets there and fatal when it
    /// failed, so the step's retry policy waits for delivery and its
    /// `on_failure` can try another channel.
    #[serde(default)]
    pub wait_until: WaitUntil,
    /// How to reach Twilio (default: the live API, secrets
    /// `twilio_account_sid` and `twilio_auth_token`).
    #[serde(default)]
    pub connection: Connection,
}

/// Output of `message-status`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MessageStatusOut {
    /// Whether it reached the handset (`delivered` or `read`).
    pub delivered: bool,
    /// Whether it will not arrive (`failed`, `undelivered`, `canceled`).
    pub failed: bool,
    /// Whether the status can still change.
    pub pending: bool,
    /// The message.
    pub message: Message,
}

pub(crate) fn message_status(
    input: MessageStatusIn,
    _cx: &Context,
) -> Result<MessageStatusOut, StepError> {
    if !is_sid(&input.message, &["SM", "MM"]) {
        return Err(StepError::invalid_input(format!(
            "message: {:?} is not a message SID (SM or MM and 32 hex digits)",
            input.message
        )));
    }
    let client = Client::connect(&input.connection)?;
    let message: Message = client.get(
        &format!("{}/{}.json", client.messages_path(), input.message),
        &[],
    )?;
    let status = message.status.as_str();
    let delivered = matches!(status, "delivered" | "read");
    let failed = matches!(status, "failed" | "undelivered" | "canceled");
    let reached = match input.wait_until {
        WaitUntil::None => true,
        WaitUntil::Sent => delivered || status == "sent",
        WaitUntil::Delivered => delivered,
    };
    if failed && input.wait_until != WaitUntil::None {
        return Err(StepError::fatal(
            format!(
                "message {} {status}: error {} {}",
                message.sid,
                message
                    .error_code
                    .map_or_else(|| "none".to_owned(), |c| c.to_string()),
                message.error_message.as_deref().unwrap_or("")
            )
            .trim_end()
            .to_owned(),
        ));
    }
    if !reached {
        return Err(StepError::retryable(format!(
            "message {} is still {status}",
            message.sid
        )));
    }
    Ok(MessageStatusOut {
        delivered,
        failed,
        pending: !delivered && !failed,
        message,
    })
}
