//! A shared token in a header, over raw bytes: `Authorization: Bearer
//! TOKEN` and a header holding the bare token.
//!
//! Input: `SECRET \0 HEADER_NAME \0 HEADER_VALUE \0 FLAGS`; FLAGS bit 0
//! picks the bare token in HEADER_NAME (`x-webhook-token` when not valid)
//! over `Authorization: Bearer`.
//!
//! Properties: verifying any header neither panics nor accepts without the
//! secret; the header made here for a token that can travel in a header
//! (visible ASCII, no surrounding blanks, which HTTP would strip) verifies,
//! and no other token does.

use http::{HeaderMap, HeaderName, HeaderValue};
use relais_triggers::verify::{Scheme, TokenOptions, VerifyError};

pub fn verify_token(data: &[u8]) {
    let [secret, name, value, flags] = crate::parts::<4>(data);
    let flags = flags.first().copied().unwrap_or(0);
    let scheme = if flags & 1 != 0 {
        Scheme::Token(TokenOptions::bare(
            HeaderName::from_bytes(name).unwrap_or(HeaderName::from_static("x-webhook-token")),
        ))
    } else {
        Scheme::bearer_token()
    };
    let now = crate::now();

    if let Ok(value) = HeaderValue::from_bytes(value) {
        let mut headers = HeaderMap::new();
        headers.insert(scheme.header(), value);
        let result = scheme.verify(secret, &headers, b"", now);
        if secret.is_empty() {
            assert_eq!(result, Err(VerifyError::EmptySecret));
        }
    }

    let (name, signed) = scheme.sign(secret, b"", now);
    let sendable = std::str::from_utf8(secret).is_ok_and(|s| {
        s.trim() == s && !s.is_empty() && HeaderValue::from_str(s).is_ok_and(|v| v.to_str().is_ok())
    });
    if !sendable {
        return;
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        name,
        HeaderValue::from_str(&signed).expect("a sendable token makes a valid header"),
    );
    assert_eq!(
        scheme.verify(secret, &headers, b"", now),
        Ok(()),
        "the header made for the token was refused: {signed:?}"
    );
    let mut other = secret.to_vec();
    other.push(b'!');
    assert!(
        matches!(
            scheme.verify(&other, &headers, b"", now),
            Err(VerifyError::TokenMismatch { .. })
        ),
        "the token verified another secret"
    );
}
