//! `get-order` and `capture-order`.

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::FakeResponse;
use serde_json::{Value, json};

use super::{BASE, api_requests, host, paypal_error, run};

fn order(status: &str, capture_status: Option<&str>) -> Value {
    let payments = match capture_status {
        Some(status) => json!({"captures": [{"id": "3C679366HH908993F", "status": status,
            "amount": {"currency_code": "EUR", "value": "49.00"}, "final_capture": true,
            "create_time": "2025-01-01T10:00:00Z"}]}),
        None => json!({}),
    };
    json!({
        "id": "5O190127TN364715T", "status": status, "intent": "CAPTURE",
        "payer": {"payer_id": "QYR5Z8XDVJNXQ", "email_address": "ann@example.com",
                  "name": {"given_name": "Ann", "surname": "Lee"}},
        "purchase_units": [{"reference_id": "default", "custom_id": "site-42",
                            "amount": {"currency_code": "EUR", "value": "49.00"}, "payments": payments}],
        "create_time": "2025-01-01T09:59:00Z",
        "links": [{"href": "https://api-m.paypal.com/v2/checkout/orders/5O190127TN364715T", "rel": "self", "method": "GET"}],
    })
}

fn url(suffix: &str) -> String {
    format!("{BASE}/v2/checkout/orders/5O190127TN364715T{suffix}")
}

#[test]
fn get_order_reads_payer_units_and_captures() {
    let host = host().on(
        Method::Get,
        &url(""),
        FakeResponse::ok().json(&order("COMPLETED", Some("COMPLETED"))),
    );
    let out = run(&host, "get-order", json!({"order": "5O190127TN364715T"})).unwrap();
    assert_eq!(out["status"], "COMPLETED");
    assert_eq!(out["payer"]["email_address"], "ann@example.com");
    assert_eq!(out["purchase_units"][0]["custom_id"], "site-42");
    assert_eq!(
        out["purchase_units"][0]["payments"]["captures"][0]["id"],
        "3C679366HH908993F"
    );
    assert!(out.get("links").is_none());
}

#[test]
fn capture_posts_once_with_the_request_id() {
    let host = host().on(
        Method::Post,
        &url("/capture"),
        FakeResponse::status(201).json(&order("COMPLETED", Some("COMPLETED"))),
    );
    let out = run(
        &host,
        "capture-order",
        json!({"order": "5O190127TN364715T"}),
    )
    .unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(out["capture"]["id"], "3C679366HH908993F");
    assert_eq!(out["order"]["status"], "COMPLETED");
    let sent = &api_requests(&host)[0];
    assert_eq!(sent.header("paypal-request-id"), Some("run-1/collect"));
    assert_eq!(sent.header("prefer"), Some("return=representation"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.json(), json!({}));
}

#[test]
fn an_order_already_captured_is_a_no_op() {
    let host = host()
        .on(
            Method::Post,
            &url("/capture"),
            paypal_error(
                422,
                "UNPROCESSABLE_ENTITY",
                "ORDER_ALREADY_CAPTURED",
                "Order already captured.",
            ),
        )
        .on(
            Method::Get,
            &url(""),
            FakeResponse::ok().json(&order("COMPLETED", Some("COMPLETED"))),
        );
    let out = run(
        &host,
        "capture-order",
        json!({"order": "5O190127TN364715T"}),
    )
    .unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(out["capture"]["status"], "COMPLETED");
    assert_eq!(api_requests(&host).len(), 2);
}

#[test]
fn declines_are_fatal() {
    let host = host().on(
        Method::Post,
        &url("/capture"),
        paypal_error(
            422,
            "UNPROCESSABLE_ENTITY",
            "INSTRUMENT_DECLINED",
            "The instrument presented was declined.",
        ),
    );
    let err = run(
        &host,
        "capture-order",
        json!({"order": "5O190127TN364715T"}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert_eq!(
        err.message(),
        "POST /v2/checkout/orders/5O190127TN364715T/capture [dbg42]: paypal refused (INSTRUMENT_DECLINED): \
         The instrument presented was declined."
    );
    let host = super::host().on(
        Method::Post,
        &url("/capture"),
        FakeResponse::status(201).json(&order("COMPLETED", Some("DECLINED"))),
    );
    let err = run(
        &host,
        "capture-order",
        json!({"order": "5O190127TN364715T"}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert!(
        err.message()
            .contains("paypal refused (DECLINED): capture 3C679366HH908993F"),
        "{err}"
    );
}

#[test]
fn order_ids_are_checked() {
    let host = host();
    for id in ["", "5O19/../../v1/x", "a b", &"A".repeat(37)] {
        let err = run(&host, "capture-order", json!({"order": id})).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{id:?}");
    }
    assert!(host.requests().is_empty(), "not even a token");
}
