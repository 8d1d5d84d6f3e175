//! The `mail` capability against a real SMTP server (`smtp_sink.py`, on
//! aiosmtpd) on 127.0.0.1: STARTTLS and TLS with a private CA, AUTH, the
//! message as a mail parser reads it, the relay's answers mapped to
//! retryable or fatal, and the grant enforced. The guest is the shipped
//! `email` plugin (`target/plugins/email.wasm`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use relais_runtime::{
    InvokeError, MailRelay, MailTls, Plugin, PluginSettings, Runtime, RuntimeConfig, SecretValue,
    StepError,
};
use serde_json::{Value, json};

use crate::smtp::{Sink, certs};
use crate::{invocation, repo_root};

const SUBJECT: &str = "Échéance de votre hébergement — relance n°2";

fn relay(port: u16, tls: MailTls, ca: Option<&Path>, auth: Option<(&str, &str)>) -> MailRelay {
    MailRelay {
        port: Some(port),
        tls,
        ca_file: ca.map(Path::to_path_buf),
        username: auth.map(|a| a.0.to_string()),
        password: auth.map(|a| SecretValue::new(a.1)),
        timeout: Duration::from_secs(5),
        ..MailRelay::new("127.0.0.1")
    }
}

async fn email_plugin(relays: BTreeMap<String, MailRelay>, grant: &[&str]) -> Plugin {
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
        mail: grant.iter().map(|g| g.to_string()).collect(),
        ..PluginSettings::default()
    };
    runtime.load(&path, settings).await.expect("load email").0
}

fn message(relay: &str) -> Value {
    json!({
        "from": "Agence Dupont <facturation@agence.test>",
        "to": "Élodie Martin <elodie@client.test>",
        "bcc": "archives@agence.test",
        "subject": "Échéance de votre hébergement — relance n°{{ n }}",
        "text": "Bonjour {{ name }},\nvotre hébergement arrive à échéance.",
        "html": "<p>Bonjour {{ name }},</p><p>Réglez avant le 30 novembre.</p>",
        "vars": {"n": 2, "name": "Élodie"},
        "headers": {"X-Relais-Test": "oui"},
        "providers": [{"type": "smtp", "relay": relay}],
    })
}

fn one(relay: MailRelay) -> BTreeMap<String, MailRelay> {
    BTreeMap::from([("primary".to_string(), relay)])
}

#[tokio::test]
async fn starttls_with_auth_delivers_a_readable_french_message() {
    let c = certs();
    let sink = Sink::start(&[
        "--starttls",
        "--cert",
        c.cert.to_str().unwrap(),
        "--key",
        c.key.to_str().unwrap(),
        "--user",
        "relais",
        "--password",
        "s3cret-pass",
    ]);
    let p = email_plugin(
        one(relay(
            sink.port,
            MailTls::Starttls,
            Some(&c.ca),
            Some(("relais", "s3cret-pass")),
        )),
        &["primary"],
    )
    .await;
    let out = p.invoke(invocation("send", message("primary"))).await;
    let output = out.result.expect("sent");
    assert_eq!(output["delivered_by"], "smtp:primary");
    assert!(
        output["response"]
            .as_str()
            .unwrap()
            .starts_with("250 2.0.0 Ok: queued as SINK1"),
        "{output}"
    );

    let got = sink.messages(1);
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m["tls"], true);
    assert_eq!(m["auth_user"], "relais");
    assert_eq!(m["mail_from"], "facturation@agence.test");
    assert_eq!(
        m["rcpt_tos"],
        json!(["elodie@client.test", "archives@agence.test"])
    );
    let msg = &m["message"];
    // Headers, decoded by Python's mail parser.
    assert_eq!(msg["headers"]["subject"], SUBJECT);
    assert_eq!(
        msg["headers"]["from"],
        "Agence Dupont <facturation@agence.test>"
    );
    assert_eq!(msg["headers"]["to"], "Élodie Martin <elodie@client.test>");
    assert_eq!(msg["headers"]["x-relais-test"], "oui");
    assert!(
        msg["headers"].get("bcc").is_none(),
        "a blind copy is not named: {msg}"
    );
    assert_eq!(msg["headers"]["mime-version"], "1.0");
    let id = format!("<{}>", output["message_id"].as_str().unwrap());
    assert_eq!(msg["headers"]["message-id"], id);
    // On the wire: RFC 2047 encoded words, ASCII only.
    let raw_subject = msg["raw_headers"]["subject"].as_str().unwrap();
    assert!(raw_subject.starts_with("=?utf-8?"), "{raw_subject}");
    assert!(raw_subject.is_ascii());
    let raw = sink.raw(1);
    assert!(raw.is_ascii(), "the message is 7-bit clean");
    // Both bodies, as alternatives, French intact once decoded.
    assert_eq!(msg["content_type"], "multipart/alternative");
    let parts = msg["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
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
    for part in parts {
        let cte = part["transfer_encoding"].as_str().unwrap();
        assert!(cte == "quoted-printable" || cte == "base64", "{cte}");
    }
    // The run log notes the send, never the password.
    let note = out.logs.iter().find(|l| {
        l.level == "host"
            && l.message
                .starts_with("mail: sent through relay \"primary\"")
    });
    assert!(note.is_some(), "{:?}", out.logs);
    assert!(!format!("{:?}", out.logs).contains("s3cret-pass"));
}

#[tokio::test]
async fn implicit_tls_delivers() {
    let c = certs();
    let sink = Sink::start(&[
        "--smtps",
        "--cert",
        c.cert.to_str().unwrap(),
        "--key",
        c.key.to_str().unwrap(),
    ]);
    let p = email_plugin(
        one(relay(sink.port, MailTls::Tls, Some(&c.ca), None)),
        &["primary"],
    )
    .await;
    let out = p.invoke(invocation("send", message("primary"))).await;
    assert!(out.result.is_ok(), "{:?} {:?}", out.result, out.logs);
    assert_eq!(sink.messages(1)[0]["tls"], true);
}

#[tokio::test]
async fn an_untrusted_certificate_is_fatal_and_sends_nothing() {
    let c = certs();
    let sink = Sink::start(&[
        "--starttls",
        "--cert",
        c.cert.to_str().unwrap(),
        "--key",
        c.key.to_str().unwrap(),
    ]);
    // No ca_file: the private CA is not trusted.
    let p = email_plugin(
        one(relay(sink.port, MailTls::Starttls, None, None)),
        &["primary"],
    )
    .await;
    let out = p.invoke(invocation("send", message("primary"))).await;
    match out.result {
        Err(InvokeError::Step(StepError::Fatal { message })) => {
            assert!(message.contains("smtp:primary"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(sink.messages(0).is_empty());
}

#[tokio::test]
async fn without_the_grant_the_host_refuses_before_connecting() {
    let sink = Sink::start(&[]);
    let relays = one(relay(sink.port, MailTls::None, None, None));
    for grant in [&[][..], &["other"][..]] {
        let p = email_plugin(relays.clone(), grant).await;
        let out = p.invoke(invocation("send", message("primary"))).await;
        match &out.result {
            Err(InvokeError::Step(StepError::Fatal { message })) => {
                assert!(
                    message.contains("relay \"primary\" is not granted to plugin email"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
        let noted = out
            .logs
            .iter()
            .any(|l| l.level == "host" && l.message.contains("not granted"));
        assert!(noted, "{:?}", out.logs);
    }
    // Granted but not configured on this host.
    let p = email_plugin(BTreeMap::new(), &["primary"]).await;
    let out = p.invoke(invocation("send", message("primary"))).await;
    assert!(
        format!("{:?}", out.result).contains("not configured on this host"),
        "{:?}",
        out.result
    );
    assert!(sink.messages(0).is_empty());
    // Plain SMTP to the same sink, granted: delivered.
    let p = email_plugin(relays, &["primary"]).await;
    let out = p.invoke(invocation("send", message("primary"))).await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    assert_eq!(sink.messages(1)[0]["tls"], false);
}

#[tokio::test]
async fn relay_answers_map_to_retryable_or_fatal() {
    let c = certs();
    let tls = [
        "--starttls",
        "--cert",
        c.cert.to_str().unwrap(),
        "--key",
        c.key.to_str().unwrap(),
    ];
    // A refused login is fatal, with the relay's code.
    let sink = Sink::start(&[&tls[..], &["--user", "relais", "--password", "right"]].concat());
    let p = email_plugin(
        one(relay(
            sink.port,
            MailTls::Starttls,
            Some(&c.ca),
            Some(("relais", "wrong")),
        )),
        &["primary"],
    )
    .await;
    let out = p.invoke(invocation("send", message("primary"))).await;
    match out.result {
        Err(InvokeError::Step(StepError::Fatal { message })) => {
            assert!(message.contains("535"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // 4xx: retryable; 5xx: fatal.
    for (reply, retryable) in [
        ("451 4.3.0 try again later", true),
        ("550 5.1.1 mailbox unavailable", false),
    ] {
        let sink = Sink::start(&["--reply", reply]);
        let p = email_plugin(
            one(relay(sink.port, MailTls::None, None, None)),
            &["primary"],
        )
        .await;
        let out = p.invoke(invocation("send", message("primary"))).await;
        let err = out.result.unwrap_err();
        assert_eq!(err.is_retryable(), retryable, "{reply}: {err:?}");
        assert!(err.to_string().contains(&reply[..3]), "{err}");
    }
    // Nobody listening: retryable.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = email_plugin(one(relay(port, MailTls::None, None, None)), &["primary"]).await;
    let out = p.invoke(invocation("send", message("primary"))).await;
    assert!(out.result.unwrap_err().is_retryable());
}

/// A component that does not use `mail` does not import it: the SDK's
/// bindings target world `mailer`, but unused imports are not linked.
#[test]
fn only_plugins_that_send_mail_import_it() {
    let engine = wasmtime::Engine::new(wasmtime::Config::new().wasm_component_model(true)).unwrap();
    let imports = |name: &str| -> Vec<String> {
        let path = repo_root().join(format!("target/plugins/{name}.wasm"));
        assert!(
            path.exists(),
            "{} is missing: run scripts/build-plugins.sh",
            path.display()
        );
        let c = wasmtime::component::Component::from_file(&engine, &path).unwrap();
        c.component_type()
            .imports(&engine)
            .map(|(n, _)| n.to_string())
            .collect()
    };
    let email = imports("email");
    assert!(
        email.iter().any(|i| i == "relais:plugin/mail@0.1.0"),
        "{email:?}"
    );
    let http = imports("http");
    assert!(!http.iter().any(|i| i.contains("mail")), "{http:?}");
    assert!(
        http.iter().any(|i| i == "relais:plugin/log@0.1.0"),
        "{http:?}"
    );
}
