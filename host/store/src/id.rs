//! Run ids: 128 bits, a 48-bit millisecond timestamp followed by 80 random
//! bits (the ULID layout), written as 26 Crockford base-32 characters.
//!
//! Ids sort by creation time, as bytes and as text. An id made for the same
//! millisecond as the previous one this process made is strictly greater
//! than it, so runs created with the clock's time keep their creation order
//! even within one millisecond.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Timestamp;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TEXT_LEN: usize = 26;
const TIME_MAX: u64 = (1 << 48) - 1;

/// The id of a run: unique, sortable by creation time, URL-safe text form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId([u8; 16]);

/// Why a text could not be read as a [`RunId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid run id {text:?}: {reason}")]
pub struct ParseRunIdError {
    text: String,
    reason: &'static str,
}

static LAST: Mutex<u128> = Mutex::new(0);

impl RunId {
    /// A new id for a run created at `at`. Its time prefix is `at`; when the
    /// previous id this process made has the same prefix, the new one is
    /// strictly greater.
    pub fn generate(at: Timestamp) -> Self {
        let mut random = [0u8; 10];
        // A failing system RNG leaves zeros; uniqueness still holds within
        // this process because of the monotonic step below.
        let _ = getrandom::fill(&mut random);
        let mut rand_part = 0u128;
        for b in random {
            rand_part = (rand_part << 8) | u128::from(b);
        }
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        let value = next_value(*last, at, rand_part);
        *last = value;
        Self(value.to_be_bytes())
    }

    /// The id from its 16 stored bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The id's 16 bytes (big-endian, so byte order is time order).
    pub fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// The creation time encoded in the id.
    pub fn timestamp(self) -> Timestamp {
        let value = u128::from_be_bytes(self.0);
        Timestamp::from_millis((value >> 80) as u64)
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut value = u128::from_be_bytes(self.0);
        let mut out = [0u8; TEXT_LEN];
        for slot in out.iter_mut().rev() {
            *slot = ALPHABET[(value & 31) as usize];
            value >>= 5;
        }
        // Every byte comes from ALPHABET, which is ASCII.
        f.write_str(std::str::from_utf8(&out).unwrap_or_default())
    }
}

impl fmt::Debug for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RunId({self})")
    }
}

impl FromStr for RunId {
    type Err = ParseRunIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason| ParseRunIdError {
            text: text.chars().take(64).collect(),
            reason,
        };
        if text.len() != TEXT_LEN {
            return Err(fail("a run id is 26 characters"));
        }
        let bytes = text.as_bytes();
        // 26 characters carry 130 bits: the first may only be 0..=7.
        if digit(bytes[0]).is_some_and(|d| d > 7) {
            return Err(fail("the first character must be 0 to 7"));
        }
        let mut value = 0u128;
        for &b in bytes {
            let d =
                digit(b).ok_or_else(|| fail("only Crockford base-32 characters are allowed"))?;
            value = (value << 5) | u128::from(d);
        }
        Ok(Self(value.to_be_bytes()))
    }
}

/// The id value after `last` for time `at` with 80 random bits `random`:
/// within the millisecond of `last`, steps past it so ids stay strictly
/// increasing; otherwise keeps the given time exact.
fn next_value(last: u128, at: Timestamp, random: u128) -> u128 {
    let time = u128::from(at.as_millis().min(TIME_MAX));
    let candidate = (time << 80) | (random & ((1 << 80) - 1));
    if (last >> 80) == time && candidate <= last {
        last.wrapping_add(1)
    } else {
        candidate
    }
}

fn digit(b: u8) -> Option<u8> {
    let upper = b.to_ascii_uppercase();
    ALPHABET.iter().position(|&a| a == upper).map(|p| p as u8)
}

impl Serialize for RunId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RunId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_case() {
        let id = RunId::generate(Timestamp::from_millis(1_700_000_000_000));
        let text = id.to_string();
        assert_eq!(text.len(), 26);
        assert_eq!(text.parse::<RunId>().unwrap(), id);
        assert_eq!(text.to_lowercase().parse::<RunId>().unwrap(), id);
        assert_eq!(id.timestamp(), Timestamp::from_millis(1_700_000_000_000));
    }

    #[test]
    fn ids_increase_within_one_millisecond() {
        let at = Timestamp::from_millis(1_800_000_000_000);
        let mut last = 0;
        let mut values = Vec::new();
        // Random parts that go down must still give increasing ids.
        for random in [500u128, 400, 400, 0, 1 << 79, 3] {
            last = next_value(last, at, random);
            values.push(last);
        }
        for pair in values.windows(2) {
            assert!(pair[0] < pair[1]);
            let (a, b) = (RunId(pair[0].to_be_bytes()), RunId(pair[1].to_be_bytes()));
            assert!(a.to_string() < b.to_string());
            assert_eq!(b.timestamp(), at, "the time prefix stays exact");
        }
        // Another millisecond keeps its own time, earlier or later.
        let earlier = next_value(last, Timestamp::from_millis(5), 9);
        assert_eq!(earlier, (5 << 80) | 9);
    }

    #[test]
    fn later_time_sorts_later() {
        let a = RunId::generate(Timestamp::from_millis(1_900_000_000_000));
        let b = RunId::generate(Timestamp::from_millis(1_900_000_000_001));
        assert!(a < b);
        assert_eq!(b.timestamp().as_millis(), 1_900_000_000_001);
    }

    #[test]
    fn bad_text_is_refused() {
        for bad in [
            "",
            "01ARZ3NDEKTSV4RRFFQ69G5FA",   // 25
            "01ARZ3NDEKTSV4RRFFQ69G5FAVX", // 27
            "01ARZ3NDEKTSV4RRFFQ69G5FAU",  // U is not in the alphabet
            "81ARZ3NDEKTSV4RRFFQ69G5FAV",  // overflows 128 bits
            "01ARZ3NDEKTSV4RRFFQ69G5F/V",
            "é1ARZ3NDEKTSV4RRFFQ69G5FA",
        ] {
            assert!(bad.parse::<RunId>().is_err(), "{bad:?} was accepted");
        }
        assert!("7ZZZZZZZZZZZZZZZZZZZZZZZZZ".parse::<RunId>().is_ok());
    }

    #[test]
    fn serde_uses_the_text_form() {
        let id: RunId = "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"01ARZ3NDEKTSV4RRFFQ69G5FAV\"");
        assert_eq!(serde_json::from_str::<RunId>(&json).unwrap(), id);
    }
}
