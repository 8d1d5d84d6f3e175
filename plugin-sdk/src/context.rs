//! [`Context`]: where an invocation stands.

use serde::Serialize;

/// Where an invocation stands, handed to every step.
///
/// The idempotency key is the same across the automatic retries of the same
/// step of the same run and across restarts of the host: pass it to a
/// vendor's idempotency mechanism (Stripe's `Idempotency-Key`, PayPal's
/// `PayPal-Request-Id`) so an action is never carried out twice. A retry of
/// the run by a user (`relais runs retry`) starts a new key generation for
/// the steps it runs again, so the vendor acts anew (a charge after a card
/// decline is made again, not answered with the stored decline). Treat the
/// key as opaque.
///
/// Serialises as `{"run_id", "step_id", "attempt", "idempotency_key"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Context {
    /// The workflow run this invocation belongs to.
    pub run_id: String,
    /// The workflow's id for the step being run (not the plugin's step name).
    pub step_id: String,
    /// 1 for the first attempt, then 2, 3, ... on retries.
    pub attempt: u32,
    /// Stable across automatic retries and restarts of this step of this
    /// run; new after a retry of the run by a user.
    pub idempotency_key: String,
}

impl Context {
    /// A context for the first attempt of `step_id` in `run_id`, with the
    /// idempotency key `RUN_ID/STEP_ID` (handy in tests; the host sets its
    /// own).
    pub fn new(run_id: impl Into<String>, step_id: impl Into<String>) -> Self {
        let run_id = run_id.into();
        let step_id = step_id.into();
        let idempotency_key = format!("{run_id}/{step_id}");
        Self {
            run_id,
            step_id,
            attempt: 1,
            idempotency_key,
        }
    }

    /// The same context at another attempt.
    #[must_use]
    pub fn with_attempt(mut self, attempt: u32) -> Self {
        self.attempt = attempt;
        self
    }

    /// The same context with another idempotency key.
    #[must_use]
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = key.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_derives_a_stable_key() {
        let cx = Context::new("run-1", "charge");
        assert_eq!(cx.attempt, 1);
        assert_eq!(cx.idempotency_key, "run-1/charge");
        let retry = cx.clone().with_attempt(3);
        assert_eq!(retry.idempotency_key, cx.idempotency_key);
        assert_eq!(retry.attempt, 3);
    }

    #[test]
    fn serialises_with_contract_names() {
        let cx = Context::new("r", "s").with_idempotency_key("k");
        let json = serde_json::to_value(&cx).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"run_id": "r", "step_id": "s", "attempt": 1, "idempotency_key": "k"})
        );
    }
}
