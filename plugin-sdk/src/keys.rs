//! Short, stable keys made from longer ones: an idempotency key cut to a
//! vendor's length limit (Stripe's `Idempotency-Key`, PayPal's
//! `PayPal-Request-Id`), a key-value store key kept under
//! [`kv::MAX_KEY_BYTES`](crate::kv::MAX_KEY_BYTES).
//!
//! Both functions give the same result for the same input on every build
//! and platform: a retried step finds what an earlier attempt stored, and
//! a vendor sees the same key again.
//!
//! ```
//! use relais_plugin_sdk::keys;
//!
//! assert_eq!(keys::fit("run-1/charge", 255), "run-1/charge");
//! let long = format!("run-1/{}", "step".repeat(100));
//! let fitted = keys::fit(&long, 108);
//! assert_eq!(fitted.len(), 108);
//! assert!(fitted.starts_with("run-1/stepstep"));
//! assert_eq!(fitted, keys::fit(&long, 108));
//! assert_eq!(
//!     &fitted[91..],
//!     format!("-{:016x}", keys::fnv1a64(long.as_bytes()))
//! );
//! ```

/// Length of [`fit`]'s suffix: `-` and 16 hexadecimal digits.
const SUFFIX_BYTES: usize = 17;

/// FNV-1a, 64 bits, of `bytes`: a stable, dependency-free hash for
/// shortening keys. Not a cryptographic hash: never use it to check a
/// signature or hide a secret.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `key` when it is at most `max` bytes; otherwise its start, cut on a
/// character boundary, then `-` and the 16 hexadecimal digits of
/// [`fnv1a64`] of the whole key, at most `max` bytes in all. Two long keys
/// that share their start stay distinct.
///
/// A `max` under 17 bytes leaves no room for the start: the result is then
/// the hash's first `max` hexadecimal digits.
pub fn fit(key: &str, max: usize) -> String {
    if key.len() <= max {
        return key.to_owned();
    }
    let hash = format!("{:016x}", fnv1a64(key.as_bytes()));
    let Some(mut cut) = max.checked_sub(SUFFIX_BYTES) else {
        return hash[..max].to_owned();
    };
    while !key.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{hash}", &key[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn keys_that_fit_are_kept_and_longer_ones_are_cut_with_a_hash() {
        assert_eq!(fit("", 10), "");
        let exact = "k".repeat(255);
        assert_eq!(fit(&exact, 255), exact);
        let (a, b) = (format!("{exact}a"), format!("{exact}b"));
        let (fa, fb) = (fit(&a, 255), fit(&b, 255));
        assert_eq!(fa.len(), 255);
        assert_ne!(fa, fb, "a shared start stays distinct");
        assert_eq!(fa, format!("{}-{:016x}", &a[..238], fnv1a64(a.as_bytes())));
        assert_eq!(fa, fit(&a, 255), "stable");
    }

    #[test]
    fn cuts_fall_on_character_boundaries() {
        let wide = "é".repeat(200);
        let cut = fit(&wide, 108);
        assert_eq!(cut.len(), 107, "91 bytes of é rounds down to 90");
        assert!(cut.starts_with(&"é".repeat(45)));
        assert_eq!(&cut[90..91], "-");
    }

    #[test]
    fn tiny_limits_keep_only_the_hash() {
        let key = "a-rather-long-key";
        let hash = format!("{:016x}", fnv1a64(b"a-rather-long-key!"));
        assert_eq!(fit(&format!("{key}!"), 17), format!("-{hash}"));
        assert_eq!(fit(&format!("{key}!"), 16), hash);
        assert_eq!(fit(&format!("{key}!"), 4), hash[..4]);
        assert_eq!(fit("ab", 0), "");
    }
}
