use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use relais_engine::{Engine, EngineConfig, Plugins, Workflows};
use relais_server::Backend;
use relais_server::cron::Scheduler;
use relais_store::RunFilter;
use relais_workflow::{Catalog, parse_workflow};
use serde_json::json;

use crate::Fixture;

async fn registry(f: &Fixture, catch_up: &str) -> Arc<Workflows> {
    let text = format!(
        "id: tick\ntrigger:\n  cron: \"*/10 * * * *\"\n  timezone: Europe/Paris\n  catch_up: {catch_up}\nsteps:\n  - id: a\n    uses: http/request\n"
    );
    let catalog = Catalog::new()
        .with_step("http", "request", json!({ "type": "object" }))
        .unwrap();
    let workflow = parse_workflow("tick.yaml", &text, &catalog).unwrap();
    Arc::new(
        Workflows::from_workflows([workflow], &f.store)
            .await
            .unwrap(),
    )
}

/// A scheduler submitting through an engine that is not started: the runs
/// it creates stay queued.
fn scheduler(f: &Fixture, workflows: &Arc<Workflows>) -> Scheduler {
    let engine = Engine::new(
        f.store.clone(),
        workflows.clone(),
        Arc::new(Plugins::default()),
        EngineConfig::default(),
    );
    let backend: Arc<dyn Backend> = Arc::new(engine);
    Scheduler::new(f.store.clone(), backend, workflows, chrono_tz::UTC)
}

async fn slots(f: &Fixture) -> Vec<String> {
    let page = f
        .store
        .list_runs(&RunFilter::default(), None, 1000)
        .await
        .unwrap();
    let mut out = Vec::new();
    for r in page.runs {
        let d = f.store.run_detail(r.id).await.unwrap().unwrap();
        out.push(d.payload["scheduled_at"].as_str().unwrap().to_owned());
    }
    out.sort();
    out
}

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, h, m, s).unwrap()
}

#[tokio::test]
async fn fires_once_per_slot_across_restarts() {
    let f = Fixture::new().await;
    let workflows = registry(&f, "latest").await;
    let s = scheduler(&f, &workflows);
    // Armed at 08:05; the next slot is 08:10, looked at again within a minute.
    let wake = s.tick(at(8, 5, 0)).await.unwrap();
    assert_eq!(wake, at(8, 6, 0));
    assert_eq!(s.tick(at(8, 9, 30)).await.unwrap(), at(8, 10, 0));
    assert!(slots(&f).await.is_empty());
    s.tick(at(8, 9, 59)).await.unwrap();
    assert!(slots(&f).await.is_empty());
    s.tick(at(8, 10, 0)).await.unwrap();
    s.tick(at(8, 10, 1)).await.unwrap();
    assert_eq!(slots(&f).await, ["2026-03-02T08:10:00Z"]);
    // A new scheduler (a restart) does not fire the slot again.
    let restarted = scheduler(&f, &workflows);
    restarted.tick(at(8, 10, 2)).await.unwrap();
    assert_eq!(slots(&f).await, ["2026-03-02T08:10:00Z"]);
    // Down from 08:10 to 08:45: `latest` fires 08:40 only.
    restarted.tick(at(8, 45, 0)).await.unwrap();
    assert_eq!(
        slots(&f).await,
        ["2026-03-02T08:10:00Z", "2026-03-02T08:40:00Z"]
    );
}

#[tokio::test]
async fn catch_up_all_and_none() {
    let f = Fixture::new().await;
    let workflows = registry(&f, "all").await;
    let s = scheduler(&f, &workflows);
    s.tick(at(8, 5, 0)).await.unwrap();
    s.tick(at(8, 31, 0)).await.unwrap();
    assert_eq!(
        slots(&f).await,
        [
            "2026-03-02T08:10:00Z",
            "2026-03-02T08:20:00Z",
            "2026-03-02T08:30:00Z"
        ]
    );

    let g = Fixture::new().await;
    let workflows = registry(&g, "none").await;
    let s = scheduler(&g, &workflows);
    s.tick(at(8, 5, 0)).await.unwrap();
    s.tick(at(8, 45, 0)).await.unwrap();
    assert!(slots(&g).await.is_empty());
    // On time (within the grace): fires.
    s.tick(at(8, 50, 30)).await.unwrap();
    assert_eq!(slots(&g).await, ["2026-03-02T08:50:00Z"]);
}
