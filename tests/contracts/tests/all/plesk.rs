//! Plugin `plesk` in the real host against Plesk's REST API v2 contract
//! (`../shared/vendor-apis/plesk/plesk_rest_api_v2_openapi3.json`, the
//! OpenAPI document every Plesk server serves).
//!
//! Every REST request goes through a [`CheckedMock`] to the contract mock,
//! which validates it (path, path and query parameters, JSON body,
//! credentials); a refused request fails the test. The document's
//! responses carry no whole examples, so the answers are built from its
//! own property examples ([`example_of`]) by a small panel that keeps the
//! state the steps change. XML-RPC (`change-plan`) is in no document: its
//! packets are answered from Plesk's XML API documentation, and the panel
//! refuses any packet that is not one the documentation describes.

mod failures;
mod steps;

use std::sync::{Arc, Mutex};

use relais_contract_tests::{
    Answer, CheckedMock, ContractMock, Received, Reply, SpecFile, example_of, load_spec,
    mount_at_server_path, name_operations, vendor_api,
};
use serde_json::{Value, json};

const KEY: &str = "24f8c5e5-fcb5-bdfc-aac0-7bff0e800334";
const PLAN_GUID: &str = "cc982f71-48c3-479d-bc7b-59b97547e092";
const OLD_PLAN_GUID: &str = "b9808ead-875a-c30f-d9bf-eb03ad12c89c";

/// Plesk's document as the mock serves it: mounted at `/api/v2` (its
/// `servers` URL), and every operation named (it has no `operationId`,
/// which the mock routes by).
fn plesk_spec() -> Value {
    let mut spec = load_spec(&vendor_api("plesk/plesk_rest_api_v2_openapi3.json"));
    mount_at_server_path(&mut spec);
    name_operations(&mut spec);
    spec
}

/// The contract mock, with the document it serves.
struct Contract {
    mock: ContractMock,
    spec: Value,
    _file: SpecFile,
}

fn contract() -> Contract {
    let spec = plesk_spec();
    let file = SpecFile::write(&spec);
    let mock = ContractMock::start(file.path(), None);
    Contract {
        mock,
        spec,
        _file: file,
    }
}

/// What the steps change on the panel.
struct State {
    client_status: i64,
    client_deleted: bool,
    domain_status: String,
    plan_guid: String,
}

/// A Plesk server answering with the document's examples: client 7
/// (`john-unit-test`) and domain 7 (`example.com`).
struct Panel {
    spec: Value,
    state: Mutex<State>,
}

impl Panel {
    fn new(spec: &Value) -> Arc<Self> {
        Arc::new(Self {
            spec: spec.clone(),
            state: Mutex::new(State {
                client_status: 0,
                client_deleted: false,
                domain_status: "active".into(),
                plan_guid: OLD_PLAN_GUID.into(),
            }),
        })
    }

    fn example(&self, name: &str) -> Value {
        example_of(&self.spec, name)
    }

    fn client(&self) -> Value {
        let mut client = self.example("Client");
        client["status"] = json!(self.state.lock().unwrap().client_status);
        client
    }

    fn answer(&self, request: &Received) -> Answer {
        if request.path == "/enterprise/control/agent.php" {
            return Answer::Unchecked(self.xml_rpc(request));
        }
        let ok = |body: Value| Answer::Checked(Reply::json(200, &body));
        let created = || Answer::Checked(Reply::json(201, &self.example("CreatedResponse")));
        let not_found = |what: &str| {
            Answer::Checked(Reply::json(
                404,
                &json!({"code": 404, "message": format!("{what} is not found")}),
            ))
        };
        let mut state = self.state.lock().unwrap();
        let path = request.path.trim_start_matches("/api/v2");
        match (request.method.as_str(), path) {
            ("GET", "/server") => ok(self.example("ServerMeta")),
            ("GET", "/server/ips") => ok(json!([self.example("ServerIp")])),
            ("GET", "/clients") if state.client_deleted => ok(json!([])),
            ("GET", "/clients") => {
                drop(state);
                ok(json!([self.client()]))
            }
            ("GET", "/clients/7") if !state.client_deleted => {
                drop(state);
                ok(self.client())
            }
            ("POST", "/clients") | ("POST", "/domains") => created(),
            ("PUT", "/clients/7/suspend") => {
                state.client_status = 16;
                ok(self.example("StatusResponse"))
            }
            ("PUT", "/clients/7/activate") => {
                state.client_status = 0;
                ok(self.example("StatusResponse"))
            }
            ("DELETE", "/clients/7") if !state.client_deleted => {
                state.client_deleted = true;
                ok(self.example("CreatedResponse"))
            }
            ("GET" | "PUT" | "DELETE", p) if p.starts_with("/clients/") => not_found("Client"),
            ("GET", "/domains") => match request.query_param("name").as_deref() {
                Some("example.com") => ok(json!([self.example("DomainResponse")])),
                _ => ok(json!([])),
            },
            ("GET", "/domains/7") => ok(self.example("DomainResponse")),
            ("GET", "/domains/7/status") => ok(json!({"status": state.domain_status})),
            ("PUT", "/domains/7/status") => {
                let status = request.json()["status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                state.domain_status = status.clone();
                ok(json!({"status": status}))
            }
            ("GET" | "PUT" | "DELETE", p) if p.starts_with("/domains/") => not_found("Domain"),
            _ => Answer::Contract,
        }
    }

    /// XML-RPC, written from docs.plesk.com's XML API reference:
    /// "Packet structure" and "A sample packet" (`<packet>` holding one
    /// operator, `KEY` header, `Content-Type: text/xml`), "Managing Service
    /// Plans: get" (`<service-plan><get><filter><name>`, result with
    /// `<guid>`), "Subscription Statuses and Associated Plans" (`webspace
    /// get` with `<dataset><subscriptions/></dataset>` lists `<plan-guid>`s)
    /// and "Switching a Subscription to a Different Service Plan"
    /// (`<switch-subscription><filter>...</filter><plan-guid>`). Errors use
    /// `<status>error</status>`, `<errcode>` and `<errtext>`; 1013 is
    /// "object does not exist", and a packet-level failure sits in
    /// `<system>`.
    fn xml_rpc(&self, request: &Received) -> Reply {
        let packet = |inner: &str| {
            Reply::text(
                200,
                "text/xml",
                &format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><packet version=\"1.6.9.1\">{inner}</packet>"
                ),
            )
        };
        let system = |code: u32, text: &str| {
            packet(&format!(
                "<system><status>error</status><errcode>{code}</errcode><errtext>{text}</errtext></system>"
            ))
        };
        if request.method != "POST"
            || !request
                .header("content-type")
                .is_some_and(|c| c.starts_with("text/xml"))
        {
            return system(1014, "Parser error: request is not a text/xml POST");
        }
        if request.header("key") != Some(KEY) {
            return system(1001, "Authentication failed - wrong secret key.");
        }
        let body = request.text();
        let Some(inner) = body
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?><packet>")
            .and_then(|b| b.strip_suffix("</packet>"))
        else {
            return system(1014, "Parser error: not a packet");
        };
        let mut state = self.state.lock().unwrap();
        let result = |operator: &str, operation: &str, body: &str| {
            packet(&format!(
                "<{operator}><{operation}><result>{body}</result></{operation}></{operator}>"
            ))
        };
        let by_name = |name: &str| format!("<filter><name>{name}</name></filter>");
        if inner
            == format!(
                "<service-plan><get>{}</get></service-plan>",
                by_name("Unlimited")
            )
        {
            result(
                "service-plan",
                "get",
                &format!(
                    "<status>ok</status><id>2</id><guid>{PLAN_GUID}</guid><name>Unlimited</name>"
                ),
            )
        } else if inner.starts_with("<service-plan><get><filter><name>") {
            result(
                "service-plan",
                "get",
                "<status>error</status><errcode>1013</errcode><errtext>Service plan does not exist</errtext>",
            )
        } else if inner
            == format!(
                "<webspace><get>{}<dataset><subscriptions/></dataset></get></webspace>",
                by_name("example.com")
            )
        {
            result(
                "webspace",
                "get",
                &format!(
                    "<status>ok</status><filter-id>example.com</filter-id><id>7</id><data><subscriptions>\
                 <subscription><locked>false</locked><synchronized>true</synchronized><plan>\
                 <plan-guid>{}</plan-guid></plan></subscription></subscriptions></data>",
                    state.plan_guid
                ),
            )
        } else if inner
            == format!(
                "<webspace><switch-subscription>{}<plan-guid>{PLAN_GUID}</plan-guid></switch-subscription></webspace>",
                by_name("example.com")
            )
        {
            state.plan_guid = PLAN_GUID.into();
            result(
                "webspace",
                "switch-subscription",
                "<status>ok</status><filter-id>example.com</filter-id><id>7</id>",
            )
        } else {
            system(1014, "Parser error: request is invalid")
        }
    }
}

/// A checked mock in front of `contract`, answering as `panel`.
async fn serve(contract: &Contract, panel: &Arc<Panel>) -> CheckedMock {
    let panel = panel.clone();
    CheckedMock::start(Some(&contract.mock), move |request: &Received| {
        panel.answer(request)
    })
    .await
}

fn connection(mock: &CheckedMock) -> Value {
    json!({"url": mock.base_url(), "api_key_secret": "plesk_api_key"})
}
