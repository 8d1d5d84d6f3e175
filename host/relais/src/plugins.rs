//! The configured plugins: the `[plugins.NAME]` sections, and the plugins
//! folder plus the named plugins, loaded through the engine's [`Plugins`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use relais_engine::{PluginOptions, Plugins};
use relais_runtime::{PluginSettings, Runtime, RuntimeConfig};
use serde::Deserialize;

use crate::config::Config;

/// `[plugins.NAME]`: one plugin's name, file, checks and settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginSection {
    /// Its component file: loads it under NAME whatever name it declares
    /// (default: `PLUGINS_DIR/NAME.wasm`, which must declare NAME).
    pub file: Option<PathBuf>,
    /// Check each output against the step's declared output schema
    /// (default true; false for a vendor whose answers break its schema).
    pub check_output: bool,
    /// Grants and limits (`limits`, `http`, `mail`); `None`: the section
    /// sets none of them, `[plugin_defaults]` applies.
    pub settings: Option<PluginSettings>,
}

/// The keys of a `[plugins.NAME]` section that are not sandbox settings.
const PLUGIN_KEYS: [&str; 2] = ["file", "check_output"];

/// Reads `[plugins.NAME]` sections: `file` and `check_output`, the rest
/// as the sandbox's settings (unknown keys are errors that name the section).
pub(crate) fn sections<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, PluginSection>, D::Error> {
    use serde::de::Error as _;
    let raw = BTreeMap::<String, toml::Table>::deserialize(d)?;
    let mut out = BTreeMap::new();
    for (name, mut table) in raw {
        let err = |key: &str, e: toml::de::Error| {
            D::Error::custom(format!("[plugins.{name}]{key}: {}", e.message()))
        };
        let file = match table.remove(PLUGIN_KEYS[0]) {
            Some(v) => Some(PathBuf::deserialize(v).map_err(|e| err(" file", e))?),
            None => None,
        };
        let check_output = match table.remove(PLUGIN_KEYS[1]) {
            Some(v) => bool::deserialize(v).map_err(|e| err(" check_output", e))?,
            None => true,
        };
        let settings = if table.is_empty() {
            None
        } else {
            Some(PluginSettings::deserialize(toml::Value::Table(table)).map_err(|e| err("", e))?)
        };
        let section = PluginSection {
            file,
            check_output,
            settings,
        };
        out.insert(name, section);
    }
    Ok(out)
}

impl Config {
    /// How the engine runs the plugin named `name`.
    pub fn plugin_options(&self, name: &str) -> PluginOptions {
        PluginOptions {
            settings: self.plugin_settings(name),
            check_output: self.plugins.get(name).is_none_or(|s| s.check_output),
        }
    }

    /// The plugins named with their file (`[plugins.NAME] file = "…"`).
    pub fn named_plugins(&self) -> Vec<(String, PathBuf)> {
        self.plugins
            .iter()
            .filter_map(|(name, s)| s.file.clone().map(|f| (name.clone(), f)))
            .collect()
    }
}

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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::config::Config;

    #[test]
    fn plugin_sections_name_files_and_turn_output_checks_off() {
        let c = Config::parse(
            "data_dir='d'\nplugins_dir='p'\nworkflows_dir='w'\n[plugin_defaults.limits]\ntimeout='7s'\n\
             [plugins.stripe-eu]\nfile='/opt/stripe.wasm'\ncheck_output=false\n",
            "t",
        )
        .unwrap();
        assert_eq!(
            c.named_plugins(),
            [("stripe-eu".to_owned(), PathBuf::from("/opt/stripe.wasm"))]
        );
        assert!(!c.plugin_options("stripe-eu").check_output);
        assert!(c.plugin_options("http").check_output);
        let s = c.plugin_settings("stripe-eu");
        assert_eq!(s.limits.timeout, std::time::Duration::from_secs(7));
        let err = Config::parse(
            "data_dir='d'\nplugins_dir='p'\nworkflows_dir='w'\n[plugins.x]\nfile='a.wasm'\ncolour=1\n",
            "relais.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("relais.toml") && err.contains("[plugins.x]") && err.contains("colour"),
            "{err}"
        );
        let err = Config::parse(
            "data_dir='d'\nplugins_dir='p'\nworkflows_dir='w'\n[plugins.x]\ncheck_output='no'\n",
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("[plugins.x] check_output"), "{err}");
    }
}
