//! Checks of a plugin's declaration: its steps' schemas.

use serde_json::Value;

use crate::Plugin;

/// Every step's name with its input schema, parsed, in declaration order
/// (to register the steps in a workflow catalog, or to look at a schema).
///
/// # Panics
///
/// When a schema is not JSON (a bug in the SDK).
pub fn input_schemas(plugin: &Plugin) -> Vec<(String, Value)> {
    plugin
        .describe()
        .steps
        .into_iter()
        .map(|step| {
            let schema = serde_json::from_str(&step.input_schema).unwrap_or_else(|err| {
                panic!("input schema of step {} is not JSON: {err}", step.name)
            });
            (step.name, schema)
        })
        .collect()
}

/// The names of the top-level properties of `schema` (JSON text), in the
/// schema's order; none when it has no `properties` object.
///
/// # Panics
///
/// When `schema` is not JSON.
pub fn schema_properties(schema: &str) -> Vec<String> {
    let schema: Value = serde_json::from_str(schema)
        .unwrap_or_else(|err| panic!("schema is not JSON ({err}): {schema}"));
    schema["properties"]
        .as_object()
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

/// Asserts what a plugin's declaration should promise: it passes
/// [`Plugin::validate`], and every step's input schema refuses unknown
/// fields (`additionalProperties: false`, from
/// `#[serde(deny_unknown_fields)]`) and has each property of `properties`
/// (say the `connection` block every step of a connector takes).
///
/// ```
/// use relais_plugin_sdk::prelude::*;
/// use relais_plugin_sdk::testing::assert_inputs_are_strict;
///
/// #[derive(Deserialize, JsonSchema)]
/// #[serde(deny_unknown_fields)]
/// struct PingIn { url: String }
/// #[derive(Serialize, JsonSchema)]
/// struct PingOut {}
///
/// fn ping(_: PingIn, _: &Context) -> Result<PingOut, StepError> { Ok(PingOut {}) }
///
/// relais_plugin_sdk::plugin! {
///     name: "pinger", version: "1.0.0", description: "Pings",
///     steps: { "ping" => ping: "Ping a URL" },
/// }
///
/// assert_inputs_are_strict(&PLUGIN, &["url"]);
/// ```
///
/// # Panics
///
/// Naming the step and what it lacks, when one of these does not hold.
pub fn assert_inputs_are_strict(plugin: &Plugin, properties: &[&str]) {
    if let Err(problems) = plugin.validate() {
        panic!(
            "plugin {} does not validate: {}",
            plugin.name(),
            problems.join("; ")
        );
    }
    for (step, schema) in input_schemas(plugin) {
        assert_eq!(
            schema["additionalProperties"], false,
            "input of step {step} accepts unknown fields: add #[serde(deny_unknown_fields)]"
        );
        for property in properties {
            assert!(
                schema["properties"].get(property).is_some(),
                "input of step {step} has no property {property}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::testing::tests::panic_text;
    use crate::{Context, StepError};

    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct StrictIn {
        connection: String,
        to: String,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct LooseIn {
        connection: String,
    }

    #[derive(Serialize, JsonSchema)]
    struct Out {
        id: String,
    }

    fn strict(_: StrictIn, _: &Context) -> Result<Out, StepError> {
        Ok(Out { id: "1".into() })
    }

    fn loose(_: LooseIn, _: &Context) -> Result<Out, StepError> {
        Ok(Out { id: "2".into() })
    }

    mod strict_plugin {
        crate::plugin! {
            name: "strict", version: "1.0.0", description: "Strict",
            steps: { "send" => super::strict: "Send" },
        }
    }

    mod loose_plugin {
        crate::plugin! {
            name: "loose", version: "1.0.0", description: "Loose",
            steps: {
                "send" => super::strict: "Send",
                "peek" => super::loose: "Peek",
            },
        }
    }

    mod invalid_plugin {
        crate::plugin! {
            name: "Not_A_Name", version: "1.0.0", description: "Invalid",
            steps: { "send" => super::strict: "Send" },
        }
    }

    #[test]
    fn schemas_come_in_declaration_order() {
        let schemas = input_schemas(&loose_plugin::PLUGIN);
        let names: Vec<&str> = schemas.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["send", "peek"]);
        assert_eq!(schemas[0].1["additionalProperties"], false);
        let output = &loose_plugin::PLUGIN.describe().steps[0].output_schema;
        assert_eq!(schema_properties(output), ["id"]);
        assert_eq!(
            schema_properties(&schemas[0].1.to_string()),
            ["connection", "to"]
        );
        assert!(schema_properties("{\"type\": \"string\"}").is_empty());
    }

    #[test]
    fn a_strict_plugin_passes() {
        assert_inputs_are_strict(&strict_plugin::PLUGIN, &["connection", "to"]);
        assert_inputs_are_strict(&strict_plugin::PLUGIN, &[]);
    }

    #[test]
    fn each_broken_promise_fails_naming_the_step() {
        let text = panic_text(|| assert_inputs_are_strict(&loose_plugin::PLUGIN, &[]));
        assert!(
            text.contains("input of step peek accepts unknown fields"),
            "{text}"
        );
        let text = panic_text(|| assert_inputs_are_strict(&strict_plugin::PLUGIN, &["from"]));
        assert!(
            text.contains("input of step send has no property from"),
            "{text}"
        );
        let text = panic_text(|| assert_inputs_are_strict(&invalid_plugin::PLUGIN, &[]));
        assert!(
            text.starts_with("plugin Not_A_Name does not validate: "),
            "{text}"
        );
    }
}
