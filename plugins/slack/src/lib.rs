//! `slack`: post to Slack through an incoming webhook, or with
//! `chat.postMessage` and a bot token.
//!
//! ```yaml
//! - id: ops
//!   uses: slack/post-webhook
//!   with: { text: "Payment failed for {{ steps.customer.output.email }}" }
//!   secrets: [slack_webhook_url]
//! ```
//!
//! Slack's documented error strings (`invalid_payload`,
//! `channel_not_found`, `channel_is_archived`, ...) are `fatal`; rate limits
//! (HTTP 429, honouring `Retry-After`), Slack's own failures (5xx,
//! `internal_error`, ...) and connection failures are `retryable`. A retry
//! of a step that already posted answers from the plugin's key-value store
//! instead of posting again.

pub mod chat;
pub mod content;
pub mod error;
pub mod webhook;

relais_plugin_sdk::plugin! {
    name: "slack",
    version: env!("CARGO_PKG_VERSION"),
    description: "Post to Slack through an incoming webhook or chat.postMessage",
    steps: {
        "post-webhook" => webhook::post_webhook:
            "Post a message through an incoming webhook",
        "post-message" => chat::post_message:
            "Post a message to a channel with chat.postMessage and a bot token",
    },
}

#[cfg(test)]
mod tests;
