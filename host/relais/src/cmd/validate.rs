//! `relais validate [PATH...]`: every error of every workflow file at once.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use relais_workflow::{validate_files, workflow_files};

use crate::cmd::out::outln;
use crate::config::Config;
use crate::plugins;

pub async fn run(paths: Vec<PathBuf>, config: &Config) -> Result<ExitCode> {
    let (plugins, failures) = plugins::load_all(config).await?;
    for f in &failures {
        eprintln!("warning: {f}");
    }
    let catalog = plugins.catalog();
    let roots = if paths.is_empty() {
        vec![config.workflows_dir.clone()]
    } else {
        paths
    };
    let mut files = Vec::new();
    for p in roots {
        if p.is_dir() {
            files.extend(workflow_files(&p).with_context(|| format!("reading {}", p.display()))?);
        } else {
            files.push(p);
        }
    }
    let checked = validate_files(&files, &catalog);
    for d in checked.errors.iter() {
        eprintln!("{d}");
    }
    let bad = checked.errors.len();
    outln!(
        "{} file(s) checked: {} workflow(s) valid, {bad} error(s)",
        files.len(),
        checked.workflows.len()
    )?;
    Ok(if bad == 0 && !files.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
