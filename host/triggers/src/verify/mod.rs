//! Webhook signature verification.
//!
//! Every scheme takes the request headers as an [`http::HeaderMap`], the raw
//! body exactly as received (`&[u8]`, before any JSON parsing), the secret
//! as bytes, and — for Stripe, whose signatures carry a timestamp — the
//! current time as a parameter.
//!
//! | scheme | header | what is signed |
//! |---|---|---|
//! | [`Scheme::Stripe`] | `Stripe-Signature: t=TS,v1=HEX[,v1=HEX…]` | `TS + "." + body`, HMAC-SHA256, tolerance 300 s by default |
//! | [`Scheme::Github`] | `X-Hub-Signature-256: sha256=HEX` | body, HMAC-SHA256 |
//! | [`Scheme::HmacSha256`] | configurable name, optional prefix, hex or base64 | body, HMAC-SHA256 |
//! | [`Scheme::Token`] | `Authorization: Bearer TOKEN` by default, or any header holding the bare token | nothing: a shared secret |
//!
//! All comparisons of secret material are constant-time. Errors say which
//! check failed and never contain the secret, the expected signature or the
//! signature that was sent.

mod error;
mod hmac_header;
mod stripe;
mod token;

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName};

pub use error::VerifyError;
pub use hmac_header::{
    Encoding, HmacOptions, github_signature_header, hmac_sha256_signature, verify_github,
    verify_hmac_sha256,
};
pub use stripe::{DEFAULT_STRIPE_TOLERANCE, StripeOptions, stripe_signature_header, verify_stripe};
pub use token::{TokenOptions, token_header_value, verify_token};

/// How a webhook endpoint authenticates its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// Stripe's `Stripe-Signature` header.
    Stripe(StripeOptions),
    /// GitHub's `X-Hub-Signature-256` header.
    Github,
    /// An HMAC-SHA256 of the body in a header of your choice.
    HmacSha256(HmacOptions),
    /// A shared token in a header.
    Token(TokenOptions),
}

impl Scheme {
    /// Stripe with the default tolerance of 300 s.
    pub fn stripe() -> Scheme {
        Scheme::Stripe(StripeOptions::default())
    }

    /// A shared token sent as `Authorization: Bearer TOKEN`.
    pub fn bearer_token() -> Scheme {
        Scheme::Token(TokenOptions::default())
    }

    /// The scheme's name as written in workflow files: `stripe`, `github`,
    /// `hmac-sha256` or `token`.
    pub fn name(&self) -> &'static str {
        match self {
            Scheme::Stripe(_) => "stripe",
            Scheme::Github => "github",
            Scheme::HmacSha256(_) => "hmac-sha256",
            Scheme::Token(_) => "token",
        }
    }

    /// The header this scheme reads.
    pub fn header(&self) -> HeaderName {
        match self {
            Scheme::Stripe(_) => stripe::header_name(),
            Scheme::Github => HmacOptions::github().header,
            Scheme::HmacSha256(options) => options.header.clone(),
            Scheme::Token(options) => options.header.clone(),
        }
    }

    /// Checks a request against this scheme.
    ///
    /// `now` only matters to Stripe, whose signatures are timestamped.
    pub fn verify(
        &self,
        secret: &[u8],
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        match self {
            Scheme::Stripe(options) => verify_stripe(secret, headers, body, now, options),
            Scheme::Github => verify_github(secret, headers, body),
            Scheme::HmacSha256(options) => verify_hmac_sha256(secret, headers, body, options),
            Scheme::Token(options) => verify_token(secret, headers, options),
        }
    }

    /// The header a sender would attach to `body`: its name and value.
    ///
    /// For tests and for users trying a workflow by hand. `now` is the
    /// timestamp a Stripe signature carries.
    pub fn sign(&self, secret: &[u8], body: &[u8], now: DateTime<Utc>) -> (HeaderName, String) {
        let value = match self {
            Scheme::Stripe(_) => stripe_signature_header(secret, body, now.timestamp()),
            Scheme::Github => github_signature_header(secret, body),
            Scheme::HmacSha256(options) => hmac_sha256_signature(secret, body, options),
            Scheme::Token(options) => token_header_value(secret, options),
        };
        (self.header(), value)
    }
}

/// Reads a header that must appear exactly once, as visible ASCII.
fn single_header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Result<&'a str, VerifyError> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Err(VerifyError::MissingHeader {
            header: name.to_string(),
        });
    };
    let malformed = |reason| VerifyError::MalformedHeader {
        header: name.to_string(),
        reason,
    };
    if values.next().is_some() {
        return Err(malformed("the header appears more than once"));
    }
    let value = first
        .to_str()
        .map_err(|_| malformed("the value is not visible ASCII"))?
        .trim();
    if value.is_empty() {
        return Err(malformed("the value is empty"));
    }
    Ok(value)
}

/// Refuses an empty secret: it would make every signature or token forgeable.
fn require_secret(secret: &[u8]) -> Result<(), VerifyError> {
    if secret.is_empty() {
        Err(VerifyError::EmptySecret)
    } else {
        Ok(())
    }
}
