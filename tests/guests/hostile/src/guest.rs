//! The `guest` export (on `wasm32` only: natively there is nothing to run).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use relais_plugin_sdk::bindings::exports::relais::plugin::guest::{self, Guest};
use relais_plugin_sdk::bindings::relais::plugin::{kv, log, secrets, types};
use relais_plugin_sdk::bindings::wasi::http::{outgoing_handler, types as http};
use serde_json::{Value, json};

struct Hostile;

const STEPS: [&str; 6] = ["fields", "bodies", "logs", "stderr", "kv-fill", "leak"];

fn info(steps: &[&str], description: String) -> types::PluginInfo {
    types::PluginInfo {
        name: "hostile".into(),
        version: "0.1.0".into(),
        description,
        steps: steps
            .iter()
            .map(|name| types::StepInfo {
                name: (*name).into(),
                description: format!("hostile {name}"),
                input_schema: r#"{"type": "object"}"#.into(),
                output_schema: r#"{"type": "object"}"#.into(),
            })
            .collect(),
    }
}

/// Tries one request from `describe`, and says how it went.
fn describe_http() -> String {
    let request = http::OutgoingRequest::new(http::Fields::new());
    let _ = request.set_scheme(Some(&http::Scheme::Http));
    let _ = request.set_authority(Some("127.0.0.1:9"));
    let _ = request.set_path_with_query(Some("/describe"));
    match outgoing_handler::handle(request, None) {
        Err(code) => format!("http: refused: {code:?}"),
        Ok(future) => loop {
            match future.get() {
                Some(Ok(Ok(response))) => break format!("http: answered {}", response.status()),
                Some(Ok(Err(code))) => break format!("http: failed: {code:?}"),
                Some(Err(())) => break "http: no response".to_owned(),
                None => future.subscribe().block(),
            }
        },
    }
}

fn fatal(message: impl Into<String>) -> types::StepError {
    types::StepError::Fatal(message.into())
}

fn number(input: &Value, field: &str) -> u64 {
    input.get(field).and_then(Value::as_u64).unwrap_or(0)
}

fn fields(input: &Value) -> Result<Value, types::StepError> {
    let count = number(input, "headers");
    let value = vec![b'v'; usize::try_from(number(input, "value_bytes")).unwrap_or(0)];
    let mut held = Vec::new();
    loop {
        let entries: Vec<(String, Vec<u8>)> = (0..count)
            .map(|i| (format!("x-h{i}"), value.clone()))
            .collect();
        match http::Fields::from_list(&entries) {
            Ok(f) => held.push(f),
            Err(e) => return Err(fatal(format!("fields refused after {}: {e:?}", held.len()))),
        }
    }
}

fn bodies() -> Result<Value, types::StepError> {
    let chunk = vec![b'b'; 64 << 10];
    let mut held = Vec::new();
    loop {
        let request = http::OutgoingRequest::new(http::Fields::new());
        let body = request.body().map_err(|()| fatal("no body"))?;
        let stream = body.write().map_err(|()| fatal("no body stream"))?;
        while let Ok(n) = stream.check_write() {
            if n == 0 {
                break;
            }
            let len = usize::try_from(n).unwrap_or(usize::MAX).min(chunk.len());
            if stream.write(&chunk[..len]).is_err() {
                break;
            }
        }
        held.push((request, body, stream));
    }
}

fn logs(input: &Value) -> Value {
    let lines = number(input, "lines");
    for _ in 0..lines {
        log::write(types::Level::Info, "");
    }
    json!({ "lines": lines })
}

fn kv_fill(input: &Value) -> Result<Value, types::StepError> {
    let value = vec![b'k'; usize::try_from(number(input, "value_bytes")).unwrap_or(1)];
    for i in 0u64.. {
        if let Err(e) = kv::set(&format!("fill-{i}"), &value) {
            return Err(fatal(format!("kv refused key {i}: {e}")));
        }
    }
    Ok(json!({}))
}

fn leak(input: &Value) -> Result<Value, types::StepError> {
    let name = input.get("secret").and_then(Value::as_str).unwrap_or("");
    let value = secrets::get(name).ok_or_else(|| fatal(format!("secret {name} not granted")))?;
    let escaped = serde_json::to_string(&json!({ "password": value })).unwrap_or_default();
    log::write(types::Level::Info, &format!("login body {escaped}"));
    let percent: String = value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Ok(json!({
        "url": format!("https://panel.example/login?pw={percent}"),
        "base64": STANDARD.encode(&value),
        "base64url": URL_SAFE_NO_PAD.encode(&value),
        "authorization": format!("Basic {}", STANDARD.encode(format!("admin:{value}"))),
    }))
}

impl Guest for Hostile {
    fn describe() -> types::PluginInfo {
        let outcome = describe_http();
        log::write(types::Level::Warn, &format!("describe tried {outcome}"));
        info(&STEPS, outcome)
    }

    fn invoke(
        step: String,
        input: String,
        _ctx: guest::Context,
    ) -> Result<String, types::StepError> {
        let input: Value = serde_json::from_str(&input)
            .map_err(|e| types::StepError::InvalidInput(e.to_string()))?;
        let output = match step.as_str() {
            "fields" => fields(&input)?,
            "bodies" => bodies()?,
            "logs" => logs(&input),
            "stderr" => {
                let text = input.get("text").and_then(Value::as_str).unwrap_or("");
                eprintln!("{text}");
                json!({})
            }
            "kv-fill" => kv_fill(&input)?,
            "leak" => leak(&input)?,
            other => return Err(types::StepError::InvalidInput(format!("no step {other}"))),
        };
        Ok(output.to_string())
    }
}

relais_plugin_sdk::bindings::__export_plugin_world!(Hostile with_types_in relais_plugin_sdk::bindings);
