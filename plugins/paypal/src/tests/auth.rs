//! The token, its cache, the credentials and the error mapping.

use std::time::Duration;

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
use relais_plugin_sdk::{StepError, clock};
use serde_json::json;

use super::{BASE, TOKEN_URL, api_requests, host, paypal_error, run, token};
use crate::api::{MAX_REQUEST_ID, TOKEN_MARGIN_SECS, request_id_for};

const ORDER_URL: &str = "https://api-m.paypal.com/v2/checkout/orders/5O190127TN364715T";
const KEY: &str = "oauth-token:https://api-m.paypal.com:cid";

fn order() -> FakeResponse {
    FakeResponse::ok().json(&json!({"id": "5O190127TN364715T", "status": "APPROVED"}))
}

fn get_order(host: &FakeHost) -> Result<serde_json::Value, StepError> {
    run(host, "get-order", json!({"order": "5O190127TN364715T"}))
}

#[test]
fn the_token_is_fetched_once_and_kept_until_it_expires() {
    let host = host().on(Method::Get, ORDER_URL, order());
    get_order(&host).unwrap();
    get_order(&host).unwrap();
    let requests = host.requests();
    let tokens: Vec<_> = requests.iter().filter(|r| r.url == TOKEN_URL).collect();
    assert_eq!(tokens.len(), 1, "the second step reuses the stored token");
    assert_eq!(
        tokens[0].header("authorization"),
        Some("Basic Y2lkOmNzZWNyZXQ=")
    );
    assert_eq!(tokens[0].text(), "grant_type=client_credentials");
    for call in api_requests(&host) {
        assert_eq!(call.header("authorization"), Some("Bearer A21-first"));
    }
    let stored: serde_json::Value = serde_json::from_slice(&host.kv_value(KEY).unwrap()).unwrap();
    assert_eq!(stored["access_token"], "A21-first");
    let expires_at = stored["expires_at"].as_i64().unwrap();
    assert!(
        (expires_at - clock::unix_now() - 32400).abs() <= 5,
        "{expires_at}"
    );
}

#[test]
fn a_token_about_to_expire_is_renewed() {
    let soon =
        json!({"access_token": "old", "expires_at": clock::unix_now() + TOKEN_MARGIN_SECS - 5});
    let host = host()
        .with_kv(KEY, soon.to_string())
        .on(Method::Get, ORDER_URL, order());
    get_order(&host).unwrap();
    assert_eq!(host.requests()[0].url, TOKEN_URL);
    assert_eq!(
        api_requests(&host)[0].header("authorization"),
        Some("Bearer A21-first")
    );

    let later =
        json!({"access_token": "cached", "expires_at": clock::unix_now() + TOKEN_MARGIN_SECS + 60});
    let host = super::host()
        .with_kv(KEY, later.to_string())
        .on(Method::Get, ORDER_URL, order());
    get_order(&host).unwrap();
    assert_eq!(host.requests().len(), 1, "no token request");
    assert_eq!(
        host.requests()[0].header("authorization"),
        Some("Bearer cached")
    );
}

#[test]
fn a_refused_token_is_renewed_once() {
    let cached = json!({"access_token": "revoked", "expires_at": clock::unix_now() + 3600});
    let host = host()
        .with_kv(KEY, cached.to_string())
        .on_once(
            Method::Get,
            ORDER_URL,
            paypal_error(401, "AUTHENTICATION_FAILURE", "INVALID_TOKEN", "expired"),
        )
        .on(Method::Get, ORDER_URL, order());
    let out = get_order(&host).unwrap();
    assert_eq!(out["status"], "APPROVED");
    let auth: Vec<_> = api_requests(&host)
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(auth, ["Bearer revoked", "Bearer A21-first"]);

    let host = super::host().on(
        Method::Get,
        ORDER_URL,
        paypal_error(401, "AUTHENTICATION_FAILURE", "INVALID_TOKEN", "no"),
    );
    let err = get_order(&host).unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert!(
        err.message()
            .contains("paypal refused the credentials (status 401"),
        "{err}"
    );
    assert_eq!(api_requests(&host).len(), 2, "one more try, not a loop");
}

#[test]
fn refused_client_credentials_are_fatal() {
    let host = FakeHost::new()
        .with_secret("paypal_client_id", "cid")
        .with_secret("paypal_client_secret", "wrong")
        .on(
            Method::Post,
            TOKEN_URL,
            FakeResponse::status(401).json(&json!({"error": "invalid_client", "error_description": "Client Authentication failed"})),
        );
    let err = get_order(&host).unwrap_err();
    assert_eq!(
        err,
        StepError::fatal(
            "POST /v1/oauth2/token: paypal refused the credentials (status 401, invalid_client): \
             Client Authentication failed"
        )
    );
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn a_broken_store_only_costs_a_token_request() {
    let host = host()
        .with_kv_failure("store offline")
        .on(Method::Get, ORDER_URL, order());
    get_order(&host).unwrap();
    get_order(&host).unwrap();
    assert_eq!(
        host.requests()
            .iter()
            .filter(|r| r.url == TOKEN_URL)
            .count(),
        2
    );
    assert!(
        host.logs()
            .iter()
            .any(|l| l.message.contains("cannot cache the paypal token"))
    );
}

#[test]
fn secrets_and_connection() {
    let err = get_order(&FakeHost::new()).unwrap_err();
    assert_eq!(
        err,
        StepError::fatal("secret paypal_client_id is not granted to this step")
    );
    let host = FakeHost::new()
        .with_secret("pp_id", "id2")
        .with_secret("pp_secret", "s2")
        .on(
            Method::Post,
            "http://127.0.0.1:9/v1/oauth2/token",
            token("T2", 60),
        )
        .on(
            Method::Get,
            "http://127.0.0.1:9/v2/checkout/orders/ABC",
            order(),
        );
    let input = json!({"order": "ABC", "connection": {
        "base_url": "http://127.0.0.1:9/", "client_id_secret": "pp_id", "client_secret_secret": "pp_secret"}});
    run(&host, "get-order", input).unwrap();
    assert_eq!(
        host.requests()[0].header("authorization"),
        Some("Basic aWQyOnMy")
    );
    let err = run(
        &host,
        "get-order",
        json!({"order": "ABC", "connection": {"base_url": "api-m.paypal.com"}}),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
}

#[test]
fn errors_map_onto_step_errors() {
    let cases = [
        (
            FakeResponse::status(429)
                .header("retry-after", "9")
                .json(&json!({"name": "RATE_LIMIT_REACHED"})),
            "retryable",
            Some(9),
        ),
        (FakeResponse::status(503), "retryable", None),
        (FakeResponse::transport_error("reset"), "retryable", None),
        (
            paypal_error(
                404,
                "RESOURCE_NOT_FOUND",
                "INVALID_RESOURCE_ID",
                "Specified resource ID does not exist.",
            ),
            "invalid-input",
            None,
        ),
        (
            paypal_error(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", "bad"),
            "invalid-input",
            None,
        ),
        (
            paypal_error(403, "NOT_AUTHORIZED", "PERMISSION_DENIED", "no"),
            "fatal",
            None,
        ),
        (
            paypal_error(
                422,
                "UNPROCESSABLE_ENTITY",
                "ORDER_NOT_APPROVED",
                "Payer has not yet approved",
            ),
            "fatal",
            None,
        ),
    ];
    for (response, kind, retry_after) in cases {
        let host = host().on(Method::Get, ORDER_URL, response);
        let err = get_order(&host).unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(
            err.retry_after(),
            retry_after.map(Duration::from_secs),
            "{err}"
        );
    }
    let host = host().on(
        Method::Get,
        ORDER_URL,
        paypal_error(
            404,
            "RESOURCE_NOT_FOUND",
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist.",
        ),
    );
    assert_eq!(
        get_order(&host).unwrap_err().message(),
        "GET /v2/checkout/orders/5O190127TN364715T [dbg42]: invalid request (INVALID_RESOURCE_ID): \
         Specified resource ID does not exist."
    );
    let _ = BASE;
}

#[test]
fn request_ids_fit_paypal() {
    assert_eq!(request_id_for("run-1/collect"), "run-1/collect");
    let long = "r".repeat(200);
    let id = request_id_for(&long);
    assert_eq!(id.len(), MAX_REQUEST_ID);
    assert_ne!(id, request_id_for(&format!("{long}x")));
    let exact = "k".repeat(MAX_REQUEST_ID);
    assert_eq!(request_id_for(&exact), exact);
}
