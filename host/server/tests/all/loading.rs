//! The workflow files that did not load are reported by `/readyz` and by
//! `GET /api/v1/workflow-errors`, not only on the server's stderr.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use relais_engine::Workflows;
use relais_server::{AppState, app, auth};
use relais_workflow::Catalog;
use serde_json::{Value, json};

use crate::{Fixture, answer};

async fn get(state: &AppState, uri: &str, token: Option<&str>) -> (u16, Value) {
    let mut b = Request::get(uri);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    answer(app(state.clone()), b.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn files_that_did_not_load_are_listed_by_readyz_and_the_api() {
    let f = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.yaml"),
        "id: good\nsteps:\n  - id: a\n    uses: http/request\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("typo.yaml"),
        "id: typo\nsteps:\n  - id: a\n    uses: emial/send\n",
    )
    .unwrap();
    let catalog = Catalog::new()
        .with_step("http", "request", json!({ "type": "object" }))
        .unwrap();
    let (workflows, errors) = Workflows::load(dir.path(), &catalog, &f.store)
        .await
        .unwrap();
    assert_eq!(errors.len(), 1);
    let state = AppState::new(f.store.clone(), Arc::new(workflows));

    let (status, ready) = get(&state, "/readyz", None).await;
    assert_eq!(status, 200, "still ready: {ready}");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["workflows"], 1);
    let listed = &ready["workflow_errors"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{ready}");
    let e = &listed[0];
    assert!(e["path"].as_str().unwrap().ends_with("typo.yaml"), "{e}");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(4), Some(11))
    );
    assert_eq!(e["scope"], "step \"a\"");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("unknown plugin \"emial\""),
        "{e}"
    );

    let token = auth::create_token(&f.store, "ops").await.unwrap();
    let (status, api) = get(&state, "/api/v1/workflow-errors", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(&api, listed);
    let (_, list) = get(&state, "/api/v1/workflows", Some(&token)).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}
