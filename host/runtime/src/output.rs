//! What a step returned, checked (JSON, size) and with granted secrets
//! masked before the host keeps it.

use crate::host::bindings::relais::plugin::types as wit;
use crate::invoke::{InvokeError, StepError};
use crate::limits::Limit;
use crate::secrets::Secrets;

pub(crate) fn output(
    text: &str,
    cap: usize,
    secrets: &Secrets,
) -> Result<serde_json::Value, InvokeError> {
    if text.len() > cap {
        return Err(InvokeError::Limit {
            limit: Limit::OutputSize,
            message: format!("the output is {} bytes, the limit is {cap}", text.len()),
        });
    }
    let mut value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| InvokeError::InvalidOutput {
            message: format!("not JSON: {e}"),
        })?;
    redact_value(&mut value, secrets);
    Ok(value)
}

fn redact_value(value: &mut serde_json::Value, secrets: &Secrets) {
    match value {
        serde_json::Value::String(s) => {
            let r = secrets.redact(s);
            if r != *s {
                *s = r;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_value(v, secrets)),
        serde_json::Value::Object(map) => {
            if map.keys().any(|k| secrets.redact(k) != *k) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (secrets.redact(&k), v))
                    .collect();
            }
            map.values_mut().for_each(|v| redact_value(v, secrets));
        }
        _ => {}
    }
}

fn truncate(mut s: String, cap: usize) -> String {
    if s.len() > cap {
        let mut end = cap;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("… (truncated)");
    }
    s
}

pub(crate) fn step_error(e: wit::StepError, cap: usize, secrets: &Secrets) -> StepError {
    let clean = |m: String| truncate(secrets.redact(&m), cap.min(16 << 10));
    match e {
        wit::StepError::Retryable(r) => StepError::Retryable {
            message: clean(r.message),
            retry_after_ms: r.retry_after_ms,
        },
        wit::StepError::Fatal(m) => StepError::Fatal { message: clean(m) },
        wit::StepError::InvalidInput(m) => StepError::InvalidInput { message: clean(m) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_checked_and_redacted() {
        let secrets: Secrets = [("k", "sk_live_secret")].into_iter().collect();
        let v = output(r#"{"a":"x sk_live_secret y","n":[1]}"#, 100, &secrets).unwrap();
        assert_eq!(v, serde_json::json!({"a": "x *** y", "n": [1]}));
        assert!(matches!(
            output("{}", 1, &secrets),
            Err(InvokeError::Limit {
                limit: Limit::OutputSize,
                ..
            })
        ));
        assert!(matches!(
            output("not json", 100, &secrets),
            Err(InvokeError::InvalidOutput { .. })
        ));
    }
}
