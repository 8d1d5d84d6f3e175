//! Error mapping: what Plesk, the network and the host can do wrong, and
//! the step error each becomes.

use std::time::Duration;

use relais_plugin_sdk::StepError;
use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
use serde_json::{Value, json};

use super::support::*;

fn test_connection(host: &FakeHost) -> Result<Value, StepError> {
    run(host, "test-connection", json!({"connection": connection()}))
}

fn answering(response: FakeResponse) -> FakeHost {
    plesk_host().on(Method::Get, &api("/server"), response)
}

#[test]
fn server_info_and_test_connection() {
    let server = json!({"platform": "Unix", "hostname": "plesk.example.net",
        "guid": "baa58292-fee0-4ecb-9da1-bba0cc5adea7", "panel_version": "18.0.62",
        "panel_revision": "1711e2bc", "panel_build_date": "2024-06-20",
        "panel_update_version": "2", "extension_version": "1.1.0", "extension_release": "10"});
    let host = answering(json_ok(server)).on(
        Method::Get,
        &api("/server/ips"),
        json_ok(
            json!([{"ipv4": "93.184.216.34", "ipv6": "", "netmask": "255.255.255.0",
            "interface": "eth0", "type": "shared"}]),
        ),
    );
    assert_eq!(
        test_connection(&host).unwrap(),
        json!({"ok": true, "hostname": "plesk.example.net", "panel_version": "18.0.62"})
    );
    let out = run(&host, "server-info", json!({"connection": connection()})).unwrap();
    assert_eq!(
        out,
        json!({"hostname": "plesk.example.net", "platform": "Unix", "panel_version": "18.0.62",
            "panel_update_version": "2", "panel_build_date": "2024-06-20",
            "guid": "baa58292-fee0-4ecb-9da1-bba0cc5adea7", "extension_version": "1.1.0",
            "ips": [{"ipv4": "93.184.216.34", "ipv6": null, "type": "shared", "interface": "eth0"}]})
    );
    host.requests().iter().for_each(assert_key);
    assert_eq!(
        host.requests()[0].header("accept"),
        Some("application/json")
    );
}

#[test]
fn transport_failures_and_busy_servers_are_retryable() {
    let err = test_connection(&answering(FakeResponse::transport_error(
        "connection reset",
    )))
    .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    for status in [500, 502, 503] {
        let err = test_connection(&answering(FakeResponse::status(status))).unwrap_err();
        assert!(err.is_retryable(), "{status}: {err}");
    }
    let err = test_connection(&answering(
        FakeResponse::status(429).header("retry-after", "30"),
    ))
    .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
}

#[test]
fn refused_credentials_are_fatal_and_name_the_secret() {
    for status in [401, 403] {
        let err = test_connection(&answering(error(status, "Authentication failed"))).unwrap_err();
        assert_eq!(err.kind(), "fatal");
        assert_eq!(
            err.to_string(),
            format!(
                "plesk refused the credentials for GET /server (http {status}): check the API key in secret plesk_api_key"
            )
        );
        assert!(!err.message().contains(KEY));
    }
}

#[test]
fn basic_auth_with_a_login() {
    let host = FakeHost::new()
        .with_secret("plesk_password", "p@ss word")
        .on(
            Method::Get,
            &api("/server"),
            error(401, "Authentication failed"),
        );
    let err = run(
        &host,
        "test-connection",
        json!({"connection": {"url": "plesk.example.net", "login": "admin"}}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "plesk refused the credentials for GET /server (http 401): check connection.login admin and its password in secret plesk_password"
    );
    let request = &host.requests()[0];
    assert_eq!(
        request.header("authorization"),
        Some("Basic YWRtaW46cEBzcyB3b3Jk")
    );
    assert_eq!(request.header("x-api-key"), None);
}

#[test]
fn answers_that_are_not_plesk_are_fatal() {
    for (response, detail) in [
        (
            FakeResponse::ok()
                .header("content-type", "text/html")
                .body("<html>Plesk login</html>"),
            "(http 200: <html>Plesk login</html>)",
        ),
        (
            FakeResponse::status(302).header("location", "/login_up.php"),
            "(http 302)",
        ),
    ] {
        let err = test_connection(&answering(response)).unwrap_err();
        assert_eq!(err.kind(), "fatal", "{detail}");
        assert_eq!(
            err.to_string(),
            format!(
                "the answer to GET /server is not plesk's {detail}: check that connection.url is the Plesk address (port 8443)"
            )
        );
    }
    let err = test_connection(&answering(error(418, "I'm a teapot"))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "plesk GET /server returned 418: I'm a teapot"
    );
    assert_eq!(err.kind(), "fatal");
}

#[test]
fn connection_settings_are_checked() {
    for (connection, kind, why) in [
        (
            json!({"url": "http://plesk.example.net"}),
            "invalid-input",
            "plain http",
        ),
        (
            json!({"url": "plesk.example.net", "verify_tls": "no"}),
            "invalid-input",
            "verify_tls",
        ),
        (
            json!({"url": "plesk.example.net", "login": "a:b"}),
            "invalid-input",
            "connection.login",
        ),
        (
            json!({"url": "plesk.example.net", "api_key": "k"}),
            "invalid-input",
            "unknown field",
        ),
        (
            json!({"url": "plesk.example.net", "api_key_secret": "other"}),
            "fatal",
            "secret other",
        ),
    ] {
        let host = plesk_host();
        let err = run(&host, "test-connection", json!({"connection": connection})).unwrap_err();
        assert_eq!(err.kind(), kind, "{why}: {err}");
        assert!(err.message().contains(why), "{why}: {err}");
        assert!(host.requests().is_empty());
    }
}
