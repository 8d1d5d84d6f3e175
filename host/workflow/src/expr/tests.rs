use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test time")
        .with_timezone(&Utc)
}

fn ctx() -> Value {
    json!({
        "trigger": { "body": { "customer": { "email": "ana@example.com", "zip": "01234" }, "amount": 1250, "due": "2026-03-31", "paid_at": 1767225600 } },
        "steps": {
            "customer": { "status": "succeeded", "output": { "email": "ana@example.com", "tags": ["vip", "fr"], "meta": { "cpanel_user": "ana" } }, "failed": false },
            "email": { "status": "failed", "output": null, "failed": true, "error": "smtp refused" }
        },
        "run": { "id": "run_1" },
        "item": { "host": "example.com" },
        "index": 2
    })
}

fn render(src: &str) -> Result<Value, ExprError> {
    Template::parse(src)?.render_at(&ctx(), at("2026-03-24T08:30:00Z"))
}

fn with_limits(src: &str, limits: Limits) -> Result<Value, ExprError> {
    let mut set = TemplateSet::new(limits);
    let t = set.string(src)?;
    set.finish();
    t.render_at(&ctx(), at("2026-03-24T08:30:00Z"))
}

#[test]
fn a_single_expression_renders_to_its_json_value() {
    assert_eq!(render("{{ trigger.body.amount }}").unwrap(), json!(1250));
    assert_eq!(
        render("{{ steps.customer.output.tags }}").unwrap(),
        json!(["vip", "fr"])
    );
    assert_eq!(
        render("{{ steps.customer.output.meta }}").unwrap(),
        json!({ "cpanel_user": "ana" })
    );
    assert_eq!(render("{{ steps.email.failed }}").unwrap(), json!(true));
    assert_eq!(render("{{ steps.email.output }}").unwrap(), json!(null));
    assert_eq!(
        render("{{ item }}").unwrap(),
        json!({ "host": "example.com" })
    );
    assert_eq!(render("{{ index + 1 }}").unwrap(), json!(3));
    // A string that looks like a number stays a string.
    assert_eq!(
        render("{{ trigger.body.customer.zip }}").unwrap(),
        json!("01234")
    );
    assert_eq!(render("{{- run.id -}}").unwrap(), json!("run_1"));
}

#[test]
fn mixed_text_renders_to_a_string() {
    assert_eq!(
        render("Run {{ run.id }}: {{ trigger.body.amount }}").unwrap(),
        json!("Run run_1: 1250")
    );
    assert_eq!(
        render(" {{ trigger.body.amount }}").unwrap(),
        json!(" 1250")
    );
    assert_eq!(render("{{ 1 }}{{ 2 }}").unwrap(), json!("12"));
    assert_eq!(
        render("{% for t in steps.customer.output.tags %}{{ t }};{% endfor %}").unwrap(),
        json!("vip;fr;")
    );
    // No HTML escaping: these are not web pages.
    assert_eq!(render("<{{ '&' }}>").unwrap(), json!("<&>"));
}

#[test]
fn undefined_paths_are_named() {
    let cases = [
        (
            "{{ steps.customer.output.emial }}",
            "steps.customer.output.emial",
        ),
        (
            "Hi {{ steps.customer.output.emial }}",
            "steps.customer.output.emial",
        ),
        (
            "{{ steps.customer.output.emial.x }}",
            "steps.customer.output.emial",
        ),
        ("{{ trigger.body.nope | upper }}", "trigger.body.nope"),
        ("{{ steps.custome }}", "steps.custome"),
        ("{{ nothing }}", "nothing"),
    ];
    for (src, path) in cases {
        let err = render(src).unwrap_err();
        assert_eq!(
            err,
            ExprError::Undefined {
                path: path.to_owned()
            },
            "{src}"
        );
        assert_eq!(err.to_string(), format!("{path} is undefined"));
    }
    // Reading a field of null is an error too.
    assert!(matches!(
        render("{{ steps.email.output.id }}"),
        Err(ExprError::Undefined { .. })
    ));
    // `default` and `is defined` still work.
    assert_eq!(
        render("{{ trigger.body.nope | default('x') }}").unwrap(),
        json!("x")
    );
    assert_eq!(
        render("{{ trigger.body.nope is defined }}").unwrap(),
        json!(false)
    );
}

#[test]
fn conditions_must_be_booleans() {
    let t = Template::parse_expression("steps.email.failed").unwrap();
    assert!(t.eval_bool(&ctx()).unwrap());
    let t = Template::parse_expression("{{ not steps.email.failed }}").unwrap();
    assert!(!t.eval_bool(&ctx()).unwrap());
    let t = Template::parse_expression("steps.customer.output.email").unwrap();
    assert_eq!(
        t.eval_bool(&ctx()).unwrap_err().to_string(),
        "expected a boolean, got string \"ana@example.com\""
    );
    assert!(matches!(
        Template::parse_expression("failed: {{ x }}"),
        Err(ExprError::Syntax { .. })
    ));
    assert!(matches!(
        Template::parse_expression(""),
        Err(ExprError::Syntax { .. })
    ));
}

#[test]
fn fuel_stops_long_loops_but_not_short_ones() {
    let limits = Limits {
        fuel: 2_000,
        ..Limits::DEFAULT
    };
    assert!(with_limits("{% for i in range(100) %}{{ i }}{% endfor %}", limits).is_ok());
    assert_eq!(
        with_limits("{% for i in range(5000) %}{{ i }}{% endfor %}", limits),
        Err(ExprError::OutOfFuel { limit: 2_000 })
    );
    // With the default limits a runaway loop is stopped too.
    assert!(matches!(
        render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
        Err(ExprError::OutOfFuel { .. })
    ));
}

#[test]
fn output_is_capped_on_both_sides_of_the_limit() {
    let limits = Limits {
        max_output_bytes: 100,
        ..Limits::DEFAULT
    };
    assert_eq!(
        with_limits("{{ 'x' * 100 }}!", limits),
        Err(ExprError::OutputTooLarge { limit: 100 })
    );
    assert_eq!(
        with_limits("{{ 'x' * 99 }}!", limits).unwrap(),
        json!(format!("{}!", "x".repeat(99)))
    );
    // A value's JSON text counts: 98 chars + 2 quotes = 100 fits, 99 does not.
    assert!(with_limits("{{ 'x' * 98 }}", limits).is_ok());
    assert_eq!(
        with_limits("{{ 'x' * 99 }}", limits),
        Err(ExprError::OutputTooLarge { limit: 100 })
    );
}

#[test]
fn deep_nesting_fails_cleanly() {
    let shallow = format!("{{{{ {}1{} }}}}", "(".repeat(20), ")".repeat(20));
    assert_eq!(render(&shallow).unwrap(), json!(1));
    let deep = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
    assert!(Template::parse(&deep).is_err() || render(&deep).is_err());
}

#[test]
fn date_helpers_use_the_injected_now() {
    assert_eq!(
        render("{{ now() }}").unwrap(),
        json!("2026-03-24T08:30:00Z")
    );
    assert_eq!(
        render("{{ today('Pacific/Kiritimati') }}").unwrap(),
        json!("2026-03-24")
    );
    assert_eq!(
        render("{{ today('America/Los_Angeles') }}").unwrap(),
        json!("2026-03-24")
    );
    assert_eq!(
        render("{{ now() | add_days(7) }}").unwrap(),
        json!("2026-03-31T08:30:00Z")
    );
    assert_eq!(
        render("{{ now() | add_days(-24) }}").unwrap(),
        json!("2026-02-28T08:30:00Z")
    );
    assert_eq!(
        render("{{ trigger.body.due | add_days(1) }}").unwrap(),
        json!("2026-04-01")
    );
    assert_eq!(
        render("{{ now() | add_hours(-9) }}").unwrap(),
        json!("2026-03-23T23:30:00Z")
    );
    assert_eq!(
        render("{{ '2026-03-24T10:00:00+01:00' | add_minutes(90) }}").unwrap(),
        json!("2026-03-24T11:30:00+01:00")
    );
    assert_eq!(
        render("{{ trigger.body.due | days_until }}").unwrap(),
        json!(7)
    );
    assert_eq!(render("{{ '2026-03-20' | days_since }}").unwrap(), json!(4));
    assert_eq!(
        render("{{ '2026-03-24T23:30:00Z' | days_until('Europe/Paris') }}").unwrap(),
        json!(1)
    );
    assert_eq!(
        render("{{ now() | add_days(7) | format_date('%d/%m/%Y %H:%M', 'Europe/Paris') }}")
            .unwrap(),
        json!("31/03/2026 10:30")
    );
    // Unix timestamps (Stripe sends them): 2026-01-01T00:00:00Z.
    assert_eq!(
        render("{{ trigger.body.paid_at | format_date('%Y-%m-%d') }}").unwrap(),
        json!("2026-01-01")
    );
    assert_eq!(
        render("{{ trigger.body.due | format_date('%A %d %B') }}").unwrap(),
        json!("Tuesday 31 March")
    );
}

#[test]
fn date_helpers_refuse_bad_input() {
    for src in [
        "{{ 'tomorrow' | add_days(1) }}",
        "{{ now() | format_date('%Q') }}",
        "{{ now() | format_date('%d', 'Mars/Olympus') }}",
        "{{ today('Nowhere') }}",
        "{{ [1] | days_until }}",
    ] {
        assert!(matches!(render(src), Err(ExprError::Eval { .. })), "{src}");
    }
}

#[test]
fn parse_instant_reads_the_usual_forms() {
    let t = |v: Value| parse_instant(&v).map(|d| d.to_rfc3339());
    assert_eq!(t(json!("2026-03-24")).unwrap(), "2026-03-24T00:00:00+00:00");
    assert_eq!(
        t(json!("2026-03-24T10:00:00+01:00")).unwrap(),
        "2026-03-24T09:00:00+00:00"
    );
    assert_eq!(
        t(json!("2026-03-24 10:00")).unwrap(),
        "2026-03-24T10:00:00+00:00"
    );
    assert_eq!(t(json!(1767225600)).unwrap(), "2026-01-01T00:00:00+00:00");
    assert!(t(json!("soon")).is_err());
    assert!(t(json!(true)).is_err());
    assert!(t(json!(1e300)).is_err());
}

#[test]
fn variables_lists_the_paths_read() {
    let t = Template::parse("{{ steps.customer.output.email }} {{ run.id | upper }} {% for x in trigger.body.items %}{{ x.name }}{% endfor %}").unwrap();
    assert_eq!(
        t.variables(),
        [
            "run.id",
            "steps.customer.output.email",
            "trigger.body.items"
        ]
    );
}

#[test]
fn templates_render_from_other_threads() {
    let t = Template::parse("{{ run.id }}").unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let t = t.clone();
            std::thread::spawn(move || t.render(&ctx()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap(), json!("run_1"));
    }
}

#[test]
fn now_is_restored_after_a_render() {
    let t = Template::parse("{{ now() }}").unwrap();
    assert_eq!(
        t.render_at(&ctx(), at("2000-01-01T00:00:00Z")).unwrap(),
        json!("2000-01-01T00:00:00Z")
    );
    let real = t.render(&ctx()).unwrap();
    assert_ne!(real, json!("2000-01-01T00:00:00Z"));
}
