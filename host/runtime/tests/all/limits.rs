//! Both sides of every limit.

use std::time::{Duration, Instant};

use relais_runtime::{HttpGrants, InvokeError, Limit, Limits};
use serde_json::json;

use crate::{call, probe, probe_with};

fn limit_of(r: &Result<serde_json::Value, InvokeError>) -> Option<Limit> {
    match r {
        Err(InvokeError::Limit { limit, .. }) => Some(*limit),
        _ => None,
    }
}

#[tokio::test]
async fn memory_under_the_cap_works_and_over_it_fails_cleanly() {
    let limits = Limits {
        memory_bytes: 32 << 20,
        ..Limits::default()
    };
    let p = probe_with(limits, HttpGrants::default()).await;
    let ok = call(&p, "alloc", json!({"mib": 8})).await;
    assert_eq!(ok.result.unwrap(), json!({"mib": 8}));

    let over = call(&p, "alloc", json!({"mib": 64})).await;
    assert_eq!(
        limit_of(&over.result),
        Some(Limit::Memory),
        "{:?}",
        over.result
    );
    let text = over.result.unwrap_err().to_string();
    assert!(text.contains("memory limit exceeded"), "{text}");

    let started = Instant::now();
    let unbounded = call(&p, "alloc", json!({"unbounded": true})).await;
    assert_eq!(limit_of(&unbounded.result), Some(Limit::Memory));
    assert!(started.elapsed() < Duration::from_secs(5));

    // The same plugin keeps working afterwards.
    assert_eq!(call(&p, "noop", json!({})).await.result.unwrap(), json!({}));
}

#[tokio::test]
async fn a_loop_is_stopped_at_its_timeout_and_the_next_call_succeeds() {
    let limits = Limits {
        timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let p = probe_with(limits, HttpGrants::default()).await;
    let started = Instant::now();
    let spun = call(&p, "spin", json!({})).await;
    let took = started.elapsed();
    assert_eq!(
        limit_of(&spun.result),
        Some(Limit::Timeout),
        "{:?}",
        spun.result
    );
    assert!(spun.result.as_ref().unwrap_err().is_retryable());
    assert!(
        took >= Duration::from_millis(300),
        "stopped too early: {took:?}"
    );
    assert!(took < Duration::from_secs(3), "stopped too late: {took:?}");
    assert_eq!(call(&p, "noop", json!({})).await.result.unwrap(), json!({}));
}

#[tokio::test]
async fn a_spinning_guest_does_not_starve_others() {
    let limits = Limits {
        timeout: Duration::from_millis(800),
        ..Limits::default()
    };
    let p = probe_with(limits, HttpGrants::default()).await;
    let spinners: Vec<_> = (0..4)
        .map(|_| {
            let p = p.clone();
            tokio::spawn(async move { call(&p, "spin", json!({})).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let quick = call(&p, "noop", json!({})).await;
    assert!(quick.result.is_ok());
    assert!(
        started.elapsed() < Duration::from_millis(600),
        "a quick step waited {:?} behind spinning guests",
        started.elapsed()
    );
    for s in spinners {
        assert_eq!(limit_of(&s.await.unwrap().result), Some(Limit::Timeout));
    }
}

#[tokio::test]
async fn output_over_the_cap_fails_and_under_it_passes() {
    let limits = Limits {
        output_bytes: 10_000,
        ..Limits::default()
    };
    let p = probe_with(limits, HttpGrants::default()).await;
    let ok = call(&p, "big-output", json!({"bytes": 5_000})).await;
    assert_eq!(ok.result.unwrap()["data"].as_str().unwrap().len(), 5_000);
    let over = call(&p, "big-output", json!({"bytes": 20_000})).await;
    assert_eq!(limit_of(&over.result), Some(Limit::OutputSize));
}

#[tokio::test]
async fn log_volume_is_capped_and_the_drop_is_noted() {
    // Ten lines of 100 bytes, each counting its overhead too.
    let limits = Limits {
        log_bytes: 10 * (100 + relais_runtime::LOG_LINE_OVERHEAD),
        ..Limits::default()
    };
    let p = probe_with(limits, HttpGrants::default()).await;
    let under = call(&p, "log", json!({"lines": 5, "size": 100})).await;
    assert!(under.result.is_ok());
    assert_eq!(under.logs.iter().filter(|l| l.level == "info").count(), 5);
    let over = call(&p, "log", json!({"lines": 50, "size": 100})).await;
    assert!(over.result.is_ok(), "a log flood does not fail the step");
    assert_eq!(over.logs.iter().filter(|l| l.level == "info").count(), 10);
    let note = over.logs.last().unwrap();
    assert_eq!(note.level, "host");
    assert!(
        note.message.contains("40 log line(s) dropped"),
        "{}",
        note.message
    );
}

#[tokio::test]
async fn a_panic_fails_the_step_with_its_message() {
    let p = probe().await;
    let out = call(&p, "panic", json!({})).await;
    match &out.result {
        Err(InvokeError::Panic { message }) => {
            assert!(message.contains("probe panicked on purpose"), "{message}")
        }
        other => panic!("expected a panic error, got {other:?}"),
    }
    assert!(!out.result.as_ref().unwrap_err().is_retryable());
    assert_eq!(call(&p, "noop", json!({})).await.result.unwrap(), json!({}));
}
