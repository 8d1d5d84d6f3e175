//! `post-webhook`.

use std::time::Duration;

use relais_plugin_sdk::StepError;
use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
use serde_json::json;

use super::run;

const HOOK: &str = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";

fn host() -> FakeHost {
    FakeHost::new().with_secret("slack_webhook_url", HOOK)
}

#[test]
fn posts_json_to_the_secret_url_once() {
    let host = self::host().on(Method::Post, HOOK, FakeResponse::ok().text("ok"));
    let blocks =
        json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*Payment failed*"}}]);
    let input = json!({"text": "Payment failed", "blocks": blocks, "unfurl_links": false});
    let out = run(&host, "post-webhook", input.clone()).unwrap();
    assert_eq!(out, json!({"changed": true}));
    let sent = &host.requests()[0];
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(
        sent.json(),
        json!({"text": "Payment failed", "blocks": blocks, "unfurl_links": false})
    );
    let out = run(&host, "post-webhook", input).unwrap();
    assert_eq!(out, json!({"changed": false}));
    assert_eq!(host.requests().len(), 1, "a retry does not post twice");
    for line in host.logs() {
        assert!(!line.message.contains("XXXXSECRET"), "{}", line.message);
    }
}

#[test]
fn slack_error_strings_are_fatal_and_failures_retryable() {
    for (status, body, kind, text) in [
        (
            400,
            "invalid_payload",
            "fatal",
            "slack refused the message: invalid_payload (Slack cannot read the message (check the blocks))",
        ),
        (400, "user_not_found", "fatal", "user_not_found"),
        (
            403,
            "action_prohibited",
            "fatal",
            "a workspace admin restricts posting there",
        ),
        (
            404,
            "channel_not_found",
            "fatal",
            "channel_not_found (the channel does not exist",
        ),
        (
            404,
            "no_service",
            "fatal",
            "the incoming webhook was removed",
        ),
        (
            410,
            "channel_is_archived",
            "fatal",
            "channel_is_archived (the channel is archived)",
        ),
        (403, "invalid_token", "fatal", "the token was refused"),
        (
            500,
            "rollup_error",
            "retryable",
            "slack is unavailable (status 500, rollup_error)",
        ),
        (
            503,
            "",
            "retryable",
            "slack is unavailable (status 503, status 503)",
        ),
    ] {
        let host = self::host().on(Method::Post, HOOK, FakeResponse::status(status).text(body));
        let err = run(&host, "post-webhook", json!({"text": "hi"})).unwrap_err();
        assert_eq!(err.kind(), kind, "{status} {body}: {err}");
        assert!(err.message().contains(text), "{err}");
        assert!(
            err.message()
                .starts_with("incoming webhook (secret slack_webhook_url): "),
            "{err}"
        );
        assert!(!err.message().contains("XXXXSECRET"));
    }
    let host = self::host().on(
        Method::Post,
        HOOK,
        FakeResponse::status(429)
            .header("retry-after", "30")
            .text("rate_limited"),
    );
    let err = run(&host, "post-webhook", json!({"text": "hi"})).unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    let host = self::host().on(Method::Post, HOOK, FakeResponse::ok().text("not ok"));
    assert_eq!(
        run(&host, "post-webhook", json!({"text": "hi"}))
            .unwrap_err()
            .kind(),
        "fatal"
    );
}

#[test]
fn the_webhook_url_never_shows() {
    let host = self::host().on(
        Method::Post,
        HOOK,
        FakeResponse::transport_error("connection refused"),
    );
    let err = run(&host, "post-webhook", json!({"text": "hi"})).unwrap_err();
    assert!(err.is_retryable());
    assert!(err.message().contains("<webhook url>"), "{err}");
    assert!(!err.message().contains("XXXXSECRET"), "{err}");
    let host = self::host().on(Method::Post, HOOK, FakeResponse::refused("not granted"));
    let err = run(&host, "post-webhook", json!({"text": "hi"})).unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert!(!err.message().contains("XXXXSECRET"), "{err}");
    let host = self::host().on(
        Method::Post,
        HOOK,
        FakeResponse::status(404).text(format!("no_service {HOOK}")),
    );
    let err = run(&host, "post-webhook", json!({"text": "hi"})).unwrap_err();
    assert!(!err.message().contains("XXXXSECRET"), "{err}");
}

#[test]
fn bad_input_and_secrets() {
    let host = host();
    for (input, message) in [
        (json!({}), "give text, blocks or both"),
        (
            json!({"text": "  ", "blocks": []}),
            "give text, blocks or both",
        ),
        (
            json!({"text": "x".repeat(40_001)}),
            "text: 40001 characters, at most 40000",
        ),
        (
            json!({"blocks": vec![json!({"type": "divider"}); 51]}),
            "blocks: 51 given, at most 50",
        ),
        (
            json!({"blocks": [{"text": "no type"}]}),
            "blocks[0]: a block is an object",
        ),
        (
            json!({"text": "x", "channel": "#ops"}),
            "unknown field `channel`",
        ),
    ] {
        let err = run(&host, "post-webhook", input.clone()).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{input}");
        assert!(err.message().contains(message), "{message}: {err}");
    }
    assert!(host.requests().is_empty());
    let err = run(&FakeHost::new(), "post-webhook", json!({"text": "x"})).unwrap_err();
    assert_eq!(
        err,
        StepError::fatal("secret slack_webhook_url is not granted to this step")
    );
    let host = FakeHost::new().with_secret("ops_hook", "hooks.slack.com/services/T/B/SECRETX");
    let err = run(
        &host,
        "post-webhook",
        json!({"text": "x", "connection": {"webhook_url_secret": "ops_hook"}}),
    )
    .unwrap_err();
    assert_eq!(
        err,
        StepError::fatal("secret ops_hook does not hold an http(s) webhook url")
    );
    let host = host_ok().with_kv_failure("store offline");
    assert_eq!(
        run(&host, "post-webhook", json!({"text": "x".repeat(40_000)})).unwrap(),
        json!({"changed": true})
    );
    assert_eq!(
        host.requests().len(),
        1,
        "a broken store does not stop a notification"
    );
}

fn host_ok() -> FakeHost {
    self::host().on(Method::Post, HOOK, FakeResponse::ok().text("ok"))
}
