//! Steps on invoices: `list-invoices`, `get-invoice`, `finalize-invoice`,
//! `pay-invoice`, `void-invoice` and `send-invoice`.

use std::collections::BTreeMap;

use relais_plugin_sdk::clock;
use relais_plugin_sdk::prelude::*;

use crate::api::{Client, Connection, Form, check_id};
use crate::objects::{Invoice, Page};

/// Most invoices `list-invoices` reads by default.
pub const DEFAULT_LIST_MAX: u32 = 100;
/// Most invoices `list-invoices` ever reads.
pub const LIST_MAX: u32 = 1000;

/// Which invoices `list-invoices` returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceFilter {
    /// Finalized and waiting for payment.
    #[default]
    Open,
    /// Open, unpaid and overdue: past the due date, or a charge attempt
    /// failed.
    PastDue,
    /// Not finalized yet.
    Draft,
    /// Paid.
    Paid,
    /// Marked uncollectible.
    Uncollectible,
    /// Voided.
    Void,
}

impl InvoiceFilter {
    /// The `status` Stripe filters on.
    fn stripe_status(self) -> &'static str {
        match self {
            Self::Open | Self::PastDue => "open",
            Self::Draft => "draft",
            Self::Paid => "paid",
            Self::Uncollectible => "uncollectible",
            Self::Void => "void",
        }
    }
}

/// Input of `list-invoices`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInvoicesIn {
    /// The customer's id (`cus_...`).
    pub customer: String,
    /// Which invoices: `open` (default), `past_due`, `draft`, `paid`,
    /// `uncollectible` or `void`.
    #[serde(default)]
    pub status: InvoiceFilter,
    /// Most invoices to read from Stripe, 1 to 1000 (default 100), newest
    /// first, page after page.
    #[serde(default = "default_list_max")]
    pub max: u32,
    /// How to reach Stripe (default: the live API, secret `stripe_api_key`).
    #[serde(default)]
    pub connection: Connection,
}

fn default_list_max() -> u32 {
    DEFAULT_LIST_MAX
}

/// Output of `list-invoices`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ListInvoicesOut {
    /// The invoices, newest first.
    pub invoices: Vec<Invoice>,
    /// How many.
    pub count: usize,
    /// What is left to pay on them, per currency.
    pub amount_remaining: BTreeMap<String, i64>,
    /// Whether Stripe holds more invoices than `max` let the step read.
    pub has_more: bool,
}

pub(crate) fn list_invoices(
    input: ListInvoicesIn,
    _cx: &Context,
) -> Result<ListInvoicesOut, StepError> {
    check_id("customer", &input.customer, &["cus_"])?;
    if !(1..=LIST_MAX).contains(&input.max) {
        return Err(StepError::invalid_input(format!(
            "max: {} is not between 1 and {LIST_MAX}",
            input.max
        )));
    }
    let client = Client::connect(&input.connection)?;
    let mut read: Vec<Invoice> = Vec::new();
    let mut has_more = true;
    while has_more && read.len() < input.max as usize {
        let limit = (input.max as usize - read.len()).min(100);
        let mut query = vec![
            ("customer".to_owned(), input.customer.clone()),
            ("status".to_owned(), input.status.stripe_status().to_owned()),
            ("limit".to_owned(), limit.to_string()),
        ];
        if let Some(last) = read.last() {
            query.push(("starting_after".to_owned(), last.id.clone()));
        }
        let page: Page<Invoice> = client.get("/v1/invoices", &query)?;
        has_more = page.has_more && !page.data.is_empty();
        read.extend(page.data);
    }
    let now = clock::unix_now();
    let mut invoices = Vec::new();
    for mut invoice in read {
        invoice.past_due = invoice.is_past_due(now);
        if input.status != InvoiceFilter::PastDue || invoice.past_due {
            invoices.push(invoice);
        }
    }
    let mut amount_remaining = BTreeMap::new();
    for invoice in &invoices {
        *amount_remaining
            .entry(invoice.currency.clone())
            .or_insert(0) += invoice.amount_remaining;
    }
    log::info!(
        "customer {} has {} {:?} invoice(s)",
        input.customer,
        invoices.len(),
        input.status
    );
    Ok(ListInvoicesOut {
        count: invoices.len(),
        invoices,
        amount_remaining,
        has_more,
    })
}

/// Input of `get-invoice`, `void-invoice` and `send-invoice`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceIn {
    /// The invoice's id (`in_...`).
    pub invoice: String,
    /// How to reach Stripe (default: the live API, secret `stripe_api_key`).
    #[serde(default)]
    pub connection: Connection,
}

/// Output of the steps that change an invoice.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InvoiceChange {
    /// `false` when the invoice already was in the state asked for (nothing
    /// was sent to Stripe).
    pub changed: bool,
    /// The invoice afterwards.
    pub invoice: Invoice,
}

/// Reads an invoice, with `past_due` computed.
fn read_invoice(client: &Client, id: &str) -> Result<Invoice, StepError> {
    let mut invoice: Invoice = client.get(&format!("/v1/invoices/{id}"), &[])?;
    invoice.past_due = invoice.is_past_due(clock::unix_now());
    Ok(invoice)
}

/// Sends `POST /v1/invoices/ID/ACTION` and returns the invoice it answers.
fn act(
    client: &Client,
    id: &str,
    action: &str,
    form: &Form,
    cx: &Context,
) -> Result<InvoiceChange, StepError> {
    let mut invoice: Invoice = client.post(&format!("/v1/invoices/{id}/{action}"), form, cx)?;
    invoice.past_due = invoice.is_past_due(clock::unix_now());
    log::info!(
        "invoice {id}: {action} done, status {}",
        invoice.status.as_deref().unwrap_or("unknown")
    );
    Ok(InvoiceChange {
        changed: true,
        invoice,
    })
}

fn unchanged(invoice: Invoice, why: &str) -> InvoiceChange {
    log::info!("invoice {} {why}: nothing to do", invoice.id);
    InvoiceChange {
        changed: false,
        invoice,
    }
}

pub(crate) fn get_invoice(input: InvoiceIn, _cx: &Context) -> Result<Invoice, StepError> {
    check_id("invoice", &input.invoice, &["in_"])?;
    let client = Client::connect(&input.connection)?;
    read_invoice(&client, &input.invoice)
}

/// Input of `finalize-invoice`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FinalizeInvoiceIn {
    /// The invoice's id (`in_...`).
    pub invoice: String,
    /// Whether Stripe then collects it automatically (Stripe's default when
    /// left out).
    #[serde(default)]
    pub auto_advance: Option<bool>,
    /// How to reach Stripe (default: the live API, secret `stripe_api_key`).
    #[serde(default)]
    pub connection: Connection,
}

/// A draft is finalized; an invoice that is no longer a draft is left as
/// it is (`changed: false`).
pub(crate) fn finalize_invoice(
    input: FinalizeInvoiceIn,
    cx: &Context,
) -> Result<InvoiceChange, StepError> {
    check_id("invoice", &input.invoice, &["in_"])?;
    let client = Client::connect(&input.connection)?;
    let current = read_invoice(&client, &input.invoice)?;
    if current.status.as_deref() != Some("draft") {
        return Ok(unchanged(current, "is already finalized"));
    }
    let mut form = Form::new();
    if let Some(auto_advance) = input.auto_advance {
        form.push(("auto_advance".to_owned(), auto_advance.to_string()));
    }
    act(&client, &input.invoice, "finalize", &form, cx)
}

/// Input of `pay-invoice`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PayInvoiceIn {
    /// The invoice's id (`in_...`).
    pub invoice: String,
    /// The payment method to charge (`pm_...`; default: the invoice's or
    /// the customer's default).
    #[serde(default)]
    pub payment_method: Option<String>,
    /// Whether the customer is away (Stripe's default: `true`).
    #[serde(default)]
    pub off_session: Option<bool>,
    /// Mark the invoice paid without charging (money received outside
    /// Stripe, such as a bank transfer).
    #[serde(default)]
    pub paid_out_of_band: bool,
    /// How to reach Stripe (default: the live API, secret `stripe_api_key`).
    #[serde(default)]
    pub connection: Connection,
}

/// Attempts the charge again now. An invoice already paid is left as it is
/// (`changed: false`); a void invoice cannot be paid (fatal); a declined
/// card is fatal with the decline code.
pub(crate) fn pay_invoice(input: PayInvoiceIn, cx: &Context) -> Result<InvoiceChange, StepError> {
    check_id("invoice", &input.invoice, &["in_"])?;
    if let Some(method) = &input.payment_method {
        check_id("payment_method", method, &["pm_", "card_", "src_"])?;
    }
    let client = Client::connect(&input.connection)?;
    let current = read_invoice(&client, &input.invoice)?;
    match current.status.as_deref() {
        Some("paid") => return Ok(unchanged(current, "is already paid")),
        Some("void") => {
            return Err(StepError::fatal(format!(
                "invoice {} is void: it cannot be paid",
                current.id
            )));
        }
        _ => {}
    }
    let mut form = Form::new();
    if let Some(method) = &input.payment_method {
        form.push(("payment_method".to_owned(), method.clone()));
    }
    if let Some(off_session) = input.off_session {
        form.push(("off_session".to_owned(), off_session.to_string()));
    }
    if input.paid_out_of_band {
        form.push(("paid_out_of_band".to_owned(), "true".to_owned()));
    }
    act(&client, &input.invoice, "pay", &form, cx)
}

/// A void invoice is left as it is (`changed: false`).
pub(crate) fn void_invoice(input: InvoiceIn, cx: &Context) -> Result<InvoiceChange, StepError> {
    check_id("invoice", &input.invoice, &["in_"])?;
    let client = Client::connect(&input.connection)?;
    let current = read_invoice(&client, &input.invoice)?;
    if current.status.as_deref() == Some("void") {
        return Ok(unchanged(current, "is already void"));
    }
    act(&client, &input.invoice, "void", &Form::new(), cx)
}

/// Emails the invoice to the customer. Stripe keeps no trace of earlier
/// sends, so only the idempotency key guards against a second email: a
/// retry of the same step replays the first answer, a new run sends again.
pub(crate) fn send_invoice(input: InvoiceIn, cx: &Context) -> Result<InvoiceChange, StepError> {
    check_id("invoice", &input.invoice, &["in_"])?;
    let client = Client::connect(&input.connection)?;
    act(&client, &input.invoice, "send", &Form::new(), cx)
}
