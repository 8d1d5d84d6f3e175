//! One parser for cron text: validation, the API's next fires and the
//! scheduler agree with `relais_triggers::cron` (what `relais cron next`
//! prints, held against the binary in the e2e tests) on every expression of
//! `host/triggers/tests/expressions.txt`.

use axum::body::Body;
use axum::http::Request;
use chrono::{DateTime, Utc};
use relais_server::auth;
use relais_server::cron::Scheduler;
use relais_store::{RunFilter, Timestamp};
use relais_triggers::cron::{Schedule, agreement_expressions};
use relais_workflow::model::Trigger;
use relais_workflow::schedule::Timezone;
use relais_workflow::{Catalog, parse_workflow};
use serde_json::json;

use crate::Fixture;

const ZONE: &str = "Europe/Paris";
/// Fires compared per expression.
const FIRES: usize = 6;

fn workflow(expr: &str) -> String {
    format!(
        "id: sched\ntrigger:\n  cron: {expr:?}\n  timezone: {ZONE}\n  catch_up: all\nsteps:\n  - id: a\n    uses: http/request\n"
    )
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// Starts just before Paris springs forward, and just before it falls back.
const STARTS: [&str; 2] = ["2026-03-28T23:40:00Z", "2026-10-24T23:40:00Z"];

#[test]
fn validation_accepts_what_the_scheduler_fires_and_agrees_on_when() {
    let catalog = Catalog::new()
        .with_step("http", "request", json!({ "type": "object" }))
        .unwrap();
    let paris = Timezone::parse(ZONE).unwrap();
    for expr in agreement_expressions() {
        let fired = Schedule::parse(expr, ZONE);
        let validated = parse_workflow("sched.yaml", workflow(expr), &catalog);
        match (&fired, &validated) {
            (Ok(schedule), Ok(w)) => {
                let Trigger::Cron(cron) = &w.trigger else {
                    panic!("{expr}: not a cron trigger");
                };
                for start in STARTS {
                    let want: Vec<_> = schedule
                        .next_n(at(start), FIRES)
                        .iter()
                        .map(|f| f.at())
                        .collect();
                    let mut got = Vec::new();
                    let mut cursor = at(start);
                    while got.len() < FIRES {
                        let Some(next) = cron.schedule.next_after(cursor, paris) else {
                            break;
                        };
                        got.push(next);
                        cursor = next;
                    }
                    assert_eq!(got, want, "{expr} from {start}");
                }
            }
            (Err(_), Err(_)) => {}
            (fired, validated) => panic!(
                "{expr}: the scheduler says {:?}, validation says {:?}",
                fired.as_ref().map(|_| "ok"),
                validated.as_ref().map(|_| "ok")
            ),
        }
    }
}

#[tokio::test]
async fn the_api_and_the_scheduler_fire_what_the_schedule_says() {
    for expr in agreement_expressions() {
        let Ok(schedule) = Schedule::parse(expr, ZONE) else {
            continue;
        };
        let text = workflow(expr);
        let f = Fixture::with(&[("sched", &text)]).await;

        // The API's next fires, from now.
        let token = auth::create_token(&f.store, "ci").await.unwrap();
        let local = |after: DateTime<Utc>| -> Vec<String> {
            schedule
                .next_n(after, 5)
                .iter()
                .map(|f| f.local_rfc3339())
                .collect()
        };
        let before = local(Utc::now());
        let request = Request::get("/api/v1/workflows/sched")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let (status, answer) = f.send(request).await;
        let after = local(Utc::now());
        assert_eq!(status, 200, "{expr}: {answer}");
        let shown: Vec<String> = serde_json::from_value(answer["next_fires"].clone()).unwrap();
        assert!(shown == before || shown == after, "{expr}: {shown:?}");

        // The scheduler, woken at each fire across both clock changes,
        // fires exactly those slots (catch-up `all` would fire any other
        // slot it found in between).
        let scheduler = Scheduler::new(
            f.store.clone(),
            f.state.backend.clone(),
            &f.state.workflows,
            chrono_tz::UTC,
        );
        // (A slow schedule's fires from both starts overlap.)
        let mut want = std::collections::BTreeSet::new();
        for start in STARTS {
            let armed = Timestamp::from_millis(at(start).timestamp_millis() as u64);
            f.store.set_cron_last("sched", armed).await.unwrap();
            for fire in schedule.next_n(at(start), FIRES) {
                scheduler.tick(fire.at()).await.unwrap();
                want.insert(fire.utc_rfc3339());
            }
        }
        let want: Vec<String> = want.into_iter().collect();
        assert_eq!(fired_slots(&f).await, want, "{expr}");
    }
}

async fn fired_slots(f: &Fixture) -> Vec<String> {
    let filter = RunFilter {
        workflow_id: Some("sched".to_owned()),
        status: None,
    };
    let page = f.store.list_runs(&filter, None, 1000).await.unwrap();
    let mut slots = Vec::new();
    for r in page.runs {
        let d = f.store.run_detail(r.id).await.unwrap().unwrap();
        slots.push(d.payload["scheduled_at"].as_str().unwrap().to_owned());
    }
    slots.sort();
    slots
}
