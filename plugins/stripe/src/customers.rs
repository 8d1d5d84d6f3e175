//! Steps `get-customer` and `find-customers`.

use std::collections::BTreeMap;

use relais_plugin_sdk::prelude::*;

use crate::api::{Client, Connection, check_id};
use crate::objects::{Customer, Page};

/// Input of `get-customer`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetCustomerIn {
    /// The customer's id (`cus_...`).
    pub customer: String,
    /// How to reach Stripe (default: the live API, secret `stripe_api_key`).
    #[serde(default)]
    pub connection: Connection,
}

pub(crate) fn get_customer(input: GetCustomerIn, _cx: &Context) -> Result<Customer, StepError> {
    check_id("customer", &input.customer, &["cus_"])?;
    let client = Client::connect(&input.connection)?;
    let customer: Customer = client.get(&format!("/v1/customers/{}", input.customer), &[])?;
    log::info!("read customer {}", customer.id);
    Ok(customer)
}

/// Most customers `find-customers` returns by default.
pub const DEFAULT_FIND_LIMIT: u32 = 10;

/// Input of `find-customers`: by email, by metadata, or both (all must
/// match).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindCustomersIn {
    /// Exact email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Metadata pairs that must all match exactly (for instance
    /// `{cpanel_user: "acme"}`).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Most customers to return, 1 to 100 (default 10).
    #[serde(default = "default_find_limit")]
    pub limit: u32,
    /// How to reach Stripe (default: the live API, secret `stripe_api_key`).
    #[serde(default)]
    pub connection: Connection,
}

fn default_find_limit() -> u32 {
    DEFAULT_FIND_LIMIT
}

/// Output of `find-customers`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FindCustomersOut {
    /// The customers found, newest first.
    pub customers: Vec<Customer>,
    /// How many were found (at most `limit`).
    pub count: usize,
    /// Whether more customers match than were returned.
    pub has_more: bool,
}

/// By email alone: the customer list filtered by email (exact, and up to
/// date at once). With metadata: Stripe's customer search (which can lag a
/// minute behind recent changes).
pub(crate) fn find_customers(
    input: FindCustomersIn,
    _cx: &Context,
) -> Result<FindCustomersOut, StepError> {
    if !(1..=100).contains(&input.limit) {
        return Err(StepError::invalid_input(format!(
            "limit: {} is not between 1 and 100",
            input.limit
        )));
    }
    if input.email.is_none() && input.metadata.is_empty() {
        return Err(StepError::invalid_input(
            "give email, metadata or both to find customers",
        ));
    }
    if let Some(email) = &input.email
        && (email.trim().is_empty() || !email.contains('@'))
    {
        return Err(StepError::invalid_input(format!(
            "email: {email:?} is not an email address"
        )));
    }
    let limit = input.limit.to_string();
    let client = Client::connect(&input.connection)?;
    let page: Page<Customer> = if input.metadata.is_empty() {
        let email = input.email.clone().unwrap_or_default();
        let query = [("email".to_owned(), email), ("limit".to_owned(), limit)];
        client.get("/v1/customers", &query)?
    } else {
        let query = search_query(input.email.as_deref(), &input.metadata)?;
        let query = [("query".to_owned(), query), ("limit".to_owned(), limit)];
        client.get("/v1/customers/search", &query)?
    };
    log::info!("found {} customer(s)", page.data.len());
    Ok(FindCustomersOut {
        count: page.data.len(),
        customers: page.data,
        has_more: page.has_more,
    })
}

/// Stripe's search language: `email:'a@b.c' AND metadata['k']:'v'`, with
/// quotes escaped in values and refused in keys.
pub(crate) fn search_query(
    email: Option<&str>,
    metadata: &BTreeMap<String, String>,
) -> Result<String, StepError> {
    let quote = |value: &str| value.replace('\\', "\\\\").replace('\'', "\\'");
    let mut clauses = Vec::new();
    if let Some(email) = email {
        clauses.push(format!("email:'{}'", quote(email)));
    }
    for (key, value) in metadata {
        if key.is_empty() || key.contains(['\'', '[', ']', '\\']) {
            return Err(StepError::invalid_input(format!(
                "metadata: key {key:?} cannot be searched (empty, or holds a quote, bracket or backslash)"
            )));
        }
        clauses.push(format!("metadata['{key}']:'{}'", quote(value)));
    }
    Ok(clauses.join(" AND "))
}
