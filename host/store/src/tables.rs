//! Table definitions, key layouts and record codecs.
//!
//! Every key is a byte string compared as bytes. Numbers are big-endian so
//! byte order is numeric order; a workflow id or plugin name inside a key is
//! length-prefixed (`u16` big-endian) so one name is never a prefix of
//! another's keys. Run ids are 16 bytes whose order is creation order.

use std::collections::BTreeMap;

use redb::{ReadableTable, TableDefinition, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Result, StorageContext, StoreError};
use crate::{RunId, RunStatus, Timestamp};

type Def = TableDefinition<'static, &'static [u8], &'static [u8]>;
type IndexDef = TableDefinition<'static, &'static [u8], ()>;
type CountDef = TableDefinition<'static, &'static [u8], u64>;

/// run id → [`crate::Run`] (the binary layout of [`crate::codec`]; JSON in
/// records written before it).
pub(crate) const RUNS: Def = TableDefinition::new("runs");
/// run id → [`RunData`] (JSON): written once at creation.
pub(crate) const RUN_DATA: Def = TableDefinition::new("run_data");
/// run id ‖ seq (u32) → [`crate::Attempt`] (JSON).
pub(crate) const ATTEMPTS: Def = TableDefinition::new("attempts");
/// status (u8) ‖ run id ‖ workflow: every run under its status (see
/// [`status_key`]). The `queued` entries are the run queue, oldest first.
pub(crate) const BY_STATUS: IndexDef = TableDefinition::new("runs_by_status");
/// workflow ‖ status (u8) ‖ run id, for the statuses
/// [`in_workflow_index`] names: a run's own workflow and status, without
/// scanning other workflows' runs.
pub(crate) const BY_WORKFLOW_STATUS: IndexDef = TableDefinition::new("runs_by_workflow_status");
/// finished at (u64) ‖ run id: finished runs, oldest first, for pruning.
pub(crate) const BY_FINISH: IndexDef = TableDefinition::new("runs_by_finish");
/// status (u8), or workflow ‖ status (u8) → number of runs.
pub(crate) const COUNTS: CountDef = TableDefinition::new("run_counts");
/// A run queue kept apart by stores written before the queue became the
/// `queued` part of [`BY_STATUS`]: dropped at open.
pub(crate) const LEGACY_QUEUE: IndexDef = TableDefinition::new("queue");
/// workflow ‖ run id: a per-workflow index kept by stores of format 1,
/// where listing by workflow now merges [`BY_STATUS`] and
/// [`BY_WORKFLOW_STATUS`]. Dropped when such a store is upgraded.
pub(crate) const LEGACY_BY_WORKFLOW: IndexDef = TableDefinition::new("runs_by_workflow");
/// due (u64) ‖ run id: the pending timers, earliest first.
pub(crate) const TIMERS: IndexDef = TableDefinition::new("timers");
/// workflow ‖ hash → [`crate::Revision`] (JSON).
pub(crate) const REVISIONS: Def = TableDefinition::new("revisions");
/// workflow ‖ key → run id (16) ‖ expires at (u64).
pub(crate) const DEDUPE: Def = TableDefinition::new("dedupe");
/// expires at (u64) ‖ workflow ‖ key: dedupe keys by expiry, for pruning.
pub(crate) const DEDUPE_EXPIRY: IndexDef = TableDefinition::new("dedupe_by_expiry");
/// workflow ‖ slot (u64) → run id.
pub(crate) const CRON_SLOTS: Def = TableDefinition::new("cron_slots");
/// workflow → last fired slot (u64).
pub(crate) const CRON_LAST: CountDef = TableDefinition::new("cron_last");
/// name → number (store-wide settings such as the cron horizon).
pub(crate) const META: CountDef = TableDefinition::new("meta");
/// plugin ‖ key → value.
pub(crate) const KV: Def = TableDefinition::new("kv");
/// secret name → version (u8) ‖ nonce (24) ‖ ciphertext.
pub(crate) const SECRETS: Def = TableDefinition::new("secrets");

/// `META` key: cron slots before this time are refused (their records may
/// have been pruned).
pub(crate) const META_CRON_HORIZON: &[u8] = b"cron_horizon";

/// `META` key: the layout of the run indexes (see [`STORE_FORMAT`]).
pub(crate) const META_FORMAT: &[u8] = b"format";
/// The index layout this build writes. Format 1 (no `META_FORMAT` entry)
/// kept a `workflow ‖ run id` index and listed queued and running runs in
/// [`BY_WORKFLOW_STATUS`], and its [`BY_STATUS`] keys had no workflow.
pub(crate) const STORE_FORMAT: u64 = 2;

/// Longest workflow id, plugin name or secret name accepted.
pub(crate) const MAX_NAME: usize = 256;

/// Payload and input of a run, kept apart from the header so status changes
/// do not rewrite them.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct RunData {
    pub payload: serde_json::Value,
    pub input: serde_json::Value,
}

/// A name as a key prefix: `u16` length then bytes.
pub(crate) fn name_key(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + name.len() + 24);
    // Names are validated to at most MAX_NAME bytes, so the length fits.
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    out
}

/// Concatenates key parts.
pub(crate) fn key(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A timestamp as an 8-byte big-endian key part.
pub(crate) fn ts(t: Timestamp) -> [u8; 8] {
    t.as_millis().to_be_bytes()
}

/// Reads the trailing 16 bytes of a key as a run id.
pub(crate) fn trailing_id(key: &[u8]) -> Option<RunId> {
    let start = key.len().checked_sub(16)?;
    let bytes: [u8; 16] = key[start..].try_into().ok()?;
    Some(RunId::from_bytes(bytes))
}

/// Reads 8 bytes at `at` as a big-endian timestamp.
pub(crate) fn read_ts(bytes: &[u8], at: usize) -> Option<Timestamp> {
    let raw: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
    Some(Timestamp::from_millis(u64::from_be_bytes(raw)))
}

/// Whether runs in `status` have a [`BY_WORKFLOW_STATUS`] entry.
///
/// `queued` and `running` do not: every run passes through both, so
/// indexing them twice would add four index writes to each run on the
/// store's hottest path. The running set is bounded by the workers' slots,
/// and the queue is short unless work is backing up; a per-workflow listing
/// of either filters [`BY_STATUS`] by the workflow its keys end with.
pub(crate) fn in_workflow_index(status: RunStatus) -> bool {
    !matches!(status, RunStatus::Queued | RunStatus::Running)
}

/// A [`BY_STATUS`] key: status, run id, then the workflow as a name key.
pub(crate) fn status_key(status: RunStatus, id: RunId, workflow: &str) -> Vec<u8> {
    key(&[&[status.code()], &id.to_bytes(), &name_key(workflow)])
}

/// Reads the run id of a [`BY_STATUS`] key.
pub(crate) fn status_key_id(key: &[u8]) -> Option<RunId> {
    let bytes: [u8; 16] = key.get(1..17)?.try_into().ok()?;
    Some(RunId::from_bytes(bytes))
}

/// The workflow part (a name key) of a [`BY_STATUS`] key.
pub(crate) fn status_key_workflow(key: &[u8]) -> &[u8] {
    key.get(17..).unwrap_or_default()
}

/// A [`BY_WORKFLOW_STATUS`] key.
pub(crate) fn workflow_status_key(workflow: &str, status: RunStatus, id: RunId) -> Vec<u8> {
    key(&[&name_key(workflow), &[status.code()], &id.to_bytes()])
}

/// Count key for a status, store-wide or within one workflow.
pub(crate) fn count_key(workflow: Option<&str>, status: RunStatus) -> Vec<u8> {
    match workflow {
        None => vec![status.code()],
        Some(wf) => key(&[&name_key(wf), &[status.code()]]),
    }
}

/// Attempt key.
pub(crate) fn attempt_key(run: RunId, seq: u32) -> [u8; 20] {
    let mut out = [0u8; 20];
    out[..16].copy_from_slice(&run.to_bytes());
    out[16..].copy_from_slice(&seq.to_be_bytes());
    out
}

/// Encodes a record as JSON.
pub(crate) fn encode<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|source| StoreError::Encode { what, source })
}

/// Decodes a JSON record.
pub(crate) fn decode<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { table, source })
}

/// Reads and decodes one run header.
pub(crate) fn get_run<R>(runs: &R, id: RunId) -> Result<Option<crate::Run>>
where
    R: ReadableTable<&'static [u8], &'static [u8]>,
{
    match runs.get(&id.to_bytes()[..]).during("reading a run")? {
        Some(guard) => crate::codec::decode_run(guard.value()).map(Some),
        None => Ok(None),
    }
}

/// Reads and decodes one JSON record.
pub(crate) fn get_json<T, R>(table: &R, name: &'static str, k: &[u8]) -> Result<Option<T>>
where
    T: DeserializeOwned,
    R: ReadableTable<&'static [u8], &'static [u8]>,
{
    match table.get(k).during("reading a record")? {
        Some(guard) => decode(name, guard.value()).map(Some),
        None => Ok(None),
    }
}

/// Every table, opened once per write transaction.
///
/// Operations check their preconditions through `&Tables` (reads only) and
/// write through `&mut Tables`, so a refused operation cannot have written.
pub(crate) struct Tables<'t> {
    pub runs: redb::Table<'t, &'static [u8], &'static [u8]>,
    pub run_data: redb::Table<'t, &'static [u8], &'static [u8]>,
    pub attempts: redb::Table<'t, &'static [u8], &'static [u8]>,
    pub by_status: redb::Table<'t, &'static [u8], ()>,
    pub by_workflow_status: redb::Table<'t, &'static [u8], ()>,
    pub by_finish: redb::Table<'t, &'static [u8], ()>,
    pub counts: redb::Table<'t, &'static [u8], u64>,
    pub timers: redb::Table<'t, &'static [u8], ()>,
    pub revisions: redb::Table<'t, &'static [u8], &'static [u8]>,
    pub dedupe: redb::Table<'t, &'static [u8], &'static [u8]>,
    pub dedupe_expiry: redb::Table<'t, &'static [u8], ()>,
    pub cron_slots: redb::Table<'t, &'static [u8], &'static [u8]>,
    pub cron_last: redb::Table<'t, &'static [u8], u64>,
    pub meta: redb::Table<'t, &'static [u8], u64>,
    pub kv: redb::Table<'t, &'static [u8], &'static [u8]>,
    pub secrets: redb::Table<'t, &'static [u8], &'static [u8]>,
    /// Counter changes of the batch, written once by [`Tables::finish`].
    count_deltas: BTreeMap<Vec<u8>, i64>,
}

impl<'t> Tables<'t> {
    /// Opens (creating when absent) every table in `tx`.
    pub(crate) fn open(tx: &'t WriteTransaction) -> Result<Self> {
        let ctx = "opening tables";
        Ok(Self {
            runs: tx.open_table(RUNS).during(ctx)?,
            run_data: tx.open_table(RUN_DATA).during(ctx)?,
            attempts: tx.open_table(ATTEMPTS).during(ctx)?,
            by_status: tx.open_table(BY_STATUS).during(ctx)?,
            by_workflow_status: tx.open_table(BY_WORKFLOW_STATUS).during(ctx)?,
            by_finish: tx.open_table(BY_FINISH).during(ctx)?,
            counts: tx.open_table(COUNTS).during(ctx)?,
            timers: tx.open_table(TIMERS).during(ctx)?,
            revisions: tx.open_table(REVISIONS).during(ctx)?,
            dedupe: tx.open_table(DEDUPE).during(ctx)?,
            dedupe_expiry: tx.open_table(DEDUPE_EXPIRY).during(ctx)?,
            cron_slots: tx.open_table(CRON_SLOTS).during(ctx)?,
            cron_last: tx.open_table(CRON_LAST).during(ctx)?,
            meta: tx.open_table(META).during(ctx)?,
            kv: tx.open_table(KV).during(ctx)?,
            secrets: tx.open_table(SECRETS).during(ctx)?,
            count_deltas: BTreeMap::new(),
        })
    }

    /// Adds `delta` to a run counter (written by [`Tables::finish`]).
    pub(crate) fn count(&mut self, k: Vec<u8>, delta: i64) {
        *self.count_deltas.entry(k).or_insert(0) += delta;
    }

    /// A run counter as it stands in this batch (earlier operations of the
    /// batch included).
    pub(crate) fn counted(&self, k: &[u8]) -> Result<u64> {
        let stored = self
            .counts
            .get(k)
            .during("reading a run counter")?
            .map_or(0, |g| g.value());
        let delta = self.count_deltas.get(k).copied().unwrap_or(0);
        Ok(stored.saturating_add_signed(delta))
    }

    /// Writes the batch's counter changes; call once, after every operation.
    pub(crate) fn finish(mut self) -> Result<()> {
        let ctx = "updating run counters";
        for (k, delta) in std::mem::take(&mut self.count_deltas) {
            if delta == 0 {
                continue;
            }
            let current = self
                .counts
                .get(k.as_slice())
                .during(ctx)?
                .map_or(0, |g| g.value());
            let next = current.saturating_add_signed(delta);
            if next == 0 {
                self.counts.remove(k.as_slice()).during(ctx)?;
            } else {
                self.counts.insert(k.as_slice(), next).during(ctx)?;
            }
        }
        Ok(())
    }
}

/// Checks a workflow id, plugin name or similar name.
pub(crate) fn check_name(what: &'static str, name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "must not be empty".to_owned()
    } else if name.len() > MAX_NAME {
        format!("{} bytes, the limit is {MAX_NAME}", name.len())
    } else if name.chars().any(char::is_control) {
        "must not contain control characters".to_owned()
    } else {
        return Ok(());
    };
    Err(StoreError::Invalid { what, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_keys_never_prefix_each_other() {
        let a = key(&[&name_key("ab"), b"c"]);
        let b = name_key("abc");
        assert!(!b.starts_with(&name_key("ab")));
        assert_ne!(a, b);
    }

    #[test]
    fn names_are_checked_on_both_sides_of_the_limit() {
        assert!(check_name("workflow id", &"w".repeat(MAX_NAME)).is_ok());
        assert!(check_name("workflow id", &"w".repeat(MAX_NAME + 1)).is_err());
        assert!(check_name("workflow id", "").is_err());
        assert!(check_name("workflow id", "a\nb").is_err());
        assert!(check_name("workflow id", "dunning-é").is_ok());
    }

    #[test]
    fn timestamps_sort_as_bytes() {
        let a = ts(Timestamp::from_millis(255));
        let b = ts(Timestamp::from_millis(256));
        assert!(a < b);
        assert_eq!(read_ts(&b, 0), Some(Timestamp::from_millis(256)));
        assert_eq!(read_ts(&b, 1), None);
    }
}
