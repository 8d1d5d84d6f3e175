//! What each plugin keeps in its KV store (bytes of keys and values, and
//! keys), kept in `META` beside the data so a quota is checked without a
//! scan. A store written before these counters has none: the first write
//! of a plugin counts its keys once.

use redb::ReadableTable;

use crate::error::{Result, StorageContext, StoreError};
use crate::tables::{Tables, key, name_key};

/// How much one plugin may keep in its KV store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvQuota {
    /// Total bytes of its keys and values.
    pub bytes: u64,
    /// Number of keys.
    pub keys: u64,
}

/// A plugin's KV usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub bytes: u64,
    pub keys: u64,
}

const BYTES: &[u8] = b"kv_bytes:";
const KEYS: &[u8] = b"kv_keys:";

fn meta_key(which: &[u8], plugin: &str) -> Vec<u8> {
    key(&[which, &name_key(plugin)])
}

/// Bytes one entry counts for.
pub(crate) fn entry_size(k: &str, value_len: usize) -> u64 {
    u64::try_from(k.len() + value_len).unwrap_or(u64::MAX)
}

/// The plugin's usage: its counters, or a count of its keys when a store
/// written before them has none.
pub(crate) fn usage(t: &Tables<'_>, plugin: &str) -> Result<Usage> {
    let ctx = "reading kv usage";
    let keys = t.meta.get(meta_key(KEYS, plugin).as_slice()).during(ctx)?;
    if let Some(keys) = keys {
        let bytes = t
            .meta
            .get(meta_key(BYTES, plugin).as_slice())
            .during(ctx)?
            .map_or(0, |g| g.value());
        return Ok(Usage {
            bytes,
            keys: keys.value(),
        });
    }
    let prefix = name_key(plugin);
    let mut found = Usage::default();
    for entry in t.kv.range(prefix.as_slice()..).during(ctx)? {
        let (k, v) = entry.during(ctx)?;
        let Some(user_key) = k.value().strip_prefix(prefix.as_slice()) else {
            break;
        };
        found.keys += 1;
        found.bytes += u64::try_from(user_key.len() + v.value().len()).unwrap_or(u64::MAX);
    }
    Ok(found)
}

/// Writes the plugin's usage counters (none when it keeps nothing).
pub(crate) fn set_usage(t: &mut Tables<'_>, plugin: &str, usage: Usage) -> Result<()> {
    let ctx = "writing kv usage";
    let (bytes, keys) = (meta_key(BYTES, plugin), meta_key(KEYS, plugin));
    if usage.keys == 0 {
        t.meta.remove(bytes.as_slice()).during(ctx)?;
        t.meta.remove(keys.as_slice()).during(ctx)?;
    } else {
        t.meta.insert(bytes.as_slice(), usage.bytes).during(ctx)?;
        t.meta.insert(keys.as_slice(), usage.keys).during(ctx)?;
    }
    Ok(())
}

/// Refuses a usage past `quota`.
pub(crate) fn check(plugin: &str, usage: Usage, quota: KvQuota) -> Result<()> {
    let over = |what: &'static str, would: u64, max: u64| StoreError::KvQuota {
        plugin: plugin.to_owned(),
        what,
        would,
        max,
    };
    if usage.keys > quota.keys {
        return Err(over("keys", usage.keys, quota.keys));
    }
    if usage.bytes > quota.bytes {
        return Err(over("bytes", usage.bytes, quota.bytes));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::misc::kv_key;

    #[test]
    fn a_plugin_without_counters_is_counted_from_its_keys() {
        let dir = tempfile::tempdir().unwrap();
        let db = redb::Database::create(dir.path().join("t.redb")).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut t = Tables::open(&tx).unwrap();
            // Written as a store before the counters did: data, no counter.
            for (plugin, k, v) in [("p", "ab", 3), ("p", "c", 1), ("pq", "x", 5)] {
                t.kv.insert(kv_key(plugin, k).as_slice(), vec![0u8; v].as_slice())
                    .unwrap();
            }
            assert_eq!(usage(&t, "p").unwrap(), Usage { bytes: 7, keys: 2 });
            assert_eq!(usage(&t, "pq").unwrap(), Usage { bytes: 6, keys: 1 });
            assert_eq!(usage(&t, "none").unwrap(), Usage::default());
            set_usage(&mut t, "p", Usage { bytes: 1, keys: 1 }).unwrap();
            assert_eq!(usage(&t, "p").unwrap(), Usage { bytes: 1, keys: 1 });
            t.finish().unwrap();
        }
        tx.commit().unwrap();
    }
}
