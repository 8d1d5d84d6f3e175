//! Plugin `slack` in the real host: `chat.postMessage` against Slack's Web
//! API document (`../shared/vendor-apis/slack/slack_web_openapi_v2.json`),
//! incoming webhooks against a hand mock (no Slack document covers them).
//!
//! Slack publishes a Swagger 2.0 document, which the contract mock cannot
//! read: it is converted to OpenAPI 3 at test time (nothing converted is
//! committed), keeping every operation, parameter and schema. One known
//! false result of that document is worked around in the conversion: it
//! models the token as a required `token` header, while Slack's Web API
//! takes it as `Authorization: Bearer xoxb-...` (api.slack.com/web,
//! "Authentication"); the converted document declares a bearer security
//! scheme instead, so the mock refuses (401) a call without the bearer
//! token, and a call with only a `token` header.

use relais_contract_tests::{
    Answer, CheckedMock, ContractMock, Received, Reply, SpecFile, invoke, load_spec, plugin,
    step_error, vendor_api,
};
use relais_runtime::{InvokeError, Plugin, StepError};
use serde_json::{Map, Value, json};

const BOT_TOKEN: &str = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy";

/// Slack's Swagger 2.0 document as OpenAPI 3.
fn slack_contract() -> SpecFile {
    let swagger = load_spec(&vendor_api("slack/slack_web_openapi_v2.json"));
    SpecFile::write(&openapi3(&swagger))
}

/// Converts a Swagger 2.0 document: `definitions` become
/// `components.schemas`, `formData` parameters a form (and JSON) request
/// body, `body` parameters a JSON body, response schemas and examples
/// `content`; the `token` header becomes the bearer scheme `slackAuth`.
fn openapi3(swagger: &Value) -> Value {
    let mut paths = Map::new();
    for (path, item) in swagger["paths"].as_object().into_iter().flatten() {
        let mut new_item = Map::new();
        for (method, op) in item.as_object().into_iter().flatten() {
            let consumes: Vec<String> = op["consumes"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_else(|| vec!["application/x-www-form-urlencoded".to_owned()]);
            let mut parameters = Vec::new();
            let mut form = Map::new();
            let mut required = Vec::new();
            let mut body = None;
            let mut bearer = false;
            for param in op["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap_or_default();
                match param["in"].as_str().unwrap_or_default() {
                    "header" if name == "token" => bearer = true,
                    "formData" => {
                        form.insert(name.to_owned(), schema_of(param));
                        if param["required"] == true {
                            required.push(json!(name));
                        }
                    }
                    "body" => body = Some(param["schema"].clone()),
                    place => parameters.push(json!({
                        "name": name, "in": place, "required": param["required"] == true,
                        "description": param["description"], "schema": schema_of(param),
                    })),
                }
            }
            let mut new_op = json!({
                "operationId": op["operationId"], "description": op["description"],
                "parameters": parameters, "responses": responses(&op["responses"]),
            });
            if !form.is_empty() {
                let schema = json!({"type": "object", "properties": form, "required": required});
                let content: Map<String, Value> = consumes
                    .iter()
                    .filter(|c| c.contains("form") || c.contains("json"))
                    .map(|c| (c.clone(), json!({"schema": schema})))
                    .collect();
                new_op["requestBody"] = json!({"content": content});
            } else if let Some(schema) = body {
                new_op["requestBody"] =
                    json!({"content": {"application/json": {"schema": schema}}});
            }
            if bearer {
                new_op["security"] = json!([{"slackAuth": []}]);
            }
            new_item.insert(method.clone(), new_op);
        }
        paths.insert(path.clone(), Value::Object(new_item));
    }
    let mut spec = json!({
        "openapi": "3.0.3",
        "info": swagger["info"],
        "paths": paths,
        "components": {
            "schemas": swagger["definitions"],
            "securitySchemes": {"slackAuth": {"type": "http", "scheme": "bearer"}},
        },
    });
    rewrite_refs(&mut spec);
    spec
}

/// A Swagger 2.0 parameter's type as an OpenAPI 3 schema.
fn schema_of(param: &Value) -> Value {
    let mut schema = Map::new();
    for key in [
        "type", "format", "items", "enum", "default", "minimum", "maximum",
    ] {
        if !param[key].is_null() {
            schema.insert(key.to_owned(), param[key].clone());
        }
    }
    Value::Object(schema)
}

fn responses(responses: &Value) -> Value {
    let mut out = Map::new();
    for (code, response) in responses.as_object().into_iter().flatten() {
        let mut new = json!({"description": response["description"].as_str().unwrap_or("")});
        if !response["schema"].is_null() {
            let mut media = json!({"schema": response["schema"]});
            if let Some(example) = response["examples"].get("application/json") {
                media["example"] = example.clone();
            }
            new["content"] = json!({"application/json": media});
        }
        out.insert(code.clone(), new);
    }
    Value::Object(out)
}

fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref") {
                *reference = reference.replace("#/definitions/", "#/components/schemas/");
            }
            map.values_mut().for_each(rewrite_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

struct Api {
    mock: CheckedMock,
    plugin: Plugin,
    _contract: ContractMock,
    _spec: SpecFile,
}

impl Api {
    async fn start(script: impl Fn(&Received) -> Answer + Send + Sync + 'static) -> Self {
        let spec = slack_contract();
        let contract = ContractMock::start_quick(spec.path(), None);
        let mock = CheckedMock::start(Some(&contract), script).await;
        let plugin = plugin("slack", &[mock.origin()]).await;
        Self {
            mock,
            plugin,
            _contract: contract,
            _spec: spec,
        }
    }

    async fn post(&self, mut input: Value) -> Result<Value, InvokeError> {
        input["connection"] = json!({"base_url": self.mock.base_url()});
        invoke(
            &self.plugin,
            "post-message",
            input,
            &[("slack_bot_token", BOT_TOKEN)],
        )
        .await
        .result
    }
}

#[tokio::test]
async fn chat_post_message_sends_what_slack_documents() {
    let api = Api::start(|_: &Received| Answer::Contract).await;
    let out = api
        .post(json!({
            "channel": "C1H9RESGL", "text": "Payment failed for *acme.example*",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Payment failed*"}}],
            "thread_ts": "1503435956.000100", "reply_broadcast": true, "unfurl_links": false,
            "unfurl_media": false, "mrkdwn": true, "username": "Relais", "icon_emoji": ":rotating_light:",
        }))
        .await
        .unwrap_or_else(|err| panic!("post-message: {err}"));
    // The document's example answer.
    assert_eq!(
        out,
        json!({"changed": true, "channel": "C1H9RESGL", "ts": "1503435956.000247"})
    );
    api.mock.assert_contract_kept();
    let request = &api.mock.exchanges()[0].request;
    assert_eq!(request.path, "/chat.postMessage");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {BOT_TOKEN}").as_str())
    );
    let blocks = request
        .form_pairs()
        .into_iter()
        .find(|(k, _)| k == "blocks")
        .map(|(_, v)| v);
    assert_eq!(
        blocks.map(|b| serde_json::from_str::<Value>(&b).unwrap_or_default()),
        Some(json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*Payment failed*"}}]))
    );
}

#[tokio::test]
async fn chat_errors_map_as_slack_documents_them() {
    // `ok: false` answers with HTTP 200 (api.slack.com/web, "Evaluating
    // responses"; the strings are in the document's error enum), and HTTP
    // 429 with Retry-After (api.slack.com/apis/rate-limits).
    let api = Api::start(|request: &Received| {
        let form = request.form_pairs();
        let channel = form
            .iter()
            .find(|(k, _)| k == "channel")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        match channel {
            "C0GONE" => Answer::Checked(Reply::json(
                200,
                &json!({"ok": false, "error": "channel_not_found"}),
            )),
            "C0ARCHIVED" => Answer::Checked(Reply::json(
                200,
                &json!({"ok": false, "error": "is_archived"}),
            )),
            "C0BUSY" => Answer::Checked(
                Reply::json(429, &json!({"ok": false, "error": "ratelimited"}))
                    .header("retry-after", "30"),
            ),
            _ => Answer::Contract,
        }
    })
    .await;
    let err = step_error(api.post(json!({"channel": "C0GONE", "text": "hi"})).await);
    assert_eq!(
        err,
        StepError::Fatal {
            message: "chat.postMessage: slack refused the message: channel_not_found \
                      (the channel does not exist, or the app cannot see it)"
                .into()
        }
    );
    let err = step_error(
        api.post(json!({"channel": "C0ARCHIVED", "text": "hi"}))
            .await,
    );
    assert!(
        matches!(&err, StepError::Fatal { message } if message.contains("is_archived")),
        "{err:?}"
    );
    let err = step_error(api.post(json!({"channel": "C0BUSY", "text": "hi"})).await);
    assert!(
        matches!(
            err,
            StepError::Retryable {
                retry_after_ms: Some(30_000),
                ..
            }
        ),
        "{err:?}"
    );
    api.mock.assert_contract_kept();
}

#[tokio::test]
async fn the_converted_contract_still_refuses_bad_calls() {
    let api = Api::start(|_: &Received| Answer::Contract).await;
    let form = "application/x-www-form-urlencoded";
    let bearer = format!("Bearer {BOT_TOKEN}");
    for (headers, body) in [
        (vec![("content-type", form)], "channel=C1&text=hi"),
        (
            vec![("content-type", form), ("token", BOT_TOKEN)],
            "channel=C1&text=hi",
        ),
        (
            vec![("content-type", form), ("authorization", bearer.as_str())],
            "text=no+channel",
        ),
    ] {
        let (status, answer) = relais_contract_tests::send_raw(
            api.mock.port,
            "POST",
            "/chat.postMessage",
            &headers,
            body.as_bytes(),
        )
        .await
        .expect("the mock answers");
        assert!(
            matches!(status, 401 | 422),
            "{status}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
}

/// A hand mock of an incoming webhook, answering as Slack documents it
/// (api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks,
/// and api.slack.com/messaging/webhooks "Handling errors"): HTTP 200 with
/// the body `ok`; errors as plain strings with 400 `invalid_payload`, 403
/// `action_prohibited`, 404 `channel_not_found`, 410 `channel_is_archived`,
/// 500 `rollup_error`; 429 with `Retry-After` when rate limited
/// (api.slack.com/apis/rate-limits).
fn webhook_answer(request: &Received) -> Answer {
    let text = |status: u16, body: &str| Answer::Unchecked(Reply::text(status, "text/plain", body));
    let payload = request.json();
    if request.method != "POST" || request.header("content-type") != Some("application/json") {
        return text(400, "invalid_payload");
    }
    match payload["text"].as_str().unwrap_or_default() {
        "archived" => text(410, "channel_is_archived"),
        "gone" => text(404, "channel_not_found"),
        "admin" => text(403, "action_prohibited"),
        "busy" => Answer::Unchecked(
            Reply::text(429, "text/plain", "rate_limited").header("retry-after", "7"),
        ),
        "boom" => text(500, "rollup_error"),
        _ if payload.get("text").is_none() && payload.get("blocks").is_none() => {
            text(400, "invalid_payload")
        }
        _ => text(200, "ok"),
    }
}

#[tokio::test]
async fn incoming_webhooks_post_json_and_map_errors() {
    let mock = CheckedMock::start(None, webhook_answer).await;
    let plugin = plugin("slack", &[mock.origin()]).await;
    let url = format!(
        "{}/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        mock.base_url()
    );
    let secrets = [("slack_webhook_url", url.as_str())];
    let post = |input: Value| {
        let plugin = &plugin;
        async move { invoke(plugin, "post-webhook", input, &secrets).await.result }
    };

    let blocks =
        json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*Suspended* `acme`"}}]);
    let out =
        post(json!({"text": "Suspended acme", "blocks": blocks, "unfurl_links": false})).await;
    assert_eq!(out.ok(), Some(json!({"changed": true})));
    let sent = mock.exchanges()[0].request.clone();
    assert_eq!(
        sent.path,
        "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
    );
    assert_eq!(
        sent.json(),
        json!({"text": "Suspended acme", "blocks": blocks, "unfurl_links": false})
    );

    for (text, fatal, error) in [
        ("archived", true, "channel_is_archived"),
        ("gone", true, "channel_not_found"),
        ("admin", true, "action_prohibited"),
        ("boom", false, "rollup_error"),
        ("busy", false, "rate_limited"),
    ] {
        let err = step_error(post(json!({"text": text})).await);
        let message = match &err {
            StepError::Fatal { message } if fatal => message,
            StepError::Retryable { message, .. } if !fatal => message,
            other => panic!("{text}: {other:?}"),
        };
        assert!(message.contains(error), "{message}");
        assert!(
            message.starts_with("incoming webhook (secret slack_webhook_url): "),
            "{message}"
        );
        assert!(
            !message.contains("XXXXXXXX"),
            "the webhook URL is a secret: {message}"
        );
        if text == "busy" {
            assert!(matches!(
                err,
                StepError::Retryable {
                    retry_after_ms: Some(7000),
                    ..
                }
            ));
        }
    }
    assert_eq!(mock.exchanges().len(), 6);
}
