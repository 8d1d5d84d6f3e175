//! A resolved workflow, rendered the way the engine will.

use chrono::{DateTime, Utc};
use relais_workflow::context::{RunContext, StepState, manual_trigger, webhook_trigger};
use relais_workflow::model::{Action, Input, Trigger, Wait};
use relais_workflow::{ExprError, parse_workflow};
use serde_json::json;

use crate::common::catalog;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

const FLOW: &str = r#"
id: renewals
trigger: { manual: {} }
input:
  type: object
  properties: { customer: { type: string }, hosts: { type: array } }
  required: [customer]
steps:
  - id: lookup
    uses: stripe/get-customer
    with: { customer: "{{ trigger.input.customer }}" }
  - id: plan
    set:
      total: "{{ steps.lookup.output.balance * 2 }}"
      greeting: "Bonjour {{ steps.lookup.output.name }}"
      flags: { yes_stays: yes, on_stays: on, no: NO, zip: 01234, real: true }
  - id: check
    uses: monitor/check-ssl
    for_each: "{{ trigger.input.hosts }}"
    with: { host: "{{ item }}", position: "{{ index }}" }
  - id: mail
    uses: email/send
    if: "{{ steps.plan.output.total > 10 and not steps.check.failed }}"
    with:
      to: "{{ steps.lookup.output.email }}"
      data: { due: "{{ now() | add_days(7) | format_date('%d/%m/%Y', 'Europe/Paris') }}", static: [1, 2] }
    on_failure: alert
  - id: alert
    uses: slack/post
    if: "{{ steps.mail.failed }}"
    with: { text: "mail failed: {{ steps.mail.error }}" }
  - id: later
    wait: { until: "{{ now() | add_days(3) }}" }
"#;

fn plugin_input(w: &relais_workflow::Workflow, id: &str) -> Input {
    match &w.step(id).expect("step").action {
        Action::Plugin(call) => call.with.clone(),
        other => panic!("{id} is not a plugin step: {other:?}"),
    }
}

#[test]
fn a_run_renders_step_by_step() {
    let w = parse_workflow("renewals.yaml", FLOW, &catalog()).expect("valid");
    assert!(matches!(w.trigger, Trigger::Manual));
    let seq: Vec<&str> = w.sequence().map(|s| s.id.as_str()).collect();
    assert_eq!(seq, ["lookup", "plan", "check", "mail", "later"]);
    assert!(w.step("alert").expect("alert").is_fallback());

    let now = at("2026-03-24T08:30:00Z");
    let input = json!({ "customer": "cus_42", "hosts": ["a.example", "b.example"] });
    assert!(w.check_input(&input).is_ok());
    assert_eq!(w.check_input(&json!({ "hosts": 3 })).unwrap_err().len(), 2);

    let mut run = RunContext::new("run_1", "renewals", now, manual_trigger(input));
    assert_eq!(
        plugin_input(&w, "lookup")
            .render_at(&run.to_value(), now)
            .unwrap(),
        json!({ "customer": "cus_42" })
    );
    run.record(
        "lookup",
        &StepState::succeeded(
            json!({ "balance": 12, "name": "Ana", "email": "ana@example.com" }),
            1,
        ),
    );

    let Action::Set(values) = &w.step("plan").expect("plan").action else {
        panic!("set")
    };
    let rendered: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                v.render_at(&run.to_value(), now).expect("renders"),
            )
        })
        .collect();
    assert_eq!(
        serde_json::Value::Object(rendered.clone()),
        json!({
            "total": 24,
            "greeting": "Bonjour Ana",
            "flags": { "yes_stays": "yes", "on_stays": "on", "no": "NO", "zip": "01234", "real": true }
        })
    );
    run.record(
        "plan",
        &StepState::succeeded(serde_json::Value::Object(rendered), 1),
    );

    let check = plugin_input(&w, "check");
    let Action::Plugin(call) = &w.step("check").expect("check").action else {
        panic!("plugin")
    };
    let items = call
        .for_each
        .as_ref()
        .expect("for_each")
        .items
        .render_at(&run.to_value(), now)
        .unwrap();
    let outs: Vec<_> = items
        .as_array()
        .expect("list")
        .iter()
        .enumerate()
        .map(|(i, item)| check.render_at(&run.with_item(item, i), now).unwrap())
        .collect();
    assert_eq!(
        outs,
        vec![
            json!({ "host": "a.example", "position": 0 }),
            json!({ "host": "b.example", "position": 1 })
        ]
    );
    run.record(
        "check",
        &StepState::succeeded(json!([{ "ok": true }, { "ok": true }]), 1),
    );

    let mail = w.step("mail").expect("mail");
    assert!(
        mail.condition
            .as_ref()
            .expect("if")
            .eval_bool_at(&run.to_value(), now)
            .unwrap()
    );
    assert_eq!(
        plugin_input(&w, "mail")
            .render_at(&run.to_value(), now)
            .unwrap(),
        json!({ "to": "ana@example.com", "data": { "due": "31/03/2026", "static": [1, 2] } })
    );
    run.record("mail", &StepState::failed("smtp refused", 3));
    let alert = w.step("alert").expect("alert");
    assert!(
        alert
            .condition
            .as_ref()
            .expect("if")
            .eval_bool_at(&run.to_value(), now)
            .unwrap()
    );
    assert_eq!(
        plugin_input(&w, "alert")
            .render_at(&run.to_value(), now)
            .unwrap(),
        json!({ "text": "mail failed: smtp refused" })
    );

    let Action::Wait(Wait::Until(until)) = &w.step("later").expect("later").action else {
        panic!("wait")
    };
    let t = relais_workflow::expr::parse_instant(&until.render_at(&run.to_value(), now).unwrap())
        .unwrap();
    assert_eq!(t, at("2026-03-27T08:30:00Z"));
}

#[test]
fn a_missing_path_fails_the_render_with_its_name() {
    let w = parse_workflow("renewals.yaml", FLOW, &catalog()).expect("valid");
    let mut run = RunContext::new(
        "run_1",
        "renewals",
        at("2026-03-24T08:30:00Z"),
        manual_trigger(json!({ "customer": "cus_1" })),
    );
    run.record("lookup", &StepState::succeeded(json!({ "balance": 1 }), 1));
    let Action::Set(values) = &w.step("plan").expect("plan").action else {
        panic!("set")
    };
    let greeting = values.get("greeting").expect("greeting");
    assert_eq!(
        greeting.render(&run.to_value()),
        Err(ExprError::Undefined {
            path: "steps.lookup.output.name".to_owned()
        })
    );
    // A skipped step has no output.
    run.record("lookup", &StepState::skipped());
    let r = values.get("total").expect("total").render(&run.to_value());
    assert!(matches!(r, Err(ExprError::Undefined { .. })), "{r:?}");
}

#[test]
fn the_dedupe_key_reads_the_request() {
    let text = "id: hook\ntrigger:\n  webhook:\n    path: stripe\n    verify: { scheme: stripe, secret: whsec }\n    dedupe: \"{{ body.id }}\"\nsteps:\n  - id: a\n    uses: slack/post\n    with: { text: \"{{ trigger.body.type }}\" }\n";
    let w = parse_workflow("hook.yaml", text, &catalog()).expect("valid");
    let Trigger::Webhook(h) = &w.trigger else {
        panic!("webhook")
    };
    let req = webhook_trigger(
        json!({ "id": "evt_1", "type": "invoice.payment_failed" }),
        Default::default(),
        Default::default(),
    );
    assert_eq!(
        h.dedupe.as_ref().expect("dedupe").render(&req).unwrap(),
        json!("evt_1")
    );
    assert_eq!(
        h.verify.tolerance.map(|d| d.to_string()),
        Some("5m".to_owned())
    );
}

#[test]
fn retry_delays_grow_and_stay_capped() {
    let text = "id: r\nsteps:\n  - id: a\n    uses: slack/post\n    with: { text: x }\n    retry: { attempts: 6, initial: 30s, max: 2m, jitter: 0.5 }\n";
    let w = parse_workflow("r.yaml", text, &catalog()).expect("valid");
    let Action::Plugin(call) = &w.steps[0].action else {
        panic!("plugin")
    };
    let r = call.retry;
    let secs = |n, rand| r.delay_after(n, rand).as_secs_f64();
    assert_eq!(
        (secs(1, 0.0), secs(2, 0.0), secs(3, 0.0), secs(4, 0.0)),
        (30.0, 60.0, 120.0, 120.0)
    );
    assert_eq!(secs(2, 1.0), 30.0);
    assert_eq!(secs(40, 0.0), 120.0);
    let none = relais_workflow::model::Retry::NONE;
    assert_eq!(none.attempts, 1);
}

#[test]
fn a_workflow_can_be_shared_between_tasks() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<relais_workflow::Workflow>();
    shared::<relais_workflow::Template>();
    shared::<relais_workflow::Catalog>();
}
