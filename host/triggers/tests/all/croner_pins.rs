//! What croner 4 does on its own, pinned so that an upgrade that changes it
//! is noticed. Each pin explains a choice in `src/cron/expr.rs`: where
//! croner's default differs from Vixie cron, the schedule configures or
//! wraps it, and the matching test on [`Schedule`] shows the result.
//!
//! [`Schedule`]: relais_triggers::cron::Schedule

use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Europe::Paris;
use croner::parser::{CronParser, Seconds, Year};
use croner::{Cron, JobType};

use super::{next_utc, schedule};

fn start_of_2026() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .unwrap()
}

fn dates(cron: &Cron, n: usize) -> Vec<String> {
    cron.iter_after(start_of_2026())
        .take(n)
        .map(|time| time.format("%m-%d").to_string())
        .collect()
}

#[test]
fn croner_ors_a_stepped_day_of_month_with_a_weekday() {
    // Vixie cron counts `*/2` as unrestricted and ANDs: odd Mondays only.
    let default = Cron::from_str("0 0 */2 * 1").unwrap();
    assert_eq!(dates(&default, 4), ["01-03", "01-05", "01-07", "01-09"]);
    let anded = CronParser::builder()
        .dom_and_dow(true)
        .build()
        .parse("0 0 */2 * 1")
        .unwrap();
    assert_eq!(dates(&anded, 2), ["01-05", "01-19"]);
    assert_eq!(
        next_utc(&schedule("0 0 */2 * 1", "UTC"), "2026-01-01T00:00:00Z", 2),
        ["2026-01-05T00:00:00Z", "2026-01-19T00:00:00Z"]
    );
}

#[test]
fn croner_ors_restricted_days_and_reads_0_and_7_as_sunday() {
    let ored = Cron::from_str("0 0 1 * 1").unwrap();
    assert_eq!(
        dates(&ored, 5),
        ["01-05", "01-12", "01-19", "01-26", "02-01"]
    );
    let sunday = Cron::from_str("0 0 * * 7").unwrap();
    assert_eq!(dates(&sunday, 2), ["01-04", "01-11"]);
    let quartz = CronParser::builder()
        .alternative_weekdays(true)
        .build()
        .parse("0 0 0 * * 7")
        .unwrap();
    // Quartz numbering makes 7 Saturday: not what crontab users mean.
    assert_eq!(dates(&quartz, 1), ["01-03"]);
}

#[test]
fn croner_takes_only_single_values_as_fixed_time() {
    // Vixie cron: fixed-time unless the minute or hour starts with `*`.
    assert_eq!(
        Cron::from_str("30 2 * * *").unwrap().determine_job_type(),
        JobType::FixedTime
    );
    let two_times = Cron::from_str("0,30 2 * * *").unwrap();
    assert_eq!(two_times.determine_job_type(), JobType::IntervalWildcard);
    // So with zoned times croner skips 2026-03-29 in Paris entirely...
    let from = Paris.with_ymd_and_hms(2026, 3, 28, 12, 0, 0).unwrap();
    let next = two_times.find_next_occurrence(&from, false).unwrap();
    assert_eq!(next.to_rfc3339(), "2026-03-30T02:00:00+02:00");
    // ...where Vixie cron, and this crate, fire once at the change.
    assert_eq!(
        next_utc(
            &schedule("0,30 2 * * *", "Europe/Paris"),
            "2026-03-28T12:00:00Z",
            1
        ),
        ["2026-03-29T01:00:00Z"]
    );
}

#[test]
fn croner_accepts_seconds_and_years_unless_told_not_to() {
    assert!(Cron::from_str("0 0 0 * * *").is_ok());
    let strict = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build();
    assert!(strict.parse("0 0 0 * * *").is_err());
    assert!(strict.parse("0 0 * * *").is_ok());
}

#[test]
fn croner_lacks_midnight_and_refuses_single_number_steps() {
    assert!(Cron::from_str("@midnight").is_err());
    assert!(Cron::from_str("@daily").is_ok());
    assert!(Cron::from_str("0/10 * * * *").is_err());
}

#[test]
fn croner_reads_names_in_any_case_including_ranges_ending_on_sunday() {
    let weekend = Cron::from_str("0 0 * * fri-SUN").unwrap();
    assert_eq!(dates(&weekend, 4), ["01-02", "01-03", "01-04", "01-09"]);
    let months = Cron::from_str("0 0 1 jan,Jul *").unwrap();
    assert_eq!(dates(&months, 2), ["07-01", "01-01"]);
    // croner swaps names for numbers across the whole line, so a name in
    // the minute field would pass: the schedule checks names per field.
    assert!(Cron::from_str("MON * * * *").is_ok());
    assert!(relais_triggers::cron::Schedule::parse("MON * * * *", "UTC").is_err());
}
