//! `paypal`: orders, invoices and webhook signature checks through PayPal's
//! REST API.
//!
//! ```yaml
//! - id: capture
//!   uses: paypal/capture-order
//!   with: { order: "{{ trigger.body.resource.id }}" }
//!   secrets: [paypal_client_id, paypal_client_secret]
//! ```
//!
//! Every step takes an optional `connection` (`base_url`,
//! `client_id_secret`, `client_secret_secret`); the default is the live API
//! with the secrets `paypal_client_id` and `paypal_client_secret`.
//!
//! - The client-credentials token is kept in the plugin's key-value store
//!   until two minutes before it expires; a 401 gets one new token and one
//!   more try.
//! - Every `POST` that changes something carries `PayPal-Request-Id` set
//!   from the step's idempotency key; steps whose target is already in the
//!   state asked for succeed with `changed: false`.
//! - Errors: 400/404 are `invalid-input`; 401/403 and 422 (declined
//!   instrument, order not approved, ...) are `fatal` with PayPal's issue
//!   code; 429, 5xx and connection failures are `retryable`.
//!
//! The README lists every step with its input and output.

pub mod api;
pub mod draft;
pub mod invoices;
pub mod orders;
pub mod webhooks;

relais_plugin_sdk::plugin! {
    name: "paypal",
    version: env!("CARGO_PKG_VERSION"),
    description: "PayPal orders, invoices and webhook signature checks",
    steps: {
        "verify-webhook-signature" => webhooks::verify_webhook_signature:
            "Ask PayPal whether a webhook delivery is genuine (fails when it is not)",
        "get-order" => orders::get_order:
            "Read an order, with its captures",
        "capture-order" => orders::capture_order:
            "Capture an approved order (no-op when already captured)",
        "create-invoice" => invoices::create_invoice:
            "Create a draft invoice (no-op when its invoice number exists)",
        "get-invoice" => invoices::get_invoice:
            "Read an invoice",
        "send-invoice" => invoices::send_invoice:
            "Send a draft invoice to its recipient (no-op when already sent)",
        "remind-invoice" => invoices::remind_invoice:
            "Remind the recipient of an unpaid invoice (no-op when paid or cancelled)",
        "cancel-invoice" => invoices::cancel_invoice:
            "Cancel a sent invoice (no-op when already cancelled)",
    },
}

#[cfg(test)]
mod tests;
