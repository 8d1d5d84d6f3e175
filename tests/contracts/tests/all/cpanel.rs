//! Plugin `cpanel` in the real host against WHM API 1's contract
//! (`../shared/vendor-apis/cpanel/`: an OpenAPI subset written from
//! cPanel's reference pages, and `WHM_API1_CONTRACT.md`).
//!
//! Every request goes through a [`CheckedMock`] to the contract mock, which
//! validates it (path, `api.version=1`, every parameter's name and type,
//! credentials); a refused request fails the test. Scenarios the document
//! cannot script (an account already suspended, `metadata.result: 0`, a
//! refused token) are answered by the test, in the shapes of cPanel's
//! documentation, while the contract still checks the request.

mod scenarios;
mod steps;

use relais_contract_tests::{
    CheckedMock, SpecFile, invoke, load_spec, mount_at_server_path, name_operations, vendor_api,
};
use relais_runtime::{InvokeError, Plugin, StepError};
use serde_json::{Value, json};

const TOKEN: &str = "U7HMR63FGY292DQZ4H5BFH16JLYMO01M";

/// The WHM document, prepared for the mock.
fn whm_contract() -> SpecFile {
    SpecFile::write(&whm_spec())
}

/// The example named `name` of `function`'s answer in the WHM document.
fn whm_example(function: &str, name: &str) -> Value {
    whm_spec()["paths"][format!("/json-api/{function}")]["get"]["responses"]["200"]["content"]
        ["application/json"]["examples"][name]["value"]
        .clone()
}

/// The WHM document as the mock serves it.
fn whm_spec() -> Value {
    let mut spec = load_spec(&vendor_api("cpanel/whm_api1_subset.openapi.yaml"));
    // The subset writes `description: 1 success, 0 failure (see reason).`
    // inside a YAML flow mapping, where the comma starts a second key; the
    // mock validates the document itself and refuses that stray key.
    let result = &mut spec["components"]["schemas"]["Metadata"]["properties"]["result"];
    if let Some(result) = result.as_object_mut() {
        result.retain(|key, _| ["type", "enum", "description"].contains(&key.as_str()));
        result.insert(
            "description".into(),
            json!("1 success, 0 failure (see reason)."),
        );
    }
    add_documented_functions(&mut spec);
    add_form_posts(&mut spec);
    mount_at_server_path(&mut spec);
    name_operations(&mut spec);
    spec
}

/// The two WHM API 1 functions the plugin calls that the subset lacks,
/// written from their reference pages:
/// api.docs.cpanel.net/specifications/whm.openapi/passwords/passwd
/// (`passwd`: `user` and `password` required; `db_pass_update`,
/// `digestauth`, `enabledigest` 0/1; `data.app` lists the services) and
/// api.docs.cpanel.net/specifications/whm.openapi/server-information/version
/// (`version`: no parameter; `data.version`).
fn add_documented_functions(spec: &mut Value) {
    let flag = json!({"type": "integer", "enum": [0, 1]});
    let envelope = |command: &str, reason: &str, data: Value| {
        json!({"200": {"description": "HTTP 200 for success and failure alike.",
            "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Envelope"},
                "example": {"metadata": {"command": command, "result": 1, "reason": reason,
                    "version": 1}, "data": data}}}}})
    };
    spec["paths"]["/passwd"] = json!({"get": {"operationId": "passwd",
        "parameters": [
            {"$ref": "#/components/parameters/ApiVersion"},
            {"name": "user", "in": "query", "required": true, "schema": {"type": "string"}},
            {"name": "password", "in": "query", "required": true, "schema": {"type": "string"}},
            {"name": "db_pass_update", "in": "query", "schema": flag},
            {"name": "digestauth", "in": "query", "schema": flag},
            {"name": "enabledigest", "in": "query", "schema": flag}],
        "responses": envelope("passwd", "Password changed for user “username”.",
            json!({"app": ["system", "ftp", "mail", "mysql"]}))}});
    spec["paths"]["/version"] = json!({"get": {"operationId": "version",
        "parameters": [{"$ref": "#/components/parameters/ApiVersion"}],
        "responses": envelope("version", "OK", json!({"version": "11.138.0.6"}))}});
}

/// WHM takes every function as a POSTed form as well as a query string
/// (the subset's own description says so, and `WHM_API1_CONTRACT.md` asks
/// mocks to accept both): each GET gets a POST twin whose form body has
/// the same parameters, with `api.version` still in the query.
fn add_form_posts(spec: &mut Value) {
    let shared = spec["components"]["parameters"].clone();
    let Some(paths) = spec["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(get) = item.get("get").cloned() else {
            continue;
        };
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        let mut query = Vec::new();
        for param in get["parameters"].as_array().into_iter().flatten() {
            let resolved = match param["$ref"].as_str() {
                Some(r) => shared[r.rsplit('/').next().unwrap_or_default()].clone(),
                None => param.clone(),
            };
            let name = resolved["name"].as_str().unwrap_or_default().to_owned();
            if name == "api.version" {
                query.push(param.clone());
                continue;
            }
            if resolved["required"] == true {
                required.push(json!(name));
            }
            properties.insert(name, resolved["schema"].clone());
        }
        let mut post = get.clone();
        post["operationId"] = json!(format!(
            "{}_form",
            get["operationId"].as_str().unwrap_or("op")
        ));
        post["parameters"] = json!(query);
        post["requestBody"] = json!({"required": true, "content": {
            "application/x-www-form-urlencoded": {"schema": {"type": "object",
                "properties": properties, "required": required, "additionalProperties": false}}}});
        item["post"] = post;
    }
}

fn connection(mock: &CheckedMock) -> Value {
    json!({"url": mock.base_url(), "username": "root", "token_secret": "whm_api_token"})
}

async fn run(plugin: &Plugin, step: &str, input: Value) -> Result<Value, InvokeError> {
    let outcome = invoke(plugin, step, input, &[("whm_api_token", TOKEN)]).await;
    outcome.result
}

async fn ok(plugin: &Plugin, step: &str, input: Value) -> Value {
    run(plugin, step, input)
        .await
        .unwrap_or_else(|e| panic!("{step} failed: {e}"))
}

fn step_error(result: Result<Value, InvokeError>) -> StepError {
    match result {
        Err(InvokeError::Step(err)) => err,
        other => panic!("expected a step error, got {other:?}"),
    }
}

/// Every request carried the token the way WHM wants it.
fn assert_whm_auth(mock: &CheckedMock) {
    for exchange in mock.exchanges() {
        assert_eq!(
            exchange.request.header("authorization"),
            Some(format!("whm root:{TOKEN}").as_str()),
            "{}",
            exchange.request.path
        );
    }
}
