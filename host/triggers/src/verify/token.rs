//! A shared token in a header.
//!
//! The default is `Authorization: Bearer TOKEN` (RFC 6750; the scheme word
//! is matched without regard to case). A sender that cannot set
//! `Authorization` can be given another header holding the bare token, such
//! as `X-Webhook-Token: TOKEN`, with [`TokenOptions::bare`].

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{VerifyError, require_secret, single_header};

/// Settings of the token scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOptions {
    /// The header carrying the token.
    pub header: HeaderName,
    /// The authentication scheme word before the token (`Bearer`), or
    /// `None` when the header holds the bare token.
    pub auth_scheme: Option<String>,
}

impl Default for TokenOptions {
    /// `Authorization: Bearer TOKEN`.
    fn default() -> Self {
        TokenOptions {
            header: AUTHORIZATION,
            auth_scheme: Some("Bearer".to_owned()),
        }
    }
}

impl TokenOptions {
    /// A header holding the bare token, such as `X-Webhook-Token`.
    pub fn bare(header: HeaderName) -> TokenOptions {
        TokenOptions {
            header,
            auth_scheme: None,
        }
    }
}

/// Verifies that the configured header carries the shared `secret`.
///
/// Both sides are hashed with SHA-256 before a constant-time comparison, so
/// neither the content nor the length of the secret shows in the timing.
pub fn verify_token(
    secret: &[u8],
    headers: &HeaderMap,
    options: &TokenOptions,
) -> Result<(), VerifyError> {
    require_secret(secret)?;
    let value = single_header(headers, &options.header)?;
    let token = match &options.auth_scheme {
        None => value,
        Some(scheme) => {
            let malformed = || VerifyError::MalformedHeader {
                header: options.header.to_string(),
                reason: "expected an authentication scheme then a token",
            };
            let (word, rest) = value.split_once(' ').ok_or_else(malformed)?;
            if !word.eq_ignore_ascii_case(scheme) {
                return Err(VerifyError::MalformedHeader {
                    header: options.header.to_string(),
                    reason: "the authentication scheme is not the expected one",
                });
            }
            let token = rest.trim_start_matches(' ');
            if token.is_empty() {
                return Err(malformed());
            }
            token
        }
    };
    let sent = Sha256::digest(token.as_bytes());
    let expected = Sha256::digest(secret);
    if bool::from(sent.as_slice().ct_eq(expected.as_slice())) {
        Ok(())
    } else {
        Err(VerifyError::TokenMismatch {
            header: options.header.to_string(),
        })
    }
}

/// The header value that carries `token` under these settings, such as
/// `Bearer TOKEN`.
pub fn token_header_value(token: &[u8], options: &TokenOptions) -> String {
    let token = String::from_utf8_lossy(token);
    match &options.auth_scheme {
        Some(scheme) => format!("{scheme} {token}"),
        None => token.into_owned(),
    }
}
