//! Relais triggers: the two self-contained libraries behind the ways a
//! workflow run starts.
//!
//! - [`verify`] checks that a webhook really comes from its sender: Stripe's
//!   `Stripe-Signature`, GitHub's `X-Hub-Signature-256`, a generic
//!   HMAC-SHA256 header, or a shared token. It also signs, for tests and for
//!   users trying their workflows.
//! - [`cron`] parses crontab schedules with a time zone and answers when they
//!   fire: next fire times, fire slots between two instants, and what to fire
//!   after the scheduler was away (catch-up), following Vixie cron's rules
//!   across daylight saving time changes.
//!
//! Both are plain functions and small types: no I/O, no clock of their own
//! (`now` is always a parameter), no dependency on the engine or the workflow
//! format.

pub mod cron;
pub mod verify;
