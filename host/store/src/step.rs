//! Step attempts, their errors and logs, and what a run does next.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{TimerPurpose, Timestamp};

/// The kind of a step failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Transient: the step may be tried again.
    Retryable,
    /// Permanent: retrying would not help.
    Fatal,
    /// The step's input was wrong.
    InvalidInput,
    /// The step ran out of time.
    Timeout,
    /// The step exceeded a sandbox limit (memory, output, log, HTTP size).
    Limit,
    /// The plugin trapped or panicked.
    Trap,
    /// The run was cancelled while the step ran.
    Cancelled,
    /// The host failed around the step.
    Internal,
}

/// A typed step failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// What went wrong, for humans.
    pub message: String,
    /// The earliest sensible retry, when the remote side said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

/// Severity of a log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Trace.
    Trace,
    /// Debug.
    Debug,
    /// Info.
    Info,
    /// Warning.
    Warn,
    /// Error.
    Error,
}

/// One line of a step's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// When it was written.
    pub at: Timestamp,
    /// Its severity.
    pub level: LogLevel,
    /// The text.
    pub message: String,
}

/// The start of a step attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptStart {
    /// The workflow's step id.
    pub step_id: String,
    /// The step's index in the workflow.
    pub step_index: u32,
    /// 1 for the first attempt of this step, then 2, 3, ...
    pub attempt: u32,
    /// The item index, for one item of a `for_each` step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
    /// The rendered input handed to the plugin.
    pub input: Value,
    /// The idempotency key handed to the plugin.
    pub idempotency_key: String,
    /// When it started.
    pub started_at: Timestamp,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The step returned an output.
    Succeeded {
        /// The output document.
        output: Value,
    },
    /// The step failed.
    Failed {
        /// Why.
        error: StepError,
    },
}

/// The end of a step attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptEnd {
    /// Output or error.
    pub outcome: AttemptOutcome,
    /// The lines the step logged.
    pub logs: Vec<LogLine>,
    /// When it ended.
    pub ended_at: Timestamp,
}

/// One attempt of one step, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// Its sequence number within the run (0, 1, 2, ... in start order).
    pub seq: u32,
    /// The workflow's step id.
    pub step_id: String,
    /// The step's index in the workflow.
    pub step_index: u32,
    /// The attempt number of this step (1-based).
    pub attempt: u32,
    /// The item index, for one item of a `for_each` step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
    /// The rendered input.
    pub input: Value,
    /// The idempotency key.
    pub idempotency_key: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended, once it has.
    pub ended_at: Option<Timestamp>,
    /// Output or error, once it has ended.
    pub outcome: Option<AttemptOutcome>,
    /// The lines the step logged.
    pub logs: Vec<LogLine>,
}

/// What a run does next, stored together with a step's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextState {
    /// Keep running (same worker) at step `next_step`.
    Continue {
        /// The next step's index.
        next_step: u32,
    },
    /// Give the run back to the queue, to resume at `next_step`.
    Requeue {
        /// The next step's index.
        next_step: u32,
    },
    /// Sleep until `due`, then queue the run to resume at `next_step`.
    Wait {
        /// The step to resume at.
        next_step: u32,
        /// When to wake up.
        due: Timestamp,
        /// Why.
        purpose: TimerPurpose,
    },
    /// The run succeeded.
    Succeeded,
    /// The run failed (after an attempt, at that attempt's step).
    Failed {
        /// Why.
        error: StepError,
    },
}
