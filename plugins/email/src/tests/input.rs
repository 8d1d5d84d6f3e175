//! Input checks and stored templates.

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::mail::FakeMail;
use serde_json::json;

use super::*;

#[test]
fn bad_input_fails_before_any_provider() {
    let cases = [
        (
            json!({"from": "not-an-address"}),
            "from: \"not-an-address\" is not an email address",
        ),
        (
            json!({"to": ["ok@client.test", "x@y"]}),
            "to[1]: \"x@y\" is not an email address",
        ),
        (json!({"to": "a b@client.test"}), "is not an email address"),
        (json!({"to": []}), "no recipient"),
        (json!({"providers": []}), "providers: give at least one"),
        (
            json!({"subject": "{{ missing }}"}),
            "subject: variable `missing` is not in vars",
        ),
        (
            json!({"html": "<p>{{ name"}),
            "html: `{{` at byte 3 is never closed",
        ),
        (json!({"text": null, "html": null}), "give a body"),
        (json!({"subject": null}), "give a subject"),
        (
            json!({"headers": {"Bcc": "spy@evil.test"}}),
            "headers: Bcc is set from the other inputs",
        ),
        (
            json!({"headers": {"X-A": "1\r\nBcc: spy@evil.test"}}),
            "line break",
        ),
        (
            json!({"providers": [{"type": "carrier-pigeon"}]}),
            "unknown variant",
        ),
        (
            json!({"providers": [{"type": "smtp"}]}),
            "missing field `relay`",
        ),
        (
            json!({"providers": [{"type": "postmark", "token": "literal"}]}),
            "unknown field `token`",
        ),
        (json!({"colour": "blue"}), "unknown field `colour`"),
        (json!({"template": "../etc"}), "template name"),
        (
            json!({"template": "unknown"}),
            "template \"unknown\" is not stored",
        ),
    ];
    for (change, expected) in cases {
        let mut i = input(json!([postmark(), smtp()]));
        for (k, v) in change.as_object().unwrap() {
            i[k] = v.clone();
        }
        let host = secrets();
        let relays = FakeMail::new().grant("primary");
        let err = run(&host, &relays, i).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{expected}: {err:?}");
        assert!(err.message().contains(expected), "{expected}: {err}");
        assert!(
            host.requests().is_empty() && relays.attempts().is_empty(),
            "{expected}"
        );
    }
}

#[test]
fn stored_templates_render_and_send() {
    let host = secrets().on(Method::Post, POSTMARK, postmark_ok());
    let tpl = json!({
        "name": "payment-failed",
        "subject": "Échéance de votre hébergement — relance n°{{ n }}",
        "text": "Bonjour {{ name }}",
        "html": "<b>{{ name }}</b>",
    });
    let out = host
        .invoke(&PLUGIN, "put-template", tpl.clone(), &cx())
        .unwrap();
    assert_eq!(out, json!({"name": "payment-failed", "replaced": false}));
    let out = host.invoke(&PLUGIN, "put-template", tpl, &cx()).unwrap();
    assert_eq!(out["replaced"], true);

    let rendered = host
        .invoke(
            &PLUGIN,
            "render",
            json!({"template": "payment-failed", "vars": {"n": 2, "name": "A&B"}}),
            &cx(),
        )
        .unwrap();
    assert_eq!(
        rendered,
        json!({"subject": SUBJECT, "text": "Bonjour A&B", "html": "<b>A&amp;B</b>"})
    );
    // Inline parts override the stored ones.
    let rendered = host
        .invoke(
            &PLUGIN,
            "render",
            json!({"template": "payment-failed", "text": "Salut", "vars": {"n": 3, "name": "x"}}),
            &cx(),
        )
        .unwrap();
    assert_eq!(rendered["text"], "Salut");

    let send = json!({
        "from": "facturation@agence.test", "to": "elodie@client.test",
        "template": "payment-failed", "vars": {"n": 2, "name": "Élodie"},
        "providers": [postmark()],
    });
    run(&host, &FakeMail::new(), send).unwrap();
    let body = host.requests()[0].json();
    assert_eq!(body["Subject"], SUBJECT);
    assert_eq!(body["HtmlBody"], "<b>Élodie</b>");

    for (bad, expected) in [
        (
            json!({"name": "Bad Name", "subject": "s", "text": "t"}),
            "template name",
        ),
        (
            json!({"name": "x", "subject": "{{ a", "text": "t"}),
            "never closed",
        ),
        (
            json!({"name": "x", "subject": "s", "html": "{{ a | b }}"}),
            "is not a variable",
        ),
        (json!({"name": "x", "subject": "s"}), "give a body"),
    ] {
        let err = host
            .invoke(&PLUGIN, "put-template", bad, &cx())
            .unwrap_err();
        assert_eq!(err.kind(), "invalid-input");
        assert!(err.message().contains(expected), "{err}");
    }
}
