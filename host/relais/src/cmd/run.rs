//! `relais run WORKFLOW [--input JSON|@FILE] [--wait]`: start a manual run.
//! With a server running, the run is handed to it; without one it is
//! queued in the store and, with `--wait`, executed here.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;
use serde_json::Value;

use crate::cmd::control::{Control, encode};
use crate::cmd::node::Load;
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
    let answer: Value = control
        .post(
            &format!("/api/v1/workflows/{}/runs", encode(&args.workflow)),
            &input,
        )
        .await?
        .into_ok()?;
    let id = answer["run_id"].as_str().unwrap_or_default().to_owned();
    if !args.wait {
        println!("{id}");
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
    let detail = detail?;
    let status = detail["run"]["status"].as_str().unwrap_or_default();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&detail)?);
    } else if status == "succeeded" {
        println!("{}", serde_json::to_string_pretty(&detail["output"])?);
    }
    match &detail["run"]["error"] {
        Value::Null => eprintln!("run {id} {status}"),
        e => eprintln!("run {id} {status}: {}", render::error(e)),
    }
    Ok(if status == "succeeded" {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Polls the run until it finishes, printing each attempt as it ends and
/// each change of status; returns the final record.
async fn follow(control: &Control, id: &str) -> Result<Value> {
    let path = format!("/api/v1/runs/{}", encode(id));
    let mut shown = BTreeSet::new();
    let mut last_status = String::new();
    loop {
        let detail: Value = control.get(&path).await?.into_ok()?;
        for a in detail["attempts"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let seq = a["seq"].as_u64().unwrap_or(0);
            if !a["ended_at"].is_null() && shown.insert(seq) {
                eprintln!("  {}", render::attempt_line(a));
            }
        }
        let status = detail["run"]["status"].as_str().unwrap_or_default();
        if matches!(status, "succeeded" | "failed" | "cancelled") {
            return Ok(detail);
        }
        if status == "waiting" && last_status != "waiting" {
            eprintln!("  … waiting on a durable timer (Ctrl-C leaves it in the store)");
        }
        last_status = status.to_owned();
        tokio::time::sleep(POLL).await;
    }
}
