//! The configured plugins folder, loaded through the engine's [`Plugins`].

use anyhow::Result;
use relais_engine::Plugins;
use relais_runtime::{Runtime, RuntimeConfig};

use crate::config::Config;

/// The sandbox runtime with the configured cache and mail relays.
pub fn runtime(config: &Config) -> Result<Runtime> {
    Ok(Runtime::new(&RuntimeConfig {
        cache_dir: Some(config.cache_dir()),
        mail_relays: config.mail_relays()?,
        ..RuntimeConfig::default()
    })?)
}

/// Loads every plugin of the configured folder and every plugin named with
/// its file, each with its settings. Returns the plugins that loaded and a
/// message for each that did not. A missing folder is an error that says
/// how to build the bundled plugins; a name given to two files is an error
/// naming both.
pub async fn load_all(config: &Config) -> Result<(Plugins, Vec<String>)> {
    let runtime = runtime(config)?;
    Ok(Plugins::load(
        &runtime,
        &config.plugins_dir,
        config.named_plugins(),
        |name| config.plugin_options(name),
    )
    .await?)
}
