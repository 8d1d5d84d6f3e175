//! Invoicing v2 steps: `create-invoice`, `get-invoice`, `send-invoice`,
//! `remind-invoice` and `cancel-invoice`.

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::prelude::*;
use serde_json::{Map, Value, json};

use crate::api::{Client, Connection, check_id};
use crate::orders::Money;

/// Longest invoice id PayPal issues.
const MAX_INVOICE_ID: usize = 30;
/// Most items an invoice may hold.
pub const MAX_ITEMS: usize = 100;

/// An invoice, trimmed to what workflows use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct Invoice {
    /// The invoice's id (`INV2-...`).
    pub id: String,
    /// `DRAFT`, `SENT`, `SCHEDULED`, `PAID`, `MARKED_AS_PAID`, `CANCELLED`,
    /// `REFUNDED`, `PARTIALLY_PAID`, `PARTIALLY_REFUNDED`,
    /// `MARKED_AS_REFUNDED`, `UNPAID` or `PAYMENT_PENDING`.
    pub status: String,
    /// The invoice number.
    pub invoice_number: Option<String>,
    /// Your reference.
    pub reference: Option<String>,
    /// Three-letter ISO currency code.
    pub currency_code: Option<String>,
    /// The total.
    pub amount: Option<Money>,
    /// What is left to pay.
    pub due_amount: Option<Money>,
    /// Due date (`YYYY-MM-DD`).
    pub due_date: Option<String>,
    /// The first recipient's email.
    pub recipient_email: Option<String>,
    /// The page where the recipient views and pays it.
    pub recipient_view_url: Option<String>,
}

/// PayPal's invoice document, as far as [`Invoice`] needs it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawInvoice {
    id: String,
    status: String,
    detail: RawDetail,
    amount: Option<Money>,
    due_amount: Option<Money>,
    primary_recipients: Vec<RawRecipient>,
    href: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawDetail {
    invoice_number: Option<String>,
    reference: Option<String>,
    currency_code: Option<String>,
    payment_term: RawTerm,
    metadata: RawMetadata,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawTerm {
    due_date: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawMetadata {
    recipient_view_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawRecipient {
    billing_info: RawBilling,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawBilling {
    email_address: Option<String>,
}

impl From<RawInvoice> for Invoice {
    fn from(raw: RawInvoice) -> Self {
        let amount = raw.amount;
        Self {
            // A minimal answer is a link to the invoice: its id ends the URL.
            id: if raw.id.is_empty() {
                raw.href
                    .as_deref()
                    .and_then(|href| href.rsplit('/').next())
                    .unwrap_or_default()
                    .to_owned()
            } else {
                raw.id
            },
            status: raw.status,
            invoice_number: raw.detail.invoice_number,
            reference: raw.detail.reference,
            currency_code: raw.detail.currency_code,
            amount,
            due_amount: raw.due_amount,
            due_date: raw.detail.payment_term.due_date,
            recipient_email: raw
                .primary_recipients
                .into_iter()
                .find_map(|r| r.billing_info.email_address),
            recipient_view_url: raw.detail.metadata.recipient_view_url,
        }
    }
}

fn read(client: &mut Client, id: &str) -> Result<Invoice, StepError> {
    let raw: RawInvoice = client.get(&format!("/v2/invoicing/invoices/{id}"))?;
    Ok(raw.into())
}

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

/// Output of the steps that act on an invoice.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InvoiceChange {
    /// `false` when nothing was done (see each step).
    pub changed: bool,
    /// The invoice afterwards.
    pub invoice: Invoice,
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

/// Creates a draft invoice (send it with `send-invoice`). When
/// `invoice_number` is given and already used (`DUPLICATE_INVOICE_NUMBER`),
/// the existing invoice is returned with `changed: false`.
pub(crate) fn create_invoice(
    input: CreateInvoiceIn,
    cx: &Context,
) -> Result<InvoiceChange, StepError> {
    let document = invoice_document(&input)?;
    let mut client = Client::connect(&input.connection)?;
    match client.post("/v2/invoicing/invoices", &document, cx) {
        Ok(response) => {
            let invoice: Invoice = response.json::<RawInvoice>()?.into();
            log::info!("invoice {} created as {}", invoice.id, invoice.status);
            Ok(InvoiceChange {
                changed: true,
                invoice,
            })
        }
        Err(err) if err.issue() == Some("DUPLICATE_INVOICE_NUMBER") => {
            let number = input.invoice_number.clone().unwrap_or_default();
            let found: SearchPage = client
                .send(
                    Method::Post,
                    "/v2/invoicing/search-invoices",
                    Some(&json!({"invoice_number": number})),
                    None,
                )?
                .json()?;
            let raw = found
                .items
                .into_iter()
                .next()
                .ok_or_else(|| StepError::from(err))?;
            let invoice: Invoice = raw.into();
            log::info!(
                "invoice number {number} already exists as {}: nothing to do",
                invoice.id
            );
            Ok(InvoiceChange {
                changed: false,
                invoice,
            })
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchPage {
    items: Vec<RawInvoice>,
}

/// Input of `get-invoice`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetInvoiceIn {
    /// The invoice's id (`INV2-...`).
    pub invoice: String,
    /// How to reach PayPal (default: the live API, secrets
    /// `paypal_client_id` and `paypal_client_secret`).
    #[serde(default)]
    pub connection: Connection,
}

pub(crate) fn get_invoice(input: GetInvoiceIn, _cx: &Context) -> Result<Invoice, StepError> {
    check_id("invoice", &input.invoice, MAX_INVOICE_ID)?;
    let mut client = Client::connect(&input.connection)?;
    read(&mut client, &input.invoice)
}

/// Input of `send-invoice`, `remind-invoice` and `cancel-invoice`: the
/// email PayPal sends.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyIn {
    /// The invoice's id (`INV2-...`).
    pub invoice: String,
    /// Subject of the email.
    #[serde(default)]
    pub subject: Option<String>,
    /// A note to the recipient.
    #[serde(default)]
    pub note: Option<String>,
    /// Email the recipient (default `true`; `remind-invoice` always does).
    #[serde(default = "default_true")]
    pub send_to_recipient: bool,
    /// Email a copy to you, the invoicer (default `false`).
    #[serde(default)]
    pub send_to_invoicer: bool,
    /// How to reach PayPal (default: the live API, secrets
    /// `paypal_client_id` and `paypal_client_secret`).
    #[serde(default)]
    pub connection: Connection,
}

fn default_true() -> bool {
    true
}

impl NotifyIn {
    fn notification(&self, with_recipient_flag: bool) -> Value {
        let mut body = json!({"send_to_invoicer": self.send_to_invoicer});
        if with_recipient_flag {
            body["send_to_recipient"] = json!(self.send_to_recipient);
        }
        if let Some(subject) = &self.subject {
            body["subject"] = json!(subject);
        }
        if let Some(note) = &self.note {
            body["note"] = json!(note);
        }
        body
    }
}

/// Statuses in which money is still expected from the recipient.
const AWAITING_PAYMENT: [&str; 3] = ["SENT", "UNPAID", "PARTIALLY_PAID"];

/// Sends a draft. An invoice that is no longer a draft was already sent:
/// `changed: false`.
pub(crate) fn send_invoice(input: NotifyIn, cx: &Context) -> Result<InvoiceChange, StepError> {
    check_id("invoice", &input.invoice, MAX_INVOICE_ID)?;
    let mut client = Client::connect(&input.connection)?;
    let current = read(&mut client, &input.invoice)?;
    if current.status != "DRAFT" {
        return Ok(unchanged(current, "was already sent"));
    }
    let path = format!("/v2/invoicing/invoices/{}/send", input.invoice);
    client.post(&path, &input.notification(true), cx)?;
    log::info!("invoice {} sent", input.invoice);
    Ok(InvoiceChange {
        changed: true,
        invoice: read(&mut client, &input.invoice)?,
    })
}

/// Reminds the recipient of an unpaid invoice. A paid, cancelled, refunded
/// or pending invoice gets no reminder (`changed: false`); a draft cannot be
/// reminded of (fatal).
pub(crate) fn remind_invoice(input: NotifyIn, cx: &Context) -> Result<InvoiceChange, StepError> {
    check_id("invoice", &input.invoice, MAX_INVOICE_ID)?;
    let mut client = Client::connect(&input.connection)?;
    let current = read(&mut client, &input.invoice)?;
    if matches!(current.status.as_str(), "DRAFT" | "SCHEDULED") {
        return Err(StepError::fatal(format!(
            "invoice {} is {}: it was never sent, so there is nothing to remind of",
            current.id, current.status
        )));
    }
    if !AWAITING_PAYMENT.contains(&current.status.as_str()) {
        let why = format!("is {}", current.status);
        return Ok(unchanged(current, &why));
    }
    let path = format!("/v2/invoicing/invoices/{}/remind", input.invoice);
    client.post(&path, &input.notification(false), cx)?;
    log::info!("reminder sent for invoice {}", input.invoice);
    Ok(InvoiceChange {
        changed: true,
        invoice: current,
    })
}

/// Cancels a sent invoice. A cancelled invoice is left as it is
/// (`changed: false`).
pub(crate) fn cancel_invoice(input: NotifyIn, cx: &Context) -> Result<InvoiceChange, StepError> {
    check_id("invoice", &input.invoice, MAX_INVOICE_ID)?;
    let mut client = Client::connect(&input.connection)?;
    let current = read(&mut client, &input.invoice)?;
    if current.status == "CANCELLED" {
        return Ok(unchanged(current, "is already cancelled"));
    }
    let path = format!("/v2/invoicing/invoices/{}/cancel", input.invoice);
    client.post(&path, &input.notification(true), cx)?;
    log::info!("invoice {} cancelled", input.invoice);
    Ok(InvoiceChange {
        changed: true,
        invoice: read(&mut client, &input.invoice)?,
    })
}

fn unchanged(invoice: Invoice, why: &str) -> InvoiceChange {
    log::info!("invoice {} {why}: nothing to do", invoice.id);
    InvoiceChange {
        changed: false,
        invoice,
    }
}
