//! `verify-webhook-signature`.

use std::collections::BTreeMap;

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::FakeResponse;
use serde_json::{Value, json};

use super::{BASE, api_requests, host, run};

fn headers() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("PAYPAL-AUTH-ALGO", "SHA256withRSA"),
        (
            "paypal-cert-url",
            "https://api.paypal.com/v1/notifications/certs/CERT-360caa42",
        ),
        (
            "Paypal-Transmission-Id",
            "103e3700-8b0c-11e6-8695-6b62a8a99ac4",
        ),
        ("paypal-transmission-sig", "t8q2QiUUe0iSeSKrw=="),
        ("paypal-transmission-time", "2025-01-01T10:00:00Z"),
        ("content-type", "application/json"),
    ])
}

fn event() -> Value {
    json!({"id": "WH-2WR32451HC0233532-67976317FL4543714", "event_type": "PAYMENT.CAPTURE.COMPLETED",
           "resource": {"id": "3C679366HH908993F"}})
}

fn verdict(status: &str) -> FakeResponse {
    FakeResponse::ok().json(&json!({"verification_status": status}))
}

const URL: &str = "https://api-m.paypal.com/v1/notifications/verify-webhook-signature";

#[test]
fn a_genuine_delivery_is_verified() {
    let host = host().on(Method::Post, URL, verdict("SUCCESS"));
    let out = run(
        &host,
        "verify-webhook-signature",
        json!({"webhook_id": "1JE4291016473214C", "headers": headers(), "event": event()}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"verified": true, "verification_status": "SUCCESS",
               "event_id": "WH-2WR32451HC0233532-67976317FL4543714", "event_type": "PAYMENT.CAPTURE.COMPLETED"})
    );
    let sent = &api_requests(&host)[0];
    assert_eq!(
        sent.json(),
        json!({
            "auth_algo": "SHA256withRSA",
            "cert_url": "https://api.paypal.com/v1/notifications/certs/CERT-360caa42",
            "transmission_id": "103e3700-8b0c-11e6-8695-6b62a8a99ac4",
            "transmission_sig": "t8q2QiUUe0iSeSKrw==",
            "transmission_time": "2025-01-01T10:00:00Z",
            "webhook_id": "1JE4291016473214C",
            "webhook_event": event(),
        })
    );
    assert_eq!(
        sent.header("paypal-request-id"),
        None,
        "a check changes nothing"
    );
    let _ = BASE;
}

#[test]
fn a_forged_delivery_fails_unless_asked_not_to() {
    let host = host().on(Method::Post, URL, verdict("FAILURE"));
    let input = json!({"webhook_id": "1JE4291016473214C", "headers": headers(), "event": event()});
    let err = run(&host, "verify-webhook-signature", input.clone()).unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert_eq!(
        err.message(),
        "webhook delivery 103e3700-8b0c-11e6-8695-6b62a8a99ac4 (PAYMENT.CAPTURE.COMPLETED): signature not valid (FAILURE)"
    );
    let mut lenient = input;
    lenient["fail_if_invalid"] = json!(false);
    let out = run(&host, "verify-webhook-signature", lenient).unwrap();
    assert_eq!(out["verified"], false);
    assert_eq!(out["verification_status"], "FAILURE");
}

#[test]
fn a_delivery_without_signature_or_object_is_not_sent_to_paypal() {
    let host = host().on(Method::Post, URL, verdict("SUCCESS"));
    let mut partial = headers();
    partial.remove("paypal-transmission-sig");
    for (headers, event) in [
        (partial, event()),
        (headers(), json!("raw text")),
        (BTreeMap::new(), event()),
    ] {
        let out = run(
            &host,
            "verify-webhook-signature",
            json!({"webhook_id": "1JE4291016473214C", "headers": headers, "event": event, "fail_if_invalid": false}),
        )
        .unwrap();
        assert_eq!(out["verified"], false);
        assert_eq!(out["verification_status"], "FAILURE");
    }
    assert!(host.requests().is_empty(), "no token, no verification call");
    let err = run(
        &host,
        "verify-webhook-signature",
        json!({"webhook_id": "1JE4-bad", "headers": headers(), "event": event()}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
}
