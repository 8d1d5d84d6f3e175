//! The invoice steps.

use relais_plugin_sdk::clock;
use relais_plugin_sdk::http::Method;
use serde_json::json;

use super::{BASE, host, invoice, ok, run, stripe_error};

fn list_url(query: &str) -> String {
    format!("{BASE}/v1/invoices?customer=cus_1&{query}")
}

#[test]
fn list_reads_page_after_page_up_to_max() {
    let mut usd = invoice("in_3", "open");
    usd["currency"] = json!("usd");
    let host = host()
        .on(
            Method::Get,
            &list_url("status=open&limit=3"),
            ok(json!({"data": [invoice("in_1", "open"), invoice("in_2", "open")], "has_more": true})),
        )
        .on(
            Method::Get,
            &list_url("status=open&limit=1&starting_after=in_2"),
            ok(json!({"data": [usd], "has_more": true})),
        );
    let out = run(
        &host,
        "list-invoices",
        json!({"customer": "cus_1", "max": 3}),
    )
    .unwrap();
    assert_eq!(out["count"], 3);
    assert_eq!(out["has_more"], true);
    assert_eq!(out["amount_remaining"], json!({"eur": 3000, "usd": 1500}));
    let ids: Vec<_> = out["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["in_1", "in_2", "in_3"]);
    assert_eq!(host.requests().len(), 2);
}

#[test]
fn list_stops_when_stripe_has_no_more() {
    let host = host().on(
        Method::Get,
        &list_url("status=paid&limit=100"),
        ok(json!({"data": [invoice("in_1", "paid")], "has_more": false})),
    );
    let out = run(
        &host,
        "list-invoices",
        json!({"customer": "cus_1", "status": "paid"}),
    )
    .unwrap();
    assert_eq!(out["count"], 1);
    assert_eq!(out["has_more"], false);
    assert_eq!(out["invoices"][0]["past_due"], false);
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn past_due_keeps_overdue_or_failed_open_invoices() {
    let now = clock::unix_now();
    let mut overdue = invoice("in_overdue", "open");
    overdue["due_date"] = json!(now - 3600);
    let mut not_yet_due = invoice("in_later", "open");
    not_yet_due["due_date"] = json!(now + 3600);
    let mut failed = invoice("in_failed", "open");
    failed["attempted"] = json!(true);
    failed["attempt_count"] = json!(2);
    let mut settled = invoice("in_zero", "open");
    settled["due_date"] = json!(now - 3600);
    settled["amount_remaining"] = json!(0);
    let host = host().on(
        Method::Get,
        &list_url("status=open&limit=100"),
        ok(json!({"data": [overdue, not_yet_due, failed, settled, invoice("in_fresh", "open")], "has_more": false})),
    );
    let out = run(
        &host,
        "list-invoices",
        json!({"customer": "cus_1", "status": "past_due"}),
    )
    .unwrap();
    let ids: Vec<_> = out["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i["past_due"].as_bool().unwrap()))
        .collect();
    assert_eq!(ids, [("in_overdue", true), ("in_failed", true)]);
    assert_eq!(out["amount_remaining"], json!({"eur": 3000}));
}

#[test]
fn list_limits() {
    let host = host();
    for max in [0, 1001] {
        let err = run(
            &host,
            "list-invoices",
            json!({"customer": "cus_1", "max": max}),
        )
        .unwrap_err();
        assert_eq!(err.kind(), "invalid-input");
        assert!(err.message().contains("is not between 1 and 1000"), "{err}");
    }
    let err = run(
        &host,
        "list-invoices",
        json!({"customer": "cus_1", "status": "late"}),
    )
    .unwrap_err();
    assert!(err.message().contains("unknown variant `late`"), "{err}");
    assert!(host.requests().is_empty());
    let host = super::host().on(
        Method::Get,
        &list_url("status=open&limit=100"),
        ok(json!({"data": [], "has_more": true})),
    );
    let out = run(
        &host,
        "list-invoices",
        json!({"customer": "cus_1", "max": 1000}),
    )
    .unwrap();
    assert_eq!(out["count"], 0);
    assert_eq!(host.requests().len(), 1, "an empty page ends the listing");
}

#[test]
fn pay_reads_then_charges_with_the_idempotency_key() {
    let url = format!("{BASE}/v1/invoices/in_1");
    let mut paid = invoice("in_1", "paid");
    paid["amount_paid"] = json!(1500);
    paid["amount_remaining"] = json!(0);
    let host = host()
        .on(Method::Get, &url, ok(invoice("in_1", "open")))
        .on(Method::Post, &format!("{url}/pay"), ok(paid));
    let out = run(
        &host,
        "pay-invoice",
        json!({"invoice": "in_1", "payment_method": "pm_card", "off_session": false}),
    )
    .unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(out["invoice"]["status"], "paid");
    assert_eq!(out["invoice"]["amount_remaining"], 0);
    let requests = host.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("idempotency-key"), Some("run-1/charge"));
    assert_eq!(
        requests[1].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        requests[1].text(),
        "payment_method=pm_card&off_session=false"
    );
}

#[test]
fn pay_is_a_no_op_on_a_paid_invoice_and_fatal_on_a_void_one() {
    let url = format!("{BASE}/v1/invoices/in_1");
    let host = host().on(Method::Get, &url, ok(invoice("in_1", "paid")));
    let out = run(&host, "pay-invoice", json!({"invoice": "in_1"})).unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(out["invoice"]["status"], "paid");
    assert_eq!(host.requests().len(), 1, "nothing but the read");

    let host = super::host().on(Method::Get, &url, ok(invoice("in_1", "void")));
    let err = run(&host, "pay-invoice", json!({"invoice": "in_1"})).unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert_eq!(err.message(), "invoice in_1 is void: it cannot be paid");
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn pay_out_of_band_and_declines() {
    let url = format!("{BASE}/v1/invoices/in_1");
    let host = host()
        .on(Method::Get, &url, ok(invoice("in_1", "open")))
        .on(
            Method::Post,
            &format!("{url}/pay"),
            stripe_error(
                402,
                json!({"type": "card_error", "code": "card_declined", "decline_code": "do_not_honor", "message": "Your card was declined."}),
            ),
        );
    let err = run(
        &host,
        "pay-invoice",
        json!({"invoice": "in_1", "paid_out_of_band": true}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert!(
        err.message().contains("card declined (do_not_honor)"),
        "{err}"
    );
    assert_eq!(host.requests()[1].text(), "paid_out_of_band=true");
    let err = run(
        &host,
        "pay-invoice",
        json!({"invoice": "in_1", "payment_method": "cus_1"}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
}

#[test]
fn finalize_only_drafts() {
    let url = format!("{BASE}/v1/invoices/in_1");
    let host = host()
        .on_once(Method::Get, &url, ok(invoice("in_1", "draft")))
        .on(
            Method::Post,
            &format!("{url}/finalize"),
            ok(invoice("in_1", "open")),
        )
        .on(Method::Get, &url, ok(invoice("in_1", "open")));
    let out = run(
        &host,
        "finalize-invoice",
        json!({"invoice": "in_1", "auto_advance": false}),
    )
    .unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(out["invoice"]["status"], "open");
    assert_eq!(host.requests()[1].text(), "auto_advance=false");
    let out = run(&host, "finalize-invoice", json!({"invoice": "in_1"})).unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(host.requests().len(), 3);
}

#[test]
fn void_is_a_no_op_when_void() {
    let url = format!("{BASE}/v1/invoices/in_1");
    let host = host()
        .on_once(Method::Get, &url, ok(invoice("in_1", "open")))
        .on(
            Method::Post,
            &format!("{url}/void"),
            ok(invoice("in_1", "void")),
        )
        .on(Method::Get, &url, ok(invoice("in_1", "void")));
    let out = run(&host, "void-invoice", json!({"invoice": "in_1"})).unwrap();
    assert_eq!(
        (out["changed"].clone(), out["invoice"]["status"].clone()),
        (json!(true), json!("void"))
    );
    assert_eq!(host.requests()[1].text(), "");
    assert_eq!(
        host.requests()[1].header("idempotency-key"),
        Some("run-1/charge")
    );
    let out = run(&host, "void-invoice", json!({"invoice": "in_1"})).unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(host.requests().len(), 3);
}

#[test]
fn send_and_get() {
    let url = format!("{BASE}/v1/invoices/in_1");
    let host = host()
        .on(
            Method::Post,
            &format!("{url}/send"),
            ok(invoice("in_1", "open")),
        )
        .on(Method::Get, &url, ok(invoice("in_1", "open")));
    let out = run(&host, "send-invoice", json!({"invoice": "in_1"})).unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(
        host.requests()[0].header("idempotency-key"),
        Some("run-1/charge")
    );
    let out = run(&host, "get-invoice", json!({"invoice": "in_1"})).unwrap();
    assert_eq!(out["id"], "in_1");
    assert_eq!(out["metadata"], json!({}), "null metadata reads as empty");
    assert_eq!(out["number"], "A-1");
}
