//! The contract between host and guest: describe, errors, context,
//! secrets, KV, and isolation between concurrent invocations.

use std::sync::Arc;

use relais_runtime::{InvokeError, MemoryKv, Secrets, StepError};
use serde_json::json;

use crate::{call, invocation, probe};

#[tokio::test]
async fn describe_lists_the_steps_with_schemas() {
    let p = probe().await;
    let info = p.info();
    assert_eq!(info.name, "probe");
    for step in [
        "noop", "echo", "spin", "alloc", "panic", "fetch", "secret", "kv", "fail",
    ] {
        let s = info
            .step(step)
            .unwrap_or_else(|| panic!("step {step} missing"));
        assert!(s.input_schema.is_object(), "{step} input schema");
    }
    assert_eq!(p.describe_fresh().await.unwrap(), *info);
}

#[tokio::test]
async fn step_errors_keep_their_kind() {
    let p = probe().await;
    let r = call(
        &p,
        "fail",
        json!({"kind": "retryable", "message": "busy", "retry_after_ms": 1500}),
    )
    .await;
    assert_eq!(
        r.result.unwrap_err(),
        InvokeError::Step(StepError::Retryable {
            message: "busy".into(),
            retry_after_ms: Some(1500)
        })
    );
    let r = call(&p, "fail", json!({"kind": "fatal", "message": "declined"})).await;
    assert_eq!(
        r.result.unwrap_err(),
        InvokeError::Step(StepError::Fatal {
            message: "declined".into()
        })
    );
    let r = call(
        &p,
        "fail",
        json!({"kind": "invalid-input", "message": "bad"}),
    )
    .await;
    assert!(matches!(
        r.result,
        Err(InvokeError::Step(StepError::InvalidInput { .. }))
    ));
    let r = call(&p, "no-such-step", json!({})).await;
    assert!(
        matches!(
            r.result,
            Err(InvokeError::Step(StepError::InvalidInput { .. }))
        ),
        "{:?}",
        r.result
    );
    let r = call(&p, "alloc", json!({"mib": "many"})).await;
    assert!(
        matches!(
            r.result,
            Err(InvokeError::Step(StepError::InvalidInput { .. }))
        ),
        "{:?}",
        r.result
    );
}

#[tokio::test]
async fn the_context_reaches_the_plugin() {
    let p = probe().await;
    let out = call(&p, "context", json!({})).await.result.unwrap();
    assert_eq!(
        out,
        json!({"run_id": "run-1", "step_id": "step-1", "attempt": 1, "idempotency_key": "run-1/step-1"})
    );
}

#[tokio::test]
async fn only_granted_secrets_are_visible_and_never_logged() {
    let p = probe().await;
    let mut inv = invocation("secret", json!({"name": "stripe_key"}));
    inv.secrets = [("stripe_key", "sk_test_abcdef")].into_iter().collect();
    let out = p.invoke(inv).await;
    // The value reaches the plugin, and is masked in what is recorded.
    assert_eq!(out.result.unwrap(), json!({"value": "***"}));

    let mut inv = invocation("secret", json!({"name": "paypal_secret"}));
    inv.secrets = [("stripe_key", "sk_test_abcdef")].into_iter().collect();
    assert_eq!(p.invoke(inv).await.result.unwrap(), json!({"value": null}));

    let inv = invocation("secret", json!({"name": "stripe_key"}));
    assert_eq!(inv.secrets, Secrets::new());
    assert_eq!(p.invoke(inv).await.result.unwrap(), json!({"value": null}));
}

#[tokio::test]
async fn kv_is_private_to_the_plugin_and_survives_instances() {
    let p = probe().await;
    let kv = Arc::new(MemoryKv::default());
    let mut inv = invocation("kv", json!({"key": "token", "value": "abc"}));
    inv.kv = kv.clone();
    assert_eq!(p.invoke(inv).await.result.unwrap(), json!({"read": "abc"}));
    let mut inv = invocation("kv", json!({"key": "token"}));
    inv.kv = kv.clone();
    assert_eq!(p.invoke(inv).await.result.unwrap(), json!({"read": "abc"}));
    use relais_runtime::KvStore;
    assert_eq!(
        kv.get("probe", "token").await.unwrap(),
        Some(b"abc".to_vec())
    );
    assert_eq!(kv.get("other", "token").await.unwrap(), None);
}

#[tokio::test]
async fn a_hundred_concurrent_invocations_do_not_interfere() {
    let p = probe().await;
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let p = p.clone();
            tokio::spawn(async move {
                let input = json!({"n": i, "pad": "y".repeat(i * 10)});
                let out = call(&p, "echo", input.clone()).await;
                (input, out.result)
            })
        })
        .collect();
    for t in tasks {
        let (input, output) = t.await.unwrap();
        assert_eq!(output.unwrap(), input);
    }
}
