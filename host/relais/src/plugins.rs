//! Loading the configured plugins folder, and the catalog of their steps
//! that workflow validation checks `uses:` against.

use std::path::Path;

use anyhow::{Context as _, Result};
use relais_runtime::{Plugin, Runtime, RuntimeConfig};
use relais_workflow::Catalog;

use crate::config::Config;

/// The plugins that loaded, and the message of each that did not.
pub struct Loaded {
    pub plugins: Vec<Plugin>,
    pub failures: Vec<String>,
}

/// The file stem a plugin's settings are keyed by.
pub fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub fn runtime(config: &Config) -> Result<Runtime> {
    Ok(Runtime::new(&RuntimeConfig {
        cache_dir: Some(config.cache_dir()),
        mail_relays: config.mail_relays()?,
        ..RuntimeConfig::default()
    })?)
}

/// Loads every plugin of the configured folder. A missing folder is an
/// error that says how to build the bundled plugins.
pub async fn load_all(config: &Config) -> Result<Loaded> {
    let runtime = runtime(config)?;
    let dir = &config.plugins_dir;
    if !dir.is_dir() {
        anyhow::bail!(
            "plugins folder {} does not exist (build the bundled plugins with scripts/build-plugins.sh, \
             or set plugins_dir in relais.toml)",
            dir.display()
        );
    }
    let results = runtime
        .load_dir(dir, |p| config.plugin_settings(&stem(p)))
        .await
        .with_context(|| format!("loading plugins from {}", dir.display()))?;
    let mut plugins = Vec::new();
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(p) => plugins.push(p),
            Err(e) => failures.push(e.to_string()),
        }
    }
    Ok(Loaded { plugins, failures })
}

/// The steps of `plugins` with their input schemas.
pub fn catalog(plugins: &[Plugin]) -> Result<Catalog> {
    let mut catalog = Catalog::new();
    for p in plugins {
        for s in &p.info().steps {
            catalog
                .add_step(&p.info().name, &s.name, s.input_schema.clone())
                .with_context(|| format!("plugin {}", p.path().display()))?;
        }
    }
    Ok(catalog)
}
