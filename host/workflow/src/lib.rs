//! Relais workflow files: parsing, validation and the expression language.
//!
//! A workflow file is YAML, one workflow per file:
//!
//! ```yaml
//! id: dunning
//! description: Chase a failed Stripe payment
//! trigger:
//!   webhook:
//!     path: stripe                               # POST /hooks/stripe
//!     verify: { scheme: stripe, secret: stripe_webhook_secret }
//!     dedupe: "{{ body.id }}"
//! concurrency: 5
//! steps:
//!   - id: customer
//!     uses: stripe/get-customer
//!     with: { customer: "{{ trigger.body.data.object.customer }}" }
//!     secrets: [stripe_api_key]
//!   - id: email
//!     uses: email/send
//!     with: { to: "{{ steps.customer.output.email }}", template: payment-failed }
//!     retry: { attempts: 5, backoff: exponential, initial: 30s, max: 1h }
//!     on_failure: sms                            # sms is a fallback step
//!   - id: sms
//!     uses: twilio/send-sms
//!     with: { to: "{{ steps.customer.output.phone }}", body: Payment failed }
//!   - id: later
//!     wait: 3d                                   # or wait: { until: "{{ ... }}" }
//!   - id: totals
//!     set: { due: "{{ trigger.body.data.object.amount_due / 100 }}" }
//! ```
//!
//! # The format
//!
//! Top level: `id` (lowercase letters, digits, `-`, `_`), `description`,
//! `trigger`, `concurrency` (runs at once), `timeout` (of a whole run),
//! `input` (a JSON Schema for the input of manual runs), `steps`.
//!
//! `trigger` is one of:
//! - `cron: "0 9 * * 1-5"` with optional `timezone: Europe/Paris` (the
//!   server's zone otherwise) and `catch_up: none | latest | all` (default
//!   `latest`); 5-field lines or `@daily`-style macros, parsed by the
//!   scheduler's own parser ([`relais_triggers::cron`], Vixie cron rules), so
//!   a schedule that validates is one the scheduler fires;
//! - `webhook: { path, verify: { scheme: stripe | github | hmac-sha256 |
//!   token, secret, header?, prefix?, encoding?: hex | base64, tolerance? },
//!   dedupe?, dedupe_window?, respond?: async | sync, respond_timeout? }`.
//!   The `token` scheme reads `Authorization: Bearer TOKEN` by default; with
//!   a `header` of its own (`header: X-Webhook-Token`) it reads the bare
//!   token, unless a `prefix` is written. `dedupe_window` defaults to 30 days
//!   (`DEFAULT_DEDUPE_WINDOW`): a delivery whose key was seen within it
//!   starts no run;
//! - `manual: {}`, or no trigger at all.
//!
//! A step has an `id` (lowercase letters, digits, `_`) and exactly one of:
//! - `uses: PLUGIN/STEP` with `with` (any value; strings may hold
//!   `{{ expr }}`), `secrets` (names granted to the plugin for this step),
//!   `retry: { attempts, backoff: constant | exponential, initial, max,
//!   jitter: bool | fraction }`, `timeout`, and `for_each: EXPR` (run once per
//!   item, `{{ item }}`/`{{ index }}` in `with`) with `for_each_concurrency`
//!   and `for_each_policy: stop | continue`;
//! - `wait: 3d` or `wait: { until: EXPR }`, a durable timer;
//! - `set: { name: value, ... }`, values readable as `steps.ID.output.name`.
//!
//! Any step may have `if: EXPR`, `on_failure: STEP_ID`, `continue_on_error`
//! and a display `name`. **A step named by another step's `on_failure` is a
//! fallback step**: it runs only when that step finally fails, never in
//! sequence. See [`model`] for how a run proceeds and what expressions see.
//!
//! Durations are written `500ms`, `30s`, `5m`, `1h30m`, `3d`, `2w`.
//!
//! YAML is read strictly: `true`/`false` are the only booleans (`country:
//! NO` is the string `"NO"`), numbers with leading zeros stay strings
//! (`zip: 01234`), duplicate keys and unknown fields are errors.
//!
//! # Use
//!
//! ```
//! use relais_workflow::{Catalog, parse_workflow};
//! use serde_json::json;
//!
//! let catalog = Catalog::new()
//!     .with_step("email", "send", json!({ "type": "object", "required": ["to"] }))
//!     .unwrap();
//! let text = "id: hello\nsteps:\n  - id: mail\n    uses: email/send\n    with: { to: \"{{ trigger.input.to }}\" }\n";
//! let wf = parse_workflow("hello.yaml", text, &catalog).unwrap();
//! let ctx = json!({ "trigger": { "input": { "to": "ana@example.com" } }, "steps": {}, "run": { "id": "r1" } });
//! let relais_workflow::model::Action::Plugin(call) = &wf.steps[0].action else { unreachable!() };
//! assert_eq!(call.with.render(&ctx).unwrap(), json!({ "to": "ana@example.com" }));
//!
//! let bad = parse_workflow("bad.yaml", "id: x\nsteps:\n  - id: a\n    uses: emial/send\n", &catalog);
//! assert_eq!(
//!     bad.unwrap_err().to_string(),
//!     "bad.yaml:4:11: step \"a\": unknown plugin \"emial\" (known: email)"
//! );
//! ```
//!
//! Problems are collected, not stopped at: every step and the trigger are
//! read on their own, and each [`Diagnostic`] names the file, line and
//! column. [`validate_files`] checks many files at once.

pub mod catalog;
pub mod context;
pub mod duration;
pub mod error;
pub mod expr;
mod files;
pub mod ids;
pub mod model;
mod resolve;
pub mod schedule;
mod yaml;

pub use catalog::{Catalog, CatalogError};
pub use duration::Duration;
pub use error::{Diagnostic, Loc, WorkflowError, WorkflowErrors};
pub use expr::{ExprError, Template, eval_bool, render};
pub use files::{Validated, load_workflow, validate_files, workflow_files};
pub use model::Workflow;
pub use resolve::parse_workflow;
