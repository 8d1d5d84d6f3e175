//! The resolved workflow: plain, validated data the engine runs.
//!
//! # How a run proceeds
//!
//! The *sequence* is every step that is not a fallback, in file order
//! ([`Workflow::sequence`]). A step is a *fallback* when another step names
//! it in `on_failure`; a fallback never runs in sequence, only when the step
//! that names it has finally failed (after its retries).
//!
//! For each step: evaluate `if` ([`Step::condition`], must give a boolean;
//! `false` marks the step skipped), then run its [`Action`]. When it finally
//! fails:
//! 1. if it has `on_failure`, the fallback step runs (with the same rules,
//!    so fallbacks can chain); when the fallback succeeds the failure counts
//!    as handled and the run goes on with the next step of the sequence;
//! 2. otherwise, or when the fallback fails too: with `continue_on_error`
//!    the run goes on, without it the run fails.
//!
//! # The expression context
//!
//! Templates in steps are rendered against a JSON object with:
//! - `trigger`: the trigger payload. Webhook: `{ body, headers, query }`
//!   (`body` parsed as JSON when it is JSON, else a string; header names
//!   lowercase). Cron: `{ scheduled_at }` (RFC 3339). Manual: `{ input }`.
//! - `steps`: one entry per step that has finished or was skipped, by id:
//!   `{ status: "succeeded" | "failed" | "skipped", output, failed, error, attempts }`
//!   (`output` is `null` unless it succeeded; see [`crate::context`]).
//! - `run`: `{ id, workflow, started_at }`.
//! - `item` and `index` (from 0) in the `with` of a `for_each` step.
//!
//! The webhook `dedupe` template sees the request instead: `{ body, headers, query }`.

use std::path::PathBuf;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Serialize;

use crate::duration::Duration;
use crate::error::Loc;
use crate::expr::{ExprError, Template};
use crate::ids::{PluginRef, SecretName, StepId, ValueName, WorkflowId};
use crate::schedule::{Schedule, Timezone};

/// A validated workflow.
#[derive(Clone, Debug, Serialize)]
pub struct Workflow {
    /// Unique id.
    pub id: WorkflowId,
    /// Free text (empty when absent).
    pub description: String,
    /// What starts a run.
    pub trigger: Trigger,
    /// Most runs of this workflow at once (`None`: no limit).
    pub concurrency: Option<u32>,
    /// Longest a run may take, waits included, from its first start by a
    /// worker (`None`: no limit).
    pub timeout: Option<Duration>,
    /// JSON Schema of the input of a manual run, if declared.
    pub input: Option<InputSchema>,
    /// All steps in file order, fallbacks included.
    pub steps: Vec<Step>,
    /// The file it was read from.
    #[serde(skip)]
    pub source: Source,
    /// Where the id is written.
    #[serde(skip)]
    pub id_loc: Loc,
    /// Where the webhook path is written (the id's place for other triggers).
    #[serde(skip)]
    pub path_loc: Loc,
}

/// The text of a workflow file and where it came from (the store keeps it
/// as a revision).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    /// The file's path as given.
    pub path: PathBuf,
    /// The whole text.
    pub text: String,
}

impl Workflow {
    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id.as_str() == id)
    }

    /// The steps that run in sequence (not fallbacks), in order.
    pub fn sequence(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| !s.is_fallback())
    }

    /// Checks the input of a manual run against `input`; every problem, as
    /// `pointer: message`. No schema means any input is accepted.
    pub fn check_input(&self, value: &serde_json::Value) -> Result<(), Vec<String>> {
        let Some(schema) = &self.input else {
            return Ok(());
        };
        let errors: Vec<String> = schema
            .validator
            .iter_errors(value)
            .map(|e| format!("{}: {e}", pointer_or_root(e.instance_path().as_str())))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

pub(crate) fn pointer_or_root(p: &str) -> &str {
    if p.is_empty() { "/" } else { p }
}

/// A compiled JSON Schema, with its JSON.
#[derive(Clone)]
pub struct InputSchema {
    /// The schema as written.
    pub schema: serde_json::Value,
    pub(crate) validator: Arc<jsonschema::Validator>,
}

impl std::fmt::Debug for InputSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.schema.fmt(f)
    }
}

impl Serialize for InputSchema {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.schema.serialize(s)
    }
}

/// What starts a run.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Trigger {
    /// Only started by hand (CLI, API); also when `trigger` is absent.
    Manual,
    /// On a schedule.
    Cron(CronTrigger),
    /// On an HTTP request to `POST /hooks/{path}`.
    Webhook(WebhookTrigger),
}

/// `trigger: { cron, timezone, catch_up }`.
#[derive(Clone, Debug, Serialize)]
pub struct CronTrigger {
    /// When it fires.
    pub schedule: Schedule,
    /// The zone the schedule is read in; `None`: the server's configured zone.
    pub timezone: Option<Timezone>,
    /// What to do with slots missed while the server was down.
    pub catch_up: CatchUp,
}

impl CronTrigger {
    /// The schedule as the scheduler fires it: in the trigger's `timezone`,
    /// else in `default_zone` (the server's, never the machine's).
    pub fn schedule_in(&self, default_zone: chrono_tz::Tz) -> relais_triggers::cron::Schedule {
        let zone = self.timezone.unwrap_or(Timezone(default_zone));
        self.schedule.in_zone(zone)
    }
}

/// Missed schedule slots after a downtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// Skip them all.
    None,
    /// Run once for the most recent missed slot (the default).
    Latest,
    /// Run once for every missed slot, oldest first.
    All,
}

/// How long a webhook's dedupe keys are remembered when the workflow does
/// not say (`dedupe_window`): 30 days, the default retention of runs.
pub const DEFAULT_DEDUPE_WINDOW: Duration = Duration::from_secs_const(30 * 24 * 3600);

/// `trigger: { webhook: ... }`.
#[derive(Clone, Debug, Serialize)]
pub struct WebhookTrigger {
    /// The path under `/hooks/`: segments of letters, digits, `-`, `_`, `.`
    /// separated by `/`.
    pub path: String,
    /// How a request proves where it comes from.
    pub verify: Verify,
    /// A key computed from the request: a key already seen (within
    /// `dedupe_window`) starts no new run.
    pub dedupe: Option<Template>,
    /// How long dedupe keys are remembered: set exactly when `dedupe` is,
    /// [`DEFAULT_DEDUPE_WINDOW`] unless written.
    pub dedupe_window: Option<Duration>,
    /// When the request is answered.
    pub respond: Respond,
}

/// When a webhook request is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Respond {
    /// 202 with the run id as soon as the event is stored (the default).
    Async,
    /// After the run ends, with its result, or 202 with the run id once
    /// `timeout` has passed.
    Sync {
        /// How long to hold the request (default 30s).
        timeout: Duration,
    },
}

/// Request verification, with every default filled in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verify {
    /// The scheme.
    pub scheme: VerifyScheme,
    /// The secret holding the signing key or token.
    pub secret: SecretName,
    /// The header carrying the signature or token (`Stripe-Signature`,
    /// `X-Hub-Signature-256`, `X-Signature`, `Authorization` by default).
    pub header: String,
    /// Text before the signature or token in the header (`sha256=` for
    /// github, `Bearer ` for token, empty otherwise).
    pub prefix: String,
    /// How the signature is written (hmac-sha256 only; hex otherwise).
    pub encoding: Encoding,
    /// Largest accepted age of a signed timestamp (stripe only; default 5m).
    pub tolerance: Option<Duration>,
}

/// Webhook verification schemes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyScheme {
    /// Stripe's `t=...,v1=...` signature over `t.body`.
    Stripe,
    /// GitHub's `sha256=` HMAC of the body.
    Github,
    /// An HMAC-SHA256 of the body in a header.
    HmacSha256,
    /// A shared token compared in constant time.
    Token,
}

/// Signature encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// Lowercase or uppercase hexadecimal.
    Hex,
    /// Standard base64.
    Base64,
}

/// One step.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// Unique id in the workflow.
    pub id: StepId,
    /// Optional display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where the step starts in the file.
    pub loc: Loc,
    /// What it does.
    pub action: Action,
    /// `if`: run only when this gives `true` (an error when it gives
    /// anything but a boolean). On a `for_each` step it is evaluated once,
    /// before the items, and cannot read `item`.
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub condition: Option<Template>,
    /// The fallback step to run when this one finally fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<StepId>,
    /// Go on with the run even when this step (and its fallback) failed.
    pub continue_on_error: bool,
    /// The steps whose `on_failure` names this one; not empty means this is
    /// a fallback step, outside the sequence.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fallback_for: Vec<StepId>,
}

impl Step {
    /// True for a step only reached through `on_failure`.
    pub fn is_fallback(&self) -> bool {
        !self.fallback_for.is_empty()
    }
}

/// What a step does.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Call a plugin step.
    Plugin(Box<PluginCall>),
    /// Wait durably (a timer, not a sleeping task).
    Wait(Wait),
    /// Compute named values: the step's output is an object of them.
    Set(IndexMap<ValueName, Input>),
}

/// `uses: PLUGIN/STEP` with its options.
#[derive(Clone, Debug, Serialize)]
pub struct PluginCall {
    /// The plugin step to call.
    pub uses: PluginRef,
    /// The input (`{}` when `with` is absent).
    pub with: Input,
    /// The secrets the plugin may read during this step.
    pub secrets: Vec<SecretName>,
    /// Retry policy (one attempt when `retry` is absent).
    pub retry: Retry,
    /// Longest one attempt may take (`None`: the runtime's default).
    pub timeout: Option<Duration>,
    /// Run once per item of a list.
    pub for_each: Option<ForEach>,
}

/// `for_each`: run the call once per item.
#[derive(Clone, Debug, Serialize)]
pub struct ForEach {
    /// Renders to the list of items (evaluated once, before the first item;
    /// anything but a list fails the step). The step's output is the list
    /// of the items' outputs, in item order.
    pub items: Template,
    /// Items in flight at once (default 1).
    pub concurrency: u32,
    /// What a failed item does to the others.
    pub policy: ForEachPolicy,
}

/// What a failed item of a `for_each` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForEachPolicy {
    /// Start no new item; the step fails once running items end (default).
    Stop,
    /// Run every item; the step fails at the end if any item failed. The
    /// output lists every item's output in order, `null` for failed ones.
    Continue,
}

/// A durable wait.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    /// For a fixed time.
    For(Duration),
    /// Until the time the template gives (see [`crate::expr::parse_instant`]);
    /// a time in the past does not wait.
    Until(Template),
}

/// Retry policy of a plugin step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Retry {
    /// Attempts in all, the first one included (1 to 100).
    pub attempts: u32,
    /// How the delay grows.
    pub backoff: Backoff,
    /// Delay before the second attempt.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
    /// Fraction (0 to 1) of each delay taken off at random.
    pub jitter: f64,
}

impl Retry {
    /// One attempt, no retry.
    pub const NONE: Retry = Retry {
        attempts: 1,
        backoff: Backoff::Exponential,
        initial: crate::duration::Duration::from_secs_const(10),
        max: crate::duration::Duration::from_secs_const(3600),
        jitter: 0.0,
    };

    /// The delay after failed attempt `attempt` (1 for the first), before
    /// the next; `random` in `[0, 1)` applies the jitter. A plugin's own
    /// retry-after takes precedence over this.
    pub fn delay_after(&self, attempt: u32, random: f64) -> std::time::Duration {
        let initial = self.initial.as_std();
        let max = self.max.as_std();
        let base = match self.backoff {
            Backoff::Constant => initial,
            Backoff::Exponential => {
                let exp = attempt.saturating_sub(1).min(63);
                initial.checked_mul(1u32 << exp.min(31)).unwrap_or(max)
            }
        }
        .min(max);
        let cut = (self.jitter * random.clamp(0.0, 1.0)).clamp(0.0, 1.0);
        base.mul_f64(1.0 - cut)
    }
}

/// How retry delays grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// Always `initial`.
    Constant,
    /// `initial`, then doubled each time, up to `max` (the default).
    Exponential,
}

/// A step input (`with`, or a `set` value): JSON where strings may be
/// templates.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// No template inside: used as is.
    Literal(serde_json::Value),
    /// A templated string.
    Template(Template),
    /// A list with templates inside.
    List(Vec<Input>),
    /// An object with templates inside.
    Object(IndexMap<String, Input>),
}

impl Input {
    /// True when no template is inside.
    pub fn is_static(&self) -> bool {
        matches!(self, Input::Literal(_))
    }

    /// Renders every template against `context` (see [`Template::render`]).
    pub fn render(&self, context: &serde_json::Value) -> Result<serde_json::Value, ExprError> {
        self.render_at(context, chrono::Utc::now())
    }

    /// [`Input::render`] with `now()` fixed.
    pub fn render_at(
        &self,
        context: &serde_json::Value,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<serde_json::Value, ExprError> {
        Ok(match self {
            Input::Literal(v) => v.clone(),
            Input::Template(t) => t.render_at(context, now)?,
            Input::List(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(|i| i.render_at(context, now))
                    .collect::<Result<_, _>>()?,
            ),
            Input::Object(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), v.render_at(context, now)?)))
                    .collect::<Result<_, ExprError>>()?,
            ),
        })
    }

    /// Every template inside, in order.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Template>) {
        match self {
            Input::Literal(_) => {}
            Input::Template(t) => out.push(t),
            Input::List(items) => items.iter().for_each(|i| i.collect(out)),
            Input::Object(map) => map.values().for_each(|i| i.collect(out)),
        }
    }
}

impl Serialize for Input {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Input::Literal(v) => v.serialize(s),
            Input::Template(t) => t.serialize(s),
            Input::List(items) => items.serialize(s),
            Input::Object(map) => map.serialize(s),
        }
    }
}
