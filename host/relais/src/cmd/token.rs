//! `relais token create|list|revoke`: API bearer tokens, stored hashed.
//! The store is opened directly: run these while the server is stopped.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use relais_server::auth;

use crate::cmd::serve::open_store;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it, once.
    Create {
        /// A name to list and revoke it by.
        name: String,
    },
    /// List tokens by name (never the tokens themselves).
    List,
    /// Revoke a token.
    Revoke {
        /// Its name.
        name: String,
    },
}

pub async fn run(command: TokenCommand, config: &Config) -> Result<ExitCode> {
    let store = open_store(config)?;
    match command {
        TokenCommand::Create { name } => {
            let token = auth::create_token(&store, &name).await?;
            eprintln!("token {name} created; it is shown only this once:");
            println!("{token}");
        }
        TokenCommand::List => {
            for t in auth::list_tokens(&store).await? {
                println!("{}\tcreated {}", t.name, rfc3339(t.created_at.as_millis()));
            }
        }
        TokenCommand::Revoke { name } => {
            auth::revoke_token(&store, &name).await?;
            eprintln!("token {name} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn rfc3339(millis: u64) -> String {
    chrono::DateTime::from_timestamp_millis(i64::try_from(millis).unwrap_or(0))
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
