use axum::body::Body;
use axum::http::Request;
use relais_server::api::{RunDetailView, RunList, TriggerAnswer, WorkflowDetail};
use relais_server::{ErrorBody, auth};
use relais_store::{RunStatus, TriggerKind};
use serde_json::json;

use crate::Fixture;

const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/workflows"),
    ("GET", "/api/v1/workflows/hello"),
    ("POST", "/api/v1/workflows/hello/runs"),
    ("GET", "/api/v1/workflow-errors"),
    ("GET", "/api/v1/runs"),
    ("GET", "/api/v1/runs/00000000000000000000000000"),
    ("POST", "/api/v1/runs/00000000000000000000000000/retry"),
    ("POST", "/api/v1/runs/00000000000000000000000000/cancel"),
    ("GET", "/api/v1/plugins"),
];

fn req(method: &str, uri: &str, token: Option<&str>, body: &str) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    b.header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn every_api_route_needs_a_live_token() {
    let f = Fixture::new().await;
    let token = auth::create_token(&f.store, "ci").await.unwrap();
    for (method, uri) in ROUTES {
        for bad in [None, Some("rls_0000"), Some("nonsense")] {
            let (status, answer) = f.send(req(method, uri, bad, "{}")).await;
            assert_eq!(status, 401, "{method} {uri} with {bad:?}");
            assert_eq!(answer["error"]["code"], "unauthorized");
        }
        let (status, _) = f.send(req(method, uri, Some(&token), "{}")).await;
        assert_ne!(status, 401, "{method} {uri}");
    }
    auth::revoke_token(&f.store, "ci").await.unwrap();
    let (status, _) = f
        .send(req("GET", "/api/v1/workflows", Some(&token), ""))
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn tokens_are_stored_hashed_and_named_once() {
    let f = Fixture::new().await;
    let token = auth::create_token(&f.store, "ops").await.unwrap();
    assert!(
        token.starts_with("rls_") && token.len() == 4 + 64,
        "{token}"
    );
    let listed = auth::list_tokens(&f.store).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "ops");
    assert_ne!(listed[0].hash, token);
    assert!(!listed[0].hash.contains(&token[4..]));
    assert!(auth::create_token(&f.store, "ops").await.is_err());
    assert!(auth::create_token(&f.store, "bad name").await.is_err());
    assert!(auth::revoke_token(&f.store, "nobody").await.is_err());
}

#[tokio::test]
async fn tokens_created_at_once_are_all_kept() {
    let f = Fixture::new().await;
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let store = f.store.clone();
            tokio::spawn(async move { auth::create_token(&store, &format!("ci-{i}")).await })
        })
        .collect();
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap().unwrap());
    }
    let mut names: Vec<String> = auth::list_tokens(&f.store)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    names.sort();
    let mut want: Vec<String> = (0..32).map(|i| format!("ci-{i}")).collect();
    want.sort();
    assert_eq!(names, want);
    for token in &tokens {
        assert!(auth::check_token(&f.store, token).unwrap().is_some());
    }
}

#[tokio::test]
async fn answers_read_back_into_the_shared_types() {
    let f = Fixture::new().await;
    let t = auth::create_token(&f.store, "ci").await.unwrap();
    let (status, answer) = f
        .send(req(
            "POST",
            "/api/v1/workflows/hello/runs",
            Some(&t),
            r#"{"name":"ana"}"#,
        ))
        .await;
    assert_eq!(status, 202);
    let started: TriggerAnswer = serde_json::from_value(answer.clone()).unwrap();
    assert_eq!(started.status, RunStatus::Queued);
    assert_eq!(serde_json::to_value(&started).unwrap(), answer);
    let run = started.run_id;
    f.store.cancel_run(run).await.unwrap();

    // Each answer is the typed value on the wire, field for field.
    let (_, list) = f.send(req("GET", "/api/v1/runs", Some(&t), "")).await;
    let typed: RunList = serde_json::from_value(list.clone()).unwrap();
    assert_eq!(typed.runs[0].id, run);
    assert_eq!(typed.runs[0].status, RunStatus::Cancelled);
    assert_eq!(serde_json::to_value(&typed).unwrap(), list);

    let (_, detail) = f
        .send(req("GET", &format!("/api/v1/runs/{run}"), Some(&t), ""))
        .await;
    let typed: RunDetailView = serde_json::from_value(detail.clone()).unwrap();
    assert_eq!(typed.run.trigger, TriggerKind::Manual);
    assert_eq!(typed.input, json!({"name": "ana"}));
    assert_eq!(serde_json::to_value(&typed).unwrap(), detail);

    let (_, wf) = f
        .send(req("GET", "/api/v1/workflows/hello", Some(&t), ""))
        .await;
    let typed: WorkflowDetail = serde_json::from_value(wf.clone()).unwrap();
    assert_eq!(typed.last_runs[0].id, run);
    assert_eq!(serde_json::to_value(&typed).unwrap(), wf);

    let (status, error) = f.send(req("GET", "/api/v1/runs/nope", Some(&t), "")).await;
    assert_eq!(status, 404);
    let typed: ErrorBody = serde_json::from_value(error.clone()).unwrap();
    assert_eq!(typed.error.code, "not_found");
    assert_eq!(serde_json::to_value(&typed).unwrap(), error);
}

#[tokio::test]
async fn manual_runs_list_detail_and_cancel() {
    let f = Fixture::new().await;
    let t = auth::create_token(&f.store, "ci").await.unwrap();
    let (status, answer) = f
        .send(req(
            "POST",
            "/api/v1/workflows/hello/runs",
            Some(&t),
            r#"{"name":"ana"}"#,
        ))
        .await;
    assert_eq!(status, 202, "{answer}");
    let run = answer["run_id"].as_str().unwrap().to_owned();

    let (status, answer) = f
        .send(req(
            "POST",
            "/api/v1/workflows/hello/runs",
            Some(&t),
            r#"{"name":1}"#,
        ))
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_input");
    let (status, _) = f
        .send(req(
            "POST",
            "/api/v1/workflows/hello/runs",
            Some(&t),
            "{not json",
        ))
        .await;
    assert_eq!(status, 400);
    let (status, _) = f
        .send(req("POST", "/api/v1/workflows/nope/runs", Some(&t), "{}"))
        .await;
    assert_eq!(status, 404);

    let (status, detail) = f
        .send(req("GET", &format!("/api/v1/runs/{run}"), Some(&t), ""))
        .await;
    assert_eq!(status, 200);
    assert_eq!(detail["input"], json!({"name": "ana"}));
    assert_eq!(detail["run"]["status"], "queued");

    let (status, page) = f
        .send(req(
            "GET",
            "/api/v1/runs?workflow=hello&status=queued&limit=1",
            Some(&t),
            "",
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["runs"][0]["id"], run.as_str());
    let (status, _) = f
        .send(req("GET", "/api/v1/runs?status=bogus", Some(&t), ""))
        .await;
    assert_eq!(status, 400);
    let (status, _) = f
        .send(req("GET", "/api/v1/runs?limit=0", Some(&t), ""))
        .await;
    assert_eq!(status, 400);
    let (status, _) = f
        .send(req("GET", "/api/v1/runs?limit=1001", Some(&t), ""))
        .await;
    assert_eq!(status, 400);
    let (status, page) = f
        .send(req("GET", "/api/v1/runs?cursor=&limit=1000", Some(&t), ""))
        .await;
    assert_eq!(
        (status, page["runs"].as_array().map(Vec::len)),
        (200, Some(1))
    );

    let (status, cancelled) = f
        .send(req(
            "POST",
            &format!("/api/v1/runs/{run}/cancel"),
            Some(&t),
            "",
        ))
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    let (status, again) = f
        .send(req(
            "POST",
            &format!("/api/v1/runs/{run}/cancel"),
            Some(&t),
            "",
        ))
        .await;
    // Cancelling again is idempotent; retrying a cancelled run requeues it.
    assert_eq!((status, &again["status"]), (200, &json!("cancelled")));
    let (status, retried) = f
        .send(req(
            "POST",
            &format!("/api/v1/runs/{run}/retry"),
            Some(&t),
            r#"{"from":"start"}"#,
        ))
        .await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["status"], "queued");
    let (status, _) = f
        .send(req(
            "POST",
            &format!("/api/v1/runs/{run}/retry"),
            Some(&t),
            r#"{"from":"middle"}"#,
        ))
        .await;
    assert_eq!(status, 400);

    let (status, wf) = f
        .send(req("GET", "/api/v1/workflows/hello", Some(&t), ""))
        .await;
    assert_eq!(status, 200);
    assert_eq!(wf["last_runs"][0]["id"], run.as_str());
}

#[tokio::test]
async fn openapi_document_lists_the_routes() {
    let f = Fixture::new().await;
    let (status, doc) = f
        .send(
            Request::get("/api/v1/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, 200);
    for path in [
        "/workflows",
        "/workflows/{id}",
        "/workflows/{id}/runs",
        "/runs",
        "/runs/{id}",
        "/runs/{id}/retry",
        "/runs/{id}/cancel",
        "/plugins",
        "/workflow-errors",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert_eq!(
        f.send(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .0,
        200
    );
    assert_eq!(
        f.send(Request::get("/readyz").body(Body::empty()).unwrap())
            .await
            .0,
        200
    );
}
