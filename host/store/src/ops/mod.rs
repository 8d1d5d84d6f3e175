//! Write operations, each applied by the writer thread inside a batch.
//!
//! Every run header goes through [`put_run`], which keeps the indexes, the
//! counters and the timers in step with the run's status: the run queue is
//! the `queued` part of the status index, a run has a timer exactly when it
//! is `waiting`, and is in the finish index exactly when it has a
//! `finished_at`.

pub(crate) mod kv_usage;
pub(crate) mod misc;
pub(crate) mod retention;
pub(crate) mod runs;
pub(crate) mod steps;
pub(crate) mod timers;

use redb::ReadableTable;

use crate::codec::encode_run;
use crate::error::{Result, StorageContext, StoreError};
use crate::tables::{
    self, Tables, count_key, get_run, in_workflow_index, key, status_key, ts, workflow_status_key,
};
use crate::{Run, RunId, RunStatus};

/// Loads a run header or fails with `RunNotFound`.
pub(crate) fn load_run<R>(runs: &R, id: RunId) -> Result<Run>
where
    R: ReadableTable<&'static [u8], &'static [u8]>,
{
    get_run(runs, id)?.ok_or(StoreError::RunNotFound { run: id })
}

/// Removes `run`'s status index entries (for the status it has).
fn unindex_status(t: &mut Tables<'_>, run: &Run) -> Result<()> {
    let ctx = "updating the status indexes";
    let status = run.status;
    let global = status_key(status, run.id, &run.workflow_id);
    t.by_status.remove(global.as_slice()).during(ctx)?;
    if in_workflow_index(status) {
        let per_wf = workflow_status_key(&run.workflow_id, status, run.id);
        t.by_workflow_status.remove(per_wf.as_slice()).during(ctx)?;
    }
    t.count(count_key(None, status), -1);
    t.count(count_key(Some(&run.workflow_id), status), -1);
    Ok(())
}

/// Adds `run`'s status index entries for its status.
fn index_status(t: &mut Tables<'_>, run: &Run) -> Result<()> {
    let ctx = "updating the status indexes";
    let global = status_key(run.status, run.id, &run.workflow_id);
    t.by_status.insert(global.as_slice(), ()).during(ctx)?;
    if in_workflow_index(run.status) {
        let per_wf = workflow_status_key(&run.workflow_id, run.status, run.id);
        t.by_workflow_status
            .insert(per_wf.as_slice(), ())
            .during(ctx)?;
    }
    t.count(count_key(None, run.status), 1);
    t.count(count_key(Some(&run.workflow_id), run.status), 1);
    Ok(())
}

fn finish_key(run: &Run, at: crate::Timestamp) -> Vec<u8> {
    key(&[&ts(at), &run.id.to_bytes()])
}

fn timer_key(run: &Run, due: crate::Timestamp) -> Vec<u8> {
    key(&[&ts(due), &run.id.to_bytes()])
}

/// Writes a run header, moving its index entries from `old` (if any).
pub(crate) fn put_run(t: &mut Tables<'_>, old: Option<&Run>, new: &Run) -> Result<()> {
    debug_assert_eq!(new.wake.is_some(), new.status == RunStatus::Waiting);
    debug_assert_eq!(new.finished_at.is_some(), new.status.is_finished());
    let id = new.id.to_bytes();
    let ctx = "writing a run";
    t.runs
        .insert(&id[..], encode_run(new)?.as_slice())
        .during(ctx)?;

    if old.map(|r| r.status) != Some(new.status) {
        if let Some(old) = old {
            unindex_status(t, old)?;
        }
        index_status(t, new)?;
    }

    let old_wake = old.and_then(|r| r.wake.as_ref());
    if old_wake != new.wake.as_ref() {
        if let (Some(old), Some(wake)) = (old, old_wake) {
            t.timers
                .remove(timer_key(old, wake.due).as_slice())
                .during(ctx)?;
        }
        if let Some(wake) = &new.wake {
            t.timers
                .insert(timer_key(new, wake.due).as_slice(), ())
                .during(ctx)?;
        }
    }

    let old_finish = old.and_then(|r| r.finished_at);
    if old_finish != new.finished_at {
        if let (Some(old), Some(at)) = (old, old_finish) {
            t.by_finish
                .remove(finish_key(old, at).as_slice())
                .during(ctx)?;
        }
        if let Some(at) = new.finished_at {
            t.by_finish
                .insert(finish_key(new, at).as_slice(), ())
                .during(ctx)?;
        }
    }
    Ok(())
}

/// Removes a run, its payload, its attempts and every index entry.
pub(crate) fn delete_run(t: &mut Tables<'_>, run: &Run) -> Result<()> {
    let id = run.id.to_bytes();
    let ctx = "deleting a run";
    t.runs.remove(&id[..]).during(ctx)?;
    t.run_data.remove(&id[..]).during(ctx)?;
    let first = tables::attempt_key(run.id, 0);
    let last = tables::attempt_key(run.id, u32::MAX);
    t.attempts
        .retain_in(&first[..]..=&last[..], |_, _| false)
        .during(ctx)?;
    unindex_status(t, run)?;
    if let Some(wake) = &run.wake {
        t.timers
            .remove(timer_key(run, wake.due).as_slice())
            .during(ctx)?;
    }
    if let Some(at) = run.finished_at {
        t.by_finish
            .remove(finish_key(run, at).as_slice())
            .during(ctx)?;
    }
    Ok(())
}
