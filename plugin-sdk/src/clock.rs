//! The wall clock, as the host gives it to the plugin.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in Unix seconds: to date a record in the key-value store or to
/// tell whether a stored token expired. 0 when the clock reads before
/// 1970.
///
/// ```
/// let now = relais_plugin_sdk::clock::unix_now();
/// assert!(now > 1_700_000_000);
/// ```
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_now_follows_the_system_clock() {
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let now = unix_now();
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!((before as i64..=after as i64).contains(&now), "{now}");
    }
}
