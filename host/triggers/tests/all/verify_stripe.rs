//! Stripe's `Stripe-Signature` scheme.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use http::{HeaderMap, HeaderValue};
use relais_triggers::verify::{
    Scheme, StripeOptions, VerifyError, stripe_signature_header, verify_stripe,
};

const SECRET: &[u8] = b"whsec_relais_test_5up3r";
const BODY: &[u8] = br#"{"id":"evt_1Relais","object":"event","type":"invoice.payment_failed"}"#;
/// 2026-03-29T08:00:00Z.
const SIGNED_AT: i64 = 1_774_771_200;
/// HMAC-SHA256 of `SIGNED_AT + "." + BODY` keyed with `SECRET`, computed
/// with Python's `hmac` module when the test was written.
const EXPECTED_V1: &str = "32636675670c2a9e51a0f4e01d4fdd1a5ff153d00ca431979f48df961db256d1";
/// The same payload signed with another secret, `whsec_previous_secret`.
const OTHER_SECRET_V1: &str = "82cd810f434bf7a88856d1e914964154f7cbdf573383892d00877ee1262ae1fa";

fn headers(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("stripe-signature", HeaderValue::from_str(value).unwrap());
    headers
}

fn seconds_after_signing(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(SIGNED_AT + seconds, 0).unwrap()
}

fn check(value: &str, body: &[u8], now: DateTime<Utc>) -> Result<(), VerifyError> {
    verify_stripe(
        SECRET,
        &headers(value),
        body,
        now,
        &StripeOptions::default(),
    )
}

fn malformed(reason: &'static str) -> Result<(), VerifyError> {
    Err(VerifyError::MalformedHeader {
        header: "stripe-signature".to_owned(),
        reason,
    })
}

fn no_match() -> Result<(), VerifyError> {
    Err(VerifyError::NoMatchingSignature {
        header: "stripe-signature".to_owned(),
    })
}

#[test]
fn accepts_an_independently_computed_signature() {
    let header = format!("t={SIGNED_AT},v1={EXPECTED_V1}");
    assert_eq!(check(&header, BODY, seconds_after_signing(5)), Ok(()));
}

#[test]
fn signs_exactly_as_the_independent_computation() {
    assert_eq!(
        stripe_signature_header(SECRET, BODY, SIGNED_AT),
        format!("t={SIGNED_AT},v1={EXPECTED_V1}")
    );
}

#[test]
fn round_trips_through_the_signing_side() {
    let bodies: [&[u8]; 4] = [b"", b"{}", BODY, &[0, 159, 146, 150, 255]];
    for body in bodies {
        for signed_at in [0, 1, SIGNED_AT, 4_102_444_800] {
            let header = stripe_signature_header(SECRET, body, signed_at);
            let now = DateTime::from_timestamp(signed_at + 100, 0).unwrap();
            assert_eq!(check(&header, body, now), Ok(()), "{header}");
        }
    }
    let scheme = Scheme::stripe();
    let now = seconds_after_signing(0);
    let (name, value) = scheme.sign(SECRET, BODY, now);
    let mut map = HeaderMap::new();
    map.insert(name, HeaderValue::from_str(&value).unwrap());
    assert_eq!(scheme.verify(SECRET, &map, BODY, now), Ok(()));
}

#[test]
fn any_of_several_v1_signatures_may_match_and_others_are_ignored() {
    let now = seconds_after_signing(0);
    let rolled = format!("t={SIGNED_AT},v1={OTHER_SECRET_V1},v1={EXPECTED_V1}");
    assert_eq!(check(&rolled, BODY, now), Ok(()));
    let reversed = format!("t={SIGNED_AT},v1={EXPECTED_V1},v1={OTHER_SECRET_V1}");
    assert_eq!(check(&reversed, BODY, now), Ok(()));
    let with_v0 = format!("v0={OTHER_SECRET_V1},t={SIGNED_AT},v1={EXPECTED_V1},v0=abc");
    assert_eq!(check(&with_v0, BODY, now), Ok(()));
    // A v1 entry that is not hex is skipped, as stripe-go does.
    let with_junk = format!("t={SIGNED_AT},v1=not-hex,v1={EXPECTED_V1}");
    assert_eq!(check(&with_junk, BODY, now), Ok(()));
    // Uppercase hex is the same bytes.
    let upper = format!("t={SIGNED_AT},v1={}", EXPECTED_V1.to_uppercase());
    assert_eq!(check(&upper, BODY, now), Ok(()));
}

#[test]
fn refuses_signatures_that_do_not_match() {
    let now = seconds_after_signing(0);
    // Signed with another secret only.
    assert_eq!(
        check(&format!("t={SIGNED_AT},v1={OTHER_SECRET_V1}"), BODY, now),
        no_match()
    );
    // The body changed by one byte, or re-serialised with a trailing newline.
    let good = format!("t={SIGNED_AT},v1={EXPECTED_V1}");
    let mut tampered = BODY.to_vec();
    tampered[10] ^= 1;
    assert_eq!(check(&good, &tampered, now), no_match());
    let mut newline = BODY.to_vec();
    newline.push(b'\n');
    assert_eq!(check(&good, &newline, now), no_match());
    // The timestamp changed to replay the signature later.
    let replayed = format!("t={},v1={EXPECTED_V1}", SIGNED_AT + 1);
    assert_eq!(check(&replayed, BODY, seconds_after_signing(1)), no_match());
    // A truncated signature.
    let short = format!("t={SIGNED_AT},v1={}", &EXPECTED_V1[..62]);
    assert_eq!(check(&short, BODY, now), no_match());
    // The right signature with the wrong secret on our side.
    let result = verify_stripe(
        b"whsec_previous_secret",
        &headers(&good),
        BODY,
        now,
        &StripeOptions::default(),
    );
    assert_eq!(result, no_match());
}

#[test]
fn the_default_tolerance_is_300_seconds_either_way() {
    let header = format!("t={SIGNED_AT},v1={EXPECTED_V1}");
    assert_eq!(check(&header, BODY, seconds_after_signing(300)), Ok(()));
    assert_eq!(check(&header, BODY, seconds_after_signing(-300)), Ok(()));
    assert_eq!(
        check(&header, BODY, seconds_after_signing(301)),
        Err(VerifyError::StaleTimestamp {
            header: "stripe-signature".to_owned(),
            age_secs: 301,
            tolerance_secs: 300,
        })
    );
    assert_eq!(
        check(&header, BODY, seconds_after_signing(-301)),
        Err(VerifyError::StaleTimestamp {
            header: "stripe-signature".to_owned(),
            age_secs: -301,
            tolerance_secs: 300,
        })
    );
    // A fraction of a second does not count against the sender.
    let just_inside = seconds_after_signing(300) + TimeDelta::milliseconds(999);
    assert_eq!(check(&header, BODY, just_inside), Ok(()));
}

#[test]
fn the_tolerance_is_configurable() {
    let header = headers(&format!("t={SIGNED_AT},v1={EXPECTED_V1}"));
    let strict = StripeOptions {
        tolerance: Duration::from_secs(60),
    };
    let check = |seconds| {
        verify_stripe(
            SECRET,
            &header,
            BODY,
            seconds_after_signing(seconds),
            &strict,
        )
    };
    assert_eq!(check(60), Ok(()));
    assert_eq!(check(-60), Ok(()));
    assert!(matches!(
        check(61),
        Err(VerifyError::StaleTimestamp {
            age_secs: 61,
            tolerance_secs: 60,
            ..
        })
    ));
    assert!(matches!(
        check(-61),
        Err(VerifyError::StaleTimestamp { age_secs: -61, .. })
    ));
}

#[test]
fn the_signature_is_checked_before_the_timestamp() {
    // A forged request with an old timestamp learns nothing about the clock.
    let forged = format!("t={SIGNED_AT},v1={OTHER_SECRET_V1}");
    assert_eq!(
        check(&forged, BODY, seconds_after_signing(86_400)),
        no_match()
    );
}

#[test]
fn stale_messages_give_the_age_and_direction() {
    let header = format!("t={SIGNED_AT},v1={EXPECTED_V1}");
    let old = check(&header, BODY, seconds_after_signing(3_600)).unwrap_err();
    assert_eq!(
        old.to_string(),
        "stale timestamp in header `stripe-signature`: signed 3600 s ago, tolerance is 300 s"
    );
    let future = check(&header, BODY, seconds_after_signing(-900)).unwrap_err();
    assert_eq!(
        future.to_string(),
        "stale timestamp in header `stripe-signature`: signed 900 s in the future, tolerance is 300 s"
    );
    assert_eq!(future.kind(), "stale");
}

#[test]
fn refuses_missing_and_malformed_headers() {
    let now = seconds_after_signing(0);
    assert_eq!(
        verify_stripe(
            SECRET,
            &HeaderMap::new(),
            BODY,
            now,
            &StripeOptions::default()
        ),
        Err(VerifyError::MissingHeader {
            header: "stripe-signature".to_owned()
        })
    );
    let v1 = EXPECTED_V1;
    let cases = [
        ("garbage", "an entry is not of the form `key=value`"),
        (
            &*format!("t={SIGNED_AT},,v1={v1}"),
            "an entry is not of the form `key=value`",
        ),
        (
            &*format!("t=soon,v1={v1}"),
            "the timestamp `t` is not an integer",
        ),
        (
            &*format!("t={SIGNED_AT}.5,v1={v1}"),
            "the timestamp `t` is not an integer",
        ),
        (
            &*format!("t=,v1={v1}"),
            "the timestamp `t` is not an integer",
        ),
        (&*format!("v1={v1}"), "no timestamp `t`"),
        (&*format!("t={SIGNED_AT}"), "no `v1` signature"),
        (&*format!("t={SIGNED_AT},v0={v1}"), "no `v1` signature"),
        (
            &*format!("t={SIGNED_AT},v1=zz{}", &v1[2..]),
            "no `v1` signature",
        ),
        (
            &*format!("t=1,t={SIGNED_AT},v1={v1}"),
            "the timestamp `t` appears more than once",
        ),
        ("  ", "the value is empty"),
    ];
    for (value, reason) in cases {
        assert_eq!(
            check(value, BODY, now),
            malformed(reason),
            "header `{value}`"
        );
    }

    let mut twice = headers(&format!("t={SIGNED_AT},v1={v1}"));
    twice.append(
        "stripe-signature",
        HeaderValue::from_str(&format!("t={SIGNED_AT},v1={v1}")).unwrap(),
    );
    assert_eq!(
        verify_stripe(SECRET, &twice, BODY, now, &StripeOptions::default()),
        malformed("the header appears more than once")
    );

    let mut binary = HeaderMap::new();
    binary.insert(
        "stripe-signature",
        HeaderValue::from_bytes(b"t=1,v1=\xff").unwrap(),
    );
    assert_eq!(
        verify_stripe(SECRET, &binary, BODY, now, &StripeOptions::default()),
        malformed("the value is not visible ASCII")
    );
}

#[test]
fn an_empty_secret_is_refused_whatever_the_request() {
    let header = headers(&stripe_signature_header(b"", BODY, SIGNED_AT));
    assert_eq!(
        verify_stripe(
            b"",
            &header,
            BODY,
            seconds_after_signing(0),
            &StripeOptions::default()
        ),
        Err(VerifyError::EmptySecret)
    );
}

#[test]
fn errors_never_echo_the_secret_or_a_signature() {
    let now = seconds_after_signing(0);
    let secret_text = std::str::from_utf8(SECRET).unwrap();
    let mut tampered = BODY.to_vec();
    tampered[0] = b'[';
    let requests = [
        (
            format!("t={SIGNED_AT},v1={OTHER_SECRET_V1}"),
            BODY.to_vec(),
            now,
        ),
        (format!("t={SIGNED_AT},v1={EXPECTED_V1}"), tampered, now),
        (
            format!("t={SIGNED_AT},v1={EXPECTED_V1}"),
            BODY.to_vec(),
            seconds_after_signing(999),
        ),
        (format!("t=x,v1={EXPECTED_V1}"), BODY.to_vec(), now),
        (
            format!("t={SIGNED_AT},v0={EXPECTED_V1}"),
            BODY.to_vec(),
            now,
        ),
    ];
    for (value, body, now) in requests {
        let error = check(&value, &body, now).unwrap_err();
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains(secret_text), "{shown}");
            assert!(!shown.contains(EXPECTED_V1), "{shown}");
            assert!(!shown.contains(OTHER_SECRET_V1), "{shown}");
            assert!(!shown.contains(&EXPECTED_V1[..16]), "{shown}");
        }
    }
}
