//! Date helpers for expressions: `now()`, `today(tz)`, `add_days`,
//! `add_hours`, `add_minutes`, `days_until`, `days_since`, `format_date`.

use std::fmt::Write as _;
use std::str::FromStr;

use chrono::format::{Item, StrftimeItems};
use chrono::{
    DateTime, Days, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, TimeDelta, TimeZone, Utc,
};
use minijinja::{Environment, Error, ErrorKind, Value};

use super::ExprError;
use super::env::now;

/// A time as found in a payload.
enum When {
    Date(NaiveDate),
    At(DateTime<FixedOffset>),
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn parse_str(s: &str) -> Option<When> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(When::At(t));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(When::Date(d));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return Some(When::At(n.and_utc().fixed_offset()));
        }
    }
    None
}

fn from_unix(secs: f64) -> Option<When> {
    if !secs.is_finite() {
        return None;
    }
    let ms = (secs * 1000.0).round();
    if ms.abs() > 1e17 {
        return None;
    }
    // In range: checked just above.
    #[allow(clippy::cast_possible_truncation)]
    let ms = ms as i64;
    DateTime::from_timestamp_millis(ms).map(|t| When::At(t.fixed_offset()))
}

fn when(v: &Value) -> Result<When, Error> {
    let parsed = if let Some(s) = v.as_str() {
        parse_str(s.trim())
    } else if let Ok(i) = i64::try_from(v.clone()) {
        // Whole seconds: exact.
        DateTime::from_timestamp(i, 0).map(|t| When::At(t.fixed_offset()))
    } else if let Ok(f) = f64::try_from(v.clone()) {
        from_unix(f)
    } else {
        None
    };
    parsed.ok_or_else(|| {
        invalid(format!(
            "invalid time {v:?}: expected a date (YYYY-MM-DD), an RFC 3339 date-time or a unix timestamp"
        ))
    })
}

fn tz(name: Option<&str>) -> Result<chrono_tz::Tz, Error> {
    match name {
        None => Ok(chrono_tz::UTC),
        Some(n) => chrono_tz::Tz::from_str(n).map_err(|_| {
            invalid(format!(
                "unknown time zone {n:?}: expected an IANA name such as Europe/Paris"
            ))
        }),
    }
}

fn show(w: When) -> Value {
    match w {
        When::Date(d) => Value::from(d.format("%Y-%m-%d").to_string()),
        When::At(t) => Value::from(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    }
}

fn add(v: &Value, delta: TimeDelta, whole_days: Option<i64>) -> Result<Value, Error> {
    let overflow = || invalid("date out of range");
    let w = when(v)?;
    let shifted = match (w, whole_days) {
        (When::Date(d), Some(n)) => When::Date(shift_days(d, n).ok_or_else(overflow)?),
        (When::Date(d), None) => {
            let start = d
                .and_hms_opt(0, 0, 0)
                .ok_or_else(overflow)?
                .and_utc()
                .fixed_offset();
            When::At(start.checked_add_signed(delta).ok_or_else(overflow)?)
        }
        (When::At(t), Some(n)) => {
            // Calendar days at the same local time in the value's own offset.
            let local = t.naive_local();
            let moved = if n >= 0 {
                local.checked_add_days(Days::new(n.unsigned_abs()))
            } else {
                local.checked_sub_days(Days::new(n.unsigned_abs()))
            };
            let moved = moved.ok_or_else(overflow)?;
            When::At(
                t.offset()
                    .from_local_datetime(&moved)
                    .single()
                    .ok_or_else(overflow)?,
            )
        }
        (When::At(t), None) => When::At(t.checked_add_signed(delta).ok_or_else(overflow)?),
    };
    Ok(show(shifted))
}

fn shift_days(d: NaiveDate, n: i64) -> Option<NaiveDate> {
    if n >= 0 {
        d.checked_add_days(Days::new(n.unsigned_abs()))
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs()))
    }
}

fn local_date(w: &When, zone: chrono_tz::Tz) -> NaiveDate {
    match w {
        When::Date(d) => *d,
        When::At(t) => t.with_timezone(&zone).date_naive(),
    }
}

fn days_between(v: &Value, zone: Option<&str>, until: bool) -> Result<i64, Error> {
    let zone = tz(zone)?;
    let target = local_date(&when(v)?, zone);
    let today = now().with_timezone(&zone).date_naive();
    let days = (target - today).num_days();
    Ok(if until { days } else { -days })
}

fn format_date(v: &Value, format: &str, zone: Option<&str>) -> Result<String, Error> {
    let items: Vec<Item<'_>> = StrftimeItems::new(format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(invalid(format!("invalid date format {format:?}")));
    }
    let mut out = String::new();
    let written = match when(v)? {
        When::Date(d) => match d.and_hms_opt(0, 0, 0) {
            Some(n) => write!(out, "{}", n.format_with_items(items.iter())),
            None => Err(std::fmt::Error),
        },
        When::At(t) => match zone {
            Some(z) => write!(
                out,
                "{}",
                t.with_timezone(&tz(Some(z))?)
                    .format_with_items(items.iter())
            ),
            None => write!(out, "{}", t.format_with_items(items.iter())),
        },
    };
    written.map_err(|_| {
        invalid(format!(
            "date format {format:?} does not apply to this value"
        ))
    })?;
    Ok(out)
}

/// Registers the helpers in an environment.
pub(super) fn register(env: &mut Environment<'static>) {
    env.add_function("now", || {
        Value::from(now().to_rfc3339_opts(SecondsFormat::Secs, true))
    });
    env.add_function("today", |zone: Option<String>| -> Result<Value, Error> {
        let zone = tz(zone.as_deref())?;
        Ok(Value::from(
            now().with_timezone(&zone).format("%Y-%m-%d").to_string(),
        ))
    });
    env.add_filter("add_days", |v: Value, n: i64| {
        add(&v, TimeDelta::zero(), Some(n))
    });
    env.add_filter("add_hours", |v: Value, n: i64| {
        let d = TimeDelta::try_hours(n).ok_or_else(|| invalid("hours out of range"))?;
        add(&v, d, None)
    });
    env.add_filter("add_minutes", |v: Value, n: i64| {
        let d = TimeDelta::try_minutes(n).ok_or_else(|| invalid("minutes out of range"))?;
        add(&v, d, None)
    });
    env.add_filter("days_until", |v: Value, zone: Option<String>| {
        days_between(&v, zone.as_deref(), true)
    });
    env.add_filter("days_since", |v: Value, zone: Option<String>| {
        days_between(&v, zone.as_deref(), false)
    });
    env.add_filter(
        "format_date",
        |v: Value, format: String, zone: Option<String>| format_date(&v, &format, zone.as_deref()),
    );
}

/// Reads a time from a rendered value (for `wait: { until: ... }`): an RFC
/// 3339 date-time, a `YYYY-MM-DD` date (midnight UTC), a
/// `YYYY-MM-DD HH:MM[:SS]` time (UTC) or a unix timestamp in seconds.
pub fn parse_instant(value: &serde_json::Value) -> Result<DateTime<Utc>, ExprError> {
    let bad = || ExprError::InvalidTime {
        value: value.to_string(),
    };
    let w = match value {
        serde_json::Value::String(s) => parse_str(s.trim()),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => DateTime::from_timestamp(i, 0).map(|t| When::At(t.fixed_offset())),
            None => n.as_f64().and_then(from_unix),
        },
        _ => None,
    }
    .ok_or_else(bad)?;
    match w {
        When::Date(d) => d
            .and_hms_opt(0, 0, 0)
            .map(|n| Utc.from_utc_datetime(&n))
            .ok_or_else(bad),
        When::At(t) => Ok(t.with_timezone(&Utc)),
    }
}
