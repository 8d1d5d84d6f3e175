//! `relais cron next WORKFLOW | --expr EXPR [--tz ZONE]`: the next fire
//! times, in the schedule's zone and in UTC.

use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use relais_triggers::cron::Schedule;
use relais_workflow::model::Trigger;
use relais_workflow::{validate_files, workflow_files};

use crate::cmd::out::outln;
use crate::config::Config;
use crate::plugins;

#[derive(Debug, Subcommand)]
pub enum CronCommand {
    /// Print the next fire times, one per line: local time, then UTC.
    Next {
        /// A cron workflow's id (from the configured workflows folder).
        #[arg(required_unless_present = "expr", conflicts_with = "expr")]
        workflow: Option<String>,
        /// A cron expression instead of a workflow.
        #[arg(long)]
        expr: Option<String>,
        /// The zone of --expr (default: the server's configured zone).
        #[arg(long, requires = "expr")]
        tz: Option<String>,
        /// How many fire times.
        #[arg(short = 'n', default_value_t = 5)]
        count: usize,
        /// Start after this instant (RFC 3339; default now).
        #[arg(long)]
        after: Option<String>,
    },
}

pub async fn run(command: CronCommand, config: &Config) -> Result<ExitCode> {
    let CronCommand::Next {
        workflow,
        expr,
        tz,
        count,
        after,
    } = command;
    let default_zone: chrono_tz::Tz =
        config.server.timezone.parse().map_err(|_| {
            anyhow::anyhow!("unknown [server] timezone {:?}", config.server.timezone)
        })?;
    let after: DateTime<Utc> = match after {
        Some(a) => DateTime::parse_from_rfc3339(&a)
            .with_context(|| {
                format!("--after {a:?}: expected RFC 3339, like 2026-03-29T00:00:00+01:00")
            })?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    let schedule = match (workflow, expr) {
        (_, Some(expr)) => {
            let zone = tz.unwrap_or_else(|| default_zone.name().to_owned());
            Schedule::parse(&expr, &zone)?
        }
        (Some(id), None) => workflow_schedule(config, &id, default_zone).await?,
        (None, None) => bail!("give a workflow id or --expr"),
    };
    for fire in schedule.next_n(after, count) {
        outln!("{}\t{}", fire.local_rfc3339(), fire.utc_rfc3339())?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn workflow_schedule(config: &Config, id: &str, zone: chrono_tz::Tz) -> Result<Schedule> {
    let (plugins, _) = plugins::load_all(config).await?;
    let catalog = plugins.catalog();
    let files = workflow_files(&config.workflows_dir)
        .with_context(|| format!("reading {}", config.workflows_dir.display()))?;
    let checked = validate_files(&files, &catalog);
    let Some(w) = checked.workflows.iter().find(|w| w.id.as_str() == id) else {
        for d in checked.errors.iter() {
            eprintln!("{d}");
        }
        bail!(
            "no valid workflow {id} in {}",
            config.workflows_dir.display()
        );
    };
    let Trigger::Cron(cron) = &w.trigger else {
        bail!("workflow {id} has no cron trigger");
    };
    Ok(cron.schedule_in(zone))
}
