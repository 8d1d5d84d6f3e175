//! Scripted WHM answers in the shapes of WHM API 1's reference pages
//! (api.docs.cpanel.net/specifications/whm.openapi/...).

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse, RecordedRequest};
use relais_plugin_sdk::{Context, StepError};
use serde_json::{Value, json};

use crate::PLUGIN;

pub const ORIGIN: &str = "https://whm.example.net:2087";
pub const TOKEN: &str = "U7HMR63FGY292DQZ4H5BFH16JLYMO01M";
pub const WANT: &str = "want=user%2Cdomain%2Cemail%2Cplan%2Cowner%2Cip%2Csuspended%2Csuspendreason%2Csuspendtime%2Cdiskused%2Cdisklimit%2Cunix_startdate";

/// The connection block most tests use.
pub fn connection() -> Value {
    json!({"url": "whm.example.net"})
}

/// A host that grants the token secret.
pub fn whm_host() -> FakeHost {
    FakeHost::new().with_secret("whm_api_token", TOKEN)
}

/// `https://whm.example.net:2087/json-api/FUNCTION?api.version=1&QUERY`.
pub fn url(function: &str, query: &str) -> String {
    if query.is_empty() {
        format!("{ORIGIN}/json-api/{function}?api.version=1")
    } else {
        format!("{ORIGIN}/json-api/{function}?api.version=1&{query}")
    }
}

/// The `listaccts` URL that looks up one user.
pub fn lookup(user: &str) -> String {
    url(
        "listaccts",
        &format!("{WANT}&search={user}&searchtype=user&searchmethod=exact"),
    )
}

/// A successful envelope.
pub fn ok(command: &str, data: Value) -> FakeResponse {
    let mut body =
        json!({"metadata": {"command": command, "result": 1, "reason": "OK", "version": 1}});
    if !data.is_null() {
        body["data"] = data;
    }
    FakeResponse::ok().json(&body)
}

/// A failed envelope: HTTP 200 with `metadata.result: 0`.
pub fn failed(command: &str, reason: &str) -> FakeResponse {
    FakeResponse::ok().json(&json!({
        "metadata": {"command": command, "result": 0, "reason": reason, "version": 1}
    }))
}

/// One `listaccts` entry.
pub fn account(user: &str, domain: &str, suspended: bool, plan: &str) -> Value {
    json!({"user": user, "domain": domain, "email": format!("{user}@{domain}"),
        "plan": plan, "owner": "root", "ip": "192.0.2.10",
        "suspended": i32::from(suspended),
        "suspendreason": if suspended { "Nonpayment" } else { "not suspended" },
        "suspendtime": if suspended { json!(1594040856) } else { Value::Null },
        "disklimit": "1000M", "diskused": "250M", "unix_startdate": 1369256589})
}

/// `listaccts` answering with `accounts`.
pub fn accounts(accounts: Vec<Value>) -> FakeResponse {
    ok("listaccts", json!({"acct": accounts}))
}

/// Runs `step` with `input`.
pub fn run(host: &FakeHost, step: &str, input: Value) -> Result<Value, StepError> {
    host.invoke(&PLUGIN, step, input, &Context::new("run-1", step))
}

/// `GET URL`.
pub fn get(url: &str) -> String {
    format!("GET {url}")
}

/// Checks the headers every WHM request carries.
pub fn assert_authenticated(request: &RecordedRequest) {
    assert_eq!(
        request.header("authorization"),
        Some(format!("whm root:{TOKEN}").as_str()),
        "{} {}",
        request.method,
        request.url
    );
}

/// A host whose `listaccts` lookup of `user` finds `entry`.
pub fn host_with(user: &str, entry: Option<Value>) -> FakeHost {
    whm_host().on(
        Method::Get,
        &lookup(user),
        accounts(entry.into_iter().collect()),
    )
}
