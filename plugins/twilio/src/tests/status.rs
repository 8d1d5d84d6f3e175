//! `message-status`.

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::FakeResponse;
use serde_json::json;

use super::{MESSAGES, SID, host, message, run};

fn status_of(
    status: &str,
    wait_until: &str,
) -> Result<serde_json::Value, relais_plugin_sdk::StepError> {
    let mut answer = message(status);
    if status == "undelivered" {
        answer["error_code"] = json!(30003);
        answer["error_message"] = json!("Unreachable destination handset");
    }
    let host = host().on(
        Method::Get,
        &format!("{MESSAGES}/{SID}.json"),
        FakeResponse::ok().json(&answer),
    );
    run(
        &host,
        "message-status",
        json!({"message": SID, "wait_until": wait_until}),
    )
}

#[test]
fn reports_the_status() {
    let out = status_of("delivered", "none").unwrap();
    assert_eq!(out["delivered"], true);
    assert_eq!(out["failed"], false);
    assert_eq!(out["pending"], false);
    assert_eq!(out["message"]["sid"], SID);
    let out = status_of("undelivered", "none").unwrap();
    assert_eq!(
        (out["failed"].clone(), out["message"]["error_code"].clone()),
        (json!(true), json!(30003))
    );
    let out = status_of("sending", "none").unwrap();
    assert_eq!(out["pending"], true);
}

#[test]
fn waits_for_delivery_through_retries() {
    for (status, wait, kind) in [
        ("queued", "sent", Some("retryable")),
        ("sending", "sent", Some("retryable")),
        ("sent", "sent", None),
        ("delivered", "sent", None),
        ("sent", "delivered", Some("retryable")),
        ("accepted", "delivered", Some("retryable")),
        ("delivered", "delivered", None),
        ("read", "delivered", None),
        ("undelivered", "delivered", Some("fatal")),
        ("failed", "sent", Some("fatal")),
        ("canceled", "delivered", Some("fatal")),
    ] {
        let result = status_of(status, wait);
        assert_eq!(
            result.as_ref().err().map(|e| e.kind()),
            kind,
            "{status} / {wait}: {result:?}"
        );
    }
    let err = status_of("undelivered", "delivered").unwrap_err();
    assert_eq!(
        err.message(),
        format!("message {SID} undelivered: error 30003 Unreachable destination handset")
    );
    let err = status_of("sent", "delivered").unwrap_err();
    assert_eq!(err.message(), format!("message {SID} is still sent"));
}

#[test]
fn message_sids_are_checked() {
    let host = host();
    for sid in [
        "SM123",
        "AC0123456789abcdef0123456789abcdef",
        "SM0123456789abcdef0123456789abcdeg",
        "SM/../x",
    ] {
        let err = run(&host, "message-status", json!({"message": sid})).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{sid}");
    }
    let err = run(
        &host,
        "message-status",
        json!({"message": SID, "wait_until": "read"}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
    assert!(host.requests().is_empty());
}
