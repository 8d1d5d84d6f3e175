//! Text rendering of runs for the terminal: readable at a glance, with the
//! whole record one `--json` away.

use std::fmt::Write as _;

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

fn millis(v: &Value) -> Option<u64> {
    v.as_u64()
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
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

/// A stored step error (`{kind, message}`) as `kind: message`.
pub fn error(e: &Value) -> String {
    match (e["kind"].as_str(), e["message"].as_str()) {
        (Some(k), Some(m)) => format!("{k}: {m}"),
        _ => e.to_string(),
    }
}

/// The runs of a `GET /api/v1/runs` page as a table.
pub fn run_table(runs: &[Value]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<26}  {:<16}  {:<9}  {:<7}  {:<20}  {:>7}  ERROR",
        "RUN", "WORKFLOW", "STATUS", "TRIGGER", "CREATED", "TOOK"
    );
    for r in runs {
        let took = match (millis(&r["started_at"]), millis(&r["finished_at"])) {
            (Some(s), Some(f)) => duration(f.saturating_sub(s)),
            _ => "-".into(),
        };
        let err = if r["error"].is_null() {
            String::new()
        } else {
            cut(&error(&r["error"]), 60)
        };
        let _ = writeln!(
            out,
            "{:<26}  {:<16}  {:<9}  {:<7}  {:<20}  {:>7}  {err}",
            text(&r["id"]),
            cut(text(&r["workflow_id"]), 16),
            text(&r["status"]),
            text(&r["trigger"]),
            millis(&r["created_at"]).map(time).unwrap_or_default(),
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
fn attempt_status(a: &Value) -> String {
    let outcome = &a["outcome"];
    if outcome.get("succeeded").is_some() {
        "ok".into()
    } else if let Some(f) = outcome.get("failed") {
        text(&f["error"]["kind"]).to_owned()
    } else {
        "running".into()
    }
}

fn attempt_label(a: &Value) -> String {
    match a["item"].as_u64() {
        Some(i) => format!("{}[{i}]", text(&a["step_id"])),
        None => text(&a["step_id"]).to_owned(),
    }
}

fn attempt_took(a: &Value) -> String {
    match (millis(&a["started_at"]), millis(&a["ended_at"])) {
        (Some(s), Some(e)) => duration(e.saturating_sub(s)),
        _ => "-".into(),
    }
}

/// One attempt as a line: `step  #n  status  took  error`.
pub fn attempt_line(a: &Value) -> String {
    let detail = a["outcome"]
        .get("failed")
        .map(|f| cut(&error(&f["error"]), 90))
        .unwrap_or_default();
    format!(
        "{:<24}  #{:<3}  {:<13}  {:>7}  {detail}",
        cut(&attempt_label(a), 24),
        a["attempt"].as_u64().unwrap_or(0),
        attempt_status(a),
        attempt_took(a),
    )
}

/// A `GET /api/v1/runs/{id}` answer: the header, a table of attempts, then
/// each attempt's input, output or error, and logs.
pub fn run_detail(d: &Value) -> String {
    let r = &d["run"];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run {} · workflow {} · {}",
        text(&r["id"]),
        text(&r["workflow_id"]),
        text(&r["status"])
    );
    let mut when = format!(
        "  {} trigger · created {}",
        text(&r["trigger"]),
        millis(&r["created_at"]).map(time).unwrap_or_default()
    );
    if let (Some(s), Some(f)) = (millis(&r["started_at"]), millis(&r["finished_at"])) {
        let _ = write!(when, " · took {}", duration(f.saturating_sub(s)));
    }
    let _ = writeln!(out, "{when} · revision {}", cut(text(&r["revision"]), 12));
    if !r["error"].is_null() {
        let _ = writeln!(out, "  error: {}", error(&r["error"]));
    }
    if !d["input"].is_null() && d["input"] != Value::Object(Default::default()) {
        let _ = writeln!(out, "  input: {}", inline(&d["input"]));
    }
    if !d["payload"].is_null() {
        let _ = writeln!(out, "  payload: {}", inline(&d["payload"]));
    }
    let attempts = d["attempts"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if attempts.is_empty() {
        let _ = writeln!(out, "\n  no step has started yet");
        return out;
    }
    let _ = writeln!(
        out,
        "\n  {:<24}  {:<4}  {:<13}  {:>7}  ERROR",
        "STEP", "TRY", "STATUS", "TOOK"
    );
    for a in attempts {
        let _ = writeln!(out, "  {}", attempt_line(a));
    }
    for a in attempts {
        let _ = writeln!(
            out,
            "\n{} #{} · {} · key {}",
            attempt_label(a),
            a["attempt"].as_u64().unwrap_or(0),
            attempt_status(a),
            text(&a["idempotency_key"])
        );
        let _ = writeln!(out, "  input   {}", inline(&a["input"]));
        if let Some(s) = a["outcome"].get("succeeded") {
            let _ = writeln!(out, "  output  {}", inline(&s["output"]));
        }
        if let Some(f) = a["outcome"].get("failed") {
            let _ = writeln!(out, "  error   {}", error(&f["error"]));
        }
        for l in a["logs"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let at = millis(&l["at"]).map(time).unwrap_or_default();
            let _ = writeln!(
                out,
                "  log     {at} {:<5} {}",
                text(&l["level"]),
                text(&l["message"])
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
        let d = json!({
            "run": {"id": "r1", "workflow_id": "dunning", "status": "failed", "trigger": "webhook",
                    "revision": "abc", "created_at": 0, "started_at": 0, "finished_at": 1500,
                    "error": {"kind": "fatal", "message": "card declined"}},
            "payload": {"id": "evt_1"}, "input": null, "output": null,
            "attempts": [
                {"step_id": "charge", "attempt": 1, "input": {"amount": 5}, "idempotency_key": "r1/charge",
                 "started_at": 0, "ended_at": 300, "logs": [{"at": 10, "level": "warn", "message": "slow"}],
                 "outcome": {"failed": {"error": {"kind": "retryable", "message": "503"}}}},
                {"step_id": "charge", "attempt": 2, "input": {"amount": 5}, "idempotency_key": "r1/charge",
                 "started_at": 1000, "ended_at": 1500, "logs": [],
                 "outcome": {"failed": {"error": {"kind": "fatal", "message": "card declined"}}}}
            ]
        });
        let text = run_detail(&d);
        assert!(
            text.contains("run r1 · workflow dunning · failed"),
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
