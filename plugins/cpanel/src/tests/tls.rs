//! `connection.verify_tls`: `false` marks every request for the host's
//! per-origin TLS setting, and refusals and certificate errors say what the
//! operator must do (the messages themselves are the SDK's `http::tls`,
//! tested there).

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
use serde_json::{Value, json};

use super::support::*;

fn self_signed() -> Value {
    json!({"url": "whm.example.net", "verify_tls": false})
}

fn test_connection(
    host: &FakeHost,
    connection: Value,
) -> Result<Value, relais_plugin_sdk::StepError> {
    run(host, "test-connection", json!({"connection": connection}))
}

fn version_host(response: FakeResponse) -> FakeHost {
    whm_host().on(Method::Get, &url("version", ""), response)
}

#[test]
fn verify_tls_false_marks_every_request_for_the_operators_tls_setting() {
    let host = version_host(ok("version", json!({"version": "11.110.0.8"})))
        .with_secret("new_pw", "n3w-P@ss")
        .on(
            Method::Post,
            &url("passwd", ""),
            ok("passwd", json!({"app": ["system"]})),
        );
    let out = test_connection(&host, self_signed()).unwrap();
    assert_eq!(out["version"], "11.110.0.8");
    run(
        &host,
        "change-password",
        json!({"connection": self_signed(), "user": "bob", "password_secret": "new_pw"}),
    )
    .unwrap();
    let requests = host.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(
            request.header("relais-tls"),
            Some("operator-trust"),
            "{} {}",
            request.method,
            request.url
        );
        assert_authenticated(request);
    }
}

#[test]
fn verified_connections_send_no_tls_header() {
    for connection in [
        connection(),
        json!({"url": "whm.example.net", "verify_tls": true}),
        // Plain http to the machine itself has no certificate to check.
        json!({"url": "http://127.0.0.1:2086", "verify_tls": false}),
    ] {
        let host = whm_host()
            .on(
                Method::Get,
                &url("version", ""),
                ok("version", json!({"version": "11.110.0.8"})),
            )
            .on(
                Method::Get,
                "http://127.0.0.1:2086/json-api/version?api.version=1",
                ok("version", json!({"version": "11.110.0.8"})),
            );
        test_connection(&host, connection.clone()).unwrap();
        let requests = host.requests();
        assert_eq!(requests.len(), 1, "{connection}");
        assert_eq!(requests[0].header("relais-tls"), None, "{connection}");
    }
}

#[test]
fn a_refusal_without_the_operators_tls_setting_says_what_to_grant() {
    let refused = || FakeResponse::refused("HTTP-request-denied");
    let err = test_connection(&version_host(refused()), self_signed()).unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert_eq!(
        err.message(),
        "request to https://whm.example.net:2087/json-api/version?api.version=1 refused by the \
         host: HTTP-request-denied: connection.verify_tls is false, so relais.toml must grant \
         this panel a TLS setting (pin_sha256 or ca_file; the run log names the section)"
    );
}
