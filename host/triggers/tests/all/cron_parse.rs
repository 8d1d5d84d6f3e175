//! Parsing cron expressions, and what they match on the calendar (UTC, so
//! no clock change is involved).

use relais_triggers::cron::{DstRule, Schedule, ScheduleError};

use super::{next_utc, schedule};

/// The dates (`YYYY-MM-DD`) of the next `n` fires after `after`, in UTC.
fn dates(expression: &str, after: &str, n: usize) -> Vec<String> {
    next_utc(&schedule(expression, "UTC"), after, n)
        .into_iter()
        .map(|instant| instant[..10].to_owned())
        .collect()
}

fn error(expression: &str) -> ScheduleError {
    match Schedule::parse(expression, "UTC") {
        Ok(parsed) => panic!("`{expression}` parsed as `{}`", parsed.fields()),
        Err(error) => error,
    }
}

#[test]
fn macros_expand_to_their_crontab_lines() {
    let cases = [
        ("@yearly", "0 0 1 1 *", DstRule::FixedTime),
        ("@annually", "0 0 1 1 *", DstRule::FixedTime),
        ("@monthly", "0 0 1 * *", DstRule::FixedTime),
        ("@weekly", "0 0 * * 0", DstRule::FixedTime),
        ("@daily", "0 0 * * *", DstRule::FixedTime),
        ("@midnight", "0 0 * * *", DstRule::FixedTime),
        ("@hourly", "0 * * * *", DstRule::Wildcard),
        ("  @HOURLY ", "0 * * * *", DstRule::Wildcard),
    ];
    for (text, fields, rule) in cases {
        let parsed = schedule(text, "UTC");
        assert_eq!(parsed.fields(), fields, "{text}");
        assert_eq!(parsed.dst_rule(), rule, "{text}");
        assert_eq!(parsed.expression(), text.trim());
    }
    assert_eq!(
        next_utc(&schedule("@weekly", "UTC"), "2026-01-01T00:00:00Z", 2),
        ["2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"]
    );
    assert_eq!(
        next_utc(&schedule("@yearly", "UTC"), "2026-01-01T00:00:00Z", 1),
        ["2027-01-01T00:00:00Z"]
    );
}

#[test]
fn unknown_macros_are_refused() {
    for text in ["@reboot", "@every 5m", "@", "@dayly"] {
        assert_eq!(
            error(text),
            ScheduleError::UnknownMacro {
                name: text.to_owned()
            }
        );
    }
    assert_eq!(
        error("@reboot").to_string(),
        "unknown cron macro `@reboot`: expected @yearly, @annually, @monthly, @weekly, @daily, \
         @midnight or @hourly"
    );
}

#[test]
fn exactly_five_fields() {
    assert_eq!(error(""), ScheduleError::Empty);
    assert_eq!(error("  \t "), ScheduleError::Empty);
    for (text, found) in [
        ("* * * *", 4),
        ("0 0 0 * * *", 6),
        ("0 0 0 1 1 * 2026", 7),
        ("0", 1),
    ] {
        assert_eq!(
            error(text),
            ScheduleError::FieldCount {
                expr: text.to_owned(),
                found
            }
        );
    }
    assert_eq!(
        error("0 0 0 * * *").to_string(),
        "cron expression `0 0 0 * * *` has 6 fields, expected 5 \
         (minute hour day-of-month month day-of-week)"
    );
    // Tabs and repeated spaces separate fields too.
    assert_eq!(schedule("0\t9  * *\t1-5", "UTC").fields(), "0 9 * * 1-5");
}

#[test]
fn values_outside_each_field_are_refused_and_named() {
    let cases = [
        ("60 * * * *", "minute", "60"),
        ("* 24 * * *", "hour", "24"),
        ("* * 0 * *", "day-of-month", "0"),
        ("* * 32 * *", "day-of-month", "32"),
        ("* * * 0 *", "month", "0"),
        ("* * * 13 *", "month", "13"),
        ("* * * * 8", "day-of-week", "8"),
        ("5-1 * * * *", "minute", "5-1"),
        ("*/0 * * * *", "minute", "*/0"),
        ("0/10 * * * *", "minute", "0/10"),
        ("1,,2 * * * *", "minute", "1,,2"),
        ("MON * * * *", "minute", "MON"),
        ("0 9 * JANUARY *", "month", "JANUARY"),
        ("0 9 * * MONDAY", "day-of-week", "MONDAY"),
        ("0 9 * MON *", "month", "MON"),
        ("0 9 * * JAN", "day-of-week", "JAN"),
        ("0 9 * * +MON", "day-of-week", "+MON"),
        ("0 9 1? * *", "day-of-month", "1?"),
        ("0 9 * * 1%2", "day-of-week", "1%2"),
        ("0 -1 * * *", "hour", "-1"),
    ];
    for (text, field, value) in cases {
        match error(text) {
            ScheduleError::InvalidField {
                expr,
                field: named,
                value: shown,
                reason,
            } => {
                assert_eq!(expr, text);
                assert_eq!((named, shown.as_str()), (field, value), "{text}: {reason}");
            }
            other => panic!("`{text}`: expected an invalid {field}, got {other:?}"),
        }
    }
    let message = error("0 9 * * MONDAY").to_string();
    assert_eq!(
        message,
        "cron expression `0 9 * * MONDAY`: day-of-week field `MONDAY` has `MONDAY`, \
         which is not a weekday name (SUN to SAT)"
    );
    let message = error("* 24 * * *").to_string();
    assert!(
        message.starts_with("cron expression `* 24 * * *`: hour field `24` is not valid: "),
        "{message}"
    );
}

#[test]
fn expressions_that_never_fire_are_refused_at_parse_time() {
    for text in [
        "0 0 31 2 *",
        "0 0 30 2 *",
        "0 0 31 4,6,9,11 *",
        "0 0 30,31 feb *",
    ] {
        assert_eq!(
            error(text),
            ScheduleError::NeverFires {
                expr: text.to_owned(),
                years: 400
            }
        );
    }
    assert_eq!(
        error("0 0 30 2 *").to_string(),
        "cron expression `0 0 30 2 *` never fires: no date matches in a full 400-year calendar \
         cycle (searched from 2000-01-01); check the day of month against the month"
    );
    // Rare is not never: a leap day, and the 31st of months that have one.
    assert_eq!(
        dates("0 0 29 2 *", "2026-03-01T00:00:00Z", 3),
        ["2028-02-29", "2032-02-29", "2036-02-29"]
    );
    assert_eq!(
        dates("0 0 31 2,3 *", "2026-01-01T00:00:00Z", 2),
        ["2026-03-31", "2027-03-31"]
    );
    // With a restricted weekday the days are ORed, so February 30 does not
    // stop Mondays in February.
    assert_eq!(
        dates("0 0 30 2 1", "2026-01-01T00:00:00Z", 2),
        ["2026-02-02", "2026-02-09"]
    );
}

#[test]
fn time_zones_are_iana_names() {
    for zone in [
        "UTC",
        "Europe/Paris",
        "America/New_York",
        "Asia/Kolkata",
        " Etc/UTC ",
    ] {
        assert!(Schedule::parse("0 9 * * *", zone).is_ok(), "{zone}");
    }
    for zone in ["Europe/Pariss", "CEST+2", "", "europe/paris"] {
        assert_eq!(
            Schedule::parse("0 9 * * *", zone).unwrap_err(),
            ScheduleError::UnknownTimeZone {
                name: zone.to_owned()
            }
        );
    }
}

#[test]
fn weekdays_0_and_7_are_sunday_and_names_work() {
    let sundays = ["2026-01-04", "2026-01-11", "2026-01-18"];
    for text in [
        "0 0 * * 0",
        "0 0 * * 7",
        "0 0 * * SUN",
        "0 0 * * sun",
        "0 0 * * 0,7",
    ] {
        assert_eq!(dates(text, "2026-01-01T00:00:00Z", 3), sundays, "{text}");
    }
    let fri_to_sun = [
        "2026-01-02",
        "2026-01-03",
        "2026-01-04",
        "2026-01-09",
        "2026-01-10",
        "2026-01-11",
    ];
    for text in [
        "0 0 * * 5-7",
        "0 0 * * FRI-SUN",
        "0 0 * * fri-sun",
        "0 0 * * 5,6,0",
    ] {
        assert_eq!(dates(text, "2026-01-01T00:00:00Z", 6), fri_to_sun, "{text}");
    }
    assert_eq!(
        dates("0 0 1 jan,JUL *", "2026-01-01T00:00:00Z", 3),
        ["2026-07-01", "2027-01-01", "2027-07-01"]
    );
}

#[test]
fn weekdays_are_mondays_to_fridays() {
    // The `cron` crate fired this Sunday to Thursday.
    let paris = schedule("0 9 * * 1-5", "Europe/Paris");
    assert_eq!(
        next_utc(&paris, "2026-03-27T12:00:00Z", 6),
        [
            "2026-03-30T07:00:00Z",
            "2026-03-31T07:00:00Z",
            "2026-04-01T07:00:00Z",
            "2026-04-02T07:00:00Z",
            "2026-04-03T07:00:00Z",
            "2026-04-06T07:00:00Z",
        ]
    );
    assert_eq!(
        dates("0 9 * * MON-FRI", "2026-01-02T12:00:00Z", 2),
        ["2026-01-05", "2026-01-06"]
    );
}

#[test]
fn day_of_month_and_day_of_week_are_ored_when_both_are_restricted() {
    // Every 13th and every Friday.
    assert_eq!(
        dates("0 0 13 * 5", "2026-01-31T00:00:00Z", 11),
        [
            "2026-02-06",
            "2026-02-13",
            "2026-02-20",
            "2026-02-27",
            "2026-03-06",
            "2026-03-13",
            "2026-03-20",
            "2026-03-27",
            "2026-04-03",
            "2026-04-10",
            "2026-04-13",
        ]
    );
    assert_eq!(
        dates("0 0 1,15 * MON", "2026-01-31T00:00:00Z", 8),
        [
            "2026-02-01",
            "2026-02-02",
            "2026-02-09",
            "2026-02-15",
            "2026-02-16",
            "2026-02-23",
            "2026-03-01",
            "2026-03-02",
        ]
    );
}

#[test]
fn a_day_field_starting_with_a_star_makes_the_days_anded_as_in_vixie_cron() {
    // `*/2` counts as unrestricted: odd days that are Mondays.
    assert_eq!(
        dates("0 0 */2 * 1", "2025-12-31T00:00:00Z", 6),
        [
            "2026-01-05",
            "2026-01-19",
            "2026-02-09",
            "2026-02-23",
            "2026-03-09",
            "2026-03-23",
        ]
    );
    // And on the weekday side: the 1st, when it is a Sunday, Tuesday,
    // Thursday or Saturday.
    assert_eq!(
        dates("0 0 1 * */2", "2025-12-31T00:00:00Z", 5),
        [
            "2026-01-01",
            "2026-02-01",
            "2026-03-01",
            "2026-08-01",
            "2026-09-01"
        ]
    );
    // `?` is `*`.
    assert_eq!(
        dates("0 0 ? * 1", "2026-01-01T00:00:00Z", 2),
        ["2026-01-05", "2026-01-12"]
    );
}

#[test]
fn crontab_extensions_l_and_hash() {
    assert_eq!(
        dates("0 0 L * *", "2026-01-01T00:00:00Z", 4),
        ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]
    );
    assert_eq!(
        dates("0 0 L 2 *", "2027-03-01T00:00:00Z", 1),
        ["2028-02-29"]
    );
    assert_eq!(
        dates("0 0 * * 5#2", "2025-12-31T00:00:00Z", 3),
        ["2026-01-09", "2026-02-13", "2026-03-13"]
    );
}

#[test]
fn dst_rule_follows_vixie_cron() {
    let fixed = [
        "30 2 * * *",
        "0,30 2 * * *",
        "0 1-3 * * *",
        "0-59 2 * * *",
        "@daily",
    ];
    for text in fixed {
        assert_eq!(
            schedule(text, "UTC").dst_rule(),
            DstRule::FixedTime,
            "{text}"
        );
    }
    let wildcard = [
        "*/15 * * * *",
        "0 * * * *",
        "*/5 2 * * *",
        "30 */2 * * *",
        "@hourly",
    ];
    for text in wildcard {
        assert_eq!(
            schedule(text, "UTC").dst_rule(),
            DstRule::Wildcard,
            "{text}"
        );
    }
}
