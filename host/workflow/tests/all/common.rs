//! A catalog of plugins shaped like the ones Relais ships.

use relais_workflow::catalog::Catalog;
use serde_json::json;

pub fn catalog() -> Catalog {
    let text = json!({
        "type": "object",
        "properties": { "to": { "type": "string" }, "template": { "type": "string" }, "data": { "type": "object" } },
        "required": ["to"],
        "additionalProperties": false
    });
    Catalog::new()
        .with_step("email", "send", text)
        .and_then(|c| c.with_step("stripe", "get-customer", json!({
            "type": "object",
            "properties": { "customer": { "type": "string", "pattern": "^cus_" } },
            "required": ["customer"],
            "additionalProperties": false
        })))
        .and_then(|c| c.with_step("twilio", "send-sms", json!({
            "type": "object",
            "properties": { "to": { "type": "string" }, "body": { "type": "string", "maxLength": 160 } },
            "required": ["to", "body"]
        })))
        .and_then(|c| c.with_step("cpanel", "suspend-account", json!({
            "type": "object",
            "properties": { "user": { "type": "string" }, "reason": { "type": "string" } },
            "required": ["user"]
        })))
        .and_then(|c| c.with_step("cpanel", "unsuspend-account", json!({
            "type": "object",
            "properties": { "user": { "type": "string" } },
            "required": ["user"]
        })))
        .and_then(|c| c.with_step("http", "request", json!({
            "type": "object",
            "properties": {
                "url": { "type": "string" },
                "method": { "enum": ["GET", "POST", "PUT", "DELETE"] },
                "timeout_ms": { "type": "integer", "minimum": 1 }
            },
            "required": ["url"]
        })))
        .and_then(|c| c.with_step("slack", "post", json!({
            "type": "object",
            "properties": { "channel": { "type": "string" }, "text": { "type": "string" } },
            "required": ["text"]
        })))
        .and_then(|c| c.with_step("monitor", "check-ssl", json!({
            "type": "object",
            "properties": { "host": { "type": "string" } },
            "required": ["host"]
        })))
        .expect("test schemas compile")
}
