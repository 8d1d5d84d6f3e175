//! The precompiled-component cache: hits after the first load, and damaged
//! entries are detected and rebuilt.

use relais_runtime::{CacheOutcome, PluginSettings, Runtime, RuntimeConfig};
use serde_json::json;

use crate::{call, guest};

async fn load(rt: &Runtime) -> (relais_runtime::Plugin, CacheOutcome) {
    rt.load(guest("probe"), PluginSettings::default())
        .await
        .expect("load")
}

#[tokio::test]
async fn a_corrupt_cache_entry_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(&RuntimeConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        ..RuntimeConfig::default()
    })
    .unwrap();
    assert_eq!(load(&rt).await.1, CacheOutcome::Miss);
    assert_eq!(load(&rt).await.1, CacheOutcome::Hit);

    let wasm = std::fs::read(guest("probe")).unwrap();
    let entry = rt.cache().unwrap().entry_path(&wasm);
    let mut bytes = std::fs::read(&entry).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&entry, &bytes).unwrap();
    let (p, outcome) = load(&rt).await;
    assert_eq!(outcome, CacheOutcome::Rebuilt);
    assert_eq!(call(&p, "noop", json!({})).await.result.unwrap(), json!({}));
    assert_eq!(load(&rt).await.1, CacheOutcome::Hit);

    std::fs::write(&entry, &bytes[..100]).unwrap();
    assert_eq!(load(&rt).await.1, CacheOutcome::Rebuilt);
    std::fs::write(&entry, b"").unwrap();
    assert_eq!(load(&rt).await.1, CacheOutcome::Rebuilt);
    assert_eq!(load(&rt).await.1, CacheOutcome::Hit);
}

#[tokio::test]
async fn a_file_that_is_not_a_component_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.wasm");
    std::fs::write(&bad, b"\0asm not really").unwrap();
    let rt = Runtime::new(&RuntimeConfig::default()).unwrap();
    let err = rt.load(&bad, PluginSettings::default()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("bad.wasm") && text.contains("not a usable component"),
        "{text}"
    );
}
