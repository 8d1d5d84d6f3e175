//! Reads: each in its own redb read transaction, never through the writer.

use redb::{ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition};

use crate::error::{Result, StorageContext, StoreError};
use crate::ops::load_run;
use crate::ops::misc::{kv_key, validate_kv};
use crate::secrets::check_secret_name;
use crate::tables::{
    self, ATTEMPTS, BY_STATUS, COUNTS, CRON_LAST, KV, REVISIONS, RUN_DATA, RUNS, RunData, SECRETS,
    TIMERS, check_name, count_key, get_json, get_run, key, name_key, read_ts, status_key_id,
};
use crate::{
    Attempt, Revision, Run, RunDetail, RunId, RunStatus, SecretValue, StatusCounts, Store,
    Timestamp,
};

impl Store {
    pub(crate) fn read_tx(&self) -> Result<ReadTransaction> {
        self.inner
            .db
            .begin_read()
            .during("starting a read transaction")
    }

    pub(crate) fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        tx: &ReadTransaction,
        def: TableDefinition<'static, K, V>,
    ) -> Result<ReadOnlyTable<K, V>> {
        tx.open_table(def).during("opening a table")
    }

    /// A run's header.
    pub async fn run(&self, id: RunId) -> Result<Option<Run>> {
        let tx = self.read_tx()?;
        get_run(&Self::table(&tx, RUNS)?, id)
    }

    /// A run with its payload, input and every attempt (oldest first).
    pub async fn run_detail(&self, id: RunId) -> Result<Option<RunDetail>> {
        let tx = self.read_tx()?;
        let Some(run) = get_run(&Self::table(&tx, RUNS)?, id)? else {
            return Ok(None);
        };
        let data: RunData = get_json(&Self::table(&tx, RUN_DATA)?, "run_data", &id.to_bytes())?
            .ok_or(StoreError::RunNotFound { run: id })?;
        let first = tables::attempt_key(id, 0);
        let last = tables::attempt_key(id, u32::MAX);
        let attempts_table = Self::table(&tx, ATTEMPTS)?;
        let mut attempts = Vec::with_capacity(run.attempts as usize);
        for entry in attempts_table
            .range(&first[..]..=&last[..])
            .during("reading attempts")?
        {
            let (_, value) = entry.during("reading attempts")?;
            attempts.push(tables::decode::<Attempt>("attempts", value.value())?);
        }
        Ok(Some(RunDetail {
            run,
            payload: data.payload,
            input: data.input,
            attempts,
        }))
    }

    /// Number of runs in each status, store-wide or for one workflow.
    pub async fn count_runs(&self, workflow_id: Option<&str>) -> Result<StatusCounts> {
        if let Some(wf) = workflow_id {
            check_name("workflow id", wf)?;
        }
        let tx = self.read_tx()?;
        let table = Self::table(&tx, COUNTS)?;
        let mut counts = StatusCounts::default();
        for status in RunStatus::ALL {
            let n = table
                .get(count_key(workflow_id, status).as_slice())
                .during("reading counters")?
                .map_or(0, |g| g.value());
            counts.set(status, n);
        }
        Ok(counts)
    }

    /// Every run left `running` (to resume after a restart), oldest first.
    pub async fn running_runs(&self) -> Result<Vec<Run>> {
        let tx = self.read_tx()?;
        let index = Self::table(&tx, BY_STATUS)?;
        let runs_table = Self::table(&tx, RUNS)?;
        let code = [RunStatus::Running.code()];
        let mut out = Vec::new();
        for entry in index
            .range(&code[..]..&[RunStatus::Running.code() + 1][..])
            .during("reading running runs")?
        {
            let (k, _) = entry.during("reading running runs")?;
            if let Some(id) = status_key_id(k.value()) {
                out.push(load_run(&runs_table, id)?);
            }
        }
        Ok(out)
    }

    /// When the earliest pending timer is due, if any (sleep until then).
    pub async fn next_timer_due(&self) -> Result<Option<Timestamp>> {
        let tx = self.read_tx()?;
        let timers = Self::table(&tx, TIMERS)?;
        let first = timers.first().during("reading timers")?;
        Ok(first.and_then(|(k, _)| read_ts(k.value(), 0)))
    }

    /// A stored workflow revision.
    pub async fn revision(&self, workflow_id: &str, hash: &str) -> Result<Option<Revision>> {
        check_name("workflow id", workflow_id)?;
        let tx = self.read_tx()?;
        let k = key(&[&name_key(workflow_id), hash.as_bytes()]);
        get_json(&Self::table(&tx, REVISIONS)?, "revisions", &k)
    }

    /// A plugin's KV value.
    pub async fn kv_get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>> {
        self.kv_get_now(plugin, key)
    }

    /// Like [`Store::kv_get`], callable from synchronous code.
    pub fn kv_get_now(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>> {
        validate_kv(plugin, key, None)?;
        let tx = self.read_tx()?;
        let table = Self::table(&tx, KV)?;
        let value = table
            .get(kv_key(plugin, key).as_slice())
            .during("reading a kv value")?;
        Ok(value.map(|g| g.value().to_vec()))
    }

    /// The last fired cron slot of a workflow.
    pub async fn cron_last(&self, workflow_id: &str) -> Result<Option<Timestamp>> {
        check_name("workflow id", workflow_id)?;
        let tx = self.read_tx()?;
        let table = Self::table(&tx, CRON_LAST)?;
        let last = table
            .get(name_key(workflow_id).as_slice())
            .during("reading the last cron slot")?;
        Ok(last.map(|g| Timestamp::from_millis(g.value())))
    }

    /// A secret's decrypted value.
    pub async fn secret_get(&self, name: &str) -> Result<Option<SecretValue>> {
        check_secret_name(name)?;
        let tx = self.read_tx()?;
        let table = Self::table(&tx, SECRETS)?;
        let Some(sealed) = table.get(name.as_bytes()).during("reading a secret")? else {
            return Ok(None);
        };
        self.inner.master.open(name, sealed.value()).map(Some)
    }

    /// The names of every stored secret, sorted.
    pub async fn secret_names(&self) -> Result<Vec<String>> {
        let tx = self.read_tx()?;
        let table = Self::table(&tx, SECRETS)?;
        let mut names = Vec::new();
        for entry in table.iter().during("listing secrets")? {
            let (k, _) = entry.during("listing secrets")?;
            names.push(String::from_utf8_lossy(k.value()).into_owned());
        }
        Ok(names)
    }
}
