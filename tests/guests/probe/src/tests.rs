use std::time::Duration;

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
use relais_plugin_sdk::{Context, StepError};
use serde_json::{Value, json};

use super::PLUGIN;

fn cx() -> Context {
    Context::new("run-1", "probe-step")
}

fn invoke(host: &FakeHost, step: &str, input: Value) -> Result<Value, StepError> {
    host.invoke(&PLUGIN, step, input, &cx())
}

#[test]
fn declares_exactly_the_steps_the_host_tests_use() {
    assert_eq!(PLUGIN.validate(), Ok(()));
    let names: Vec<&str> = PLUGIN.steps().iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "noop",
            "echo",
            "spin",
            "alloc",
            "panic",
            "big-output",
            "fetch",
            "secret",
            "log",
            "kv",
            "fail",
            "context",
            "count",
            "sleep",
            "flaky"
        ]
    );
    assert_eq!(PLUGIN.name(), "probe");
}

#[test]
fn noop_and_echo() {
    let host = FakeHost::new();
    assert_eq!(invoke(&host, "noop", json!({})), Ok(json!({})));
    let doc = json!({"a": [1, {"b": null}], "c": "é", "d": 1.5});
    assert_eq!(invoke(&host, "echo", doc.clone()), Ok(doc));
    assert_eq!(invoke(&host, "echo", json!({})), Ok(json!({})));
    let err = invoke(&host, "echo", json!([1])).unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
}

#[test]
fn alloc_touches_and_reports() {
    let host = FakeHost::new();
    assert_eq!(
        invoke(&host, "alloc", json!({"mib": 2})),
        Ok(json!({"mib": 2}))
    );
    assert_eq!(
        invoke(&host, "alloc", json!({"mib": 0})),
        Ok(json!({"mib": 0}))
    );
    let err = invoke(&host, "alloc", json!({})).unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
    let err = invoke(&host, "alloc", json!({"mib": u64::MAX})).unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
}

#[test]
fn panic_panics_with_its_message() {
    let host = FakeHost::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        invoke(&host, "panic", json!({}))
    }));
    let payload = caught.expect_err("panic step must panic");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"probe panicked on purpose")
    );
}

#[test]
fn big_output_has_exactly_n_bytes() {
    let host = FakeHost::new();
    let out = invoke(&host, "big-output", json!({"bytes": 5})).unwrap();
    assert_eq!(out, json!({"data": "xxxxx"}));
    let out = invoke(&host, "big-output", json!({"bytes": 0})).unwrap();
    assert_eq!(out, json!({"data": ""}));
    let out = invoke(&host, "big-output", json!({"bytes": 1_000_000})).unwrap();
    assert_eq!(out["data"].as_str().map(str::len), Some(1_000_000));
}

#[test]
fn fetch_reports_status_body_and_location() {
    let host = FakeHost::new()
        .on(
            Method::Get,
            "http://127.0.0.1:9/moved",
            FakeResponse::status(302)
                .header("Location", "http://127.0.0.1:9/there")
                .text("see there"),
        )
        .on(
            Method::Post,
            "http://127.0.0.1:9/ok",
            FakeResponse::ok().text("fine"),
        );
    let out = invoke(&host, "fetch", json!({"url": "http://127.0.0.1:9/moved"})).unwrap();
    assert_eq!(
        out,
        json!({"status": 302, "body": "see there", "location": "http://127.0.0.1:9/there"})
    );
    let out = invoke(
        &host,
        "fetch",
        json!({"url": "http://127.0.0.1:9/ok", "method": "post"}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"status": 200, "body": "fine", "location": null})
    );
    let methods: Vec<String> = host
        .requests()
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(methods, ["GET", "POST"]);
}

#[test]
fn fetch_passes_sdk_errors_through() {
    let host = FakeHost::new()
        .on(
            Method::Get,
            "http://127.0.0.1:9/denied",
            FakeResponse::refused("HTTP-request-denied"),
        )
        .on(
            Method::Get,
            "http://127.0.0.1:9/down",
            FakeResponse::transport_error("connection-refused"),
        );
    let err = invoke(&host, "fetch", json!({"url": "http://127.0.0.1:9/denied"})).unwrap_err();
    assert_eq!(
        err,
        StepError::fatal(
            "request to http://127.0.0.1:9/denied refused by the host: HTTP-request-denied"
        )
    );
    let err = invoke(&host, "fetch", json!({"url": "http://127.0.0.1:9/down"})).unwrap_err();
    assert_eq!(
        err,
        StepError::retryable("request to http://127.0.0.1:9/down failed: connection-refused")
    );
    let err = invoke(&host, "fetch", json!({"url": "not a url"})).unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
    let err = invoke(
        &host,
        "fetch",
        json!({"url": "http://127.0.0.1:9/", "method": "G T"}),
    )
    .unwrap_err();
    assert_eq!(err, StepError::invalid_input("invalid http method \"G T\""));
}

#[test]
fn secret_is_value_or_null() {
    let host = FakeHost::new().with_secret("granted", "s3cret");
    assert_eq!(
        invoke(&host, "secret", json!({"name": "granted"})),
        Ok(json!({"value": "s3cret"}))
    );
    assert_eq!(
        invoke(&host, "secret", json!({"name": "other"})),
        Ok(json!({"value": null}))
    );
}

#[test]
fn log_writes_n_lines_of_s_bytes() {
    let host = FakeHost::new();
    assert_eq!(
        invoke(&host, "log", json!({"lines": 3, "size": 10})),
        Ok(json!({}))
    );
    let logs = host.logs();
    assert_eq!(logs.len(), 3);
    assert!(
        logs.iter()
            .all(|l| l.message.len() == 10 && l.level == relais_plugin_sdk::log::Level::Info)
    );
    assert_eq!(
        invoke(&host, "log", json!({"lines": 0, "size": 10})),
        Ok(json!({}))
    );
    assert_eq!(host.logs().len(), 3);
}

#[test]
fn kv_sets_and_reads_back() {
    let host = FakeHost::new().with_kv("old", "before");
    assert_eq!(
        invoke(&host, "kv", json!({"key": "k"})),
        Ok(json!({"read": null}))
    );
    assert_eq!(
        invoke(&host, "kv", json!({"key": "k", "value": "v"})),
        Ok(json!({"read": "v"}))
    );
    assert_eq!(
        invoke(&host, "kv", json!({"key": "k"})),
        Ok(json!({"read": "v"}))
    );
    assert_eq!(
        invoke(&host, "kv", json!({"key": "old"})),
        Ok(json!({"read": "before"}))
    );
    assert_eq!(host.kv_value("k"), Some(b"v".to_vec()));

    let down = FakeHost::new().with_kv_failure("store unavailable");
    let err = invoke(&down, "kv", json!({"key": "k"})).unwrap_err();
    assert_eq!(
        err,
        StepError::retryable("kv get of key \"k\" failed: store unavailable")
    );
}

#[test]
fn fail_returns_each_kind() {
    let host = FakeHost::new();
    assert_eq!(
        invoke(
            &host,
            "fail",
            json!({"kind": "retryable", "message": "m", "retry_after_ms": 1500})
        ),
        Err(StepError::retryable_after("m", Duration::from_millis(1500)))
    );
    assert_eq!(
        invoke(&host, "fail", json!({"kind": "retryable", "message": "m"})),
        Err(StepError::retryable("m"))
    );
    assert_eq!(
        invoke(&host, "fail", json!({"kind": "fatal", "message": "f"})),
        Err(StepError::fatal("f"))
    );
    assert_eq!(
        invoke(
            &host,
            "fail",
            json!({"kind": "invalid-input", "message": "i"})
        ),
        Err(StepError::invalid_input("i"))
    );
    let err = invoke(&host, "fail", json!({"kind": "other", "message": "x"})).unwrap_err();
    assert!(
        err.message()
            .starts_with("invalid input at kind: unknown variant `other`"),
        "{err}"
    );
}

#[test]
fn context_is_echoed() {
    let host = FakeHost::new();
    let cx = Context::new("run-9", "s")
        .with_attempt(4)
        .with_idempotency_key("key-9");
    assert_eq!(
        host.invoke(&PLUGIN, "context", json!({}), &cx),
        Ok(json!({"run_id": "run-9", "step_id": "s", "attempt": 4, "idempotency_key": "key-9"}))
    );
}

#[test]
fn unknown_step_is_invalid_input() {
    let err = invoke(&FakeHost::new(), "nope", json!({})).unwrap_err();
    assert_eq!(err.kind(), "invalid-input");
    assert!(err.message().contains("no step \"nope\""), "{err}");
}

#[test]
fn count_counts_calls_per_idempotency_key() {
    let host = FakeHost::new();
    let first = host.invoke(&PLUGIN, "count", json!({}), &cx()).unwrap();
    let second = host.invoke(&PLUGIN, "count", json!({}), &cx()).unwrap();
    assert_eq!(first["count"], json!(1));
    assert_eq!(second["count"], json!(2));
    let other = Context::new("run-2", "probe-step");
    let third = host.invoke(&PLUGIN, "count", json!({}), &other).unwrap();
    assert_eq!(third["count"], json!(1));
}

#[test]
fn sleep_waits_at_least_as_long_as_asked() {
    let host = FakeHost::new();
    let started = std::time::Instant::now();
    let out = invoke(&host, "sleep", json!({"ms": 30})).unwrap();
    assert_eq!(out, json!({"slept_ms": 30}));
    assert!(started.elapsed() >= Duration::from_millis(30));
}

#[test]
fn flaky_fails_its_first_calls_per_key_then_succeeds() {
    let host = FakeHost::new();
    let input = json!({"failures": 2, "retry_after_ms": 700});
    for n in 1..=2 {
        let err = host
            .invoke(&PLUGIN, "flaky", input.clone(), &cx())
            .unwrap_err();
        assert_eq!(
            err,
            StepError::retryable_after(format!("failure {n} of 2"), Duration::from_millis(700))
        );
    }
    let ok = host.invoke(&PLUGIN, "flaky", input.clone(), &cx()).unwrap();
    assert_eq!(ok["count"], json!(3));
    let other = Context::new("run-2", "probe-step");
    let never = json!({"failures": 0});
    let first = host.invoke(&PLUGIN, "flaky", never, &other).unwrap();
    assert_eq!(first["count"], json!(1));
}
