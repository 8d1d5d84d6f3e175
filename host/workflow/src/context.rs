//! Building the JSON context templates are rendered against (see
//! [`crate::model`] for its shape). The engine may build it by hand; these
//! helpers keep the field names in one place.

use chrono::{DateTime, SecondsFormat, Utc};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Value, json};

/// How a step ended, as expressions see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// It ran and succeeded.
    Succeeded,
    /// It finally failed (after its retries).
    Failed,
    /// It did not run (`if` was false, or a fallback that was not needed).
    Skipped,
}

/// A finished or skipped step: `steps.ID` in expressions.
#[derive(Clone, Debug, PartialEq)]
pub struct StepState {
    /// How it ended.
    pub status: StepStatus,
    /// Its output when it succeeded, `null` otherwise.
    pub output: Value,
    /// The error message when it failed.
    pub error: Option<String>,
    /// Attempts made (0 when skipped).
    pub attempts: u32,
}

impl StepState {
    /// A step that succeeded with `output`.
    pub fn succeeded(output: Value, attempts: u32) -> Self {
        Self {
            status: StepStatus::Succeeded,
            output,
            error: None,
            attempts,
        }
    }

    /// A step that finally failed.
    pub fn failed(error: impl Into<String>, attempts: u32) -> Self {
        Self {
            status: StepStatus::Failed,
            output: Value::Null,
            error: Some(error.into()),
            attempts,
        }
    }

    /// A step that did not run.
    pub fn skipped() -> Self {
        Self {
            status: StepStatus::Skipped,
            output: Value::Null,
            error: None,
            attempts: 0,
        }
    }

    /// `{ status, output, failed, succeeded, skipped, error, attempts }`.
    pub fn to_value(&self) -> Value {
        json!({
            "status": self.status,
            "output": self.output,
            "failed": self.status == StepStatus::Failed,
            "succeeded": self.status == StepStatus::Succeeded,
            "skipped": self.status == StepStatus::Skipped,
            "error": self.error,
            "attempts": self.attempts,
        })
    }
}

/// The context of one run, grown step by step.
#[derive(Clone, Debug, PartialEq)]
pub struct RunContext {
    trigger: Value,
    run: Value,
    steps: IndexMap<String, Value>,
}

impl RunContext {
    /// A run of `workflow` started at `started_at` by `trigger` (see
    /// [`webhook_trigger`], [`cron_trigger`], [`manual_trigger`]).
    pub fn new(run_id: &str, workflow: &str, started_at: DateTime<Utc>, trigger: Value) -> Self {
        Self {
            trigger,
            run: json!({
                "id": run_id,
                "workflow": workflow,
                "started_at": started_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            }),
            steps: IndexMap::new(),
        }
    }

    /// Records how a step ended (replacing an earlier record).
    pub fn record(&mut self, step: &str, state: &StepState) {
        self.steps.insert(step.to_owned(), state.to_value());
    }

    /// The context for a step's templates.
    pub fn to_value(&self) -> Value {
        json!({ "trigger": self.trigger, "steps": self.steps, "run": self.run })
    }

    /// The context for one item of a `for_each` step.
    pub fn with_item(&self, item: &Value, index: usize) -> Value {
        json!({ "trigger": self.trigger, "steps": self.steps, "run": self.run, "item": item, "index": index })
    }
}

/// A webhook's trigger payload, also the context of its `dedupe` template:
/// `{ body, headers, query }`. Give header names in lowercase.
pub fn webhook_trigger(
    body: Value,
    headers: IndexMap<String, String>,
    query: IndexMap<String, String>,
) -> Value {
    json!({ "body": body, "headers": headers, "query": query })
}

/// A cron trigger payload: `{ scheduled_at }`.
pub fn cron_trigger(scheduled_at: DateTime<Utc>) -> Value {
    json!({ "scheduled_at": scheduled_at.to_rfc3339_opts(SecondsFormat::Secs, true) })
}

/// A manual trigger payload: `{ input }`.
pub fn manual_trigger(input: Value) -> Value {
    json!({ "input": input })
}
