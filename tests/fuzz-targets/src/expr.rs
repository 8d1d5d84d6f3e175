//! Expressions: template text and a JSON context → compile → render, under
//! the fuel, recursion and output limits workflows run with.
//!
//! Input: `TEMPLATE \0 CONTEXT_JSON`; without a NUL, or when the context is
//! not JSON, the template renders against the sample context of a run.
//!
//! Properties: nothing panics, the render ends (fuel), and what it gives
//! fits the output cap.

use relais_workflow::expr::{Form, Limits};
use relais_workflow::{ExprError, Template};
use serde_json::Value;

/// Renders `data`'s template both as a `with` string and as a condition.
pub fn expr(data: &[u8]) {
    let [template, context] = crate::parts::<2>(data);
    let Ok(template) = std::str::from_utf8(template) else {
        return;
    };
    let context = serde_json::from_slice::<Value>(context)
        .unwrap_or_else(|_| crate::workflow::sample_context());
    let now = crate::now();
    let cap = Limits::DEFAULT.max_output_bytes;

    if let Ok(t) = Template::parse(template) {
        match t.render_at(&context, now) {
            Ok(Value::String(s)) if t.form() == Form::Text => {
                assert!(s.len() <= cap, "text of {} bytes passed the cap", s.len());
            }
            Ok(v) => {
                assert_eq!(t.form(), Form::Expression, "a text template gave {v}");
                let len = serde_json::to_string(&v).map(|s| s.len()).unwrap_or(0);
                assert!(len <= cap, "a value of {len} bytes passed the cap");
            }
            Err(e) => check_error(&e),
        }
    }
    if let Ok(t) = Template::parse_expression(template) {
        match t.eval_bool_at(&context, now) {
            Ok(_) => {}
            Err(e) => check_error(&e),
        }
    }
}

fn check_error(e: &ExprError) {
    assert!(!e.to_string().is_empty(), "an error with no message: {e:?}");
}
