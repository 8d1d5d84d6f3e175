//! A hostile guest against what the host holds for it: resource handles,
//! header maps, unsent bodies, log lines, KV data, stderr, and `describe`.
//! Each case ends on a typed error (or a capped log) and the host's
//! resident memory grows by less than [`RSS_BOUND`].

use std::sync::Arc;

use relais_runtime::{
    HttpGrants, InvokeError, Limit, Limits, MemoryKv, Origin, Outcome, Plugin, PluginSettings,
    SecretValue, Secrets,
};
use serde_json::{Value, json};

use crate::{guest, invocation, runtime};

/// How much the host's resident memory may grow during one hostile call.
/// Tests of this binary run in parallel, so this also covers their noise;
/// unbounded, the same guests took gigabytes.
const RSS_BOUND: u64 = 256 << 20;

/// The process's resident memory in bytes (`/proc/self/statm`).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

async fn hostile_with(limits: Limits, http: HttpGrants) -> Plugin {
    let settings = PluginSettings {
        limits,
        http,
        ..PluginSettings::default()
    };
    let (p, _) = runtime()
        .load(guest("hostile"), settings)
        .await
        .expect("load hostile");
    p
}

async fn hostile() -> Plugin {
    hostile_with(Limits::default(), HttpGrants::default()).await
}

/// Runs one step and checks the host's memory did not grow past the bound.
async fn contained(p: &Plugin, step: &str, input: Value) -> Outcome {
    let before = rss();
    let out = p.invoke(invocation(step, input)).await;
    let grown = rss().saturating_sub(before);
    eprintln!("{step}: rss grew by {} KiB", grown >> 10);
    assert!(grown < RSS_BOUND, "{step}: rss grew by {grown} bytes");
    out
}

fn limit_of(out: &Outcome) -> Option<Limit> {
    match &out.result {
        Err(InvokeError::Limit { limit, .. }) => Some(*limit),
        _ => None,
    }
}

#[tokio::test]
async fn header_maps_never_dropped_hit_the_handle_limit() {
    let p = hostile().await;
    let out = contained(&p, "fields", json!({"headers": 0})).await;
    assert_eq!(limit_of(&out), Some(Limit::Handles), "{:?}", out.result);
    let text = out.result.unwrap_err().to_string();
    assert!(text.contains("resource handles limit exceeded"), "{text}");
}

#[tokio::test]
async fn full_header_maps_hit_the_host_memory_limit() {
    let p = hostile().await;
    // About 25 KiB per map, under the 32 KiB cap of one map.
    let out = contained(&p, "fields", json!({"headers": 90, "value_bytes": 200})).await;
    assert_eq!(limit_of(&out), Some(Limit::HostMemory), "{:?}", out.result);
    let text = out.result.unwrap_err().to_string();
    assert!(
        text.contains("bytes of HTTP headers in host memory"),
        "{text}"
    );
}

#[tokio::test]
async fn a_header_map_over_its_cap_is_the_host_memory_limit() {
    let limits = Limits {
        header_bytes: 4 << 10,
        ..Limits::default()
    };
    let p = hostile_with(limits, HttpGrants::default()).await;
    let out = contained(&p, "fields", json!({"headers": 100, "value_bytes": 10})).await;
    assert_eq!(limit_of(&out), Some(Limit::HostMemory), "{:?}", out.result);
    let text = out.result.unwrap_err().to_string();
    assert!(text.contains("grew a header map past 4096 bytes"), "{text}");
}

#[tokio::test]
async fn unsent_bodies_hit_the_handle_limit() {
    let p = hostile().await;
    let out = contained(&p, "bodies", json!({})).await;
    assert_eq!(limit_of(&out), Some(Limit::Handles), "{:?}", out.result);
}

#[tokio::test]
async fn millions_of_empty_log_lines_are_capped() {
    let p = hostile().await;
    let out = contained(&p, "logs", json!({"lines": 2_000_000})).await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    let kept = out.logs.iter().filter(|l| l.level == "info").count();
    let limits = Limits::default();
    assert!(
        kept <= limits.log_bytes / relais_runtime::LOG_LINE_OVERHEAD,
        "{kept} lines kept"
    );
    let note = out.logs.last().unwrap();
    assert!(
        note.message
            .contains(&format!("{} log line(s) dropped", 2_000_000 - kept)),
        "{}",
        note.message
    );
}

#[tokio::test]
async fn a_line_cap_holds_whatever_the_bytes() {
    let limits = Limits {
        log_lines: 10,
        ..Limits::default()
    };
    let p = hostile_with(limits, HttpGrants::default()).await;
    let out = contained(&p, "logs", json!({"lines": 100})).await;
    assert_eq!(out.logs.iter().filter(|l| l.level == "info").count(), 10);
}

#[tokio::test]
async fn kv_past_its_key_quota_is_a_typed_limit() {
    let limits = Limits {
        kv_keys: 10,
        ..Limits::default()
    };
    let p = hostile_with(limits, HttpGrants::default()).await;
    let kv = Arc::new(MemoryKv::default());
    let mut inv = invocation("kv-fill", json!({"value_bytes": 10}));
    inv.kv = kv.clone();
    let out = p.invoke(inv).await;
    assert_eq!(limit_of(&out), Some(Limit::KvQuota), "{:?}", out.result);
    let text = out.result.unwrap_err().to_string();
    assert!(
        text.contains("would keep 11 kv keys, its quota is 10"),
        "{text}"
    );
}

#[tokio::test]
async fn kv_past_its_byte_quota_is_a_typed_limit() {
    let limits = Limits {
        kv_bytes: 64 << 10,
        ..Limits::default()
    };
    let p = hostile_with(limits, HttpGrants::default()).await;
    let out = contained(&p, "kv-fill", json!({"value_bytes": 10_000})).await;
    assert_eq!(limit_of(&out), Some(Limit::KvQuota), "{:?}", out.result);
}

#[tokio::test]
async fn describe_runs_with_no_grants() {
    let http = HttpGrants {
        hosts: vec![Origin::parse("http://127.0.0.1:9").unwrap()],
        private: vec![Origin::parse("http://127.0.0.1:9").unwrap()],
        ..HttpGrants::default()
    };
    let p = hostile_with(Limits::default(), http).await;
    let said = &p.info().description;
    assert!(said.contains("HttpRequestDenied"), "{said}");
}

#[tokio::test]
async fn stderr_of_a_successful_step_reaches_its_log() {
    let p = hostile().await;
    let out = p
        .invoke(invocation("stderr", json!({"text": "warming the cache"})))
        .await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    assert!(
        out.logs
            .iter()
            .any(|l| l.level == "host" && l.message == "stderr: warming the cache"),
        "{:?}",
        out.logs
    );
}

#[tokio::test]
async fn a_secret_is_masked_in_each_encoding_it_leaves_in() {
    let value = "pa\"ss/wörd+1 ok";
    let p = hostile().await;
    let mut inv = invocation("leak", json!({"secret": "panel"}));
    let mut secrets = Secrets::new();
    secrets.insert("panel", SecretValue::new(value));
    inv.secrets = secrets;
    let out = p.invoke(inv).await;
    assert_eq!(
        out.result.unwrap(),
        json!({
            "url": "https://panel.example/login?pw=***",
            "base64": "***",
            "base64url": "***",
            "authorization": "Basic ***",
        })
    );
    let line = out.logs.iter().find(|l| l.level == "info").unwrap();
    assert_eq!(line.message, r#"login body {"password":"***"}"#);
}
