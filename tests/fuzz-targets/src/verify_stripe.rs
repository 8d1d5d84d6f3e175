//! Stripe's `Stripe-Signature` scheme over raw bytes.
//!
//! Input: `SECRET \0 HEADER \0 BODY \0 PARAMS`, where PARAMS holds the
//! tolerance in seconds (`u16`, 300 when absent), the signing time's offset
//! from now (`i16`), then optionally now itself (`i64`, little-endian; the
//! fixed [`crate::NOW_SECS`] otherwise).
//!
//! Properties: verifying any header neither panics nor accepts without a
//! secret; a header signed here verifies exactly when its timestamp is
//! within the tolerance, and not for another body.

use std::time::Duration;

use chrono::DateTime;
use http::{HeaderMap, HeaderValue};
use relais_triggers::verify::{self, StripeOptions, VerifyError, stripe_signature_header};

pub fn verify_stripe(data: &[u8]) {
    let [secret, header, body, params] = crate::parts::<4>(data);
    let tolerance = params
        .get(..2)
        .map_or(300, |b| u16::from_le_bytes([b[0], b[1]]));
    let offset = params
        .get(2..4)
        .map_or(0, |b| i16::from_le_bytes([b[0], b[1]]));
    let now = params
        .get(4..12)
        .and_then(|b| b.try_into().ok())
        .map(i64::from_le_bytes)
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(crate::now);
    let options = StripeOptions {
        tolerance: Duration::from_secs(tolerance.into()),
    };

    if let Ok(value) = HeaderValue::from_bytes(header) {
        let mut headers = HeaderMap::new();
        headers.insert("stripe-signature", value);
        let result = verify::verify_stripe(secret, &headers, body, now, &options);
        if secret.is_empty() {
            assert_eq!(result, Err(VerifyError::EmptySecret));
        }
    }

    let Some(signed_at) = now.timestamp().checked_add(offset.into()) else {
        return;
    };
    let mut headers = HeaderMap::new();
    let value = stripe_signature_header(secret, body, signed_at);
    headers.insert(
        "stripe-signature",
        HeaderValue::from_str(&value).expect("a signed header is a valid header value"),
    );
    let result = verify::verify_stripe(secret, &headers, body, now, &options);
    if secret.is_empty() {
        assert_eq!(result, Err(VerifyError::EmptySecret));
        return;
    }
    if offset.unsigned_abs() <= tolerance {
        assert_eq!(result, Ok(()), "a fresh signature was refused: {value}");
    } else {
        assert!(
            matches!(result, Err(VerifyError::StaleTimestamp { .. })),
            "a signature {offset} s away passed a tolerance of {tolerance} s: {result:?}"
        );
    }
    let mut other = body.to_vec();
    other.push(b'!');
    assert!(
        matches!(
            verify::verify_stripe(secret, &headers, &other, now, &options),
            Err(VerifyError::NoMatchingSignature { .. })
        ),
        "a signature verified another body"
    );
}
