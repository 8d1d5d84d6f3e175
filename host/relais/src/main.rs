//! `relais`: durable workflows of sandboxed WebAssembly plugins.

mod cmd;
mod config;
mod logging;
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
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 or 0.0.0.0:9000
        /// (default: `[server] listen` of the configuration).
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
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
    let cli = Cli::parse();
    // `plugin` commands load the configuration themselves (`plugin new`
    // needs none); the log takes its settings from it when it loads.
    let config = config::Config::load(cli.config.as_deref());
    let log = match &config {
        Ok(c) => logging::init(&c.log, &c.source),
        Err(_) => logging::init(&logging::LogSection::default(), ""),
    };
    if let Err(e) = log {
        logging::error(format_args!("{e:#}"));
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            logging::error(format_args!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Plugin(c) => cmd::plugin::run(c, cli.config.as_deref()).await,
            Command::Validate { paths } => cmd::validate::run(paths, &config?).await,
            Command::Serve { listen } => {
                let mut config = config?;
                if let Some(address) = listen {
                    config.server.listen = address;
                }
                cmd::serve::run(&config).await
            }
            Command::Run(args) => cmd::run::run(args, &config?).await,
            Command::Runs(c) => cmd::runs::run(c, &config?).await,
            Command::Secret(c) => cmd::secret::run(c, &config?).await,
            Command::Token(c) => cmd::token::run(c, &config?).await,
            Command::Cron(c) => cmd::cron::run(c, &config?).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) if cmd::out::closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            logging::error(format_args!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}
