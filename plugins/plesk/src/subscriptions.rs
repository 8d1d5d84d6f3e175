//! Subscription (domain) steps: create, get, status, suspend, activate
//! (REST `/api/v2/domains`), and change-plan (XML-RPC, which REST lacks).

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::input::domain_name;
use relais_plugin_sdk::prelude::*;
use serde_json::{Value, json};

use crate::client::{Connection, Plesk};
use crate::clients::{self, check_login};
use crate::error::PleskError;
use crate::xml;

/// Which subscription: by `id` or by `domain` (exactly one).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionIn {
    /// How to reach Plesk.
    pub connection: Connection,
    /// The subscription's (main domain's) numeric id.
    #[serde(default)]
    pub id: Option<u64>,
    /// The subscription's main domain name.
    #[serde(default)]
    pub domain: Option<String>,
}

/// A subscription: its main domain and hosting.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Subscription {
    /// The domain's numeric id.
    pub id: u64,
    /// The domain name.
    pub name: String,
    /// The domain name in ASCII (`xn--` form).
    pub ascii_name: Option<String>,
    /// `virtual`, `standard_forwarding`, `frame_forwarding` or `none`.
    pub hosting_type: Option<String>,
    /// The document root.
    pub www_root: Option<String>,
    /// The global id.
    pub guid: Option<String>,
    /// Creation date (`YYYY-MM-DD`).
    pub created: Option<String>,
    /// The domain aliases' names.
    pub aliases: Vec<String>,
    /// `active`, `suspended` or `disabled`.
    pub status: String,
}

/// The domain `id` or `domain` names (the raw REST object), if any.
fn find_raw(
    plesk: &Plesk,
    id: Option<u64>,
    domain: Option<&str>,
) -> Result<Option<Value>, StepError> {
    match (id, domain) {
        (Some(id), None) => Ok(plesk.find(&format!("/domains/{id}"))?),
        (None, Some(domain)) => {
            let domain = domain_name("domain", domain)?;
            let found = plesk.get(&format!("/domains?name={domain}"))?;
            Ok(found
                .as_array()
                .into_iter()
                .flatten()
                .find(|d| {
                    ["name", "ascii_name"]
                        .iter()
                        .any(|k| d.get(*k).and_then(Value::as_str) == Some(domain.as_str()))
                })
                .cloned())
        }
        _ => Err(StepError::invalid_input(
            "give the subscription's id or its domain (one of them)",
        )),
    }
}

/// `(id, name)` of the domain, or a fatal error.
fn require_raw(
    plesk: &Plesk,
    id: Option<u64>,
    domain: Option<&str>,
) -> Result<(u64, String, Value), StepError> {
    let raw = find_raw(plesk, id, domain)?.ok_or_else(|| {
        StepError::fatal(match (id, domain) {
            (Some(id), _) => format!("no Plesk subscription with id {id}"),
            (_, domain) => format!("no Plesk subscription for {:?}", domain.unwrap_or_default()),
        })
    })?;
    let id = raw.get("id").and_then(Value::as_u64);
    let name = raw.get("name").and_then(Value::as_str).map(str::to_owned);
    match (id, name) {
        (Some(id), Some(name)) => Ok((id, name, raw)),
        _ => Err(StepError::fatal(
            "plesk answered a domain without an id or a name",
        )),
    }
}

fn status_of(plesk: &Plesk, id: u64) -> Result<String, StepError> {
    let status = plesk.get(&format!("/domains/{id}/status"))?;
    status
        .get("status")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| StepError::fatal(format!("plesk gave no status for domain {id}")))
}

/// Returns a subscription with its status.
pub fn get_subscription(input: SubscriptionIn, _cx: &Context) -> Result<Subscription, StepError> {
    let plesk = Plesk::connect(&input.connection)?;
    let (id, name, raw) = require_raw(&plesk, input.id, input.domain.as_deref())?;
    let text = |key: &str| {
        raw.get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    Ok(Subscription {
        id,
        ascii_name: text("ascii_name"),
        hosting_type: text("hosting_type"),
        www_root: text("www_root"),
        guid: text("guid"),
        created: text("created"),
        aliases: raw
            .get("aliases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect(),
        status: status_of(&plesk, id)?,
        name,
    })
}

/// Output of `subscription-status`, `suspend-subscription` and
/// `activate-subscription`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusOut {
    /// `false` when it was already in that state (always `false` for
    /// `subscription-status`).
    pub changed: bool,
    /// The domain's id.
    pub id: u64,
    /// The domain name.
    pub name: String,
    /// `active`, `suspended` or `disabled`.
    pub status: String,
}

/// Returns a subscription's status.
pub fn subscription_status(input: SubscriptionIn, _cx: &Context) -> Result<StatusOut, StepError> {
    let plesk = Plesk::connect(&input.connection)?;
    let (id, name, _) = require_raw(&plesk, input.id, input.domain.as_deref())?;
    Ok(StatusOut {
        changed: false,
        id,
        name,
        status: status_of(&plesk, id)?,
    })
}

/// Suspends a subscription; already suspended is a success that changes
/// nothing.
pub fn suspend_subscription(input: SubscriptionIn, _cx: &Context) -> Result<StatusOut, StepError> {
    set_status(input, "suspended")
}

/// Activates a subscription; already active is a success that changes
/// nothing.
pub fn activate_subscription(input: SubscriptionIn, _cx: &Context) -> Result<StatusOut, StepError> {
    set_status(input, "active")
}

fn set_status(input: SubscriptionIn, wanted: &str) -> Result<StatusOut, StepError> {
    let plesk = Plesk::connect(&input.connection)?;
    let (id, name, _) = require_raw(&plesk, input.id, input.domain.as_deref())?;
    let now = status_of(&plesk, id)?;
    if now == wanted {
        log::info!("plesk subscription {name} is already {wanted}");
        return Ok(StatusOut {
            changed: false,
            id,
            name,
            status: now,
        });
    }
    plesk.rest(
        Method::Put,
        &format!("/domains/{id}/status"),
        Some(&json!({"status": wanted})),
    )?;
    log::info!("plesk subscription {name} is now {wanted} (was {now})");
    Ok(StatusOut {
        changed: true,
        id,
        name,
        status: wanted.to_owned(),
    })
}

/// Input of `create-subscription`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscriptionIn {
    /// How to reach Plesk.
    pub connection: Connection,
    /// The subscription's main domain.
    pub domain: String,
    /// The owning client's login (default: the administrator's own
    /// subscription).
    #[serde(default)]
    pub owner_login: Option<String>,
    /// The service plan's name.
    pub plan: String,
    /// The IP addresses to host the domain on (IPv4 and/or IPv6).
    pub ip_addresses: Vec<String>,
    /// The system user (FTP/SSH login) for the webspace.
    pub ftp_login: String,
    /// The name of the secret holding that user's password.
    pub ftp_password_secret: String,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
}

/// Output of `create-subscription`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CreateSubscriptionOut {
    /// `false` when the domain already existed.
    pub changed: bool,
    /// The domain's id.
    pub id: u64,
    /// The global id.
    pub guid: Option<String>,
    /// The domain name.
    pub name: String,
}

/// Creates a subscription with virtual hosting on a service plan, or
/// finds the domain already there.
pub fn create_subscription(
    input: CreateSubscriptionIn,
    _cx: &Context,
) -> Result<CreateSubscriptionOut, StepError> {
    let domain = domain_name("domain", &input.domain)?;
    if input.plan.trim().is_empty() {
        return Err(StepError::invalid_input("plan is empty"));
    }
    if input.ip_addresses.is_empty() {
        return Err(StepError::invalid_input(
            "ip_addresses is empty: give at least one address",
        ));
    }
    for (i, ip) in input.ip_addresses.iter().enumerate() {
        if ip.parse::<std::net::IpAddr>().is_err() {
            return Err(StepError::invalid_input(format!(
                "ip_addresses[{i}] {ip:?} is not an IP address"
            )));
        }
    }
    check_login("ftp_login", &input.ftp_login)?;
    if let Some(owner) = &input.owner_login {
        check_login("owner_login", owner)?;
    }
    let plesk = Plesk::connect(&input.connection)?;
    let ftp_password = secrets::require(&input.ftp_password_secret)?;
    if let Some(existing) = find_raw(&plesk, None, Some(&domain))? {
        return existing_out(&existing, &domain);
    }
    let mut body = json!({
        "name": domain,
        "hosting_type": "virtual",
        "hosting_settings": {"ftp_login": input.ftp_login, "ftp_password": ftp_password},
        "ip_addresses": input.ip_addresses,
        "plan": {"name": input.plan.trim()},
    });
    if let Some(owner) = &input.owner_login {
        // The document requires all four fields of the owner reference.
        let client = clients::require(&plesk, None, Some(owner))?;
        body["owner_client"] = json!({
            "id": client.id,
            "login": client.login,
            "guid": client.guid.unwrap_or_default(),
            "external_id": client.external_id.unwrap_or_default(),
        });
    }
    if let Some(description) = &input.description {
        body["description"] = json!(description);
    }
    let created = match plesk.rest(Method::Post, "/domains", Some(&body)) {
        Ok(created) => created,
        Err(err @ PleskError::Api { .. }) => {
            if let Some(existing) = find_raw(&plesk, None, Some(&domain))? {
                return existing_out(&existing, &domain);
            }
            return Err(err.into());
        }
        Err(err) => return Err(err.into()),
    };
    let id = created
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| StepError::fatal("plesk created the domain but gave no id"))?;
    log::info!(
        "created plesk subscription {domain} (id {id}) on plan {}",
        input.plan.trim()
    );
    Ok(CreateSubscriptionOut {
        changed: true,
        id,
        guid: created
            .get("guid")
            .and_then(Value::as_str)
            .map(str::to_owned),
        name: domain,
    })
}

fn existing_out(existing: &Value, domain: &str) -> Result<CreateSubscriptionOut, StepError> {
    log::info!("plesk subscription {domain} already exists");
    Ok(CreateSubscriptionOut {
        changed: false,
        id: existing
            .get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| StepError::fatal("plesk answered a domain without an id"))?,
        guid: existing
            .get("guid")
            .and_then(Value::as_str)
            .map(str::to_owned),
        name: domain.to_owned(),
    })
}

/// Input of `change-plan`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePlanIn {
    /// How to reach Plesk.
    pub connection: Connection,
    /// The subscription's main domain.
    pub domain: String,
    /// The service plan to move it to, by name.
    pub plan: String,
}

/// Output of `change-plan`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangePlanOut {
    /// `false` when the subscription was already on that plan.
    pub changed: bool,
    /// The domain name.
    pub domain: String,
    /// The plan's name.
    pub plan: String,
    /// The plan's global id.
    pub plan_guid: String,
}

/// Moves a subscription to another service plan through XML-RPC
/// (`service-plan get`, `webspace get` with the `subscriptions` dataset,
/// `webspace switch-subscription`): the REST API has no plan operation, and
/// the CLI bridge could switch but not tell the current plan.
pub fn change_plan(input: ChangePlanIn, _cx: &Context) -> Result<ChangePlanOut, StepError> {
    let domain = domain_name("domain", &input.domain)?;
    let plan = input.plan.trim();
    if plan.is_empty() {
        return Err(StepError::invalid_input("plan is empty"));
    }
    let plesk = Plesk::connect(&input.connection)?;
    let by_name = format!("<filter><name>{}</name></filter>", xml::escape(plan));
    let found = plesk.xml(
        "service-plan get",
        &format!("<service-plan><get>{by_name}</get></service-plan>"),
    );
    let plan_guid = match found {
        Ok(result) => xml::text(&result, "guid"),
        Err(err) if err.is_not_found() => None,
        Err(err) => return Err(err.into()),
    }
    .ok_or_else(|| {
        StepError::invalid_input(format!("no service plan named {plan:?} on this server"))
    })?;

    let by_domain = format!("<filter><name>{}</name></filter>", xml::escape(&domain));
    let current = match plesk.xml(
        "webspace get",
        &format!("<webspace><get>{by_domain}<dataset><subscriptions/></dataset></get></webspace>"),
    ) {
        Ok(result) => result,
        Err(err) if err.is_not_found() => {
            return Err(StepError::fatal(format!(
                "no Plesk subscription for {domain:?}"
            )));
        }
        Err(err) => return Err(err.into()),
    };
    let on_plan = xml::elements(&current, "plan-guid")
        .iter()
        .any(|guid| xml::unescape(guid.trim()) == plan_guid);
    if on_plan {
        log::info!("plesk subscription {domain} is already on plan {plan}");
    } else {
        plesk.xml(
            "webspace switch-subscription",
            &format!(
                "<webspace><switch-subscription>{by_domain}<plan-guid>{}</plan-guid>\
                 </switch-subscription></webspace>",
                xml::escape(&plan_guid)
            ),
        )?;
        log::info!("moved plesk subscription {domain} to plan {plan}");
    }
    Ok(ChangePlanOut {
        changed: !on_plan,
        domain,
        plan: plan.to_owned(),
        plan_guid,
    })
}
