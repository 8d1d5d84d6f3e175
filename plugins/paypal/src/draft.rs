//! The input of `create-invoice` and the invoice document PayPal takes
//! from it, checked before any request.

use relais_plugin_sdk::prelude::*;
use serde_json::{Map, Value, json};

use crate::api::Connection;

/// Most items an invoice may hold.
pub const MAX_ITEMS: usize = 100;

/// Who the invoice is for.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    /// Email address PayPal sends the invoice to.
    pub email: String,
    /// Given name.
    #[serde(default)]
    pub given_name: Option<String>,
    /// Surname.
    #[serde(default)]
    pub surname: Option<String>,
    /// Business name.
    #[serde(default)]
    pub business_name: Option<String>,
}

/// One line of an invoice.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// What is billed.
    pub name: String,
    /// More detail.
    #[serde(default)]
    pub description: Option<String>,
    /// Quantity, a decimal string with up to five decimals (default `"1"`).
    #[serde(default = "default_quantity")]
    pub quantity: String,
    /// Unit price, a decimal string with up to two decimals (`"19.90"`).
    pub unit_amount: String,
}

fn default_quantity() -> String {
    "1".to_owned()
}

/// Input of `create-invoice`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvoiceIn {
    /// Who it is for.
    pub recipient: Recipient,
    /// Three-letter ISO currency code (`EUR`, `USD`, ...).
    pub currency: String,
    /// The lines, 1 to 100.
    pub items: Vec<Item>,
    /// Your invoice number; PayPal numbers it when left out. Giving one
    /// makes re-running safe: a number already used returns that invoice.
    #[serde(default)]
    pub invoice_number: Option<String>,
    /// Your reference (an order or contract number).
    #[serde(default)]
    pub reference: Option<String>,
    /// A note to the recipient.
    #[serde(default)]
    pub note: Option<String>,
    /// Terms and conditions.
    #[serde(default)]
    pub terms: Option<String>,
    /// A private memo, not shown to the recipient.
    #[serde(default)]
    pub memo: Option<String>,
    /// Due date, `YYYY-MM-DD` (not with `payment_term`).
    #[serde(default)]
    pub due_date: Option<String>,
    /// PayPal's payment term: `DUE_ON_RECEIPT`, `NET_10`, `NET_15`,
    /// `NET_30`, `NET_45`, `NET_60`, `NET_90` (not with `due_date`).
    #[serde(default)]
    pub payment_term: Option<String>,
    /// How to reach PayPal (default: the live API, secrets
    /// `paypal_client_id` and `paypal_client_secret`).
    #[serde(default)]
    pub connection: Connection,
}

/// Whether `text` is a non-negative decimal with at most `decimals`
/// decimals.
fn is_decimal(text: &str, decimals: usize) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.len() <= decimals
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && text.contains('.') != fraction.is_empty()
}

fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
}

const PAYMENT_TERMS: [&str; 7] = [
    "DUE_ON_RECEIPT",
    "NET_10",
    "NET_15",
    "NET_30",
    "NET_45",
    "NET_60",
    "NET_90",
];

/// The invoice document PayPal takes, from the step's input.
pub(crate) fn invoice_document(input: &CreateInvoiceIn) -> Result<Value, StepError> {
    let bad = |message: String| StepError::invalid_input(message);
    let currency = input.currency.to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad(format!(
            "currency: {:?} is not a three-letter ISO code",
            input.currency
        )));
    }
    if !input.recipient.email.contains('@') {
        return Err(bad(format!(
            "recipient.email: {:?} is not an email address",
            input.recipient.email
        )));
    }
    if input.items.is_empty() || input.items.len() > MAX_ITEMS {
        return Err(bad(format!(
            "items: {} given, 1 to {MAX_ITEMS} allowed",
            input.items.len()
        )));
    }
    let mut items = Vec::new();
    for (i, item) in input.items.iter().enumerate() {
        if item.name.trim().is_empty() {
            return Err(bad(format!("items[{i}].name: empty")));
        }
        if !is_decimal(&item.quantity, 5) {
            return Err(bad(format!(
                "items[{i}].quantity: {:?} is not a decimal with at most 5 decimals",
                item.quantity
            )));
        }
        if !is_decimal(&item.unit_amount, 2) {
            return Err(bad(format!(
                "items[{i}].unit_amount: {:?} is not an amount with at most 2 decimals",
                item.unit_amount
            )));
        }
        let mut line = json!({
            "name": item.name,
            "quantity": item.quantity,
            "unit_amount": {"currency_code": currency, "value": item.unit_amount},
        });
        if let Some(description) = &item.description {
            line["description"] = json!(description);
        }
        items.push(line);
    }
    let mut detail = Map::new();
    detail.insert("currency_code".into(), json!(currency));
    for (name, value) in [
        ("invoice_number", &input.invoice_number),
        ("reference", &input.reference),
        ("note", &input.note),
        ("term", &input.terms),
        ("memo", &input.memo),
    ] {
        if let Some(value) = value {
            detail.insert(name.into(), json!(value));
        }
    }
    match (&input.due_date, &input.payment_term) {
        (Some(_), Some(_)) => {
            return Err(bad("give due_date or payment_term, not both".to_owned()));
        }
        (Some(date), None) if !is_date(date) => {
            return Err(bad(format!("due_date: {date:?} is not YYYY-MM-DD")));
        }
        (Some(date), None) => {
            detail.insert("payment_term".into(), json!({"due_date": date}));
        }
        (None, Some(term)) if !PAYMENT_TERMS.contains(&term.as_str()) => {
            return Err(bad(format!(
                "payment_term: {term:?} is not one of {}",
                PAYMENT_TERMS.join(", ")
            )));
        }
        (None, Some(term)) => {
            detail.insert("payment_term".into(), json!({"term_type": term}));
        }
        (None, None) => {}
    }
    let mut billing = json!({"email_address": input.recipient.email});
    let mut name = Map::new();
    if let Some(given) = &input.recipient.given_name {
        name.insert("given_name".into(), json!(given));
    }
    if let Some(surname) = &input.recipient.surname {
        name.insert("surname".into(), json!(surname));
    }
    if !name.is_empty() {
        billing["name"] = Value::Object(name);
    }
    if let Some(business) = &input.recipient.business_name {
        billing["business_name"] = json!(business);
    }
    Ok(json!({
        "detail": detail,
        "primary_recipients": [{"billing_info": billing}],
        "items": items,
    }))
}
