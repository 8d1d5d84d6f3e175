use axum::body::Body;
use axum::http::Request;
use chrono::{TimeDelta, Utc};
use relais_store::{RunFilter, RunId};
use relais_triggers::verify::Scheme;
use serde_json::json;

use crate::{Fixture, STRIPE_SECRET};

pub(crate) fn stripe_request(body: &str, secret: &str, at: chrono::DateTime<Utc>) -> Request<Body> {
    let (name, value) = Scheme::stripe().sign(secret.as_bytes(), body.as_bytes(), at);
    Request::post("/hooks/stripe")
        .header("content-type", "application/json")
        .header(name, value)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

async fn run_count(f: &Fixture) -> usize {
    f.store
        .list_runs(&RunFilter::default(), None, 1000)
        .await
        .unwrap()
        .runs
        .len()
}

#[tokio::test]
async fn signed_webhook_is_stored_then_acknowledged() {
    let f = Fixture::new().await;
    let body = r#"{"id":"evt_1","type":"invoice.payment_failed"}"#;
    let (status, answer) = f
        .send(stripe_request(body, STRIPE_SECRET, Utc::now()))
        .await;
    assert_eq!(status, 202, "{answer}");
    let id: RunId = answer["run_id"].as_str().unwrap().parse().unwrap();
    let detail = f.store.run_detail(id).await.unwrap().unwrap();
    assert_eq!(detail.payload["body"]["id"], "evt_1");
    assert_eq!(
        detail.payload["headers"]["content-type"],
        "application/json"
    );
    assert_eq!(detail.run.workflow_id, "dunning");
}

#[tokio::test]
async fn wrong_secret_missing_signature_and_stale_timestamp_are_refused() {
    let f = Fixture::new().await;
    let body = r#"{"id":"evt_2"}"#;
    let (status, answer) = f
        .send(stripe_request(body, "whsec_wrong", Utc::now()))
        .await;
    assert_eq!(status, 401);
    assert_eq!(answer["error"]["code"], "signature_invalid");

    let stale = Utc::now() - TimeDelta::seconds(301);
    let (status, _) = f.send(stripe_request(body, STRIPE_SECRET, stale)).await;
    assert_eq!(status, 401);
    // Just inside the tolerance is accepted.
    let recent = Utc::now() - TimeDelta::seconds(290);
    let (status, _) = f.send(stripe_request(body, STRIPE_SECRET, recent)).await;
    assert_eq!(status, 202);

    let unsigned = Request::post("/hooks/stripe")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, answer) = f.send(unsigned).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(run_count(&f).await, 1);
}

#[tokio::test]
async fn dedupe_answers_the_first_run() {
    let f = Fixture::new().await;
    let body = r#"{"id":"evt_3"}"#;
    let (s1, a1) = f
        .send(stripe_request(body, STRIPE_SECRET, Utc::now()))
        .await;
    let (s2, a2) = f
        .send(stripe_request(body, STRIPE_SECRET, Utc::now()))
        .await;
    assert_eq!((s1, s2), (202, 200));
    assert_eq!(a1["run_id"], a2["run_id"]);
    assert_eq!(a2["duplicate"], true);
    let other = r#"{"id":"evt_4"}"#;
    let (s3, a3) = f
        .send(stripe_request(other, STRIPE_SECRET, Utc::now()))
        .await;
    assert_eq!(s3, 202);
    assert_ne!(a3["run_id"], a1["run_id"]);
    assert_eq!(run_count(&f).await, 2);
}

#[tokio::test]
async fn body_limit_both_sides() {
    let f = Fixture::new().await;
    let limit = relais_server::DEFAULT_BODY_LIMIT;
    let pad = |tag: char, n: usize| format!(r#"{{"id":"evt_{tag}","pad":"{}"}}"#, "x".repeat(n));
    let overhead = pad('a', 0).len();
    let at_limit = pad('a', limit - overhead);
    assert_eq!(at_limit.len(), limit);
    let (status, _) = f
        .send(stripe_request(&at_limit, STRIPE_SECRET, Utc::now()))
        .await;
    assert_eq!(status, 202);
    let over = pad('b', limit - overhead + 1);
    let (status, answer) = f
        .send(stripe_request(&over, STRIPE_SECRET, Utc::now()))
        .await;
    assert_eq!(status, 413);
    assert_eq!(answer["error"]["code"], "payload_too_large");
    assert_eq!(run_count(&f).await, 1);
}

#[tokio::test]
async fn unknown_path_and_wrong_method() {
    let f = Fixture::new().await;
    let (status, answer) = f
        .send(Request::post("/hooks/nope").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, 404);
    assert_eq!(answer["error"]["code"], "not_found");
    let (status, answer) = f
        .send(Request::get("/hooks/stripe").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, 405);
    assert_eq!(answer["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn token_scheme_form_and_text_bodies() {
    let f = Fixture::new().await;
    let form = Request::post("/hooks/ops/token?source=panel")
        .header("authorization", "Bearer s3cret-token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("user=ana+b&plan=gold%21"))
        .unwrap();
    let (status, answer) = f.send(form).await;
    assert_eq!(status, 202, "{answer}");
    let id: RunId = answer["run_id"].as_str().unwrap().parse().unwrap();
    let detail = f.store.run_detail(id).await.unwrap().unwrap();
    assert_eq!(
        detail.payload["body"],
        json!({"user": "ana b", "plan": "gold!"})
    );
    assert_eq!(detail.payload["query"], json!({"source": "panel"}));
    // The token is the secret: the run keeps every header but that one.
    let headers = detail.payload["headers"].as_object().unwrap();
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    assert!(!headers.contains_key("authorization"), "{headers:?}");
    assert!(!detail.payload.to_string().contains("s3cret-token"));

    let text = Request::post("/hooks/ops/token")
        .header("authorization", "Bearer s3cret-token")
        .header("content-type", "text/plain")
        .body(Body::from("hello"))
        .unwrap();
    let (status, answer) = f.send(text).await;
    assert_eq!(status, 202);
    let id: RunId = answer["run_id"].as_str().unwrap().parse().unwrap();
    let detail = f.store.run_detail(id).await.unwrap().unwrap();
    assert_eq!(detail.payload["body"], "hello");

    let wrong = Request::post("/hooks/ops/token")
        .header("authorization", "Bearer s3cret-tokeN")
        .body(Body::from("hello"))
        .unwrap();
    assert_eq!(f.send(wrong).await.0, 401);
}

const HEADER_TOKEN: &str = r#"
id: panel
trigger:
  webhook:
    path: ops/panel
    verify: { scheme: token, secret: hook_token, header: X-Webhook-Token }
steps:
  - id: fetch
    uses: http/request
"#;

#[tokio::test]
async fn a_token_in_its_own_header_is_bare() {
    let f = Fixture::with(&[("panel", HEADER_TOKEN)]).await;
    let send = |value: &str| {
        Request::post("/hooks/ops/panel")
            .header("x-webhook-token", value)
            .body(Body::from("hello"))
            .unwrap()
    };
    let (status, answer) = f.send(send("s3cret-token")).await;
    assert_eq!(status, 202, "{answer}");
    let (status, _) = f.send(send("Bearer s3cret-token")).await;
    assert_eq!(status, 401);
    // The header is the secret: it is not kept with the run.
    let id: RunId = answer["run_id"].as_str().unwrap().parse().unwrap();
    let detail = f.store.run_detail(id).await.unwrap().unwrap();
    assert!(!detail.payload.to_string().contains("s3cret-token"));
}
