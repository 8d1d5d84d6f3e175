//! Payment intents and refunds.

use relais_plugin_sdk::http::Method;
use serde_json::{Value, json};

use super::{BASE, host, ok, run, stripe_error};

fn intent(status: &str) -> Value {
    json!({
        "id": "pi_1", "object": "payment_intent", "status": status, "amount": 2000,
        "amount_capturable": 0, "amount_received": 0, "currency": "eur", "customer": "cus_1",
        "payment_method": {"id": "pm_1", "object": "payment_method"}, "latest_charge": "ch_1",
        "capture_method": "automatic", "livemode": false, "metadata": {},
        "next_action": null, "last_payment_error": null,
    })
}

fn unexpected_state() -> relais_plugin_sdk::testing::FakeResponse {
    stripe_error(
        400,
        json!({"type": "invalid_request_error", "code": "payment_intent_unexpected_state",
               "message": "This PaymentIntent's status is succeeded"}),
    )
}

#[test]
fn create_sends_the_form_with_the_idempotency_key() {
    let host = host().on(
        Method::Post,
        &format!("{BASE}/v1/payment_intents"),
        ok(intent("succeeded")),
    );
    let out = run(
        &host,
        "create-payment-intent",
        json!({
            "amount": 2000, "currency": "EUR", "customer": "cus_1", "payment_method": "pm_1",
            "payment_method_types": ["card"], "confirm": true, "off_session": true,
            "capture_method": "manual", "description": "Hosting 2025", "receipt_email": "a@b.c",
            "statement_descriptor_suffix": "HOSTING", "metadata": {"plan": "pro", "site": "a b"},
        }),
    )
    .unwrap();
    assert_eq!(out["id"], "pi_1");
    assert_eq!(out["status"], "succeeded");
    assert_eq!(
        out["payment_method"], "pm_1",
        "an expanded field reads as its id"
    );
    let sent = &host.requests()[0];
    assert_eq!(sent.header("idempotency-key"), Some("run-1/charge"));
    assert_eq!(
        sent.text(),
        "amount=2000&currency=eur&customer=cus_1&payment_method=pm_1\
         &payment_method_types%5B%5D=card&confirm=true&off_session=true&capture_method=manual\
         &description=Hosting+2025&receipt_email=a%40b.c&statement_descriptor_suffix=HOSTING\
         &metadata%5Bplan%5D=pro&metadata%5Bsite%5D=a+b"
    );
}

#[test]
fn create_refuses_bad_input() {
    let host = host();
    for (input, message) in [
        (
            json!({"amount": 0, "currency": "eur"}),
            "amount: must be at least 1",
        ),
        (
            json!({"amount": -5, "currency": "eur"}),
            "invalid value: integer `-5`",
        ),
        (
            json!({"amount": 100, "currency": "euro"}),
            "is not a three-letter ISO code",
        ),
        (
            json!({"amount": 100, "currency": "e1r"}),
            "is not a three-letter ISO code",
        ),
        (
            json!({"amount": 100, "currency": "eur", "off_session": true}),
            "only apply with confirm",
        ),
        (
            json!({"amount": 100, "currency": "eur", "metadata": {"a[b]": "x"}}),
            "without brackets",
        ),
        (
            json!({"amount": 100, "currency": "eur", "metadata": {"k".repeat(41): "x"}}),
            "1 to 40 characters",
        ),
        (
            json!({"amount": 100, "currency": "eur", "statement_descriptor_suffix": "x".repeat(23)}),
            "at most 22",
        ),
        (
            json!({"amount": 100, "currency": "eur", "capture_method": "later"}),
            "unknown variant",
        ),
    ] {
        let err = run(&host, "create-payment-intent", input.clone()).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{input}");
        assert!(err.message().contains(message), "{input}: {err}");
    }
    assert!(host.requests().is_empty());
    let host = super::host().on(
        Method::Post,
        &format!("{BASE}/v1/payment_intents"),
        ok(intent("requires_payment_method")),
    );
    let metadata = json!({"k".repeat(40): "x"});
    run(
        &host,
        "create-payment-intent",
        json!({"amount": 1, "currency": "eur", "metadata": metadata}),
    )
    .unwrap();
    assert_eq!(host.requests().len(), 1, "a 40-character key is fine");
}

#[test]
fn confirm_and_capture_move_the_intent_on() {
    let url = format!("{BASE}/v1/payment_intents/pi_1");
    let host = host()
        .on(
            Method::Post,
            &format!("{url}/confirm"),
            ok(intent("requires_capture")),
        )
        .on(
            Method::Post,
            &format!("{url}/capture"),
            ok(intent("succeeded")),
        );
    let out = run(
        &host,
        "confirm-payment-intent",
        json!({"payment_intent": "pi_1", "payment_method": "pm_2", "off_session": true}),
    )
    .unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(out["payment_intent"]["status"], "requires_capture");
    assert_eq!(
        host.requests()[0].text(),
        "payment_method=pm_2&off_session=true"
    );
    let out = run(
        &host,
        "capture-payment-intent",
        json!({"payment_intent": "pi_1", "amount_to_capture": 1500}),
    )
    .unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(host.requests()[1].text(), "amount_to_capture=1500");
    assert_eq!(
        host.requests()[1].header("idempotency-key"),
        Some("run-1/charge")
    );
    let err = run(
        &host,
        "capture-payment-intent",
        json!({"payment_intent": "pi_1", "amount_to_capture": 0}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
}

#[test]
fn an_intent_already_past_the_step_is_a_no_op() {
    let url = format!("{BASE}/v1/payment_intents/pi_1");
    let host = host()
        .on(Method::Post, &format!("{url}/capture"), unexpected_state())
        .on(Method::Post, &format!("{url}/confirm"), unexpected_state())
        .on(Method::Get, &url, ok(intent("succeeded")));
    for step in ["capture-payment-intent", "confirm-payment-intent"] {
        let out = run(&host, step, json!({"payment_intent": "pi_1"})).unwrap();
        assert_eq!(out["changed"], false, "{step}");
        assert_eq!(out["payment_intent"]["status"], "succeeded");
    }
    assert_eq!(host.requests().len(), 4);
}

#[test]
fn an_intent_in_another_state_keeps_stripes_error() {
    let url = format!("{BASE}/v1/payment_intents/pi_1");
    let host = host()
        .on(Method::Post, &format!("{url}/capture"), unexpected_state())
        .on(Method::Get, &url, ok(intent("requires_payment_method")));
    let err = run(
        &host,
        "capture-payment-intent",
        json!({"payment_intent": "pi_1"}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
    assert!(
        err.message()
            .contains("This PaymentIntent's status is succeeded"),
        "{err}"
    );
}

#[test]
fn refunds_and_already_refunded_charges() {
    let refund = json!({"id": "re_1", "object": "refund", "amount": 500, "currency": "eur",
                        "charge": "ch_1", "payment_intent": "pi_1", "status": "succeeded",
                        "reason": "requested_by_customer", "metadata": {"ticket": "42"}});
    let host = host()
        .on_once(
            Method::Post,
            &format!("{BASE}/v1/refunds"),
            ok(refund.clone()),
        )
        .on(
            Method::Post,
            &format!("{BASE}/v1/refunds"),
            stripe_error(
                400,
                json!({"type": "invalid_request_error", "code": "charge_already_refunded",
                                      "message": "Charge ch_1 has already been refunded."}),
            ),
        )
        .on(
            Method::Get,
            &format!("{BASE}/v1/refunds?payment_intent=pi_1&limit=1"),
            ok(json!({"data": [refund], "has_more": false})),
        );
    let input = json!({"payment_intent": "pi_1", "amount": 500, "reason": "requested_by_customer",
                       "metadata": {"ticket": "42"}});
    let out = run(&host, "create-refund", input.clone()).unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(out["refund"]["id"], "re_1");
    assert_eq!(
        host.requests()[0].text(),
        "payment_intent=pi_1&amount=500&reason=requested_by_customer&metadata%5Bticket%5D=42"
    );
    let out = run(&host, "create-refund", input).unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(out["refund"]["id"], "re_1");
    assert_eq!(host.requests().len(), 3);
}

#[test]
fn refund_needs_exactly_one_target() {
    let host = host();
    for input in [
        json!({}),
        json!({"payment_intent": "pi_1", "charge": "ch_1"}),
        json!({"charge": "pi_1"}),
        json!({"charge": "ch_1", "amount": 0}),
        json!({"charge": "ch_1", "reason": "changed_mind"}),
    ] {
        let err = run(&host, "create-refund", input.clone()).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{input}");
    }
    assert!(host.requests().is_empty());
}
