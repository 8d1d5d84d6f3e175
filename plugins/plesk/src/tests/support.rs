//! Scripted Plesk answers in the shapes of the REST API v2 document
//! (`Client`, `DomainResponse`, `ErrorResponse`, ...) and of the XML API's
//! packets (docs.plesk.com, XML API reference).

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::testing::{FakeHost, FakeResponse, RecordedRequest};
use relais_plugin_sdk::{Context, StepError};
use serde_json::{Value, json};

use crate::PLUGIN;

pub const ORIGIN: &str = "https://plesk.example.net:8443";
pub const KEY: &str = "24f8c5e5-fcb5-bdfc-aac0-7bff0e800334";
pub const AGENT: &str = "https://plesk.example.net:8443/enterprise/control/agent.php";

pub fn connection() -> Value {
    json!({"url": "plesk.example.net"})
}

pub fn plesk_host() -> FakeHost {
    FakeHost::new().with_secret("plesk_api_key", KEY)
}

/// `https://plesk.example.net:8443/api/v2{path}`.
pub fn api(path: &str) -> String {
    format!("{ORIGIN}/api/v2{path}")
}

pub fn client(id: u64, login: &str, status: i64) -> Value {
    json!({"id": id, "created": "2016-11-13", "name": "John Smith", "company": "Plesk",
        "login": login, "status": status, "email": "john_smith@msn.com", "locale": "en-US",
        "guid": "18b78dd1-2b43-44f7-9599-56ccb56a85dc", "owner_login": "admin",
        "external_id": "link:12345", "description": "Nice guy", "type": "customer"})
}

pub fn domain(id: u64, name: &str) -> Value {
    json!({"id": id, "name": name, "ascii_name": name, "hosting_type": "virtual",
        "base_domain_id": 0, "www_root": format!("/var/www/vhosts/{name}/httpdocs"),
        "guid": "b623e93d-dc72-4102-b5f0-ded427cf0fb1", "created": "2016-11-13",
        "aliases": [{"name": format!("alias-{name}"), "ascii_name": format!("alias-{name}"),
            "web": true, "dns": true, "mail": false, "seo_redirect": true}]})
}

pub fn json_ok(body: Value) -> FakeResponse {
    FakeResponse::ok().json(&body)
}

/// The document's `ErrorResponse`.
pub fn error(status: u16, message: &str) -> FakeResponse {
    FakeResponse::status(status).json(&json!({"code": status, "message": message}))
}

/// An XML-RPC answer.
pub fn packet(inner: &str) -> FakeResponse {
    FakeResponse::ok()
        .header("content-type", "text/xml")
        .body(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><packet version=\"1.6.9.1\">{inner}</packet>"
        ))
}

pub fn run(host: &FakeHost, step: &str, input: Value) -> Result<Value, StepError> {
    host.invoke(&PLUGIN, step, input, &Context::new("run-1", step))
}

pub fn assert_key(request: &RecordedRequest) {
    let header = if request.url.ends_with("agent.php") {
        "key"
    } else {
        "x-api-key"
    };
    assert_eq!(
        request.header(header),
        Some(KEY),
        "{} {}",
        request.method,
        request.url
    );
}

/// A host where client 7 (`john`) has `status`.
pub fn with_client(status: i64) -> FakeHost {
    plesk_host()
        .on(
            Method::Get,
            &api("/clients/7"),
            json_ok(client(7, "john", status)),
        )
        .on(
            Method::Get,
            &api("/clients"),
            json_ok(json!([client(7, "john", status), client(9, "ann", 0)])),
        )
}

/// A host where domain 5 (`shop.example`) has `status`.
pub fn with_domain(status: &str) -> FakeHost {
    plesk_host()
        .on(
            Method::Get,
            &api("/domains?name=shop.example"),
            json_ok(json!([domain(5, "shop.example")])),
        )
        .on(
            Method::Get,
            &api("/domains/5"),
            json_ok(domain(5, "shop.example")),
        )
        .on(
            Method::Get,
            &api("/domains/5/status"),
            json_ok(json!({"status": status})),
        )
}
