//! Workflow files: YAML text → parse → resolve against a small catalog.
//!
//! Properties: nothing panics; a refused file has at least one diagnostic,
//! each placed inside the file, and each prints with its snippet; an
//! accepted workflow serializes, and its templates render (or fail with an
//! error) against a sample context.

use std::sync::OnceLock;

use relais_workflow::model::Action;
use relais_workflow::{Catalog, parse_workflow};
use serde_json::{Value, json};

/// The plugins the example workflows use, with one strict schema.
fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let strict = json!({
            "type": "object",
            "required": ["to"],
            "properties": { "to": { "type": "string", "format": "email" } },
        });
        Catalog::new()
            .with_step("email", "send", strict)
            .and_then(|c| c.with_step("http", "request", json!({})))
            .and_then(|c| c.with_step("stripe", "get-customer", json!({"type": "object"})))
            .and_then(|c| c.with_step("twilio", "send-sms", json!(true)))
            .expect("the fuzz catalog compiles")
    })
}

/// What a step sees in a run triggered by a Stripe webhook.
pub(crate) fn sample_context() -> Value {
    json!({
        "trigger": {
            "body": {
                "id": "evt_1",
                "type": "invoice.payment_failed",
                "data": { "object": { "customer": "cus_1", "amount_due": 1999, "due_date": 1774771200 } },
            },
            "headers": { "content-type": "application/json" },
            "input": { "name": "Ana", "to": "ana@example.com", "days": [1, 3, 7] },
        },
        "steps": { "customer": { "output": { "email": "ana@example.com", "phone": null } } },
        "run": { "id": "0190e0b0c0d0e0f00000000000000001", "attempt": 1 },
    })
}

/// Parses `data` (lossily decoded as UTF-8) as a workflow file.
pub fn workflow(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match parse_workflow("fuzz.yaml", text.as_ref(), catalog()) {
        Ok(wf) => {
            serde_json::to_string(&wf).expect("an accepted workflow serializes");
            let ctx = sample_context();
            let now = crate::now();
            let _ = wf.check_input(&ctx["trigger"]["input"]);
            for step in &wf.steps {
                if let Some(condition) = &step.condition {
                    let _ = condition.eval_bool_at(&ctx, now);
                }
                if let Action::Plugin(call) = &step.action {
                    let _ = call.with.render_at(&ctx, now);
                }
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "a refused file names no problem");
            let lines = yaml_lines(&text);
            for d in errors.iter() {
                let line = d.loc.line as usize;
                assert!(
                    line <= lines + 1,
                    "{d} is placed past the end of the file ({lines} lines)"
                );
                assert!(!d.to_string().is_empty());
                let snippet = d.snippet(&text);
                assert!(
                    line == 0 || line > lines || !snippet.is_empty(),
                    "{d} shows no line of the file"
                );
            }
        }
    }
}

/// How many lines YAML sees: `\n`, `\r\n` and a lone `\r` each end one, and
/// text after the last break is a line too.
fn yaml_lines(text: &str) -> usize {
    let breaks =
        text.matches('\n').count() + text.matches('\r').count() - text.matches("\r\n").count();
    let last = !text.is_empty() && !text.ends_with(['\r', '\n']);
    breaks + usize::from(last)
}
