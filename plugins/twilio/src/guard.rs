//! `send-sms`'s record of what an attempt sent, in the plugin's key-value
//! store, and the search for a message an interrupted attempt may have
//! sent.

use relais_plugin_sdk::keys;
use relais_plugin_sdk::prelude::*;

use crate::api::Client;
use crate::messages::{Message, SendSmsIn};

/// A message found among the recipient's may have been created this long
/// before the attempt recorded its start (clock skew between Twilio and
/// the host).
pub const SKEW_SECS: i64 = 300;
/// How many of the recipient's latest messages are searched.
pub const SEARCH_DEPTH: u32 = 20;

/// What an attempt of `send-sms` recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Record {
    /// A request left at `started_at` (Unix seconds) with no answer yet.
    Pending {
        /// When.
        started_at: i64,
    },
    /// Twilio accepted the message.
    Sent {
        /// Its SID.
        sid: String,
    },
}

/// The store key for a step's idempotency key (hashed when too long).
pub(crate) fn key(idempotency_key: &str) -> String {
    let key = format!("sms:{idempotency_key}");
    if key.len() <= relais_plugin_sdk::kv::MAX_KEY_BYTES {
        key
    } else {
        let hash = keys::fnv1a64(idempotency_key.as_bytes());
        format!(
            "sms:{}-{hash:016x}",
            &idempotency_key[..idempotency_key.floor_char_boundary(480)]
        )
    }
}

/// Records that `sid` was sent; a store that fails then only costs a
/// search on a retry.
pub(crate) fn record_sent(key: &str, sid: &str) {
    let record = Record::Sent {
        sid: sid.to_owned(),
    };
    if let Err(err) = kv::set_json(key, &record) {
        log::warn!("cannot record that message {sid} was sent: {err}");
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MessagePage {
    messages: Vec<Message>,
}

/// Looks among the recipient's latest messages for one this step sent: same
/// recipient (and sender when given), same text (Twilio may prefix trial
/// accounts' texts), created after `started_at` (with [`SKEW_SECS`] of
/// slack).
pub(crate) fn find_sent(
    client: &Client,
    input: &SendSmsIn,
    started_at: i64,
) -> Result<Option<Message>, StepError> {
    let mut query = vec![
        ("To".to_owned(), input.to.clone()),
        ("PageSize".to_owned(), SEARCH_DEPTH.to_string()),
    ];
    if let Some(from) = &input.from {
        query.push(("From".to_owned(), from.clone()));
    }
    let page: MessagePage = client.get(&format!("{}.json", client.messages_path()), &query)?;
    Ok(page.messages.into_iter().find(|message| {
        let same_text = message
            .body
            .as_deref()
            .is_some_and(|body| body.ends_with(input.body.as_str()));
        let same_service = input.messaging_service_sid.is_none()
            || message.messaging_service_sid == input.messaging_service_sid;
        let recent = message
            .date_created
            .as_deref()
            .and_then(parse_rfc2822)
            .is_some_and(|created| created >= started_at - SKEW_SECS);
        same_text && same_service && recent
    }))
}

/// Unix seconds of an RFC 2822 date as Twilio writes them
/// (`Thu, 24 Aug 2023 05:01:45 +0000`).
pub(crate) fn parse_rfc2822(text: &str) -> Option<i64> {
    let text = text.split_once(", ").map_or(text, |(_, rest)| rest);
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let day: i64 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let mut clock = time.split(':').map(|part| part.parse::<i64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset = match zone.as_bytes() {
        [sign @ (b'+' | b'-'), digits @ ..] if digits.len() == 4 => {
            let value: i64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
            let minutes = value / 100 * 60 + value % 100;
            if *sign == b'-' { -minutes } else { minutes }
        }
        b"GMT" | b"UT" | b"UTC" => 0,
        _ => return None,
    };
    Some(
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
            - offset * 60,
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}
