//! Plugin `paypal` in the real host against PayPal's OpenAPI documents
//! (`../shared/vendor-apis/paypal/`: Orders v2, Invoicing v2 and
//! Notifications/Webhooks v1).
//!
//! The plugin calls one base URL; PayPal publishes one document per API. The
//! three are merged at test time into one (each document's components
//! prefixed with its name, so equal names cannot clash) and served by one
//! contract mock behind a [`CheckedMock`]. Every request is validated, body
//! included; a refused request fails the test.
//!
//! Known gaps of the mock, worked around here:
//! - `POST /v1/oauth2/token` is in no document (only as the OAuth2
//!   `tokenUrl`): the test answers it, as PayPal documents it
//!   (developer.paypal.com/api/rest/authentication/: basic auth with the
//!   client id and secret, form body `grant_type=client_credentials`, answer
//!   `{scope, access_token, token_type: "Bearer", app_id, expires_in,
//!   nonce}`), and refuses wrong credentials with `401
//!   {"error": "invalid_client"}`;
//! - the mock accepts any credential for an OAuth2 scheme: the test itself
//!   refuses (401, PayPal's `AUTHENTICATION_FAILURE` body) a call without
//!   the bearer token it issued;
//! - states the examples do not have (an order already captured, an
//!   invoice paid) and errors are scripted from PayPal's reference pages,
//!   cited where they are written; the request is still validated first.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use relais_contract_tests::{
    Answer, CheckedMock, ContractMock, Received, Reply, SpecFile, invoke_with_kv, plugin,
    step_error,
};
use relais_runtime::{InvokeError, KvStore, MemoryKv, Plugin, StepError};
use serde_json::{Value, json};

mod contract;

use contract::{Tokens, paypal_contract};

const CLIENT_ID: &str =
    "AeA1QIZXiflr1_-r0U2UbWTziOWX1GRQer5jkUq4ZfWT5qwb6qQRPq7jDtv57TL4POEEezGLdutcxnkJ";
const CLIENT_SECRET: &str =
    "ECYYrrSHdKfk_Q0EdvzdGkzj58a66kKaUQ5dZAEv4HvvtDId2_DpSuYDB088BZxGuMji7G4OFUnPog6p";
const SECRETS: &[(&str, &str)] = &[
    ("paypal_client_id", CLIENT_ID),
    ("paypal_client_secret", CLIENT_SECRET),
];
const INVOICE: &str = "INV2-Z56S-5LLA-Q52L-CPZ5";
const ORDER: &str = "5O190127TN364715T";

/// PayPal's error body (developer.paypal.com/api/rest/responses/).
fn paypal_error(status: u16, name: &str, issue: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({"name": name, "message": "The requested action could not be performed.",
                "debug_id": "90957fca61718", "details": [{"issue": issue, "description": description}]}),
    )
}

/// An invoice in `status`, in the shape of invoicing's `invoice` schema.
fn invoice(status: &str) -> Reply {
    Reply::json(
        200,
        &json!({"id": INVOICE, "status": status,
                "detail": {"invoice_number": "2025-0042", "currency_code": "EUR",
                           "metadata": {"recipient_view_url": "https://www.paypal.com/invoice/p/#Z56S5LLAQ52LCPZ5"}},
                "primary_recipients": [{"billing_info": {"email_address": "jenny@example.com"}}],
                "amount": {"currency_code": "EUR", "value": "59.80"}}),
    )
}

struct PayPal {
    mock: CheckedMock,
    plugin: Plugin,
    kv: Arc<MemoryKv>,
    tokens: Arc<Tokens>,
    _contract: ContractMock,
    _spec: SpecFile,
}

impl PayPal {
    async fn start(
        refuse_first: bool,
        script: impl Fn(&Received) -> Answer + Send + Sync + 'static,
    ) -> Self {
        let spec = paypal_contract();
        let contract = ContractMock::start_quick(spec.path(), None);
        let tokens = Arc::new(Tokens {
            issued: AtomicUsize::new(0),
            refuse_first,
        });
        let gate = tokens.clone();
        let mock = CheckedMock::start(Some(&contract), move |request: &Received| {
            gate.answer(request).unwrap_or_else(|| script(request))
        })
        .await;
        let plugin = plugin("paypal", &[mock.origin()]).await;
        Self {
            mock,
            plugin,
            kv: Arc::new(MemoryKv::default()),
            tokens,
            _contract: contract,
            _spec: spec,
        }
    }

    async fn call(&self, step: &str, mut input: Value) -> Result<Value, InvokeError> {
        input["connection"] = json!({"base_url": self.mock.base_url()});
        invoke_with_kv(&self.plugin, step, input, SECRETS, self.kv.clone())
            .await
            .result
    }

    async fn ok(&self, step: &str, input: Value) -> Value {
        self.call(step, input)
            .await
            .unwrap_or_else(|err| panic!("{step}: {err}"))
    }

    /// Requests other than the token's.
    fn api_calls(&self) -> Vec<String> {
        self.mock
            .calls()
            .into_iter()
            .filter(|c| c != "POST /v1/oauth2/token")
            .collect()
    }
}

#[tokio::test]
async fn orders_are_read_and_captured_with_one_token() {
    let paypal = PayPal::start(false, |_: &Received| Answer::Contract).await;
    let out = paypal.ok("get-order", json!({"order": ORDER})).await;
    assert!(out["id"].is_string(), "{out}");
    let out = paypal.ok("capture-order", json!({"order": ORDER})).await;
    assert_eq!(out["changed"], true);
    paypal.mock.assert_contract_kept();
    assert_eq!(
        paypal.tokens.issued.load(Ordering::SeqCst),
        1,
        "the token is kept between steps"
    );
    // Kept with its expiry, computed with the sandbox's wall clock.
    let key = format!("oauth-token:{}:{CLIENT_ID}", paypal.mock.base_url());
    let stored = paypal
        .kv
        .get("paypal", &key)
        .await
        .ok()
        .flatten()
        .expect("the token is stored");
    let stored: Value = serde_json::from_slice(&stored).expect("stored as JSON");
    assert_eq!(stored["access_token"], "A21AAtoken1");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let expires_at = stored["expires_at"].as_i64().unwrap_or(0);
    assert!(
        (expires_at - now - 32400).abs() < 120,
        "{expires_at} vs {now}"
    );
    assert_eq!(
        paypal.api_calls(),
        [
            format!("GET /v2/checkout/orders/{ORDER}"),
            format!("POST /v2/checkout/orders/{ORDER}/capture")
        ]
    );
    let capture = &paypal.mock.exchanges()[2].request;
    assert_eq!(
        capture.header("paypal-request-id"),
        Some("run-contract/capture-order")
    );
    assert_eq!(capture.header("prefer"), Some("return=representation"));
}

#[tokio::test]
async fn invoices_are_created_sent_reminded_and_cancelled() {
    // The document's example answer to a create is the draft it was sent,
    // without the `id` and `status` PayPal adds: that answer is scripted from
    // the reference's "Create draft invoice" response instead (201 with the
    // invoice, `status: "DRAFT"`).
    let paypal = PayPal::start(false, |request: &Received| {
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/v2/invoicing/invoices") => {
                let mut draft = request.json();
                draft["id"] = json!(INVOICE);
                draft["status"] = json!("DRAFT");
                draft["amount"] = json!({"currency_code": "EUR", "value": "59.80"});
                Answer::Checked(Reply::json(201, &draft))
            }
            ("GET", path) if path.starts_with("/v2/invoicing/invoices/INV2-DRAFT") => {
                Answer::Checked(invoice("DRAFT"))
            }
            ("GET", path) if path.starts_with("/v2/invoicing/invoices/INV2-SENT") => {
                Answer::Checked(invoice("SENT"))
            }
            _ => Answer::Contract,
        }
    })
    .await;
    let out = paypal
        .ok(
            "create-invoice",
            json!({"recipient": {"email": "jenny@example.com", "given_name": "Jenny", "surname": "Rosen",
                                 "business_name": "Acme"},
                   "currency": "eur",
                   "items": [{"name": "Hosting", "description": "Pro plan, February", "quantity": "1", "unit_amount": "49.90"},
                             {"name": "Domain", "quantity": "2", "unit_amount": "4.95"}],
                   "invoice_number": "2025-0042", "reference": "site-42", "note": "Thank you", "terms": "Net 10",
                   "memo": "internal", "due_date": "2025-02-10"}),
        )
        .await;
    assert_eq!(out["changed"], true);
    assert_eq!(out["invoice"]["id"], INVOICE);
    assert_eq!(out["invoice"]["status"], "DRAFT");
    assert_eq!(out["invoice"]["invoice_number"], "2025-0042");
    assert_eq!(out["invoice"]["due_date"], "2025-02-10");
    assert_eq!(out["invoice"]["recipient_email"], "jenny@example.com");
    assert_eq!(
        out["invoice"]["amount"],
        json!({"currency_code": "EUR", "value": "59.80"})
    );
    let notify = json!({"subject": "Your invoice", "note": "Thanks", "send_to_invoicer": true});
    for (step, invoice) in [
        ("send-invoice", "INV2-DRAFT-0001"),
        ("remind-invoice", "INV2-SENT-0002"),
        ("cancel-invoice", "INV2-SENT-0003"),
    ] {
        let mut input = notify.clone();
        input["invoice"] = json!(invoice);
        let out = paypal.ok(step, input).await;
        assert_eq!(out["changed"], true, "{step}");
    }
    paypal.mock.assert_contract_kept();
    assert_eq!(
        paypal.api_calls(),
        [
            "POST /v2/invoicing/invoices",
            "GET /v2/invoicing/invoices/INV2-DRAFT-0001",
            "POST /v2/invoicing/invoices/INV2-DRAFT-0001/send",
            "GET /v2/invoicing/invoices/INV2-DRAFT-0001",
            "GET /v2/invoicing/invoices/INV2-SENT-0002",
            "POST /v2/invoicing/invoices/INV2-SENT-0002/remind",
            "GET /v2/invoicing/invoices/INV2-SENT-0003",
            "POST /v2/invoicing/invoices/INV2-SENT-0003/cancel",
            "GET /v2/invoicing/invoices/INV2-SENT-0003",
        ]
    );
    let posts: Vec<Received> = paypal
        .mock
        .exchanges()
        .into_iter()
        .map(|e| e.request)
        .filter(|r| r.method == "POST" && r.path != "/v1/oauth2/token")
        .collect();
    assert!(posts.iter().all(|r| {
        r.header("paypal-request-id")
            .is_some_and(|id| id.starts_with("run-contract/"))
    }));
    assert_eq!(
        posts[0].json()["items"][1]["unit_amount"],
        json!({"currency_code": "EUR", "value": "4.95"})
    );
    assert_eq!(
        posts[2].json(),
        json!({"send_to_invoicer": true, "subject": "Your invoice", "note": "Thanks"})
    );
}

#[tokio::test]
async fn work_already_done_is_not_done_again() {
    // ORDER_ALREADY_CAPTURED and DUPLICATE_INVOICE_NUMBER are 422 issues
    // listed in the Orders v2 and Invoicing v2 references.
    let paypal = PayPal::start(false, |request: &Received| {
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/v2/checkout/orders/5O190127TN364715T/capture") => Answer::Checked(paypal_error(
                422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED", "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.")),
            ("POST", "/v2/invoicing/invoices") => Answer::Checked(paypal_error(
                422, "UNPROCESSABLE_ENTITY", "DUPLICATE_INVOICE_NUMBER", "Invoice number is a duplicate.")),
            ("POST", "/v2/invoicing/search-invoices") => Answer::Checked(Reply::json(
                200, &json!({"total_items": 1, "total_pages": 1, "items": [{"id": INVOICE, "status": "SENT",
                    "detail": {"invoice_number": "2025-0042", "currency_code": "EUR"}}]}))),
            ("GET", "/v2/invoicing/invoices/INV2-Z56S-5LLA-Q52L-CPZ5") => Answer::Checked(invoice("PAID")),
            _ => Answer::Contract,
        }
    })
    .await;
    let out = paypal.ok("capture-order", json!({"order": ORDER})).await;
    assert_eq!(out["changed"], false);
    let out = paypal
        .ok(
            "create-invoice",
            json!({"recipient": {"email": "jenny@example.com"}, "currency": "EUR",
                   "items": [{"name": "Hosting", "unit_amount": "49.90"}], "invoice_number": "2025-0042"}),
        )
        .await;
    assert_eq!(out["changed"], false);
    assert_eq!(out["invoice"]["id"], INVOICE);
    for step in ["send-invoice", "remind-invoice", "cancel-invoice"] {
        let out = paypal.ok(step, json!({"invoice": INVOICE})).await;
        assert_eq!(
            out["changed"],
            step == "cancel-invoice",
            "{step}: a paid invoice is only cancelled on request"
        );
    }
    paypal.mock.assert_contract_kept();
    let calls = paypal.api_calls();
    assert!(
        !calls
            .iter()
            .any(|c| c.ends_with("/send") || c.ends_with("/remind")),
        "{calls:?}"
    );
}

#[tokio::test]
async fn webhook_deliveries_are_checked_by_paypal() {
    let verdicts = Arc::new(AtomicUsize::new(0));
    let count = verdicts.clone();
    let paypal = PayPal::start(false, move |request: &Received| {
        if request.path == "/v1/notifications/verify-webhook-signature"
            && count.fetch_add(1, Ordering::SeqCst) > 0
        {
            // The reference's other documented answer.
            return Answer::Checked(Reply::json(200, &json!({"verification_status": "FAILURE"})));
        }
        Answer::Contract
    })
    .await;
    let input = json!({
        "webhook_id": "1JE4291016473214C",
        "headers": {"PAYPAL-AUTH-ALGO": "SHA256withRSA",
                    "PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77",
                    "PAYPAL-TRANSMISSION-ID": "103e3700-8b0c-11e6-8695-6b62a8a99ac4",
                    "PAYPAL-TRANSMISSION-SIG": "t8q2QiUUe0iSeSKrw4b0YRhfnTcWQnN0Ux3Qb3e1tNl7y1uMq9KYOl2tS5U0c2IY3rGvPUS0gVBkN2v96kUi0Sg==",
                    "PAYPAL-TRANSMISSION-TIME": "2016-10-05T14:57:40Z"},
        "event": {"id": "WH-0G2756385H040842W-5Y612302CV158622M", "create_time": "2018-19-12T22:20:32.000Z",
                  "resource_type": "capture", "event_type": "PAYMENT.CAPTURE.COMPLETED",
                  "summary": "Payment completed for $ 2.0 USD", "resource": {"id": "3C679366HH908993F"}},
    });
    let out = paypal.ok("verify-webhook-signature", input.clone()).await;
    assert_eq!(out["verification_status"], "SUCCESS");
    assert_eq!(out["verified"], true);
    let err = step_error(paypal.call("verify-webhook-signature", input).await);
    assert!(
        matches!(&err, StepError::Fatal { message } if message.contains("signature not valid (FAILURE)")),
        "{err:?}"
    );
    paypal.mock.assert_contract_kept();
    let sent = paypal
        .mock
        .exchanges()
        .last()
        .map(|e| e.request.json())
        .unwrap_or_default();
    assert_eq!(
        sent["transmission_id"],
        "103e3700-8b0c-11e6-8695-6b62a8a99ac4"
    );
    assert_eq!(sent["webhook_event"]["resource"]["id"], "3C679366HH908993F");
}

#[tokio::test]
async fn a_refused_token_is_renewed_and_errors_map_as_documented() {
    // The first token is refused (401 AUTHENTICATION_FAILURE, as after a
    // credential rotation): the plugin gets a second and tries once more.
    // INSTRUMENT_DECLINED (422) and RATE_LIMIT_REACHED (429) are in PayPal's
    // orders reference and developer.paypal.com/api/rest/reference/rate-limiting/.
    let paypal = PayPal::start(true, |request: &Received| {
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/v2/checkout/orders/DECLINED1/capture") => Answer::Checked(paypal_error(
                422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED", "The instrument presented  was either declined by the processor or bank, or it can't be used for this payment.")),
            ("GET", "/v2/checkout/orders/BUSY1") => Answer::Checked(
                paypal_error(429, "RATE_LIMIT_REACHED", "RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting.")
                    .header("retry-after", "5")),
            _ => Answer::Contract,
        }
    })
    .await;
    paypal.ok("get-order", json!({"order": ORDER})).await;
    assert_eq!(paypal.tokens.issued.load(Ordering::SeqCst), 2);
    assert_eq!(
        paypal.api_calls(),
        [
            format!("GET /v2/checkout/orders/{ORDER}"),
            format!("GET /v2/checkout/orders/{ORDER}")
        ]
    );
    let err = step_error(
        paypal
            .call("capture-order", json!({"order": "DECLINED1"}))
            .await,
    );
    assert!(
        matches!(&err, StepError::Fatal { message } if message.contains("paypal refused (INSTRUMENT_DECLINED)")),
        "{err:?}"
    );
    let err = step_error(paypal.call("get-order", json!({"order": "BUSY1"})).await);
    assert!(
        matches!(
            err,
            StepError::Retryable {
                retry_after_ms: Some(5000),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        paypal.tokens.issued.load(Ordering::SeqCst),
        2,
        "the renewed token is kept"
    );
    let refused: Vec<u16> = paypal
        .mock
        .exchanges()
        .iter()
        .filter(|e| e.contract.is_none())
        .map(|e| e.status)
        .collect();
    assert_eq!(refused, [200, 401, 200], "token, refused first call, token");
    paypal.mock.assert_contract_kept();
}

#[tokio::test]
async fn wrong_client_credentials_are_fatal() {
    let paypal = PayPal::start(false, |_: &Received| Answer::Contract).await;
    let mut input = json!({"order": ORDER});
    input["connection"] = json!({"base_url": paypal.mock.base_url()});
    let secrets = [
        ("paypal_client_id", CLIENT_ID),
        ("paypal_client_secret", "wrong"),
    ];
    let result = invoke_with_kv(
        &paypal.plugin,
        "get-order",
        input,
        &secrets,
        paypal.kv.clone(),
    )
    .await
    .result;
    let err = step_error(result);
    assert!(
        matches!(&err, StepError::Fatal { message } if message.contains("invalid_client")),
        "{err:?}"
    );
    assert!(paypal.api_calls().is_empty());
}
