//! How Stripe's error answers map onto step errors.

use std::time::Duration;

use relais_plugin_sdk::StepError;
use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::FakeResponse;
use serde_json::json;

use super::{BASE, host, run, stripe_error};

/// Sends `send-invoice` (one POST) against `response`.
fn post_with(response: FakeResponse) -> StepError {
    let host = host().on(
        Method::Post,
        &format!("{BASE}/v1/invoices/in_1/send"),
        response,
    );
    run(&host, "send-invoice", json!({"invoice": "in_1"})).unwrap_err()
}

/// Sends `get-customer` (one GET) against `response`.
fn get_with(response: FakeResponse) -> StepError {
    let host = host().on(Method::Get, &format!("{BASE}/v1/customers/cus_1"), response);
    run(&host, "get-customer", json!({"customer": "cus_1"})).unwrap_err()
}

#[test]
fn card_declines_are_fatal_with_the_decline_code() {
    let err = post_with(stripe_error(
        402,
        json!({"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
               "message": "Your card has insufficient funds."}),
    ));
    assert_eq!(
        err,
        StepError::fatal(
            "POST /v1/invoices/in_1/send [req_42]: card declined (insufficient_funds): \
             Your card has insufficient funds."
        )
    );
    let err = post_with(stripe_error(
        402,
        json!({"type": "card_error", "code": "expired_card", "message": "Your card has expired."}),
    ));
    assert_eq!(err.kind(), "fatal");
    assert!(
        err.message().contains("card declined (expired_card)"),
        "{err}"
    );
}

#[test]
fn rate_limits_are_retryable_after_retry_after() {
    let err = post_with(
        stripe_error(429, json!({"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests"}))
            .header("retry-after", "7"),
    );
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(
        err.message().contains("stripe rate limit (rate_limit)"),
        "{err}"
    );
    let err = get_with(stripe_error(429, json!({"code": "lock_timeout"})));
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), None);
}

#[test]
fn invalid_requests_are_invalid_input() {
    let err = post_with(stripe_error(
        400,
        json!({"type": "invalid_request_error", "code": "parameter_invalid_empty",
               "param": "invoice", "message": "You passed an empty string"}),
    ));
    assert_eq!(
        err,
        StepError::invalid_input(
            "POST /v1/invoices/in_1/send [req_42]: invalid request (parameter invoice): \
             You passed an empty string"
        )
    );
    let err = get_with(stripe_error(
        404,
        json!({"type": "invalid_request_error", "code": "resource_missing", "message": "No such customer: 'cus_1'"}),
    ));
    assert_eq!(err.kind(), "invalid-input");
    assert!(
        err.message().ends_with("No such customer: 'cus_1'"),
        "{err}"
    );
}

#[test]
fn refused_keys_are_fatal() {
    for status in [401, 403] {
        let err = get_with(stripe_error(
            status,
            json!({"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****123"}),
        ));
        assert_eq!(err.kind(), "fatal", "{status}");
        assert!(
            err.message().contains("stripe refused the api key"),
            "{err}"
        );
    }
}

#[test]
fn server_errors_follow_stripe_should_retry() {
    // A 500 to a POST was stored under the idempotency key: retrying
    // replays it, so it is fatal (Stripe's libraries do the same).
    let err = post_with(stripe_error(
        500,
        json!({"type": "api_error", "message": "boom"}),
    ));
    assert_eq!(err.kind(), "fatal");
    assert!(err.message().contains("the outcome is unknown"), "{err}");
    // The same answer to a GET is worth retrying.
    let err = get_with(stripe_error(
        500,
        json!({"type": "api_error", "message": "boom"}),
    ));
    assert!(err.is_retryable(), "{err}");
    for status in [502, 503, 504] {
        assert!(
            post_with(FakeResponse::status(status)).is_retryable(),
            "{status}"
        );
    }
    // The header decides when Stripe sends it.
    let err = post_with(
        stripe_error(500, json!({"type": "api_error", "message": "boom"}))
            .header("stripe-should-retry", "true")
            .header("retry-after", "2"),
    );
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    let err = post_with(FakeResponse::status(503).header("stripe-should-retry", "false"));
    assert_eq!(err.kind(), "fatal");
    assert!(
        err.message().contains("stripe advises not to retry"),
        "{err}"
    );
    let err = post_with(
        stripe_error(
            409,
            json!({"type": "invalid_request_error", "code": "lock_timeout"}),
        )
        .header("stripe-should-retry", "true"),
    );
    assert!(err.is_retryable());
}

#[test]
fn idempotency_conflicts_are_fatal() {
    let err = post_with(stripe_error(
        409,
        json!({"type": "idempotency_error",
               "message": "Keys for idempotent requests can only be used with the same parameters they were first used with."}),
    ));
    assert_eq!(err.kind(), "fatal");
    let err = post_with(stripe_error(409, json!({"type": "invalid_request_error"})));
    assert!(err.is_retryable(), "a plain conflict is transient: {err}");
}

#[test]
fn transport_failures_are_retryable_and_odd_bodies_are_quoted() {
    let err = post_with(FakeResponse::transport_error("connection reset"));
    assert!(err.is_retryable());
    assert!(err.message().contains("connection reset"), "{err}");
    let err = get_with(FakeResponse::status(418).text("<html>teapot</html>"));
    assert_eq!(
        err,
        StepError::fatal(
            "GET /v1/customers/cus_1: stripe failed (status 418, unknown): <html>teapot</html>"
        )
    );
    let err = get_with(FakeResponse::ok().text("not json"));
    assert_eq!(err.kind(), "fatal");
    assert!(err.message().contains("cannot be read"), "{err}");
}
