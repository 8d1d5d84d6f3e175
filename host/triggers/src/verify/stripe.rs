//! Stripe's `Stripe-Signature` header.
//!
//! The header reads `t=TIMESTAMP,v1=HEX[,v1=HEX…][,v0=…]`. The signed
//! payload is the decimal timestamp, a `.`, then the raw body; the signature
//! is its HMAC-SHA256 keyed with the endpoint secret exactly as Stripe shows
//! it (`whsec_…`, used as bytes, not decoded). Stripe sends several `v1`
//! entries while a secret is being rolled: any one may match.
//!
//! This follows Stripe's own libraries (`constructEvent` in stripe-node,
//! `webhook.ConstructEvent` in stripe-go): entries are split on `,` then on
//! the first `=`, keys other than `t` and `v1` are ignored, a `v1` value that
//! is not hex is skipped, the signature is checked before the timestamp (so
//! only a genuine sender learns that its clock is off), and the default
//! tolerance is 300 s. Unlike those libraries, a timestamp too far in the
//! future is refused as well as one too old, and a header with two `t`
//! entries is refused rather than read as its last one.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName};
use subtle::{Choice, ConstantTimeEq};

use super::hmac_header::hmac_sha256;
use super::{VerifyError, require_secret, single_header};

/// The tolerance Stripe's libraries use: 300 s either side of `now`.
pub const DEFAULT_STRIPE_TOLERANCE: Duration = Duration::from_secs(300);

/// Settings of the Stripe scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeOptions {
    /// How far the signed timestamp may be from `now`, in the past or the
    /// future. Counted in whole seconds; zero accepts only the same second.
    pub tolerance: Duration,
}

impl Default for StripeOptions {
    fn default() -> Self {
        StripeOptions {
            tolerance: DEFAULT_STRIPE_TOLERANCE,
        }
    }
}

pub(super) fn header_name() -> HeaderName {
    HeaderName::from_static("stripe-signature")
}

/// Verifies a Stripe webhook: the `Stripe-Signature` header against the raw
/// body, then the timestamp against `now`.
pub fn verify_stripe(
    secret: &[u8],
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
    options: &StripeOptions,
) -> Result<(), VerifyError> {
    require_secret(secret)?;
    let name = header_name();
    let value = single_header(headers, &name)?;
    let parsed = parse(value).map_err(|reason| VerifyError::MalformedHeader {
        header: name.to_string(),
        reason,
    })?;

    let expected = signature(secret, body, parsed.timestamp);
    // Every candidate is compared, so the time taken does not tell which one
    // matched.
    let matched = parsed
        .signatures
        .iter()
        .fold(Choice::from(0), |any, candidate| {
            any | expected.as_slice().ct_eq(candidate)
        });
    if !bool::from(matched) {
        return Err(VerifyError::NoMatchingSignature {
            header: name.to_string(),
        });
    }

    let age_secs = now.timestamp().saturating_sub(parsed.timestamp);
    let tolerance_secs = options.tolerance.as_secs();
    if age_secs.unsigned_abs() > tolerance_secs {
        return Err(VerifyError::StaleTimestamp {
            header: name.to_string(),
            age_secs,
            tolerance_secs,
        });
    }
    Ok(())
}

/// The value of a `Stripe-Signature` header for `body` signed at
/// `timestamp` (Unix seconds): `t=TIMESTAMP,v1=HEX`.
pub fn stripe_signature_header(secret: &[u8], body: &[u8], timestamp: i64) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(signature(secret, body, timestamp))
    )
}

fn signature(secret: &[u8], body: &[u8], timestamp: i64) -> [u8; 32] {
    hmac_sha256(secret, &[timestamp.to_string().as_bytes(), b".", body])
}

/// The parts of the header that matter.
struct Parsed {
    timestamp: i64,
    /// Decoded `v1` signatures; entries that are not hex are left out.
    signatures: Vec<Vec<u8>>,
}

fn parse(value: &str) -> Result<Parsed, &'static str> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for entry in value.split(',') {
        let Some((key, item)) = entry.trim().split_once('=') else {
            return Err("an entry is not of the form `key=value`");
        };
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err("the timestamp `t` appears more than once");
                }
                let parsed = item
                    .parse::<i64>()
                    .map_err(|_| "the timestamp `t` is not an integer")?;
                timestamp = Some(parsed);
            }
            "v1" => {
                if let Ok(decoded) = hex::decode(item) {
                    signatures.push(decoded);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or("no timestamp `t`")?;
    if signatures.is_empty() {
        return Err("no `v1` signature");
    }
    Ok(Parsed {
        timestamp,
        signatures,
    })
}
