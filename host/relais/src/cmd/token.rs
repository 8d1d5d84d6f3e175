//! `relais token create|list|revoke`: API bearer tokens, stored hashed.
//! Works with the server running (through its control socket) or stopped.

use std::process::ExitCode;

use anyhow::Result;
use axum::http::Method;
use clap::Subcommand;
use relais_server::local::{CreatedToken, TokenView};
use serde_json::json;

use crate::cmd::control::{Control, encode};
use crate::cmd::node::Load;
use crate::cmd::out::outln;
use crate::cmd::render::time;
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
    let control = Control::connect(config, Load::Store).await?;
    match command {
        TokenCommand::Create { name } => {
            let created: CreatedToken = control
                .post("/local/v1/tokens", &json!({ "name": name }))
                .await?
                .into_ok()?;
            eprintln!("token {name} created; it is shown only this once:");
            outln!("{}", created.token)?;
        }
        TokenCommand::List => {
            let tokens: Vec<TokenView> = control.get("/local/v1/tokens").await?.into_ok()?;
            if tokens.is_empty() {
                eprintln!("no tokens (create one with `relais token create NAME`)");
            }
            for t in tokens {
                outln!("{}\tcreated {}", t.name, time(t.created_at))?;
            }
        }
        TokenCommand::Revoke { name } => {
            control
                .request(
                    Method::DELETE,
                    &format!("/local/v1/tokens/{}", encode(&name)),
                    Vec::new(),
                )
                .await?
                .check()?;
            eprintln!("token {name} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
