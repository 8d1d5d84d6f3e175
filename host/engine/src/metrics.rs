//! Step metrics, recorded through the `metrics` facade (a no-op unless the
//! process installed a recorder, as `relais serve` does for `/metrics`).
//!
//! - `relais_step_duration_seconds{workflow, step, outcome}`: a histogram of
//!   attempt durations, one sample per attempt (per item for a `for_each`
//!   step); `outcome` is `succeeded` or the error kind (`retryable`,
//!   `fatal`, `invalid-input`, `timeout`, ...).
//!
//! Labels are workflow and step ids from the loaded workflow files and a
//! fixed set of outcomes: bounded, never a run id.

use std::time::Duration;

use relais_store::{ErrorKind, StepError};
use serde_json::Value;

/// The metric's name.
pub const STEP_DURATION: &str = "relais_step_duration_seconds";

/// Records one attempt of `step` of `workflow`.
pub(crate) fn step_ended(
    workflow: &str,
    step: &str,
    elapsed: Duration,
    result: &Result<Value, StepError>,
) {
    let outcome = match result {
        Ok(_) => "succeeded",
        Err(e) => kind_label(e.kind),
    };
    metrics::histogram!(
        STEP_DURATION,
        "workflow" => workflow.to_owned(),
        "step" => step.to_owned(),
        "outcome" => outcome,
    )
    .record(elapsed.as_secs_f64());
}

fn kind_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Retryable => "retryable",
        ErrorKind::Fatal => "fatal",
        ErrorKind::InvalidInput => "invalid-input",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Limit => "limit",
        ErrorKind::Trap => "trap",
        ErrorKind::Cancelled => "cancelled",
        ErrorKind::Internal => "internal",
    }
}
