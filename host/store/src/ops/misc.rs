//! Workflow revisions, plugin KV, cron state and secret records.

use redb::ReadableTable;

use crate::error::{Result, StorageContext, StoreError};
use crate::ops::kv_usage::{self, KvQuota, Usage, entry_size, set_usage, usage};
use crate::tables::{Tables, check_name, encode, key, name_key};
use crate::writer::Op;
use crate::{Revision, Timestamp};

/// Longest plugin KV key, in bytes.
pub const MAX_KV_KEY: usize = 512;
/// Largest plugin KV value, in bytes (1 MiB).
pub const MAX_KV_VALUE: usize = 1024 * 1024;

/// Checks a plugin name and KV key (and value, when given).
pub(crate) fn validate_kv(plugin: &str, k: &str, value: Option<&[u8]>) -> Result<()> {
    check_name("plugin name", plugin)?;
    if k.is_empty() || k.len() > MAX_KV_KEY {
        return Err(StoreError::KvKey {
            plugin: plugin.to_owned(),
            len: k.len(),
            max: MAX_KV_KEY,
        });
    }
    if let Some(v) = value
        && v.len() > MAX_KV_VALUE
    {
        return Err(StoreError::KvValue {
            plugin: plugin.to_owned(),
            key: k.to_owned(),
            len: v.len(),
            max: MAX_KV_VALUE,
        });
    }
    Ok(())
}

/// The KV table key of `(plugin, key)`.
pub(crate) fn kv_key(plugin: &str, k: &str) -> Vec<u8> {
    key(&[&name_key(plugin), k.as_bytes()])
}

/// Stores a workflow revision unless it is already stored.
pub(crate) struct PutRevision {
    pub revision: Revision,
}

impl Op for PutRevision {
    type Plan = Option<Vec<u8>>;
    type Output = bool;

    fn check(&self, t: &Tables<'_>) -> Result<Self::Plan> {
        check_name("workflow id", &self.revision.workflow_id)?;
        let k = key(&[
            &name_key(&self.revision.workflow_id),
            self.revision.hash.as_bytes(),
        ]);
        if t.revisions
            .get(k.as_slice())
            .during("reading a revision")?
            .is_some()
        {
            return Ok(None);
        }
        Ok(Some(encode("revision", &self.revision)?))
    }

    fn write(&self, plan: Self::Plan, t: &mut Tables<'_>) -> Result<bool> {
        let Some(bytes) = plan else {
            return Ok(false);
        };
        let k = key(&[
            &name_key(&self.revision.workflow_id),
            self.revision.hash.as_bytes(),
        ]);
        t.revisions
            .insert(k.as_slice(), bytes.as_slice())
            .during("storing a revision")?;
        Ok(true)
    }
}

/// Sets a plugin KV value, within `quota` when one is given.
pub(crate) struct KvSet {
    pub plugin: String,
    pub key: String,
    pub value: Vec<u8>,
    pub quota: Option<KvQuota>,
}

impl Op for KvSet {
    type Plan = Usage;
    type Output = ();

    fn check(&self, t: &Tables<'_>) -> Result<Usage> {
        validate_kv(&self.plugin, &self.key, Some(&self.value))?;
        let before = usage(t, &self.plugin)?;
        let old =
            t.kv.get(kv_key(&self.plugin, &self.key).as_slice())
                .during("reading a kv value")?
                .map(|g| entry_size(&self.key, g.value().len()));
        let after = Usage {
            bytes: (before.bytes - old.unwrap_or(0).min(before.bytes))
                .saturating_add(entry_size(&self.key, self.value.len())),
            keys: before.keys + u64::from(old.is_none()),
        };
        if let Some(quota) = self.quota {
            // Shrinking or rewriting within what is kept is always allowed.
            let grows = after.keys > before.keys || after.bytes > before.bytes;
            if grows {
                kv_usage::check(&self.plugin, after, quota)?;
            }
        }
        Ok(after)
    }

    fn write(&self, after: Usage, t: &mut Tables<'_>) -> Result<()> {
        t.kv.insert(
            kv_key(&self.plugin, &self.key).as_slice(),
            self.value.as_slice(),
        )
        .during("writing a kv value")?;
        set_usage(t, &self.plugin, after)
    }
}

/// Deletes a plugin KV value; returns whether it existed.
pub(crate) struct KvDelete {
    pub plugin: String,
    pub key: String,
}

impl Op for KvDelete {
    type Plan = Usage;
    type Output = bool;

    fn check(&self, t: &Tables<'_>) -> Result<Usage> {
        validate_kv(&self.plugin, &self.key, None)?;
        usage(t, &self.plugin)
    }

    fn write(&self, before: Usage, t: &mut Tables<'_>) -> Result<bool> {
        let removed =
            t.kv.remove(kv_key(&self.plugin, &self.key).as_slice())
                .during("deleting a kv value")?
                .map(|g| entry_size(&self.key, g.value().len()));
        if let Some(size) = removed {
            let after = Usage {
                bytes: before.bytes.saturating_sub(size),
                keys: before.keys.saturating_sub(1),
            };
            set_usage(t, &self.plugin, after)?;
        }
        Ok(removed.is_some())
    }
}

/// Records the last fired cron slot of a workflow.
pub(crate) struct SetCronLast {
    pub workflow: String,
    pub slot: Timestamp,
}

impl Op for SetCronLast {
    type Plan = ();
    type Output = ();

    fn check(&self, _t: &Tables<'_>) -> Result<()> {
        check_name("workflow id", &self.workflow)
    }

    fn write(&self, (): (), t: &mut Tables<'_>) -> Result<()> {
        t.cron_last
            .insert(name_key(&self.workflow).as_slice(), self.slot.as_millis())
            .during("recording a cron slot")?;
        Ok(())
    }
}

/// Stores an encrypted secret record; returns whether it replaced one.
pub(crate) struct SecretPut {
    pub name: String,
    pub sealed: Vec<u8>,
}

impl Op for SecretPut {
    type Plan = ();
    type Output = bool;

    fn check(&self, _t: &Tables<'_>) -> Result<()> {
        crate::secrets::check_secret_name(&self.name)
    }

    fn write(&self, (): (), t: &mut Tables<'_>) -> Result<bool> {
        let old = t
            .secrets
            .insert(self.name.as_bytes(), self.sealed.as_slice())
            .during("storing a secret")?;
        Ok(old.is_some())
    }
}

/// Removes a secret; returns whether it existed.
pub(crate) struct SecretRemove {
    pub name: String,
}

impl Op for SecretRemove {
    type Plan = ();
    type Output = bool;

    fn check(&self, _t: &Tables<'_>) -> Result<()> {
        crate::secrets::check_secret_name(&self.name)
    }

    fn write(&self, (): (), t: &mut Tables<'_>) -> Result<bool> {
        let old = t
            .secrets
            .remove(self.name.as_bytes())
            .during("removing a secret")?;
        Ok(old.is_some())
    }
}
