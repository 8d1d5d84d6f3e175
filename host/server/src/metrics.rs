//! Prometheus metrics. Labels are bounded: workflow ids, statuses and
//! outcome codes, never a run id.
//!
//! - `relais_webhooks_total{outcome}`: webhook answers by outcome:
//!   `accepted`, `duplicate`, `answered` (a sync answer), or the error code
//!   (`signature_invalid`, `payload_too_large`, `not_found`, ...);
//! - `relais_webhook_duration_seconds{outcome}`: a histogram of the time
//!   from the handler's start (the request read) to the answer (for `accepted`, the
//!   acknowledgement latency; for `answered`, the sync wait included);
//! - `relais_runs{workflow, status}`: runs in the store by workflow and status;
//! - `relais_queue_depth`: runs queued or running;
//! - `relais_cron_fires_total{workflow, result}`: cron slots fired;
//! - `relais_store_commits_total`, `relais_store_operations_total`,
//!   `relais_store_replays_total`: the store's group commit (operations per
//!   commit is the batch size; a replay is a batch retried one by one);
//! - `relais_store_commit_seconds`: a histogram of batch durations (apply
//!   and commit), what an acknowledgement waits on;
//! - `relais_step_duration_seconds{workflow, step, outcome}`: a histogram of
//!   step attempt durations, recorded by the engine.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use relais_engine::Workflows;
use relais_store::{RunStatus, Store, StoreError};

use crate::AppState;
use crate::error::ApiError;

/// The step duration histogram's name (recorded by the engine).
pub const STEP_DURATION: &str = "relais_step_duration_seconds";

/// Bucket bounds in seconds: from a `set` step (well under a millisecond) to
/// a slow vendor call.
const STEP_DURATION_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
];

/// The webhook answer histogram's name.
const WEBHOOK_DURATION: &str = "relais_webhook_duration_seconds";

/// Bucket bounds in seconds for the store's batch commits.
const COMMIT_BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0,
];

/// Bucket bounds in seconds for webhook answers: an acknowledgement waits
/// on one commit; a sync answer waits for its run, up to its timeout.
const WEBHOOK_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0, 30.0, 60.0,
];

/// Installs the process-wide Prometheus recorder and returns its handle.
pub fn install() -> Result<PrometheusHandle, String> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(STEP_DURATION.to_owned()),
            &STEP_DURATION_BUCKETS,
        )
        .map_err(|e| format!("cannot set the step duration buckets: {e}"))?
        .set_buckets_for_metric(
            Matcher::Full(relais_store::COMMIT_SECONDS.to_owned()),
            &COMMIT_BUCKETS,
        )
        .map_err(|e| format!("cannot set the store commit buckets: {e}"))?
        .set_buckets_for_metric(Matcher::Full(WEBHOOK_DURATION.to_owned()), &WEBHOOK_BUCKETS)
        .map_err(|e| format!("cannot set the webhook duration buckets: {e}"))?
        .install_recorder()
        .map_err(|e| format!("cannot install the metrics recorder: {e}"))
}

/// Counts one webhook answer and records how long it took to give.
pub(crate) fn webhook(outcome: &'static str, took: std::time::Duration) {
    metrics::counter!("relais_webhooks_total", "outcome" => outcome).increment(1);
    metrics::histogram!(WEBHOOK_DURATION, "outcome" => outcome).record(took.as_secs_f64());
}

/// Counts one cron fire.
pub(crate) fn cron_fire(workflow: &str, result: &'static str) {
    metrics::counter!("relais_cron_fires_total", "workflow" => workflow.to_owned(), "result" => result)
        .increment(1);
}

/// Sets the run gauges from the store's counters.
pub async fn refresh(store: &Store, workflows: &Workflows) -> Result<(), StoreError> {
    for w in workflows.iter() {
        let counts = store.count_runs(Some(w.id())).await?;
        for status in RunStatus::ALL {
            metrics::gauge!("relais_runs", "workflow" => w.id().to_owned(), "status" => status.as_str())
                .set(counts.get(status) as f64);
        }
    }
    let writer = store.writer_stats();
    metrics::counter!("relais_store_commits_total").absolute(writer.commits);
    metrics::counter!("relais_store_operations_total").absolute(writer.operations);
    metrics::counter!("relais_store_replays_total").absolute(writer.replays);
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
