//! Cron schedules (5-field crontab lines and `@daily`-style macros, through
//! `croner`) and IANA time zones (through `chrono-tz`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::Serialize;

use crate::error::WorkflowError;

/// A cron schedule: `minute hour day-of-month month day-of-week`, or one of
/// `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`,
/// `@hourly`. Day of month and day of week are ORed as in Vixie cron
/// (`0 9 1 * 1` fires on the 1st and on Mondays); weekdays count 0 or 7 =
/// Sunday, 1 = Monday. An expression that can never fire is refused.
#[derive(Clone, Debug)]
pub struct Schedule {
    text: String,
    cron: Cron,
}

impl Schedule {
    /// Parses and checks a schedule.
    pub fn parse(text: &str) -> Result<Self, WorkflowError> {
        let trimmed = text.trim();
        let bad = |reason: String| WorkflowError::Cron {
            value: text.to_owned(),
            reason,
        };
        let expanded = if let Some(name) = trimmed.strip_prefix('@') {
            match name.to_ascii_lowercase().as_str() {
                "yearly" | "annually" | "monthly" | "weekly" | "daily" | "hourly" => {
                    trimmed.to_owned()
                }
                "midnight" => "@daily".to_owned(),
                _ => {
                    return Err(bad(
                        "unknown macro (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"
                            .to_owned(),
                    ));
                }
            }
        } else {
            let fields = trimmed.split_whitespace().count();
            if fields != 5 {
                return Err(bad(format!(
                    "expected 5 fields (minute hour day-of-month month day-of-week), found {fields}"
                )));
            }
            trimmed.to_owned()
        };
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build();
        let cron = parser
            .parse(&expanded)
            .map_err(|e| bad(lower_first(&e.to_string())))?;
        // A schedule that cannot fire within croner's search window (to year
        // 5000) never fires: `0 0 31 2 *`, `0 0 30 2 *`.
        let start = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single();
        let fires = start.is_some_and(|s| cron.find_next_occurrence(&s, false).is_ok());
        if !fires {
            return Err(WorkflowError::CronNeverFires {
                value: text.to_owned(),
            });
        }
        Ok(Self {
            text: trimmed.to_owned(),
            cron,
        })
    }

    /// The schedule as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first time strictly after `after` at which the schedule fires, in
    /// the time zone `tz` (daylight saving follows Vixie cron: a time skipped
    /// by spring-forward fires once just after the gap, a repeated time
    /// fires once). `None` if it never fires again.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Timezone) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&tz.0);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The underlying `croner` schedule.
    pub fn cron(&self) -> &Cron {
        &self.cron
    }
}

fn lower_first(s: &str) -> String {
    let s = s.trim_end_matches('.');
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// An IANA time zone such as `Europe/Paris` or `UTC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timezone(pub chrono_tz::Tz);

impl Timezone {
    /// Coordinated Universal Time.
    pub const UTC: Timezone = Timezone(chrono_tz::UTC);

    /// Parses an IANA name (case-sensitive, as in the tz database).
    pub fn parse(name: &str) -> Result<Self, WorkflowError> {
        chrono_tz::Tz::from_str(name)
            .map(Self)
            .map_err(|_| WorkflowError::Timezone {
                value: name.to_owned(),
            })
    }

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Timezone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weekdays_in_paris() {
        let s = Schedule::parse("0 9 * * 1-5").unwrap();
        let paris = Timezone::parse("Europe/Paris").unwrap();
        // Friday 2026-01-09 10:00 Paris -> Monday 2026-01-12 09:00 Paris (08:00 UTC).
        let next = s.next_after(at("2026-01-09T09:00:00Z"), paris).unwrap();
        assert_eq!(next, at("2026-01-12T08:00:00Z"));
        let next = s.next_after(at("2026-01-09T07:59:00Z"), paris).unwrap();
        assert_eq!(next, at("2026-01-09T08:00:00Z"));
    }

    #[test]
    fn macros_and_fields() {
        assert!(Schedule::parse("@daily").is_ok());
        assert!(Schedule::parse("@midnight").is_ok());
        assert!(Schedule::parse("@reboot").is_err());
        assert!(Schedule::parse("0 9 * *").is_err());
        assert!(Schedule::parse("0 0 9 * * *").is_err());
        assert!(Schedule::parse("61 * * * *").is_err());
        let d = Schedule::parse("@daily").unwrap();
        assert_eq!(
            d.next_after(at("2026-03-01T10:00:00Z"), Timezone::UTC)
                .unwrap(),
            at("2026-03-02T00:00:00Z")
        );
    }

    #[test]
    fn never_firing_is_refused_but_leap_day_is_fine() {
        assert!(matches!(
            Schedule::parse("0 0 31 2 *"),
            Err(WorkflowError::CronNeverFires { .. })
        ));
        assert!(matches!(
            Schedule::parse("0 0 30 2 *"),
            Err(WorkflowError::CronNeverFires { .. })
        ));
        assert!(Schedule::parse("0 0 29 2 *").is_ok());
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        // 1st of the month OR Monday, as in Vixie cron.
        let s = Schedule::parse("0 9 1 * 1").unwrap();
        // Tuesday 2026-09-01 is the 1st.
        let n = s
            .next_after(at("2026-08-31T10:00:00Z"), Timezone::UTC)
            .unwrap();
        assert_eq!(n, at("2026-09-01T09:00:00Z"));
        // Next after that: Monday 2026-09-07.
        let n = s.next_after(n, Timezone::UTC).unwrap();
        assert_eq!(n, at("2026-09-07T09:00:00Z"));
    }

    #[test]
    fn timezones() {
        assert_eq!(
            Timezone::parse("Europe/Paris").unwrap().name(),
            "Europe/Paris"
        );
        assert!(Timezone::parse("Europe/Pari").is_err());
        assert!(Timezone::parse("").is_err());
    }
}
