//! `probe`: a test guest for the host's sandbox tests, built with the SDK.
//!
//! Each step exercises one thing the host must allow or stop: CPU (`spin`),
//! memory (`alloc`), traps (`panic`), output size (`big-output`), outbound
//! HTTP (`fetch`), secrets, log volume, the key-value store, each kind of
//! step error, the context and a step that fails before it succeeds
//! (`flaky`). Built to `target/test-guests/probe.wasm` by
//! `scripts/build-plugins.sh`.

use std::hint::black_box;

use relais_plugin_sdk::http::{self, Method};
use relais_plugin_sdk::prelude::*;
use serde_json::{Map, Value};

relais_plugin_sdk::plugin! {
    name: "probe",
    version: env!("CARGO_PKG_VERSION"),
    description: "Test guest for the host's sandbox tests",
    steps: {
        "noop" => noop: "Does nothing: {} in, {} out",
        "echo" => echo: "Returns its input unchanged",
        "spin" => spin: "Loops forever (CPU/time cap)",
        "alloc" => alloc: "Allocates and touches N MiB, or 1 MiB blocks forever with unbounded (memory cap)",
        "panic" => panic: "Panics with \"probe panicked on purpose\"",
        "big-output" => big_output: "Outputs {\"data\": N times 'x'} (output cap)",
        "fetch" => fetch: "Performs one HTTP request and reports status, body and location",
        "secret" => secret: "Reads a secret",
        "log" => log_lines: "Writes N info lines of S bytes each (log cap)",
        "kv" => kv_step: "Sets then reads a key, or only reads it",
        "fail" => fail: "Returns the step error it is asked for",
        "context" => context: "Outputs the invocation's context",
        "count" => count: "Counts its calls per idempotency key in the KV store: {count, key} out",
        "sleep" => sleep: "Busy-waits for ms milliseconds, then outputs {slept_ms}",
        "flaky" => flaky: "Fails retryably the first `failures` calls per idempotency key, then outputs {count, key}",
    },
}

/// Bytes in a mebibyte.
const MIB: usize = 1024 * 1024;
/// Touching one byte every this many bytes commits every page.
const PAGE: usize = 4096;

/// No field: `{}`.
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct Empty {}

fn noop(_input: Empty, _cx: &Context) -> Result<Empty, StepError> {
    Ok(Empty {})
}

fn echo(input: Map<String, Value>, _cx: &Context) -> Result<Map<String, Value>, StepError> {
    Ok(input)
}

fn spin(_input: Empty, _cx: &Context) -> Result<Empty, StepError> {
    let mut counter: u64 = 0;
    loop {
        counter = black_box(counter.wrapping_add(1));
    }
}

/// Input of `alloc`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AllocIn {
    /// How many MiB to allocate and touch.
    #[serde(default)]
    pub mib: Option<u64>,
    /// Allocate 1 MiB blocks forever.
    #[serde(default)]
    pub unbounded: bool,
}

/// Output of `alloc`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AllocOut {
    /// The MiB allocated and touched.
    pub mib: u64,
}

/// A block of `len` bytes with every page written.
fn touched_block(len: usize) -> Vec<u8> {
    let mut block = vec![0u8; len];
    for offset in (0..len).step_by(PAGE) {
        block[offset] = 1;
    }
    black_box(block)
}

fn alloc(input: AllocIn, _cx: &Context) -> Result<AllocOut, StepError> {
    if input.unbounded {
        let mut blocks = Vec::new();
        loop {
            blocks.push(touched_block(MIB));
            black_box(&blocks);
        }
    }
    let mib = input
        .mib
        .ok_or_else(|| StepError::invalid_input("give mib (a number) or unbounded: true"))?;
    let bytes = usize::try_from(mib)
        .ok()
        .and_then(|mib| mib.checked_mul(MIB))
        .ok_or_else(|| StepError::invalid_input(format!("{mib} MiB does not fit in memory")))?;
    let block = touched_block(bytes);
    black_box(&block);
    Ok(AllocOut { mib })
}

fn panic(_input: Empty, _cx: &Context) -> Result<Empty, StepError> {
    panic!("probe panicked on purpose");
}

/// Input of `big-output`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct BigOutputIn {
    /// Length of the output's `data` string.
    pub bytes: usize,
}

/// Output of `big-output`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BigOutputOut {
    /// `bytes` times `x`.
    pub data: String,
}

fn big_output(input: BigOutputIn, _cx: &Context) -> Result<BigOutputOut, StepError> {
    Ok(BigOutputOut {
        data: "x".repeat(input.bytes),
    })
}

fn default_method() -> String {
    "GET".to_owned()
}

/// Input of `fetch`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FetchIn {
    /// Where to send the request.
    pub url: String,
    /// The method (default `GET`).
    #[serde(default = "default_method")]
    pub method: String,
}

/// Output of `fetch`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FetchOut {
    /// The answer's status.
    pub status: u16,
    /// The answer's body, as text.
    pub body: String,
    /// The answer's `location` header.
    pub location: Option<String>,
}

fn fetch(input: FetchIn, _cx: &Context) -> Result<FetchOut, StepError> {
    let method: Method = input
        .method
        .parse()
        .map_err(|err| StepError::invalid_input(format!("{err}")))?;
    let response = http::request(method, input.url).send()?;
    Ok(FetchOut {
        status: response.status(),
        body: response.text(),
        location: response.header("location").map(str::to_owned),
    })
}

/// Input of `secret`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SecretIn {
    /// The secret's name.
    pub name: String,
}

/// Output of `secret`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SecretOut {
    /// The secret's value, `null` when not granted.
    pub value: Option<String>,
}

fn secret(input: SecretIn, _cx: &Context) -> Result<SecretOut, StepError> {
    Ok(SecretOut {
        value: secrets::get(&input.name),
    })
}

/// Input of `log`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct LogIn {
    /// How many lines.
    pub lines: u64,
    /// Bytes per line.
    pub size: usize,
}

fn log_lines(input: LogIn, _cx: &Context) -> Result<Empty, StepError> {
    let line = "l".repeat(input.size);
    for _ in 0..input.lines {
        log::write(log::Level::Info, &line);
    }
    Ok(Empty {})
}

/// Input of `kv`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KvIn {
    /// The key.
    pub key: String,
    /// When given, stored under `key` before reading it back.
    #[serde(default)]
    pub value: Option<String>,
}

/// Output of `kv`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KvOut {
    /// What `key` holds after the step, `null` when nothing.
    pub read: Option<String>,
}

fn kv_step(input: KvIn, _cx: &Context) -> Result<KvOut, StepError> {
    if let Some(value) = &input.value {
        kv::set(&input.key, value)?;
    }
    let read = kv::get(&input.key)?
        .map(|bytes| {
            String::from_utf8(bytes)
                .map_err(|_| StepError::fatal(format!("kv value of {:?} is not UTF-8", input.key)))
        })
        .transpose()?;
    Ok(KvOut { read })
}

/// The error kinds `fail` can return.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FailKind {
    /// `retryable`
    Retryable,
    /// `fatal`
    Fatal,
    /// `invalid-input`
    InvalidInput,
}

/// Input of `fail`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FailIn {
    /// Which error.
    pub kind: FailKind,
    /// Its message.
    pub message: String,
    /// For `retryable`: the retry hint in milliseconds.
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
}

fn fail(input: FailIn, _cx: &Context) -> Result<Empty, StepError> {
    Err(match input.kind {
        FailKind::Retryable => StepError::Retryable {
            message: input.message,
            retry_after: input.retry_after_ms.map(std::time::Duration::from_millis),
        },
        FailKind::Fatal => StepError::fatal(input.message),
        FailKind::InvalidInput => StepError::invalid_input(input.message),
    })
}

/// Output of `context`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ContextOut {
    /// The run.
    pub run_id: String,
    /// The workflow's step id.
    pub step_id: String,
    /// The attempt, from 1.
    pub attempt: u32,
    /// The idempotency key.
    pub idempotency_key: String,
}

fn context(_input: Empty, cx: &Context) -> Result<ContextOut, StepError> {
    Ok(ContextOut {
        run_id: cx.run_id.clone(),
        step_id: cx.step_id.clone(),
        attempt: cx.attempt,
        idempotency_key: cx.idempotency_key.clone(),
    })
}

/// Output of `count`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CountOut {
    /// How many times this idempotency key was counted, this call included.
    pub count: u64,
    /// The idempotency key.
    pub key: String,
}

fn count(_input: Map<String, Value>, cx: &Context) -> Result<CountOut, StepError> {
    let key = format!("count:{}", cx.idempotency_key);
    let before = kv::get(&key)?
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse::<u64>().ok())
        .unwrap_or(0);
    let count = before + 1;
    kv::set(&key, count.to_string())?;
    Ok(CountOut {
        count,
        key: cx.idempotency_key.clone(),
    })
}

/// Input of `flaky`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FlakyIn {
    /// How many calls with one idempotency key fail before one succeeds.
    pub failures: u64,
    /// The retry hint of each failure, in milliseconds.
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
}

fn flaky(input: FlakyIn, cx: &Context) -> Result<CountOut, StepError> {
    let counted = count(Map::new(), cx)?;
    if counted.count > input.failures {
        return Ok(counted);
    }
    Err(StepError::Retryable {
        message: format!("failure {} of {}", counted.count, input.failures),
        retry_after: input.retry_after_ms.map(std::time::Duration::from_millis),
    })
}

/// Input of `sleep`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SleepIn {
    /// How long to busy-wait.
    pub ms: u64,
}

/// Output of `sleep`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SleepOut {
    /// How long it waited.
    pub slept_ms: u64,
}

fn sleep(input: SleepIn, _cx: &Context) -> Result<SleepOut, StepError> {
    let started = std::time::Instant::now();
    let wanted = std::time::Duration::from_millis(input.ms);
    while started.elapsed() < wanted {
        black_box(0u64);
    }
    Ok(SleepOut { slept_ms: input.ms })
}

#[cfg(test)]
mod tests;
