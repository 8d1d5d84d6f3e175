//! Unit tests of the mail capability: message building and relay settings.

use std::collections::BTreeMap;
use std::time::Duration;

use super::message::build;
use super::*;
use crate::secrets::SecretValue;

fn mb(address: &str) -> wit::Mailbox {
    wit::Mailbox {
        name: None,
        address: address.into(),
    }
}

fn message() -> wit::Message {
    wit::Message {
        from: wit::Mailbox {
            name: Some("Agence Dupont".into()),
            address: "facturation@agence.test".into(),
        },
        to: vec![mb("client@example.test")],
        cc: vec![],
        bcc: vec![mb("archive@agence.test")],
        reply_to: vec![],
        subject: "Échéance de votre hébergement — relance n°2".into(),
        text: Some("Bonjour".into()),
        html: None,
        headers: vec![],
        message_id: Some("abc@agence.test".into()),
    }
}

#[test]
fn builds_with_encoded_subject_and_without_bcc_header() {
    let (email, id) = build(message()).unwrap();
    assert_eq!(id, "abc@agence.test");
    let text = String::from_utf8(email.formatted()).unwrap();
    assert!(text.contains("Subject: =?utf-8?"), "{text}");
    assert!(text.contains("Message-ID: <abc@agence.test>"), "{text}");
    assert!(!text.to_ascii_lowercase().contains("bcc:"), "{text}");
    let rcpt: Vec<String> = email
        .envelope()
        .to()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(rcpt, ["client@example.test", "archive@agence.test"]);
}

#[test]
fn refuses_malformed_messages() {
    type Change = Box<dyn Fn(&mut wit::Message)>;
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|m| m.to[0].address = "not-an-address".into()),
            "to[0]",
        ),
        (
            Box::new(|m| {
                m.to.clear();
                m.bcc.clear();
            }),
            "no recipient",
        ),
        (Box::new(|m| m.text = None), "no body"),
        (
            Box::new(|m| m.subject = "a\r\nBcc: x@y.z".into()),
            "subject",
        ),
        (
            Box::new(|m| m.headers = vec![("Bcc".into(), "x@y.z".into())]),
            "set by the host",
        ),
        (
            Box::new(|m| m.headers = vec![("Content-Type".into(), "text/x".into())]),
            "set by the host",
        ),
        (
            Box::new(|m| m.headers = vec![("X-A".into(), "1\r\nBcc: x@y.z".into())]),
            "line break",
        ),
        (
            Box::new(|m| m.headers = vec![("X A".into(), "1".into())]),
            "not a valid field name",
        ),
        (
            Box::new(|m| m.message_id = Some("no-at".into())),
            "message-id",
        ),
    ];
    for (change, expected) in cases {
        let mut m = message();
        change(&mut m);
        let err = build(m).unwrap_err();
        assert!(err.contains(expected), "{err} does not say {expected}");
    }
    let mut ok = message();
    ok.headers = vec![("X-Relais-Run".into(), "run-1".into())];
    ok.message_id = None;
    let (email, id) = build(ok).unwrap();
    assert!(id.ends_with("@agence.test"), "{id}");
    let text = String::from_utf8(email.formatted()).unwrap();
    assert!(text.contains("X-Relais-Run: run-1"), "{text}");
}

#[test]
fn relay_settings_parse_and_hide_the_password() {
    let relay: MailRelay = serde_json::from_value(serde_json::json!({
        "host": "smtp.example.test",
        "tls": "tls",
        "username": "relais",
        "password": "hunter22-very-secret",
        "timeout": "10s",
    }))
    .unwrap();
    assert_eq!(relay.effective_port(), 465);
    assert_eq!(relay.timeout, Duration::from_secs(10));
    let shown = format!("{relay:?}");
    assert!(!shown.contains("hunter22"), "{shown}");
    let back = serde_json::to_string(&relay).unwrap();
    assert!(!back.contains("hunter22"), "{back}");
    assert_eq!(MailRelay::new("h").effective_port(), 587);
    let bad = serde_json::from_value::<MailRelay>(serde_json::json!({"host": "h", "tls": "ssl"}));
    assert!(bad.is_err());
    let bad = serde_json::from_value::<MailRelay>(serde_json::json!({"host": "h", "pasword": "x"}));
    assert!(bad.unwrap_err().to_string().contains("pasword"));
}

#[test]
fn relays_are_checked_at_start() {
    let mut config = BTreeMap::new();
    config.insert(
        "a".to_string(),
        MailRelay {
            password: Some(SecretValue::new("x")),
            ..MailRelay::new("smtp.example.test")
        },
    );
    assert!(matches!(
        Relays::new(&config),
        Err(MailRelayError::PasswordWithoutUser { .. })
    ));
    config.insert(
        "a".to_string(),
        MailRelay {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..MailRelay::new("smtp.example.test")
        },
    );
    assert!(matches!(
        Relays::new(&config),
        Err(MailRelayError::CaFile { .. })
    ));
    config.insert("a".to_string(), MailRelay::new(" "));
    assert!(matches!(
        Relays::new(&config),
        Err(MailRelayError::Host { .. })
    ));
    config.insert("a".to_string(), MailRelay::new("smtp.example.test"));
    assert!(Relays::new(&config).is_ok());
}
