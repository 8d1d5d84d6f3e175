//! The declaration, its schemas, and the README that documents them.

use relais_plugin_sdk::testing::{Readme, assert_inputs_are_strict, input_schemas};
use serde_json::json;

use crate::PLUGIN;

const README: Readme<'static> = Readme::new(include_str!("../../README.md"));

#[test]
fn declaration_names_every_step() {
    let info = PLUGIN.describe();
    assert_eq!(info.name, "cpanel");
    let names: Vec<&str> = info.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "create-account",
            "suspend-account",
            "unsuspend-account",
            "terminate-account",
            "change-package",
            "change-password",
            "list-accounts",
            "account-summary",
            "list-packages",
            "ssl-status",
            "test-connection"
        ]
    );
}

#[test]
fn every_input_takes_a_connection_and_refuses_unknown_fields() {
    assert_inputs_are_strict(&PLUGIN, &["connection"]);
    for (step, schema) in input_schemas(&PLUGIN) {
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{step}"
        );
        let required = schema["required"].as_array().unwrap();
        assert!(
            required.iter().any(|r| r == "connection"),
            "{step}: {required:?}"
        );
        assert_eq!(schema["$defs"]["Connection"]["required"], json!(["url"]));
        assert_eq!(schema["$defs"]["Connection"]["additionalProperties"], false);
    }
}

#[test]
fn readme_documents_every_step_and_field() {
    README.assert_documents_descriptions(&PLUGIN);
    README.assert_documents_inputs(&PLUGIN, &[]);
    README.assert_documents_outputs(&PLUGIN);
    assert!(README.text().contains("uses: cpanel/suspend-account"));
    let connection = README.section("## Connection");
    for field in ["url", "username", "token_secret", "verify_tls"] {
        assert!(connection.contains(&format!("`{field}`")), "{field}");
    }
}
