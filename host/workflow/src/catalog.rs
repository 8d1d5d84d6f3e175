//! The plugins a workflow is checked against: plugin name → step name →
//! input JSON Schema, as the loaded plugins describe themselves.

use std::collections::BTreeMap;
use std::sync::Arc;

/// A step's input schema, compiled.
#[derive(Clone)]
pub struct StepSchema {
    /// The schema as the plugin describes it.
    pub schema: serde_json::Value,
    pub(crate) validator: Arc<jsonschema::Validator>,
}

impl std::fmt::Debug for StepSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.schema.fmt(f)
    }
}

/// A problem with a plugin's description.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The input schema of a step does not compile.
    #[error("plugin {plugin:?} step {step:?}: invalid input schema: {message}")]
    InvalidSchema {
        /// The plugin.
        plugin: String,
        /// The step.
        step: String,
        /// The schema compiler's message.
        message: String,
    },
}

/// The loaded plugins and their steps.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    plugins: BTreeMap<String, BTreeMap<String, StepSchema>>,
    /// Plugins that did not load, with why: a `uses` naming one says so.
    broken: BTreeMap<String, String>,
}

impl Catalog {
    /// An empty catalog: every `uses` is an unknown plugin.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a step of a plugin, compiling its input schema.
    /// Schemas are compiled offline: a remote `$ref` is an error.
    pub fn add_step(
        &mut self,
        plugin: &str,
        step: &str,
        input_schema: serde_json::Value,
    ) -> Result<(), CatalogError> {
        let validator =
            jsonschema::validator_for(&input_schema).map_err(|e| CatalogError::InvalidSchema {
                plugin: plugin.to_owned(),
                step: step.to_owned(),
                message: e.to_string(),
            })?;
        self.plugins.entry(plugin.to_owned()).or_default().insert(
            step.to_owned(),
            StepSchema {
                schema: input_schema,
                validator: Arc::new(validator),
            },
        );
        Ok(())
    }

    /// [`Catalog::add_step`], chained.
    pub fn with_step(
        mut self,
        plugin: &str,
        step: &str,
        input_schema: serde_json::Value,
    ) -> Result<Self, CatalogError> {
        self.add_step(plugin, step, input_schema)?;
        Ok(self)
    }

    /// The steps of a plugin, by name.
    pub fn plugin(&self, name: &str) -> Option<&BTreeMap<String, StepSchema>> {
        self.plugins.get(name)
    }

    /// Records that plugin `name` did not load, and why: a workflow that
    /// uses it is told so instead of "unknown plugin".
    pub fn add_broken(&mut self, name: &str, reason: &str) {
        self.broken.insert(name.to_owned(), reason.to_owned());
    }

    /// Why plugin `name` did not load, if it was recorded as broken.
    pub fn broken(&self, name: &str) -> Option<&str> {
        self.broken.get(name).map(String::as_str)
    }

    /// The plugin names, sorted.
    pub fn plugin_names(&self) -> impl Iterator<Item = &str> {
        self.plugins.keys().map(String::as_str)
    }
}
