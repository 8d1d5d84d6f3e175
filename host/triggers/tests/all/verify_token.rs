//! The shared-token scheme.

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, HeaderValue};
use relais_triggers::verify::{Scheme, TokenOptions, VerifyError, verify_token};

const TOKEN: &[u8] = b"tok_9f8e7d6c5b4a";

fn with_header(name: &str, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_bytes(name.as_bytes()).unwrap(),
        HeaderValue::from_str(value).unwrap(),
    );
    headers
}

fn bearer(value: &str) -> Result<(), VerifyError> {
    verify_token(
        TOKEN,
        &with_header("authorization", value),
        &TokenOptions::default(),
    )
}

fn mismatch(header: &str) -> Result<(), VerifyError> {
    Err(VerifyError::TokenMismatch {
        header: header.to_owned(),
    })
}

#[test]
fn the_default_is_an_authorization_bearer_token() {
    assert_eq!(bearer("Bearer tok_9f8e7d6c5b4a"), Ok(()));
    // The scheme word is case-insensitive (RFC 7235), the token is not.
    assert_eq!(bearer("bearer tok_9f8e7d6c5b4a"), Ok(()));
    assert_eq!(bearer("BEARER   tok_9f8e7d6c5b4a"), Ok(()));
    assert_eq!(bearer("Bearer TOK_9F8E7D6C5B4A"), mismatch("authorization"));
}

#[test]
fn near_misses_are_refused() {
    assert_eq!(bearer("Bearer tok_9f8e7d6c5b4"), mismatch("authorization"));
    assert_eq!(
        bearer("Bearer tok_9f8e7d6c5b4a5"),
        mismatch("authorization")
    );
    assert_eq!(bearer("Bearer x"), mismatch("authorization"));
    let malformed = |reason| {
        Err(VerifyError::MalformedHeader {
            header: "authorization".to_owned(),
            reason,
        })
    };
    assert_eq!(
        bearer("Basic tok_9f8e7d6c5b4a"),
        malformed("the authentication scheme is not the expected one")
    );
    assert_eq!(
        bearer("tok_9f8e7d6c5b4a"),
        malformed("expected an authentication scheme then a token")
    );
    assert_eq!(
        bearer("Bearer"),
        malformed("expected an authentication scheme then a token")
    );
    assert_eq!(
        verify_token(TOKEN, &HeaderMap::new(), &TokenOptions::default()),
        Err(VerifyError::MissingHeader {
            header: "authorization".to_owned()
        })
    );
}

#[test]
fn a_bare_token_header_can_be_configured() {
    let options = TokenOptions::bare(HeaderName::from_static("x-webhook-token"));
    let check = |headers: &HeaderMap| verify_token(TOKEN, headers, &options);
    assert_eq!(
        check(&with_header("x-webhook-token", "tok_9f8e7d6c5b4a")),
        Ok(())
    );
    assert_eq!(
        check(&with_header("x-webhook-token", "Bearer tok_9f8e7d6c5b4a")),
        mismatch("x-webhook-token")
    );
    // The default header does not stand in for the configured one.
    assert_eq!(
        check(&with_header("authorization", "Bearer tok_9f8e7d6c5b4a")),
        Err(VerifyError::MissingHeader {
            header: "x-webhook-token".to_owned()
        })
    );
}

#[test]
fn signing_side_round_trips() {
    let now = DateTime::<Utc>::UNIX_EPOCH;
    for scheme in [
        Scheme::bearer_token(),
        Scheme::Token(TokenOptions::bare(HeaderName::from_static(
            "x-webhook-token",
        ))),
    ] {
        let (name, value) = scheme.sign(TOKEN, b"ignored", now);
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(&value).unwrap());
        assert_eq!(scheme.verify(TOKEN, &headers, b"any body", now), Ok(()));
        assert!(scheme.verify(b"other", &headers, b"", now).is_err());
    }
}

#[test]
fn errors_never_echo_either_token() {
    let error = bearer("Bearer guessed_token_value").unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("tok_9f8e"), "{shown}");
    assert!(!shown.contains("guessed_token_value"), "{shown}");
    assert_eq!(error.kind(), "bad_token");
}

#[test]
fn an_empty_secret_is_refused() {
    assert_eq!(
        verify_token(
            b"",
            &with_header("authorization", "Bearer x"),
            &TokenOptions::default()
        ),
        Err(VerifyError::EmptySecret)
    );
}
