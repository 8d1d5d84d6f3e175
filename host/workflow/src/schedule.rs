//! Cron schedules and IANA time zones (through `chrono-tz`).
//!
//! A `cron:` is parsed once, by the triggers crate ([`relais_triggers::cron`]),
//! into the expression the scheduler fires: what validates is what fires,
//! what `relais cron next` prints and what the API shows.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use relais_triggers::cron::Expression;
use serde::Serialize;

use crate::error::WorkflowError;

/// A cron schedule: `minute hour day-of-month month day-of-week`, or one of
/// `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`,
/// `@hourly`, with Vixie cron's rules (see [`relais_triggers::cron`]): day
/// of month and day of week are ORed when both are restricted (`0 9 1 * 1`
/// fires on the 1st and on Mondays) and ANDed when either starts with `*`;
/// weekdays count 0 or 7 = Sunday, 1 = Monday. An expression that can never
/// fire is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule(Expression);

impl Schedule {
    /// Parses and checks a schedule.
    pub fn parse(text: &str) -> Result<Self, WorkflowError> {
        Expression::parse(text)
            .map(Self)
            .map_err(WorkflowError::Cron)
    }

    /// The schedule as written (trimmed).
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed expression, as the scheduler fires it.
    pub fn expression(&self) -> &Expression {
        &self.0
    }

    /// The schedule in the time zone `tz`.
    pub fn in_zone(&self, tz: Timezone) -> relais_triggers::cron::Schedule {
        relais_triggers::cron::Schedule::with_zone(self.0.clone(), tz.0)
    }

    /// The first time strictly after `after` at which the schedule fires in
    /// the time zone `tz` (daylight saving follows Vixie cron: see
    /// [`relais_triggers::cron`]). `None` if it never fires again.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Timezone) -> Option<DateTime<Utc>> {
        self.in_zone(tz).next_after(after).map(|fire| fire.at())
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
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
        for never in ["0 0 31 2 *", "0 0 30 2 *"] {
            assert!(matches!(
                Schedule::parse(never),
                Err(WorkflowError::Cron(
                    relais_triggers::cron::ScheduleError::NeverFires { .. }
                ))
            ));
        }
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
