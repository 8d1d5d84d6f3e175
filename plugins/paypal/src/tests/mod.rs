//! Native tests through the SDK's fake host.

mod auth;
mod invoices;
mod orders;
mod webhooks;

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{
    FakeHost, FakeResponse, Readme, assert_inputs_are_strict, input_schemas,
};
use relais_plugin_sdk::{Context, StepError};
use serde_json::{Value, json};

use crate::PLUGIN;

const README: Readme<'static> = Readme::new(include_str!("../../README.md"));

pub(crate) const BASE: &str = "https://api-m.paypal.com";
pub(crate) const TOKEN_URL: &str = "https://api-m.paypal.com/v1/oauth2/token";

/// A host with the default secrets and a token endpoint.
pub(crate) fn host() -> FakeHost {
    FakeHost::new()
        .with_secret("paypal_client_id", "cid")
        .with_secret("paypal_client_secret", "csecret")
        .on(Method::Post, TOKEN_URL, token("A21-first", 32400))
}

pub(crate) fn token(access_token: &str, expires_in: i64) -> FakeResponse {
    FakeResponse::ok().json(&json!({
        "scope": "https://uri.paypal.com/services/invoicing",
        "access_token": access_token, "token_type": "Bearer",
        "app_id": "APP-80W284485P519543T", "expires_in": expires_in, "nonce": "n",
    }))
}

pub(crate) fn cx() -> Context {
    Context::new("run-1", "collect")
}

pub(crate) fn run(host: &FakeHost, step: &str, input: Value) -> Result<Value, StepError> {
    host.invoke(&PLUGIN, step, input, &cx())
}

/// A PayPal error answer.
pub(crate) fn paypal_error(
    status: u16,
    name: &str,
    issue: &str,
    description: &str,
) -> FakeResponse {
    FakeResponse::status(status).json(&json!({
        "name": name, "message": "The requested action could not be performed.",
        "debug_id": "dbg42",
        "details": [{"issue": issue, "description": description}],
    }))
}

/// The requests other than the token's.
pub(crate) fn api_requests(host: &FakeHost) -> Vec<relais_plugin_sdk::testing::RecordedRequest> {
    host.requests()
        .into_iter()
        .filter(|r| r.url != TOKEN_URL)
        .collect()
}

#[test]
fn declaration_is_valid_and_every_input_is_strict_with_a_connection() {
    assert_inputs_are_strict(&PLUGIN, &["connection"]);
    let info = PLUGIN.describe();
    assert_eq!(info.name, "paypal");
    assert_eq!(info.steps.len(), 8);
}

#[test]
fn readme_documents_every_step_and_input_field() {
    README.assert_documents_inputs(&PLUGIN, &["connection"]);
}

#[test]
fn readme_examples_are_valid_workflows() {
    let mut catalog = relais_workflow::Catalog::new();
    for (step, schema) in input_schemas(&PLUGIN) {
        catalog.add_step("paypal", &step, schema).unwrap();
    }
    catalog
        .add_step("email", "send", json!({"type": "object"}))
        .unwrap();
    README.assert_examples(|name, text| {
        relais_workflow::parse_workflow(name, text, &catalog).map(drop)
    });
}
