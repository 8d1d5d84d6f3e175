//! The requests each HTTP provider sends, and how its answer is read.

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::mail::FakeMail;
use relais_plugin_sdk::testing::FakeResponse;
use serde_json::{Value, json};

use super::*;

#[test]
fn postmark_request_and_answer() {
    let host = secrets().on(Method::Post, POSTMARK, postmark_ok());
    let mut i = input(json!([postmark()]));
    i["tag"] = json!("dunning");
    i["reply_to"] = json!({"name": "Support \"N1\"", "address": "support@agence.test"});
    let out = run(&host, &FakeMail::new(), i).unwrap();
    assert_eq!(out["delivered_by"], "postmark");
    assert_eq!(out["message_id"], "b7bc2f4a-e38e-4336-af7d-e6c392c2f817");
    assert_eq!(out["response"], "OK");
    let req = &host.requests()[0];
    assert_eq!(req.header("x-postmark-server-token"), Some("pm-token"));
    assert_eq!(req.header("accept"), Some("application/json"));
    assert_eq!(
        req.json(),
        json!({
            "From": "Agence Dupont <facturation@agence.test>",
            "To": "Élodie Martin <elodie@client.test>",
            "ReplyTo": "\"Support \\\"N1\\\"\" <support@agence.test>",
            "Subject": SUBJECT,
            "TextBody": "Bonjour Élodie <3,\nvotre hébergement client.fr arrive à échéance.",
            "HtmlBody": "<p>Bonjour Élodie &lt;3,</p><p>client.fr</p>",
            "Tag": "dunning",
        })
    );
}

#[test]
fn sendgrid_request_and_answer() {
    let host = secrets().on(
        Method::Post,
        SENDGRID,
        FakeResponse::status(202).header("x-message-id", "sg-14c5d75ce93"),
    );
    let mut i = input(json!([sendgrid()]));
    i["cc"] = json!(["a@client.test", "b@client.test"]);
    i["headers"] = json!({"X-Campaign": "relance"});
    let out = run(&host, &FakeMail::new(), i).unwrap();
    assert_eq!(out["message_id"], "sg-14c5d75ce93");
    assert_eq!(out["response"], "202 Accepted");
    let req = &host.requests()[0];
    assert_eq!(req.header("authorization"), Some("Bearer SG.key"));
    assert_eq!(
        req.json(),
        json!({
            "personalizations": [{
                "to": [{"email": "elodie@client.test", "name": "Élodie Martin"}],
                "cc": [{"email": "a@client.test"}, {"email": "b@client.test"}],
            }],
            "from": {"email": "facturation@agence.test", "name": "Agence Dupont"},
            "subject": SUBJECT,
            "content": [
                {"type": "text/plain", "value": "Bonjour Élodie <3,\nvotre hébergement client.fr arrive à échéance."},
                {"type": "text/html", "value": "<p>Bonjour Élodie &lt;3,</p><p>client.fr</p>"},
            ],
            "headers": {"X-Campaign": "relance"},
        })
    );
}

/// Splits a `multipart/form-data` body into (name, value) pairs.
pub(super) fn form_fields(content_type: &str, body: &[u8]) -> Vec<(String, String)> {
    let boundary = content_type.split("boundary=").nth(1).expect("a boundary");
    let text = String::from_utf8(body.to_vec()).expect("utf-8 body");
    let end = format!("--{boundary}--\r\n");
    assert!(text.ends_with(&end), "{text}");
    text[..text.len() - end.len()]
        .split(&format!("--{boundary}\r\n"))
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (head, value) = part.split_once("\r\n\r\n").expect("part head");
            let name = head
                .split("name=\"")
                .nth(1)
                .and_then(|r| r.split('"').next());
            let value = value.strip_suffix("\r\n").expect("part end");
            (name.expect("part name").to_owned(), value.to_owned())
        })
        .collect()
}

#[test]
fn mailgun_sends_multipart_with_repeated_recipients() {
    let host = secrets().on(
        Method::Post,
        MAILGUN,
        FakeResponse::ok()
            .json(&json!({"id": "<2026.1@mg.agence.test>", "message": "Queued. Thank you."})),
    );
    let mut i = input(json!([mailgun()]));
    i["to"] = json!(["elodie@client.test", "Paul <paul@client.test>"]);
    i["tag"] = json!("dunning");
    i["reply_to"] = json!("support@agence.test");
    let out = run(&host, &FakeMail::new(), i).unwrap();
    assert_eq!(out["message_id"], "<2026.1@mg.agence.test>");
    assert_eq!(out["response"], "Queued. Thank you.");
    let req = &host.requests()[0];
    assert_eq!(req.header("authorization"), Some("Basic YXBpOm1nLWtleQ=="));
    let ct = req.header("content-type").unwrap();
    assert!(
        ct.starts_with("multipart/form-data; boundary=relais-"),
        "{ct}"
    );
    let fields = form_fields(ct, &req.body);
    let expect = |n: &str, v: &str| (n.to_owned(), v.to_owned());
    assert_eq!(
        fields,
        [
            expect("from", "Agence Dupont <facturation@agence.test>"),
            expect("to", "elodie@client.test"),
            expect("to", "Paul <paul@client.test>"),
            expect("subject", SUBJECT),
            expect(
                "text",
                "Bonjour Élodie <3,\nvotre hébergement client.fr arrive à échéance."
            ),
            expect("html", "<p>Bonjour Élodie &lt;3,</p><p>client.fr</p>"),
            expect("h:Reply-To", "support@agence.test"),
            expect("o:tag", "dunning"),
        ]
    );
}

#[test]
fn sendgrid_sends_bcc_only_messages_to_the_sender() {
    let host = secrets().on(Method::Post, SENDGRID, FakeResponse::status(202));
    let mut i = input(json!([sendgrid()]));
    i["to"] = json!([]);
    i["bcc"] = json!(["a@client.test"]);
    let out = run(&host, &FakeMail::new(), i).unwrap();
    assert_eq!(out["message_id"], Value::Null);
    let p = &host.requests()[0].json()["personalizations"][0];
    assert_eq!(
        p["to"],
        json!([{"email": "facturation@agence.test", "name": "Agence Dupont"}])
    );
    assert_eq!(p["bcc"], json!([{"email": "a@client.test"}]));
}
