//! The run records the store keeps: plain serde data.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Attempt, RunId, StepError, Timestamp};

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting in the queue for a worker to claim it.
    Queued,
    /// Claimed by a worker (see [`Run::owner`]); steps are executing.
    Running,
    /// Sleeping until its timer fires (a retry back-off or a delay).
    Waiting,
    /// Every step finished.
    Succeeded,
    /// A step failed for good.
    Failed,
    /// Cancelled by a user: no further step starts.
    Cancelled,
}

impl RunStatus {
    /// Every status, in a fixed order.
    pub const ALL: [RunStatus; 6] = [
        Self::Queued,
        Self::Running,
        Self::Waiting,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
    ];

    /// True for the statuses a run never leaves on its own.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }

    /// The lowercase name (`queued`, `running`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Waiting => "waiting",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Queued => 1,
            Self::Running => 2,
            Self::Waiting => 3,
            Self::Succeeded => 4,
            Self::Failed => 5,
            Self::Cancelled => 6,
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What started a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// An incoming webhook.
    Webhook,
    /// A cron schedule slot.
    Cron,
    /// A user, through the API or the CLI.
    Manual,
}

/// A guard that makes a run creation happen at most once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunGuard {
    /// A dedupe key (for example a webhook event id): while an unexpired
    /// entry for `(workflow, key)` exists, no second run is created.
    Dedupe {
        /// The key, unique within the workflow.
        key: String,
        /// When the key stops guarding.
        expires_at: Timestamp,
    },
    /// A cron slot: at most one run per `(workflow, slot)`, ever.
    CronSlot {
        /// The scheduled time of the slot.
        slot: Timestamp,
    },
}

/// A run to create.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    /// The workflow's id.
    pub workflow_id: String,
    /// The content hash of the stored workflow revision the run executes.
    pub revision: String,
    /// What started the run.
    pub trigger: TriggerKind,
    /// The trigger's payload (webhook body and headers, the cron slot, ...).
    pub payload: Value,
    /// The run's input.
    pub input: Value,
    /// Creation time; dedupe expiry is judged against it.
    pub created_at: Timestamp,
    /// An optional at-most-once guard.
    pub guard: Option<RunGuard>,
}

/// What [`crate::Store::create_run`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreateOutcome {
    /// A new run was created and queued.
    Created(RunId),
    /// The guard matched an earlier run: nothing was created. (That run
    /// may have been pruned since; its guard outlives it.)
    Existing(RunId),
    /// The cron slot is older than the retention horizon: its record may
    /// have been pruned, so it is refused rather than fired twice.
    SlotTooOld,
}

impl CreateOutcome {
    /// The run id, new or existing.
    pub fn run_id(self) -> Option<RunId> {
        match self {
            Self::Created(id) | Self::Existing(id) => Some(id),
            Self::SlotTooOld => None,
        }
    }
}

/// A run's header: everything but its payload, input and attempts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The run's id.
    pub id: RunId,
    /// The workflow's id.
    pub workflow_id: String,
    /// The content hash of the workflow revision it runs.
    pub revision: String,
    /// What started it.
    pub trigger: TriggerKind,
    /// Where it stands.
    pub status: RunStatus,
    /// Index of the next step to run (for a failed run: the failed step).
    pub next_step: u32,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last claimed by a worker, if ever.
    pub started_at: Option<Timestamp>,
    /// When its current try started: its first claim by a worker (a retry
    /// by a user starts a new try). A workflow's run `timeout` counts from
    /// here.
    #[serde(default)]
    pub try_started_at: Option<Timestamp>,
    /// When its record last changed.
    pub updated_at: Timestamp,
    /// When it finished (succeeded, failed or was cancelled).
    pub finished_at: Option<Timestamp>,
    /// The worker that claimed it, while running.
    pub owner: Option<String>,
    /// Until when the claim holds, while running.
    pub lease_until: Option<Timestamp>,
    /// The pending timer, while waiting.
    pub wake: Option<Wake>,
    /// Why it failed, when it failed.
    pub error: Option<StepError>,
    /// How many times it was retried by a user: also the generation of
    /// its idempotency keys (see [`Run::idempotency_key`]).
    pub retries: u32,
    /// How many step attempts it has (the next attempt's sequence number).
    pub attempts: u32,
    /// Attempts numbered below this one belong to a try before the last
    /// retry from the start: they no longer describe the run's steps.
    #[serde(default)]
    pub history_from: u32,
    /// Attempts numbered below this one came before the last retry by a
    /// user: they do not count against a step's retry budget.
    #[serde(default)]
    pub budget_from: u32,
    /// The dedupe key that guarded its creation.
    pub dedupe_key: Option<String>,
    /// The cron slot it was created for.
    pub cron_slot: Option<Timestamp>,
}

impl Run {
    /// The generation of the run's idempotency keys: 0 until a user retries
    /// it, then one more at each retry by a user. Automatic retries of a
    /// step and a resume after a crash keep the generation.
    pub fn key_generation(&self) -> u32 {
        self.retries
    }

    /// The idempotency key handed to step `step` (item `item` of a
    /// `for_each`) in the run's current generation: `RUN/STEP` or
    /// `RUN/STEP/ITEM` in generation 0, with `/gN` appended in generation
    /// N. A vendor therefore sees the same key for every attempt of a step
    /// within one generation (retries, a call cut off by a crash), and a
    /// new key once a user retries the run.
    pub fn idempotency_key(&self, step: &str, item: Option<u32>) -> String {
        let mut key = format!("{}/{step}", self.id);
        if let Some(item) = item {
            key.push_str(&format!("/{item}"));
        }
        match self.key_generation() {
            0 => key,
            n => format!("{key}/g{n}"),
        }
    }
}

/// Which queued runs one claim may take (see
/// [`crate::Store::claim_runs_within`]): oldest first, skipping the runs of
/// a workflow once it has its quota.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimQuota {
    /// Most runs in all.
    pub max: usize,
    /// Most runs of any one workflow that `workflows` does not name.
    pub per_workflow: usize,
    /// Most runs of these workflows (0: none of theirs).
    pub workflows: HashMap<String, usize>,
}

/// A run with its payload, input and every attempt, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    /// The header.
    pub run: Run,
    /// The trigger payload.
    pub payload: Value,
    /// The run's input.
    pub input: Value,
    /// Every step attempt, in the order they started.
    pub attempts: Vec<Attempt>,
}

impl RunDetail {
    /// The run's output: the output of its last step attempt that
    /// succeeded in its current history (items of a `for_each` aside), or
    /// null.
    pub fn output(&self) -> Value {
        self.attempts
            .iter()
            .rev()
            .filter(|a| a.seq >= self.run.history_from && a.item.is_none())
            .find_map(|a| match &a.outcome {
                Some(crate::AttemptOutcome::Succeeded { output }) => Some(output.clone()),
                _ => None,
            })
            .unwrap_or(Value::Null)
    }
}

/// A pending timer of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wake {
    /// When it fires.
    pub due: Timestamp,
    /// Why it was set.
    pub purpose: TimerPurpose,
}

/// Why a timer was set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerPurpose {
    /// A retry back-off of a step.
    Retry,
    /// A deliberate delay.
    Delay,
    /// Anything else the engine wants to remember.
    Other(String),
}

/// A timer that fired: its run is back in the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiredTimer {
    /// The run now queued.
    pub run_id: RunId,
    /// When the timer was due.
    pub due: Timestamp,
    /// Why it was set.
    pub purpose: TimerPurpose,
}

/// Which runs to list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFilter {
    /// Only runs of this workflow.
    pub workflow_id: Option<String>,
    /// Only runs with this status.
    pub status: Option<RunStatus>,
}

/// One page of runs, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunPage {
    /// The runs on this page.
    pub runs: Vec<Run>,
    /// Pass this as the cursor to get the next page; `None` on the last page.
    pub next_cursor: Option<RunId>,
}

/// Where a retried run starts again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryFrom {
    /// At the step that failed (or where a cancelled run stopped).
    FailedStep,
    /// At the first step.
    Start,
}

/// Number of runs in each status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    /// Queued runs.
    pub queued: u64,
    /// Running runs.
    pub running: u64,
    /// Waiting runs.
    pub waiting: u64,
    /// Succeeded runs.
    pub succeeded: u64,
    /// Failed runs.
    pub failed: u64,
    /// Cancelled runs.
    pub cancelled: u64,
}

impl StatusCounts {
    /// The count for one status.
    pub fn get(&self, status: RunStatus) -> u64 {
        match status {
            RunStatus::Queued => self.queued,
            RunStatus::Running => self.running,
            RunStatus::Waiting => self.waiting,
            RunStatus::Succeeded => self.succeeded,
            RunStatus::Failed => self.failed,
            RunStatus::Cancelled => self.cancelled,
        }
    }

    pub(crate) fn set(&mut self, status: RunStatus, n: u64) {
        let slot = match status {
            RunStatus::Queued => &mut self.queued,
            RunStatus::Running => &mut self.running,
            RunStatus::Waiting => &mut self.waiting,
            RunStatus::Succeeded => &mut self.succeeded,
            RunStatus::Failed => &mut self.failed,
            RunStatus::Cancelled => &mut self.cancelled,
        };
        *slot = n;
    }

    /// The sum over every status.
    pub fn total(&self) -> u64 {
        RunStatus::ALL.iter().map(|s| self.get(*s)).sum()
    }
}

/// A stored workflow revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// The workflow's id.
    pub workflow_id: String,
    /// SHA-256 of the source text, lowercase hex.
    pub hash: String,
    /// The workflow file's text.
    pub source: String,
    /// Where the file was read from.
    pub path: String,
    /// When this revision was first stored.
    pub stored_at: Timestamp,
}

/// What one pruning pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    /// Finished runs removed.
    pub runs: u64,
    /// Their attempts removed.
    pub attempts: u64,
    /// Expired dedupe keys removed.
    pub dedupe_keys: u64,
    /// Old cron slot records removed.
    pub cron_slots: u64,
    /// True when the batch bound was reached: call again.
    pub more: bool,
}
