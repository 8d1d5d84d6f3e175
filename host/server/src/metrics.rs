//! Prometheus metrics. Labels are bounded: workflow ids, statuses and
//! outcome codes, never a run id.
//!
//! - `relais_webhooks_total{outcome}`: webhook answers by outcome;
//! - `relais_runs{workflow, status}`: runs in the store by workflow and status;
//! - `relais_queue_depth`: runs queued or running;
//! - `relais_cron_fires_total{workflow, result}`: cron slots fired;
//! - step durations are recorded by the engine.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use relais_store::{RunStatus, Store, StoreError};

use crate::error::ApiError;
use crate::{AppState, Registry};

/// Installs the process-wide Prometheus recorder and returns its handle.
pub fn install() -> Result<PrometheusHandle, String> {
    PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("cannot install the metrics recorder: {e}"))
}

/// Counts one webhook answer.
pub(crate) fn webhook(outcome: &'static str) {
    metrics::counter!("relais_webhooks_total", "outcome" => outcome).increment(1);
}

/// Counts one cron fire.
pub(crate) fn cron_fire(workflow: &str, result: &'static str) {
    metrics::counter!("relais_cron_fires_total", "workflow" => workflow.to_owned(), "result" => result)
        .increment(1);
}

/// Sets the run gauges from the store's counters.
pub async fn refresh(store: &Store, workflows: &Registry) -> Result<(), StoreError> {
    for w in workflows.iter() {
        let counts = store.count_runs(Some(w.id())).await?;
        for status in RunStatus::ALL {
            metrics::gauge!("relais_runs", "workflow" => w.id().to_owned(), "status" => status.as_str())
                .set(counts.get(status) as f64);
        }
    }
    let all = store.count_runs(None).await?;
    metrics::gauge!("relais_queue_depth").set((all.queued + all.running) as f64);
    Ok(())
}

pub(crate) async fn render(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let Some(handle) = &state.metrics else {
        return Err(ApiError::not_found("metrics are not enabled"));
    };
    if let Err(e) = refresh(&state.store, &state.workflows).await {
        tracing::warn!(error = %e, "cannot refresh run gauges");
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    ))
}
