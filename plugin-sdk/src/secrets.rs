//! The secrets granted to the current step (`secrets: [...]` in the
//! workflow). A secret that is not granted is indistinguishable from one
//! that does not exist. Never log a secret or put it in a step's output.

use crate::StepError;

/// The value of secret `name`, or `None` when it is not granted to this
/// step (or does not exist).
pub fn get(name: &str) -> Option<String> {
    crate::host::secret_get(name)
}

/// The value of secret `name`; when it is not granted, a fatal error
/// `secret NAME is not granted to this step`.
pub fn require(name: &str) -> Result<String, StepError> {
    get(name).ok_or_else(|| StepError::fatal(format!("secret {name} is not granted to this step")))
}
