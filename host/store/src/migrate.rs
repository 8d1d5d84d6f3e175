//! Upgrades a store written by an earlier build to the current index
//! layout ([`STORE_FORMAT`]), in the transaction that opens it.
//!
//! Format 1 to 2: the status index gains the workflow at the end of each
//! key, the workflow-status index drops its `queued` and `running` entries,
//! and the `workflow ‖ run id` index goes. Runs and their records are not
//! touched; the indexes are rebuilt from the run headers.

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};

use crate::codec::decode_run;
use crate::error::{Result, StorageContext, StoreError};
use crate::tables::{
    BY_STATUS, BY_WORKFLOW_STATUS, LEGACY_BY_WORKFLOW, META, META_FORMAT, RUNS, STORE_FORMAT,
    in_workflow_index, status_key, workflow_status_key,
};

/// Brings the indexes in `tx` to [`STORE_FORMAT`]. A store with no format
/// entry and no runs is new; one with a newer format is refused.
pub(crate) fn upgrade(tx: &WriteTransaction) -> Result<()> {
    let ctx = "upgrading the store's indexes";
    let mut meta = tx.open_table(META).during(ctx)?;
    let found = meta.get(META_FORMAT).during(ctx)?.map(|g| g.value());
    let format = match found {
        Some(f) => f,
        None if tx.open_table(RUNS).during(ctx)?.is_empty().during(ctx)? => STORE_FORMAT,
        None => 1,
    };
    if format > STORE_FORMAT {
        return Err(StoreError::Invalid {
            what: "store format",
            reason: format!(
                "the file was written with index format {format}, newer than the \
                 {STORE_FORMAT} this build knows: run the newer relais, or restore a backup"
            ),
        });
    }
    if format < 2 {
        reindex_runs(tx)?;
    }
    tx.delete_table(LEGACY_BY_WORKFLOW).during(ctx)?;
    if found != Some(STORE_FORMAT) {
        meta.insert(META_FORMAT, STORE_FORMAT).during(ctx)?;
    }
    Ok(())
}

/// Rebuilds the status index from the run headers and keeps only the
/// statuses of the workflow-status index that format 2 indexes.
fn reindex_runs(tx: &WriteTransaction) -> Result<()> {
    let ctx = "rebuilding the run status indexes";
    let runs = tx.open_table(RUNS).during(ctx)?;
    let mut by_status = tx.open_table(BY_STATUS).during(ctx)?;
    let mut by_workflow_status = tx.open_table(BY_WORKFLOW_STATUS).during(ctx)?;
    by_status.retain(|_, ()| false).during(ctx)?;
    let mut n = 0u64;
    for entry in runs.iter().during(ctx)? {
        let (_, value) = entry.during(ctx)?;
        let run = decode_run(value.value())?;
        let k = status_key(run.status, run.id, &run.workflow_id);
        by_status.insert(k.as_slice(), ()).during(ctx)?;
        if !in_workflow_index(run.status) {
            let k = workflow_status_key(&run.workflow_id, run.status, run.id);
            by_workflow_status.remove(k.as_slice()).during(ctx)?;
        }
        n += 1;
    }
    tracing::info!(runs = n, "store indexes upgraded to format {STORE_FORMAT}");
    Ok(())
}
