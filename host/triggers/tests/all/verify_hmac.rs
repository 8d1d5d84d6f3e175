//! GitHub's `X-Hub-Signature-256` and the generic HMAC-SHA256 scheme.

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, HeaderValue};
use relais_triggers::verify::{
    Encoding, HmacOptions, Scheme, VerifyError, github_signature_header, hmac_sha256_signature,
    verify_github, verify_hmac_sha256,
};

/// GitHub's documented example ("Validating webhook deliveries").
const GITHUB_SECRET: &[u8] = b"It's a Secret to Everybody";
const GITHUB_BODY: &[u8] = b"Hello, World!";
const GITHUB_SIGNATURE: &str =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

/// HMAC-SHA256 of `GENERIC_BODY` keyed with `GENERIC_SECRET`, computed with
/// Python's `hmac` module when the test was written.
const GENERIC_SECRET: &[u8] = b"shpss_relais";
const GENERIC_BODY: &[u8] = br#"{"order":42}"#;
const GENERIC_BASE64: &str = "WpyTp2AxV6MzluRQW1RcVxYUa+p/C06FczJIpjuGBfE=";
const GENERIC_HEX: &str = "5a9c93a7603157a33396e4505b545c5716146bea7f0b4e85733248a63b8605f1";

fn with_header(name: &str, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_bytes(name.as_bytes()).unwrap(),
        HeaderValue::from_str(value).unwrap(),
    );
    headers
}

fn github(value: &str, body: &[u8]) -> Result<(), VerifyError> {
    verify_github(
        GITHUB_SECRET,
        &with_header("x-hub-signature-256", value),
        body,
    )
}

fn github_malformed(reason: &'static str) -> Result<(), VerifyError> {
    Err(VerifyError::MalformedHeader {
        header: "x-hub-signature-256".to_owned(),
        reason,
    })
}

fn github_no_match() -> Result<(), VerifyError> {
    Err(VerifyError::NoMatchingSignature {
        header: "x-hub-signature-256".to_owned(),
    })
}

fn shopify_like() -> HmacOptions {
    HmacOptions {
        header: HeaderName::from_static("x-shopify-hmac-sha256"),
        prefix: String::new(),
        encoding: Encoding::Base64,
    }
}

#[test]
fn accepts_githubs_documented_example() {
    assert_eq!(github(GITHUB_SIGNATURE, GITHUB_BODY), Ok(()));
    assert_eq!(
        github_signature_header(GITHUB_SECRET, GITHUB_BODY),
        GITHUB_SIGNATURE
    );
    // Hex digits in either case.
    assert_eq!(
        github(&GITHUB_SIGNATURE.replace("ea0eb", "EA0EB"), GITHUB_BODY),
        Ok(())
    );
}

#[test]
fn github_refuses_other_bodies_secrets_and_signatures() {
    assert_eq!(
        github(GITHUB_SIGNATURE, b"Hello, World?"),
        github_no_match()
    );
    assert_eq!(
        github(GITHUB_SIGNATURE, b"Hello, World!\n"),
        github_no_match()
    );
    assert_eq!(github(GITHUB_SIGNATURE, b""), github_no_match());
    let truncated = &GITHUB_SIGNATURE[..GITHUB_SIGNATURE.len() - 2];
    assert_eq!(github(truncated, GITHUB_BODY), github_no_match());
    assert_eq!(
        verify_github(
            b"It's a secret to everybody",
            &with_header("x-hub-signature-256", GITHUB_SIGNATURE),
            GITHUB_BODY
        ),
        github_no_match()
    );
}

#[test]
fn github_refuses_malformed_and_missing_headers() {
    let bare_hex = &GITHUB_SIGNATURE["sha256=".len()..];
    assert_eq!(
        github(bare_hex, GITHUB_BODY),
        github_malformed("the signature does not start with the expected prefix")
    );
    assert_eq!(
        github(&format!("sha1={bare_hex}"), GITHUB_BODY),
        github_malformed("the signature does not start with the expected prefix")
    );
    assert_eq!(
        github("sha256=not-hex", GITHUB_BODY),
        github_malformed("the signature is not hexadecimal")
    );
    assert_eq!(
        github("sha256=abc", GITHUB_BODY),
        github_malformed("the signature is not hexadecimal")
    );
    assert_eq!(
        verify_github(GITHUB_SECRET, &HeaderMap::new(), GITHUB_BODY),
        Err(VerifyError::MissingHeader {
            header: "x-hub-signature-256".to_owned()
        })
    );
    // The older SHA-1 header alone is not enough.
    assert_eq!(
        verify_github(
            GITHUB_SECRET,
            &with_header("x-hub-signature", "sha1=0123"),
            GITHUB_BODY
        ),
        Err(VerifyError::MissingHeader {
            header: "x-hub-signature-256".to_owned()
        })
    );
}

#[test]
fn generic_base64_accepts_an_independent_vector_with_or_without_padding() {
    let options = shopify_like();
    let check = |value: &str| {
        verify_hmac_sha256(
            GENERIC_SECRET,
            &with_header("x-shopify-hmac-sha256", value),
            GENERIC_BODY,
            &options,
        )
    };
    assert_eq!(check(GENERIC_BASE64), Ok(()));
    assert_eq!(check(GENERIC_BASE64.trim_end_matches('=')), Ok(()));
    assert_eq!(
        hmac_sha256_signature(GENERIC_SECRET, GENERIC_BODY, &options),
        GENERIC_BASE64
    );
    // The hex form is not base64 of the right bytes.
    assert_eq!(
        check(GENERIC_HEX),
        Err(VerifyError::NoMatchingSignature {
            header: "x-shopify-hmac-sha256".to_owned()
        })
    );
    assert_eq!(
        check("***"),
        Err(VerifyError::MalformedHeader {
            header: "x-shopify-hmac-sha256".to_owned(),
            reason: "the signature is not base64",
        })
    );
}

#[test]
fn generic_hex_with_a_prefix() {
    let options = HmacOptions {
        header: HeaderName::from_static("x-signature"),
        prefix: "hmac-sha256=".to_owned(),
        encoding: Encoding::Hex,
    };
    let check = |value: &str, body: &[u8]| {
        verify_hmac_sha256(
            GENERIC_SECRET,
            &with_header("x-signature", value),
            body,
            &options,
        )
    };
    let good = format!("hmac-sha256={GENERIC_HEX}");
    assert_eq!(check(&good, GENERIC_BODY), Ok(()));
    assert_eq!(
        hmac_sha256_signature(GENERIC_SECRET, GENERIC_BODY, &options),
        good
    );
    assert!(matches!(
        check(GENERIC_HEX, GENERIC_BODY),
        Err(VerifyError::MalformedHeader { .. })
    ));
    assert!(matches!(
        check(&good, br#"{"order":43}"#),
        Err(VerifyError::NoMatchingSignature { .. })
    ));
}

#[test]
fn every_hmac_configuration_round_trips() {
    let now = DateTime::<Utc>::UNIX_EPOCH;
    let bodies: [&[u8]; 3] = [b"", GENERIC_BODY, &[0xff; 4096]];
    let schemes = [
        Scheme::Github,
        Scheme::HmacSha256(shopify_like()),
        Scheme::HmacSha256(HmacOptions {
            header: HeaderName::from_static("x-sig"),
            prefix: "v1,".to_owned(),
            encoding: Encoding::Base64,
        }),
    ];
    for scheme in &schemes {
        for body in bodies {
            let (name, value) = scheme.sign(GENERIC_SECRET, body, now);
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_str(&value).unwrap());
            assert_eq!(scheme.verify(GENERIC_SECRET, &headers, body, now), Ok(()));
            assert!(
                scheme
                    .verify(b"another secret", &headers, body, now)
                    .is_err(),
                "{} accepted another secret",
                scheme.name()
            );
        }
    }
}

#[test]
fn a_prefix_starting_with_blanks_still_verifies() {
    // HTTP strips the blanks that start a header value, so a configured
    // prefix's leading blanks can never arrive: they are not required.
    let now = DateTime::<Utc>::UNIX_EPOCH;
    for prefix in [" v1=", "\t v1=", " "] {
        let scheme = Scheme::HmacSha256(HmacOptions {
            header: HeaderName::from_static("x-sig"),
            prefix: prefix.to_owned(),
            encoding: Encoding::Hex,
        });
        let (name, value) = scheme.sign(GENERIC_SECRET, GENERIC_BODY, now);
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(&value).unwrap());
        assert_eq!(
            scheme.verify(GENERIC_SECRET, &headers, GENERIC_BODY, now),
            Ok(()),
            "prefix {prefix:?}"
        );
    }
}

#[test]
fn errors_never_echo_the_secret_or_a_signature() {
    let error = github(
        "sha256=0000000000000000000000000000000000000000000000000000000000000000",
        GITHUB_BODY,
    )
    .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("757107ea"), "{shown}");
    assert!(!shown.contains("0000000000"), "{shown}");
    assert!(!shown.contains("Secret to Everybody"), "{shown}");
    assert_eq!(error.kind(), "bad_signature");
}

#[test]
fn an_empty_secret_is_refused() {
    let signature = github_signature_header(b"", GITHUB_BODY);
    assert_eq!(
        verify_github(
            b"",
            &with_header("x-hub-signature-256", &signature),
            GITHUB_BODY
        ),
        Err(VerifyError::EmptySecret)
    );
}
