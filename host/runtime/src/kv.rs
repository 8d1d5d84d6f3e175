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
pub type KvFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, KvError>> + Send + 'a>>;

/// How much one plugin may keep in its KV store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvQuota {
    /// Total bytes of its keys and values.
    pub bytes: u64,
    /// Number of keys.
    pub keys: u64,
}

impl KvQuota {
    /// The quota of a plugin's [`Limits`](crate::Limits).
    pub fn of(limits: &crate::Limits) -> Self {
        Self {
            bytes: limits.kv_bytes,
            keys: limits.kv_keys,
        }
    }

    /// Checks a plugin's usage after a write, as `(bytes, keys)`.
    pub fn check(&self, plugin: &str, bytes: u64, keys: u64) -> Result<(), KvError> {
        if keys > self.keys {
            return Err(KvError::Quota(format!(
                "plugin {plugin} would keep {keys} kv keys, its quota is {}",
                self.keys
            )));
        }
        if bytes > self.bytes {
            return Err(KvError::Quota(format!(
                "plugin {plugin} would keep {bytes} bytes of kv data, its quota is {}",
                self.bytes
            )));
        }
        Ok(())
    }
}

/// Why a [`KvStore`] call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// The write would take the plugin past its [`KvQuota`].
    #[error("kv quota exceeded: {0}")]
    Quota(String),
    /// The backend failed (or refused the key or value).
    #[error("{0}")]
    Backend(String),
}

/// Storage behind the `kv` import. Every call is scoped to one plugin: a
/// plugin can never name another plugin's keys.
pub trait KvStore: Send + Sync + 'static {
    /// The value under `key` in `plugin`'s namespace.
    fn get<'a>(&'a self, plugin: &'a str, key: &'a str) -> KvFuture<'a, Option<Vec<u8>>>;
    /// Stores `value` under `key`, durably before the future resolves,
    /// unless the plugin's data would then exceed `quota`
    /// ([`KvError::Quota`]). A key and its value count their lengths.
    fn set<'a>(
        &'a self,
        plugin: &'a str,
        key: &'a str,
        value: Vec<u8>,
        quota: KvQuota,
    ) -> KvFuture<'a, ()>;
    /// Removes `key`; a missing key is not an error.
    fn delete<'a>(&'a self, plugin: &'a str, key: &'a str) -> KvFuture<'a, ()>;
}

/// An in-memory [`KvStore`], for one-off invocations and tests.
#[derive(Debug, Default)]
pub struct MemoryKv {
    plugins: Mutex<HashMap<String, Namespace>>,
}

/// One plugin's keys and the bytes they take.
#[derive(Debug, Default)]
struct Namespace {
    values: HashMap<String, Vec<u8>>,
    bytes: u64,
}

fn size(key: &str, value: &[u8]) -> u64 {
    u64::try_from(key.len() + value.len()).unwrap_or(u64::MAX)
}

impl MemoryKv {
    fn plugins(&self) -> std::sync::MutexGuard<'_, HashMap<String, Namespace>> {
        self.plugins.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl KvStore for MemoryKv {
    fn get<'a>(&'a self, plugin: &'a str, key: &'a str) -> KvFuture<'a, Option<Vec<u8>>> {
        let value = self
            .plugins()
            .get(plugin)
            .and_then(|ns| ns.values.get(key).cloned());
        Box::pin(async move { Ok(value) })
    }

    fn set<'a>(
        &'a self,
        plugin: &'a str,
        key: &'a str,
        value: Vec<u8>,
        quota: KvQuota,
    ) -> KvFuture<'a, ()> {
        let mut plugins = self.plugins();
        let ns = plugins.entry(plugin.to_owned()).or_default();
        let old = ns.values.get(key).map(|v| size(key, v));
        let bytes = ns.bytes - old.unwrap_or(0) + size(key, &value);
        let keys = ns.values.len() as u64 + u64::from(old.is_none());
        let result = quota.check(plugin, bytes, keys).map(|()| {
            ns.bytes = bytes;
            ns.values.insert(key.to_owned(), value);
        });
        Box::pin(async move { result })
    }

    fn delete<'a>(&'a self, plugin: &'a str, key: &'a str) -> KvFuture<'a, ()> {
        if let Some(ns) = self.plugins().get_mut(plugin)
            && let Some(v) = ns.values.remove(key)
        {
            ns.bytes -= size(key, &v);
        }
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
