//! Durable create-run throughput with 1, 16, 64 and 256 concurrent writers
//! (real fsync: every acknowledged create is committed with immediate
//! durability), a one-step run's full life cycle with 64 and 256 workers,
//! and the p50/p99 latency of one acknowledged create (alone and among 64
//! writers, printed at the end).
//!
//! Run with `cargo bench -p relais-store --bench create_run`. The database
//! lives under the target folder (a real disk, not a RAM file system).

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use relais_store::{
    AttemptEnd, AttemptOutcome, AttemptStart, MasterKeySource, NewRun, NextState, RunGuard, Store,
    StoreOptions, Timestamp, TriggerKind,
};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

const SOURCE: &str = "id: bench\ntrigger:\n  webhook:\n    path: stripe\nsteps: []\n";

/// A Stripe-like event body, about 1.3 KB once encoded.
fn payload(n: u64) -> Value {
    json!({
        "headers": {"content-type": "application/json", "stripe-signature": "t=1,v1=abcdef0123456789"},
        "body": {
            "id": format!("evt_{n:024}"),
            "object": "event",
            "type": "invoice.payment_failed",
            "created": 1_750_000_000u64 + n,
            "data": {"object": {
                "id": format!("in_{n:024}"),
                "customer": "cus_Q1w2e3r4t5y6u7",
                "amount_due": 2900,
                "currency": "eur",
                "attempt_count": 1,
                "lines": {"data": [{"description": "Hosting plan M (monthly)", "amount": 2900}]},
                "metadata": {"cpanel_user": "client042", "plan": "m", "note": "x".repeat(600)}
            }}
        }
    })
}

fn new_run(rev: &str, n: u64) -> NewRun {
    let now = Timestamp::now();
    NewRun {
        workflow_id: "bench".into(),
        revision: rev.to_owned(),
        trigger: TriggerKind::Webhook,
        payload: payload(n),
        input: json!({}),
        created_at: now,
        guard: Some(RunGuard::Dedupe {
            key: format!("evt_{n:024}"),
            expires_at: now.saturating_add(Duration::from_secs(86_400)),
        }),
    }
}

struct Bench {
    _dir: tempfile::TempDir,
    store: Store,
    rev: String,
}

fn open(rt: &Runtime) -> Bench {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("bench folder");
    let options = StoreOptions::new(
        dir.path().join("bench.redb"),
        MasterKeySource::File(dir.path().join("master.key")),
    );
    let store = Store::open(options).expect("store opens").store;
    let rev = rt
        .block_on(store.put_revision("bench", SOURCE, "bench.yaml", Timestamp::now()))
        .expect("revision")
        .hash;
    Bench {
        _dir: dir,
        store,
        rev,
    }
}

/// Runs `total` operations spread over `writers` tasks; returns the time.
fn spread<F, Fut>(rt: &Runtime, writers: u64, total: u64, op: F) -> Duration
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    rt.block_on(async {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let share = total / writers + u64::from(w < total % writers);
            let op = op.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..share {
                    op(w * 1_000_000_000 + i).await;
                }
            }));
        }
        for t in tasks {
            t.await.expect("writer task");
        }
        started.elapsed()
    })
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn throughput(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("create_run");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(6));
    for writers in [1u64, 16, 64, 256] {
        let b = open(&rt);
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        group.bench_function(BenchmarkId::new("concurrent_writers", writers), |bench| {
            bench.iter_custom(|iters| {
                let store = b.store.clone();
                let rev = b.rev.clone();
                let counter = counter.clone();
                spread(&rt, writers, iters, move |_| {
                    let store = store.clone();
                    let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let run = new_run(&rev, n);
                    async move {
                        store.create_run(run).await.expect("create_run");
                    }
                })
            });
        });
        let stats = b.store.writer_stats();
        eprintln!(
            "create_run/{writers} writers: {} operations in {} commits ({:.1} per commit)",
            stats.operations,
            stats.commits,
            stats.operations as f64 / stats.commits.max(1) as f64
        );
    }
    group.finish();
}

/// create → claim → step start → step end (succeeded): four durable
/// operations per run, 64 and 256 workers.
fn one_step_runs(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("one_step_run");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(6));
    for workers in [64u64, 256] {
        let b = open(&rt);
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        group.bench_function(BenchmarkId::new("workers", workers), |bench| {
            bench.iter_custom(|iters| {
                let store = b.store.clone();
                let rev = b.rev.clone();
                let counter = counter.clone();
                spread(&rt, workers, iters, move |_| {
                    let store = store.clone();
                    let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let run = new_run(&rev, n);
                    async move { one_run(&store, run).await }
                })
            });
        });
    }
    group.finish();
}

async fn one_run(store: &Store, run: NewRun) {
    store.create_run(run).await.expect("create_run");
    let claimed = store
        .claim_runs("bench", 1, Duration::from_secs(60))
        .await
        .expect("claim");
    for run in claimed {
        let start = AttemptStart {
            step_id: "notify".into(),
            step_index: 0,
            attempt: 1,
            item: None,
            input: json!({"to": "client@example.com"}),
            idempotency_key: format!("{}:notify", run.id),
            started_at: Timestamp::now(),
        };
        let seq = store.start_attempt(run.id, start).await.expect("start");
        let end = AttemptEnd {
            outcome: AttemptOutcome::Succeeded {
                output: json!({"sent": true}),
            },
            logs: Vec::new(),
            ended_at: Timestamp::now(),
        };
        store
            .end_attempt(run.id, seq, end, NextState::Succeeded)
            .await
            .expect("end");
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Latency of one acknowledged create: alone, and among 63 other writers.
fn latency(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("create_run_latency");
    group.sample_size(50);
    group.measurement_time(Duration::from_secs(5));
    let b = open(&rt);
    let counter = std::sync::atomic::AtomicU64::new(0);
    group.bench_function("single", |bench| {
        bench.iter(|| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            rt.block_on(b.store.create_run(new_run(&b.rev, n)))
                .expect("create_run")
        });
    });
    group.finish();

    for writers in [1u64, 64] {
        let samples = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let store = b.store.clone();
        let rev = b.rev.clone();
        let recorded = samples.clone();
        let base = 10_000_000_000u64 * (writers + 1);
        spread(&rt, writers, 4_000.max(writers * 100), move |i| {
            let store = store.clone();
            let run = new_run(&rev, base + i);
            let recorded = recorded.clone();
            async move {
                let started = Instant::now();
                store.create_run(run).await.expect("create_run");
                let took = started.elapsed();
                recorded.lock().expect("samples").push(took);
            }
        });
        let mut all = samples.lock().expect("samples").clone();
        all.sort();
        eprintln!(
            "create_run latency with {writers} writer(s), {} samples: p50 {:?}, p99 {:?}, max {:?}",
            all.len(),
            percentile(&all, 0.50),
            percentile(&all, 0.99),
            all.last().copied().unwrap_or_default()
        );
    }
}

criterion_group!(benches, throughput, one_step_runs, latency);
criterion_main!(benches);
