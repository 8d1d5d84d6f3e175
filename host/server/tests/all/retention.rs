//! Retention: old finished runs go, recent ones and unfinished ones stay.

use std::time::Duration;

use chrono::Utc;
use relais_server::retention::{Retention, prune_once};
use relais_store::{RunFilter, RunId, Timestamp};
use serde_json::{Value, json};

use crate::Fixture;
use crate::hooks::stripe_request;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

async fn deliver_raw(f: &Fixture, event: &str) -> (u16, Value) {
    let body = format!(r#"{{"id":"{event}"}}"#);
    f.send(stripe_request(&body, crate::STRIPE_SECRET, Utc::now()))
        .await
}

async fn deliver(f: &Fixture, event: &str) -> (u16, RunId) {
    let (status, answer) = deliver_raw(f, event).await;
    (status, answer["run_id"].as_str().unwrap().parse().unwrap())
}

async fn runs(f: &Fixture) -> Vec<RunId> {
    let page = f
        .store
        .list_runs(&RunFilter::default(), None, 100)
        .await
        .unwrap();
    page.runs.iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn old_finished_runs_and_expired_dedupe_keys_are_pruned() {
    let f = Fixture::new().await;
    let (_, done) = deliver(&f, "evt_old").await;
    let (_, open) = deliver(&f, "evt_open").await;
    // The first run finishes now; the second stays queued.
    f.store.cancel_run(done).await.unwrap();
    let keep_day = Retention {
        keep_runs: Some(DAY),
        every: HOUR,
    };
    let now = Timestamp::now();

    // Within the age: nothing goes.
    let r = prune_once(&f.store, &keep_day, now.saturating_add(HOUR))
        .await
        .unwrap();
    assert_eq!((r.runs, r.dedupe_keys), (0, 0));
    assert_eq!(runs(&f).await.len(), 2);

    // Past it: the finished run goes with its attempts, the queued one
    // stays whatever its age, and dedupe keys (30 days) are still kept.
    let r = prune_once(&f.store, &keep_day, now.saturating_add(2 * DAY))
        .await
        .unwrap();
    assert_eq!(r.runs, 1);
    assert_eq!(runs(&f).await, [open]);
    assert!(f.store.run(done).await.unwrap().is_none());
    // The key outlives its run: the delivery is still a duplicate, and the
    // answer names no run that is gone.
    let (status, answer) = deliver_raw(&f, "evt_old").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({ "duplicate": true }));
    // A duplicate of a run still there names it.
    let (status, answer) = deliver_raw(&f, "evt_open").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["run_id"], open.to_string());

    // Dedupe keys without a window last the default 30 days, then go with
    // retention, runs kept `forever` or not.
    let forever = Retention {
        keep_runs: None,
        every: HOUR,
    };
    let r = prune_once(&f.store, &forever, now.saturating_add(29 * DAY))
        .await
        .unwrap();
    assert_eq!((r.runs, r.dedupe_keys), (0, 0));
    let r = prune_once(&f.store, &forever, now.saturating_add(31 * DAY))
        .await
        .unwrap();
    assert_eq!((r.runs, r.dedupe_keys), (0, 2));
    assert_eq!(runs(&f).await, [open]);
    let (status, again) = deliver(&f, "evt_old").await;
    assert_eq!(status, 202);
    assert_ne!(again, done);
}
