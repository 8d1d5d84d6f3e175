//! Native tests through the SDK's fake host.

mod send;
mod status;

use relais_plugin_sdk::testing::{
    FakeHost, FakeResponse, Readme, assert_inputs_are_strict, input_schemas,
};
use relais_plugin_sdk::{Context, StepError};
use serde_json::{Value, json};

use crate::PLUGIN;

const README: Readme<'static> = Readme::new(include_str!("../../README.md"));

pub(crate) const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
pub(crate) const SID: &str = "SM0123456789abcdef0123456789abcdef";
pub(crate) const MESSAGES: &str =
    "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages";

pub(crate) fn host() -> FakeHost {
    FakeHost::new()
        .with_secret("twilio_account_sid", ACCOUNT)
        .with_secret("twilio_auth_token", "tok3n")
}

pub(crate) fn cx() -> Context {
    Context::new("run-1", "sms")
}

pub(crate) fn run(host: &FakeHost, step: &str, input: Value) -> Result<Value, StepError> {
    host.invoke(&PLUGIN, step, input, &cx())
}

pub(crate) fn message(status: &str) -> Value {
    json!({
        "sid": SID, "status": status, "to": "+33612345678", "from": "+33700000000",
        "body": "Your payment failed", "num_segments": "1", "direction": "outbound-api",
        "error_code": null, "error_message": null, "price": null, "price_unit": "USD",
        "date_created": "Thu, 24 Aug 2023 05:01:45 +0000", "date_sent": null,
        "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000", "account_sid": ACCOUNT,
        "messaging_service_sid": null, "uri": "/2010-04-01/Accounts/AC.../Messages/SM....json",
    })
}

pub(crate) fn twilio_error(status: u16, code: u32, message: &str) -> FakeResponse {
    FakeResponse::status(status).json(&json!({
        "code": code, "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status,
    }))
}

#[test]
fn declaration_is_valid_and_every_input_is_strict_with_a_connection() {
    assert_inputs_are_strict(&PLUGIN, &["connection"]);
    let info = PLUGIN.describe();
    assert_eq!(info.name, "twilio");
    assert_eq!(info.steps.len(), 2);
}

#[test]
fn readme_documents_every_step_and_input_field() {
    README.assert_documents_inputs(&PLUGIN, &["connection"]);
}

#[test]
fn readme_examples_are_valid_workflows() {
    let mut catalog = relais_workflow::Catalog::new();
    for (step, schema) in input_schemas(&PLUGIN) {
        catalog.add_step("twilio", &step, schema).unwrap();
    }
    for (plugin, step) in [("email", "send"), ("stripe", "get-customer")] {
        catalog
            .add_step(plugin, step, json!({"type": "object"}))
            .unwrap();
    }
    README.assert_examples(|name, text| {
        relais_workflow::parse_workflow(name, text, &catalog).map(drop)
    });
}
