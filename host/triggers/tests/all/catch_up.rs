//! The catch-up planner.

use chrono::TimeDelta;
use relais_triggers::cron::{CatchUp, CatchUpPolicy, Plan, ScheduleError};

use super::{at, schedule};

fn utc(plan: &Plan) -> Vec<String> {
    plan.fire_now
        .iter()
        .map(|fire| fire.utc_rfc3339())
        .collect()
}

fn next(plan: &Plan) -> String {
    plan.next.expect("a next slot").utc_rfc3339()
}

fn policy(policy: CatchUpPolicy) -> CatchUp {
    CatchUp::with_policy(policy)
}

#[test]
fn the_slot_the_scheduler_woke_for_fires_under_every_policy() {
    let hourly = schedule("0 * * * *", "UTC");
    for chosen in [
        CatchUpPolicy::None,
        CatchUpPolicy::Latest,
        CatchUpPolicy::All,
    ] {
        let plan = hourly.plan(
            Some(at("2026-05-01T10:00:00Z")),
            at("2026-05-01T11:00:00.250Z"),
            &policy(chosen),
        );
        assert_eq!(utc(&plan), ["2026-05-01T11:00:00Z"], "{chosen}");
        assert_eq!((plan.dropped, plan.dropped_exact), (0, true), "{chosen}");
        assert_eq!(next(&plan), "2026-05-01T12:00:00Z", "{chosen}");
    }
}

#[test]
fn policies_differ_on_missed_slots() {
    let hourly = schedule("0 * * * *", "UTC");
    let last = Some(at("2026-05-01T10:00:00Z"));
    let now = at("2026-05-01T15:30:00Z");

    let latest = hourly.plan(last, now, &CatchUp::default());
    assert_eq!(utc(&latest), ["2026-05-01T15:00:00Z"]);
    assert_eq!(latest.dropped, 4);
    assert_eq!(next(&latest), "2026-05-01T16:00:00Z");

    let all = hourly.plan(last, now, &policy(CatchUpPolicy::All));
    assert_eq!(
        utc(&all),
        [
            "2026-05-01T11:00:00Z",
            "2026-05-01T12:00:00Z",
            "2026-05-01T13:00:00Z",
            "2026-05-01T14:00:00Z",
            "2026-05-01T15:00:00Z",
        ]
    );
    assert_eq!(all.dropped, 0);

    // 15:00 is 30 minutes late: missed, not on time.
    let none = hourly.plan(last, now, &policy(CatchUpPolicy::None));
    assert!(none.fire_now.is_empty());
    assert_eq!(none.dropped, 5);
    assert_eq!(next(&none), "2026-05-01T16:00:00Z");
}

#[test]
fn policy_none_fires_a_slot_only_within_the_grace() {
    let hourly = schedule("0 * * * *", "UTC");
    let last = Some(at("2026-05-01T10:00:00Z"));
    let none = policy(CatchUpPolicy::None);
    assert_eq!(none.grace, TimeDelta::seconds(60));
    let on_time = hourly.plan(last, at("2026-05-01T11:01:00Z"), &none);
    assert_eq!(utc(&on_time), ["2026-05-01T11:00:00Z"]);
    let late = hourly.plan(last, at("2026-05-01T11:01:01Z"), &none);
    assert!(late.fire_now.is_empty());
    assert_eq!(late.dropped, 1);
    let patient = CatchUp {
        grace: TimeDelta::minutes(10),
        ..none
    };
    let within = hourly.plan(last, at("2026-05-01T11:09:59Z"), &patient);
    assert_eq!(utc(&within), ["2026-05-01T11:00:00Z"]);
}

#[test]
fn policy_all_is_capped_and_keeps_the_newest() {
    let hourly = schedule("0 * * * *", "UTC");
    let capped = CatchUp {
        max_fires: 3,
        ..policy(CatchUpPolicy::All)
    };
    let plan = hourly.plan(
        Some(at("2026-05-01T10:00:00Z")),
        at("2026-05-01T15:30:00Z"),
        &capped,
    );
    assert_eq!(
        utc(&plan),
        [
            "2026-05-01T13:00:00Z",
            "2026-05-01T14:00:00Z",
            "2026-05-01T15:00:00Z",
        ]
    );
    assert_eq!((plan.dropped, plan.dropped_exact), (2, true));
    // Exactly at the cap: nothing dropped.
    let plan = hourly.plan(
        Some(at("2026-05-01T12:00:00Z")),
        at("2026-05-01T15:00:00Z"),
        &capped,
    );
    assert_eq!(utc(&plan).len(), 3);
    assert_eq!(plan.dropped, 0);
    assert_eq!(CatchUp::default().max_fires, 100);
}

#[test]
fn never_fires_at_or_before_the_last_slot() {
    let hourly = schedule("0 * * * *", "UTC");
    // No starting point: nothing before now is due.
    let fresh = hourly.plan(None, at("2026-05-01T15:30:00Z"), &CatchUp::default());
    assert!(fresh.fire_now.is_empty());
    assert_eq!(fresh.dropped, 0);
    assert_eq!(next(&fresh), "2026-05-01T16:00:00Z");
    // Now is the last slot itself.
    let same = hourly.plan(
        Some(at("2026-05-01T15:00:00Z")),
        at("2026-05-01T15:00:00Z"),
        &policy(CatchUpPolicy::All),
    );
    assert!(same.fire_now.is_empty());
    assert_eq!(next(&same), "2026-05-01T16:00:00Z");
    // The clock went back behind the last slot.
    let behind = hourly.plan(
        Some(at("2026-05-01T15:00:00Z")),
        at("2026-05-01T13:30:00Z"),
        &policy(CatchUpPolicy::All),
    );
    assert!(behind.fire_now.is_empty());
    assert_eq!(next(&behind), "2026-05-01T16:00:00Z");
}

#[test]
fn invariants_hold_over_a_sweep_of_inputs() {
    let jobs = [
        schedule("*/20 * * * *", "Europe/Paris"),
        schedule("30 2 * * *", "Europe/Paris"),
        schedule("0 9 * * 1-5", "America/New_York"),
    ];
    let base = at("2026-03-27T00:00:00Z");
    for job in &jobs {
        for last_step in 0..15 {
            let last = base + TimeDelta::minutes(last_step * 397);
            for now_step in 0..15 {
                let now = base + TimeDelta::minutes(now_step * 331);
                for chosen in [
                    CatchUpPolicy::None,
                    CatchUpPolicy::Latest,
                    CatchUpPolicy::All,
                ] {
                    let plan = job.plan(Some(last), now, &policy(chosen));
                    let due = job.fires_between(last, now).count() as u64;
                    assert_eq!(plan.dropped + plan.fire_now.len() as u64, due);
                    let mut previous = last;
                    for fire in &plan.fire_now {
                        assert!(fire.at() > previous && fire.at() <= now);
                        previous = fire.at();
                    }
                    let next = plan.next.unwrap().at();
                    assert!(next > now && next > last);
                    assert_eq!(Some(next), job.next_after(now.max(last)).map(|f| f.at()));
                }
            }
        }
    }
}

#[test]
fn a_skipped_daylight_saving_slot_is_caught_like_any_other() {
    let job = schedule("30 2 * * *", "Europe/Paris");
    let plan = job.plan(
        Some(at("2026-03-28T01:30:00Z")),
        at("2026-03-29T01:00:05Z"),
        &policy(CatchUpPolicy::None),
    );
    assert_eq!(utc(&plan), ["2026-03-29T01:00:00Z"]);
    assert_eq!(
        plan.fire_now[0].local_rfc3339(),
        "2026-03-29T03:00:00+02:00"
    );
    assert_eq!(next(&plan), "2026-03-30T00:30:00Z");
}

#[test]
fn a_long_outage_is_bounded() {
    let every_minute = schedule("* * * * *", "UTC");
    let now = at("2026-05-01T12:00:00Z");

    // Just under the counting limit: exact.
    let plan = every_minute.plan(
        Some(now - TimeDelta::minutes(99_999)),
        now,
        &CatchUp::default(),
    );
    assert_eq!(utc(&plan), ["2026-05-01T12:00:00Z"]);
    assert_eq!((plan.dropped, plan.dropped_exact), (99_998, true));

    // Exactly at the limit, and just over it: still exact, and the newest
    // slots are kept across the two ways of counting.
    let plan = every_minute.plan(
        Some(now - TimeDelta::minutes(100_000)),
        now,
        &CatchUp::default(),
    );
    assert_eq!(utc(&plan), ["2026-05-01T12:00:00Z"]);
    assert_eq!((plan.dropped, plan.dropped_exact), (99_999, true));
    let plan = every_minute.plan(
        Some(now - TimeDelta::minutes(100_030)),
        now,
        &policy(CatchUpPolicy::All),
    );
    assert_eq!(plan.fire_now.len(), 100);
    assert_eq!(plan.fire_now[0].utc_rfc3339(), "2026-05-01T10:21:00Z");
    assert_eq!(plan.fire_now[99].utc_rfc3339(), "2026-05-01T12:00:00Z");
    assert_eq!((plan.dropped, plan.dropped_exact), (99_930, true));

    // Far over it: the newest slots still fire, the count is a lower bound.
    let plan = every_minute.plan(
        Some(now - TimeDelta::days(400)),
        now,
        &policy(CatchUpPolicy::All),
    );
    assert_eq!(plan.fire_now.len(), 100);
    assert_eq!(plan.fire_now[0].utc_rfc3339(), "2026-05-01T10:21:00Z");
    assert_eq!(plan.fire_now[99].utc_rfc3339(), "2026-05-01T12:00:00Z");
    assert!(!plan.dropped_exact);
    assert!(plan.dropped >= 100_000, "{}", plan.dropped);
    assert!(plan.dropped < 400 * 24 * 60);
    assert_eq!(next(&plan), "2026-05-01T12:01:00Z");
}

#[test]
fn policies_are_named_as_in_workflow_files() {
    assert_eq!(CatchUpPolicy::default(), CatchUpPolicy::Latest);
    for chosen in [
        CatchUpPolicy::None,
        CatchUpPolicy::Latest,
        CatchUpPolicy::All,
    ] {
        assert_eq!(chosen.name().parse::<CatchUpPolicy>(), Ok(chosen));
        assert_eq!(chosen.to_string(), chosen.name());
    }
    for bad in ["Latest", "", "every", "none "] {
        assert_eq!(
            bad.parse::<CatchUpPolicy>(),
            Err(ScheduleError::UnknownCatchUpPolicy {
                name: bad.to_owned()
            })
        );
    }
}
