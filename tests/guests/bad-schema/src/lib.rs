//! `bad-schema`: a test guest whose only step declares an input schema that
//! does not compile (`"type": 12`). Built to
//! `target/test-guests/bad-schema.wasm` by `scripts/build-plugins.sh`.

use std::borrow::Cow;

use relais_plugin_sdk::prelude::*;

relais_plugin_sdk::plugin! {
    name: "bad-schema",
    version: env!("CARGO_PKG_VERSION"),
    description: "Test guest whose input schema does not compile",
    steps: {
        "noop" => noop: "Declares the input schema {\"type\": 12}",
    },
}

/// An input whose schema is `{"type": 12}`.
#[derive(Debug, Deserialize)]
pub struct BadIn {}

impl JsonSchema for BadIn {
    fn schema_name() -> Cow<'static, str> {
        "BadIn".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": 12 })
    }
}

/// No field.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Empty {}

fn noop(_input: BadIn, _cx: &Context) -> Result<Empty, StepError> {
    Ok(Empty {})
}
