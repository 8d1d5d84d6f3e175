//! Steps `get-subscription`, `cancel-subscription` and `get-event`.

use relais_plugin_sdk::prelude::*;

use crate::api::{Client, Connection, Form, check_id};
use crate::objects::{Event, Subscription};

/// Input of `get-subscription`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetSubscriptionIn {
    /// The subscription's id (`sub_...`).
    pub subscription: String,
    /// How to reach Stripe (default: the live API, secret `stripe_api_key`).
    #[serde(default)]
    pub connection: Connection,
}

pub(crate) fn get_subscription(
    input: GetSubscriptionIn,
    _cx: &Context,
) -> Result<Subscription, StepError> {
    check_id("subscription", &input.subscription, &["sub_"])?;
    let client = Client::connect(&input.connection)?;
    Ok(client.get(&format!("/v1/subscriptions/{}", input.subscription), &[])?)
}

/// Input of `cancel-subscription`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelSubscriptionIn {
    /// The subscription's id (`sub_...`).
    pub subscription: String,
    /// `true` (default): it stays active until the end of the period
    /// already paid for, then ends. `false`: it ends now.
    #[serde(default = "default_true")]
    pub at_period_end: bool,
    /// Why, for your records (`cancellation_details.comment`).
    #[serde(default)]
    pub comment: Option<String>,
    /// Ending now: bill pending usage and prorations at once (Stripe's
    /// default: `false`).
    #[serde(default)]
    pub invoice_now: Option<bool>,
    /// Ending now: credit the unused time (Stripe's default: `false`).
    #[serde(default)]
    pub prorate: Option<bool>,
    /// How to reach Stripe (default: the live API, secret `stripe_api_key`).
    #[serde(default)]
    pub connection: Connection,
}

fn default_true() -> bool {
    true
}

/// Output of `cancel-subscription`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SubscriptionChange {
    /// `false` when the subscription already ended, or was already set to
    /// end at the period's end.
    pub changed: bool,
    /// The subscription afterwards.
    pub subscription: Subscription,
}

/// Cancels at the period's end (default) or now. A subscription that has
/// ended, or is already set to end when asked to end at the period's end,
/// is left as it is (`changed: false`).
pub(crate) fn cancel_subscription(
    input: CancelSubscriptionIn,
    cx: &Context,
) -> Result<SubscriptionChange, StepError> {
    check_id("subscription", &input.subscription, &["sub_"])?;
    if input.at_period_end && (input.invoice_now.is_some() || input.prorate.is_some()) {
        return Err(StepError::invalid_input(
            "invoice_now and prorate only apply with at_period_end: false",
        ));
    }
    let client = Client::connect(&input.connection)?;
    let path = format!("/v1/subscriptions/{}", input.subscription);
    let current: Subscription = client.get(&path, &[])?;
    let ended = matches!(current.status.as_str(), "canceled" | "incomplete_expired");
    if ended || (input.at_period_end && current.cancel_at_period_end) {
        log::info!(
            "subscription {} is already {}: nothing to do",
            current.id,
            if ended {
                "ended"
            } else {
                "set to end at the period's end"
            }
        );
        return Ok(SubscriptionChange {
            changed: false,
            subscription: current,
        });
    }
    let mut form = Form::new();
    if let Some(comment) = &input.comment {
        form.push(("cancellation_details[comment]".to_owned(), comment.clone()));
    }
    let subscription: Subscription = if input.at_period_end {
        form.push(("cancel_at_period_end".to_owned(), "true".to_owned()));
        client.post(&path, &form, cx)?
    } else {
        if let Some(invoice_now) = input.invoice_now {
            form.push(("invoice_now".to_owned(), invoice_now.to_string()));
        }
        if let Some(prorate) = input.prorate {
            form.push(("prorate".to_owned(), prorate.to_string()));
        }
        client.delete(&path, &form)?
    };
    log::info!(
        "subscription {}: {}",
        subscription.id,
        if input.at_period_end {
            "ends at the period's end"
        } else {
            "canceled now"
        }
    );
    Ok(SubscriptionChange {
        changed: true,
        subscription,
    })
}

/// Input of `get-event`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetEventIn {
    /// The event's id (`evt_...`), for instance `{{ trigger.body.id }}`.
    pub event: String,
    /// How to reach Stripe (default: the live API, secret `stripe_api_key`).
    #[serde(default)]
    pub connection: Connection,
}

/// Reads an event back from Stripe: a webhook's body proves nothing by
/// itself, the copy Stripe keeps does.
pub(crate) fn get_event(input: GetEventIn, _cx: &Context) -> Result<Event, StepError> {
    check_id("event", &input.event, &["evt_"])?;
    let client = Client::connect(&input.connection)?;
    let event: Event = client.get(&format!("/v1/events/{}", input.event), &[])?;
    log::info!("read event {} ({})", event.id, event.kind);
    Ok(event)
}
