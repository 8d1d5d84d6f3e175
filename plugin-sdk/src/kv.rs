//! A key-value store private to the plugin, kept by the host across
//! invocations (a plugin's memory is not: every invocation starts fresh).
//!
//! ```no_run
//! use relais_plugin_sdk::kv;
//! # fn f() -> Result<(), relais_plugin_sdk::StepError> {
//! let seen: u64 = kv::get_json("reminders-sent")?.unwrap_or(0);
//! kv::set_json("reminders-sent", &(seen + 1))?;
//! # Ok(()) }
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::StepError;

/// Longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Largest value, in bytes (1 MiB).
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// A key-value operation that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The key is longer than [`MAX_KEY_BYTES`].
    #[error("kv key of {len} bytes is longer than {MAX_KEY_BYTES} bytes")]
    KeyTooLong {
        /// The key's length in bytes.
        len: usize,
    },
    /// The value is larger than [`MAX_VALUE_BYTES`].
    #[error("kv value for key {key:?} is {len} bytes, more than {MAX_VALUE_BYTES} bytes")]
    ValueTooLarge {
        /// The key.
        key: String,
        /// The value's length in bytes.
        len: usize,
    },
    /// The host could not carry out the operation.
    #[error("kv {operation} of key {key:?} failed: {message}")]
    Host {
        /// `get`, `set` or `delete`.
        operation: &'static str,
        /// The key.
        key: String,
        /// The host's message.
        message: String,
    },
    /// The stored value is not the JSON expected, or the value does not
    /// serialise.
    #[error("kv value for key {key:?} is not the expected JSON: {message}")]
    Json {
        /// The key.
        key: String,
        /// The JSON error.
        message: String,
    },
}

/// Host failures are retryable (the store may be busy); size and JSON
/// errors are fatal.
impl From<Error> for StepError {
    fn from(err: Error) -> Self {
        match err {
            Error::Host { .. } => StepError::retryable(err.to_string()),
            _ => StepError::fatal(err.to_string()),
        }
    }
}

fn check_key(key: &str) -> Result<(), Error> {
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::KeyTooLong { len: key.len() });
    }
    Ok(())
}

/// The value stored under `key`, if any.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    check_key(key)?;
    crate::host::kv_get(key).map_err(|message| Error::Host {
        operation: "get",
        key: key.to_owned(),
        message,
    })
}

/// Stores `value` under `key`, replacing any previous value.
pub fn set(key: &str, value: impl AsRef<[u8]>) -> Result<(), Error> {
    check_key(key)?;
    let value = value.as_ref();
    if value.len() > MAX_VALUE_BYTES {
        return Err(Error::ValueTooLarge {
            key: key.to_owned(),
            len: value.len(),
        });
    }
    crate::host::kv_set(key, value).map_err(|message| Error::Host {
        operation: "set",
        key: key.to_owned(),
        message,
    })
}

/// Removes `key`; removing a missing key is not an error.
pub fn delete(key: &str) -> Result<(), Error> {
    check_key(key)?;
    crate::host::kv_delete(key).map_err(|message| Error::Host {
        operation: "delete",
        key: key.to_owned(),
        message,
    })
}

/// The JSON value stored under `key`, parsed into `T`.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
    match get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|err| Error::Json {
                key: key.to_owned(),
                message: err.to_string(),
            }),
    }
}

/// Stores `value` as JSON under `key`.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), Error> {
    let bytes = serde_json::to_vec(value).map_err(|err| Error::Json {
        key: key.to_owned(),
        message: err.to_string(),
    })?;
    set(key, bytes)
}
