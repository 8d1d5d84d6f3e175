//! One fire of a schedule.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use chrono_tz::Tz;

/// One fire of a schedule: the real instant, and the same instant on the
/// schedule's wall clock.
///
/// A fire slot is identified by its schedule and [`Fire::at`]: the store
/// starts at most one run per slot ([`Fire::slot_key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fire {
    at: DateTime<Utc>,
    local: DateTime<Tz>,
    matched: NaiveDateTime,
}

impl Fire {
    pub(super) fn new(at: DateTime<Utc>, zone: Tz, matched: NaiveDateTime) -> Fire {
        Fire {
            at,
            local: at.with_timezone(&zone),
            matched,
        }
    }

    /// The instant of the fire, in UTC.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// The instant of the fire in the schedule's time zone.
    pub fn local(&self) -> DateTime<Tz> {
        self.local
    }

    /// The wall-clock time the expression matched. It differs from the
    /// local time of the fire only for a fixed-time job whose time was
    /// skipped by a spring-forward change: 02:30 matched, fired at 03:00.
    pub fn matched(&self) -> NaiveDateTime {
        self.matched
    }

    /// The local time in RFC 3339 with the zone's offset, to the second:
    /// `2026-03-29T03:00:00+02:00` (`+00:00` in UTC).
    pub fn local_rfc3339(&self) -> String {
        self.local.to_rfc3339_opts(SecondsFormat::Secs, false)
    }

    /// The instant in RFC 3339 UTC, to the second: `2026-03-29T01:00:00Z`.
    pub fn utc_rfc3339(&self) -> String {
        self.at.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// A key naming this slot of the schedule `schedule_id`, stable across
    /// restarts: `{schedule_id}@{UTC RFC 3339}`.
    pub fn slot_key(&self, schedule_id: &str) -> String {
        format!("{schedule_id}@{}", self.utc_rfc3339())
    }
}

impl fmt::Display for Fire {
    /// `2026-03-29T03:00:00+02:00 (2026-03-29T01:00:00Z)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.local_rfc3339(), self.utc_rfc3339())
    }
}
