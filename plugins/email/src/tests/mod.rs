//! Native tests through the SDK's fake host and fake relays.

mod input;
mod requests;

use std::time::Duration;

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::mail::{self, FakeMail};
use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
use relais_plugin_sdk::{Context, StepError};
use serde_json::{Value, json};

use super::PLUGIN;

pub(super) const SUBJECT: &str = "Échéance de votre hébergement — relance n°2";
pub(super) const POSTMARK: &str = "http://127.0.0.1:9001/email";
pub(super) const SENDGRID: &str = "http://127.0.0.1:9002/v3/mail/send";
pub(super) const MAILGUN: &str = "http://127.0.0.1:9003/v3/mg.agence.test/messages";

pub(super) fn cx() -> Context {
    Context::new("run-1", "remind")
}

pub(super) fn input(providers: Value) -> Value {
    json!({
        "from": "Agence Dupont <facturation@agence.test>",
        "to": ["Élodie Martin <elodie@client.test>"],
        "subject": "Échéance de votre hébergement — relance n°{{ n }}",
        "text": "Bonjour {{ name }},\nvotre hébergement {{ domain }} arrive à échéance.",
        "html": "<p>Bonjour {{ name }},</p><p>{{ domain }}</p>",
        "vars": {"name": "Élodie <3", "n": 2, "domain": "client.fr"},
        "providers": providers,
    })
}

pub(super) fn postmark() -> Value {
    json!({"type": "postmark", "base_url": "http://127.0.0.1:9001"})
}
pub(super) fn sendgrid() -> Value {
    json!({"type": "sendgrid", "base_url": "http://127.0.0.1:9002/"})
}
pub(super) fn mailgun() -> Value {
    json!({"type": "mailgun", "domain": "mg.agence.test", "base_url": "http://127.0.0.1:9003"})
}
pub(super) fn smtp() -> Value {
    json!({"type": "smtp", "relay": "primary"})
}

pub(super) fn secrets() -> FakeHost {
    FakeHost::new()
        .with_secret("postmark_server_token", "pm-token")
        .with_secret("sendgrid_api_key", "SG.key")
        .with_secret("mailgun_api_key", "mg-key")
}

pub(super) fn run(host: &FakeHost, relays: &FakeMail, input: Value) -> Result<Value, StepError> {
    relays.run(|| host.invoke(&PLUGIN, "send", input, &cx()))
}

pub(super) fn postmark_ok() -> FakeResponse {
    FakeResponse::ok().json(&json!({
        "To": "elodie@client.test", "SubmittedAt": "2026-11-22T10:00:00Z",
        "MessageID": "b7bc2f4a-e38e-4336-af7d-e6c392c2f817", "ErrorCode": 0, "Message": "OK",
    }))
}

#[test]
fn declaration_is_valid() {
    assert_eq!(PLUGIN.validate(), Ok(()));
    let info = PLUGIN.describe();
    let names: Vec<&str> = info.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["send", "render", "put-template"]);
    let send: Value = serde_json::from_str(&info.steps[0].input_schema).unwrap();
    assert_eq!(send["required"], json!(["from", "providers"]));
    let out: Value = serde_json::from_str(&info.steps[0].output_schema).unwrap();
    for field in [
        "delivered_by",
        "provider_index",
        "message_id",
        "attempts",
        "replayed",
    ] {
        assert!(out["properties"].get(field).is_some(), "{field}");
    }
}

#[test]
fn smtp_hands_the_rendered_message_to_the_host() {
    let relays = FakeMail::new().grant("primary");
    let mut with_headers = input(json!([smtp()]));
    with_headers["headers"] = json!({"List-Unsubscribe": "<mailto:stop@agence.test>"});
    with_headers["bcc"] = json!("archives@agence.test");
    let out = run(&FakeHost::new(), &relays, with_headers).unwrap();
    let id = mail::message_id_for("run-1/remind", "agence.test");
    assert_eq!(
        out,
        json!({
            "delivered_by": "smtp:primary", "provider_index": 0, "message_id": id,
            "response": "250 2.0.0 Ok: queued", "replayed": false,
            "attempts": [{"provider": "smtp:primary", "outcome": "delivered"}],
        })
    );
    let sent = relays.sent();
    assert_eq!(sent.len(), 1);
    let (relay, m) = &sent[0];
    assert_eq!(relay, "primary");
    assert_eq!(
        m.from,
        mail::Mailbox::named("Agence Dupont", "facturation@agence.test")
    );
    assert_eq!(
        m.to,
        [mail::Mailbox::named("Élodie Martin", "elodie@client.test")]
    );
    assert_eq!(m.bcc, [mail::Mailbox::new("archives@agence.test")]);
    assert_eq!(m.subject, SUBJECT);
    assert_eq!(
        m.text.as_deref(),
        Some("Bonjour Élodie <3,\nvotre hébergement client.fr arrive à échéance.")
    );
    assert_eq!(
        m.html.as_deref(),
        Some("<p>Bonjour Élodie &lt;3,</p><p>client.fr</p>")
    );
    assert_eq!(m.message_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        m.headers,
        [(
            "List-Unsubscribe".to_owned(),
            "<mailto:stop@agence.test>".to_owned()
        )]
    );
}

#[test]
fn falls_back_in_order_and_says_why() {
    let host = secrets()
        .on(
            Method::Post,
            POSTMARK,
            FakeResponse::status(503).text("down"),
        )
        .on(
            Method::Post,
            SENDGRID,
            FakeResponse::status(401)
                .json(&json!({"errors": [{"message": "authorization required", "field": "null"}]})),
        );
    let relays = FakeMail::new().grant("primary");
    let out = run(
        &host,
        &relays,
        input(json!([postmark(), sendgrid(), smtp()])),
    )
    .unwrap();
    assert_eq!(out["delivered_by"], "smtp:primary");
    assert_eq!(out["provider_index"], 2);
    let attempts = out["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["provider"], "postmark");
    assert_eq!(attempts[0]["outcome"], "retryable");
    assert!(
        attempts[0]["error"].as_str().unwrap().contains("503"),
        "{attempts:?}"
    );
    assert_eq!(attempts[1]["outcome"], "fatal");
    assert_eq!(
        attempts[1]["error"],
        "sendgrid: status 401: credentials refused (authorization required)"
    );
    assert_eq!(
        attempts[2],
        json!({"provider": "smtp:primary", "outcome": "delivered"})
    );
    assert_eq!(host.requests().len(), 2);
    assert_eq!(relays.sent().len(), 1);
}

#[test]
fn a_retryable_last_failure_is_retryable_and_all_fatal_is_fatal() {
    // Last provider retryable, with the relay's code; the first fatal.
    let host = secrets().on(
        Method::Post,
        POSTMARK,
        FakeResponse::status(422).json(&json!({"ErrorCode": 406, "Message": "You tried to send to a recipient that has been marked as inactive."})),
    );
    let relays = FakeMail::new().grant("primary").answer(
        "primary",
        Err(mail::Error::Retryable {
            message: "421 4.3.2 try later".into(),
            code: Some(421),
        }),
    );
    let err = run(&host, &relays, input(json!([postmark(), smtp()]))).unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(
        err.message(),
        "no provider accepted the message: postmark (fatal): status 422: ErrorCode 406: You tried to send to a recipient that has been marked as inactive.; smtp:primary (retryable): 421 4.3.2 try later"
    );

    // Rate limited first, fatal last: a later try may pass the first.
    let host = secrets().on(
        Method::Post,
        POSTMARK,
        FakeResponse::status(429).header("retry-after", "30"),
    );
    let err = run(&host, &FakeMail::new(), input(json!([postmark(), smtp()]))).unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert!(
        err.message()
            .contains("smtp:primary (fatal): relay \"primary\" is not granted"),
        "{err}"
    );

    // All fatal.
    let host = FakeHost::new().on(Method::Post, SENDGRID, FakeResponse::status(400));
    let err = run(&host, &FakeMail::new(), input(json!([postmark(), smtp()]))).unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert!(
        err.message()
            .contains("postmark (fatal): secret postmark_server_token is not granted"),
        "{err}"
    );
    assert!(host.requests().is_empty(), "no token, no request");

    // A transport failure is retryable.
    let host = secrets().on(
        Method::Post,
        POSTMARK,
        FakeResponse::transport_error("connection reset"),
    );
    let err = run(&host, &FakeMail::new(), input(json!([postmark()]))).unwrap_err();
    assert!(err.is_retryable());
}

#[test]
fn a_second_attempt_after_success_sends_nothing() {
    let host = secrets().on_once(Method::Post, POSTMARK, postmark_ok());
    let relays = FakeMail::new();
    let first = run(&host, &relays, input(json!([postmark()]))).unwrap();
    let again = relays.run(|| {
        host.invoke(
            &PLUGIN,
            "send",
            input(json!([postmark()])),
            &cx().with_attempt(2),
        )
    });
    let again = again.unwrap();
    assert_eq!(again["replayed"], true);
    assert_eq!(again["message_id"], first["message_id"]);
    assert_eq!(host.requests().len(), 1);
    // Another step (another idempotency key) sends again.
    let other = relays.run(|| {
        host.invoke(
            &PLUGIN,
            "send",
            input(json!([postmark()])),
            &cx().with_idempotency_key("run-1/other"),
        )
    });
    assert!(
        other.is_err(),
        "the route answered once: a second request was sent"
    );
    assert_eq!(host.requests().len(), 2);
}
