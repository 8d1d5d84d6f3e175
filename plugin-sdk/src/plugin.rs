//! The plugin table built by [`plugin!`](crate::plugin!): names, steps,
//! schemas and the dispatch of `invoke`.

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Context, StepError};

/// Runs one step: input JSON text in, output JSON text out.
pub type RunFn = fn(&str, &Context) -> Result<String, StepError>;
/// Produces a JSON Schema (draft 2020-12) as JSON text.
pub type SchemaFn = fn() -> String;

/// A plugin: what [`plugin!`](crate::plugin!) declares, as the static
/// `PLUGIN` in the crate that invokes the macro.
#[derive(Debug)]
pub struct Plugin {
    name: &'static str,
    version: &'static str,
    description: &'static str,
    steps: &'static [Step],
}

/// One step of a [`Plugin`].
#[derive(Debug)]
pub struct Step {
    name: &'static str,
    description: &'static str,
    run: RunFn,
    input_schema: SchemaFn,
    output_schema: SchemaFn,
}

/// What a plugin says about itself (the contract's `plugin-info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginInfo {
    /// Short machine name, used in workflows as `uses: NAME/STEP`: the host
    /// loads `NAME.wasm` from its plugins folder only when it declares NAME.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// One sentence for humans.
    pub description: String,
    /// Every step the plugin offers.
    pub steps: Vec<StepInfo>,
}

/// One step as [`Plugin::describe`] reports it (the contract's `step-info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepInfo {
    /// Step name, unique within the plugin.
    pub name: String,
    /// What the step does, for humans.
    pub description: String,
    /// JSON Schema (draft 2020-12) of the input, as JSON text.
    pub input_schema: String,
    /// JSON Schema (draft 2020-12) of the output, as JSON text.
    pub output_schema: String,
}

impl Plugin {
    /// A plugin table; [`plugin!`](crate::plugin!) writes this call.
    pub const fn new(
        name: &'static str,
        version: &'static str,
        description: &'static str,
        steps: &'static [Step],
    ) -> Self {
        Self {
            name,
            version,
            description,
            steps,
        }
    }

    /// The plugin's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The plugin's version.
    pub fn version(&self) -> &'static str {
        self.version
    }

    /// The steps, in declaration order.
    pub fn steps(&self) -> &'static [Step] {
        self.steps
    }

    /// The step called `name`.
    pub fn step(&self, name: &str) -> Option<&'static Step> {
        self.steps.iter().find(|step| step.name == name)
    }

    /// Name, version, description and every step with its schemas: what the
    /// contract's `describe` returns.
    pub fn describe(&self) -> PluginInfo {
        PluginInfo {
            name: self.name.to_owned(),
            version: self.version.to_owned(),
            description: self.description.to_owned(),
            steps: self
                .steps
                .iter()
                .map(|step| StepInfo {
                    name: step.name.to_owned(),
                    description: step.description.to_owned(),
                    input_schema: (step.input_schema)(),
                    output_schema: (step.output_schema)(),
                })
                .collect(),
        }
    }

    /// Runs step `step` with `input` (JSON text): what the contract's
    /// `invoke` does. An unknown step or an input that does not deserialise
    /// into the step's input type is [`StepError::InvalidInput`].
    pub fn invoke(&self, step: &str, input: &str, cx: &Context) -> Result<String, StepError> {
        match self.step(step) {
            Some(found) => (found.run)(input, cx),
            None => Err(StepError::invalid_input(format!(
                "plugin {} has no step {step:?} (steps: {})",
                self.name,
                self.steps
                    .iter()
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Checks what the host will check when it loads the plugin: the plugin
    /// and step names are lowercase letters, digits and `-`, step names are
    /// unique, the version is `MAJOR.MINOR.PATCH` (with an optional suffix)
    /// and there is at least one step. Returns every problem found.
    ///
    /// Call it in a test: `assert_eq!(PLUGIN.validate(), Ok(()))`.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if !is_machine_name(self.name) {
            problems.push(format!(
                "plugin name {:?} must be lowercase letters, digits and '-'",
                self.name
            ));
        }
        if !is_semver(self.version) {
            problems.push(format!(
                "plugin version {:?} is not MAJOR.MINOR.PATCH",
                self.version
            ));
        }
        if self.steps.is_empty() {
            problems.push("plugin declares no step".to_owned());
        }
        for (i, step) in self.steps.iter().enumerate() {
            if !is_machine_name(step.name) {
                problems.push(format!(
                    "step name {:?} must be lowercase letters, digits and '-'",
                    step.name
                ));
            }
            if self.steps[..i].iter().any(|other| other.name == step.name) {
                problems.push(format!("step {:?} is declared twice", step.name));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

impl Step {
    /// A step entry; [`plugin!`](crate::plugin!) writes this call.
    pub const fn new(
        name: &'static str,
        description: &'static str,
        run: RunFn,
        input_schema: SchemaFn,
        output_schema: SchemaFn,
    ) -> Self {
        Self {
            name,
            description,
            run,
            input_schema,
            output_schema,
        }
    }

    /// The step's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The step's description.
    pub fn description(&self) -> &'static str {
        self.description
    }
}

fn is_machine_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_semver(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Deserialises `input` into `I`; the error names the field path.
pub(crate) fn parse_input<I: DeserializeOwned>(input: &str) -> Result<I, StepError> {
    let mut de = serde_json::Deserializer::from_str(input);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        if path == "." {
            StepError::invalid_input(format!("invalid input: {}", err.inner()))
        } else {
            StepError::invalid_input(format!("invalid input at {path}: {}", err.inner()))
        }
    })?;
    de.end()
        .map_err(|err| StepError::invalid_input(format!("invalid input: {err}")))?;
    Ok(value)
}

/// Runs a typed step function on JSON text (used by [`plugin!`](crate::plugin!)).
#[doc(hidden)]
pub fn run_step<I, O, E, F>(step: F, input: &str, cx: &Context) -> Result<String, StepError>
where
    I: DeserializeOwned,
    O: Serialize,
    E: Into<StepError>,
    F: FnOnce(I, &Context) -> Result<O, E>,
{
    let input = parse_input(input)?;
    let output = step(input, cx).map_err(Into::into)?;
    serde_json::to_string(&output)
        .map_err(|err| StepError::fatal(format!("step output cannot be serialised: {err}")))
}

/// The input schema of a typed step function (used by [`plugin!`](crate::plugin!)).
#[doc(hidden)]
pub fn input_schema<I, O, E, F>(_step: F) -> String
where
    I: JsonSchema,
    F: FnOnce(I, &Context) -> Result<O, E>,
{
    schema_for::<I>()
}

/// The output schema of a typed step function (used by [`plugin!`](crate::plugin!)).
#[doc(hidden)]
pub fn output_schema<I, O, E, F>(_step: F) -> String
where
    O: JsonSchema,
    F: FnOnce(I, &Context) -> Result<O, E>,
{
    schema_for::<O>()
}

/// The JSON Schema (draft 2020-12) of `T`, as JSON text.
pub fn schema_for<T: JsonSchema>() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    // A schema is a JSON value: it always serialises.
    serde_json::to_string(&schema).unwrap_or_else(|_| "{}".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_names() {
        for good in ["http", "cpanel-whm", "s3", "a-1"] {
            assert!(is_machine_name(good), "{good}");
        }
        for bad in ["", "Http", "send_mail", "-x", "x-", "é", "a b"] {
            assert!(!is_machine_name(bad), "{bad}");
        }
    }

    #[test]
    fn semver() {
        for good in ["0.1.0", "10.20.30", "1.0.0-rc.1", "1.2.3+build"] {
            assert!(is_semver(good), "{good}");
        }
        for bad in ["", "1", "1.2", "1.2.x", "v1.2.3", "1..3"] {
            assert!(!is_semver(bad), "{bad}");
        }
    }

    #[test]
    fn parse_input_names_the_path() {
        #[derive(serde::Deserialize, Debug)]
        struct Inner {
            #[allow(dead_code)]
            n: u8,
        }
        #[derive(serde::Deserialize, Debug)]
        struct Outer {
            #[allow(dead_code)]
            items: Vec<Inner>,
        }
        let err = parse_input::<Outer>(r#"{"items": [{"n": 1}, {"n": "two"}]}"#).unwrap_err();
        assert_eq!(err.kind(), "invalid-input");
        assert!(
            err.message()
                .starts_with("invalid input at items[1].n: invalid type: string"),
            "{err}"
        );
        let err = parse_input::<Outer>(r#"{}"#).unwrap_err();
        assert!(
            err.message()
                .starts_with("invalid input: missing field `items`"),
            "{err}"
        );
        let err = parse_input::<Outer>(r#"{"items": []} x"#).unwrap_err();
        assert!(err.message().contains("trailing characters"), "{err}");
        assert!(parse_input::<Outer>(r#"{"items": []}"#).is_ok());
    }

    #[test]
    fn schemas_are_draft_2020_12() {
        #[derive(JsonSchema)]
        #[allow(dead_code)]
        struct In {
            to: String,
        }
        let schema: serde_json::Value = serde_json::from_str(&schema_for::<In>()).unwrap();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["properties"]["to"]["type"], "string");
        assert_eq!(schema["required"], serde_json::json!(["to"]));
    }
}
