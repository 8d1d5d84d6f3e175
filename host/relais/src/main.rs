//! `relais`: durable workflows of sandboxed WebAssembly plugins.

mod cmd;
mod config;
mod plugins;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The hot paths (webhook bodies, JSON records, store pages) allocate and
/// free many small buffers across threads, which mimalloc serves faster
/// than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Durable workflows of sandboxed WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "relais", version, about)]
struct Cli {
    /// Configuration file (default: ./relais.toml if present, else the embedded default).
    #[arg(long, short = 'c', global = true, env = "RELAIS_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect, run and scaffold plugins.
    #[command(subcommand)]
    Plugin(cmd::plugin::PluginCommand),
    /// Check workflow files (default: the configured workflows folder) and
    /// report every error of every file.
    Validate {
        /// Files or folders of workflow files.
        paths: Vec<PathBuf>,
    },
    /// Serve webhooks, the API and the scheduler, and run workflows.
    Serve,
    /// Start a manual run of a workflow.
    Run(cmd::run::RunArgs),
    /// List, show, retry and cancel runs.
    #[command(subcommand)]
    Runs(cmd::runs::RunsCommand),
    /// Set, list and remove secrets (encrypted at rest).
    #[command(subcommand)]
    Secret(cmd::secret::SecretCommand),
    /// Create, list and revoke API tokens.
    #[command(subcommand)]
    Token(cmd::token::TokenCommand),
    /// Cron schedules: when they fire next.
    #[command(subcommand)]
    Cron(cmd::cron::CronCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Plugin(c) => cmd::plugin::run(c, cli.config.as_deref()).await,
            Command::Validate { paths } => {
                let config = config::Config::load(cli.config.as_deref())?;
                cmd::validate::run(paths, &config).await
            }
            Command::Serve => {
                let config = config::Config::load(cli.config.as_deref())?;
                cmd::serve::run(&config).await
            }
            Command::Run(args) => {
                let config = config::Config::load(cli.config.as_deref())?;
                cmd::run::run(args, &config).await
            }
            Command::Runs(c) => {
                let config = config::Config::load(cli.config.as_deref())?;
                cmd::runs::run(c, &config).await
            }
            Command::Secret(c) => {
                let config = config::Config::load(cli.config.as_deref())?;
                cmd::secret::run(c, &config).await
            }
            Command::Token(c) => {
                let config = config::Config::load(cli.config.as_deref())?;
                cmd::token::run(c, &config).await
            }
            Command::Cron(c) => {
                let config = config::Config::load(cli.config.as_deref())?;
                cmd::cron::run(c, &config).await
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
