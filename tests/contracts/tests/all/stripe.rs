//! Plugin `stripe` in the real host against Stripe's OpenAPI document
//! (`../shared/vendor-apis/stripe/spec3.json`, API version 2024-04-10),
//! served by the contract mock with Stripe's own fixtures
//! (`fixtures3.json`, the data stripe-mock answers with).
//!
//! Every request goes through a [`CheckedMock`] to the contract mock, which
//! validates it (path, query, form body down to each `metadata[...]` and
//! `expand[]` field, credentials); a refused request fails the test.
//!
//! Two workarounds, both on the answer side only (requests are always
//! validated):
//! - the mock answers list and search endpoints (`/v1/customers`,
//!   `/v1/customers/search`, `/v1/invoices`, `/v1/refunds`) with `{}`: their
//!   response schema is inline rather than a `$ref` to a fixture, and its
//!   example generator overflows on Stripe's circular schemas. The test
//!   answers them with Stripe's list envelope (`{object: "list", data,
//!   has_more, url}`) around the fixture objects;
//! - states the fixtures do not have (a paid invoice, an ended
//!   subscription) and error answers are scripted from Stripe's
//!   documentation, cited where they are written.

use relais_contract_tests::{Answer, Received, Reply, send_raw, step_error};
use relais_runtime::StepError;
use serde_json::{Value, json};

mod harness;

use harness::{Stripe, fixture, fixtures_script};

const KEY: &str = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
const SECRETS: &[(&str, &str)] = &[("stripe_api_key", KEY)];

#[tokio::test]
async fn reads_customers_invoices_subscriptions_and_events() {
    let stripe = Stripe::start(fixtures_script).await;
    let customer = fixture("customer");

    let out = stripe
        .ok("get-customer", json!({"customer": "cus_PEHTtYpY7elppN"}))
        .await;
    assert_eq!(out["id"], "cus_PEHTtYpY7elppN");
    assert_eq!(
        out["invoice_prefix"],
        Value::Null,
        "trimmed to the documented fields"
    );
    assert_eq!(out["balance"], customer["balance"]);
    assert_eq!(out["metadata"], customer["metadata"]);

    let out = stripe
        .ok(
            "find-customers",
            json!({"email": "jenny.rosen@example.com", "limit": 3}),
        )
        .await;
    assert_eq!(out["count"], 1);
    assert_eq!(out["customers"][0]["id"], customer["id"]);
    let out = stripe
        .ok(
            "find-customers",
            json!({"email": "jenny.rosen@example.com", "metadata": {"cpanel_user": "jenny"}}),
        )
        .await;
    assert_eq!(out["count"], 1);

    let out = stripe
        .ok(
            "list-invoices",
            json!({"customer": "cus_PEHTtYpY7elppN", "status": "past_due"}),
        )
        .await;
    assert_eq!(out["count"], 1, "the fixture's due date (2009) is past");
    assert_eq!(out["invoices"][0]["past_due"], true);
    assert_eq!(out["amount_remaining"], json!({"usd": 1000}));

    let out = stripe
        .ok(
            "get-invoice",
            json!({"invoice": "in_1OPouhJN5vQBdWExQl3czOuP"}),
        )
        .await;
    assert_eq!(out["id"], "in_1OPouhJN5vQBdWExQl3czOuP");
    assert_eq!(out["status"], "draft");
    assert_eq!(out["amount_due"], 1000);

    let out = stripe
        .ok("get-subscription", json!({"subscription": "sub_1"}))
        .await;
    assert_eq!(out["id"], "sub_1");
    assert_eq!(out["status"], "active");

    let out = stripe
        .ok(
            "get-event",
            json!({"event": "evt_1OPouqJN5vQBdWExgxCYZfvK"}),
        )
        .await;
    assert_eq!(out["type"], "plan.created");
    assert_eq!(
        out["data"]["object"]["id"],
        "price_1OPouiJN5vQBdWExAQaqTooZ"
    );

    stripe.assert_requests_kept_the_contract();
    let queries: Vec<String> = stripe
        .mock
        .exchanges()
        .iter()
        .filter(|e| !e.request.query.is_empty())
        .map(|e| {
            format!(
                "{} {}",
                e.request.path,
                e.request
                    .query_pairs()
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&")
            )
        })
        .collect();
    assert_eq!(
        queries,
        [
            "/v1/customers email=jenny.rosen@example.com&limit=3",
            "/v1/customers/search query=email:'jenny.rosen@example.com' AND metadata['cpanel_user']:'jenny'&limit=10",
            "/v1/invoices customer=cus_PEHTtYpY7elppN&status=open&limit=100",
        ]
    );
}

#[tokio::test]
async fn invoice_actions_post_forms_stripe_accepts() {
    let stripe = Stripe::start(fixtures_script).await;
    let invoice = "in_1OPouhJN5vQBdWExQl3czOuP";
    for (step, extra) in [
        ("finalize-invoice", json!({"auto_advance": true})),
        (
            "pay-invoice",
            json!({"payment_method": "pm_card_visa", "off_session": true}),
        ),
        ("pay-invoice", json!({"paid_out_of_band": true})),
        ("void-invoice", json!({})),
        ("send-invoice", json!({})),
    ] {
        let mut input = extra.clone();
        input["invoice"] = json!(invoice);
        let out = stripe.ok(step, input).await;
        assert_eq!(out["changed"], true, "{step}");
        assert_eq!(out["invoice"]["id"], invoice, "{step}");
    }
    stripe.assert_requests_kept_the_contract();
    let posts: Vec<(String, Vec<(String, String)>)> = stripe
        .mock
        .exchanges()
        .into_iter()
        .filter(|e| e.request.method == "POST")
        .map(|e| (e.request.path.clone(), e.request.form_pairs()))
        .collect();
    let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        posts,
        [
            (
                format!("/v1/invoices/{invoice}/finalize"),
                pairs(&[("auto_advance", "true")])
            ),
            (
                format!("/v1/invoices/{invoice}/pay"),
                pairs(&[("payment_method", "pm_card_visa"), ("off_session", "true")])
            ),
            (
                format!("/v1/invoices/{invoice}/pay"),
                pairs(&[("paid_out_of_band", "true")])
            ),
            (format!("/v1/invoices/{invoice}/void"), vec![]),
            (format!("/v1/invoices/{invoice}/send"), vec![]),
        ]
    );
}

#[tokio::test]
async fn payment_intents_and_refunds_post_forms_stripe_accepts() {
    let stripe = Stripe::start(fixtures_script).await;
    let out = stripe
        .ok(
            "create-payment-intent",
            json!({"amount": 4900, "currency": "EUR", "customer": "cus_PEHTtYpY7elppN",
                   "payment_method": "pm_card_visa", "payment_method_types": ["card", "sepa_debit"],
                   "confirm": true, "off_session": true, "capture_method": "manual",
                   "description": "Hosting, February", "receipt_email": "jenny@example.com",
                   "statement_descriptor_suffix": "HOSTING", "metadata": {"site": "acme.example", "plan": "pro"}}),
        )
        .await;
    assert_eq!(out["id"], "pi_1OPougJN5vQBdWEx8s2Dj0YR");
    assert_eq!(out["status"], "requires_payment_method");
    let out = stripe
        .ok(
            "confirm-payment-intent",
            json!({"payment_intent": "pi_1", "payment_method": "pm_card_visa", "off_session": true,
                   "return_url": "https://relais.example.com/return"}),
        )
        .await;
    assert_eq!(
        (out["changed"].clone(), out["payment_intent"]["id"].clone()),
        (json!(true), json!("pi_1"))
    );
    let out = stripe
        .ok(
            "capture-payment-intent",
            json!({"payment_intent": "pi_1", "amount_to_capture": 4000}),
        )
        .await;
    assert_eq!(out["changed"], true);
    let out = stripe
        .ok(
            "create-refund",
            json!({"payment_intent": "pi_1", "amount": 1000, "reason": "requested_by_customer",
                   "metadata": {"ticket": "T-42"}}),
        )
        .await;
    assert_eq!(out["changed"], true);
    assert_eq!(out["refund"]["id"], "re_1OPoujJN5vQBdWExUGBANu1j");
    assert_eq!(out["refund"]["status"], "succeeded");
    stripe.assert_requests_kept_the_contract();
    let create = &stripe.mock.exchanges()[0].request;
    assert!(
        create
            .form_pairs()
            .contains(&("payment_method_types[]".into(), "sepa_debit".into()))
    );
    assert!(
        create
            .form_pairs()
            .contains(&("metadata[site]".into(), "acme.example".into()))
    );
}

#[tokio::test]
async fn subscriptions_are_cancelled_at_period_end_or_now() {
    let stripe = Stripe::start(fixtures_script).await;
    let out = stripe
        .ok(
            "cancel-subscription",
            json!({"subscription": "sub_1", "comment": "client left"}),
        )
        .await;
    assert_eq!(out["changed"], true);
    let out = stripe
        .ok(
            "cancel-subscription",
            json!({"subscription": "sub_1", "at_period_end": false, "invoice_now": true, "prorate": true,
                   "comment": "fraud"}),
        )
        .await;
    assert_eq!(out["changed"], true);
    stripe.assert_requests_kept_the_contract();
    assert_eq!(
        stripe.mock.calls(),
        [
            "GET /v1/subscriptions/sub_1",
            "POST /v1/subscriptions/sub_1",
            "GET /v1/subscriptions/sub_1",
            "DELETE /v1/subscriptions/sub_1",
        ]
    );
    let delete = &stripe.mock.exchanges()[3].request;
    assert_eq!(
        delete.form_pairs(),
        [
            (
                "cancellation_details[comment]".to_owned(),
                "fraud".to_owned()
            ),
            ("invoice_now".to_owned(), "true".to_owned()),
            ("prorate".to_owned(), "true".to_owned()),
        ]
    );
}

#[tokio::test]
async fn objects_already_in_place_get_no_change() {
    // A paid invoice, a void one and an ended subscription, as the API
    // reference shows them (docs.stripe.com/api/invoices/object: `status`;
    // docs.stripe.com/api/subscriptions/object: `status: "canceled"`).
    let stripe = Stripe::start(|request: &Received| match request.path.as_str() {
        "/v1/invoices/in_paid" => {
            let mut paid = fixture("invoice");
            paid["id"] = json!("in_paid");
            paid["status"] = json!("paid");
            paid["paid"] = json!(true);
            paid["amount_paid"] = json!(1000);
            paid["amount_remaining"] = json!(0);
            Answer::Checked(Reply::json(200, &paid))
        }
        "/v1/invoices/in_void" => {
            let mut void = fixture("invoice");
            void["id"] = json!("in_void");
            void["status"] = json!("void");
            Answer::Checked(Reply::json(200, &void))
        }
        "/v1/subscriptions/sub_ended" => {
            let mut ended = fixture("subscription");
            ended["id"] = json!("sub_ended");
            ended["status"] = json!("canceled");
            Answer::Checked(Reply::json(200, &ended))
        }
        _ => Answer::Contract,
    })
    .await;
    for (step, input) in [
        ("pay-invoice", json!({"invoice": "in_paid"})),
        ("void-invoice", json!({"invoice": "in_void"})),
        ("finalize-invoice", json!({"invoice": "in_paid"})),
        ("cancel-subscription", json!({"subscription": "sub_ended"})),
        (
            "cancel-subscription",
            json!({"subscription": "sub_ended", "at_period_end": false}),
        ),
    ] {
        let out = stripe.ok(step, input).await;
        assert_eq!(out["changed"], false, "{step}");
    }
    stripe.assert_requests_kept_the_contract();
    assert!(
        stripe
            .mock
            .calls()
            .iter()
            .all(|call| call.starts_with("GET ")),
        "{:?}",
        stripe.mock.calls()
    );
}

#[tokio::test]
async fn stripe_errors_reach_the_engine_as_documented() {
    // Error bodies from docs.stripe.com/api/errors (the `error` object),
    // docs.stripe.com/declines/codes (`card_declined` + `decline_code`) and
    // docs.stripe.com/rate-limits (HTTP 429); `Stripe-Should-Retry` from
    // docs.stripe.com/error-low-level#server-errors. The requests are still
    // checked against the contract before these answers are sent.
    let stripe = Stripe::start(|request: &Received| {
        let error = |status: u16, body: Value| Answer::Checked(Reply::json(status, &json!({"error": body})).header("request-id", "req_contract"));
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/v1/invoices/in_declined") => {
                let mut open = fixture("invoice");
                open["status"] = json!("open");
                Answer::Checked(Reply::json(200, &open))
            }
            ("POST", "/v1/invoices/in_declined/pay") => error(402, json!({
                "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.", "doc_url": "https://stripe.com/docs/error-codes/card-declined"})),
            ("POST", "/v1/invoices/in_busy/send") => Answer::Checked(
                Reply::json(429, &json!({"error": {"type": "invalid_request_error", "code": "rate_limit",
                    "message": "Too many requests hit the API too quickly."}})).header("retry-after", "3")),
            ("GET", "/v1/customers/cus_gone") => error(404, json!({
                "type": "invalid_request_error", "code": "resource_missing", "param": "id",
                "message": "No such customer: 'cus_gone'"})),
            ("POST", "/v1/invoices/in_boom/send") => error(500, json!({"type": "api_error", "message": "An unknown error occurred"})),
            ("POST", "/v1/invoices/in_lock/send") => Answer::Checked(
                Reply::json(409, &json!({"error": {"type": "invalid_request_error", "code": "lock_timeout"}}))
                    .header("stripe-should-retry", "true")),
            _ => Answer::Contract,
        }
    })
    .await;

    let err = step_error(
        stripe
            .call("pay-invoice", json!({"invoice": "in_declined"}))
            .await,
    );
    assert_eq!(
        err,
        StepError::Fatal {
            message: "POST /v1/invoices/in_declined/pay [req_contract]: card declined (insufficient_funds): \
                      Your card has insufficient funds."
                .into()
        }
    );
    let err = step_error(
        stripe
            .call("send-invoice", json!({"invoice": "in_busy"}))
            .await,
    );
    assert!(
        matches!(
            err,
            StepError::Retryable {
                retry_after_ms: Some(3000),
                ..
            }
        ),
        "{err:?}"
    );
    let err = step_error(
        stripe
            .call("get-customer", json!({"customer": "cus_gone"}))
            .await,
    );
    assert!(
        matches!(&err, StepError::InvalidInput { message } if message.contains("No such customer")),
        "{err:?}"
    );
    let err = step_error(
        stripe
            .call("send-invoice", json!({"invoice": "in_boom"}))
            .await,
    );
    assert!(
        matches!(&err, StepError::Fatal { message } if message.contains("outcome is unknown")),
        "{err:?}"
    );
    let err = step_error(
        stripe
            .call("send-invoice", json!({"invoice": "in_lock"}))
            .await,
    );
    assert!(matches!(err, StepError::Retryable { .. }), "{err:?}");
    stripe.assert_requests_kept_the_contract();
}

#[tokio::test]
async fn the_contract_refuses_what_stripe_would() {
    // The harness itself: a parameter Stripe does not know, a wrong type and
    // a missing key are refused, so a plugin sending them fails the tests.
    let stripe = Stripe::start(fixtures_script).await;
    let auth = format!("Bearer {KEY}");
    let form = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("authorization", auth.as_str()),
    ];
    for (body, headers) in [
        (&b"bogus_param=1"[..], &form[..]),
        (&b"amount=abc&currency=eur"[..], &form[..]),
        (&b"amount=100&currency=eur"[..], &form[..1]),
    ] {
        let target = if body.starts_with(b"bogus") {
            "/v1/invoices/in_1/pay"
        } else {
            "/v1/payment_intents"
        };
        let (status, answer) = send_raw(stripe.mock.port, "POST", target, headers, body)
            .await
            .expect("the mock answers");
        assert!(
            matches!(status, 401 | 422),
            "{status}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    assert!(stripe.mock.exchanges().iter().all(|e| e.refused()));
}
