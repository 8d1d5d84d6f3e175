//! When a wall-clock time happens in a time zone: once, twice (the clock
//! went back) or never (the clock jumped over it).

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// The real instants at which a wall-clock time occurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Occurrence {
    /// The usual case.
    Once(DateTime<Utc>),
    /// In the hour repeated when the clock goes back: before, then after.
    Twice(DateTime<Utc>, DateTime<Utc>),
    /// In the hour skipped when the clock jumps forward; `resumes` is the
    /// instant of the change, the first at which the wall clock reads past
    /// this time.
    Skipped { resumes: DateTime<Utc> },
}

/// The longest run of wall-clock time a zone has ever skipped is a day
/// (Samoa, 2011-12-30); this bounds the search for the end of a gap.
const LONGEST_GAP_MINUTES: i64 = 2 * 24 * 60;

/// Resolves `wall` in `zone`. `None` only when the end of a gap cannot be
/// found, which no zone in the database does.
pub(super) fn occurrences(zone: Tz, wall: NaiveDateTime) -> Option<Occurrence> {
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(at) => Some(Occurrence::Once(at.to_utc())),
        LocalResult::Ambiguous(first, second) => {
            Some(Occurrence::Twice(first.to_utc(), second.to_utc()))
        }
        LocalResult::None => gap_end(zone, wall).map(|resumes| Occurrence::Skipped { resumes }),
    }
}

/// The instant a gap containing `wall` ends: the first real wall-clock time
/// after it, found to the minute, then to the second.
fn gap_end(zone: Tz, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
    let exists = |candidate: NaiveDateTime| -> Option<DateTime<Utc>> {
        zone.from_local_datetime(&candidate)
            .earliest()
            .map(|at| at.to_utc())
    };
    let mut minute = wall;
    for _ in 0..LONGEST_GAP_MINUTES {
        let previous = minute;
        minute = minute.checked_add_signed(TimeDelta::minutes(1))?;
        if exists(minute).is_none() {
            continue;
        }
        // The gap ends within (previous, minute]: bisect to the second.
        let (mut missing, mut present) = (previous, minute);
        loop {
            let span = (present - missing).num_seconds();
            if span <= 1 {
                break;
            }
            let middle = missing + TimeDelta::seconds(span / 2);
            if exists(middle).is_some() {
                present = middle;
            } else {
                missing = middle;
            }
        }
        return exists(present);
    }
    None
}
