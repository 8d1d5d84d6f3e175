//! `email`: Postmark, SendGrid and Mailgun against their own OpenAPI
//! documents (`../shared/vendor-apis/`, served by the contract mock behind
//! a recording proxy), and SMTP through a real server on 127.0.0.1, all in
//! the real host.

mod proxy;
mod smtp;
mod vendors;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use relais_contract_tests::repo_root;
use relais_runtime::{
    Context, HttpGrants, Invocation, InvokeError, MailRelay, MailTls, MemoryKv, Origin, Outcome,
    Plugin, PluginSettings, Runtime, RuntimeConfig, SecretValue, Secrets, StepError,
};
use serde_json::{Value, json};

use proxy::{After, Proxy};
use smtp::{Certs, Sink};
use vendors::{mailgun, multipart_fields, postmark, sendgrid};

const SUBJECT: &str = "Échéance de votre hébergement — relance n°2";
const SECRETS: &[(&str, &str)] = &[
    ("postmark_server_token", "pm-server-token-1"),
    ("sendgrid_api_key", "SG.test-key-1"),
    ("mailgun_api_key", "key-mailgun-1"),
];

async fn email(origins: &[Origin], relays: BTreeMap<String, MailRelay>, grant: &[&str]) -> Plugin {
    let path = repo_root().join("target/plugins/email.wasm");
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-plugins.sh plugin-email",
        path.display()
    );
    let runtime = Runtime::new(&RuntimeConfig {
        mail_relays: relays,
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let settings = PluginSettings {
        http: HttpGrants::hosts(origins.iter().cloned()),
        mail: grant.iter().map(|g| g.to_string()).collect(),
        ..PluginSettings::default()
    };
    runtime.load(&path, settings).await.expect("load email").0
}

async fn send(plugin: &Plugin, input: Value, kv: Arc<MemoryKv>) -> Outcome {
    plugin
        .invoke(Invocation {
            step: "send".into(),
            input: input.to_string(),
            context: Context {
                run_id: "run-contract".into(),
                step_id: "remind".into(),
                attempt: 1,
                idempotency_key: "run-contract/remind".into(),
            },
            secrets: SECRETS.iter().copied().collect::<Secrets>(),
            kv,
        })
        .await
}

fn message(providers: Value) -> Value {
    json!({
        "from": "Agence Dupont <facturation@agence.test>",
        "to": ["Élodie Martin <elodie@client.test>"],
        "cc": "compta@client.test",
        "reply_to": "support@agence.test",
        "subject": "Échéance de votre hébergement — relance n°{{ n }}",
        "text": "Bonjour {{ name }},\nvotre hébergement arrive à échéance.",
        "html": "<p>Bonjour {{ name }},</p><p>Réglez avant le 30 novembre.</p>",
        "vars": {"n": 2, "name": "Élodie"},
        "headers": {"X-Relais-Test": "contract"},
        "tag": "dunning",
        "providers": providers,
    })
}

fn contract_body(proxy: &Proxy) -> Value {
    let exchanges = proxy.exchanges();
    assert_eq!(exchanges.len(), 1, "{exchanges:?}");
    serde_json::from_str(&exchanges[0].contract_body).unwrap_or(Value::Null)
}

#[tokio::test]
async fn postmark_keeps_its_contract() {
    // The document has no example answer (the mock answers `{}`): once the
    // mock accepted the request, the proxy answers with the example of
    // https://postmarkapp.com/developer/api/email-api#send-a-single-email.
    let documented = json!({
        "To": "elodie@client.test", "SubmittedAt": "2026-11-22T10:00:00.0000000-05:00",
        "MessageID": "b7bc2f4a-e38e-4336-af7d-e6c392c2f817", "ErrorCode": 0, "Message": "OK",
    });
    let reply = documented.to_string();
    let (_mock, proxy) = postmark(move |_| {
        After::Reply(
            200,
            vec![("content-type".into(), "application/json".into())],
            reply.clone(),
        )
    })
    .await;
    let providers = json!([{"type": "postmark", "base_url": proxy.base_url()}]);
    let p = email(&[proxy.origin()], BTreeMap::new(), &[]).await;
    let out = send(&p, message(providers), Arc::new(MemoryKv::default())).await;
    proxy.assert_contract_kept();
    assert_eq!(proxy.exchanges()[0].contract_status, 200);
    let output = out.result.expect("sent");
    let answer = documented;
    assert_eq!(output["delivered_by"], "postmark");
    assert_eq!(output["message_id"], answer["MessageID"]);
    assert_eq!(output["response"], answer["Message"]);
    let request = &proxy.exchanges()[0].request;
    assert_eq!(request.path, "/email");
    assert_eq!(
        request.header("x-postmark-server-token"),
        Some("pm-server-token-1")
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["Subject"], SUBJECT);
    assert_eq!(body["To"], "Élodie Martin <elodie@client.test>");
    assert_eq!(
        body["Headers"],
        json!([{"Name": "X-Relais-Test", "Value": "contract"}])
    );
}

#[tokio::test]
async fn sendgrid_keeps_its_contract() {
    // A 202 carries the message id in `X-Message-Id`; the document does not
    // model response headers, so the proxy adds one once the mock accepted
    // the request (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send).
    let (_mock, proxy) = sendgrid(|_| {
        After::Reply(
            202,
            vec![("x-message-id".into(), "sg-W6A1pD2".into())],
            String::new(),
        )
    })
    .await;
    let providers = json!([{"type": "sendgrid", "base_url": proxy.base_url()}]);
    let p = email(&[proxy.origin()], BTreeMap::new(), &[]).await;
    let out = send(&p, message(providers), Arc::new(MemoryKv::default())).await;
    proxy.assert_contract_kept();
    assert_eq!(proxy.exchanges()[0].contract_status, 202);
    let output = out.result.expect("sent");
    assert_eq!(output["message_id"], "sg-W6A1pD2");
    assert_eq!(output["response"], "202 Accepted");
    let request = &proxy.exchanges()[0].request;
    assert_eq!(
        request.header("authorization"),
        Some("Bearer SG.test-key-1")
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["subject"], SUBJECT);
    assert_eq!(body["reply_to"], json!({"email": "support@agence.test"}));
}

#[tokio::test]
async fn mailgun_keeps_its_contract() {
    let (_mock, proxy, _spec) = mailgun(|_| After::Contract).await;
    let providers =
        json!([{"type": "mailgun", "domain": "mg.agence.test", "base_url": proxy.base_url()}]);
    let p = email(&[proxy.origin()], BTreeMap::new(), &[]).await;
    let out = send(&p, message(providers), Arc::new(MemoryKv::default())).await;
    proxy.assert_contract_kept();
    let output = out.result.expect("sent");
    let answer = contract_body(&proxy);
    assert_eq!(output["message_id"], answer["id"]);
    assert_eq!(output["response"], answer["message"]);
    let request = &proxy.exchanges()[0].request;
    assert_eq!(request.path, "/v3/mg.agence.test/messages");
    assert_eq!(
        request.header("authorization"),
        Some("Basic YXBpOmtleS1tYWlsZ3VuLTE=")
    );
    let fields = multipart_fields(request.header("content-type").unwrap(), &request.body).unwrap();
    assert!(
        fields.contains(&("subject".into(), SUBJECT.into())),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("h:X-Relais-Test".into(), "contract".into())),
        "{fields:?}"
    );
}

/// The mocks are not lenient: requests that break each document are
/// refused, so a plugin sending them would fail the tests above.
#[tokio::test]
async fn the_contracts_refuse_broken_requests() {
    let (_m1, pm) = postmark(|_| After::Contract).await;
    let (_m2, sg) = sendgrid(|_| After::Contract).await;
    let (_m3, mg, _spec) = mailgun(|_| After::Contract).await;
    let json_ct = ("content-type", "application/json".to_string());
    let post = |url: String, headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        proxy::post(url, headers, body)
    };
    // Postmark: no server token header.
    let s = post(
        format!("{}/email", pm.base_url()),
        vec![json_ct.clone()],
        br#"{"From":"a@b.test","To":"c@d.test","Subject":"s","TextBody":"t"}"#.to_vec(),
    )
    .await;
    assert!(matches!(s, 400 | 401 | 422), "{s}");
    // Postmark: a field of the wrong type.
    let s = post(
        format!("{}/email", pm.base_url()),
        vec![json_ct.clone(), ("x-postmark-server-token", "t".into())],
        br#"{"From":"a@b.test","To":["c@d.test"],"Subject":"s"}"#.to_vec(),
    )
    .await;
    assert_eq!(s, 422);
    // SendGrid: no `from`.
    let s = post(format!("{}/v3/mail/send", sg.base_url()), vec![json_ct.clone(), ("authorization", "Bearer k".into())], br#"{"personalizations":[{"to":[{"email":"c@d.test"}]}],"subject":"s","content":[{"type":"text/plain","value":"t"}]}"#.to_vec()).await;
    assert_eq!(s, 422);
    // Mailgun: urlencoded instead of multipart, and multipart without `to`.
    let s = post(
        format!("{}/v3/mg.test/messages", mg.base_url()),
        vec![
            ("content-type", "application/x-www-form-urlencoded".into()),
            ("authorization", "Basic YXBpOms=".into()),
        ],
        b"from=a%40b.test&to=c%40d.test&subject=s&text=t".to_vec(),
    )
    .await;
    assert_eq!(s, 400);
    let body = "--b\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\na@b.test\r\n--b\r\nContent-Disposition: form-data; name=\"subject\"\r\n\r\ns\r\n--b--\r\n";
    let s = post(
        format!("{}/v3/mg.test/messages", mg.base_url()),
        vec![
            ("content-type", "multipart/form-data; boundary=b".into()),
            ("authorization", "Basic YXBpOms=".into()),
        ],
        body.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(s, 422);
}

fn starttls_relay(sink: &Sink, certs: &Certs, password: &str) -> BTreeMap<String, MailRelay> {
    BTreeMap::from([(
        "primary".to_string(),
        MailRelay {
            port: Some(sink.port),
            tls: MailTls::Starttls,
            ca_file: Some(certs.path("ca.pem")),
            username: Some("relais".into()),
            password: Some(SecretValue::new(password)),
            timeout: Duration::from_secs(5),
            ..MailRelay::new("127.0.0.1")
        },
    )])
}

fn sink_with_tls(certs: &Certs) -> Sink {
    let (cert, key) = (certs.path("cert.pem"), certs.path("key.pem"));
    Sink::start(&[
        "--starttls",
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--user",
        "relais",
        "--password",
        "smtp-pass-9",
    ])
}

/// Postmark down (503, https://postmarkapp.com/developer/api/overview#response-codes),
/// SendGrid refusing the key (401, its documented error envelope), then
/// SMTP delivers: the output says who delivered and why the others failed,
/// and the message the SMTP server received reads right.
#[tokio::test]
async fn falls_back_to_smtp_and_the_message_arrives_intact() {
    let (_m1, pm) = postmark(|_| After::Reply(503, vec![], String::new())).await;
    let (_m2, sg) = sendgrid(|_| {
        After::Reply(
            401,
            vec![("content-type".into(), "application/json".into())],
            r#"{"errors":[{"message":"authorization required","field":null}]}"#.into(),
        )
    })
    .await;
    let certs = Certs::new();
    let sink = sink_with_tls(&certs);
    let providers = json!([
        {"type": "postmark", "base_url": pm.base_url()},
        {"type": "sendgrid", "base_url": sg.base_url()},
        {"type": "smtp", "relay": "primary"},
    ]);
    let p = email(
        &[pm.origin(), sg.origin()],
        starttls_relay(&sink, &certs, "smtp-pass-9"),
        &["primary"],
    )
    .await;
    let out = send(&p, message(providers), Arc::new(MemoryKv::default())).await;
    pm.assert_contract_kept();
    sg.assert_contract_kept();
    let output = out.result.expect("delivered by smtp");
    assert_eq!(output["delivered_by"], "smtp:primary");
    assert_eq!(output["provider_index"], 2);
    let attempts = output["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["outcome"], "retryable");
    assert!(
        attempts[0]["error"].as_str().unwrap().contains("503"),
        "{attempts:?}"
    );
    assert_eq!(attempts[1]["outcome"], "fatal");
    assert!(
        attempts[1]["error"]
            .as_str()
            .unwrap()
            .contains("credentials refused (authorization required)"),
        "{attempts:?}"
    );
    assert_eq!(attempts[2]["outcome"], "delivered");

    let got = sink.messages(1);
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(
        (m["tls"].clone(), m["auth_user"].clone()),
        (json!(true), json!("relais"))
    );
    assert_eq!(
        m["rcpt_tos"],
        json!(["elodie@client.test", "compta@client.test"])
    );
    let h = &m["message"]["headers"];
    assert_eq!(h["subject"], SUBJECT);
    assert_eq!(h["to"], "Élodie Martin <elodie@client.test>");
    assert_eq!(h["cc"], "compta@client.test");
    assert_eq!(h["reply-to"], "support@agence.test");
    assert_eq!(h["x-relais-test"], "contract");
    assert_eq!(
        h["message-id"],
        format!("<{}>", output["message_id"].as_str().unwrap())
    );
    let raw_subject = m["message"]["raw_headers"]["subject"].as_str().unwrap();
    assert!(
        raw_subject.starts_with("=?utf-8?") && raw_subject.is_ascii(),
        "RFC 2047: {raw_subject}"
    );
    assert!(sink.raw(1).is_ascii());
    assert_eq!(m["message"]["content_type"], "multipart/alternative");
    let parts = m["message"]["parts"].as_array().unwrap();
    assert_eq!(parts[0]["content_type"], "text/plain");
    assert_eq!(parts[0]["charset"], "utf-8");
    assert_eq!(
        parts[0]["body"],
        "Bonjour Élodie,\r\nvotre hébergement arrive à échéance."
    );
    assert_eq!(parts[1]["content_type"], "text/html");
    assert_eq!(
        parts[1]["body"],
        "<p>Bonjour Élodie,</p><p>Réglez avant le 30 novembre.</p>"
    );
}

/// Postmark refusing the message (422 with its ErrorCode envelope, as its
/// document declares) is fatal; rate limited (429, documented on the same
/// page) is retryable.
#[tokio::test]
async fn postmark_refusals_are_fatal_and_rate_limits_retryable() {
    for (status, body, retryable) in [
        (
            422,
            r#"{"ErrorCode":406,"Message":"You tried to send to a recipient that has been marked as inactive."}"#,
            false,
        ),
        (
            429,
            r#"{"ErrorCode":429,"Message":"Rate limit exceeded"}"#,
            true,
        ),
    ] {
        let (_m, pm) = postmark(move |_| {
            After::Reply(
                status,
                vec![("content-type".into(), "application/json".into())],
                body.into(),
            )
        })
        .await;
        let p = email(&[pm.origin()], BTreeMap::new(), &[]).await;
        let out = send(
            &p,
            message(json!([{"type": "postmark", "base_url": pm.base_url()}])),
            Arc::new(MemoryKv::default()),
        )
        .await;
        pm.assert_contract_kept();
        let err = out.result.unwrap_err();
        assert_eq!(err.is_retryable(), retryable, "{err}");
        if status == 422 {
            assert!(err.to_string().contains("ErrorCode 406"), "{err}");
        }
    }
}

#[tokio::test]
async fn the_host_refuses_smtp_without_the_relay_grant() {
    let certs = Certs::new();
    let sink = sink_with_tls(&certs);
    let p = email(&[], starttls_relay(&sink, &certs, "smtp-pass-9"), &[]).await;
    let out = send(
        &p,
        message(json!([{"type": "smtp", "relay": "primary"}])),
        Arc::new(MemoryKv::default()),
    )
    .await;
    match &out.result {
        Err(InvokeError::Step(StepError::Fatal { message })) => {
            assert!(
                message.contains("relay \"primary\" is not granted to plugin email"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(
        out.logs
            .iter()
            .any(|l| l.level == "host" && l.message.contains("not granted")),
        "{:?}",
        out.logs
    );
    assert!(sink.messages(0).is_empty());
}

#[tokio::test]
async fn a_retry_after_delivery_sends_nothing_again() {
    let (_m, pm) = postmark(|_| After::Contract).await;
    let p = email(&[pm.origin()], BTreeMap::new(), &[]).await;
    let kv = Arc::new(MemoryKv::default());
    let input = message(json!([{"type": "postmark", "base_url": pm.base_url()}]));
    let first = send(&p, input.clone(), kv.clone())
        .await
        .result
        .expect("sent");
    let again = send(&p, input, kv).await.result.expect("replayed");
    assert_eq!(again["replayed"], true);
    assert_eq!(again["message_id"], first["message_id"]);
    assert_eq!(pm.exchanges().len(), 1, "one request only");
}
