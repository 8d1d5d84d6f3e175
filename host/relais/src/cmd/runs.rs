//! `relais runs list|show|retry|cancel`: what happened, and putting it right.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;
use relais_server::api::{RunDetailView, RunList, RunView};
use serde_json::json;

use crate::cmd::control::{Control, encode};
use crate::cmd::node::Load;
use crate::cmd::out::{out, outln};
use crate::cmd::render;
use crate::config::Config;

const STATUSES: [&str; 6] = [
    "queued",
    "running",
    "waiting",
    "succeeded",
    "failed",
    "cancelled",
];

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Runs, newest first.
    List {
        /// Only runs of this workflow.
        #[arg(long, short = 'w')]
        workflow: Option<String>,
        /// Only runs in this status: queued, running, waiting, succeeded, failed or cancelled.
        #[arg(long, short = 's')]
        status: Option<String>,
        /// How many (1 to 1000).
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: usize,
        /// Continue after a previous page (the cursor it printed).
        #[arg(long)]
        cursor: Option<String>,
        /// Print the API's JSON page.
        #[arg(long)]
        json: bool,
    },
    /// One run: its steps, attempts, inputs, outputs, errors and logs.
    Show {
        /// The run id.
        id: String,
        /// Print the whole record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Queue a failed or cancelled run again, from its failed step (earlier
    /// outputs kept) or from the start.
    Retry {
        /// The run id.
        id: String,
        /// Start again from the first step.
        #[arg(long)]
        from_start: bool,
    },
    /// Cancel a run that has not finished: no further step starts.
    Cancel {
        /// The run id.
        id: String,
    },
}

fn list_path(
    workflow: Option<&str>,
    status: Option<&str>,
    limit: usize,
    cursor: Option<&str>,
) -> Result<String> {
    if let Some(s) = status
        && !STATUSES.contains(&s)
    {
        bail!("unknown status {s:?}: use one of {}", STATUSES.join(", "));
    }
    let mut query = vec![format!("limit={limit}")];
    for (k, v) in [
        ("workflow", workflow),
        ("status", status),
        ("cursor", cursor),
    ] {
        if let Some(v) = v {
            query.push(format!("{k}={}", encode(v)));
        }
    }
    Ok(format!("/api/v1/runs?{}", query.join("&")))
}

pub async fn run(command: RunsCommand, config: &Config) -> Result<ExitCode> {
    let control = Control::connect(config, Load::Store).await?;
    match command {
        RunsCommand::List {
            workflow,
            status,
            limit,
            cursor,
            json,
        } => {
            let path = list_path(
                workflow.as_deref(),
                status.as_deref(),
                limit,
                cursor.as_deref(),
            )?;
            let reply = control.get(&path).await?;
            if json {
                reply.check()?;
                outln!("{}", serde_json::to_string_pretty(&reply.body)?)?;
                return Ok(ExitCode::SUCCESS);
            }
            let page: RunList = reply.into_ok()?;
            if page.runs.is_empty() {
                eprintln!("no runs");
            } else {
                out!("{}", render::run_table(&page.runs))?;
            }
            if let Some(next) = page.next_cursor {
                eprintln!("more: relais runs list --cursor {next}");
            }
        }
        RunsCommand::Show { id, json } => {
            let reply = control
                .get(&format!("/api/v1/runs/{}", encode(&id)))
                .await?;
            if json {
                reply.check()?;
                outln!("{}", serde_json::to_string_pretty(&reply.body)?)?;
            } else {
                let detail: RunDetailView = reply.into_ok()?;
                out!("{}", render::run_detail(&detail))?;
            }
        }
        RunsCommand::Retry { id, from_start } => {
            let from = if from_start { "start" } else { "failed_step" };
            let run: RunView = control
                .post(
                    &format!("/api/v1/runs/{}/retry", encode(&id)),
                    &json!({ "from": from }),
                )
                .await?
                .into_ok()?;
            let step = if from_start {
                "the start".to_owned()
            } else {
                format!("step {}", u64::from(run.next_step) + 1)
            };
            eprintln!("run {id} queued again from {step}{}", later(&control));
        }
        RunsCommand::Cancel { id } => {
            control
                .post(&format!("/api/v1/runs/{}/cancel", encode(&id)), &json!({}))
                .await?
                .check()?;
            eprintln!("run {id} cancelled");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where queued work will run.
pub fn later(control: &Control) -> &'static str {
    if control.is_remote() {
        ""
    } else {
        " (no server is running: it runs at the next `relais serve`)"
    }
}
