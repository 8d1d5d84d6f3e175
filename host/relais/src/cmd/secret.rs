//! `relais secret set|list|rm`: secrets, encrypted at rest with the master
//! key. A value is read from standard input only, never from the command
//! line (where `ps` and shell history would show it).

use std::io::{IsTerminal as _, Read as _};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use axum::http::Method;
use clap::Subcommand;
use relais_runtime::MIN_SECRET_BYTES;
use relais_server::local::{MAX_SECRET_BYTES, SecretChange, SecretNames};

use crate::cmd::control::{Control, encode};
use crate::cmd::node::Load;
use crate::cmd::out::outln;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Set a secret; its value is read from standard input (one trailing
    /// newline is dropped): `relais secret set stripe_api_key < key.txt`.
    Set {
        /// Its name: letters, digits, '_', '-' or '.'.
        name: String,
    },
    /// List the secrets' names (never their values).
    List,
    /// Remove a secret.
    Rm {
        /// Its name.
        name: String,
    },
}

/// Reads a secret's value from standard input.
fn read_value(name: &str) -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("value of {name} (end with Ctrl-D):");
    }
    let mut raw = Vec::new();
    stdin
        .lock()
        .take(MAX_SECRET_BYTES as u64 + 1)
        .read_to_end(&mut raw)
        .context("reading the value from standard input")?;
    if raw.len() > MAX_SECRET_BYTES {
        bail!("the value of {name} is over {MAX_SECRET_BYTES} bytes");
    }
    let mut value =
        String::from_utf8(raw).map_err(|_| anyhow::anyhow!("the value of {name} is not UTF-8"))?;
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    if value.is_empty() {
        bail!("the value of {name} is empty: pipe it on standard input");
    }
    if value.len() < MIN_SECRET_BYTES {
        bail!(
            "the value of {name} is {} bytes: a secret needs at least {MIN_SECRET_BYTES} \
             (a shorter one would be masked wherever it appears in logs and outputs)",
            value.len()
        );
    }
    Ok(value)
}

pub async fn run(command: SecretCommand, config: &Config) -> Result<ExitCode> {
    match command {
        SecretCommand::Set { name } => {
            let value = read_value(&name)?;
            let control = Control::connect(config, Load::Store).await?;
            let change: SecretChange = control
                .request(
                    Method::PUT,
                    &format!("/local/v1/secrets/{}", encode(&name)),
                    value.into_bytes(),
                )
                .await?
                .into_ok()?;
            let verb = if change.existed { "replaced" } else { "set" };
            eprintln!("secret {name} {verb}");
        }
        SecretCommand::List => {
            let control = Control::connect(config, Load::Store).await?;
            let names: SecretNames = control.get("/local/v1/secrets").await?.into_ok()?;
            if names.secrets.is_empty() {
                eprintln!("no secrets (set one with `relais secret set NAME < FILE`)");
            }
            for n in names.secrets {
                outln!("{n}")?;
            }
        }
        SecretCommand::Rm { name } => {
            let control = Control::connect(config, Load::Store).await?;
            control
                .request(
                    Method::DELETE,
                    &format!("/local/v1/secrets/{}", encode(&name)),
                    Vec::new(),
                )
                .await?
                .check()?;
            eprintln!("secret {name} removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}
