//! The loaded plugins by the operator's name for them, and the catalog
//! workflows are checked against.
//!
//! A plugin's name is the operator's, never its own claim: a file of the
//! plugins folder is named by its stem (`stripe.wasm` → `stripe`), and an
//! entry of the configuration by its key (`[plugins.stripe-eu] file =
//! "…"`). That name is the one workflows (`uses: NAME/STEP`), settings,
//! grants, secrets and the KV namespace use. A file of the folder whose
//! `describe()` declares another name is refused (rename the file, or name
//! it explicitly in the configuration); two sources with one name stop the
//! load. A plugin that fails to load, or whose schemas do not compile, is
//! that plugin's error only: workflows using it get a validation error that
//! names it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use relais_runtime::{Plugin, PluginSettings, Runtime};
use relais_workflow::Catalog;
use serde_json::Value;

use crate::EngineError;

pub use relais_runtime::file_stem;

/// Where a plugin comes from: its name and file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginSource {
    /// Its name (identity).
    pub name: String,
    /// Its component file.
    pub path: PathBuf,
    /// Named by the operator in the configuration, not found in the
    /// plugins folder: the plugin may then declare another name.
    pub named: bool,
}

/// How the engine runs one plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginOptions {
    /// Grants and limits of the sandbox.
    pub settings: PluginSettings,
    /// Check each output against the step's declared output schema.
    pub check_output: bool,
}

impl Default for PluginOptions {
    fn default() -> Self {
        PluginOptions {
            settings: PluginSettings::default(),
            check_output: true,
        }
    }
}

struct Entry {
    plugin: Plugin,
    /// Output validators by step; `None`: outputs are not checked.
    outputs: Option<BTreeMap<String, Arc<jsonschema::Validator>>>,
}

/// The loaded plugins by name, and why the others did not load.
#[derive(Default)]
pub struct Plugins {
    by_name: BTreeMap<String, Entry>,
    catalog: Catalog,
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_name.keys()).finish()
    }
}

/// The plugins of `dir` (named by their file stem, in name order) and the
/// ones the operator names with their file. A name given twice is an error
/// naming both files (the same file named twice the same way is one).
pub fn plugin_sources(
    dir: &Path,
    named: impl IntoIterator<Item = (String, PathBuf)>,
) -> Result<Vec<PluginSource>, EngineError> {
    let read = std::fs::read_dir(dir).map_err(|e| EngineError::PluginsDir {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut files: Vec<PathBuf> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    files.sort();
    let mut by_name: BTreeMap<String, PluginSource> = BTreeMap::new();
    let found = files.into_iter().map(|path| PluginSource {
        name: file_stem(&path),
        path,
        named: false,
    });
    let named = named.into_iter().map(|(name, path)| PluginSource {
        name,
        path,
        named: true,
    });
    for source in found.chain(named) {
        match by_name.get_mut(&source.name) {
            Some(first) if same_file(&first.path, &source.path) => first.named |= source.named,
            Some(first) => {
                return Err(EngineError::PluginNameTaken {
                    name: source.name,
                    first: first.path.clone(),
                    second: source.path,
                });
            }
            None => {
                by_name.insert(source.name.clone(), source);
            }
        }
    }
    Ok(by_name.into_values().collect())
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

impl Plugins {
    /// Loads the plugins of `dir` and the `named` ones (name → file), each
    /// with its options. Returns the plugins that loaded and a message for
    /// each that did not; a name given to two files is an error.
    pub async fn load(
        runtime: &Runtime,
        dir: &Path,
        named: impl IntoIterator<Item = (String, PathBuf)>,
        options: impl Fn(&str) -> PluginOptions,
    ) -> Result<(Plugins, Vec<String>), EngineError> {
        if !dir.is_dir() {
            return Err(EngineError::PluginsDir {
                path: dir.to_path_buf(),
                message: "not a folder (build the bundled plugins with scripts/build-plugins.sh, \
                          or set plugins_dir in relais.toml)"
                    .into(),
            });
        }
        let mut errors = Vec::new();
        let mut plugins = Plugins::default();
        for source in plugin_sources(dir, named)? {
            let options = options(&source.name);
            let loaded = load_source(runtime, &source, options.settings).await;
            let result = loaded.and_then(|p| plugins.insert(p, options.check_output));
            if let Err(message) = result {
                plugins.catalog.add_broken(&source.name, &message);
                errors.push(message);
            }
        }
        Ok((plugins, errors))
    }

    /// Collects plugins loaded elsewhere, outputs checked; a repeated name
    /// or a schema that does not compile is an error.
    pub fn from_plugins(plugins: impl IntoIterator<Item = Plugin>) -> Result<Plugins, String> {
        let mut out = Plugins::default();
        for p in plugins {
            out.insert(p, true)?;
        }
        Ok(out)
    }

    /// Adds a plugin under its name, compiling its input schemas (and its
    /// output schemas when they are checked).
    fn insert(&mut self, plugin: Plugin, check_output: bool) -> Result<(), String> {
        let name = plugin.name().to_owned();
        let file = plugin.path().display().to_string();
        if let Some(first) = self.by_name.get(&name) {
            return Err(format!(
                "{file}: plugin name {name:?} is already used by {}",
                first.plugin.path().display()
            ));
        }
        let mut catalog = self.catalog.clone();
        for s in &plugin.info().steps {
            catalog
                .add_step(&name, &s.name, s.input_schema.clone())
                .map_err(|e| format!("plugin {file}: {e}"))?;
        }
        let outputs = if check_output {
            let mut outputs = BTreeMap::new();
            for s in &plugin.info().steps {
                let validator = jsonschema::validator_for(&s.output_schema).map_err(|e| {
                    format!(
                        "plugin {file}: plugin {name:?} step {:?}: invalid output schema: {e} \
                         (set check_output = false in [plugins.{name}] to load it anyway)",
                        s.name
                    )
                })?;
                outputs.insert(s.name.clone(), Arc::new(validator));
            }
            Some(outputs)
        } else {
            None
        };
        self.catalog = catalog;
        self.by_name.insert(name, Entry { plugin, outputs });
        Ok(())
    }

    /// The plugin with this name.
    pub fn get(&self, name: &str) -> Option<&Plugin> {
        self.by_name.get(name).map(|e| &e.plugin)
    }

    /// Checks `output` of `plugin`'s `step` against the step's declared
    /// output schema (unless the plugin's outputs are not checked). The
    /// error names the first failing fields by JSON pointer.
    pub fn check_output(&self, plugin: &str, step: &str, output: &Value) -> Result<(), String> {
        let Some(validator) = self
            .by_name
            .get(plugin)
            .and_then(|e| e.outputs.as_ref())
            .and_then(|o| o.get(step))
        else {
            return Ok(());
        };
        let problems: Vec<String> = validator
            .iter_errors(output)
            .take(3)
            .map(|e| {
                let at = e.instance_path().as_str().to_owned();
                let at = if at.is_empty() { "/".to_owned() } else { at };
                format!("{at}: {e}")
            })
            .collect();
        if problems.is_empty() {
            return Ok(());
        }
        Err(format!(
            "output does not match the output schema of {plugin}/{step}: {} \
             (if the vendor is at fault, set check_output = false in [plugins.{plugin}])",
            problems.join("; ")
        ))
    }

    /// The steps of every plugin with their input schemas, and the plugins
    /// that did not load.
    pub fn catalog(&self) -> Catalog {
        self.catalog.clone()
    }

    /// Every plugin, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Plugin> {
        self.by_name.values().map(|e| &e.plugin)
    }
}

/// Loads one source under its name. A plugin of the folder that declares
/// another name is refused.
pub async fn load_source(
    runtime: &Runtime,
    source: &PluginSource,
    settings: PluginSettings,
) -> Result<Plugin, String> {
    let (plugin, _) = runtime
        .load_as(&source.name, &source.path, settings)
        .await
        .map_err(|e| match source.named {
            // Say where the operator named it, so a wrong path is found.
            true => format!("[plugins.{}] file: {e}", source.name),
            false => e.to_string(),
        })?;
    let declared = &plugin.info().name;
    if !source.named && *declared != source.name {
        return Err(format!(
            "plugin {}: it declares itself {declared:?} but its file names it {:?}: \
             rename the file to {declared}.wasm, or load it as {:?} with \
             [plugins.{}] file = {:?} in the configuration",
            source.path.display(),
            source.name,
            source.name,
            source.name,
            source.path.display().to_string(),
        ));
    }
    Ok(plugin)
}
