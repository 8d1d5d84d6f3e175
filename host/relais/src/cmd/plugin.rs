//! `relais plugin list | inspect | invoke | new`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use relais_runtime::{
    Context, Invocation, MemoryKv, Origin, Plugin, PluginInfo, PluginSettings, SecretValue, Secrets,
};

use relais_engine::PluginSource;

use crate::cmd::out::{out, outln};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// List the plugins of the configured plugins folder and their steps.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show a plugin's description and the JSON Schemas of its steps.
    Inspect {
        /// A plugin component (`.wasm`), or the name of a plugin in the plugins folder.
        plugin: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run one step of a plugin in the sandbox and print its output.
    Invoke {
        /// A plugin component (`.wasm`), or the name of a plugin in the plugins folder.
        plugin: String,
        /// The step to run.
        step: String,
        /// The input: JSON text, or @FILE to read it from a file (@- for stdin).
        #[arg(long, short = 'i', default_value = "{}")]
        input: String,
        /// Let the plugin reach this origin (scheme://host[:port]); repeatable.
        #[arg(long = "grant-host", value_name = "URL")]
        grant_host: Vec<String>,
        /// Grant a secret: NAME=@FILE reads the value from a file (@- for stdin).
        #[arg(long = "secret", value_name = "NAME=@FILE")]
        secret: Vec<String>,
        /// Wall-clock limit, e.g. 10s (default: the plugin's configured limit).
        #[arg(long)]
        timeout: Option<String>,
        /// Print the log and the outcome as one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Scaffold a new plugin crate that builds and passes its own test.
    New {
        /// The plugin's name (lowercase letters, digits, '-').
        name: String,
        /// Folder to create (default: plugins/NAME inside a Relais checkout, else ./NAME).
        #[arg(long)]
        path: Option<PathBuf>,
    },
}

pub async fn run(cmd: PluginCommand, config: Option<&Path>) -> Result<ExitCode> {
    // Scaffolding needs no configuration; every other command loads it.
    let load = || Config::load(config);
    match cmd {
        PluginCommand::New { name, path } => {
            crate::cmd::scaffold::new_plugin(&name, path)?;
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::List { json } => list(&load()?, json).await,
        PluginCommand::Inspect { plugin, json } => {
            let p = load_one(&load()?, &plugin, None).await?;
            let mut out = String::new();
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&named_info(&p))?)?;
            } else {
                print_info(&mut out, p.name(), p.info(), p.path(), true)?;
            }
            out!("{out}")?;
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Invoke {
            plugin,
            step,
            input,
            grant_host,
            secret,
            timeout,
            json,
        } => {
            let config = load()?;
            let mut settings = settings_for(&config, &plugin);
            for h in &grant_host {
                let origin = Origin::parse(h)?;
                // An explicit grant on the command line includes names that
                // resolve to private addresses: the operator asked for it.
                settings.http.private.push(origin.clone());
                settings.http.hosts.push(origin);
            }
            // The step's timeout: `describe`, run at load, keeps its own.
            if let Some(t) = timeout {
                settings.limits.timeout = parse_duration(&t)?;
            }
            let p = load_one(&config, &plugin, Some(settings)).await?;
            let inv = Invocation {
                step,
                input: read_arg(&input).context("reading --input")?,
                context: Context {
                    run_id: "cli".into(),
                    step_id: "cli".into(),
                    attempt: 1,
                    idempotency_key: format!("cli-{}", std::process::id()),
                },
                secrets: secrets(&secret)?,
                kv: Arc::new(MemoryKv::default()),
            };
            serde_json::from_str::<serde_json::Value>(&inv.input)
                .context("--input is not valid JSON")?;
            let outcome = p.invoke(inv).await;
            if json {
                outln!("{}", serde_json::to_string_pretty(&outcome)?)?;
            } else {
                for l in &outcome.logs {
                    eprintln!("[{:>6}ms {:>5}] {}", l.at_ms, l.level, l.message);
                }
                match &outcome.result {
                    Ok(v) => outln!("{}", serde_json::to_string_pretty(v)?)?,
                    Err(e) => eprintln!("error: {e}"),
                }
            }
            Ok(if outcome.result.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
    }
}

fn parse_duration(t: &str) -> Result<std::time::Duration> {
    relais_workflow::Duration::parse(t)
        .map(|d| d.as_std())
        .map_err(|e| anyhow::anyhow!("--timeout {t}: {e}"))
}

pub(crate) fn read_arg(arg: &str) -> Result<String> {
    match arg.strip_prefix('@') {
        Some("-") => std::io::read_to_string(std::io::stdin()).context("reading stdin"),
        Some(file) => std::fs::read_to_string(file).with_context(|| format!("reading {file}")),
        None => Ok(arg.to_string()),
    }
}

fn secrets(args: &[String]) -> Result<Secrets> {
    let mut s = Secrets::new();
    for a in args {
        let Some((name, src)) = a.split_once('=') else {
            bail!("--secret {a:?}: expected NAME=@FILE");
        };
        if !src.starts_with('@') {
            bail!(
                "--secret {name}: give the value as @FILE or @- (stdin), never on the command line"
            );
        }
        let value = read_arg(src)?;
        s.insert(name, SecretValue::new(value.trim_end_matches(['\n', '\r'])));
    }
    Ok(s)
}

/// The plugin a command names: a component file (named by its stem, as if
/// in the plugins folder), or a plugin name: the file its section names, or
/// `PLUGINS_DIR/NAME.wasm`.
fn source(config: &Config, plugin: &str) -> PluginSource {
    if plugin.ends_with(".wasm") || plugin.contains('/') {
        let path = PathBuf::from(plugin);
        return PluginSource {
            name: relais_engine::file_stem(&path),
            path,
            named: false,
        };
    }
    let file = config.plugins.get(plugin).and_then(|s| s.file.clone());
    PluginSource {
        name: plugin.to_owned(),
        named: file.is_some(),
        path: file.unwrap_or_else(|| config.plugins_dir.join(format!("{plugin}.wasm"))),
    }
}

fn settings_for(config: &Config, plugin: &str) -> PluginSettings {
    config.plugin_settings(&source(config, plugin).name)
}

async fn load_one(
    config: &Config,
    plugin: &str,
    settings: Option<PluginSettings>,
) -> Result<Plugin> {
    let source = source(config, plugin);
    if !source.path.exists() {
        bail!(
            "no plugin at {} (build the bundled plugins with scripts/build-plugins.sh)",
            source.path.display()
        );
    }
    let settings = settings.unwrap_or_else(|| config.plugin_settings(&source.name));
    let runtime = crate::plugins::runtime(config)?;
    relais_engine::load_source(&runtime, &source, settings)
        .await
        .map_err(anyhow::Error::msg)
}

async fn list(config: &Config, json: bool) -> Result<ExitCode> {
    let dir = &config.plugins_dir;
    let (plugins, failures) = crate::plugins::load_all(config).await?;
    for e in &failures {
        eprintln!("error: {e}");
    }
    let failed = !failures.is_empty();
    let mut out = String::new();
    if json {
        let list: Vec<PluginInfo> = plugins.iter().map(named_info).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
    } else if plugins.iter().next().is_none() {
        writeln!(out, "no plugins in {}", dir.display())?;
    } else {
        for p in plugins.iter() {
            print_info(&mut out, p.name(), p.info(), p.path(), false)?;
        }
    }
    out!("{out}")?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A plugin's description under the name it is loaded as.
fn named_info(p: &Plugin) -> PluginInfo {
    PluginInfo {
        name: p.name().to_owned(),
        ..p.info().clone()
    }
}

fn print_info(
    out: &mut String,
    name: &str,
    info: &PluginInfo,
    path: &Path,
    schemas: bool,
) -> Result<()> {
    writeln!(out, "{name} {} — {}", info.version, info.description)?;
    writeln!(out, "  file: {}", path.display())?;
    if info.name != name {
        writeln!(out, "  declares itself: {}", info.name)?;
    }
    for s in &info.steps {
        writeln!(out, "  {name}/{}: {}", s.name, s.description)?;
        if schemas {
            for (label, schema) in [("input", &s.input_schema), ("output", &s.output_schema)] {
                let text = serde_json::to_string_pretty(schema).unwrap_or_default();
                writeln!(out, "    {label} schema:")?;
                for line in text.lines() {
                    writeln!(out, "      {line}")?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugin_is_found_by_the_name_workflows_use() {
        let c = Config::parse(
            "data_dir='/d'\nplugins_dir='/p'\nworkflows_dir='/w'\n[plugins.stripe-eu]\nfile='/opt/stripe.wasm'\n",
            "t",
        )
        .unwrap();
        let named = source(&c, "stripe-eu");
        assert_eq!(
            (named.name.as_str(), named.path.as_path(), named.named),
            ("stripe-eu", Path::new("/opt/stripe.wasm"), true)
        );
        let found = source(&c, "http");
        assert_eq!(
            (found.name.as_str(), found.path.as_path(), found.named),
            ("http", Path::new("/p/http.wasm"), false)
        );
        let file = source(&c, "/tmp/other.wasm");
        assert_eq!((file.name.as_str(), file.named), ("other", false));
    }
}
