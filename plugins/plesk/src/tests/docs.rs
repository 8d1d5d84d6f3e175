//! The declaration, its schemas, and the README that documents them.

use relais_plugin_sdk::testing::{Readme, assert_inputs_are_strict, input_schemas};
use serde_json::json;

use crate::PLUGIN;

const README: Readme<'static> = Readme::new(include_str!("../../README.md"));

#[test]
fn declaration_names_every_step() {
    let names: Vec<String> = PLUGIN
        .describe()
        .steps
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(
        names,
        [
            "create-client",
            "get-client",
            "suspend-client",
            "activate-client",
            "delete-client",
            "create-subscription",
            "get-subscription",
            "subscription-status",
            "suspend-subscription",
            "activate-subscription",
            "change-plan",
            "server-info",
            "test-connection"
        ]
    );
}

#[test]
fn every_input_takes_a_connection_and_refuses_unknown_fields() {
    assert_inputs_are_strict(&PLUGIN, &["connection"]);
    for (step, schema) in input_schemas(&PLUGIN) {
        let required = schema["required"].as_array().unwrap();
        assert!(
            required.iter().any(|r| r == "connection"),
            "{step}: {required:?}"
        );
        assert_eq!(schema["$defs"]["Connection"]["required"], json!(["url"]));
    }
}

#[test]
fn readme_documents_every_step_and_field() {
    README.assert_documents_descriptions(&PLUGIN);
    README.assert_documents_inputs(&PLUGIN, &[]);
    README.assert_documents_outputs(&PLUGIN);
    assert!(README.text().contains("uses: plesk/suspend-subscription"));
    let connection = README.section("## Connection");
    for field in [
        "url",
        "api_key_secret",
        "login",
        "password_secret",
        "verify_tls",
    ] {
        assert!(connection.contains(&format!("`{field}`")), "{field}");
    }
}
