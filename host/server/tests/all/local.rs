//! The local control router: secrets and tokens, and the API without tokens.

use axum::body::Body;
use axum::http::Request;
use chrono::Utc;
use relais_server::local::local_app;
use serde_json::Value;

use crate::hooks::stripe_request;
use crate::{Fixture, STRIPE_SECRET, answer};

async fn local(f: &Fixture, method: &str, path: &str, body: &str) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::from(body.to_owned()))
        .unwrap();
    answer(local_app(f.state.clone()), request).await
}

#[tokio::test]
async fn a_rotated_webhook_secret_applies_at_once() {
    let f = Fixture::new().await;
    let body = r#"{"id":"evt_rot_1"}"#;
    // The old secret works, and is now cached.
    assert_eq!(
        f.send(stripe_request(body, STRIPE_SECRET, Utc::now()))
            .await
            .0,
        202
    );
    let (status, answer) = local(&f, "PUT", "/local/v1/secrets/stripe_secret", "whsec_new").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["existed"], true);
    let body = r#"{"id":"evt_rot_2"}"#;
    assert_eq!(
        f.send(stripe_request(body, STRIPE_SECRET, Utc::now()))
            .await
            .0,
        401
    );
    assert_eq!(
        f.send(stripe_request(body, "whsec_new", Utc::now()))
            .await
            .0,
        202
    );
    // Removed: the webhook answers that its secret is missing.
    assert_eq!(
        local(&f, "DELETE", "/local/v1/secrets/stripe_secret", "")
            .await
            .0,
        200
    );
    let body = r#"{"id":"evt_rot_3"}"#;
    assert_eq!(
        f.send(stripe_request(body, "whsec_new", Utc::now()))
            .await
            .0,
        503
    );
}

#[tokio::test]
async fn secrets_and_tokens_are_managed_and_checked() {
    let f = Fixture::new().await;
    let (status, list) = local(&f, "GET", "/local/v1/secrets", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        list["secrets"],
        serde_json::json!(["hook_token", "stripe_secret"])
    );
    assert_eq!(
        local(&f, "PUT", "/local/v1/secrets/bad%20name", "v")
            .await
            .0,
        400
    );
    assert_eq!(local(&f, "PUT", "/local/v1/secrets/empty", "").await.0, 400);
    let big = "x".repeat(relais_server::local::MAX_SECRET_BYTES + 1);
    assert_eq!(local(&f, "PUT", "/local/v1/secrets/big", &big).await.0, 413);
    assert_eq!(
        local(&f, "DELETE", "/local/v1/secrets/nope", "").await.0,
        404
    );

    let (status, created) = local(&f, "POST", "/local/v1/tokens", r#"{"name":"ops"}"#).await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("rls_"));
    assert_eq!(
        local(&f, "POST", "/local/v1/tokens", r#"{"name":"ops"}"#)
            .await
            .0,
        409
    );
    assert_eq!(
        local(&f, "POST", "/local/v1/tokens", r#"{"name":"a b"}"#)
            .await
            .0,
        400
    );
    let (_, tokens) = local(&f, "GET", "/local/v1/tokens", "").await;
    assert_eq!(tokens[0]["name"], "ops");
    assert!(
        !tokens.to_string().contains(&token),
        "a listed token shows its secret"
    );
    let api = |token: String| {
        Request::get("/api/v1/runs")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(f.send(api(token.clone())).await.0, 200);
    assert_eq!(local(&f, "DELETE", "/local/v1/tokens/ops", "").await.0, 204);
    assert_eq!(f.send(api(token)).await.0, 401);
    assert_eq!(local(&f, "DELETE", "/local/v1/tokens/ops", "").await.0, 404);

    // The API answers on the local router without a token.
    assert_eq!(local(&f, "GET", "/api/v1/runs", "").await.0, 200);
    assert_eq!(local(&f, "GET", "/local/v1/nowhere", "").await.0, 404);
}
