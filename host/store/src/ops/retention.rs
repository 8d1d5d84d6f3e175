//! Retention: removes old finished runs, expired dedupe keys and old cron
//! slot records, a bounded batch at a time.

use redb::ReadableTable;

use super::{delete_run, load_run};
use crate::error::{Result, StorageContext, StoreError};
use crate::tables::{META_CRON_HORIZON, Tables, key, trailing_id, ts};
use crate::writer::Op;
use crate::{PruneReport, Run, Timestamp};

/// One pruning pass.
pub(crate) struct Prune {
    /// Runs finished before this time are removed; so are cron slot records
    /// before it, and cron slots before it are refused from then on.
    pub finished_before: Timestamp,
    /// Dedupe keys expired at this time are removed.
    pub now: Timestamp,
    /// At most this many runs, this many dedupe keys and this many cron
    /// slot records are removed in one pass.
    pub max: usize,
}

pub(crate) struct PrunePlan {
    runs: Vec<Run>,
    /// (dedupe entry key, expiry index key)
    dedupe: Vec<(Vec<u8>, Vec<u8>)>,
    cron_slots: Vec<Vec<u8>>,
    more: bool,
}

impl Op for Prune {
    type Plan = PrunePlan;
    type Output = PruneReport;

    fn check(&self, t: &Tables<'_>) -> Result<PrunePlan> {
        if self.max == 0 {
            return Err(StoreError::Invalid {
                what: "prune batch size",
                reason: "must be at least 1".into(),
            });
        }
        let ctx = "reading what to prune";
        let mut more = false;

        let end = ts(self.finished_before);
        let mut runs = Vec::new();
        for entry in t.by_finish.range(..&end[..]).during(ctx)? {
            if runs.len() == self.max {
                more = true;
                break;
            }
            let (k, _) = entry.during(ctx)?;
            if let Some(id) = trailing_id(k.value()) {
                runs.push(load_run(&t.runs, id)?);
            }
        }

        let now = ts(self.now);
        let mut dedupe = Vec::new();
        for entry in t.dedupe_expiry.range(..=&now[..]).during(ctx)? {
            if dedupe.len() == self.max {
                more = true;
                break;
            }
            let (k, _) = entry.during(ctx)?;
            let index_key = k.value().to_vec();
            let entry_key = index_key[8..].to_vec();
            dedupe.push((entry_key, index_key));
        }

        // Cron workflows are few; each one's slots are a contiguous range.
        let mut cron_slots = Vec::new();
        'outer: for entry in t.cron_last.iter().during(ctx)? {
            let (wf, _) = entry.during(ctx)?;
            let wf = wf.value().to_vec();
            let from = key(&[&wf, &[0u8; 8]]);
            let to = key(&[&wf, &end]);
            for slot in t
                .cron_slots
                .range(from.as_slice()..to.as_slice())
                .during(ctx)?
            {
                if cron_slots.len() == self.max {
                    more = true;
                    break 'outer;
                }
                let (k, _) = slot.during(ctx)?;
                cron_slots.push(k.value().to_vec());
            }
        }
        Ok(PrunePlan {
            runs,
            dedupe,
            cron_slots,
            more,
        })
    }

    fn write(&self, plan: PrunePlan, t: &mut Tables<'_>) -> Result<PruneReport> {
        let ctx = "pruning";
        let mut report = PruneReport {
            more: plan.more,
            ..PruneReport::default()
        };
        for run in &plan.runs {
            delete_run(t, run)?;
            report.runs += 1;
            report.attempts += u64::from(run.attempts);
        }
        for (entry_key, index_key) in &plan.dedupe {
            t.dedupe_expiry.remove(index_key.as_slice()).during(ctx)?;
            t.dedupe.remove(entry_key.as_slice()).during(ctx)?;
            report.dedupe_keys += 1;
        }
        for k in &plan.cron_slots {
            t.cron_slots.remove(k.as_slice()).during(ctx)?;
            report.cron_slots += 1;
        }
        let horizon = t
            .meta
            .get(META_CRON_HORIZON)
            .during(ctx)?
            .map_or(0, |g| g.value());
        if self.finished_before.as_millis() > horizon {
            t.meta
                .insert(META_CRON_HORIZON, self.finished_before.as_millis())
                .during(ctx)?;
        }
        Ok(report)
    }
}
