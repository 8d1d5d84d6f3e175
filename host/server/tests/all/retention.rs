//! Retention: old finished runs go, recent ones and unfinished ones stay.

use std::time::Duration;

use chrono::Utc;
use relais_server::retention::{Retention, prune_once};
use relais_store::{RunFilter, RunId, Timestamp};

use crate::Fixture;
use crate::hooks::stripe_request;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

async fn deliver(f: &Fixture, event: &str) -> (u16, RunId) {
    let body = format!(r#"{{"id":"{event}"}}"#);
    let (status, answer) = f
        .send(stripe_request(&body, crate::STRIPE_SECRET, Utc::now()))
        .await;
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
    // stays whatever its age, and dedupe keys (7 days) are still kept.
    let r = prune_once(&f.store, &keep_day, now.saturating_add(2 * DAY))
        .await
        .unwrap();
    assert_eq!(r.runs, 1);
    assert_eq!(runs(&f).await, [open]);
    assert!(f.store.run(done).await.unwrap().is_none());
    let (status, again) = deliver(&f, "evt_old").await;
    assert_eq!(
        (status, again),
        (200, done),
        "the key still answers its run"
    );

    // `forever` keeps runs. This workflow's dedupe keys have no window, so
    // they guard for ever too (expiry itself is the store's own test).
    let forever = Retention {
        keep_runs: None,
        every: HOUR,
    };
    let r = prune_once(&f.store, &forever, now.saturating_add(300 * DAY))
        .await
        .unwrap();
    assert_eq!((r.runs, r.dedupe_keys), (0, 0));
    assert_eq!(runs(&f).await, [open]);
    assert_eq!(deliver(&f, "evt_old").await, (200, done));
}
