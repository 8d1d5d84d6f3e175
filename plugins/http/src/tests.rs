use std::time::Duration;

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
use relais_plugin_sdk::{Context, StepError};
use serde_json::{Value, json};

use super::PLUGIN;

const URL: &str = "http://127.0.0.1:8080/api/items";

fn run(host: &FakeHost, input: Value) -> Result<Value, StepError> {
    host.invoke(&PLUGIN, "request", input, &Context::new("run-1", "call"))
}

#[test]
fn declaration_is_valid_and_schemas_describe_the_input() {
    assert_eq!(PLUGIN.validate(), Ok(()));
    let info = PLUGIN.describe();
    assert_eq!(info.name, "http");
    assert_eq!(info.steps.len(), 1);
    let input: Value = serde_json::from_str(&info.steps[0].input_schema).unwrap();
    assert_eq!(
        input["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(input["required"], json!(["url"]));
    for field in [
        "method",
        "url",
        "headers",
        "json",
        "form",
        "text",
        "expected_status",
        "output",
    ] {
        assert!(input["properties"].get(field).is_some(), "{field}");
    }
    let output: Value = serde_json::from_str(&info.steps[0].output_schema).unwrap();
    assert_eq!(output["required"], json!(["status", "headers", "body"]));
}

#[test]
fn get_by_default_with_json_answer() {
    let host = FakeHost::new().on(
        Method::Get,
        URL,
        FakeResponse::ok()
            .json(&json!({"items": [1, 2]}))
            .header("X-Request-Id", "r1"),
    );
    let out = run(&host, json!({"url": URL})).unwrap();
    assert_eq!(
        out,
        json!({
            "status": 200,
            "headers": {"content-type": "application/json", "x-request-id": "r1"},
            "body": {"items": [1, 2]},
        })
    );
    let requests = host.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, Method::Get);
    assert!(requests[0].body.is_empty());
    assert_eq!(requests[0].header("content-type"), None);
}

#[test]
fn sends_method_headers_and_json_body() {
    let host = FakeHost::new().on(Method::Put, URL, FakeResponse::status(204));
    let out = run(
        &host,
        json!({
            "method": "put",
            "url": URL,
            "headers": {"Authorization": "Bearer t", "X-Count": 3, "X-Dry": false},
            "json": {"name": "a", "n": [1, null]},
        }),
    )
    .unwrap();
    assert_eq!(out, json!({"status": 204, "headers": {}, "body": ""}));
    let sent = &host.requests()[0];
    assert_eq!(sent.method, Method::Put);
    assert_eq!(sent.header("authorization"), Some("Bearer t"));
    assert_eq!(sent.header("x-count"), Some("3"));
    assert_eq!(sent.header("x-dry"), Some("false"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.json(), json!({"name": "a", "n": [1, null]}));
}

#[test]
fn sends_form_and_text_bodies() {
    let host = FakeHost::new().on(Method::Post, URL, FakeResponse::ok());
    run(
        &host,
        json!({"method": "POST", "url": URL, "form": {"user": "ann b", "amount": 12.5, "ok": true}}),
    )
    .unwrap();
    run(
        &host,
        json!({"method": "POST", "url": URL, "text": "héllo", "headers": {"content-type": "text/csv"}}),
    )
    .unwrap();
    let requests = host.requests();
    assert_eq!(requests[0].text(), "amount=12.5&ok=true&user=ann+b");
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(requests[1].text(), "héllo");
    assert_eq!(
        requests[1]
            .headers
            .get_all("content-type")
            .collect::<Vec<_>>(),
        ["text/csv"]
    );
}

#[test]
fn only_one_body() {
    let host = FakeHost::new();
    let err = run(&host, json!({"url": URL, "json": {}, "text": "x"})).unwrap_err();
    assert_eq!(
        err,
        StepError::invalid_input("give at most one body: json, form or text")
    );
    assert!(host.requests().is_empty());
}

#[test]
fn output_modes() {
    let host = FakeHost::new()
        .on(
            Method::Get,
            "http://127.0.0.1:1/json-as-text",
            FakeResponse::ok().text("{\"a\": 1}"),
        )
        .on(
            Method::Get,
            "http://127.0.0.1:1/problem",
            FakeResponse::ok()
                .header("content-type", "application/problem+json")
                .body("{\"title\": \"t\"}"),
        )
        .on(
            Method::Get,
            "http://127.0.0.1:1/broken",
            FakeResponse::ok()
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .on(
            Method::Get,
            "http://127.0.0.1:1/empty",
            FakeResponse::status(200).header("content-type", "application/json"),
        );
    let body = |url: &str, output: &str| {
        run(&host, json!({"url": url, "output": output})).map(|out| out["body"].clone())
    };
    assert_eq!(
        body("http://127.0.0.1:1/json-as-text", "auto"),
        Ok(json!("{\"a\": 1}"))
    );
    assert_eq!(
        body("http://127.0.0.1:1/json-as-text", "json"),
        Ok(json!({"a": 1}))
    );
    assert_eq!(
        body("http://127.0.0.1:1/problem", "auto"),
        Ok(json!({"title": "t"}))
    );
    assert_eq!(
        body("http://127.0.0.1:1/problem", "text"),
        Ok(json!("{\"title\": \"t\"}"))
    );
    assert_eq!(body("http://127.0.0.1:1/empty", "auto"), Ok(Value::Null));
    assert_eq!(body("http://127.0.0.1:1/empty", "json"), Ok(Value::Null));
    let err = body("http://127.0.0.1:1/broken", "auto").unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert!(
        err.message()
            .starts_with("response from http://127.0.0.1:1/broken cannot be read"),
        "{err}"
    );
    let err = body("http://127.0.0.1:1/broken", "yaml").unwrap_err();
    assert!(
        err.message()
            .starts_with("invalid input at output: unknown variant `yaml`"),
        "{err}"
    );
}

#[test]
fn repeated_response_headers_are_joined() {
    let host = FakeHost::new().on(
        Method::Get,
        URL,
        FakeResponse::ok().header("Vary", "a").header("vary", "b"),
    );
    let out = run(&host, json!({"url": URL})).unwrap();
    assert_eq!(out["headers"], json!({"vary": "a, b"}));
}

#[test]
fn unexpected_status_fails_by_class() {
    let host = FakeHost::new()
        .on(
            Method::Get,
            "http://127.0.0.1:1/busy",
            FakeResponse::status(503)
                .header("Retry-After", "30")
                .text("try later"),
        )
        .on(
            Method::Get,
            "http://127.0.0.1:1/slow",
            FakeResponse::status(429),
        )
        .on(
            Method::Get,
            "http://127.0.0.1:1/missing",
            FakeResponse::status(404).json(&json!({"error": "no such item"})),
        )
        .on(
            Method::Get,
            "http://127.0.0.1:1/moved",
            FakeResponse::status(301).header("location", "http://127.0.0.1:1/there"),
        );
    let err = run(&host, json!({"url": "http://127.0.0.1:1/busy"})).unwrap_err();
    assert_eq!(
        err,
        StepError::retryable_after(
            "GET http://127.0.0.1:1/busy returned status 503: try later",
            Duration::from_secs(30)
        )
    );
    let err = run(&host, json!({"url": "http://127.0.0.1:1/slow"})).unwrap_err();
    assert_eq!(
        err,
        StepError::retryable("GET http://127.0.0.1:1/slow returned status 429")
    );
    let err = run(&host, json!({"url": "http://127.0.0.1:1/missing"})).unwrap_err();
    assert_eq!(
        err,
        StepError::fatal(
            "GET http://127.0.0.1:1/missing returned status 404: {\"error\":\"no such item\"}"
        )
    );
    let err = run(&host, json!({"url": "http://127.0.0.1:1/moved"})).unwrap_err();
    assert_eq!(err.kind(), "fatal");

    // The same statuses pass when expected.
    let out = run(
        &host,
        json!({"url": "http://127.0.0.1:1/moved", "expected_status": ["3xx"]}),
    )
    .unwrap();
    assert_eq!(out["headers"]["location"], "http://127.0.0.1:1/there");
    let out = run(
        &host,
        json!({"url": "http://127.0.0.1:1/missing", "expected_status": [200, "404"]}),
    )
    .unwrap();
    assert_eq!(out["body"], json!({"error": "no such item"}));
    let out = run(
        &host,
        json!({"url": "http://127.0.0.1:1/busy", "expected_status": ["500-503"]}),
    );
    assert_eq!(out.map(|o| o["status"].clone()), Ok(json!(503)));
}

#[test]
fn a_2xx_outside_expected_is_fatal() {
    let host = FakeHost::new().on(Method::Get, URL, FakeResponse::ok().text("done"));
    let err = run(&host, json!({"url": URL, "expected_status": [201]})).unwrap_err();
    assert_eq!(
        err,
        StepError::fatal(format!("GET {URL} returned status 200: done"))
    );
}

#[test]
fn transport_and_refusal() {
    let host = FakeHost::new()
        .on(
            Method::Get,
            URL,
            FakeResponse::transport_error("connection-refused"),
        )
        .on(
            Method::Post,
            URL,
            FakeResponse::refused("HTTP-request-denied"),
        );
    let err = run(&host, json!({"url": URL})).unwrap_err();
    assert_eq!(
        err,
        StepError::retryable(format!("request to {URL} failed: connection-refused"))
    );
    let err = run(&host, json!({"url": URL, "method": "POST"})).unwrap_err();
    assert_eq!(err.kind(), "fatal");
    assert!(err.message().contains(URL), "{err}");
}

#[test]
fn bad_input_is_invalid_input_and_sends_nothing() {
    let host = FakeHost::new();
    for (input, start) in [
        (json!({}), "invalid input: missing field `url`"),
        (
            json!({"url": 5}),
            "invalid input at url: invalid type: integer `5`",
        ),
        (
            json!({"url": URL, "bogus": 1}),
            "invalid input at bogus: unknown field `bogus`",
        ),
        (
            json!({"url": URL, "method": "GE T"}),
            "method: invalid http method \"GE T\"",
        ),
        (
            json!({"url": "ftp://127.0.0.1/x"}),
            "invalid url \"ftp://127.0.0.1/x\"",
        ),
        (json!({"url": "127.0.0.1/x"}), "invalid url \"127.0.0.1/x\""),
        (
            json!({"url": URL, "headers": {"bad name": "x"}}),
            "invalid request to",
        ),
        (
            json!({"url": URL, "headers": {"x": "a\r\nb: c"}}),
            "invalid request to",
        ),
        (
            json!({"url": URL, "headers": {"x": [1]}}),
            "invalid input at headers.x",
        ),
        (
            json!({"url": URL, "expected_status": ["9xx"]}),
            "expected_status[0]: \"9xx\"",
        ),
    ] {
        let err = run(&host, input.clone()).unwrap_err();
        assert_eq!(err.kind(), "invalid-input", "{input}: {err}");
        assert!(err.message().starts_with(start), "{input}: {err}");
    }
    assert!(host.requests().is_empty());
}

#[test]
fn log_line_hides_the_query() {
    let url = "http://127.0.0.1:8080/check?api_key=secret#x";
    let host = FakeHost::new().on(Method::Head, url, FakeResponse::ok());
    run(&host, json!({"url": url, "method": "HEAD"})).unwrap();
    let logs = host.logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].message, "HEAD http://127.0.0.1:8080/check -> 200");
}
