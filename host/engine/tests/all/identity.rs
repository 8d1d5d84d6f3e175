//! A plugin's name is the operator's (its file, or its configuration
//! entry), never its own claim; a plugin that cannot be used harms only
//! itself; outputs are checked against the declared output schema.

use std::path::{Path, PathBuf};

use relais_engine::{EngineError, PluginOptions, Plugins};
use relais_store::{ErrorKind, RunStatus};
use serde_json::json;

use crate::*;

/// A plugins folder holding copies of components under the given names.
fn folder(files: &[(&str, PathBuf)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, from) in files {
        std::fs::copy(from, dir.path().join(name)).expect("copy component");
    }
    dir
}

async fn load(
    dir: &Path,
    named: &[(&str, PathBuf)],
    check_output: bool,
) -> Result<(Plugins, Vec<String>), EngineError> {
    let named = named.iter().map(|(n, p)| ((*n).to_owned(), p.clone()));
    Plugins::load(&runtime(), dir, named, |_| PluginOptions {
        check_output,
        ..PluginOptions::default()
    })
    .await
}

fn stripe() -> PathBuf {
    component("plugins", "stripe")
}

fn impostor() -> PathBuf {
    component("test-guests", "impostor")
}

#[tokio::test]
async fn a_plugin_that_claims_another_name_does_not_take_its_place() {
    // `impostor.wasm` sorts before `stripe.wasm` and declares "stripe".
    let dir = folder(&[("impostor.wasm", impostor()), ("stripe.wasm", stripe())]);
    let (plugins, errors) = load(dir.path(), &[], true).await.expect("load");
    let real = plugins.get("stripe").expect("stripe loaded");
    assert_eq!(real.path(), dir.path().join("stripe.wasm"));
    assert_eq!(real.info().name, "stripe");
    assert!(plugins.get("impostor").is_none());
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert!(
        e.contains("impostor.wasm")
            && e.contains("declares itself \"stripe\"")
            && e.contains("names it \"impostor\""),
        "{e}"
    );
    // A workflow that uses it is told why it is not there.
    let err = relais_workflow::parse_workflow(
        "w.yaml",
        "id: w\nsteps:\n  - id: a\n    uses: impostor/kv-read\n    with: { key: k }\n",
        &plugins.catalog(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("plugin \"impostor\" did not load"), "{err}");
}

#[tokio::test]
async fn a_plugin_named_by_the_operator_runs_under_that_name_and_its_own_kv() {
    let dir = folder(&[("stripe.wasm", stripe())]);
    let (plugins, errors) = load(dir.path(), &[("impostor", impostor())], true)
        .await
        .expect("load");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(plugins.get("impostor").unwrap().name(), "impostor");
    assert_eq!(plugins.get("impostor").unwrap().info().name, "stripe");
    assert_eq!(
        plugins.get("stripe").unwrap().path(),
        dir.path().join("stripe.wasm")
    );

    let data = tempfile::tempdir().unwrap();
    let store = open_store(data.path());
    store
        .kv_set("stripe", "customer", b"cus_of_stripe".to_vec())
        .await
        .unwrap();
    let engine = engine_with(
        &store,
        plugins,
        &["id: peek\nsteps:\n  - id: read\n    uses: impostor/kv-read\n    with: { key: customer }\n"],
    )
    .await;
    engine.start();
    let f = Fixture {
        engine,
        store,
        dir: data,
    };
    let run = f.submit("peek", json!({})).await;
    let d = f.finish(run).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
    assert_eq!(output(&d.attempts[0]), &json!({ "read": null }));

    f.store
        .kv_set("impostor", "customer", b"own".to_vec())
        .await
        .unwrap();
    let run = f.submit("peek", json!({})).await;
    let d = f.finish(run).await;
    assert_eq!(output(&d.attempts[0]), &json!({ "read": "own" }));
}

#[tokio::test]
async fn two_files_under_one_name_stop_the_load_naming_both() {
    let dir = folder(&[("stripe.wasm", stripe())]);
    let err = load(dir.path(), &[("stripe", impostor())], true)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("plugin name \"stripe\"")
            && err.contains(&dir.path().join("stripe.wasm").display().to_string())
            && err.contains(&impostor().display().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn a_named_file_that_is_missing_is_that_plugins_error_naming_its_entry() {
    let dir = folder(&[("stripe.wasm", stripe())]);
    let missing = dir.path().join("nowhere/eu.wasm");
    let (plugins, errors) = load(dir.path(), &[("stripe-eu", missing.clone())], true)
        .await
        .expect("load");
    assert!(plugins.get("stripe").is_some());
    assert!(plugins.get("stripe-eu").is_none());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("[plugins.stripe-eu] file: ")
            && errors[0].contains(&missing.display().to_string()),
        "{errors:?}"
    );
}

#[tokio::test]
async fn an_input_schema_that_does_not_compile_breaks_only_its_plugin() {
    let dir = folder(&[
        ("bad-schema.wasm", component("test-guests", "bad-schema")),
        ("probe.wasm", component("test-guests", "probe")),
    ]);
    let (plugins, errors) = load(dir.path(), &[], true).await.expect("load");
    assert!(plugins.get("probe").is_some());
    assert!(plugins.get("bad-schema").is_none());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("bad-schema.wasm") && errors[0].contains("invalid input schema"),
        "{}",
        errors[0]
    );
    let catalog = plugins.catalog();
    relais_workflow::parse_workflow(
        "ok.yaml",
        "id: ok\nsteps:\n  - id: a\n    uses: probe/noop\n",
        &catalog,
    )
    .expect("a workflow of another plugin still validates");
    let err = relais_workflow::parse_workflow(
        "bad.yaml",
        "id: bad\nsteps:\n  - id: a\n    uses: bad-schema/noop\n",
        &catalog,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("plugin \"bad-schema\" did not load") && err.contains("invalid input schema"),
        "{err}"
    );
}

const CHARGE: &str = "id: charge\nsteps:\n  - id: pay\n    uses: impostor/charge\n";

async fn charge_run(check_output: bool) -> RunDetail {
    let dir = folder(&[]);
    let (plugins, errors) = load(dir.path(), &[("impostor", impostor())], check_output)
        .await
        .expect("load");
    assert!(errors.is_empty(), "{errors:?}");
    let data = tempfile::tempdir().unwrap();
    let store = open_store(data.path());
    let engine = engine_with(&store, plugins, &[CHARGE]).await;
    engine.start();
    let f = Fixture {
        engine,
        store,
        dir: data,
    };
    let run = f.submit("charge", json!({})).await;
    f.finish(run).await
}

#[tokio::test]
async fn an_output_that_breaks_its_schema_is_a_fatal_step_error() {
    let d = charge_run(true).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    assert_eq!(d.attempts.len(), 1, "never retried");
    let e = error(&d.attempts[0]);
    assert_eq!(e.kind, ErrorKind::Fatal);
    assert!(
        e.message.contains("output schema of impostor/charge") && e.message.contains("/id:"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn output_checks_can_be_turned_off_per_plugin() {
    let d = charge_run(false).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
    assert_eq!(output(&d.attempts[0]), &json!({ "id": 42 }));
}
