//! `for_each` item retries: durable timers that survive a restart, with
//! the same idempotency keys, and items that already ended are not called
//! again.

use std::time::Duration;

use relais_store::{Attempt, ErrorKind, RunId, RunStatus, Store, TimerPurpose};
use serde_json::json;

use crate::*;

fn batch(id: &str, concurrency: u32, attempts: u32, retry_after_ms: u64) -> String {
    format!(
        r#"
id: {id}
steps:
  - id: items
    uses: probe/flaky
    with: {{ failures: "{{{{ item }}}}", retry_after_ms: {retry_after_ms} }}
    for_each: "{{{{ trigger.input.items }}}}"
    for_each_concurrency: {concurrency}
    for_each_policy: continue
    retry: {{ attempts: {attempts}, initial: 1h }}
  - id: after
    uses: probe/echo
    with: {{ n: "{{{{ steps.items.output | length }}}}" }}
"#
    )
}

/// How many times the probe was called with the key of item `i`.
async fn calls(store: &Store, run: RunId, i: u32) -> Option<String> {
    let key = format!("count:{run}/items/{i}");
    let value = store.kv_get("probe", &key).await.unwrap();
    value.map(|v| String::from_utf8(v).unwrap())
}

fn of_item(d: &relais_store::RunDetail, i: u32) -> Vec<&Attempt> {
    d.attempts.iter().filter(|a| a.item == Some(i)).collect()
}

#[tokio::test]
async fn an_item_retry_waits_on_a_durable_timer_across_a_restart() {
    let wf = batch("batch", 2, 3, 1_500);
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let engine = engine_on(&store, &[&wf]).await;
    let loops = engine.start();
    let run = engine
        .submit(
            "batch",
            TriggerKind::Manual,
            json!(null),
            json!({"items": [0, 1, 0]}),
            None,
        )
        .await
        .unwrap()
        .run_id()
        .unwrap();
    // Items 0 and 2 succeed, item 1 fails once: the run sleeps until its
    // retry is due.
    let waiting = until_status(&store, run, RunStatus::Waiting).await;
    let d = store.run_detail(run).await.unwrap().unwrap();
    let failed = of_item(&d, 1)[0];
    assert_eq!(error(failed).kind, ErrorKind::Retryable);
    let wake = waiting.wake.unwrap();
    assert_eq!(wake.purpose, TimerPurpose::Retry);
    assert_eq!(
        wake.due.as_millis(),
        failed.ended_at.unwrap().as_millis() + 1_500
    );
    assert_eq!(d.attempts.len(), 3, "no summary yet: {:?}", trail(&d));

    engine.shutdown(Duration::from_secs(1)).await;
    loops.await.unwrap();
    drop(engine);
    drop(store);

    let store = reopen_store(dir.path()).await;
    let engine = engine_on(&store, &[&wf]).await;
    engine.start();
    let header = engine
        .wait_finished(run, Duration::from_secs(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(header.status, RunStatus::Succeeded, "{:?}", header.error);
    let d = store.run_detail(run).await.unwrap().unwrap();
    for (i, tries) in [(0, 1), (1, 2), (2, 1)] {
        let attempts = of_item(&d, i);
        assert_eq!(attempts.len(), tries, "item {i}: {:?}", trail(&d));
        for (n, a) in attempts.iter().enumerate() {
            assert_eq!(a.idempotency_key, format!("{run}/items/{i}"));
            assert_eq!(a.attempt, n as u32 + 1);
        }
        let expected = tries.to_string();
        assert_eq!(calls(&store, run, i).await.as_deref(), Some(&*expected));
    }
    let retried = of_item(&d, 1)[1];
    assert!(retried.started_at.as_millis() >= wake.due.as_millis());
    assert_eq!(output(retried)["count"], json!(2));
    let summary = d
        .attempts
        .iter()
        .find(|a| a.step_id == "items" && a.item.is_none())
        .unwrap();
    let counts: Vec<_> = output(summary)
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["count"].clone())
        .collect();
    assert_eq!(counts, [json!(1), json!(2), json!(1)]);
    assert_eq!(output(d.attempts.last().unwrap()), &json!({"n": 3}));
    engine.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn an_item_holds_its_slot_through_its_retries_until_it_ends() {
    // One at a time: item 0 fails once, item 1 fails past its budget,
    // item 2 succeeds at once.
    let wf = batch("serial", 1, 2, 150);
    let f = fixture(&[&wf]).await;
    f.engine.start();
    let run = f.submit("serial", json!({"items": [1, 5, 0]})).await;
    let d = f.finish(run).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    let order: Vec<_> = d.attempts.iter().map(|a| (a.item, a.attempt)).collect();
    assert_eq!(
        order,
        [
            (Some(0), 1),
            (Some(0), 2),
            (Some(1), 1),
            (Some(1), 2),
            (Some(2), 1),
            (None, 1)
        ]
    );
    for pair in d.attempts.windows(2) {
        let gap = pair[1].started_at.as_millis() - pair[0].ended_at.unwrap().as_millis();
        if pair[0].item == pair[1].item && pair[0].item.is_some() {
            assert!(gap >= 150, "a retry waits its delay: {gap} ms");
        }
    }
    let e = d.run.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Retryable);
    assert_eq!(
        e.message,
        "step items: item 1: failure 2 of 5 (1 of 3 items failed)"
    );
    for (i, n) in [(0, "2"), (1, "2"), (2, "1")] {
        assert_eq!(calls(&f.store, run, i).await.as_deref(), Some(n));
    }
}
