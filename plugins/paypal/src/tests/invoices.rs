//! The invoicing steps.

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
use serde_json::{Value, json};

use super::{BASE, api_requests, host, paypal_error, run};

const ID: &str = "INV2-Z56S-5LLA-Q52L-CPZ5";

fn invoice(status: &str) -> FakeResponse {
    FakeResponse::ok().json(&json!({
        "id": ID, "status": status,
        "detail": {"invoice_number": "2025-0042", "reference": "site-42", "currency_code": "EUR",
                   "payment_term": {"term_type": "NET_10", "due_date": "2025-02-10"},
                   "metadata": {"recipient_view_url": "https://www.paypal.com/invoice/p/#Z56S"}},
        "primary_recipients": [{"billing_info": {"email_address": "ann@example.com"}}],
        "amount": {"currency_code": "EUR", "value": "59.80"},
        "due_amount": {"currency_code": "EUR", "value": "59.80"},
    }))
}

fn url(suffix: &str) -> String {
    format!("{BASE}/v2/invoicing/invoices{suffix}")
}

fn create_input() -> Value {
    json!({
        "recipient": {"email": "ann@example.com", "given_name": "Ann", "surname": "Lee", "business_name": "Acme"},
        "currency": "eur",
        "items": [{"name": "Hosting", "description": "Pro plan, February", "quantity": "2", "unit_amount": "29.90"},
                  {"name": "Domain", "unit_amount": "0.5"}],
        "invoice_number": "2025-0042", "reference": "site-42", "note": "Thank you", "terms": "Due in 10 days",
        "memo": "internal", "payment_term": "NET_10",
    })
}

#[test]
fn create_sends_the_document_with_the_request_id() {
    let host = host().on(Method::Post, &url(""), invoice("DRAFT"));
    let out = run(&host, "create-invoice", create_input()).unwrap();
    assert_eq!(
        out,
        json!({"changed": true, "invoice": {
            "id": ID, "status": "DRAFT", "invoice_number": "2025-0042", "reference": "site-42",
            "currency_code": "EUR", "amount": {"currency_code": "EUR", "value": "59.80"},
            "due_amount": {"currency_code": "EUR", "value": "59.80"}, "due_date": "2025-02-10",
            "recipient_email": "ann@example.com",
            "recipient_view_url": "https://www.paypal.com/invoice/p/#Z56S"}})
    );
    let sent = &api_requests(&host)[0];
    assert_eq!(sent.header("paypal-request-id"), Some("run-1/collect"));
    assert_eq!(
        sent.json(),
        json!({
            "detail": {"currency_code": "EUR", "invoice_number": "2025-0042", "reference": "site-42",
                       "note": "Thank you", "term": "Due in 10 days", "memo": "internal",
                       "payment_term": {"term_type": "NET_10"}},
            "primary_recipients": [{"billing_info": {"email_address": "ann@example.com",
                "name": {"given_name": "Ann", "surname": "Lee"}, "business_name": "Acme"}}],
            "items": [
                {"name": "Hosting", "description": "Pro plan, February", "quantity": "2",
                 "unit_amount": {"currency_code": "EUR", "value": "29.90"}},
                {"name": "Domain", "quantity": "1", "unit_amount": {"currency_code": "EUR", "value": "0.5"}},
            ],
        })
    );
}

#[test]
fn a_minimal_answer_still_gives_the_id() {
    let host = host().on(
        Method::Post,
        &url(""),
        FakeResponse::status(201).json(&json!({"rel": "self", "href": format!("{BASE}/v2/invoicing/invoices/{ID}"), "method": "GET"})),
    );
    let out = run(&host, "create-invoice", create_input()).unwrap();
    assert_eq!(out["invoice"]["id"], ID);
}

#[test]
fn a_used_invoice_number_returns_that_invoice() {
    let host = host()
        .on(
            Method::Post,
            &url(""),
            paypal_error(422, "UNPROCESSABLE_ENTITY", "DUPLICATE_INVOICE_NUMBER", "Invoice number is already used."),
        )
        .on(
            Method::Post,
            &format!("{BASE}/v2/invoicing/search-invoices"),
            FakeResponse::ok().json(&json!({"total_items": 1, "items": [{"id": ID, "status": "SENT", "detail": {"invoice_number": "2025-0042"}}]})),
        );
    let out = run(&host, "create-invoice", create_input()).unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(out["invoice"]["id"], ID);
    assert_eq!(out["invoice"]["status"], "SENT");
    assert_eq!(
        api_requests(&host)[1].json(),
        json!({"invoice_number": "2025-0042"})
    );
}

#[test]
fn create_refuses_bad_input_before_any_request() {
    let host = host();
    let item = json!({"name": "x", "unit_amount": "1.00"});
    let cases: Vec<(Value, &str)> = vec![
        (json!({"currency": "euro"}), "currency"),
        (json!({"items": []}), "items: 0 given, 1 to 100 allowed"),
        (
            json!({"items": vec![item.clone(); 101]}),
            "items: 101 given",
        ),
        (
            json!({"items": [{"name": " ", "unit_amount": "1"}]}),
            "items[0].name: empty",
        ),
        (
            json!({"items": [{"name": "x", "unit_amount": "1.005"}]}),
            "items[0].unit_amount",
        ),
        (
            json!({"items": [{"name": "x", "unit_amount": "-1"}]}),
            "items[0].unit_amount",
        ),
        (
            json!({"items": [{"name": "x", "unit_amount": "1."}]}),
            "items[0].unit_amount",
        ),
        (
            json!({"items": [{"name": "x", "unit_amount": "1", "quantity": "1,5"}]}),
            "items[0].quantity",
        ),
        (
            json!({"due_date": "2025-02-10", "payment_term": "NET_10"}),
            "not both",
        ),
        (
            json!({"payment_term": null, "due_date": "10/02/2025"}),
            "is not YYYY-MM-DD",
        ),
        (json!({"payment_term": "NET_7"}), "is not one of"),
        (json!({"recipient": {"email": "ann"}}), "recipient.email"),
        (
            json!({"recipient": {"email": "a@b.c", "phone": "1"}}),
            "unknown field `phone`",
        ),
    ];
    for (change, message) in cases {
        let mut input = create_input();
        input["payment_term"] = Value::Null;
        for (key, value) in change.as_object().unwrap() {
            input[key] = value.clone();
        }
        if input["payment_term"].is_null() {
            input.as_object_mut().unwrap().remove("payment_term");
        }
        let err = run(&host, "create-invoice", input.clone()).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{input}");
        assert!(err.message().contains(message), "{message}: {err}");
    }
    assert!(host.requests().is_empty());
    let mut input = create_input();
    input["items"] = json!(vec![item; 100]);
    input["due_date"] = json!("2025-02-10");
    input.as_object_mut().unwrap().remove("payment_term");
    let host = super::host().on(Method::Post, &url(""), invoice("DRAFT"));
    run(&host, "create-invoice", input).unwrap();
    let sent = api_requests(&host)[0].json();
    assert_eq!(sent["items"].as_array().unwrap().len(), 100);
    assert_eq!(
        sent["detail"]["payment_term"],
        json!({"due_date": "2025-02-10"})
    );
}

fn notify(host: &FakeHost, step: &str) -> Value {
    run(host, step, json!({"invoice": ID, "subject": "Your invoice", "note": "Thanks", "send_to_invoicer": true})).unwrap()
}

#[test]
fn send_only_drafts() {
    let host = host()
        .on_once(Method::Get, &url(&format!("/{ID}")), invoice("DRAFT"))
        .on(
            Method::Post,
            &url(&format!("/{ID}/send")),
            FakeResponse::ok().json(&json!({"rel": "self", "href": "x", "method": "GET"})),
        )
        .on(Method::Get, &url(&format!("/{ID}")), invoice("SENT"));
    let out = notify(&host, "send-invoice");
    assert_eq!(out["changed"], true);
    assert_eq!(out["invoice"]["status"], "SENT");
    let sent = &api_requests(&host)[1];
    assert_eq!(sent.header("paypal-request-id"), Some("run-1/collect"));
    assert_eq!(
        sent.json(),
        json!({"send_to_invoicer": true, "send_to_recipient": true, "subject": "Your invoice", "note": "Thanks"})
    );
    let out = notify(&host, "send-invoice");
    assert_eq!(out["changed"], false);
    assert_eq!(api_requests(&host).len(), 4);
}

#[test]
fn remind_only_unpaid_invoices() {
    let host = host()
        .on(Method::Get, &url(&format!("/{ID}")), invoice("UNPAID"))
        .on(
            Method::Post,
            &url(&format!("/{ID}/remind")),
            FakeResponse::status(204),
        );
    let out = notify(&host, "remind-invoice");
    assert_eq!(out["changed"], true);
    assert_eq!(
        api_requests(&host)[1].json(),
        json!({"send_to_invoicer": true, "subject": "Your invoice", "note": "Thanks"})
    );
    for status in [
        "PAID",
        "MARKED_AS_PAID",
        "CANCELLED",
        "REFUNDED",
        "PAYMENT_PENDING",
    ] {
        let host = super::host().on(Method::Get, &url(&format!("/{ID}")), invoice(status));
        let out = notify(&host, "remind-invoice");
        assert_eq!(out["changed"], false, "{status}");
        assert_eq!(api_requests(&host).len(), 1, "{status}: no reminder");
    }
    let host = super::host().on(Method::Get, &url(&format!("/{ID}")), invoice("DRAFT"));
    let err = run(&host, "remind-invoice", json!({"invoice": ID})).unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert!(err.message().contains("was never sent"), "{err}");
}

#[test]
fn cancel_is_a_no_op_when_cancelled() {
    let host = host()
        .on_once(Method::Get, &url(&format!("/{ID}")), invoice("SENT"))
        .on(
            Method::Post,
            &url(&format!("/{ID}/cancel")),
            FakeResponse::status(204),
        )
        .on(Method::Get, &url(&format!("/{ID}")), invoice("CANCELLED"));
    let out = run(
        &host,
        "cancel-invoice",
        json!({"invoice": ID, "send_to_recipient": false}),
    )
    .unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(out["invoice"]["status"], "CANCELLED");
    assert_eq!(
        api_requests(&host)[1].json(),
        json!({"send_to_invoicer": false, "send_to_recipient": false})
    );
    let out = run(&host, "cancel-invoice", json!({"invoice": ID})).unwrap();
    assert_eq!(out["changed"], false);
    let err = run(&host, "get-invoice", json!({"invoice": "INV2/../x"})).unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
    let out = run(&host, "get-invoice", json!({"invoice": ID})).unwrap();
    assert_eq!(out["recipient_email"], "ann@example.com");
}

#[test]
fn an_answer_without_an_id_or_amount_is_handled() {
    let host = host().on(
        Method::Post,
        &url(""),
        FakeResponse::status(201)
            .json(&json!({"detail": {"currency_code": "EUR"}, "amount": {"breakdown": {}}})),
    );
    let err = run(&host, "create-invoice", create_input()).unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert!(err.message().contains("names no invoice id"), "{err}");
    let host = super::host().on(
        Method::Get,
        &url(&format!("/{ID}")),
        FakeResponse::ok().json(&json!({"id": ID, "status": "SENT", "amount": {"breakdown": {}}})),
    );
    let out = run(&host, "get-invoice", json!({"invoice": ID})).unwrap();
    assert_eq!(out["amount"], Value::Null);
}
