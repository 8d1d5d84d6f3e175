//! Steps on payments: `create-payment-intent`, `confirm-payment-intent`,
//! `capture-payment-intent` and `create-refund`.

use std::collections::BTreeMap;

use relais_plugin_sdk::prelude::*;

use crate::api::{ApiError, Client, Connection, Form, check_id};
use crate::objects::{Page, PaymentIntent, Refund};

/// How a payment intent captures the funds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaptureMethod {
    /// Capture at once when the customer authorizes.
    Automatic,
    /// Capture at once, asynchronously.
    AutomaticAsync,
    /// Authorize now, capture later with `capture-payment-intent`.
    Manual,
}

impl CaptureMethod {
    fn as_str(self) -> &'static str {
        match self {
            Self::Automatic => "automatic",
            Self::AutomaticAsync => "automatic_async",
            Self::Manual => "manual",
        }
    }
}

/// Input of `create-payment-intent`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePaymentIntentIn {
    /// Amount in the currency's smallest unit (cents), at least 1.
    pub amount: u64,
    /// Three-letter ISO currency code (`eur`, `usd`, ...).
    pub currency: String,
    /// The customer's id (`cus_...`).
    #[serde(default)]
    pub customer: Option<String>,
    /// The payment method to charge (`pm_...`).
    #[serde(default)]
    pub payment_method: Option<String>,
    /// Payment method types to accept (for instance `["card"]`); default:
    /// the ones enabled in the Stripe dashboard.
    #[serde(default)]
    pub payment_method_types: Vec<String>,
    /// Confirm at once (charge now) instead of leaving it to a later
    /// `confirm-payment-intent` (default `false`).
    #[serde(default)]
    pub confirm: bool,
    /// The customer is away: charge a saved payment method (with
    /// `confirm`).
    #[serde(default)]
    pub off_session: Option<bool>,
    /// `automatic` (Stripe's default), `automatic_async` or `manual`.
    #[serde(default)]
    pub capture_method: Option<CaptureMethod>,
    /// Where to send the customer back after a redirect (with `confirm`).
    #[serde(default)]
    pub return_url: Option<String>,
    /// Description shown in the dashboard.
    #[serde(default)]
    pub description: Option<String>,
    /// Where Stripe emails the receipt.
    #[serde(default)]
    pub receipt_email: Option<String>,
    /// Suffix of the card statement descriptor (at most 22 characters).
    #[serde(default)]
    pub statement_descriptor_suffix: Option<String>,
    /// Your key-value pairs.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// How to reach Stripe (default: the live API, secret `stripe_api_key`).
    #[serde(default)]
    pub connection: Connection,
}

/// Output of the steps that move a payment intent on.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PaymentIntentChange {
    /// `false` when the payment intent was already past that step.
    pub changed: bool,
    /// The payment intent afterwards.
    pub payment_intent: PaymentIntent,
}

/// Appends `metadata[KEY]=VALUE` for each pair.
fn push_metadata(form: &mut Form, metadata: &BTreeMap<String, String>) -> Result<(), StepError> {
    for (key, value) in metadata {
        if key.is_empty() || key.len() > 40 || key.contains(['[', ']']) {
            return Err(StepError::invalid_input(format!(
                "metadata: key {key:?} must be 1 to 40 characters without brackets"
            )));
        }
        form.push((format!("metadata[{key}]"), value.clone()));
    }
    Ok(())
}

fn push_some(form: &mut Form, name: &str, value: Option<impl ToString>) {
    if let Some(value) = value {
        form.push((name.to_owned(), value.to_string()));
    }
}

pub(crate) fn create_payment_intent(
    input: CreatePaymentIntentIn,
    cx: &Context,
) -> Result<PaymentIntent, StepError> {
    if input.amount == 0 {
        return Err(StepError::invalid_input("amount: must be at least 1"));
    }
    let currency = input.currency.to_ascii_lowercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(StepError::invalid_input(format!(
            "currency: {:?} is not a three-letter ISO code",
            input.currency
        )));
    }
    if let Some(customer) = &input.customer {
        check_id("customer", customer, &["cus_"])?;
    }
    if let Some(method) = &input.payment_method {
        check_id("payment_method", method, &["pm_", "card_", "src_"])?;
    }
    if let Some(suffix) = &input.statement_descriptor_suffix
        && suffix.chars().count() > 22
    {
        return Err(StepError::invalid_input(
            "statement_descriptor_suffix: at most 22 characters",
        ));
    }
    if !input.confirm && (input.off_session.is_some() || input.return_url.is_some()) {
        return Err(StepError::invalid_input(
            "off_session and return_url only apply with confirm: true",
        ));
    }
    let mut form: Form = vec![
        ("amount".to_owned(), input.amount.to_string()),
        ("currency".to_owned(), currency),
    ];
    push_some(&mut form, "customer", input.customer.as_ref());
    push_some(&mut form, "payment_method", input.payment_method.as_ref());
    for kind in &input.payment_method_types {
        form.push(("payment_method_types[]".to_owned(), kind.clone()));
    }
    if input.confirm {
        form.push(("confirm".to_owned(), "true".to_owned()));
    }
    push_some(&mut form, "off_session", input.off_session);
    push_some(
        &mut form,
        "capture_method",
        input.capture_method.map(CaptureMethod::as_str),
    );
    push_some(&mut form, "return_url", input.return_url.as_ref());
    push_some(&mut form, "description", input.description.as_ref());
    push_some(&mut form, "receipt_email", input.receipt_email.as_ref());
    push_some(
        &mut form,
        "statement_descriptor_suffix",
        input.statement_descriptor_suffix.as_ref(),
    );
    push_metadata(&mut form, &input.metadata)?;
    let client = Client::connect(&input.connection)?;
    let intent: PaymentIntent = client.post("/v1/payment_intents", &form, cx)?;
    log::info!("payment intent {} created: {}", intent.id, intent.status);
    Ok(intent)
}

/// Input of `confirm-payment-intent`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmPaymentIntentIn {
    /// The payment intent's id (`pi_...`).
    pub payment_intent: String,
    /// The payment method to charge (`pm_...`), if not set on the intent.
    #[serde(default)]
    pub payment_method: Option<String>,
    /// The customer is away: charge a saved payment method.
    #[serde(default)]
    pub off_session: Option<bool>,
    /// Where to send the customer back after a redirect.
    #[serde(default)]
    pub return_url: Option<String>,
    /// How to reach Stripe (default: the live API, secret `stripe_api_key`).
    #[serde(default)]
    pub connection: Connection,
}

/// Confirms (charges). A payment intent already confirmed (`processing`,
/// `requires_capture` or `succeeded`) is left as it is (`changed: false`).
pub(crate) fn confirm_payment_intent(
    input: ConfirmPaymentIntentIn,
    cx: &Context,
) -> Result<PaymentIntentChange, StepError> {
    check_id("payment_intent", &input.payment_intent, &["pi_"])?;
    if let Some(method) = &input.payment_method {
        check_id("payment_method", method, &["pm_", "card_", "src_"])?;
    }
    let mut form = Form::new();
    push_some(&mut form, "payment_method", input.payment_method.as_ref());
    push_some(&mut form, "off_session", input.off_session);
    push_some(&mut form, "return_url", input.return_url.as_ref());
    let client = Client::connect(&input.connection)?;
    advance(
        &client,
        &input.payment_intent,
        "confirm",
        &form,
        cx,
        &["processing", "requires_capture", "succeeded"],
    )
}

/// Input of `capture-payment-intent`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapturePaymentIntentIn {
    /// The payment intent's id (`pi_...`).
    pub payment_intent: String,
    /// Amount to capture, at most the amount authorized (default: all of
    /// it).
    #[serde(default)]
    pub amount_to_capture: Option<u64>,
    /// How to reach Stripe (default: the live API, secret `stripe_api_key`).
    #[serde(default)]
    pub connection: Connection,
}

/// Captures authorized funds. A payment intent already `succeeded` is left
/// as it is (`changed: false`).
pub(crate) fn capture_payment_intent(
    input: CapturePaymentIntentIn,
    cx: &Context,
) -> Result<PaymentIntentChange, StepError> {
    check_id("payment_intent", &input.payment_intent, &["pi_"])?;
    if input.amount_to_capture == Some(0) {
        return Err(StepError::invalid_input(
            "amount_to_capture: must be at least 1",
        ));
    }
    let mut form = Form::new();
    push_some(&mut form, "amount_to_capture", input.amount_to_capture);
    let client = Client::connect(&input.connection)?;
    advance(
        &client,
        &input.payment_intent,
        "capture",
        &form,
        cx,
        &["succeeded"],
    )
}

/// `POST /v1/payment_intents/ID/ACTION`; when Stripe answers
/// `payment_intent_unexpected_state`, reads the intent and reports
/// `changed: false` if it already is in one of `done`.
fn advance(
    client: &Client,
    id: &str,
    action: &str,
    form: &Form,
    cx: &Context,
    done: &[&str],
) -> Result<PaymentIntentChange, StepError> {
    let path = format!("/v1/payment_intents/{id}");
    match client.post::<PaymentIntent>(&format!("{path}/{action}"), form, cx) {
        Ok(intent) => {
            log::info!(
                "payment intent {id}: {action} done, status {}",
                intent.status
            );
            Ok(PaymentIntentChange {
                changed: true,
                payment_intent: intent,
            })
        }
        Err(err) if err.code() == Some("payment_intent_unexpected_state") => {
            let intent: PaymentIntent = client.get(&path, &[])?;
            if done.contains(&intent.status.as_str()) {
                log::info!(
                    "payment intent {id} is already {}: nothing to do",
                    intent.status
                );
                Ok(PaymentIntentChange {
                    changed: false,
                    payment_intent: intent,
                })
            } else {
                Err(err.into())
            }
        }
        Err(err) => Err(err.into()),
    }
}

/// Why a refund is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    /// A duplicate charge.
    Duplicate,
    /// A fraudulent charge.
    Fraudulent,
    /// The customer asked.
    RequestedByCustomer,
}

impl RefundReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Duplicate => "duplicate",
            Self::Fraudulent => "fraudulent",
            Self::RequestedByCustomer => "requested_by_customer",
        }
    }
}

/// Input of `create-refund`: exactly one of `payment_intent` and `charge`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRefundIn {
    /// The payment intent to refund (`pi_...`).
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// The charge to refund (`ch_...` or `py_...`).
    #[serde(default)]
    pub charge: Option<String>,
    /// Amount to refund in the smallest currency unit (default: all that
    /// is left).
    #[serde(default)]
    pub amount: Option<u64>,
    /// `duplicate`, `fraudulent` or `requested_by_customer`.
    #[serde(default)]
    pub reason: Option<RefundReason>,
    /// Your key-value pairs.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// How to reach Stripe (default: the live API, secret `stripe_api_key`).
    #[serde(default)]
    pub connection: Connection,
}

/// Output of `create-refund`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RefundOut {
    /// `false` when the charge was already fully refunded.
    pub changed: bool,
    /// The refund made, or the latest one when nothing was left to refund.
    pub refund: Option<Refund>,
}

/// Refunds. When the charge is already fully refunded (Stripe's
/// `charge_already_refunded`) the step succeeds with `changed: false` and
/// the latest refund.
pub(crate) fn create_refund(input: CreateRefundIn, cx: &Context) -> Result<RefundOut, StepError> {
    let (field, id) = match (&input.payment_intent, &input.charge) {
        (Some(intent), None) => {
            check_id("payment_intent", intent, &["pi_"])?;
            ("payment_intent", intent)
        }
        (None, Some(charge)) => {
            check_id("charge", charge, &["ch_", "py_"])?;
            ("charge", charge)
        }
        _ => {
            return Err(StepError::invalid_input(
                "give exactly one of payment_intent and charge",
            ));
        }
    };
    if input.amount == Some(0) {
        return Err(StepError::invalid_input("amount: must be at least 1"));
    }
    let mut form: Form = vec![(field.to_owned(), id.clone())];
    push_some(&mut form, "amount", input.amount);
    push_some(&mut form, "reason", input.reason.map(RefundReason::as_str));
    push_metadata(&mut form, &input.metadata)?;
    let client = Client::connect(&input.connection)?;
    match client.post::<Refund>("/v1/refunds", &form, cx) {
        Ok(refund) => {
            log::info!("refund {} of {field} {id}: {:?}", refund.id, refund.status);
            Ok(RefundOut {
                changed: true,
                refund: Some(refund),
            })
        }
        Err(ApiError::InvalidRequest { code, .. }) if code == "charge_already_refunded" => {
            let query = [
                (field.to_owned(), id.clone()),
                ("limit".to_owned(), "1".to_owned()),
            ];
            let page: Page<Refund> = client.get("/v1/refunds", &query)?;
            log::info!("{field} {id} is already fully refunded: nothing to do");
            Ok(RefundOut {
                changed: false,
                refund: page.data.into_iter().next(),
            })
        }
        Err(err) => Err(err.into()),
    }
}
