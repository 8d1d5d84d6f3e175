//! The loaded plugins by name, and the catalog workflows are checked against.

use std::collections::BTreeMap;
use std::path::Path;

use relais_runtime::{Plugin, PluginSettings, Runtime};
use relais_workflow::Catalog;

use crate::EngineError;

/// The loaded plugins by the name they describe themselves with.
#[derive(Default)]
pub struct Plugins {
    by_name: BTreeMap<String, Plugin>,
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_name.keys()).finish()
    }
}

/// The file stem a plugin's settings are keyed by (`http` for `http.wasm`).
pub fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl Plugins {
    /// Loads every `*.wasm` file of `dir` with the settings of its file
    /// stem. Returns the plugins that loaded and a message for each that
    /// did not (or whose name repeats an earlier file's).
    pub async fn load(
        runtime: &Runtime,
        dir: &Path,
        settings: impl Fn(&str) -> PluginSettings,
    ) -> Result<(Plugins, Vec<String>), EngineError> {
        if !dir.is_dir() {
            return Err(EngineError::PluginsDir {
                path: dir.to_path_buf(),
                message: "not a folder (build the bundled plugins with scripts/build-plugins.sh, \
                          or set plugins_dir in relais.toml)"
                    .into(),
            });
        }
        let results = runtime
            .load_dir(dir, |p| settings(&file_stem(p)))
            .await
            .map_err(|e| EngineError::PluginsDir {
                path: dir.to_path_buf(),
                message: e.to_string(),
            })?;
        let mut errors = Vec::new();
        let mut plugins = Plugins::default();
        for result in results {
            match result {
                Ok(plugin) => {
                    if let Err(message) = plugins.insert(plugin) {
                        errors.push(message);
                    }
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        Ok((plugins, errors))
    }

    /// Collects plugins loaded elsewhere; a repeated name is an error.
    pub fn from_plugins(plugins: impl IntoIterator<Item = Plugin>) -> Result<Plugins, String> {
        let mut out = Plugins::default();
        for p in plugins {
            out.insert(p)?;
        }
        Ok(out)
    }

    fn insert(&mut self, plugin: Plugin) -> Result<(), String> {
        let name = plugin.info().name.clone();
        if let Some(first) = self.by_name.get(&name) {
            return Err(format!(
                "{}: plugin name {name:?} is already used by {}",
                plugin.path().display(),
                first.path().display()
            ));
        }
        self.by_name.insert(name, plugin);
        Ok(())
    }

    /// The plugin with this name.
    pub fn get(&self, name: &str) -> Option<&Plugin> {
        self.by_name.get(name)
    }

    /// The steps of every plugin with their input schemas.
    pub fn catalog(&self) -> Result<Catalog, EngineError> {
        let mut catalog = Catalog::new();
        for p in self.by_name.values() {
            for s in &p.info().steps {
                catalog.add_step(&p.info().name, &s.name, s.input_schema.clone())?;
            }
        }
        Ok(catalog)
    }

    /// Every plugin, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Plugin> {
        self.by_name.values()
    }
}
