//! Step `post-message`: `chat.postMessage` with a bot token.

use relais_plugin_sdk::http;
use relais_plugin_sdk::prelude::*;
use serde_json::Value;

use crate::content;
use crate::error::SlackError;

/// Where Slack's Web API lives.
pub const DEFAULT_BASE_URL: &str = "https://slack.com/api";
/// The secret read for the bot token by default.
pub const DEFAULT_BOT_TOKEN_SECRET: &str = "slack_bot_token";

/// How to reach Slack's Web API.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiConnection {
    /// Base URL of the Web API (default `https://slack.com/api`).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Name of the secret holding the bot token (`xoxb-...`; default
    /// `slack_bot_token`).
    #[serde(default = "default_bot_token_secret")]
    pub bot_token_secret: String,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn default_bot_token_secret() -> String {
    DEFAULT_BOT_TOKEN_SECRET.to_owned()
}

impl Default for ApiConnection {
    fn default() -> Self {
        Self {
            base_url: default_base_url(),
            bot_token_secret: default_bot_token_secret(),
        }
    }
}

/// Input of `post-message`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMessageIn {
    /// The channel: an id (`C0123ABCD`), or a name (`#ops`); a user id
    /// (`U...`) posts to the app's direct messages with that user.
    pub channel: String,
    /// The text (Slack `mrkdwn`), at most 40 000 characters; with `blocks`,
    /// what notifications show.
    #[serde(default)]
    pub text: Option<String>,
    /// Block Kit blocks, at most 50.
    #[serde(default)]
    pub blocks: Option<Vec<Value>>,
    /// Reply in the thread of this message (its `ts`).
    #[serde(default)]
    pub thread_ts: Option<String>,
    /// With `thread_ts`: show the reply in the channel too.
    #[serde(default)]
    pub reply_broadcast: Option<bool>,
    /// Unfurl links to text content.
    #[serde(default)]
    pub unfurl_links: Option<bool>,
    /// Unfurl links to media.
    #[serde(default)]
    pub unfurl_media: Option<bool>,
    /// Read the text as `mrkdwn` (Slack's default: yes).
    #[serde(default)]
    pub mrkdwn: Option<bool>,
    /// Bot name to show (needs the `chat:write.customize` scope).
    #[serde(default)]
    pub username: Option<String>,
    /// Emoji to show as the icon, like `:rotating_light:` (needs
    /// `chat:write.customize`).
    #[serde(default)]
    pub icon_emoji: Option<String>,
    /// How to reach Slack (default: the Web API, secret `slack_bot_token`).
    #[serde(default)]
    pub connection: ApiConnection,
}

/// Output of `post-message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PostMessageOut {
    /// `false` when an earlier attempt of this step had already posted it.
    pub changed: bool,
    /// The channel's id.
    pub channel: String,
    /// The message's timestamp: its id, for replies (`thread_ts`).
    pub ts: String,
}

/// Slack's answer: `{ok, channel, ts}` or `{ok: false, error, warning}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Answer {
    ok: bool,
    channel: Option<String>,
    ts: Option<String>,
    error: Option<String>,
    warning: Option<String>,
}

/// Posts with `chat.postMessage` (form-encoded, bot token in
/// `Authorization: Bearer`). Slack answers HTTP 200 with `ok: false` and an
/// error string on failure, and HTTP 429 with `Retry-After` when rate
/// limited. No idempotency key exists: a retry after a success is answered
/// from the plugin's record (same `ts`), a retry after an attempt that got no
/// answer posts again.
pub(crate) fn post_message(
    input: PostMessageIn,
    cx: &Context,
) -> Result<PostMessageOut, StepError> {
    content::check(input.text.as_deref(), input.blocks.as_ref())?;
    let channel = input.channel.trim();
    if channel.is_empty() || channel.contains(char::is_whitespace) {
        return Err(StepError::invalid_input(format!(
            "channel: {:?} is not a channel id or name",
            input.channel
        )));
    }
    if input.reply_broadcast.is_some() && input.thread_ts.is_none() {
        return Err(StepError::invalid_input(
            "reply_broadcast only applies with thread_ts",
        ));
    }
    let base = http::base_url("connection.base_url", &input.connection.base_url)?;
    let token = secrets::require(&input.connection.bot_token_secret)?;
    let key = content::record_key("chat", &cx.idempotency_key);
    if let Some(mut posted) = content::read_record::<PostMessageOut>(&key) {
        log::info!(
            "message {} was already posted by an earlier attempt",
            posted.ts
        );
        posted.changed = false;
        return Ok(posted);
    }
    let mut form = vec![("channel".to_owned(), channel.to_owned())];
    if let Some(text) = &input.text {
        form.push(("text".to_owned(), text.clone()));
    }
    if let Some(blocks) = &input.blocks {
        form.push(("blocks".to_owned(), Value::from(blocks.clone()).to_string()));
    }
    for (name, value) in [
        ("thread_ts", &input.thread_ts),
        ("username", &input.username),
        ("icon_emoji", &input.icon_emoji),
    ] {
        if let Some(value) = value {
            form.push((name.to_owned(), value.clone()));
        }
    }
    for (name, value) in [
        ("reply_broadcast", input.reply_broadcast),
        ("unfurl_links", input.unfurl_links),
        ("unfurl_media", input.unfurl_media),
        ("mrkdwn", input.mrkdwn),
    ] {
        if let Some(value) = value {
            form.push((name.to_owned(), value.to_string()));
        }
    }
    let target = "chat.postMessage";
    let response = http::post(format!("{base}/chat.postMessage"))
        .bearer(&token)
        .form(&form)
        .send()
        .map_err(|err| {
            let retryable = err.is_retryable();
            SlackError::NoAnswer {
                target: target.to_owned(),
                reason: err.to_string(),
                retryable,
            }
        })?;
    let status = response.status();
    let answer: Answer = serde_json::from_slice(response.bytes()).unwrap_or_default();
    if let Some(warning) = &answer.warning {
        log::warn!("{target}: slack warns {warning}");
    }
    if status == 200 && answer.ok {
        let posted = PostMessageOut {
            changed: true,
            channel: answer.channel.unwrap_or_else(|| channel.to_owned()),
            ts: answer.ts.unwrap_or_default(),
        };
        content::write_record(&key, &posted);
        log::info!("posted message {} in {}", posted.ts, posted.channel);
        return Ok(posted);
    }
    let error = answer
        .error
        .unwrap_or_else(|| format!("status {status}: {}", http::excerpt(response.bytes())));
    let retry_after = response.retry_after();
    Err(SlackError::classify(target, status, &error, retry_after).into())
}
