//! Per-plugin resource limits and the store limiter that enforces memory.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The limits one invocation of a plugin runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Linear memory of one instance, in bytes.
    pub memory_bytes: u64,
    /// Wall-clock time of one invocation, host calls included.
    #[serde(with = "duration_ms")]
    pub timeout: Duration,
    /// Size of the JSON output (and of an error message) in bytes.
    pub output_bytes: usize,
    /// Total bytes of log lines one invocation may keep; each line costs
    /// its text plus [`LOG_LINE_OVERHEAD`], so empty lines are not free.
    pub log_bytes: usize,
    /// Log lines one invocation may keep; later lines are dropped and noted.
    pub log_lines: u32,
    /// Size of one outbound HTTP response body in bytes.
    pub http_response_bytes: u64,
    /// Outbound HTTP requests one invocation may make.
    pub http_requests: u32,
    /// Resource handles (`wasi:http` fields, requests, bodies, streams,
    /// pollables…) one invocation may hold at once.
    pub handles: u32,
    /// Size of one `wasi:http` fields resource (a header map), in bytes as
    /// `wasi:http` accounts them: each name and value costs its length plus
    /// a fixed overhead (about 70 bytes), which also caps the field count.
    pub header_bytes: usize,
    /// Host memory one invocation may hold through its `wasi:http`
    /// resources (the header maps it created and not yet dropped), in bytes.
    pub host_bytes: u64,
    /// Total bytes (keys and values) the plugin may keep in its KV store.
    pub kv_bytes: u64,
    /// Keys the plugin may keep in its KV store.
    pub kv_keys: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            timeout: Duration::from_secs(30),
            output_bytes: 1 << 20,
            log_bytes: 64 << 10,
            log_lines: 1000,
            http_response_bytes: 8 << 20,
            http_requests: 64,
            handles: 1000,
            header_bytes: 32 << 10,
            host_bytes: 4 << 20,
            kv_bytes: 64 << 20,
            kv_keys: 100_000,
        }
    }
}

/// The largest memory cap the engine is built for; a plugin's own cap may be
/// lower, never higher.
pub const MAX_MEMORY_BYTES: u64 = 1 << 30;

/// Wall-clock time of `describe`, whatever the plugin's own timeout (which
/// is its steps'): a step limit of 1 ms must not stop the plugin loading.
pub const DESCRIBE_TIMEOUT: Duration = Duration::from_secs(10);

/// What one log line costs against `log_bytes` beyond its text: the host's
/// own record of it (level, time, allocation).
pub const LOG_LINE_OVERHEAD: usize = 64;

/// Which limit an invocation ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Limit {
    /// The instance asked for more linear memory than its cap.
    Memory,
    /// The invocation ran past its wall-clock timeout.
    Timeout,
    /// The output (or the error message) was larger than allowed.
    OutputSize,
    /// An HTTP response body was larger than allowed.
    HttpResponseSize,
    /// Too many outbound HTTP requests in one invocation.
    HttpRequests,
    /// Too many tables or instances (a malformed or hostile component).
    Resources,
    /// Too many resource handles held at once.
    Handles,
    /// Too much host memory held through `wasi:http` resources.
    HostMemory,
    /// The plugin's KV store is full (bytes or keys).
    KvQuota,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Limit::Memory => "memory",
            Limit::Timeout => "timeout",
            Limit::OutputSize => "output size",
            Limit::HttpResponseSize => "http response size",
            Limit::HttpRequests => "http request count",
            Limit::Resources => "instance resources",
            Limit::Handles => "resource handles",
            Limit::HostMemory => "host memory",
            Limit::KvQuota => "kv quota",
        })
    }
}

/// Store limiter: refuses memory growth past the cap and remembers that it did,
/// so the trap that follows can be reported as a memory limit.
#[derive(Debug)]
pub(crate) struct Limiter {
    memory_bytes: usize,
    pub(crate) hit: Option<Limit>,
}

impl Limiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            memory_bytes: usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX),
            hit: None,
        }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.hit = Some(Limit::Memory);
            wasmtime::bail!(
                "memory limit of {} bytes exceeded (asked for {desired})",
                self.memory_bytes
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > 100_000 {
            self.hit = Some(Limit::Resources);
            wasmtime::bail!("table limit exceeded (asked for {desired} elements)");
        }
        Ok(true)
    }
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}ms", d.as_millis()))
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Millis(u64),
        Text(String),
    }

    /// Accepts a number of milliseconds or `500ms`, `30s`, `5m`, `1h`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match Raw::deserialize(d)? {
            Raw::Millis(ms) => Ok(Duration::from_millis(ms)),
            Raw::Text(t) => parse(&t).ok_or_else(|| {
                D::Error::custom(format!(
                    "invalid duration {t:?}: expected a number with ms, s, m or h (e.g. 30s)"
                ))
            }),
        }
    }

    pub fn parse(t: &str) -> Option<Duration> {
        let t = t.trim();
        let split = t.find(|c: char| !c.is_ascii_digit())?;
        let (n, unit) = t.split_at(split);
        let n: u64 = n.parse().ok()?;
        let ms = match unit {
            "ms" => n,
            "s" => n.checked_mul(1000)?,
            "m" => n.checked_mul(60_000)?,
            "h" => n.checked_mul(3_600_000)?,
            _ => return None,
        };
        Some(Duration::from_millis(ms))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn parses() {
            use std::time::Duration;
            assert_eq!(super::parse("30s"), Some(Duration::from_secs(30)));
            assert_eq!(super::parse("250ms"), Some(Duration::from_millis(250)));
            assert_eq!(super::parse("2m"), Some(Duration::from_secs(120)));
            assert_eq!(super::parse("1h"), Some(Duration::from_secs(3600)));
            assert_eq!(super::parse("30"), None);
            assert_eq!(super::parse("s"), None);
            assert_eq!(super::parse("3d"), None);
        }
    }
}
