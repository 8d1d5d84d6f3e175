//! `stripe`: customers, invoices, payment intents, refunds, subscriptions
//! and events, through Stripe's API (version [`api::API_VERSION`]).
//!
//! ```yaml
//! - id: retry-charge
//!   uses: stripe/pay-invoice
//!   with: { invoice: "{{ trigger.body.data.object.id }}" }
//!   secrets: [stripe_api_key]
//! ```
//!
//! Every step takes an optional `connection` (`base_url`, `api_key_secret`,
//! `account`); the default is the live API with the secret `stripe_api_key`.
//!
//! - Every `POST` carries `Idempotency-Key` set from the step's idempotency
//!   key, so a retried step never acts twice.
//! - Steps that change something say whether they did (`changed`): paying a
//!   paid invoice, voiding a void one or cancelling an ended subscription
//!   succeeds without a call that changes anything.
//! - Errors: a declined card is `fatal` with the decline code; rate limits,
//!   connection failures and answers Stripe marks `Stripe-Should-Retry: true`
//!   are `retryable` (honouring `Retry-After`); invalid requests (400, 404)
//!   are `invalid-input`; a refused key is `fatal`.
//!
//! The README lists every step with its input and output.

pub mod api;
pub mod customers;
pub mod invoices;
pub mod objects;
pub mod payments;
pub mod subscriptions;

relais_plugin_sdk::plugin! {
    name: "stripe",
    version: env!("CARGO_PKG_VERSION"),
    description: "Stripe customers, invoices, payment intents, refunds, subscriptions and events",
    steps: {
        "get-customer" => customers::get_customer:
            "Read a customer, with its metadata",
        "find-customers" => customers::find_customers:
            "Find customers by email and/or metadata",
        "list-invoices" => invoices::list_invoices:
            "List a customer's open, past-due (or other) invoices, with the amount left to pay",
        "get-invoice" => invoices::get_invoice:
            "Read an invoice",
        "finalize-invoice" => invoices::finalize_invoice:
            "Finalize a draft invoice (no-op when already finalized)",
        "pay-invoice" => invoices::pay_invoice:
            "Charge an invoice now, i.e. retry a failed payment (no-op when already paid)",
        "void-invoice" => invoices::void_invoice:
            "Void an invoice (no-op when already void)",
        "send-invoice" => invoices::send_invoice:
            "Email an invoice to the customer",
        "create-payment-intent" => payments::create_payment_intent:
            "Create a payment intent, and confirm it at once if asked",
        "confirm-payment-intent" => payments::confirm_payment_intent:
            "Confirm a payment intent (no-op when already confirmed)",
        "capture-payment-intent" => payments::capture_payment_intent:
            "Capture an authorized payment intent (no-op when already captured)",
        "create-refund" => payments::create_refund:
            "Refund a payment intent or a charge, fully or partly (no-op when already fully refunded)",
        "get-subscription" => subscriptions::get_subscription:
            "Read a subscription",
        "cancel-subscription" => subscriptions::cancel_subscription:
            "Cancel a subscription at the end of its period, or now (no-op when already done)",
        "get-event" => subscriptions::get_event:
            "Read an event back from Stripe before acting on a webhook",
    },
}

#[cfg(test)]
mod tests;
