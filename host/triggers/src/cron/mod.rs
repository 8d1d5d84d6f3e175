//! Cron schedules: a crontab expression with an IANA time zone.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use relais_triggers::cron::Schedule;
//!
//! let schedule = Schedule::parse("0 9 * * 1-5", "Europe/Paris")?;
//! let after = Utc.with_ymd_and_hms(2026, 3, 27, 12, 0, 0).unwrap(); // a Friday
//! let next = schedule.next_after(after).unwrap();
//! assert_eq!(next.local_rfc3339(), "2026-03-30T09:00:00+02:00");
//! assert_eq!(next.utc_rfc3339(), "2026-03-30T07:00:00Z");
//! # Ok::<(), relais_triggers::cron::ScheduleError>(())
//! ```
//!
//! The expression is matched against the wall clock of the zone, then each
//! matching wall-clock time is turned into real instants with Vixie cron's
//! daylight saving rules ([`DstRule`]):
//!
//! - a fixed-time job fires when the wall clock first reaches or passes its
//!   time. A time in the hour skipped in spring (02:30 in Paris on
//!   2026-03-29) fires once, at the change (03:00 local); several skipped
//!   times of the same job make a single fire there, as does a time matched
//!   at the end of the gap. A time in the hour repeated in autumn fires
//!   only at its first occurrence;
//! - a wildcard job fires at every real instant whose wall-clock time
//!   matches: nothing in the skipped hour, twice in the repeated one.
//!
//! Fires are whole seconds (whole minutes in every current zone), strictly
//! increasing, and identified by (schedule, UTC instant).

mod catch_up;
mod error;
mod expr;
mod fire;
mod zone;

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SubsecRound, Utc};
use chrono_tz::Tz;

pub use catch_up::{CatchUp, CatchUpPolicy, DEFAULT_GRACE, DEFAULT_MAX_FIRES, Plan};
pub use error::ScheduleError;
pub use expr::{DstRule, Expression};
pub use fire::Fire;

use zone::Occurrence;

/// The Gregorian calendar, weekdays included, repeats every 400 years: an
/// expression with no match in one such cycle never fires.
pub const NEVER_FIRES_HORIZON_YEARS: u32 = 400;

/// Matching wall-clock times examined per search before giving up. A search
/// passes over a time without firing only when the time was skipped by a
/// clock change or lies before the starting instant in the repeated hour,
/// so a few hundred would do.
const MAX_WALK_STEPS: usize = 10_000;

/// A parsed cron schedule in a time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    expression: Expression,
    zone: Tz,
}

impl Schedule {
    /// Parses `expression` (five fields, or an `@` macro) in the IANA time
    /// zone named `zone`, such as `Europe/Paris` or `UTC`.
    pub fn parse(expression: &str, zone: &str) -> Result<Schedule, ScheduleError> {
        let zone = Tz::from_str(zone.trim()).map_err(|_| ScheduleError::UnknownTimeZone {
            name: zone.to_owned(),
        })?;
        Schedule::new(expression, zone)
    }

    /// Parses `expression` in `zone`.
    pub fn new(expression: &str, zone: Tz) -> Result<Schedule, ScheduleError> {
        Ok(Schedule::with_zone(Expression::parse(expression)?, zone))
    }

    /// An expression parsed earlier, in `zone`: cannot fail.
    pub fn with_zone(expression: Expression, zone: Tz) -> Schedule {
        Schedule { expression, zone }
    }

    /// The expression as written (trimmed).
    pub fn expression(&self) -> &str {
        self.expression.as_str()
    }

    /// The parsed expression.
    pub fn parsed(&self) -> &Expression {
        &self.expression
    }

    /// The five fields the expression stands for (macros expanded).
    pub fn fields(&self) -> &str {
        self.expression.fields()
    }

    /// The schedule's time zone.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// How the schedule behaves across clock changes.
    pub fn dst_rule(&self) -> DstRule {
        self.expression.dst
    }

    /// The first fire strictly after `after`.
    ///
    /// `None` only past the end of the calendar croner searches (year 5000).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<Fire> {
        // Fires are whole seconds: strictly after `after` is strictly after
        // its whole second.
        let after = after.trunc_subsecs(0);
        let wall = after.with_timezone(&self.zone).naive_local();
        let mut best = self.walk(wall, after);
        // On the first pass of a repeated hour, the second pass lies ahead
        // but its wall-clock times are behind `wall`: a wildcard job walks
        // it too, from the wall-clock time that maps just after `after`.
        if self.expression.dst == DstRule::Wildcard
            && let Some(Occurrence::Twice(first, second)) = zone::occurrences(self.zone, wall)
            && first == after
        {
            let repeated_from = wall - (second - first);
            if let Some(other) = self.walk(repeated_from, after) {
                best = Some(best.map_or(other, |found| found.min(other)));
            }
        }
        best
    }

    /// The fires in (`after`, `until`]: after `after`, up to and including
    /// `until`, in order.
    pub fn fires_between(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> FiresBetween<'_> {
        FiresBetween {
            schedule: self,
            cursor: after,
            until,
        }
    }

    /// The next `n` fires after `after`, for `relais cron next`.
    pub fn next_n(&self, after: DateTime<Utc>, n: usize) -> Vec<Fire> {
        let mut fires = Vec::with_capacity(n.min(1024));
        let mut cursor = after;
        while fires.len() < n {
            let Some(fire) = self.next_after(cursor) else {
                break;
            };
            cursor = fire.at();
            fires.push(fire);
        }
        fires
    }

    /// Walks the wall clock forward from `wall` (exclusive) and returns the
    /// first fire strictly after `after`.
    fn walk(&self, wall: NaiveDateTime, after: DateTime<Utc>) -> Option<Fire> {
        let mut cursor = wall;
        for _ in 0..MAX_WALK_STEPS {
            let matched = self
                .expression
                .matcher
                .find_next_occurrence(&cursor, false)
                .ok()?;
            let fire_at = match (zone::occurrences(self.zone, matched)?, self.expression.dst) {
                (Occurrence::Once(at), _) => Some(at),
                (Occurrence::Twice(first, _), DstRule::FixedTime) => Some(first),
                (Occurrence::Twice(first, second), DstRule::Wildcard) => {
                    Some(if first > after { first } else { second })
                }
                (Occurrence::Skipped { resumes }, DstRule::FixedTime) => Some(resumes),
                (Occurrence::Skipped { .. }, DstRule::Wildcard) => None,
            };
            if let Some(at) = fire_at.filter(|at| *at > after) {
                return Some(Fire::new(at, self.zone, matched));
            }
            cursor = matched;
        }
        None
    }
}

/// Whether the expression matches a wall-clock time within one full
/// calendar cycle.
fn fires_in_cycle(expression: &Expression) -> bool {
    let Some(start) = NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|day| day.and_hms_opt(0, 0, 0))
    else {
        return false;
    };
    let Some(end) = NaiveDate::from_ymd_opt(2000 + NEVER_FIRES_HORIZON_YEARS as i32, 1, 1)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
    else {
        return false;
    };
    expression
        .matcher
        .find_next_occurrence(&start, true)
        .is_ok_and(|first| first < end)
}

/// Iterator over the fires in a range; see [`Schedule::fires_between`].
#[derive(Debug, Clone)]
pub struct FiresBetween<'a> {
    schedule: &'a Schedule,
    cursor: DateTime<Utc>,
    until: DateTime<Utc>,
}

impl Iterator for FiresBetween<'_> {
    type Item = Fire;

    fn next(&mut self) -> Option<Fire> {
        if self.cursor >= self.until {
            return None;
        }
        let fire = self
            .schedule
            .next_after(self.cursor)
            .filter(|fire| fire.at() <= self.until);
        // Past the end, or nothing more: park the cursor so the iterator
        // stays finished.
        self.cursor = fire.map_or(self.until, |fire| fire.at());
        fire
    }
}

/// The cron expressions on which validation, `relais cron next`, the API's
/// next fires and the scheduler are tested against each other
/// (`host/triggers/tests/expressions.txt`: one a line, `#` comments).
#[doc(hidden)]
pub fn agreement_expressions() -> impl Iterator<Item = &'static str> {
    include_str!("../../tests/expressions.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}
