//! `relais plugin list | inspect | invoke | new`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use relais_runtime::{
    Context, Invocation, MemoryKv, Origin, Plugin, PluginInfo, PluginSettings, SecretValue, Secrets,
};

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
                writeln!(out, "{}", serde_json::to_string_pretty(p.info())?)?;
            } else {
                print_info(&mut out, p.info(), p.path(), true)?;
            }
            emit(&out)?;
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
                emit(&format!("{}\n", serde_json::to_string_pretty(&outcome)?))?;
            } else {
                for l in &outcome.logs {
                    eprintln!("[{:>6}ms {:>5}] {}", l.at_ms, l.level, l.message);
                }
                match &outcome.result {
                    Ok(v) => emit(&format!("{}\n", serde_json::to_string_pretty(v)?))?,
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

fn stem(plugin: &str) -> String {
    relais_engine::file_stem(Path::new(plugin))
}

fn settings_for(config: &Config, plugin: &str) -> PluginSettings {
    config.plugin_settings(&stem(plugin))
}

fn plugin_path(config: &Config, plugin: &str) -> PathBuf {
    if plugin.ends_with(".wasm") || plugin.contains('/') {
        PathBuf::from(plugin)
    } else {
        config.plugins_dir.join(format!("{plugin}.wasm"))
    }
}

async fn load_one(
    config: &Config,
    plugin: &str,
    settings: Option<PluginSettings>,
) -> Result<Plugin> {
    let path = plugin_path(config, plugin);
    if !path.exists() {
        bail!(
            "no plugin at {} (build the bundled plugins with scripts/build-plugins.sh)",
            path.display()
        );
    }
    let settings = settings.unwrap_or_else(|| settings_for(config, plugin));
    let (p, _) = crate::plugins::runtime(config)?
        .load(&path, settings)
        .await?;
    Ok(p)
}

async fn list(config: &Config, json: bool) -> Result<ExitCode> {
    let dir = &config.plugins_dir;
    let (plugins, failures) = crate::plugins::load_all(config).await?;
    for e in &failures {
        eprintln!("error: {e}");
    }
    let failed = !failures.is_empty();
    let infos: Vec<_> = plugins
        .iter()
        .map(|p| (p.info().clone(), p.path().to_path_buf()))
        .collect();
    let mut out = String::new();
    if json {
        let list: Vec<&PluginInfo> = infos.iter().map(|(i, _)| i).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
    } else if infos.is_empty() {
        writeln!(out, "no plugins in {}", dir.display())?;
    } else {
        for (info, path) in &infos {
            print_info(&mut out, info, path, false)?;
        }
    }
    emit(&out)?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_info(out: &mut String, info: &PluginInfo, path: &Path, schemas: bool) -> Result<()> {
    writeln!(out, "{} {} — {}", info.name, info.version, info.description)?;
    writeln!(out, "  file: {}", path.display())?;
    for s in &info.steps {
        writeln!(out, "  {}/{}: {}", info.name, s.name, s.description)?;
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

/// Writes `text` to stdout. A reader that went away (`| head`) is not an
/// error: like other Unix tools, the command stops writing and succeeds.
fn emit(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}
