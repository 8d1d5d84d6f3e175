//! Durations written as `500ms`, `30s`, `5m`, `1h30m`, `3d`, `2w`.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A positive duration, written with units from largest to smallest, each
/// at most once: `w`, `d`, `h`, `m`, `s`, `ms`. Displays and serializes in
/// that same form (`1h30m`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(std::time::Duration);

const UNITS: [(&str, u64); 6] = [
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Why a duration was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(pub String);

impl Duration {
    /// Parses `1h30m`-style text.
    pub fn parse(s: &str) -> Result<Self, DurationError> {
        let err = |m: &str| DurationError(m.to_owned());
        if s.is_empty() {
            return Err(err("empty"));
        }
        let bytes = s.as_bytes();
        let mut i = 0;
        let mut total: u64 = 0;
        let mut last_unit = None::<usize>;
        while i < bytes.len() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if start == i {
                return Err(err("expected a number before each unit"));
            }
            let n: u64 = s[start..i].parse().map_err(|_| err("number too large"))?;
            let ustart = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit = &s[ustart..i];
            let idx = UNITS.iter().position(|(u, _)| *u == unit).ok_or_else(|| {
                if unit.is_empty() {
                    err("missing unit (w, d, h, m, s or ms)")
                } else {
                    DurationError(format!(
                        "unknown unit {unit:?} (expected w, d, h, m, s or ms)"
                    ))
                }
            })?;
            if last_unit.is_some_and(|l| l >= idx) {
                return Err(err("units must go from largest to smallest, each once"));
            }
            last_unit = Some(idx);
            total = n
                .checked_mul(UNITS[idx].1)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| err("too large"))?;
        }
        if total == 0 {
            return Err(err("must be greater than zero"));
        }
        Ok(Self(std::time::Duration::from_millis(total)))
    }

    /// Whole seconds (for constants).
    pub const fn from_secs_const(secs: u64) -> Self {
        Self(std::time::Duration::from_secs(secs))
    }

    /// The standard library duration.
    pub fn as_std(&self) -> std::time::Duration {
        self.0
    }

    /// Whole milliseconds.
    pub fn as_millis(&self) -> u64 {
        u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX)
    }

    /// From a standard duration (rounded down to milliseconds); `None` below 1ms.
    pub fn from_std(d: std::time::Duration) -> Option<Self> {
        let ms = u64::try_from(d.as_millis()).ok()?;
        (ms > 0).then(|| Self(std::time::Duration::from_millis(ms)))
    }
}

impl FromStr for Duration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<Duration> for std::time::Duration {
    fn from(d: Duration) -> Self {
        d.0
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.as_millis();
        for (unit, ms) in UNITS {
            if rest >= ms {
                write!(f, "{}{unit}", rest / ms)?;
                rest %= ms;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> u64 {
        Duration::parse(s).unwrap().as_millis()
    }

    #[test]
    fn parses_units() {
        assert_eq!(ms("500ms"), 500);
        assert_eq!(ms("30s"), 30_000);
        assert_eq!(ms("5m"), 300_000);
        assert_eq!(ms("1h30m"), 5_400_000);
        assert_eq!(ms("3d"), 259_200_000);
        assert_eq!(ms("1w1d"), 691_200_000);
        assert_eq!(ms("1h0m1s"), 3_601_000);
    }

    #[test]
    fn refuses_bad_text() {
        for bad in [
            "",
            "30",
            "s",
            "5x",
            "1.5h",
            "30m1h",
            "1h1h",
            "0s",
            "-5s",
            " 5s",
            "5 s",
            "99999999999999999999s",
            "18446744073709551615w",
        ] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn displays_canonically() {
        for (i, o) in [
            ("90m", "1h30m"),
            ("1h30m", "1h30m"),
            ("3d", "3d"),
            ("1500ms", "1s500ms"),
            ("14d", "2w"),
        ] {
            assert_eq!(Duration::parse(i).unwrap().to_string(), o);
        }
    }
}
