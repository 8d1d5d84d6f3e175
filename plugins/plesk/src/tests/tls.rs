//! `connection.verify_tls`: `false` marks every request (REST and XML-RPC)
//! for the host's per-origin TLS setting, and refusals and certificate
//! errors say what the operator must do (the messages themselves are
//! the SDK's `http::tls`, tested there).

use relais_plugin_sdk::StepError;
use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
use serde_json::{Value, json};

use super::support::*;

fn self_signed() -> Value {
    json!({"url": "plesk.example.net", "verify_tls": false})
}

fn server() -> FakeResponse {
    json_ok(json!({"platform": "Unix", "hostname": "plesk.example.net",
        "panel_version": "18.0.62"}))
}

fn test_connection(host: &FakeHost, connection: Value) -> Result<Value, StepError> {
    run(host, "test-connection", json!({"connection": connection}))
}

fn server_host(response: FakeResponse) -> FakeHost {
    plesk_host().on(Method::Get, &api("/server"), response)
}

#[test]
fn verify_tls_false_marks_rest_and_xml_requests_for_the_operators_tls_setting() {
    let host = server_host(server()).on(
        Method::Post,
        AGENT,
        packet("<system><status>error</status><errcode>1013</errcode><errtext>no plan</errtext></system>"),
    );
    let out = test_connection(&host, self_signed()).unwrap();
    assert_eq!(out["hostname"], "plesk.example.net");
    // The XML API answers with an error: the step stops after one request.
    run(
        &host,
        "change-plan",
        json!({"connection": self_signed(), "domain": "shop.example", "plan": "Unlimited"}),
    )
    .unwrap_err();
    let requests = host.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].url, AGENT);
    for request in &requests {
        assert_eq!(
            request.header("relais-tls"),
            Some("operator-trust"),
            "{} {}",
            request.method,
            request.url
        );
        assert_key(request);
    }
}

#[test]
fn verified_connections_send_no_tls_header() {
    for connection in [
        connection(),
        json!({"url": "plesk.example.net", "verify_tls": true}),
        // Plain http to the machine itself has no certificate to check.
        json!({"url": "http://127.0.0.1:8880", "verify_tls": false}),
    ] {
        let host =
            server_host(server()).on(Method::Get, "http://127.0.0.1:8880/api/v2/server", server());
        test_connection(&host, connection.clone()).unwrap();
        let requests = host.requests();
        assert_eq!(requests.len(), 1, "{connection}");
        assert_eq!(requests[0].header("relais-tls"), None, "{connection}");
    }
}

#[test]
fn a_refusal_without_the_operators_tls_setting_says_what_to_grant() {
    let refused = || FakeResponse::refused("HTTP-request-denied");
    let err = test_connection(&server_host(refused()), self_signed()).unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert_eq!(
        err.message(),
        "request to https://plesk.example.net:8443/api/v2/server refused by the host: \
         HTTP-request-denied: connection.verify_tls is false, so relais.toml must grant this \
         panel a TLS setting (pin_sha256 or ca_file; the run log names the section)"
    );
}
