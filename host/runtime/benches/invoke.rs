//! Per-invocation cost of the sandbox.
//!
//! `cargo bench -p relais-runtime --bench invoke` (after
//! `scripts/build-plugins.sh`). Criterion reports medians; a second pass
//! records every single invocation and prints p50/p99 and throughput on one
//! and two worker threads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use relais_runtime::{
    CacheOutcome, Context, Invocation, MemoryKv, Plugin, PluginSettings, Runtime, RuntimeConfig,
    Secrets,
};

fn guest() -> std::path::PathBuf {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/test-guests/probe.wasm");
    assert!(p.exists(), "run scripts/build-plugins.sh first");
    p
}

fn input_1k() -> String {
    let s = serde_json::json!({"customer": "cus_123", "items": (0..20).map(|i| serde_json::json!({"id": i, "label": "hosting-plan"})).collect::<Vec<_>>(), "note": "x".repeat(330)}).to_string();
    assert!((900..1200).contains(&s.len()), "input is {} bytes", s.len());
    s
}

fn invocation(step: &str, input: &str, kv: &Arc<MemoryKv>) -> Invocation {
    Invocation {
        step: step.into(),
        input: input.into(),
        context: Context {
            run_id: "r".into(),
            step_id: "s".into(),
            attempt: 1,
            idempotency_key: "r/s".into(),
        },
        secrets: Secrets::new(),
        kv: kv.clone(),
    }
}

fn setup(threads: usize) -> (tokio::runtime::Runtime, Plugin) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap();
    let plugin = rt.block_on(async {
        let r = Runtime::new(&RuntimeConfig::default()).unwrap();
        r.load(guest(), PluginSettings::default()).await.unwrap().0
    });
    (rt, plugin)
}

fn criterion_benches(c: &mut Criterion) {
    let (rt, plugin) = setup(1);
    let kv = Arc::new(MemoryKv::default());
    let input = input_1k();
    c.bench_function("fresh instance + describe", |b| {
        b.to_async(&rt)
            .iter(|| async { plugin.describe_fresh().await.unwrap() })
    });
    c.bench_function("fresh instance + invoke noop", |b| {
        b.to_async(&rt).iter(|| async {
            plugin
                .invoke(invocation("noop", "{}", &kv))
                .await
                .result
                .unwrap()
        })
    });
    c.bench_function("fresh instance + invoke echo 1 KB", |b| {
        b.to_async(&rt).iter(|| async {
            plugin
                .invoke(invocation("echo", &input, &kv))
                .await
                .result
                .unwrap()
        })
    });

    let dir = tempfile::tempdir().unwrap();
    let cached = Runtime::new(&RuntimeConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        ..RuntimeConfig::default()
    })
    .unwrap();
    rt.block_on(cached.load(guest(), PluginSettings::default()))
        .unwrap();
    c.bench_function("cold load of a cached precompiled plugin", |b| {
        b.to_async(&rt).iter(|| async {
            let (_, o) = cached
                .load(guest(), PluginSettings::default())
                .await
                .unwrap();
            assert_eq!(o, CacheOutcome::Hit);
        })
    });
}

fn percentiles(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[v.len() * 99 / 100])
}

/// Every invocation timed on its own, then throughput with 1 and 2 workers.
fn latency_and_throughput() {
    let input = input_1k();
    let kv = Arc::new(MemoryKv::default());
    let (rt, plugin) = setup(1);
    println!(
        "\n{:<44} {:>10} {:>10}",
        "per invocation (1 worker)", "p50", "p99"
    );
    for (label, step, inp) in [
        ("fresh instance + describe", "", ""),
        ("fresh instance + invoke noop", "noop", "{}"),
        ("fresh instance + invoke echo 1 KB", "echo", input.as_str()),
    ] {
        let samples = rt.block_on(async {
            let mut v = Vec::with_capacity(50_000);
            let end = Instant::now() + Duration::from_secs(3);
            while Instant::now() < end {
                let t = Instant::now();
                if step.is_empty() {
                    plugin.describe_fresh().await.unwrap();
                } else {
                    plugin
                        .invoke(invocation(step, inp, &kv))
                        .await
                        .result
                        .unwrap();
                }
                v.push(t.elapsed());
            }
            v
        });
        let (p50, p99) = percentiles(samples);
        println!(
            "{label:<44} {:>8.1}µs {:>8.1}µs",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6
        );
    }
    drop(rt);

    println!("\n{:<44} {:>12}", "throughput, invoke noop", "per second");
    for threads in [1, 2] {
        let (rt, plugin) = setup(threads);
        let per_task = 20_000;
        let tasks = threads * 4;
        let started = Instant::now();
        rt.block_on(async {
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    let p = plugin.clone();
                    let kv = kv.clone();
                    tokio::spawn(async move {
                        for _ in 0..per_task {
                            p.invoke(invocation("noop", "{}", &kv))
                                .await
                                .result
                                .unwrap();
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
        let rate = (per_task * tasks) as f64 / started.elapsed().as_secs_f64();
        println!("{:<44} {rate:>12.0}", format!("{threads} worker thread(s)"));
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = criterion_benches
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    latency_and_throughput();
}
