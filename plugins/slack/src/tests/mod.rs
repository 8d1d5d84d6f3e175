//! Native tests through the SDK's fake host.

mod chat;
mod webhook;

use relais_plugin_sdk::testing::{FakeHost, Readme, assert_inputs_are_strict, input_schemas};
use relais_plugin_sdk::{Context, StepError};
use serde_json::{Value, json};

use crate::PLUGIN;

const README: Readme<'static> = Readme::new(include_str!("../../README.md"));

pub(crate) fn cx() -> Context {
    Context::new("run-1", "notify")
}

pub(crate) fn run(host: &FakeHost, step: &str, input: Value) -> Result<Value, StepError> {
    host.invoke(&PLUGIN, step, input, &cx())
}

#[test]
fn declaration_is_valid_and_every_input_is_strict_with_a_connection() {
    assert_inputs_are_strict(&PLUGIN, &["connection"]);
    let info = PLUGIN.describe();
    assert_eq!(info.name, "slack");
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
        catalog.add_step("slack", &step, schema).unwrap();
    }
    for (plugin, step) in [("email", "send"), ("cpanel", "suspend-account")] {
        catalog
            .add_step(plugin, step, json!({"type": "object"}))
            .unwrap();
    }
    README.assert_examples(|name, text| {
        relais_workflow::parse_workflow(name, text, &catalog).map(drop)
    });
}
