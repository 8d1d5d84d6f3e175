//! Error mapping: what WHM, the network and the host can do wrong, and the
//! step error each becomes.

use std::time::Duration;

use relais_plugin_sdk::StepError;
use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
use serde_json::{Value, json};

use super::support::*;

fn suspend(host: &FakeHost) -> Result<Value, StepError> {
    run(
        host,
        "suspend-account",
        json!({"connection": connection(), "user": "bob"}),
    )
}

fn answering(response: FakeResponse) -> FakeHost {
    whm_host().on(Method::Get, &lookup("bob"), response)
}

#[test]
fn transport_failures_and_busy_servers_are_retryable() {
    let err = suspend(&answering(FakeResponse::transport_error(
        "connection timed out",
    )))
    .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.message().contains("connection timed out"), "{err}");

    for status in [500, 502, 503, 504] {
        let err = suspend(&answering(FakeResponse::status(status))).unwrap_err();
        assert!(err.is_retryable(), "{status}: {err}");
    }
    let err = suspend(&answering(
        FakeResponse::status(429).header("retry-after", "120"),
    ))
    .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));

    let err = suspend(&answering(failed(
        "listaccts",
        "Unable to obtain a lock. Try again later.",
    )))
    .unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[test]
fn refused_credentials_are_fatal_and_name_the_secret() {
    for status in [401, 403] {
        let err = suspend(&answering(
            FakeResponse::status(status).text("Access denied"),
        ))
        .unwrap_err();
        assert_eq!(err.kind(), "fatal", "{status}");
        assert_eq!(
            err.to_string(),
            format!(
                "whm refused the credentials of root for listaccts (http {status}): Access \
                 denied: check connection.username and the token in secret whm_api_token"
            )
        );
        assert!(!err.message().contains(TOKEN));
    }
}

#[test]
fn whm_failures_follow_their_reason() {
    let err = suspend(&answering(failed(
        "listaccts",
        "Permission denied: this token lacks the list-accts ACL",
    )))
    .unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert_eq!(
        err.to_string(),
        "whm listaccts failed: Permission denied: this token lacks the list-accts ACL"
    );
    let err = suspend(&answering(FakeResponse::ok().json(&json!({
        "metadata": {"command": "listaccts", "result": "0", "version": 1}
    }))))
    .unwrap_err();
    assert_eq!(err.to_string(), "whm listaccts failed: no reason given");
}

#[test]
fn answers_that_are_not_whm_are_fatal() {
    for (response, detail) in [
        (
            FakeResponse::ok()
                .header("content-type", "text/html")
                .body("<html>cPanel Login</html>"),
            "(http 200: <html>cPanel Login</html>)",
        ),
        (
            FakeResponse::status(301).header("location", "https://whm.example.net:2087/login"),
            "(http 301: redirected to https://whm.example.net:2087/login)",
        ),
        (
            FakeResponse::ok().json(&json!({"cpanelresult": {"error": "Unknown app"}})),
            "(http 200: no metadata in the reply)",
        ),
        (
            FakeResponse::ok().json(&json!({"metadata": {"reason": "OK"}})),
            "(http 200: no metadata.result in the reply)",
        ),
    ] {
        let err = suspend(&answering(response)).unwrap_err();
        assert_eq!(err.kind(), "fatal", "{detail}");
        assert_eq!(
            err.to_string(),
            format!(
                "the answer to whm listaccts is not a whm api 1 reply {detail}: check that \
                 connection.url is the WHM address (port 2087)"
            )
        );
    }
}

#[test]
fn a_destination_the_host_refuses_is_fatal() {
    let err = suspend(&answering(FakeResponse::refused(
        "whm.example.net:2087 is not granted",
    )))
    .unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert!(err.message().contains("is not granted"), "{err}");
}

#[test]
fn connection_settings_are_checked() {
    let cases = [
        (
            json!({"url": "http://whm.example.net"}),
            "invalid-input",
            "plain http",
        ),
        (
            json!({"url": "whm.example.net", "verify_tls": "no"}),
            "invalid-input",
            "verify_tls",
        ),
        (
            json!({"url": "whm.example.net", "username": "ro ot"}),
            "invalid-input",
            "username",
        ),
        (
            json!({"url": "whm.example.net", "token": "abc"}),
            "invalid-input",
            "unknown field",
        ),
        (
            json!({"url": "whm.example.net", "token_secret": "other"}),
            "fatal",
            "secret other",
        ),
    ];
    for (connection, kind, why) in cases {
        let host = whm_host();
        let err = run(
            &host,
            "suspend-account",
            json!({"connection": connection, "user": "bob"}),
        )
        .unwrap_err();
        assert_eq!(err.kind(), kind, "{why}: {err}");
        assert!(err.message().contains(why), "{why}: {err}");
        assert!(host.requests().is_empty());
    }
    let host = FakeHost::new().with_secret("whm_api_token", "two words");
    let err = run(
        &host,
        "test-connection",
        json!({"connection": connection()}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "secret whm_api_token does not hold a WHM API token (it is empty or contains spaces)"
    );
}

#[test]
fn reseller_tokens_and_trimmed_secrets() {
    let host = FakeHost::new()
        .with_secret("reseller_token", "  ABC123\n")
        .on(
            Method::Get,
            "https://203.0.113.5:2087/json-api/version?api.version=1",
            ok("version", json!({"version": "11.110.0.8"})),
        );
    let out = run(
        &host,
        "test-connection",
        json!({"connection": {"url": "https://203.0.113.5:2087/", "username": "agency",
            "token_secret": "reseller_token"}}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"ok": true, "version": "11.110.0.8", "username": "agency"})
    );
    assert_eq!(
        host.requests()[0].header("authorization"),
        Some("whm agency:ABC123")
    );
}

#[test]
fn unknown_steps_and_bad_json_are_invalid_input() {
    let host = whm_host();
    let err = run(&host, "reboot-server", json!({})).unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
    assert!(
        err.message().contains("has no step \"reboot-server\""),
        "{err}"
    );
    let err = run(&host, "suspend-account", json!({"user": "bob"})).unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
    assert!(
        err.message()
            .starts_with("invalid input: missing field `connection`"),
        "{err}"
    );
}
