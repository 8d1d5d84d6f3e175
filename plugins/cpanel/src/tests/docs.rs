//! The declaration, its schemas, and the README that documents them.

use serde_json::Value;

use crate::PLUGIN;

const README: &str = include_str!("../../README.md");

/// The README's text from `heading` to the next heading of the same or a
/// higher level.
fn section(heading: &str) -> &'static str {
    let start = README
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no heading {heading:?}"));
    let level = heading.split(' ').next().unwrap_or("###");
    let body = &README[start + heading.len() + 1..];
    let end = body
        .match_indices("\n#")
        .find(|(at, _)| {
            let hashes = body[at + 1..].chars().take_while(|c| *c == '#').count();
            hashes <= level.len()
        })
        .map_or(body.len(), |(at, _)| at);
    &body[..end]
}

fn properties(schema: &str) -> Vec<String> {
    let schema: Value = serde_json::from_str(schema).unwrap();
    schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn declaration_is_valid() {
    assert_eq!(PLUGIN.validate(), Ok(()));
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
    for step in PLUGIN.describe().steps {
        let schema: Value = serde_json::from_str(&step.input_schema).unwrap();
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{}",
            step.name
        );
        assert_eq!(schema["additionalProperties"], false, "{}", step.name);
        let required = schema["required"].as_array().unwrap();
        assert!(
            required.iter().any(|r| r == "connection"),
            "{}: {required:?}",
            step.name
        );
        let connection = &schema["$defs"]["Connection"];
        assert_eq!(connection["required"], serde_json::json!(["url"]));
        assert_eq!(connection["additionalProperties"], false);
    }
}

#[test]
fn readme_documents_every_step_and_field() {
    for step in PLUGIN.describe().steps {
        let text = section(&format!("### `{}`", step.name));
        assert!(
            text.contains(&step.description),
            "README section of {} lacks its description {:?}",
            step.name,
            step.description
        );
        for field in properties(&step.input_schema)
            .into_iter()
            .chain(properties(&step.output_schema))
        {
            assert!(
                text.contains(&format!("`{field}`")),
                "README section of {} does not document `{field}`",
                step.name
            );
        }
    }
    assert!(README.contains("uses: cpanel/suspend-account"));
    let connection = section("## Connection");
    for field in ["url", "username", "token_secret", "verify_tls"] {
        assert!(connection.contains(&format!("`{field}`")), "{field}");
    }
}
