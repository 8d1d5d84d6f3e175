//! PayPal's three documents merged into one for the contract mock, and the
//! token endpoint no document describes.

use std::sync::atomic::{AtomicUsize, Ordering};

use relais_contract_tests::{Answer, Received, Reply, SpecFile, basic_auth, load_spec, vendor_api};
use serde_json::{Map, Value, json};

use super::{CLIENT_ID, CLIENT_SECRET, paypal_error};

/// The three documents as one: `PREFIX__NAME` components, references and
/// security requirements rewritten to match.
pub(super) fn paypal_contract() -> SpecFile {
    let mut merged = json!({
        "openapi": "3.0.3",
        "info": {"title": "PayPal Orders v2 + Invoicing v2 + Webhooks v1", "version": "merged"},
        "paths": {},
        "components": {},
    });
    for (prefix, file) in [
        ("orders", "paypal/checkout_orders_v2.json"),
        ("invoicing", "paypal/invoicing_v2.json"),
        ("webhooks", "paypal/notifications_webhooks_v1.json"),
    ] {
        let mut doc = load_spec(&vendor_api(file));
        let schemes: Vec<String> = doc["components"]["securitySchemes"]
            .as_object()
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default();
        rewrite(&mut doc, prefix, &schemes);
        for (section, items) in doc["components"].as_object().cloned().unwrap_or_default() {
            for (name, item) in items.as_object().cloned().unwrap_or_default() {
                merged["components"][&section][format!("{prefix}__{name}")] = item;
            }
        }
        for (path, item) in doc["paths"].as_object().cloned().unwrap_or_default() {
            assert!(
                merged["paths"].get(&path).is_none(),
                "{path} is in two documents"
            );
            merged["paths"][path] = item;
        }
    }
    SpecFile::write(&merged)
}

/// Rewrites `#/components/SECTION/NAME...` references to `PREFIX__NAME`, and
/// the keys of security requirements naming `schemes`.
fn rewrite(value: &mut Value, prefix: &str, schemes: &[String]) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref") {
                let parts: Vec<&str> = reference.splitn(5, '/').collect();
                if parts.len() >= 4 && parts[0] == "#" && parts[1] == "components" {
                    let mut new = format!("#/components/{}/{prefix}__{}", parts[2], parts[3]);
                    if let Some(rest) = parts.get(4) {
                        new = format!("{new}/{rest}");
                    }
                    *reference = new;
                }
            }
            if let Some(Value::Array(requirements)) = map.get_mut("security") {
                for requirement in requirements.iter_mut() {
                    if let Value::Object(requirement) = requirement {
                        let renamed: Map<String, Value> = std::mem::take(requirement)
                            .into_iter()
                            .map(|(k, v)| {
                                if schemes.contains(&k) {
                                    (format!("{prefix}__{k}"), v)
                                } else {
                                    (k, v)
                                }
                            })
                            .collect();
                        *requirement = renamed;
                    }
                }
            }
            for item in map.values_mut() {
                rewrite(item, prefix, schemes);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite(item, prefix, schemes)),
        _ => {}
    }
}

/// Tokens issued so far; a call must carry the last one.
pub(super) struct Tokens {
    pub(super) issued: AtomicUsize,
    /// Refuse calls carrying the first token (401), as after a credential
    /// rotation, so that the plugin must renew it.
    pub(super) refuse_first: bool,
}

impl Tokens {
    pub(super) fn answer(&self, request: &Received) -> Option<Answer> {
        if request.path == "/v1/oauth2/token" {
            let right = request.header("authorization")
                == Some(basic_auth(CLIENT_ID, CLIENT_SECRET).as_str())
                && request.form_pairs()
                    == [("grant_type".to_owned(), "client_credentials".to_owned())];
            if !right {
                return Some(Answer::Unchecked(Reply::json(
                    401,
                    &json!({"error": "invalid_client", "error_description": "Client Authentication failed"}),
                )));
            }
            let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
            return Some(Answer::Unchecked(Reply::json(
                200,
                &json!({"scope": "https://uri.paypal.com/services/invoicing https://uri.paypal.com/services/payments/payment",
                        "access_token": format!("A21AAtoken{n}"), "token_type": "Bearer",
                        "app_id": "APP-80W284485P519543T", "expires_in": 32400, "nonce": "2025-01-01T10:00:00Zn0nce"}),
            )));
        }
        let current = format!("Bearer A21AAtoken{}", self.issued.load(Ordering::SeqCst));
        let first =
            self.refuse_first && request.header("authorization") == Some("Bearer A21AAtoken1");
        if request.header("authorization") != Some(current.as_str()) || first {
            return Some(Answer::Unchecked(paypal_error(
                401,
                "AUTHENTICATION_FAILURE",
                "INVALID_TOKEN",
                "Authentication failed due to invalid authentication credentials or a missing Authorization header.",
            )));
        }
        None
    }
}
