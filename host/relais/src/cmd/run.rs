//! `relais run WORKFLOW [--input JSON|@FILE] [--wait]`: start a manual run.
//! With a server running, the run is handed to it; without one it is
//! queued in the store and, with `--wait`, executed here.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;
use relais_server::api::{RunDetailView, TriggerAnswer};
use relais_store::RunStatus;
use serde_json::Value;

use crate::cmd::control::{Control, encode};
use crate::cmd::node::Load;
use crate::cmd::out::outln;
use crate::cmd::plugin::read_arg;
use crate::cmd::render;
use crate::cmd::runs::later;
use crate::config::Config;

/// How often a waiting CLI looks at the run.
const POLL: Duration = Duration::from_millis(100);

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The workflow's id.
    pub workflow: String,
    /// The run's input: a JSON object, or @FILE to read it from a file (@- for stdin).
    #[arg(long, short = 'i', default_value = "{}")]
    pub input: String,
    /// Wait for the run to finish, showing each step as it ends, then print
    /// its output; exit status 1 if it failed or was cancelled.
    #[arg(long)]
    pub wait: bool,
    /// With --wait, print the whole run record as JSON.
    #[arg(long, requires = "wait")]
    pub json: bool,
}

pub async fn run(args: RunArgs, config: &Config) -> Result<ExitCode> {
    let text = read_arg(&args.input).context("reading --input")?;
    let input: Value = serde_json::from_str(&text).context("--input is not valid JSON")?;
    let control = Control::connect(config, Load::Workflows).await?;
    let answer: TriggerAnswer = control
        .post(
            &format!("/api/v1/workflows/{}/runs", encode(&args.workflow)),
            &input,
        )
        .await?
        .into_ok()?;
    let id = answer.run_id.to_string();
    if !args.wait {
        outln!("{id}")?;
        eprintln!("run {id} queued{}", later(&control));
        return Ok(ExitCode::SUCCESS);
    }
    // No server: this process runs the queue (the new run included) until
    // the run ends. Started only once the run is accepted, so a refused run
    // starts no other work.
    let engine = match &control {
        Control::Local(node) => Some((node.engine.clone(), node.engine.start())),
        Control::Remote(_) => None,
    };
    eprintln!("run {id} started");
    let detail = follow(&control, &id).await;
    if let Some((engine, task)) = engine {
        engine
            .shutdown(Duration::from_secs(config.server.shutdown_grace_secs))
            .await;
        task.abort();
    }
    let (detail, raw) = detail?;
    let status = detail.run.status;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&raw)?)?;
    } else if status == RunStatus::Succeeded {
        outln!("{}", serde_json::to_string_pretty(&detail.output)?)?;
    }
    match &detail.run.error {
        None => eprintln!("run {id} {status}"),
        Some(e) => eprintln!("run {id} {status}: {}", render::error(e)),
    }
    Ok(if status == RunStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Polls the run until it finishes, printing each attempt as it ends and
/// each change of status; returns the final record, typed and as sent.
async fn follow(control: &Control, id: &str) -> Result<(RunDetailView, Value)> {
    let path = format!("/api/v1/runs/{}", encode(id));
    let mut shown = BTreeSet::new();
    let mut last_status = None;
    loop {
        let reply = control.get(&path).await?;
        reply.check()?;
        let raw = reply.body.clone();
        let detail: RunDetailView = reply.into_ok()?;
        for a in &detail.attempts {
            if a.ended_at.is_some() && shown.insert(a.seq) {
                eprintln!("  {}", render::attempt_line(a));
            }
        }
        let status = detail.run.status;
        if status.is_finished() {
            return Ok((detail, raw));
        }
        if status == RunStatus::Waiting && last_status != Some(RunStatus::Waiting) {
            eprintln!("  … waiting on a durable timer (Ctrl-C leaves it in the store)");
        }
        last_status = Some(status);
        tokio::time::sleep(POLL).await;
    }
}
