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
    /// Total bytes of log lines one invocation may write.
    pub log_bytes: usize,
    /// Size of one outbound HTTP response body in bytes.
    pub http_response_bytes: u64,
    /// Outbound HTTP requests one invocation may make.
    pub http_requests: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            timeout: Duration::from_secs(30),
            output_bytes: 1 << 20,
            log_bytes: 64 << 10,
            http_response_bytes: 8 << 20,
            http_requests: 64,
        }
    }
}

/// The largest memory cap the engine is built for; a plugin's own cap may be
/// lower, never higher.
pub const MAX_MEMORY_BYTES: u64 = 1 << 30;

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
