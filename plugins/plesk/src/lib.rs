//! `plesk`: Plesk clients and subscriptions from workflows, through the
//! REST API v2 (`https://HOST:8443/api/v2/...`, header `X-API-Key` or basic
//! auth), and the XML-RPC API (`/enterprise/control/agent.php`) for the one
//! operation REST lacks: moving a subscription to another service plan.
//!
//! ```yaml
//! - id: suspend
//!   uses: plesk/suspend-subscription
//!   with:
//!     connection: { url: plesk.example.net, api_key_secret: plesk_api_key }
//!     domain: "{{ trigger.body.domain }}"
//!   secrets: [plesk_api_key]
//! ```
//!
//! Every step takes the same `connection` block (see [`Connection`]).
//! Steps that change something read it first and report `changed: false`
//! when it is already as asked, so a workflow can be re-run safely.
//!
//! Errors: REST 400 is `invalid-input` with Plesk's message, 404 and other
//! 4xx are `fatal`, refused credentials (401/403) are `fatal`; 5xx, 429,
//! timeouts and connection errors are `retryable`. XML-RPC errors follow
//! their code and text. See `README.md` for every step.

mod client;
mod clients;
mod error;
mod server;
mod subscriptions;
mod xml;

pub use client::Connection;
pub use clients::{Client, ClientChangeOut, ClientIn, ClientKind, CreateClientIn, CreateClientOut};
pub use error::PleskError;
pub use server::{ServerIn, ServerIp, ServerOut, TestOut};
pub use subscriptions::{
    ChangePlanIn, ChangePlanOut, CreateSubscriptionIn, CreateSubscriptionOut, StatusOut,
    Subscription, SubscriptionIn,
};

relais_plugin_sdk::plugin! {
    name: "plesk",
    version: env!("CARGO_PKG_VERSION"),
    description: "Plesk clients and subscriptions: create, inspect, suspend, activate, delete, change plan",
    steps: {
        "create-client" => clients::create_client:
            "Create a client (no change when the login already exists)",
        "get-client" => clients::get_client:
            "A client by id or login, with its status",
        "suspend-client" => clients::suspend_client:
            "Suspend a client (no change when already suspended)",
        "activate-client" => clients::activate_client:
            "Activate a client (no change when already active)",
        "delete-client" => clients::delete_client:
            "Delete a client and everything it owns (no change when it does not exist)",
        "create-subscription" => subscriptions::create_subscription:
            "Create a subscription with hosting on a service plan (no change when the domain exists)",
        "get-subscription" => subscriptions::get_subscription:
            "A subscription by id or domain, with its status",
        "subscription-status" => subscriptions::subscription_status:
            "A subscription's status: active, suspended or disabled",
        "suspend-subscription" => subscriptions::suspend_subscription:
            "Suspend a subscription (no change when already suspended)",
        "activate-subscription" => subscriptions::activate_subscription:
            "Activate a subscription (no change when already active)",
        "change-plan" => subscriptions::change_plan:
            "Move a subscription to another service plan (no change when already on it)",
        "server-info" => server::server_info:
            "The server's hostname, Plesk version and IP addresses",
        "test-connection" => server::test_connection:
            "Check the address, the certificate and the credentials",
    },
}

#[cfg(test)]
mod tests;
