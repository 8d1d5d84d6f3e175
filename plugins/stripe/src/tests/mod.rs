//! Native tests through the SDK's fake host.

mod customers;
mod errors;
mod invoices;
mod payments;
mod subscriptions;

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{
    FakeHost, FakeResponse, Readme, assert_inputs_are_strict, input_schemas,
};
use relais_plugin_sdk::{Context, StepError};
use serde_json::{Value, json};

use crate::PLUGIN;

const README: Readme<'static> = Readme::new(include_str!("../../README.md"));
use crate::api::{MAX_IDEMPOTENCY_KEY, idempotency_key};

pub(crate) const BASE: &str = "https://api.stripe.com";

/// A host that grants the default API key secret.
pub(crate) fn host() -> FakeHost {
    FakeHost::new().with_secret("stripe_api_key", "sk_test_123")
}

pub(crate) fn cx() -> Context {
    Context::new("run-1", "charge")
}

pub(crate) fn run(host: &FakeHost, step: &str, input: Value) -> Result<Value, StepError> {
    host.invoke(&PLUGIN, step, input, &cx())
}

pub(crate) fn ok(body: Value) -> FakeResponse {
    FakeResponse::ok().json(&body)
}

/// A Stripe error answer.
pub(crate) fn stripe_error(status: u16, error: Value) -> FakeResponse {
    FakeResponse::status(status)
        .json(&json!({ "error": error }))
        .header("request-id", "req_42")
}

pub(crate) fn invoice(id: &str, status: &str) -> Value {
    json!({
        "id": id, "object": "invoice", "status": status, "customer": "cus_1",
        "currency": "eur", "total": 1500, "amount_due": 1500, "amount_paid": 0,
        "amount_remaining": 1500, "attempted": false, "attempt_count": 0,
        "collection_method": "charge_automatically", "due_date": null,
        "livemode": false, "metadata": null, "number": "A-1",
    })
}

#[test]
fn declaration_is_valid_and_every_input_is_strict_with_a_connection() {
    assert_inputs_are_strict(&PLUGIN, &["connection"]);
    let info = PLUGIN.describe();
    assert_eq!(info.name, "stripe");
    assert_eq!(info.steps.len(), 15);
    for step in &info.steps {
        let output: Value = serde_json::from_str(&step.output_schema).unwrap();
        assert_eq!(output["type"], "object", "{}", step.name);
    }
}

#[test]
fn readme_documents_every_step_and_input_field() {
    README.assert_documents_inputs(&PLUGIN, &["connection"]);
}

#[test]
fn requests_carry_key_version_and_account() {
    let host = host().on(
        Method::Get,
        &format!("{BASE}/v1/customers/cus_1"),
        ok(json!({"id": "cus_1"})),
    );
    run(
        &host,
        "get-customer",
        json!({"customer": "cus_1", "connection": {"account": "acct_9"}}),
    )
    .unwrap();
    let sent = &host.requests()[0];
    assert_eq!(sent.header("authorization"), Some("Bearer sk_test_123"));
    assert_eq!(sent.header("stripe-version"), Some("2024-04-10"));
    assert_eq!(sent.header("stripe-account"), Some("acct_9"));
    assert_eq!(sent.header("idempotency-key"), None, "GET carries no key");
}

#[test]
fn connection_names_the_secret_and_the_base_url() {
    let host = FakeHost::new().with_secret("stripe_live", "sk_live_9").on(
        Method::Get,
        "http://127.0.0.1:9/v1/customers/cus_1",
        ok(json!({"id": "cus_1"})),
    );
    let input = json!({
        "customer": "cus_1",
        "connection": {"base_url": "http://127.0.0.1:9/", "api_key_secret": "stripe_live"},
    });
    run(&host, "get-customer", input).unwrap();
    assert_eq!(
        host.requests()[0].header("authorization"),
        Some("Bearer sk_live_9")
    );
    assert_eq!(host.requests()[0].header("stripe-account"), None);
}

#[test]
fn missing_secret_is_fatal_before_any_request() {
    let host = FakeHost::new();
    let err = run(&host, "get-customer", json!({"customer": "cus_1"})).unwrap_err();
    assert_eq!(
        err,
        StepError::fatal("secret stripe_api_key is not granted to this step")
    );
    assert!(host.requests().is_empty());
}

#[test]
fn bad_connection_and_unknown_fields_are_invalid_input() {
    let host = host();
    for (input, message) in [
        (
            json!({"customer": "cus_1", "connection": {"base_url": "ftp://x"}}),
            "connection.base_url",
        ),
        (
            json!({"customer": "cus_1", "connection": {"account": "cus_2"}}),
            "connection.account",
        ),
        (
            json!({"customer": "cus_1", "connection": {"api_key": "sk_live_literal"}}),
            "unknown field `api_key`",
        ),
        (
            json!({"customer": "cus_1", "expand": ["x"]}),
            "unknown field `expand`",
        ),
        (json!({}), "missing field `customer`"),
    ] {
        let err = run(&host, "get-customer", input.clone()).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{input}");
        assert!(err.message().contains(message), "{input}: {err}");
    }
    assert!(host.requests().is_empty());
}

#[test]
fn ids_are_checked_before_any_request() {
    let host = host();
    for id in [
        "",
        "in_1",
        "cus_1/../../v1/charges",
        "cus 1",
        "cus_1?expand=x",
    ] {
        let err = run(&host, "get-customer", json!({"customer": id})).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{id:?}");
        assert!(err.message().starts_with("customer: "), "{err}");
    }
    let long = format!("cus_{}", "a".repeat(252));
    let err = run(&host, "get-customer", json!({"customer": long})).unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
    assert!(host.requests().is_empty());
}

#[test]
fn idempotency_keys_fit_stripe() {
    assert_eq!(idempotency_key("run-1/charge"), "run-1/charge");
    let exact = "k".repeat(MAX_IDEMPOTENCY_KEY);
    assert_eq!(idempotency_key(&exact), exact);
    let long_a = format!("{}a", "k".repeat(MAX_IDEMPOTENCY_KEY));
    let long_b = format!("{}b", "k".repeat(MAX_IDEMPOTENCY_KEY));
    let (a, b) = (idempotency_key(&long_a), idempotency_key(&long_b));
    assert_eq!(a.len(), MAX_IDEMPOTENCY_KEY);
    assert_ne!(a, b);
    assert_eq!(a, idempotency_key(&long_a), "stable");
    let wide = "é".repeat(200);
    let cut = idempotency_key(&wide);
    assert!(cut.len() <= MAX_IDEMPOTENCY_KEY, "{}", cut.len());
    assert!(cut.starts_with("éé"));
}

#[test]
fn readme_examples_are_valid_workflows() {
    let mut catalog = relais_workflow::Catalog::new();
    for (step, schema) in input_schemas(&PLUGIN) {
        catalog.add_step("stripe", &step, schema).unwrap();
    }
    README.assert_examples(|name, text| {
        relais_workflow::parse_workflow(name, text, &catalog).map(drop)
    });
}
