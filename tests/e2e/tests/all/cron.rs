//! One parser for cron text, through the binary: `relais validate`,
//! `relais cron next` (by workflow and by `--expr`) and the API's next
//! fires agree with `relais_triggers::cron` (what the scheduler fires) on
//! every expression of `host/triggers/tests/expressions.txt`.

use chrono::{DateTime, Utc};
use relais_triggers::cron::{Schedule, agreement_expressions};
use serde_json::Value;

use crate::support::{http, relais, serve, server_config, wait_listening};

const ZONE: &str = "Europe/Paris";
/// Just before Paris springs forward.
const AFTER: &str = "2026-03-28T23:40:00Z";

fn lines(schedule: &Schedule, after: DateTime<Utc>, n: usize) -> String {
    schedule
        .next_n(after, n)
        .iter()
        .map(|f| format!("{}\t{}\n", f.local_rfc3339(), f.utc_rfc3339()))
        .collect()
}

#[test]
fn validate_cron_next_and_the_api_agree_with_the_scheduler() {
    let dir = tempfile::tempdir().unwrap();
    let (config, port) = server_config(dir.path());
    let wf = dir.path().join("workflows");
    let after: DateTime<Utc> = DateTime::parse_from_rfc3339(AFTER).unwrap().to_utc();

    let mut accepted = Vec::new();
    for (i, expr) in agreement_expressions().enumerate() {
        let id = format!("w{i}");
        let file = wf.join(format!("{id}.yaml"));
        std::fs::write(
            &file,
            format!(
                "id: {id}\ntrigger:\n  cron: {expr:?}\n  timezone: {ZONE}\nsteps:\n  - id: tick\n    set: {{ at: \"{{{{ trigger.scheduled_at }}}}\" }}\n"
            ),
        )
        .unwrap();
        let oracle = Schedule::parse(expr, ZONE);
        let (valid, _, err) = relais(&config, &["validate", file.to_str().unwrap()], None);
        assert_eq!(valid, oracle.is_ok(), "validate {expr:?}: {err}");
        let by_expr = relais(
            &config,
            &[
                "cron", "next", "--expr", expr, "--tz", ZONE, "--after", AFTER, "-n", "6",
            ],
            None,
        );
        let Ok(schedule) = oracle else {
            assert!(!by_expr.0, "cron next --expr {expr:?} accepted it");
            std::fs::remove_file(&file).unwrap();
            continue;
        };
        let want = lines(&schedule, after, 6);
        assert_eq!(by_expr.1, want, "cron next --expr {expr:?}: {}", by_expr.2);
        let (ok, out, err) = relais(
            &config,
            &["cron", "next", &id, "--after", AFTER, "-n", "6"],
            None,
        );
        assert!(ok, "cron next {id} ({expr:?}): {err}");
        assert_eq!(out, want, "cron next {id} ({expr:?})");
        accepted.push((id, schedule));
    }

    // The API of a running server shows the same next fires.
    let (ok, token, err) = relais(&config, &["token", "create", "ci"], None);
    assert!(ok, "{err}");
    let auth = [("Authorization", format!("Bearer {}", token.trim()))];
    let mut server = serve(&config);
    wait_listening(port);
    for (id, schedule) in &accepted {
        let local = |at: DateTime<Utc>| -> Vec<String> {
            schedule
                .next_n(at, 5)
                .iter()
                .map(|f| f.local_rfc3339())
                .collect()
        };
        let before = local(Utc::now());
        let (status, answer) = http(port, "GET", &format!("/api/v1/workflows/{id}"), &auth, b"");
        let later = local(Utc::now());
        assert_eq!(status, 200, "{answer}");
        let shown: Vec<String> = match &answer["next_fires"] {
            Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_owned()).collect(),
            other => panic!("{id}: next_fires is {other}"),
        };
        assert!(
            shown == before || shown == later,
            "{id} ({}): {shown:?}",
            schedule.expression()
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}
