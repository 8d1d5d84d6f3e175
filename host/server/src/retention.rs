//! Retention: a background task that removes finished runs older than the
//! configured age (with their attempts and logs), expired dedupe keys and
//! old cron slot records, in bounded batches so it never holds the store's
//! writer for long.

use std::time::Duration;

use relais_store::{PruneReport, Store, Timestamp};
use tokio::sync::watch;

/// Most records removed per store operation.
const BATCH: usize = 500;

/// What is kept, and how often the task looks.
#[derive(Clone, Copy, Debug)]
pub struct Retention {
    /// Finished runs are kept this long; `None`: forever (dedupe keys still
    /// expire).
    pub keep_runs: Option<Duration>,
    /// Time between passes.
    pub every: Duration,
}

/// One full pass: batches until nothing is left to remove. Returns the sum
/// of the batches.
pub async fn prune_once(
    store: &Store,
    retention: &Retention,
    now: Timestamp,
) -> relais_store::Result<PruneReport> {
    // Without a run age, nothing finished before the epoch is removed.
    let before = match retention.keep_runs {
        Some(age) => now.saturating_sub(age),
        None => Timestamp::from_millis(0),
    };
    let mut total = PruneReport::default();
    loop {
        let r = store.prune(before, now, BATCH).await?;
        total.runs += r.runs;
        total.attempts += r.attempts;
        total.dedupe_keys += r.dedupe_keys;
        total.cron_slots += r.cron_slots;
        if !r.more {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Prunes at start, then every `retention.every`, until `stop` turns true.
pub async fn run(store: Store, retention: Retention, mut stop: watch::Receiver<bool>) {
    loop {
        match prune_once(&store, &retention, Timestamp::now()).await {
            Ok(r) if r.runs + r.dedupe_keys + r.cron_slots > 0 => tracing::info!(
                runs = r.runs,
                attempts = r.attempts,
                dedupe_keys = r.dedupe_keys,
                cron_slots = r.cron_slots,
                "retention pass removed old records"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention pass failed; trying again later"),
        }
        tokio::select! {
            _ = tokio::time::sleep(retention.every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
