//! How a failed invocation is reported: a trap, a limit the host enforced,
//! or a panic read back from the guest's stderr.

use wasmtime::Trap;

use crate::invoke::InvokeError;
use crate::limits::{Limit, Limiter, Limits};
use crate::outbound::Incidents;
use crate::resources;

pub(crate) enum Failure {
    Instantiate(String),
    Wasm(wasmtime::Error),
    HostTimeout,
}

pub(crate) fn classify(
    f: Failure,
    limiter: &Limiter,
    incidents: &Incidents,
    limits: &Limits,
    stderr: &str,
) -> InvokeError {
    let timeout = || InvokeError::Limit {
        limit: Limit::Timeout,
        message: format!("the invocation ran longer than {:?}", limits.timeout),
    };
    let err = match f {
        Failure::Instantiate(message) => {
            if limiter.hit == Some(Limit::Memory) {
                return InvokeError::Limit {
                    limit: Limit::Memory,
                    message: format!("initial memory exceeds {} bytes", limits.memory_bytes),
                };
            }
            return InvokeError::Instantiate { message };
        }
        Failure::HostTimeout => return timeout(),
        Failure::Wasm(e) => e,
    };
    if let Some(limit) = limiter.hit {
        let message = match limit {
            Limit::Memory => format!(
                "the instance tried to grow its memory past {} bytes",
                limits.memory_bytes
            ),
            Limit::HostMemory => format!(
                "the plugin held more than {} bytes of HTTP headers in host memory",
                limits.host_bytes
            ),
            _ => format!("{err:#}"),
        };
        return InvokeError::Limit { limit, message };
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => return timeout(),
        Some(Trap::UnreachableCodeReached) if stderr.contains("panicked") => {
            return InvokeError::Panic {
                message: panic_message(stderr),
            };
        }
        _ => {}
    }
    if resources::table_full(&err) {
        return InvokeError::Limit {
            limit: Limit::Handles,
            message: format!(
                "the plugin held more than {} resource handles at once",
                limits.handles
            ),
        };
    }
    if resources::header_map_full(&err) {
        return InvokeError::Limit {
            limit: Limit::HostMemory,
            message: format!(
                "the plugin grew a header map past {} bytes",
                limits.header_bytes
            ),
        };
    }
    if let Some(limit) = incidents.limit {
        return InvokeError::Limit {
            limit,
            message: incidents.limit_note.clone(),
        };
    }
    InvokeError::Trap {
        message: format!("{err:#}"),
    }
}

/// `thread 'main' panicked at src/lib.rs:3:5:\nmessage` → `message (at src/lib.rs:3:5)`.
fn panic_message(stderr: &str) -> String {
    let mut lines = stderr.lines().skip_while(|l| !l.contains("panicked"));
    let Some(head) = lines.next() else {
        return stderr.to_string();
    };
    let at = head
        .split_once("panicked at ")
        .map(|(_, r)| r.trim_end_matches(':').to_string());
    let msg: Vec<&str> = lines.take_while(|l| !l.starts_with("note:")).collect();
    match (msg.is_empty(), at) {
        (false, Some(at)) => format!("{} (at {at})", msg.join("\n")),
        (false, None) => msg.join("\n"),
        (true, _) => head.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_are_readable() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nprobe panicked on purpose\nnote: run with `RUST_BACKTRACE=1`";
        assert_eq!(
            panic_message(stderr),
            "probe panicked on purpose (at src/lib.rs:10:5)"
        );
    }
}
