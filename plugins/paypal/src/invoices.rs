//! Invoicing v2 steps: `create-invoice`, `get-invoice`, `send-invoice`,
//! `remind-invoice` and `cancel-invoice`.

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::prelude::*;
use serde_json::{Value, json};

use crate::api::{Client, Connection, check_id};
use crate::draft::{CreateInvoiceIn, invoice_document};
use crate::orders::Money;

/// Longest invoice id PayPal issues.
const MAX_INVOICE_ID: usize = 30;

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
        // An amount without a value (a breakdown alone) reads as none.
        let known = |money: Option<Money>| money.filter(|m| !m.value.is_empty());
        let amount = known(raw.amount);
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
            due_amount: known(raw.due_amount),
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

/// Output of the steps that act on an invoice.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InvoiceChange {
    /// `false` when nothing was done (see each step).
    pub changed: bool,
    /// The invoice afterwards.
    pub invoice: Invoice,
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
            if invoice.id.is_empty() {
                return Err(StepError::fatal(
                    "POST /v2/invoicing/invoices: paypal's answer names no invoice id",
                ));
            }
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
