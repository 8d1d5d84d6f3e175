//! Subscriptions and events.

use relais_plugin_sdk::http::Method;
use serde_json::{Value, json};

use super::{BASE, host, ok, run};

fn subscription(status: &str, cancel_at_period_end: bool) -> Value {
    json!({
        "id": "sub_1", "object": "subscription", "status": status, "customer": "cus_1",
        "cancel_at_period_end": cancel_at_period_end, "current_period_end": 1767225600,
        "latest_invoice": "in_1", "livemode": false, "metadata": {"site": "acme.example"},
        "items": {"object": "list", "data": []},
    })
}

const URL: &str = "https://api.stripe.com/v1/subscriptions/sub_1";

#[test]
fn cancel_at_period_end_posts_once() {
    let host = host()
        .on_once(Method::Get, URL, ok(subscription("active", false)))
        .on(Method::Post, URL, ok(subscription("active", true)))
        .on(Method::Get, URL, ok(subscription("active", true)));
    let input = json!({"subscription": "sub_1", "comment": "client left"});
    let out = run(&host, "cancel-subscription", input.clone()).unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(out["subscription"]["cancel_at_period_end"], true);
    assert_eq!(out["subscription"]["metadata"]["site"], "acme.example");
    let sent = &host.requests()[1];
    assert_eq!(sent.method, Method::Post);
    assert_eq!(sent.header("idempotency-key"), Some("run-1/charge"));
    assert_eq!(
        sent.text(),
        "cancellation_details%5Bcomment%5D=client+left&cancel_at_period_end=true"
    );
    let out = run(&host, "cancel-subscription", input).unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(host.requests().len(), 3);
}

#[test]
fn cancel_now_deletes_and_ended_ones_are_left_alone() {
    let host = host()
        .on_once(Method::Get, URL, ok(subscription("past_due", true)))
        .on(Method::Delete, URL, ok(subscription("canceled", false)))
        .on(Method::Get, URL, ok(subscription("canceled", false)));
    let input = json!({"subscription": "sub_1", "at_period_end": false, "invoice_now": true, "prorate": false});
    let out = run(&host, "cancel-subscription", input.clone()).unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(out["subscription"]["status"], "canceled");
    let sent = &host.requests()[1];
    assert_eq!(sent.text(), "invoice_now=true&prorate=false");
    assert_eq!(sent.header("idempotency-key"), None);
    for input in [input, json!({"subscription": "sub_1"})] {
        let out = run(&host, "cancel-subscription", input).unwrap();
        assert_eq!(out["changed"], false);
    }
    assert_eq!(host.requests().len(), 4);
}

#[test]
fn cancel_options_that_do_not_fit() {
    let host = host();
    let err = run(
        &host,
        "cancel-subscription",
        json!({"subscription": "sub_1", "prorate": true}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
    assert!(err.message().contains("at_period_end: false"), "{err}");
    let err = run(&host, "get-subscription", json!({"subscription": "si_1"})).unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
    assert!(host.requests().is_empty());
}

#[test]
fn get_subscription_and_event() {
    let host = host()
        .on(Method::Get, URL, ok(subscription("active", false)))
        .on(
            Method::Get,
            &format!("{BASE}/v1/events/evt_1"),
            ok(json!({
                "id": "evt_1", "object": "event", "type": "invoice.payment_failed", "created": 1700000000,
                "livemode": true, "api_version": "2024-04-10", "pending_webhooks": 1,
                "data": {"object": {"id": "in_1", "object": "invoice", "customer": "cus_1"}},
                "request": {"id": null, "idempotency_key": null},
            })),
        );
    let out = run(&host, "get-subscription", json!({"subscription": "sub_1"})).unwrap();
    assert_eq!(out["status"], "active");
    assert_eq!(out["latest_invoice"], "in_1");
    let out = run(&host, "get-event", json!({"event": "evt_1"})).unwrap();
    assert_eq!(
        out,
        json!({
            "id": "evt_1", "type": "invoice.payment_failed", "created": 1700000000, "livemode": true,
            "api_version": "2024-04-10", "pending_webhooks": 1,
            "data": {"object": {"id": "in_1", "object": "invoice", "customer": "cus_1"}, "previous_attributes": null},
        })
    );
}
