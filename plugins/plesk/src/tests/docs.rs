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
    let level = heading.split(' ').next().unwrap_or("###").len();
    let body = &README[start + heading.len() + 1..];
    let end = body
        .match_indices("\n#")
        .find(|(at, _)| body[at + 1..].chars().take_while(|c| *c == '#').count() <= level)
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
    for step in PLUGIN.describe().steps {
        let schema: Value = serde_json::from_str(&step.input_schema).unwrap();
        assert_eq!(schema["additionalProperties"], false, "{}", step.name);
        assert!(
            schema["required"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == "connection"),
            "{}",
            step.name
        );
        assert_eq!(
            schema["$defs"]["Connection"]["required"],
            serde_json::json!(["url"])
        );
    }
}

#[test]
fn readme_documents_every_step_and_field() {
    for step in PLUGIN.describe().steps {
        let text = section(&format!("### `{}`", step.name));
        assert!(
            text.contains(&step.description),
            "{}: description",
            step.name
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
    assert!(README.contains("uses: plesk/suspend-subscription"));
    let connection = section("## Connection");
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
