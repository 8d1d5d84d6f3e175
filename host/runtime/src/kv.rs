//! The plugin key-value store, as the runtime sees it: a backend chosen by
//! the embedder (the durable store in the server, memory in one-off runs).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// Longest key a plugin may use, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Largest value a plugin may store, in bytes.
pub const MAX_VALUE_BYTES: usize = 1 << 20;

/// A boxed future, as returned by [`KvStore`] methods.
pub type KvFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send + 'a>>;

/// Storage behind the `kv` import. Every call is scoped to one plugin: a
/// plugin can never name another plugin's keys.
pub trait KvStore: Send + Sync + 'static {
    /// The value under `key` in `plugin`'s namespace.
    fn get<'a>(&'a self, plugin: &'a str, key: &'a str) -> KvFuture<'a, Option<Vec<u8>>>;
    /// Stores `value` under `key`, durably before the future resolves.
    fn set<'a>(&'a self, plugin: &'a str, key: &'a str, value: Vec<u8>) -> KvFuture<'a, ()>;
    /// Removes `key`; a missing key is not an error.
    fn delete<'a>(&'a self, plugin: &'a str, key: &'a str) -> KvFuture<'a, ()>;
}

/// An in-memory [`KvStore`], for one-off invocations and tests.
#[derive(Debug, Default)]
pub struct MemoryKv {
    map: Mutex<HashMap<(String, String), Vec<u8>>>,
}

impl MemoryKv {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Vec<u8>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl KvStore for MemoryKv {
    fn get<'a>(&'a self, plugin: &'a str, key: &'a str) -> KvFuture<'a, Option<Vec<u8>>> {
        let value = self.map().get(&(plugin.into(), key.into())).cloned();
        Box::pin(async move { Ok(value) })
    }

    fn set<'a>(&'a self, plugin: &'a str, key: &'a str, value: Vec<u8>) -> KvFuture<'a, ()> {
        self.map().insert((plugin.into(), key.into()), value);
        Box::pin(async { Ok(()) })
    }

    fn delete<'a>(&'a self, plugin: &'a str, key: &'a str) -> KvFuture<'a, ()> {
        self.map().remove(&(plugin.into(), key.into()));
        Box::pin(async { Ok(()) })
    }
}

/// Checks a key and value against the contract's limits.
pub(crate) fn check(key: &str, value: Option<&[u8]>) -> Result<(), String> {
    if key.is_empty() {
        return Err("kv key must not be empty".into());
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "kv key is {} bytes, the limit is {MAX_KEY_BYTES}",
            key.len()
        ));
    }
    if let Some(v) = value
        && v.len() > MAX_VALUE_BYTES
    {
        return Err(format!(
            "kv value is {} bytes, the limit is {MAX_VALUE_BYTES}",
            v.len()
        ));
    }
    Ok(())
}
