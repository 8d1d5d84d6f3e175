//! The three HTTP vendors' contract mocks, each behind a recording proxy.

use std::sync::Arc;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use relais_contract_tests::{free_port, shared, vendor_api};
use serde_json::Value;

use super::proxy::{After, Proxy, Request, Transform};
use super::smtp::{Scratch, yaml_to_json};

/// `contract-mock/run.sh` with `QUICK=1`: SendGrid's and Mailgun's
/// documents are OpenAPI 3.1, which the mock's up-front check of the
/// document refuses (`info.summary`, `$ref` beside siblings); `QUICK=1`
/// skips that check and compiles each schema on first use. Requests are
/// validated the same way (a SendGrid body without `from` still gets 422).
pub struct ContractMock {
    pub port: u16,
    child: Child,
}

impl ContractMock {
    pub fn start(spec: &Path, _fixtures: Option<&Path>) -> Self {
        let port = free_port();
        let mut child = Command::new("bash")
            .arg(shared().join("tools/contract-mock/run.sh"))
            .arg(spec)
            .arg(port.to_string())
            .env("QUICK", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .stdin(Stdio::null())
            .spawn()
            .expect("start the contract mock (needs node and npm)");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(120)).is_err() {
            let _ = child.kill();
            panic!("the contract mock for {} did not start", spec.display());
        }
        Self { port, child }
    }
}

impl Drop for ContractMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn postmark(
    script: impl Fn(&Request) -> After + Send + Sync + 'static,
) -> (ContractMock, Proxy) {
    let mock = ContractMock::start(
        &vendor_api("postmark/postmark_server_api.openapi3.json"),
        None,
    );
    let proxy = Proxy::start(mock.port, None, script).await;
    (mock, proxy)
}

pub async fn sendgrid(
    script: impl Fn(&Request) -> After + Send + Sync + 'static,
) -> (ContractMock, Proxy) {
    let mock = ContractMock::start(&vendor_api("sendgrid/tsg_mail_v3.json"), None);
    let proxy = Proxy::start(mock.port, None, script).await;
    (mock, proxy)
}

/// Mailgun's document declares its send operation as `multipart/form-data`
/// only, with `to`, `cc`, `bcc` and `o:tag` as arrays. The contract mock
/// cannot read multipart bodies (it would refuse every one: "must have
/// required property requestBody"), and the README notes Prism refuses
/// even a repeated `to`. Work-around: the plugin sends real multipart; the
/// proxy parses it strictly (boundary, part headers, closing delimiter) and
/// hands the mock the same fields as a JSON object — a field the document
/// declares as an array becomes an array (one or repeated parts), any other
/// repeated field stays repeated, so the mock refuses it — and the mock
/// validates that object against the multipart schema.
pub async fn mailgun(
    script: impl Fn(&Request) -> After + Send + Sync + 'static,
) -> (ContractMock, Proxy, Scratch) {
    let dir = Scratch::new("mailgun-spec");
    let json_spec = dir.0.join("mailgun.json");
    yaml_to_json(&vendor_api("mailgun/mailgun_openapi.yaml"), &json_spec);
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(&json_spec).unwrap()).unwrap();
    let schema = &spec["components"]["schemas"]["POST-v3-domain_name-messages-multipart-form-data-RequestBody"];
    let arrays: Vec<String> = schema["properties"]
        .as_object()
        .expect("the send schema")
        .iter()
        .filter(|(_, p)| p["type"] == "array")
        .map(|(n, _)| n.clone())
        .collect();
    assert!(arrays.contains(&"to".to_string()), "{arrays:?}");
    let transform: Arc<Transform> = Arc::new(move |r: &Request| {
        let ct = r.header("content-type").unwrap_or_default();
        if !ct.starts_with("multipart/form-data") {
            return Err(format!(
                "content-type {ct:?} is not the multipart/form-data the document declares"
            ));
        }
        let mut object = serde_json::Map::new();
        for (name, value) in multipart_fields(ct, &r.body)? {
            let value = Value::String(value);
            match object.get_mut(&name) {
                Some(Value::Array(items)) => items.push(value),
                Some(single) => *single = Value::Array(vec![single.clone(), value]),
                None if arrays.contains(&name) => {
                    object.insert(name, Value::Array(vec![value]));
                }
                None => {
                    object.insert(name, value);
                }
            }
        }
        Ok((
            "application/json".into(),
            Value::Object(object).to_string().into_bytes(),
        ))
    });
    let mock = ContractMock::start(&json_spec, None);
    let proxy = Proxy::start(mock.port, Some(transform), script).await;
    (mock, proxy, dir)
}

/// The fields of a `multipart/form-data` body (RFC 7578), strictly.
pub fn multipart_fields(content_type: &str, body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .ok_or("no boundary")?
        .trim_matches('"');
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let end = format!("--{boundary}--\r\n");
    let inner = text.strip_suffix(&end).ok_or("no closing delimiter")?;
    let mut fields = Vec::new();
    for part in inner.split(&format!("--{boundary}\r\n")).skip(1) {
        let (head, value) = part
            .split_once("\r\n\r\n")
            .ok_or("a part without headers")?;
        let disposition = head
            .split("\r\n")
            .find(|l| {
                l.to_ascii_lowercase()
                    .starts_with("content-disposition: form-data;")
            })
            .ok_or("a part without content-disposition: form-data")?;
        let name = disposition
            .split("name=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .ok_or("a part without a name")?;
        fields.push((
            name.to_owned(),
            value
                .strip_suffix("\r\n")
                .ok_or("a part not ended by CRLF")?
                .to_owned(),
        ));
    }
    Ok(fields)
}
