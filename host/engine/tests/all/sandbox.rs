//! What the sandbox bounds, seen through the engine: a plugin's KV quota on
//! the real store, and a step's stderr kept in its stored log.

use std::sync::Arc;

use relais_engine::{Engine, Plugins, StoreKv, Workflows};
use relais_runtime::{
    Context, Invocation, InvokeError, Limit, Limits, Plugin, PluginSettings, Secrets,
};
use relais_store::{RunStatus, TriggerKind};
use serde_json::json;

use crate::*;

async fn hostile(limits: Limits) -> Plugin {
    let path = component("test-guests", "hostile");
    let settings = PluginSettings {
        limits,
        ..PluginSettings::default()
    };
    runtime()
        .load(&path, settings)
        .await
        .expect("load hostile")
        .0
}

#[tokio::test]
async fn a_plugin_past_its_kv_quota_fails_on_a_typed_limit_in_the_real_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let limits = Limits {
        kv_keys: 20,
        ..Limits::default()
    };
    let p = hostile(limits).await;
    let out = p
        .invoke(Invocation {
            step: "kv-fill".into(),
            input: json!({"value_bytes": 100}).to_string(),
            context: Context::default(),
            secrets: Secrets::new(),
            kv: Arc::new(StoreKv(store.clone())),
        })
        .await;
    match &out.result {
        Err(InvokeError::Limit { limit, message }) => {
            assert_eq!(*limit, Limit::KvQuota);
            assert!(
                message.contains("it would keep 21 keys, the quota is 20"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    let name = p.name();
    assert!(store.kv_get(name, "fill-19").await.unwrap().is_some());
    assert_eq!(store.kv_get(name, "fill-20").await.unwrap(), None);
}

#[tokio::test]
async fn a_step_s_stderr_is_kept_in_its_stored_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let plugins = Plugins::from_plugins([hostile(Limits::default()).await]).expect("plugins");
    let catalog = plugins.catalog();
    let text = r#"
id: noisy
steps:
  - id: warm
    uses: hostile/stderr
    with: { text: "cache warmed" }
"#;
    let wf = relais_workflow::parse_workflow("noisy.yaml", text.to_string(), &catalog)
        .expect("workflow");
    let workflows = Workflows::from_workflows([wf], &store)
        .await
        .expect("workflows");
    let engine = Engine::new(
        store.clone(),
        Arc::new(workflows),
        Arc::new(plugins),
        config(),
    );
    engine.start();
    let run = engine
        .submit(
            "noisy",
            TriggerKind::Manual,
            serde_json::Value::Null,
            json!({}),
            None,
        )
        .await
        .expect("submit")
        .run_id()
        .expect("created");
    let header = engine
        .wait_finished(run, std::time::Duration::from_secs(10))
        .await
        .expect("wait")
        .expect("run");
    assert_eq!(header.status, RunStatus::Succeeded, "{:?}", header.error);
    let detail = store.run_detail(run).await.unwrap().unwrap();
    let logs = &detail.attempts[0].logs;
    assert!(
        logs.iter().any(|l| l.message == "stderr: cache warmed"),
        "{logs:?}"
    );
}
