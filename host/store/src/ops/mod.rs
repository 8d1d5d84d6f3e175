//! Write operations, each applied by the writer thread inside a batch.
//!
//! Every run header goes through [`put_run`], which keeps the indexes, the
//! counters and the timers in step with the run's status: the run queue is
//! the `queued` part of the status index, a run has a timer exactly when it
//! is `waiting`, and is in the finish index exactly when it has a
//! `finished_at`.

pub(crate) mod misc;
pub(crate) mod retention;
pub(crate) mod runs;
pub(crate) mod steps;
pub(crate) mod timers;

use redb::ReadableTable;

use crate::error::{Result, StorageContext, StoreError};
use crate::tables::{self, Tables, count_key, encode, get_json, key, name_key, ts};
use crate::{Run, RunId, RunStatus};

/// Loads a run header or fails with `RunNotFound`.
pub(crate) fn load_run<R>(runs: &R, id: RunId) -> Result<Run>
where
    R: ReadableTable<&'static [u8], &'static [u8]>,
{
    get_json(runs, "runs", &id.to_bytes())?.ok_or(StoreError::RunNotFound { run: id })
}

fn status_keys(run: &Run, status: RunStatus) -> (Vec<u8>, Vec<u8>) {
    let id = run.id.to_bytes();
    (
        key(&[&[status.code()], &id]),
        key(&[&name_key(&run.workflow_id), &[status.code()], &id]),
    )
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
        .insert(&id[..], encode("run", new)?.as_slice())
        .during(ctx)?;

    if old.is_none() {
        let by_wf = key(&[&name_key(&new.workflow_id), &id]);
        t.by_workflow.insert(by_wf.as_slice(), ()).during(ctx)?;
    }

    let old_status = old.map(|r| r.status);
    if old_status != Some(new.status) {
        if let (Some(old), Some(status)) = (old, old_status) {
            let (global, per_wf) = status_keys(old, status);
            t.by_status.remove(global.as_slice()).during(ctx)?;
            t.by_workflow_status.remove(per_wf.as_slice()).during(ctx)?;
            t.count(count_key(None, status), -1);
            t.count(count_key(Some(&old.workflow_id), status), -1);
        }
        let (global, per_wf) = status_keys(new, new.status);
        t.by_status.insert(global.as_slice(), ()).during(ctx)?;
        t.by_workflow_status
            .insert(per_wf.as_slice(), ())
            .during(ctx)?;
        t.count(count_key(None, new.status), 1);
        t.count(count_key(Some(&new.workflow_id), new.status), 1);
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
    let by_wf = key(&[&name_key(&run.workflow_id), &id]);
    t.by_workflow.remove(by_wf.as_slice()).during(ctx)?;
    let (global, per_wf) = status_keys(run, run.status);
    t.by_status.remove(global.as_slice()).during(ctx)?;
    t.by_workflow_status.remove(per_wf.as_slice()).during(ctx)?;
    t.count(count_key(None, run.status), -1);
    t.count(count_key(Some(&run.workflow_id), run.status), -1);
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
