//! Integration tests of relais-triggers, in one binary.

mod catch_up;
mod cron_dst;
mod cron_parse;
mod croner_pins;
mod oracle;
mod verify_hmac;
mod verify_stripe;
mod verify_token;

use chrono::{DateTime, Utc};
use relais_triggers::cron::Schedule;

/// An instant written in RFC 3339.
pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("bad instant `{text}` in a test: {error}"))
        .to_utc()
}

/// A schedule the test expects to parse.
pub fn schedule(expression: &str, zone: &str) -> Schedule {
    Schedule::parse(expression, zone)
        .unwrap_or_else(|error| panic!("`{expression}` in {zone} should parse: {error}"))
}

/// The fires in (`after`, `until`] as `UTC instant / local RFC 3339` pairs.
pub fn fires(schedule: &Schedule, after: &str, until: &str) -> Vec<(String, String)> {
    schedule
        .fires_between(at(after), at(until))
        .map(|fire| (fire.utc_rfc3339(), fire.local_rfc3339()))
        .collect()
}

/// The next `n` fires after `after`, as UTC RFC 3339.
pub fn next_utc(schedule: &Schedule, after: &str, n: usize) -> Vec<String> {
    schedule
        .next_n(at(after), n)
        .iter()
        .map(|fire| fire.utc_rfc3339())
        .collect()
}

/// Owned pairs from string literals, for comparing with [`fires`].
pub fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(utc, local)| ((*utc).to_owned(), (*local).to_owned()))
        .collect()
}
