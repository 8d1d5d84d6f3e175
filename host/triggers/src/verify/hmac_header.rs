//! An HMAC-SHA256 of the raw body in one header: GitHub's
//! `X-Hub-Signature-256: sha256=HEX`, and the generic scheme many other
//! senders use with their own header name, prefix and encoding.

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{VerifyError, require_secret, single_header};

/// How the signature bytes are written in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Hexadecimal; either case is accepted, lowercase is produced.
    #[default]
    Hex,
    /// Standard base64 (`+` and `/`); the `=` padding may be left out.
    Base64,
}

/// Settings of the generic HMAC-SHA256 scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacOptions {
    /// The header carrying the signature.
    pub header: HeaderName,
    /// Text before the signature, such as `sha256=`; empty for none. It must
    /// be present exactly as written, except for leading blanks, which HTTP
    /// strips from every header value.
    pub prefix: String,
    /// How the signature is encoded after the prefix.
    pub encoding: Encoding,
}

impl HmacOptions {
    /// GitHub's settings: `X-Hub-Signature-256: sha256=HEX`.
    pub fn github() -> HmacOptions {
        HmacOptions {
            header: HeaderName::from_static("x-hub-signature-256"),
            prefix: "sha256=".to_owned(),
            encoding: Encoding::Hex,
        }
    }
}

/// Verifies GitHub's `X-Hub-Signature-256` header against the raw body.
pub fn verify_github(secret: &[u8], headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
    verify_hmac_sha256(secret, headers, body, &HmacOptions::github())
}

/// Verifies an HMAC-SHA256 of the raw body carried in the configured header.
pub fn verify_hmac_sha256(
    secret: &[u8],
    headers: &HeaderMap,
    body: &[u8],
    options: &HmacOptions,
) -> Result<(), VerifyError> {
    require_secret(secret)?;
    let value = single_header(headers, &options.header)?;
    let malformed = |reason| VerifyError::MalformedHeader {
        header: options.header.to_string(),
        reason,
    };
    // The value arrives trimmed: so must the prefix be.
    let encoded = value
        .strip_prefix(options.prefix.trim_start())
        .ok_or_else(|| malformed("the signature does not start with the expected prefix"))?;
    let sent = match options.encoding {
        Encoding::Hex => {
            hex::decode(encoded).map_err(|_| malformed("the signature is not hexadecimal"))?
        }
        Encoding::Base64 => BASE64_ANY_PADDING
            .decode(encoded)
            .map_err(|_| malformed("the signature is not base64"))?,
    };
    let expected = hmac_sha256(secret, &[body]);
    if bool::from(expected.as_slice().ct_eq(&sent)) {
        Ok(())
    } else {
        Err(VerifyError::NoMatchingSignature {
            header: options.header.to_string(),
        })
    }
}

/// The value of GitHub's `X-Hub-Signature-256` header for `body`.
pub fn github_signature_header(secret: &[u8], body: &[u8]) -> String {
    hmac_sha256_signature(secret, body, &HmacOptions::github())
}

/// The header value the generic scheme expects for `body`: the prefix then
/// the encoded HMAC-SHA256.
pub fn hmac_sha256_signature(secret: &[u8], body: &[u8], options: &HmacOptions) -> String {
    let mac = hmac_sha256(secret, &[body]);
    let encoded = match options.encoding {
        Encoding::Hex => hex::encode(mac),
        Encoding::Base64 => general_purpose::STANDARD.encode(mac),
    };
    format!("{}{encoded}", options.prefix)
}

/// HMAC-SHA256 of the concatenated `parts`, keyed with `key`.
pub(super) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC is defined for keys of any length (long keys are hashed first),
    // so the constructor cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

const BASE64_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
