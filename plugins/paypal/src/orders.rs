//! Steps `get-order` and `capture-order` (Orders v2).

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::prelude::*;
use serde_json::json;

use crate::api::{ApiError, Client, Connection, check_id};

/// Longest order id PayPal issues.
const MAX_ORDER_ID: usize = 36;

/// An amount of money.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct Money {
    /// Three-letter ISO currency code.
    pub currency_code: String,
    /// The amount, as a decimal string (`"10.00"`).
    pub value: String,
}

/// An order.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct Order {
    /// The order's id.
    pub id: String,
    /// `CREATED`, `SAVED`, `APPROVED`, `VOIDED`, `COMPLETED` or
    /// `PAYER_ACTION_REQUIRED`.
    pub status: String,
    /// `CAPTURE` or `AUTHORIZE`.
    pub intent: Option<String>,
    /// Who pays.
    pub payer: Option<Payer>,
    /// What is bought, with the captures made.
    pub purchase_units: Vec<PurchaseUnit>,
    /// Creation time (RFC 3339).
    pub create_time: Option<String>,
    /// Last update (RFC 3339).
    pub update_time: Option<String>,
}

/// The payer of an order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct Payer {
    /// PayPal's id of the payer.
    pub payer_id: Option<String>,
    /// Email address.
    pub email_address: Option<String>,
    /// Name.
    pub name: Option<Name>,
}

/// A person's name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct Name {
    /// Given name.
    pub given_name: Option<String>,
    /// Surname.
    pub surname: Option<String>,
}

/// One purchase unit of an order.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct PurchaseUnit {
    /// Your reference for it.
    pub reference_id: Option<String>,
    /// Your custom id.
    pub custom_id: Option<String>,
    /// Your invoice id.
    pub invoice_id: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// The total.
    pub amount: Option<Money>,
    /// Captures made on it.
    pub payments: Payments,
}

/// The payments of a purchase unit.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct Payments {
    /// Captured payments.
    pub captures: Vec<Capture>,
}

/// A captured payment.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub struct Capture {
    /// The capture's id (what a refund names).
    pub id: String,
    /// `COMPLETED`, `DECLINED`, `PARTIALLY_REFUNDED`, `PENDING`, `REFUNDED`
    /// or `FAILED`.
    pub status: String,
    /// The amount captured.
    pub amount: Option<Money>,
    /// Whether no more captures can follow.
    pub final_capture: Option<bool>,
    /// Creation time (RFC 3339).
    pub create_time: Option<String>,
}

impl Order {
    /// The first capture of the first purchase unit that has one.
    fn first_capture(&self) -> Option<&Capture> {
        self.purchase_units
            .iter()
            .find_map(|unit| unit.payments.captures.first())
    }
}

/// Input of `get-order` and `capture-order`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderIn {
    /// The order's id (as the buyer's approval returned it).
    pub order: String,
    /// How to reach PayPal (default: the live API, secrets
    /// `paypal_client_id` and `paypal_client_secret`).
    #[serde(default)]
    pub connection: Connection,
}

pub(crate) fn get_order(input: OrderIn, _cx: &Context) -> Result<Order, StepError> {
    check_id("order", &input.order, MAX_ORDER_ID)?;
    let mut client = Client::connect(&input.connection)?;
    Ok(client.get(&format!("/v2/checkout/orders/{}", input.order))?)
}

/// Output of `capture-order`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CaptureOut {
    /// `false` when the order had already been captured.
    pub changed: bool,
    /// The order afterwards.
    pub order: Order,
    /// Its first capture (`id` is what a refund names).
    pub capture: Option<Capture>,
}

/// Captures an approved order, with `PayPal-Request-Id` set from the step's
/// idempotency key. An order already captured (`ORDER_ALREADY_CAPTURED`)
/// succeeds with `changed: false`; a capture PayPal declines is fatal.
pub(crate) fn capture_order(input: OrderIn, cx: &Context) -> Result<CaptureOut, StepError> {
    check_id("order", &input.order, MAX_ORDER_ID)?;
    let mut client = Client::connect(&input.connection)?;
    let path = format!("/v2/checkout/orders/{}", input.order);
    let (changed, order): (bool, Order) =
        match client.post(&format!("{path}/capture"), &json!({}), cx) {
            Ok(response) => (true, response.json()?),
            Err(err) if err.issue() == Some("ORDER_ALREADY_CAPTURED") => {
                log::info!("order {} is already captured: nothing to do", input.order);
                (false, client.send(Method::Get, &path, None, None)?.json()?)
            }
            Err(err) => return Err(err.into()),
        };
    let capture = order.first_capture().cloned();
    if let Some(capture) = &capture
        && matches!(capture.status.as_str(), "DECLINED" | "FAILED")
    {
        return Err(ApiError::Unprocessable {
            operation: format!("POST {path}/capture"),
            issue: capture.status.clone(),
            message: format!(
                "capture {} of order {} was not completed",
                capture.id, order.id
            ),
        }
        .into());
    }
    if changed {
        log::info!(
            "order {} captured: {}",
            order.id,
            capture
                .as_ref()
                .map_or("no capture returned", |c| c.id.as_str())
        );
    }
    Ok(CaptureOut {
        changed,
        order,
        capture,
    })
}
