//! `post-message`.

use std::time::Duration;

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
use serde_json::json;

use super::run;

const URL: &str = "https://slack.com/api/chat.postMessage";

fn host() -> FakeHost {
    FakeHost::new().with_secret("slack_bot_token", "xoxb-123")
}

fn ok() -> FakeResponse {
    FakeResponse::ok().json(
        &json!({"ok": true, "channel": "C0123ABCD", "ts": "1503435956.000247",
                                    "message": {"text": "hi", "type": "message"}}),
    )
}

fn slack_error(error: &str) -> FakeResponse {
    FakeResponse::ok().json(&json!({"ok": false, "error": error}))
}

#[test]
fn posts_the_form_with_the_bot_token_once() {
    let host = host().on(Method::Post, URL, ok());
    let input = json!({
        "channel": "#ops", "text": "Payment failed", "blocks": [{"type": "divider"}],
        "thread_ts": "1503435956.000100", "reply_broadcast": true, "unfurl_links": false,
        "unfurl_media": true, "mrkdwn": false, "username": "Relais", "icon_emoji": ":rotating_light:",
    });
    let out = run(&host, "post-message", input.clone()).unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "channel": "C0123ABCD", "ts": "1503435956.000247"})
    );
    let sent = &host.requests()[0];
    assert_eq!(sent.header("authorization"), Some("Bearer xoxb-123"));
    assert_eq!(
        sent.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        sent.text(),
        "channel=%23ops&text=Payment+failed&blocks=%5B%7B%22type%22%3A%22divider%22%7D%5D\
         &thread_ts=1503435956.000100&username=Relais&icon_emoji=%3Arotating_light%3A\
         &reply_broadcast=true&unfurl_links=false&unfurl_media=true&mrkdwn=false"
    );
    let out = run(&host, "post-message", input).unwrap();
    assert_eq!(
        out,
        json!({"changed": false, "channel": "C0123ABCD", "ts": "1503435956.000247"})
    );
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn documented_errors_are_fatal_and_transient_ones_retryable() {
    for (response, kind, text) in [
        (
            slack_error("channel_not_found"),
            "fatal",
            "chat.postMessage: slack refused the message: channel_not_found (the channel does not exist, or the app cannot see it)",
        ),
        (
            slack_error("not_in_channel"),
            "fatal",
            "invite the app to the channel first",
        ),
        (
            slack_error("is_archived"),
            "fatal",
            "the channel is archived",
        ),
        (
            slack_error("invalid_auth"),
            "fatal",
            "the token was refused",
        ),
        (slack_error("missing_scope"), "fatal", "chat:write"),
        (slack_error("msg_too_long"), "fatal", "msg_too_long"),
        (slack_error("some_new_error"), "fatal", "some_new_error"),
        (
            slack_error("internal_error"),
            "retryable",
            "slack is unavailable (status 200, internal_error)",
        ),
        (slack_error("ratelimited"), "retryable", "ratelimited"),
        (
            FakeResponse::status(502).text("<html>bad gateway</html>"),
            "retryable",
            "status 502: <html>bad gateway</html>",
        ),
        (
            FakeResponse::transport_error("timeout"),
            "retryable",
            "timeout",
        ),
    ] {
        let host = host().on(Method::Post, URL, response);
        let err = run(
            &host,
            "post-message",
            json!({"channel": "C0123ABCD", "text": "hi"}),
        )
        .unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert!(err.message().contains(text), "{text}: {err}");
    }
    let host = host().on(
        Method::Post,
        URL,
        FakeResponse::status(429)
            .header("retry-after", "12")
            .json(&json!({"ok": false, "error": "ratelimited"})),
    );
    let err = run(
        &host,
        "post-message",
        json!({"channel": "C0123ABCD", "text": "hi"}),
    )
    .unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(12)));
    assert!(host.kv_keys().is_empty(), "a failure records nothing");
}

#[test]
fn bad_input_is_refused_before_any_request() {
    let host = host();
    for (input, message) in [
        (json!({"channel": "", "text": "x"}), "channel"),
        (json!({"channel": "ops team", "text": "x"}), "channel"),
        (json!({"channel": "C1"}), "give text, blocks or both"),
        (
            json!({"channel": "C1", "text": "x", "reply_broadcast": true}),
            "reply_broadcast only applies with thread_ts",
        ),
        (
            json!({"channel": "C1", "text": "x", "connection": {"base_url": "slack.com"}}),
            "connection.base_url",
        ),
        (
            json!({"channel": "C1", "text": "x", "token": "xoxb-literal"}),
            "unknown field `token`",
        ),
    ] {
        let err = run(&host, "post-message", input.clone()).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{input}");
        assert!(err.message().contains(message), "{message}: {err}");
    }
    assert!(host.requests().is_empty());
    let host = FakeHost::new().with_secret("ops_bot", "xoxb-9").on(
        Method::Post,
        "http://127.0.0.1:9/api/chat.postMessage",
        ok(),
    );
    let input = json!({"channel": "C1", "text": "x",
                       "connection": {"base_url": "http://127.0.0.1:9/api/", "bot_token_secret": "ops_bot"}});
    run(&host, "post-message", input).unwrap();
    assert_eq!(
        host.requests()[0].header("authorization"),
        Some("Bearer xoxb-9")
    );
}
