//! Sandbox tests against real guests built from source
//! (`scripts/build-plugins.sh` builds them into `target/test-guests/`).

mod cache;
mod hostile;
mod http;
mod limits;
mod mail;
mod server;
mod smtp;
mod steps;
mod tls;
mod tls_panels;
mod tls_server;

use std::path::PathBuf;
use std::sync::Arc;

use relais_runtime::{
    Context, HttpGrants, Invocation, Limits, MemoryKv, Outcome, Plugin, PluginSettings, Runtime,
    RuntimeConfig, Secrets,
};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn guest(name: &str) -> PathBuf {
    let path = repo_root()
        .join("target/test-guests")
        .join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-plugins.sh first",
        path.display()
    );
    path
}

pub fn runtime() -> Runtime {
    Runtime::new(&RuntimeConfig::default()).expect("runtime")
}

pub async fn probe_with(limits: Limits, http: HttpGrants) -> Plugin {
    let (p, _) = runtime()
        .load(
            guest("probe"),
            PluginSettings {
                limits,
                http,
                ..PluginSettings::default()
            },
        )
        .await
        .expect("load probe");
    p
}

pub async fn probe() -> Plugin {
    probe_with(Limits::default(), HttpGrants::default()).await
}

pub fn invocation(step: &str, input: serde_json::Value) -> Invocation {
    Invocation {
        step: step.into(),
        input: input.to_string(),
        context: Context {
            run_id: "run-1".into(),
            step_id: "step-1".into(),
            attempt: 1,
            idempotency_key: "run-1/step-1".into(),
        },
        secrets: Secrets::new(),
        kv: Arc::new(MemoryKv::default()),
    }
}

pub async fn call(p: &Plugin, step: &str, input: serde_json::Value) -> Outcome {
    p.invoke(invocation(step, input)).await
}
