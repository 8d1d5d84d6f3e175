//! `relais serve`: webhooks, the API, the scheduler and the workers in one
//! process, plus the local control socket (`DATA_DIR/relais.sock`) the CLI
//! uses while the server holds the store. On SIGTERM/SIGINT it stops
//! accepting, gives running steps the grace period, and leaves the rest
//! durably queued for the next start.

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context as _, Result};
use relais_server::cron::Scheduler;

use crate::cmd::control;
use crate::cmd::node::{Load, Node};
use crate::config::Config;
use crate::logging;

pub async fn run(config: &Config) -> Result<ExitCode> {
    let retention = config.retention()?;
    let node = Node::open(config, Load::Workflows).await?;
    let Node {
        store,
        engine,
        mut state,
        zone,
    } = node;
    let engine_task = engine.start();
    state.metrics = Some(relais_server::metrics::install().map_err(anyhow::Error::msg)?);
    let workflows = state.workflows.clone();

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let scheduler = Scheduler::new(store.clone(), state.backend.clone(), &workflows, zone);
    let cron_task = tokio::spawn(scheduler.run(stop_rx.clone()));
    let retention_task = tokio::spawn(relais_server::retention::run(
        store.clone(),
        retention,
        stop_rx.clone(),
    ));

    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let address = listener.local_addr()?;
    let socket = control::socket_path(config);
    let local = match control::bind(&socket) {
        Ok(l) => Some(l),
        Err(e) => {
            logging::warn(format_args!(
                "no control socket at {}: {e:#}; `relais runs`, `secret` and `token` need the server stopped",
                socket.display()
            ));
            None
        }
    };
    let ready = state.ready.clone();
    ready.store(true, Ordering::Relaxed);
    logging::say(format_args!(
        "relais listening on http://{address} ({} workflow(s), {} plugin(s)); control socket {}",
        workflows.iter().count(),
        state.plugins.len(),
        socket.display()
    ));
    let local_task = local.map(|l| {
        let app = relais_server::local::local_app(state.clone());
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _ = axum::serve(l, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await;
        })
    });
    axum::serve(listener, relais_server::app(state))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            ready.store(false, Ordering::Relaxed);
            logging::say("shutting down: no new requests");
        })
        .await
        .context("serving HTTP")?;
    let _ = stop_tx.send(true);
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let _ = tokio::time::timeout(grace, cron_task).await;
    let _ = tokio::time::timeout(grace, retention_task).await;
    if let Some(t) = local_task {
        let _ = tokio::time::timeout(grace, t).await;
    }
    let _ = std::fs::remove_file(&socket);
    engine.shutdown(grace).await;
    engine_task.abort();
    logging::say("stopped; unfinished runs stay queued for the next start");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
