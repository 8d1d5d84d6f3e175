//! Steps of each kind: plugin calls in sequence, `set`, `wait`, secrets,
//! timeouts and `for_each`.

use std::time::Duration;

use relais_store::{ErrorKind, RunStatus};
use serde_json::json;

use crate::*;

const SEQ: &str = r#"
id: seq
steps:
  - id: a
    uses: probe/echo
    with: { x: "{{ trigger.input.x }}" }
  - id: b
    uses: probe/echo
    with: { y: "{{ steps.a.output.x }}-b" }
  - id: c
    uses: probe/context
"#;

#[tokio::test]
async fn steps_run_in_order_and_see_earlier_outputs() {
    let f = fixture(&[SEQ]).await;
    f.engine.start();
    let run = f.submit("seq", json!({"x": "hi"})).await;
    let d = f.finish(run).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
    assert_eq!(
        trail(&d),
        [("a".into(), 1), ("b".into(), 1), ("c".into(), 1)]
    );
    assert_eq!(d.attempts[0].input, json!({"x": "hi"}));
    assert_eq!(output(&d.attempts[1]), &json!({"y": "hi-b"}));
    let cx = output(&d.attempts[2]);
    assert_eq!(cx["idempotency_key"], json!(format!("{run}/c")));
    assert_eq!(cx["run_id"], json!(run.to_string()));
    assert_eq!(cx["attempt"], json!(1));
    assert_eq!(d.attempts[2].idempotency_key, format!("{run}/c"));
    assert!(d.attempts.iter().all(|a| a.ended_at >= Some(a.started_at)));
    let out = relais_engine::run_output(&f.store, run).await.unwrap();
    assert_eq!(out, Some(cx.clone()));
}

#[tokio::test]
async fn set_computes_values_and_wait_is_a_durable_timer() {
    let f = fixture(&[r#"
id: sw
steps:
  - id: s
    set: { total: "{{ trigger.input.a + trigger.input.b }}" }
  - id: pause
    wait: 400ms
  - id: after
    uses: probe/echo
    with: { t: "{{ steps.s.output.total }}" }
"#])
    .await;
    f.engine.start();
    let started = std::time::Instant::now();
    let run = f.submit("sw", json!({"a": 2, "b": 3})).await;
    let waiting = until_status(&f.store, run, RunStatus::Waiting).await;
    assert_eq!(waiting.next_step, 2, "resumes after the wait");
    assert!(waiting.wake.is_some());
    let d = f.finish(run).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(output(&d.attempts[0]), &json!({"total": 5}));
    assert_eq!(output(&d.attempts[2]), &json!({"t": 5}));
}

#[tokio::test]
async fn secrets_are_granted_to_the_naming_step_only_and_never_recorded() {
    let f = fixture(&[r#"
id: sec
steps:
  - id: granted
    uses: probe/secret
    with: { name: api_key }
    secrets: [api_key]
  - id: not_granted
    uses: probe/secret
    with: { name: api_key }
  - id: missing
    uses: probe/secret
    with: { name: nope }
    secrets: [nope]
"#])
    .await;
    f.store
        .secret_set("api_key", "sk_live_very_secret")
        .await
        .unwrap();
    f.engine.start();
    let run = f.submit("sec", json!({})).await;
    let d = f.finish(run).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    let granted = output(&d.attempts[0]);
    assert!(granted["value"].is_string(), "{granted}");
    assert_eq!(output(&d.attempts[1]), &json!({"value": null}));
    let e = error(&d.attempts[2]);
    assert_eq!(e.kind, ErrorKind::Fatal);
    assert!(e.message.contains("secret \"nope\" is not set"), "{e:?}");
    let everything = serde_json::to_string(&d).unwrap();
    assert!(!everything.contains("sk_live_very_secret"), "{everything}");
}

#[tokio::test]
async fn a_step_timeout_cuts_the_call_and_is_retried() {
    let f = fixture(&[r#"
id: slow
steps:
  - id: spin
    uses: probe/spin
    timeout: 150ms
    retry: { attempts: 2, initial: 10ms }
"#])
    .await;
    f.engine.start();
    let run = f.submit("slow", json!({})).await;
    let d = f.finish(run).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    assert_eq!(trail(&d), [("spin".into(), 1), ("spin".into(), 2)]);
    for a in &d.attempts {
        assert_eq!(error(a).kind, ErrorKind::Timeout);
        let took = a.ended_at.unwrap().as_millis() - a.started_at.as_millis();
        assert!((140..2000).contains(&took), "took {took} ms");
    }
}

const EACH: &str = r#"
id: each
steps:
  - id: items
    uses: probe/alloc
    with: "{{ item }}"
    for_each: "{{ trigger.input.items }}"
    for_each_concurrency: 2
    for_each_policy: continue
  - id: after
    uses: probe/echo
    with: { n: "{{ steps.items.output | length }}" }
"#;

#[tokio::test]
async fn for_each_outputs_in_order_with_stable_item_keys() {
    let f = fixture(&[EACH]).await;
    f.engine.start();
    let items: Vec<_> = (1..=5).map(|i| json!({"mib": i})).collect();
    let run = f.submit("each", json!({ "items": items })).await;
    let d = f.finish(run).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
    let item_attempts: Vec<_> = d.attempts.iter().filter(|a| a.item.is_some()).collect();
    assert_eq!(item_attempts.len(), 5);
    for a in &item_attempts {
        let i = a.item.unwrap();
        assert_eq!(a.idempotency_key, format!("{run}/items/{i}"));
        assert_eq!(output(a), &json!({"mib": i + 1}));
    }
    let summary = d
        .attempts
        .iter()
        .find(|a| a.step_id == "items" && a.item.is_none())
        .unwrap();
    assert_eq!(output(summary), &json!(items));
    assert_eq!(output(d.attempts.last().unwrap()), &json!({"n": 5}));
}

#[tokio::test]
async fn for_each_policies_continue_and_stop() {
    let stop = EACH
        .replace("id: each", "id: each_stop")
        .replace("policy: continue", "policy: stop")
        .replace("concurrency: 2", "concurrency: 1");
    let f = fixture(&[EACH, &stop]).await;
    f.engine.start();
    let items = json!({"items": [{"mib": 1}, {}, {"mib": 2}]});
    let d = f.finish(f.submit("each", items.clone()).await).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    let summary = d.attempts.iter().find(|a| a.item.is_none()).unwrap();
    let e = error(summary);
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(e.message.starts_with("item 1: "), "{e:?}");
    assert_eq!(d.attempts.iter().filter(|a| a.item.is_some()).count(), 3);

    let d = f.finish(f.submit("each_stop", items).await).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    let ran: Vec<_> = d.attempts.iter().filter_map(|a| a.item).collect();
    assert_eq!(ran, [0, 1], "no item starts after a failure");
}

#[tokio::test]
async fn for_each_refuses_anything_but_a_list() {
    let f = fixture(&[EACH]).await;
    f.engine.start();
    let d = f
        .finish(f.submit("each", json!({"items": "abc"})).await)
        .await;
    assert_eq!(d.run.status, RunStatus::Failed);
    let e = error(&d.attempts[0]);
    assert_eq!(e.message, "for_each must give a list, got a string");
}
