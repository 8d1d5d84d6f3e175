//! Native tests through the SDK's fake host.

mod auth;
mod invoices;
mod orders;
mod webhooks;

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
use relais_plugin_sdk::{Context, StepError};
use serde_json::{Value, json};

use crate::PLUGIN;

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
    assert_eq!(PLUGIN.validate(), Ok(()));
    let info = PLUGIN.describe();
    assert_eq!(info.name, "paypal");
    assert_eq!(info.steps.len(), 8);
    for step in &info.steps {
        let schema: Value = serde_json::from_str(&step.input_schema).unwrap();
        assert_eq!(schema["additionalProperties"], false, "{}", step.name);
        assert!(
            schema["properties"].get("connection").is_some(),
            "{}",
            step.name
        );
    }
}

#[test]
fn readme_documents_every_step_and_input_field() {
    let readme = include_str!("../../README.md");
    for step in PLUGIN.describe().steps {
        let heading = format!("### `{}`", step.name);
        let start = readme
            .find(&heading)
            .unwrap_or_else(|| panic!("README has no section {heading}"));
        let section = &readme[start + heading.len()..];
        let section = &section[..section.find("\n### ").unwrap_or(section.len())];
        let schema: Value = serde_json::from_str(&step.input_schema).unwrap();
        for field in schema["properties"].as_object().unwrap().keys() {
            if field != "connection" {
                assert!(
                    section.contains(&format!("`{field}`")),
                    "README section {heading} does not mention `{field}`"
                );
            }
        }
    }
}

#[test]
fn readme_examples_are_valid_workflows() {
    let mut catalog = relais_workflow::Catalog::new();
    for step in PLUGIN.describe().steps {
        let schema: Value = serde_json::from_str(&step.input_schema).unwrap();
        catalog.add_step("paypal", &step.name, schema).unwrap();
    }
    catalog
        .add_step("email", "send", json!({"type": "object"}))
        .unwrap();
    let readme = include_str!("../../README.md");
    let examples: Vec<&str> = readme
        .split("```yaml\n")
        .skip(1)
        .map(|block| &block[..block.find("```").unwrap()])
        .collect();
    assert!(!examples.is_empty());
    for (i, text) in examples.iter().enumerate() {
        if let Err(err) =
            relais_workflow::parse_workflow(format!("example-{i}.yaml"), *text, &catalog)
        {
            panic!("README example {i} is not a valid workflow: {err}\n{text}");
        }
    }
}
