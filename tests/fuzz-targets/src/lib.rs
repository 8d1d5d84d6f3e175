//! The bodies of Relais's fuzz targets, as plain functions of the input
//! bytes.
//!
//! The libFuzzer binaries in `fuzz/` (run with `cargo +nightly fuzz run
//! NAME`) call these functions, and so does this crate's `replay` test,
//! which runs every input kept in `fuzz/corpus/NAME/` on stable Rust as part
//! of `cargo test`. A function panics when it finds a bug: a panic inside
//! the code under test, or a property that does not hold.
//!
//! Inputs made of several parts (a template and its context, a secret, a
//! header and a body) separate them with NUL bytes (see [`parts`]), so the
//! corpus files stay readable and easy to write by hand.

mod expr;
mod store_codec;
mod verify_hmac;
mod verify_stripe;
mod verify_token;
mod workflow;

pub use expr::expr;
pub use store_codec::store_codec;
pub use verify_hmac::verify_hmac;
pub use verify_stripe::verify_stripe;
pub use verify_token::verify_token;
pub use workflow::workflow;

/// A fuzz target's body: panics when the input shows a bug.
pub type Target = fn(&[u8]);

/// Every target by name: the name of its binary in `fuzz/` and of its
/// folder in `fuzz/corpus/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("expr", expr),
    ("store_codec", store_codec),
    ("verify_hmac", verify_hmac),
    ("verify_stripe", verify_stripe),
    ("verify_token", verify_token),
    ("workflow", workflow),
];

/// Splits `data` into `N` parts at its first `N - 1` NUL bytes; the last
/// part keeps the rest, NULs included, and missing parts are empty.
pub fn parts<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut out = [&data[..0]; N];
    let mut rest = data;
    for slot in out.iter_mut().take(N - 1) {
        match rest.iter().position(|&b| b == 0) {
            Some(i) => {
                *slot = &rest[..i];
                rest = &rest[i + 1..];
            }
            None => {
                *slot = rest;
                rest = &rest[rest.len()..];
            }
        }
    }
    out[N - 1] = rest;
    out
}

/// A fixed instant for everything that reads the clock:
/// 2026-03-29T08:00:00Z.
pub const NOW_SECS: i64 = 1_774_771_200;

/// [`NOW_SECS`] as a date-time.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(NOW_SECS, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::parts;

    #[test]
    fn parts_split_at_the_first_nuls_and_keep_the_rest() {
        assert_eq!(parts::<3>(b"a\0b\0c\0d"), [&b"a"[..], b"b", b"c\0d"]);
        assert_eq!(parts::<3>(b"a"), [&b"a"[..], b"", b""]);
        assert_eq!(parts::<1>(b"a\0b"), [&b"a\0b"[..]]);
    }
}
