//! `http`: one generic HTTP request step, `http/request`.
//!
//! ```yaml
//! - id: notify
//!   uses: http/request
//!   with:
//!     method: POST
//!     url: https://hooks.example.com/renewals
//!     headers: { x-api-key: "{{ secrets.hooks_key }}" }
//!     json: { domain: "{{ trigger.body.domain }}" }
//!     expected_status: [200, 202]
//! ```
//!
//! Input: `method` (default `GET`), `url`, `headers` (map), at most one body
//! among `json` (any JSON), `form` (map, form-encoded) and `text`,
//! `expected_status` (codes like `204`, classes like `"2xx"`, ranges like
//! `"200-299"`; default `["2xx"]`) and `output` (`json`, `text` or `auto`:
//! JSON when the content type says so; default `auto`).
//!
//! Output: `status`, `headers` (lowercase names; repeated fields joined with
//! `, `) and `body` (a JSON value, or the text; `null` for an empty JSON
//! body).
//!
//! A status outside `expected_status` fails the step with the status and
//! the start of the body: retryable for 5xx and 429 (honouring
//! `Retry-After`), fatal otherwise.

mod input;

use std::collections::BTreeMap;

use relais_plugin_sdk::http::{self, Method};
use relais_plugin_sdk::prelude::*;
use serde_json::Value;

use input::StatusRange;
pub use input::{OutputMode, RequestIn, Scalar, StatusSpec};

relais_plugin_sdk::plugin! {
    name: "http",
    version: env!("CARGO_PKG_VERSION"),
    description: "Generic HTTP requests",
    steps: {
        "request" => request: "Send one HTTP request and return its status, headers and body",
    },
}

/// Output of `request`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RequestOut {
    /// The answer's status code.
    pub status: u16,
    /// The answer's headers, names lowercase; repeated fields joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The answer's body: a JSON value, or text (see `output`).
    pub body: Value,
}

fn request(input: RequestIn, _cx: &Context) -> Result<RequestOut, StepError> {
    let method: Method = input
        .method
        .parse()
        .map_err(|err| StepError::invalid_input(format!("method: {err}")))?;
    let expected = StatusRange::parse_all(input.expected_status.as_deref())?;
    let bodies = [
        input.json.is_some(),
        input.form.is_some(),
        input.text.is_some(),
    ];
    if bodies.iter().filter(|given| **given).count() > 1 {
        return Err(StepError::invalid_input(
            "give at most one body: json, form or text",
        ));
    }

    let mut builder = http::request(method.clone(), input.url.clone());
    for (name, value) in &input.headers {
        builder = builder.header(name, value.to_string());
    }
    if let Some(json) = &input.json {
        builder = builder.json(json);
    } else if let Some(form) = &input.form {
        builder = builder.form(form.iter().map(|(k, v)| (k.as_str(), v.to_string())));
    } else if let Some(text) = input.text {
        builder = builder.text(text);
    }

    let response = builder.send()?;
    log::info!(
        "{method} {} -> {}",
        without_query(&input.url),
        response.status()
    );
    if !expected
        .iter()
        .any(|range| range.contains(response.status()))
    {
        return Err(response.into_status_error().into());
    }

    let body = match input.output {
        OutputMode::Text => Value::String(response.text()),
        OutputMode::Json => json_body(&response)?,
        OutputMode::Auto if response.is_json() => json_body(&response)?,
        OutputMode::Auto => Value::String(response.text()),
    };
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in response.headers().iter() {
        headers
            .entry(name.to_owned())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(value);
            })
            .or_insert_with(|| value.to_owned());
    }
    Ok(RequestOut {
        status: response.status(),
        headers,
        body,
    })
}

/// The body as JSON; an empty body is `null`.
fn json_body(response: &http::Response) -> Result<Value, StepError> {
    if response.bytes().iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    Ok(response.json::<Value>()?)
}

/// The URL without its query and fragment (which may carry keys): what the
/// log may show.
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

#[cfg(test)]
mod tests;
