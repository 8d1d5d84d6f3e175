//! Step `post-webhook`: post through an incoming webhook.

use relais_plugin_sdk::prelude::*;
use relais_plugin_sdk::{clock, http};
use serde_json::{Value, json};

use crate::content;
use crate::error::SlackError;

/// The secret read for the webhook URL by default.
pub const DEFAULT_WEBHOOK_URL_SECRET: &str = "slack_webhook_url";

/// Which webhook to post to.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookConnection {
    /// Name of the secret holding the webhook URL
    /// (`https://hooks.slack.com/services/T.../B.../...`; default
    /// `slack_webhook_url`). The URL is a credential: it never appears in
    /// logs or errors.
    #[serde(default = "default_webhook_url_secret")]
    pub webhook_url_secret: String,
}

fn default_webhook_url_secret() -> String {
    DEFAULT_WEBHOOK_URL_SECRET.to_owned()
}

impl Default for WebhookConnection {
    fn default() -> Self {
        Self {
            webhook_url_secret: default_webhook_url_secret(),
        }
    }
}

/// Input of `post-webhook`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostWebhookIn {
    /// The text (Slack `mrkdwn`), at most 40 000 characters; with `blocks`,
    /// what notifications show.
    #[serde(default)]
    pub text: Option<String>,
    /// Block Kit blocks, at most 50.
    #[serde(default)]
    pub blocks: Option<Vec<Value>>,
    /// Unfurl links to text content (Slack's default: no).
    #[serde(default)]
    pub unfurl_links: Option<bool>,
    /// Unfurl links to media (Slack's default: yes).
    #[serde(default)]
    pub unfurl_media: Option<bool>,
    /// Which webhook (default: the secret `slack_webhook_url`).
    #[serde(default)]
    pub connection: WebhookConnection,
}

/// Output of `post-webhook`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PostWebhookOut {
    /// `false` when an earlier attempt of this step had already posted it.
    pub changed: bool,
}

/// What the store keeps once a webhook post succeeded.
#[derive(Debug, Serialize, Deserialize)]
struct Posted {
    at: i64,
}

/// Posts the message. Success is HTTP 200 with the body `ok`; errors are
/// plain strings (`invalid_payload`, `channel_not_found`, ...). Slack
/// webhooks have no idempotency key: a retry after a success is answered
/// from the plugin's record, a retry after an attempt that got no answer
/// posts again.
pub(crate) fn post_webhook(
    input: PostWebhookIn,
    cx: &Context,
) -> Result<PostWebhookOut, StepError> {
    content::check(input.text.as_deref(), input.blocks.as_ref())?;
    let secret = &input.connection.webhook_url_secret;
    let url = secrets::require(secret)?;
    if !url.starts_with("https://") && !url.starts_with("http://") {
        return Err(StepError::fatal(format!(
            "secret {secret} does not hold an http(s) webhook url"
        )));
    }
    let target = format!("incoming webhook (secret {secret})");
    let key = content::record_key("webhook", &cx.idempotency_key);
    if content::read_record::<Posted>(&key).is_some() {
        log::info!("{target}: already posted by an earlier attempt");
        return Ok(PostWebhookOut { changed: false });
    }
    let mut body = json!({});
    if let Some(text) = &input.text {
        body["text"] = json!(text);
    }
    if let Some(blocks) = &input.blocks {
        body["blocks"] = json!(blocks);
    }
    if let Some(unfurl) = input.unfurl_links {
        body["unfurl_links"] = json!(unfurl);
    }
    if let Some(unfurl) = input.unfurl_media {
        body["unfurl_media"] = json!(unfurl);
    }
    let response = http::post(url.clone()).json(&body).send().map_err(|err| {
        let retryable = err.is_retryable();
        SlackError::NoAnswer {
            target: target.clone(),
            reason: err.to_string().replace(url.as_str(), "<webhook url>"),
            retryable,
        }
    })?;
    let answer = response.text();
    if response.status() == 200 && answer.trim() == "ok" {
        content::write_record(
            &key,
            &Posted {
                at: clock::unix_now(),
            },
        );
        log::info!("{target}: posted");
        return Ok(PostWebhookOut { changed: true });
    }
    let error = answer.trim().replace(url.as_str(), "<webhook url>");
    let error = if error.is_empty() {
        format!("status {}", response.status())
    } else {
        http::excerpt(error.as_bytes())
    };
    let retry_after = response.retry_after();
    Err(SlackError::classify(&target, response.status(), &error, retry_after).into())
}
