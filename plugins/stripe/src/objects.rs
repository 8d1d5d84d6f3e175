//! The Stripe objects the steps return, read from Stripe's answers (API
//! version [`API_VERSION`](crate::api::API_VERSION)). Fields Stripe leaves
//! out or sets to `null` come out as `null`; amounts are integers in the
//! currency's smallest unit, times are Unix seconds.

use std::collections::BTreeMap;

use relais_plugin_sdk::prelude::*;
use serde_json::Value;

/// A customer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct Customer {
    /// `cus_...`.
    pub id: String,
    /// Whether the customer was deleted (every other field is then empty).
    pub deleted: bool,
    /// Email address.
    pub email: Option<String>,
    /// Full name or business name.
    pub name: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Free-form description.
    pub description: Option<String>,
    /// Default currency (lowercase ISO code).
    pub currency: Option<String>,
    /// Balance in the smallest currency unit (negative: credit).
    pub balance: i64,
    /// Whether the latest invoice charge failed.
    pub delinquent: Option<bool>,
    /// Creation time.
    pub created: Option<i64>,
    /// Whether this is live-mode data.
    pub livemode: bool,
    /// Your key-value pairs (for instance `cpanel_user`).
    #[serde(deserialize_with = "null_as_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// An invoice.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct Invoice {
    /// `in_...`.
    pub id: String,
    /// Invoice number shown to the customer (set at finalization).
    pub number: Option<String>,
    /// The customer's id.
    #[serde(deserialize_with = "id_of")]
    pub customer: Option<String>,
    /// `draft`, `open`, `paid`, `uncollectible` or `void`.
    pub status: Option<String>,
    /// Open, unpaid and overdue: past its due date, or a charge attempt
    /// failed (computed by the plugin).
    #[serde(skip_deserializing)]
    pub past_due: bool,
    /// `charge_automatically` or `send_invoice`.
    pub collection_method: Option<String>,
    /// Lowercase ISO currency code.
    pub currency: String,
    /// Total of the invoice.
    pub total: i64,
    /// Amount due.
    pub amount_due: i64,
    /// Amount paid.
    pub amount_paid: i64,
    /// Amount still to pay.
    pub amount_remaining: i64,
    /// Whether a payment attempt was made.
    pub attempted: bool,
    /// How many payment attempts were made.
    pub attempt_count: u64,
    /// When Stripe will try to charge again, if it will.
    pub next_payment_attempt: Option<i64>,
    /// Due date (invoices sent for manual payment).
    pub due_date: Option<i64>,
    /// Creation time.
    pub created: Option<i64>,
    /// Page where the customer can pay.
    pub hosted_invoice_url: Option<String>,
    /// PDF of the invoice.
    pub invoice_pdf: Option<String>,
    /// The subscription it bills, if any.
    #[serde(deserialize_with = "id_of")]
    pub subscription: Option<String>,
    /// The payment intent that collects it, if any.
    #[serde(deserialize_with = "id_of")]
    pub payment_intent: Option<String>,
    /// Whether this is live-mode data.
    pub livemode: bool,
    /// Your key-value pairs.
    #[serde(deserialize_with = "null_as_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl Invoice {
    /// Open, with money left to pay, and either past its due date or with a
    /// failed charge attempt, at `now` (Unix seconds).
    pub(crate) fn is_past_due(&self, now: i64) -> bool {
        self.status.as_deref() == Some("open")
            && self.amount_remaining > 0
            && (self.due_date.is_some_and(|due| due < now)
                || (self.attempted && self.attempt_count > 0))
    }
}

/// A payment intent.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct PaymentIntent {
    /// `pi_...`.
    pub id: String,
    /// `requires_payment_method`, `requires_confirmation`,
    /// `requires_action`, `processing`, `requires_capture`, `canceled` or
    /// `succeeded`.
    pub status: String,
    /// Amount intended to be collected.
    pub amount: i64,
    /// Amount that can be captured (manual capture).
    pub amount_capturable: i64,
    /// Amount received.
    pub amount_received: i64,
    /// Lowercase ISO currency code.
    pub currency: String,
    /// The customer's id.
    #[serde(deserialize_with = "id_of")]
    pub customer: Option<String>,
    /// The payment method's id.
    #[serde(deserialize_with = "id_of")]
    pub payment_method: Option<String>,
    /// The latest charge's id.
    #[serde(deserialize_with = "id_of")]
    pub latest_charge: Option<String>,
    /// `automatic`, `automatic_async` or `manual`.
    pub capture_method: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// What the customer must do next (`requires_action`): its `type`.
    pub next_action: Option<NextAction>,
    /// Why the last payment attempt failed.
    pub last_payment_error: Option<PaymentError>,
    /// Creation time.
    pub created: Option<i64>,
    /// Whether this is live-mode data.
    pub livemode: bool,
    /// Your key-value pairs.
    #[serde(deserialize_with = "null_as_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// The action a payment waits for.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct NextAction {
    /// `redirect_to_url`, `use_stripe_sdk`, ...
    #[serde(rename = "type")]
    pub kind: String,
}

/// Why a payment attempt failed.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct PaymentError {
    /// `card_error`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `card_declined`, `expired_card`, ...
    pub code: Option<String>,
    /// The issuer's reason (`insufficient_funds`, ...).
    pub decline_code: Option<String>,
    /// Stripe's message.
    pub message: Option<String>,
}

/// A refund.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct Refund {
    /// `re_...`.
    pub id: String,
    /// `pending`, `requires_action`, `succeeded`, `failed` or `canceled`.
    pub status: Option<String>,
    /// Amount refunded.
    pub amount: i64,
    /// Lowercase ISO currency code.
    pub currency: String,
    /// The refunded charge.
    #[serde(deserialize_with = "id_of")]
    pub charge: Option<String>,
    /// The refunded payment intent.
    #[serde(deserialize_with = "id_of")]
    pub payment_intent: Option<String>,
    /// `duplicate`, `fraudulent`, `requested_by_customer`, ...
    pub reason: Option<String>,
    /// Why the refund failed, if it did.
    pub failure_reason: Option<String>,
    /// Creation time.
    pub created: Option<i64>,
    /// Your key-value pairs.
    #[serde(deserialize_with = "null_as_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// A subscription.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct Subscription {
    /// `sub_...`.
    pub id: String,
    /// `incomplete`, `incomplete_expired`, `trialing`, `active`,
    /// `past_due`, `canceled`, `unpaid` or `paused`.
    pub status: String,
    /// The customer's id.
    #[serde(deserialize_with = "id_of")]
    pub customer: Option<String>,
    /// Whether it ends at the end of the current period.
    pub cancel_at_period_end: bool,
    /// When it will be canceled, if planned.
    pub cancel_at: Option<i64>,
    /// When it was canceled, if it was.
    pub canceled_at: Option<i64>,
    /// When it ended, if it did.
    pub ended_at: Option<i64>,
    /// Start of the current period.
    pub current_period_start: Option<i64>,
    /// End of the current period.
    pub current_period_end: Option<i64>,
    /// `charge_automatically` or `send_invoice`.
    pub collection_method: Option<String>,
    /// The latest invoice's id.
    #[serde(deserialize_with = "id_of")]
    pub latest_invoice: Option<String>,
    /// End of the trial, if any.
    pub trial_end: Option<i64>,
    /// Creation time.
    pub created: Option<i64>,
    /// Whether this is live-mode data.
    pub livemode: bool,
    /// Your key-value pairs.
    #[serde(deserialize_with = "null_as_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// An event, as Stripe keeps it (the same document a webhook delivered).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct Event {
    /// `evt_...`.
    pub id: String,
    /// `invoice.payment_failed`, `customer.subscription.deleted`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Creation time.
    pub created: Option<i64>,
    /// Whether this is live-mode data.
    pub livemode: bool,
    /// The API version the event was rendered with.
    pub api_version: Option<String>,
    /// The object and what changed.
    pub data: EventData,
    /// Webhooks not yet delivered.
    pub pending_webhooks: i64,
}

/// The payload of an [`Event`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct EventData {
    /// The object as it was when the event happened.
    pub object: Value,
    /// The fields that changed, with their previous values (`*.updated`).
    pub previous_attributes: Option<Value>,
}

/// `null` as an empty map (Stripe sends `"metadata": null` on some objects).
fn null_as_empty<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(Option::<BTreeMap<String, String>>::deserialize(deserializer)?.unwrap_or_default())
}

/// An expandable field: the id, whether Stripe sent the id or the expanded
/// object.
fn id_of<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(match Value::deserialize(deserializer)? {
        Value::String(id) => Some(id),
        Value::Object(object) => object.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    })
}

/// One page of a Stripe list or search.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: serde::de::DeserializeOwned")]
pub(crate) struct Page<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}
