//! `send-sms`: the request, its checks, the errors and the send record.

use std::time::Duration;

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse, basic_auth};
use relais_plugin_sdk::{StepError, clock};
use serde_json::{Value, json};

use super::{ACCOUNT, MESSAGES, SID, host, message, run, twilio_error};
use crate::guard::{Record, key, parse_rfc2822};

fn input() -> Value {
    json!({"to": "+33612345678", "from": "+33700000000", "body": "Your payment failed"})
}

fn created() -> FakeResponse {
    FakeResponse::status(201).json(&message("queued"))
}

fn record(host: &FakeHost) -> Option<Record> {
    host.kv_value(&key("run-1/sms"))
        .map(|bytes| serde_json::from_slice(&bytes).unwrap())
}

#[test]
fn sends_the_form_with_basic_auth_and_records_the_sid() {
    let host = host().on(Method::Post, &format!("{MESSAGES}.json"), created());
    let out = run(
        &host,
        "send-sms",
        json!({"to": "whatsapp:+33612345678", "from": "whatsapp:+33700000000", "body": "Payé ✓",
               "media_url": ["https://cdn.example.com/a.png", "https://cdn.example.com/b.png"],
               "status_callback": "https://relais.example.com/hooks/sms", "validity_period": 600}),
    )
    .unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(out["message"]["sid"], SID);
    assert_eq!(out["message"]["status"], "queued");
    let sent = &host.requests()[0];
    let basic = basic_auth(ACCOUNT, "tok3n");
    assert_eq!(sent.header("authorization"), Some(basic.as_str()));
    assert_eq!(
        sent.text(),
        "To=whatsapp%3A%2B33612345678&Body=Pay%C3%A9+%E2%9C%93&From=whatsapp%3A%2B33700000000\
         &MediaUrl=https%3A%2F%2Fcdn.example.com%2Fa.png&MediaUrl=https%3A%2F%2Fcdn.example.com%2Fb.png\
         &StatusCallback=https%3A%2F%2Frelais.example.com%2Fhooks%2Fsms&ValidityPeriod=600"
    );
    assert_eq!(record(&host), Some(Record::Sent { sid: SID.into() }));
}

#[test]
fn a_messaging_service_picks_the_sender() {
    let host = host().on(Method::Post, &format!("{MESSAGES}.json"), created());
    run(
        &host,
        "send-sms",
        json!({"to": "+33612345678", "messaging_service_sid": "MG0123456789abcdef0123456789abcdef", "body": "x"}),
    )
    .unwrap();
    assert_eq!(
        host.requests()[0].text(),
        "To=%2B33612345678&Body=x&MessagingServiceSid=MG0123456789abcdef0123456789abcdef"
    );
}

#[test]
fn a_retry_after_a_success_reads_the_message_back() {
    let host = host()
        .on_once(Method::Post, &format!("{MESSAGES}.json"), created())
        .on(
            Method::Get,
            &format!("{MESSAGES}/{SID}.json"),
            FakeResponse::ok().json(&message("delivered")),
        );
    run(&host, "send-sms", input()).unwrap();
    let out = run(&host, "send-sms", input()).unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(out["message"]["status"], "delivered");
    let methods: Vec<_> = host.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, [Method::Post, Method::Get], "one send only");
}

#[test]
fn a_retry_after_an_unknown_outcome_finds_the_message_before_sending() {
    let now = clock::unix_now();
    let mut earlier = message("sent");
    earlier["body"] = json!("Sent from your Twilio trial account - Your payment failed");
    earlier["date_created"] = json!(rfc2822(now));
    let mut old = message("delivered");
    old["sid"] = json!("SM11111111111111111111111111111111");
    old["date_created"] = json!(rfc2822(now - 86_400));
    let list = format!("{MESSAGES}.json?To=%2B33612345678&PageSize=20&From=%2B33700000000");
    let host = host()
        .on_once(
            Method::Post,
            &format!("{MESSAGES}.json"),
            FakeResponse::transport_error("connection reset"),
        )
        .on(
            Method::Get,
            &list,
            FakeResponse::ok().json(&json!({"messages": [old, earlier], "end": 1})),
        );
    let err = run(&host, "send-sms", input()).unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(matches!(record(&host), Some(Record::Pending { .. })));
    let out = run(&host, "send-sms", input()).unwrap();
    assert_eq!(out["changed"], false);
    assert_eq!(out["message"]["sid"], SID);
    assert_eq!(record(&host), Some(Record::Sent { sid: SID.into() }));
    assert_eq!(
        host.requests()
            .iter()
            .filter(|r| r.method == Method::Post)
            .count(),
        1
    );
}

#[test]
fn a_retry_that_finds_nothing_sends() {
    let mut old = message("delivered");
    old["date_created"] = json!(rfc2822(clock::unix_now() - 3600));
    let list = format!("{MESSAGES}.json?To=%2B33612345678&PageSize=20&From=%2B33700000000");
    let host = host()
        .on_once(
            Method::Post,
            &format!("{MESSAGES}.json"),
            twilio_error(503, 20500, "Internal Server Error"),
        )
        .on(
            Method::Get,
            &list,
            FakeResponse::ok().json(&json!({"messages": [old]})),
        )
        .on(Method::Post, &format!("{MESSAGES}.json"), created());
    let err = run(&host, "send-sms", input()).unwrap_err();
    assert!(err.is_retryable());
    let out = run(&host, "send-sms", input()).unwrap();
    assert_eq!(out["changed"], true);
    assert_eq!(
        host.requests()
            .iter()
            .filter(|r| r.method == Method::Post)
            .count(),
        2
    );
}

#[test]
fn a_refusal_clears_the_record() {
    let host = host().on(
        Method::Post,
        &format!("{MESSAGES}.json"),
        twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"),
    );
    let err = run(&host, "send-sms", input()).unwrap_err();
    assert_eq!(
        err,
        StepError::fatal(format!(
            "POST /2010-04-01/Accounts/{ACCOUNT}/Messages.json: twilio refused (status 400, error 21610): \
             Attempt to send to unsubscribed recipient (https://www.twilio.com/docs/errors/21610)"
        ))
    );
    assert_eq!(record(&host), None);
}

#[test]
fn errors_map_onto_step_errors() {
    for (response, kind, retry_after) in [
        (
            twilio_error(400, 21602, "Message body is required."),
            "invalid-input",
            None,
        ),
        (
            twilio_error(400, 21211, "Invalid 'To' Phone Number"),
            "fatal",
            None,
        ),
        (twilio_error(401, 20003, "Authenticate"), "fatal", None),
        (
            twilio_error(404, 20404, "The requested resource was not found"),
            "invalid-input",
            None,
        ),
        (
            twilio_error(429, 20429, "Too Many Requests").header("retry-after", "4"),
            "retryable",
            Some(4),
        ),
        (FakeResponse::status(502), "retryable", None),
    ] {
        let host = host().on(Method::Post, &format!("{MESSAGES}.json"), response);
        let err = run(&host, "send-sms", input()).unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(err.retry_after(), retry_after.map(Duration::from_secs));
    }
}

#[test]
fn a_broken_store_stops_the_send() {
    let host = host().with_kv_failure("store offline").on(
        Method::Post,
        &format!("{MESSAGES}.json"),
        created(),
    );
    let err = run(&host, "send-sms", input()).unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(host.requests().is_empty(), "no guard, no send");
}

#[test]
fn bad_input_is_refused_before_any_request() {
    let host = host();
    let long = "x".repeat(1601);
    let cases = [
        (
            json!({"to": "0612345678"}),
            "to: \"0612345678\" is not an E.164 number",
        ),
        (json!({"to": "+33 6 12 34 56 78"}), "is not an E.164 number"),
        (json!({"to": "+123456"}), "is not an E.164 number"),
        (
            json!({"to": "WhatsApp:+33612345678"}),
            "is not an E.164 number",
        ),
        (json!({"body": long}), "body: 1601 characters, at most 1600"),
        (json!({"body": "  "}), "body: empty, and no media_url"),
        (
            json!({"from": null}),
            "give exactly one of from and messaging_service_sid",
        ),
        (
            json!({"messaging_service_sid": "MG0123456789abcdef0123456789abcdef"}),
            "give exactly one",
        ),
        (
            json!({"from": "a-b"}),
            "is not a number, short code or alphanumeric sender id",
        ),
        (
            json!({"from": "TwelveLetter"}),
            "is not a number, short code",
        ),
        (
            json!({"from": null, "messaging_service_sid": "MG123"}),
            "is not MG and 32 hex digits",
        ),
        (json!({"media_url": ["ftp://x/a.png"]}), "media_url"),
        (
            json!({"media_url": vec!["https://x/a.png"; 11]}),
            "media_url: 11 given, at most 10",
        ),
        (
            json!({"status_callback": "relais.example.com"}),
            "status_callback",
        ),
        (
            json!({"validity_period": 0}),
            "validity_period: 0 is not between 1 and 36000",
        ),
        (json!({"validity_period": 36001}), "validity_period: 36001"),
    ];
    for (change, message) in cases {
        let mut input = input();
        for (key, value) in change.as_object().unwrap() {
            if value.is_null() {
                input.as_object_mut().unwrap().remove(key);
            } else {
                input[key] = value.clone();
            }
        }
        let err = run(&host, "send-sms", input.clone()).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{input}");
        assert!(err.message().contains(message), "{message}: {err}");
    }
    assert!(host.requests().is_empty());
    let host = super::host().on(Method::Post, &format!("{MESSAGES}.json"), created());
    for accepted in [
        json!({"body": "x".repeat(1600)}),
        json!({"from": "ACME Host"}),
        json!({"from": "12345"}),
        json!({"body": "", "media_url": ["https://x/a.png"]}),
        json!({"validity_period": 36000}),
    ] {
        let mut input = input();
        for (key, value) in accepted.as_object().unwrap() {
            input[key] = value.clone();
        }
        let run_cx =
            relais_plugin_sdk::Context::new("run-1", format!("sms-{}", host.requests().len()));
        host.invoke(&crate::PLUGIN, "send-sms", input.clone(), &run_cx)
            .unwrap_or_else(|err| panic!("{input}: {err}"));
    }
}

#[test]
fn credentials_are_secrets() {
    let err = run(&FakeHost::new(), "send-sms", input()).unwrap_err();
    assert_eq!(
        err,
        StepError::fatal("secret twilio_account_sid is not granted to this step")
    );
    let host = FakeHost::new()
        .with_secret("twilio_account_sid", "not-a-sid")
        .with_secret("twilio_auth_token", "t");
    let err = run(&host, "send-sms", input()).unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert!(
        !err.message().contains("not-a-sid"),
        "the secret stays out of the message"
    );
}

#[test]
fn rfc2822_dates() {
    assert_eq!(parse_rfc2822("Thu, 01 Jan 1970 00:00:00 +0000"), Some(0));
    assert_eq!(
        parse_rfc2822("Thu, 24 Aug 2023 05:01:45 +0000"),
        Some(1_692_853_305)
    );
    assert_eq!(
        parse_rfc2822("24 Aug 2023 07:01:45 +0200"),
        Some(1_692_853_305)
    );
    assert_eq!(
        parse_rfc2822("Thu, 24 Aug 2023 00:01:45 -0500"),
        Some(1_692_853_305)
    );
    assert_eq!(
        parse_rfc2822("Tue, 29 Feb 2028 12:00:00 GMT"),
        Some(1_835_438_400)
    );
    for bad in [
        "",
        "yesterday",
        "Thu, 24 Foo 2023 05:01:45 +0000",
        "Thu, 24 Aug 2023 25:01:45 +0000",
        "Thu, 24 Aug 2023 05:01 +0000",
    ] {
        assert_eq!(parse_rfc2822(bad), None, "{bad}");
    }
}

/// Formats Unix seconds as Twilio does.
fn rfc2822(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // civil_from_days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "Mon, {day:02} {} {year} {:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
