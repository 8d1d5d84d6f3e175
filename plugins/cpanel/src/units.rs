//! WHM's sizes (`"14M"`, `"unlimited"`) and times (Unix seconds, the HTTP
//! `Date` header), turned into plain numbers and ISO 8601 text.

use serde_json::Value;

/// Bytes in a WHM size such as `"14M"`, `"1.5G"`, `"512K"` or `"300"`
/// (megabytes when no unit is given); `None` for `"unlimited"`, `"none"`
/// or anything unreadable.
pub(crate) fn size_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "M"),
    };
    let factor: f64 = match unit.trim().to_ascii_uppercase().as_str() {
        "B" => 1.0,
        "K" | "KB" => 1024.0,
        "M" | "MB" => 1024.0 * 1024.0,
        "G" | "GB" => 1024.0 * 1024.0 * 1024.0,
        "T" | "TB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let number: f64 = number.trim().parse().ok()?;
    if !number.is_finite() || number < 0.0 {
        return None;
    }
    Some((number * factor).round() as u64)
}

/// A WHM limit: a count, or `None` for `"unlimited"` (also for values
/// that are not counts).
pub(crate) fn count(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Whether a WHM limit says `unlimited`.
pub(crate) fn is_unlimited(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|text| text.trim().eq_ignore_ascii_case("unlimited"))
}

/// Unix seconds from a number or a numeric string.
pub(crate) fn unix_seconds(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// `1970-01-01T00:00:00Z` for Unix seconds.
pub(crate) fn iso8601(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Unix seconds of an HTTP date in the IMF-fixdate form every server sends
/// (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 section 5.6.7).
pub(crate) fn http_date(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as u32
        + 1;
    let day: u32 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|part| part.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size_bytes("14M"), Some(14 * 1024 * 1024));
        assert_eq!(size_bytes("1.5G"), Some(1_610_612_736));
        assert_eq!(size_bytes("512K"), Some(524_288));
        assert_eq!(size_bytes("300"), Some(300 * 1024 * 1024));
        assert_eq!(size_bytes("0M"), Some(0));
        assert_eq!(size_bytes(" 2 TB "), Some(2 << 40));
        for bad in ["unlimited", "none", "", "M", "-1M", "12Q", "NaNM"] {
            assert_eq!(size_bytes(bad), None, "{bad}");
        }
    }

    #[test]
    fn counts() {
        assert_eq!(count(&json!(5)), Some(5));
        assert_eq!(count(&json!("25")), Some(25));
        assert_eq!(count(&json!("unlimited")), None);
        assert!(is_unlimited(&json!("Unlimited")));
        assert!(!is_unlimited(&json!("25")));
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_369_256_589), "2013-05-22T21:03:09Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59Z");
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            http_date("Sun, 22 Nov 2026 07:04:48 GMT"),
            Some(1_795_331_088)
        );
        assert_eq!(iso8601(1_795_331_088), "2026-11-22T07:04:48Z");
        for bad in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 CET",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:49:37 GMT",
        ] {
            assert_eq!(http_date(bad), None, "{bad}");
        }
        assert_eq!(unix_seconds(&json!("1594040856")), Some(1_594_040_856));
        assert_eq!(unix_seconds(&json!(null)), None);
    }
}
