//! HMAC-SHA256 headers over raw bytes: GitHub's `X-Hub-Signature-256` and
//! the generic scheme with its own header name, prefix and encoding.
//!
//! Input: `SECRET \0 HEADER_NAME \0 PREFIX \0 HEADER_VALUE \0 BODY \0 FLAGS`;
//! FLAGS bit 0 picks base64 over hex, bit 1 GitHub's settings. A header
//! name that is not valid falls back to `x-signature`.
//!
//! Properties: verifying any header neither panics nor accepts without a
//! secret; a header signed here verifies, and not for another body.

use http::{HeaderMap, HeaderName, HeaderValue};
use relais_triggers::verify::{Encoding, HmacOptions, Scheme, VerifyError};

pub fn verify_hmac(data: &[u8]) {
    let [secret, name, prefix, value, body, flags] = crate::parts::<6>(data);
    let flags = flags.first().copied().unwrap_or(0);
    let scheme = if flags & 2 != 0 {
        Scheme::Github
    } else {
        Scheme::HmacSha256(HmacOptions {
            header: HeaderName::from_bytes(name).unwrap_or(HeaderName::from_static("x-signature")),
            prefix: String::from_utf8_lossy(prefix).into_owned(),
            encoding: if flags & 1 != 0 {
                Encoding::Base64
            } else {
                Encoding::Hex
            },
        })
    };
    let now = crate::now();

    if let Ok(value) = HeaderValue::from_bytes(value) {
        let mut headers = HeaderMap::new();
        headers.insert(scheme.header(), value);
        let result = scheme.verify(secret, &headers, body, now);
        if secret.is_empty() {
            assert_eq!(result, Err(VerifyError::EmptySecret));
        }
    }

    let (name, signed) = scheme.sign(secret, body, now);
    // A header value is read as visible ASCII: a prefix that is not cannot
    // be verified either.
    let Ok(signed) = HeaderValue::from_str(&signed) else {
        return;
    };
    if signed.to_str().is_err() {
        return;
    }
    let mut headers = HeaderMap::new();
    headers.insert(name, signed.clone());
    let result = scheme.verify(secret, &headers, body, now);
    if secret.is_empty() {
        assert_eq!(result, Err(VerifyError::EmptySecret));
        return;
    }
    assert_eq!(
        result,
        Ok(()),
        "a header signed here was refused: {signed:?}"
    );
    let mut other = body.to_vec();
    other.push(b'!');
    assert!(
        matches!(
            scheme.verify(secret, &headers, &other, now),
            Err(VerifyError::NoMatchingSignature { .. })
        ),
        "a signature verified another body"
    );
}
