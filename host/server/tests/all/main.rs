//! The server's HTTP application, driven with `tower::ServiceExt::oneshot`.

mod api;
mod cron;
mod hooks;
mod loading;
mod local;
mod retention;
mod schedules;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response};
use relais_engine::Workflows;
use relais_server::{AppState, app};
use relais_store::{MasterKeySource, Store, StoreOptions};
use relais_workflow::{Catalog, parse_workflow};
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub const STRIPE_SECRET: &str = "whsec_test_secret";

const DUNNING: &str = r#"
id: dunning
trigger:
  webhook:
    path: stripe
    verify: { scheme: stripe, secret: stripe_secret }
    dedupe: "{{ body.id }}"
steps:
  - id: fetch
    uses: http/request
    with: { url: "http://127.0.0.1:1/{{ trigger.body.id }}" }
"#;

const TOKENED: &str = r#"
id: tokened
trigger:
  webhook:
    path: ops/token
    verify: { scheme: token, secret: hook_token }
steps:
  - id: fetch
    uses: http/request
    with: { url: "http://127.0.0.1:1/" }
"#;

const HELLO: &str = r#"
id: hello
input:
  type: object
  required: [name]
  properties: { name: { type: string } }
steps:
  - id: fetch
    uses: http/request
    with: { url: "http://127.0.0.1:1/{{ trigger.input.name }}" }
"#;

/// A store in a temporary folder, three workflows, and the app.
pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub store: Store,
    pub state: AppState,
}

impl Fixture {
    pub async fn new() -> Fixture {
        Fixture::with(&[]).await
    }

    /// The fixture with `extra` workflows (id, text) besides the three.
    pub async fn with(extra: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(StoreOptions::new(
            dir.path().join("relais.redb"),
            MasterKeySource::File(dir.path().join("master.key")),
        ))
        .unwrap()
        .store;
        let catalog = Catalog::new()
            .with_step("http", "request", json!({ "type": "object" }))
            .unwrap();
        let fixed = [("dunning", DUNNING), ("tokened", TOKENED), ("hello", HELLO)];
        let loaded = fixed
            .iter()
            .chain(extra)
            .map(|&(name, text)| parse_workflow(format!("{name}.yaml"), text, &catalog).unwrap());
        let workflows = Workflows::from_workflows(loaded, &store).await.unwrap();
        store
            .secret_set("stripe_secret", STRIPE_SECRET)
            .await
            .unwrap();
        store
            .secret_set("hook_token", "s3cret-token")
            .await
            .unwrap();
        let state = AppState::new(store.clone(), Arc::new(workflows));
        Fixture {
            _dir: dir,
            store,
            state,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> (u16, Value) {
        answer(app(self.state.clone()), request).await
    }
}

/// The status and body of `router`'s answer to `request` (a body that is
/// not JSON comes back as a JSON string).
pub async fn answer(router: axum::Router, request: Request<Body>) -> (u16, Value) {
    let response: Response<Body> = router.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}
