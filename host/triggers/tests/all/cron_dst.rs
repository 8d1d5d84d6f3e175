//! Fire times across daylight saving changes, Vixie cron's rules, exact
//! instants.
//!
//! Europe/Paris 2026: 2026-03-29 01:00Z, 02:00 CET jumps to 03:00 CEST;
//! 2026-10-25 01:00Z, 03:00 CEST falls back to 02:00 CET.
//! America/New_York 2026: 2026-03-08 07:00Z, 02:00 EST jumps to 03:00 EDT;
//! 2026-11-01 06:00Z, 02:00 EDT falls back to 01:00 EST.

use relais_triggers::cron::DstRule;

use super::{at, fires, next_utc, pairs, schedule};

#[test]
fn paris_fixed_time_in_the_skipped_hour_runs_once_at_the_change() {
    let job = schedule("30 2 * * *", "Europe/Paris");
    assert_eq!(job.dst_rule(), DstRule::FixedTime);
    assert_eq!(
        fires(&job, "2026-03-27T12:00:00Z", "2026-03-30T12:00:00Z"),
        pairs(&[
            ("2026-03-28T01:30:00Z", "2026-03-28T02:30:00+01:00"),
            ("2026-03-29T01:00:00Z", "2026-03-29T03:00:00+02:00"),
            ("2026-03-30T00:30:00Z", "2026-03-30T02:30:00+02:00"),
        ])
    );
    let moved = job.next_after(at("2026-03-28T12:00:00Z")).unwrap();
    assert_eq!(moved.matched().to_string(), "2026-03-29 02:30:00");
    assert_eq!(moved.local().to_string(), "2026-03-29 03:00:00 CEST");
}

#[test]
fn paris_several_skipped_times_make_one_fire() {
    // 02:00 and 02:30 are both skipped: one fire at the change.
    let job = schedule("0,30 2 * * *", "Europe/Paris");
    assert_eq!(
        fires(&job, "2026-03-28T12:00:00Z", "2026-03-30T12:00:00Z"),
        pairs(&[
            ("2026-03-29T01:00:00Z", "2026-03-29T03:00:00+02:00"),
            ("2026-03-30T00:00:00Z", "2026-03-30T02:00:00+02:00"),
            ("2026-03-30T00:30:00Z", "2026-03-30T02:30:00+02:00"),
        ])
    );
    // A skipped 02:00 and a real 03:00 land on the same instant: one slot.
    let job = schedule("0 2,3 * * *", "Europe/Paris");
    assert_eq!(
        fires(&job, "2026-03-28T12:00:00Z", "2026-03-30T12:00:00Z"),
        pairs(&[
            ("2026-03-29T01:00:00Z", "2026-03-29T03:00:00+02:00"),
            ("2026-03-30T00:00:00Z", "2026-03-30T02:00:00+02:00"),
            ("2026-03-30T01:00:00Z", "2026-03-30T03:00:00+02:00"),
        ])
    );
}

#[test]
fn paris_fixed_time_in_the_repeated_hour_runs_once_at_the_first_occurrence() {
    let job = schedule("30 2 * * *", "Europe/Paris");
    assert_eq!(
        fires(&job, "2026-10-24T12:00:00Z", "2026-10-26T12:00:00Z"),
        pairs(&[
            ("2026-10-25T00:30:00Z", "2026-10-25T02:30:00+02:00"),
            ("2026-10-26T01:30:00Z", "2026-10-26T02:30:00+01:00"),
        ])
    );
    // Asked from within the second 02:xx, it does not run again that day.
    assert_eq!(
        next_utc(&job, "2026-10-25T01:10:00Z", 1),
        ["2026-10-26T01:30:00Z"]
    );
    // Asked from the first 02:xx before 02:30, it is still ahead.
    assert_eq!(
        next_utc(&job, "2026-10-25T00:10:00Z", 1),
        ["2026-10-25T00:30:00Z"]
    );
    // An hour range is fixed-time too: 02:00 once, then 03:00 CET.
    let job = schedule("0 1-3 * * *", "Europe/Paris");
    assert_eq!(
        fires(&job, "2026-10-24T22:00:00Z", "2026-10-25T12:00:00Z"),
        pairs(&[
            ("2026-10-24T23:00:00Z", "2026-10-25T01:00:00+02:00"),
            ("2026-10-25T00:00:00Z", "2026-10-25T02:00:00+02:00"),
            ("2026-10-25T02:00:00Z", "2026-10-25T03:00:00+01:00"),
        ])
    );
}

#[test]
fn paris_wildcard_jobs_run_at_every_real_instant() {
    let job = schedule("*/15 * * * *", "Europe/Paris");
    assert_eq!(job.dst_rule(), DstRule::Wildcard);
    // Spring: nothing reads 02:xx, so nothing fires then.
    assert_eq!(
        fires(&job, "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"),
        pairs(&[
            ("2026-03-29T00:45:00Z", "2026-03-29T01:45:00+01:00"),
            ("2026-03-29T01:00:00Z", "2026-03-29T03:00:00+02:00"),
            ("2026-03-29T01:15:00Z", "2026-03-29T03:15:00+02:00"),
            ("2026-03-29T01:30:00Z", "2026-03-29T03:30:00+02:00"),
        ])
    );
    // Autumn: every quarter hour of real time, 02:xx twice.
    assert_eq!(
        fires(&job, "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z"),
        pairs(&[
            ("2026-10-25T00:45:00Z", "2026-10-25T02:45:00+02:00"),
            ("2026-10-25T01:00:00Z", "2026-10-25T02:00:00+01:00"),
            ("2026-10-25T01:15:00Z", "2026-10-25T02:15:00+01:00"),
            ("2026-10-25T01:30:00Z", "2026-10-25T02:30:00+01:00"),
            ("2026-10-25T01:45:00Z", "2026-10-25T02:45:00+01:00"),
            ("2026-10-25T02:00:00Z", "2026-10-25T03:00:00+01:00"),
        ])
    );
    // From late in the first 02:xx, the next fire is the start of the
    // second, not 03:00.
    assert_eq!(
        next_utc(&job, "2026-10-25T00:50:00Z", 2),
        ["2026-10-25T01:00:00Z", "2026-10-25T01:15:00Z"]
    );
    // A wildcard hour with a fixed minute fires in both 02:30s.
    let job = schedule("30 * * * *", "Europe/Paris");
    assert_eq!(
        fires(&job, "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"),
        pairs(&[
            ("2026-10-25T00:30:00Z", "2026-10-25T02:30:00+02:00"),
            ("2026-10-25T01:30:00Z", "2026-10-25T02:30:00+01:00"),
        ])
    );
    // A wildcard minute in the skipped hour does not fire that day.
    let job = schedule("*/5 2 * * *", "Europe/Paris");
    assert_eq!(
        next_utc(&job, "2026-03-28T12:00:00Z", 1),
        ["2026-03-30T00:00:00Z"]
    );
}

#[test]
fn new_york_fixed_time_across_both_changes() {
    let job = schedule("30 2 * * *", "America/New_York");
    assert_eq!(
        fires(&job, "2026-03-07T00:00:00Z", "2026-03-09T12:00:00Z"),
        pairs(&[
            ("2026-03-07T07:30:00Z", "2026-03-07T02:30:00-05:00"),
            ("2026-03-08T07:00:00Z", "2026-03-08T03:00:00-04:00"),
            ("2026-03-09T06:30:00Z", "2026-03-09T02:30:00-04:00"),
        ])
    );
    let job = schedule("30 1 * * *", "America/New_York");
    assert_eq!(
        fires(&job, "2026-10-31T00:00:00Z", "2026-11-02T12:00:00Z"),
        pairs(&[
            ("2026-10-31T05:30:00Z", "2026-10-31T01:30:00-04:00"),
            ("2026-11-01T05:30:00Z", "2026-11-01T01:30:00-04:00"),
            ("2026-11-02T06:30:00Z", "2026-11-02T01:30:00-05:00"),
        ])
    );
}

#[test]
fn new_york_wildcard_across_both_changes() {
    let job = schedule("*/30 * * * *", "America/New_York");
    assert_eq!(
        fires(&job, "2026-03-08T06:00:00Z", "2026-03-08T07:30:00Z"),
        pairs(&[
            ("2026-03-08T06:30:00Z", "2026-03-08T01:30:00-05:00"),
            ("2026-03-08T07:00:00Z", "2026-03-08T03:00:00-04:00"),
            ("2026-03-08T07:30:00Z", "2026-03-08T03:30:00-04:00"),
        ])
    );
    assert_eq!(
        fires(&job, "2026-11-01T04:45:00Z", "2026-11-01T07:00:00Z"),
        pairs(&[
            ("2026-11-01T05:00:00Z", "2026-11-01T01:00:00-04:00"),
            ("2026-11-01T05:30:00Z", "2026-11-01T01:30:00-04:00"),
            ("2026-11-01T06:00:00Z", "2026-11-01T01:00:00-05:00"),
            ("2026-11-01T06:30:00Z", "2026-11-01T01:30:00-05:00"),
            ("2026-11-01T07:00:00Z", "2026-11-01T02:00:00-05:00"),
        ])
    );
}

#[test]
fn hours_in_a_day_of_change() {
    let count = |expression: &str, zone: &str, after: &str, until: &str| {
        schedule(expression, zone)
            .fires_between(at(after), at(until))
            .count()
    };
    // Paris days run 22:00Z/23:00Z to 22:00Z/23:00Z.
    let spring = ("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z");
    let autumn = ("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z");
    // Exclusive start: shift back a second to count the midnight fire.
    let back = |instant: &str| (at(instant) - chrono::TimeDelta::seconds(1)).to_rfc3339();
    let day = |expression, (from, to): (&str, &str)| {
        count(expression, "Europe/Paris", &back(from), &back(to))
    };
    assert_eq!(day("0 * * * *", spring), 23);
    assert_eq!(day("0 * * * *", autumn), 25);
    assert_eq!(day("* * * * *", spring), 23 * 60);
    assert_eq!(day("* * * * *", autumn), 25 * 60);
    // The same hours written as a range are fixed-time: 02:00 is skipped
    // into 03:00 in spring and runs once in autumn.
    assert_eq!(day("0 0-23 * * *", spring), 23);
    assert_eq!(day("0 0-23 * * *", autumn), 24);
}

#[test]
fn fires_strictly_increase_through_a_year_of_changes() {
    let expressions = [
        "30 2 * * *",
        "0,30 2 * * *",
        "*/15 * * * *",
        "30 * * * *",
        "0 1-3 * * *",
        "*/7 1,2 * 3,10,11 0",
        "59 1 * * *",
        "0 0 * * *",
    ];
    for zone in [
        "Europe/Paris",
        "America/New_York",
        "Australia/Lord_Howe",
        "UTC",
    ] {
        for expression in expressions {
            let job = schedule(expression, zone);
            let mut previous = at("2025-12-31T00:00:00Z");
            for fire in job.fires_between(previous, at("2027-01-01T00:00:00Z")) {
                assert!(fire.at() > previous, "{expression} in {zone} at {fire}");
                previous = fire.at();
            }
        }
    }
}

#[test]
fn a_whole_skipped_day_moves_a_fixed_job_to_the_next_real_instant() {
    // Samoa skipped 2011-12-30: 23:59:59 on the 29th (-10:00) was followed
    // by 00:00 on the 31st (+14:00).
    let job = schedule("0 12 30 12 *", "Pacific/Apia");
    assert_eq!(
        fires(&job, "2011-12-29T00:00:00Z", "2011-12-31T00:00:00Z"),
        pairs(&[("2011-12-30T10:00:00Z", "2011-12-31T00:00:00+14:00")])
    );
    let hourly = schedule("0 * * * *", "Pacific/Apia");
    assert_eq!(
        next_utc(&hourly, "2011-12-30T09:30:00Z", 2),
        ["2011-12-30T10:00:00Z", "2011-12-30T11:00:00Z"]
    );
}

#[test]
fn times_are_formatted_in_rfc_3339_in_both_zones() {
    let job = schedule("30 2 * * *", "Europe/Paris");
    let fires = job.next_n(at("2026-03-28T12:00:00Z"), 2);
    assert_eq!(fires.len(), 2);
    assert_eq!(fires[0].local_rfc3339(), "2026-03-29T03:00:00+02:00");
    assert_eq!(fires[0].utc_rfc3339(), "2026-03-29T01:00:00Z");
    assert_eq!(
        fires[0].to_string(),
        "2026-03-29T03:00:00+02:00 (2026-03-29T01:00:00Z)"
    );
    assert_eq!(
        fires[1].slot_key("nightly-backup"),
        "nightly-backup@2026-03-30T00:30:00Z"
    );
    assert!(job.next_n(at("2026-03-28T12:00:00Z"), 0).is_empty());
}

#[test]
fn after_is_strict_to_the_second() {
    let job = schedule("30 * * * *", "UTC");
    let before = at("2026-05-01T10:29:59.500Z");
    assert_eq!(
        job.next_after(before).unwrap().utc_rfc3339(),
        "2026-05-01T10:30:00Z"
    );
    assert_eq!(
        job.next_after(at("2026-05-01T10:30:00Z"))
            .unwrap()
            .utc_rfc3339(),
        "2026-05-01T11:30:00Z"
    );
    assert_eq!(
        job.next_after(at("2026-05-01T10:30:00.001Z"))
            .unwrap()
            .utc_rfc3339(),
        "2026-05-01T11:30:00Z"
    );
    // fires_between excludes its start and includes its end.
    assert_eq!(
        fires(&job, "2026-05-01T10:30:00Z", "2026-05-01T12:30:00Z"),
        pairs(&[
            ("2026-05-01T11:30:00Z", "2026-05-01T11:30:00+00:00"),
            ("2026-05-01T12:30:00Z", "2026-05-01T12:30:00+00:00"),
        ])
    );
    assert!(fires(&job, "2026-05-01T12:30:00Z", "2026-05-01T10:30:00Z").is_empty());
}

#[test]
fn the_end_of_the_calendar_gives_no_fire_rather_than_a_panic() {
    let daily = schedule("0 0 * * *", "Europe/Paris");
    assert_eq!(
        next_utc(&daily, "4999-12-30T00:00:00Z", 1),
        ["4999-12-30T23:00:00Z"]
    );
    assert!(daily.next_after(at("9999-12-31T00:00:00Z")).is_none());
    assert!(daily.next_n(at("9999-12-30T00:00:00Z"), 3).is_empty());
    let plan = daily.plan(
        Some(at("9999-12-30T00:00:00Z")),
        at("9999-12-31T00:00:00Z"),
        &relais_triggers::cron::CatchUp::default(),
    );
    assert!(plan.fire_now.is_empty() && plan.next.is_none());
}
