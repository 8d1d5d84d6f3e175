//! Text rendering of runs for the terminal, from the API's typed answers:
//! readable at a glance, with the whole record one `--json` away.

use std::fmt::Write as _;

use relais_server::api::{RunDetailView, RunView};
use relais_store::{Attempt, AttemptOutcome, StepError};
use serde::Serialize;
use serde_json::Value;

/// Longest JSON value shown inline before it is cut.
const INLINE: usize = 240;

/// Milliseconds since the epoch as `2026-11-22 09:00:01Z`.
pub fn time(millis: u64) -> String {
    chrono::DateTime::from_timestamp_millis(i64::try_from(millis).unwrap_or(i64::MAX))
        .map(|d| d.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| millis.to_string())
}

/// A duration in milliseconds as `85ms`, `3.2s`, `4m05s`, `2h10m`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{:.1}s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{}m{:02}s", ms / 60_000, ms % 60_000 / 1000),
        _ => format!("{}h{:02}m", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

/// Compact JSON, cut to [`INLINE`] characters.
pub fn inline(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= INLINE {
        return s;
    }
    let cut: String = s.chars().take(INLINE).collect();
    format!("{cut}… ({} bytes; --json shows all)", s.len())
}

/// The name a value of a unit enum has on the wire (`webhook`, `fatal`,
/// `warn`).
fn name(value: impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A step error as `kind: message`.
pub fn error(e: &StepError) -> String {
    format!("{}: {}", name(e.kind), e.message)
}

/// The runs of a `GET /api/v1/runs` page as a table.
pub fn run_table(runs: &[RunView]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<26}  {:<16}  {:<9}  {:<7}  {:<20}  {:>7}  ERROR",
        "RUN", "WORKFLOW", "STATUS", "TRIGGER", "CREATED", "TOOK"
    );
    for r in runs {
        let took = r.took_ms().map_or_else(|| "-".into(), duration);
        let err = r
            .error
            .as_ref()
            .map(|e| cut(&error(e), 60))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<26}  {:<16}  {:<9}  {:<7}  {:<20}  {:>7}  {err}",
            r.id.to_string(),
            cut(&r.workflow_id, 16),
            r.status.as_str(),
            name(r.trigger),
            time(r.created_at),
            took,
        );
    }
    out
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut c: String = s.chars().take(n.saturating_sub(1)).collect();
        c.push('…');
        c
    }
}

/// What an attempt came to: `ok`, its error kind, or `running`.
fn attempt_status(a: &Attempt) -> String {
    match &a.outcome {
        Some(AttemptOutcome::Succeeded { .. }) => "ok".into(),
        Some(AttemptOutcome::Failed { error }) => name(error.kind),
        None => "running".into(),
    }
}

fn attempt_label(a: &Attempt) -> String {
    match a.item {
        Some(i) => format!("{}[{i}]", a.step_id),
        None => a.step_id.clone(),
    }
}

fn attempt_took(a: &Attempt) -> String {
    match a.ended_at {
        Some(end) => duration(end.as_millis().saturating_sub(a.started_at.as_millis())),
        None => "-".into(),
    }
}

fn attempt_error(a: &Attempt) -> Option<&StepError> {
    match &a.outcome {
        Some(AttemptOutcome::Failed { error }) => Some(error),
        _ => None,
    }
}

/// One attempt as a line: `step  #n  status  took  error`.
pub fn attempt_line(a: &Attempt) -> String {
    let detail = attempt_error(a)
        .map(|e| cut(&error(e), 90))
        .unwrap_or_default();
    format!(
        "{:<24}  #{:<3}  {:<13}  {:>7}  {detail}",
        cut(&attempt_label(a), 24),
        a.attempt,
        attempt_status(a),
        attempt_took(a),
    )
}

/// A `GET /api/v1/runs/{id}` answer: the header, a table of attempts, then
/// each attempt's input, output or error, and logs.
pub fn run_detail(d: &RunDetailView) -> String {
    let r = &d.run;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run {} · workflow {} · {}",
        r.id, r.workflow_id, r.status
    );
    let mut when = format!(
        "  {} trigger · created {}",
        name(r.trigger),
        time(r.created_at)
    );
    if let Some(took) = r.took_ms() {
        let _ = write!(when, " · took {}", duration(took));
    }
    let _ = writeln!(out, "{when} · revision {}", cut(&r.revision, 12));
    if let Some(e) = &r.error {
        let _ = writeln!(out, "  error: {}", error(e));
    }
    if !d.input.is_null() && d.input != Value::Object(Default::default()) {
        let _ = writeln!(out, "  input: {}", inline(&d.input));
    }
    if !d.payload.is_null() {
        let _ = writeln!(out, "  payload: {}", inline(&d.payload));
    }
    if d.attempts.is_empty() {
        let _ = writeln!(out, "\n  no step has started yet");
        return out;
    }
    let _ = writeln!(
        out,
        "\n  {:<24}  {:<4}  {:<13}  {:>7}  ERROR",
        "STEP", "TRY", "STATUS", "TOOK"
    );
    for a in &d.attempts {
        let _ = writeln!(out, "  {}", attempt_line(a));
    }
    for a in &d.attempts {
        let _ = writeln!(
            out,
            "\n{} #{} · {} · key {}",
            attempt_label(a),
            a.attempt,
            attempt_status(a),
            a.idempotency_key
        );
        let _ = writeln!(out, "  input   {}", inline(&a.input));
        if let Some(AttemptOutcome::Succeeded { output }) = &a.outcome {
            let _ = writeln!(out, "  output  {}", inline(output));
        }
        if let Some(e) = attempt_error(a) {
            let _ = writeln!(out, "  error   {}", error(e));
        }
        for l in &a.logs {
            let _ = writeln!(
                out,
                "  log     {} {:<5} {}",
                time(l.at.as_millis()),
                name(l.level),
                l.message
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(85), "85ms");
        assert_eq!(duration(3_250), "3.2s");
        assert_eq!(duration(245_000), "4m05s");
        assert_eq!(duration(7_800_000), "2h10m");
    }

    #[test]
    fn a_failed_run_shows_its_error_and_each_attempt() {
        // The wire format of `GET /api/v1/runs/{id}`, as the CLI reads it.
        let d = json!({
            "run": {"id": "01KBX3J1Z9V0000000000000R1", "workflow_id": "dunning", "status": "failed",
                    "trigger": "webhook", "revision": "abc", "next_step": 0, "attempts": 2,
                    "created_at": 0, "started_at": 0, "finished_at": 1500,
                    "error": {"kind": "fatal", "message": "card declined"}},
            "payload": {"id": "evt_1"}, "input": null, "output": null,
            "attempts": [
                {"seq": 0, "step_id": "charge", "step_index": 0, "attempt": 1, "input": {"amount": 5},
                 "idempotency_key": "r1/charge", "started_at": 0, "ended_at": 300,
                 "logs": [{"at": 10, "level": "warn", "message": "slow"}],
                 "outcome": {"failed": {"error": {"kind": "retryable", "message": "503"}}}},
                {"seq": 1, "step_id": "charge", "step_index": 0, "attempt": 2, "input": {"amount": 5},
                 "idempotency_key": "r1/charge", "started_at": 1000, "ended_at": 1500, "logs": [],
                 "outcome": {"failed": {"error": {"kind": "fatal", "message": "card declined"}}}}
            ]
        });
        let d: RunDetailView = serde_json::from_value(d).unwrap();
        let text = run_detail(&d);
        assert!(
            text.contains("run 01KBX3J1Z9V0000000000000R1 · workflow dunning · failed"),
            "{text}"
        );
        assert!(text.contains("error: fatal: card declined"), "{text}");
        assert!(text.contains("retryable: 503"), "{text}");
        assert!(text.contains("warn  slow"), "{text}");
        assert!(text.contains("took 1.5s"), "{text}");
        assert_eq!(text.matches("key r1/charge").count(), 2, "{text}");
    }

    #[test]
    fn long_values_are_cut_with_a_pointer_to_json() {
        let v = json!({"blob": "x".repeat(1000)});
        let s = inline(&v);
        assert!(s.contains("--json shows all"));
        assert!(s.chars().count() < 300);
    }
}
