//! Client steps: create, get, suspend, activate, delete (REST
//! `/api/v2/clients`).
//!
//! Plesk has no idempotency key: every change reads the client first and
//! reports `changed: false` when it is already as asked.

use relais_plugin_sdk::http::Method;
use relais_plugin_sdk::prelude::*;
use serde_json::{Value, json};

use crate::client::{Connection, Plesk};
use crate::error::PleskError;

/// A client's `status` while active (the document's `Client.status`).
const ACTIVE: i64 = 0;
/// A client's `status` once suspended ("disabled by admin").
const SUSPENDED: i64 = 16;

/// Which client: by `id` or by `login` (exactly one).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientIn {
    /// How to reach Plesk.
    pub connection: Connection,
    /// The client's numeric id.
    #[serde(default)]
    pub id: Option<u64>,
    /// The client's login name.
    #[serde(default)]
    pub login: Option<String>,
}

/// A Plesk client (customer or reseller).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Client {
    /// The numeric id.
    pub id: u64,
    /// The login name.
    pub login: String,
    /// The person's name.
    pub name: Option<String>,
    /// The company.
    pub company: Option<String>,
    /// The email address.
    pub email: Option<String>,
    /// `customer`, `reseller` or `admin`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `active`, `suspended`, `backup` (under backup or restore),
    /// `expired`, or `status N` for another code.
    pub status: String,
    /// Plesk's numeric status (0 active, 16 suspended, 4 backup, 256
    /// expired).
    pub status_code: i64,
    /// Creation date (`YYYY-MM-DD`).
    pub created: Option<String>,
    /// The global id.
    pub guid: Option<String>,
    /// The id in an external system (e.g. a billing system).
    pub external_id: Option<String>,
    /// The login of the client's owner.
    pub owner_login: Option<String>,
    /// The locale (e.g. `en-US`).
    pub locale: Option<String>,
    /// The description.
    pub description: Option<String>,
}

impl Client {
    pub(crate) fn from_api(value: &Value) -> Option<Self> {
        let text = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let status_code = value
            .get("status")
            .and_then(Value::as_i64)
            .unwrap_or(ACTIVE);
        Some(Self {
            id: value.get("id").and_then(Value::as_u64)?,
            login: text("login")?,
            name: text("name"),
            company: text("company"),
            email: text("email"),
            kind: text("type"),
            status: match status_code {
                ACTIVE => "active".into(),
                SUSPENDED => "suspended".into(),
                4 => "backup".into(),
                256 => "expired".into(),
                other => format!("status {other}"),
            },
            status_code,
            created: text("created"),
            guid: text("guid"),
            external_id: text("external_id"),
            owner_login: text("owner_login"),
            locale: text("locale"),
            description: text("description"),
        })
    }
}

/// Checks a login name as Plesk takes it: 1 to 60 characters, no spaces.
pub(crate) fn check_login(field: &str, login: &str) -> Result<(), StepError> {
    if login.is_empty() || login.chars().count() > 60 || login.contains(char::is_whitespace) {
        return Err(StepError::invalid_input(format!(
            "{field} {login:?} is not a Plesk login (1 to 60 characters, no spaces)"
        )));
    }
    Ok(())
}

/// The client `id` or `login` names, or `None` when there is none.
pub(crate) fn find(
    plesk: &Plesk,
    id: Option<u64>,
    login: Option<&str>,
) -> Result<Option<Client>, StepError> {
    let found = match (id, login) {
        (Some(id), None) => plesk.find(&format!("/clients/{id}"))?,
        (None, Some(login)) => {
            check_login("login", login)?;
            let all = plesk.get("/clients")?;
            all.as_array()
                .into_iter()
                .flatten()
                .find(|c| c.get("login").and_then(Value::as_str) == Some(login))
                .cloned()
        }
        _ => {
            return Err(StepError::invalid_input(
                "give the client's id or its login (one of them)",
            ));
        }
    };
    match found {
        None => Ok(None),
        Some(value) => Client::from_api(&value)
            .map(Some)
            .ok_or_else(|| StepError::fatal("plesk answered a client without an id or a login")),
    }
}

/// The client `id` or `login` names, or a fatal error.
pub(crate) fn require(
    plesk: &Plesk,
    id: Option<u64>,
    login: Option<&str>,
) -> Result<Client, StepError> {
    find(plesk, id, login)?.ok_or_else(|| {
        StepError::fatal(match (id, login) {
            (Some(id), _) => format!("no Plesk client with id {id}"),
            (_, login) => format!("no Plesk client with login {:?}", login.unwrap_or_default()),
        })
    })
}

/// Input of `create-client`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientIn {
    /// How to reach Plesk.
    pub connection: Connection,
    /// The login name (1 to 60 characters, no spaces).
    pub login: String,
    /// The person's name.
    pub name: String,
    /// The email address.
    pub email: String,
    /// The name of the secret holding the client's password.
    pub password_secret: String,
    /// `customer` (default) or `reseller`.
    #[serde(default = "default_kind", rename = "type")]
    pub kind: ClientKind,
    /// The company.
    #[serde(default)]
    pub company: Option<String>,
    /// The locale (e.g. `en-US`, `fr-FR`).
    #[serde(default)]
    pub locale: Option<String>,
    /// The reseller that owns the client (default: the administrator).
    #[serde(default)]
    pub owner_login: Option<String>,
    /// The client's id in your billing system.
    #[serde(default)]
    pub external_id: Option<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
}

/// The kind of client to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    /// A hosting customer.
    Customer,
    /// A reseller.
    Reseller,
}

fn default_kind() -> ClientKind {
    ClientKind::Customer
}

/// Output of `create-client`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CreateClientOut {
    /// `false` when a client with this login already existed.
    pub changed: bool,
    /// The client's id.
    pub id: u64,
    /// The client's global id.
    pub guid: Option<String>,
    /// The login name.
    pub login: String,
}

/// Creates a client, or finds it already there.
pub fn create_client(input: CreateClientIn, _cx: &Context) -> Result<CreateClientOut, StepError> {
    check_login("login", &input.login)?;
    if input.name.trim().is_empty() || input.name.chars().count() > 60 {
        return Err(StepError::invalid_input("name must be 1 to 60 characters"));
    }
    if !input.email.contains('@') {
        return Err(StepError::invalid_input(format!(
            "email {:?} is not an email address",
            input.email
        )));
    }
    let plesk = Plesk::connect(&input.connection)?;
    let password = secrets::require(&input.password_secret)?;
    if let Some(existing) = find(&plesk, None, Some(&input.login))? {
        log::info!("plesk client {} already exists", input.login);
        return Ok(CreateClientOut {
            changed: false,
            id: existing.id,
            guid: existing.guid,
            login: existing.login,
        });
    }
    let mut body = json!({
        "name": input.name,
        "login": input.login,
        "password": password,
        "email": input.email,
        "type": match input.kind { ClientKind::Customer => "customer", ClientKind::Reseller => "reseller" },
    });
    for (key, value) in [
        ("company", &input.company),
        ("locale", &input.locale),
        ("owner_login", &input.owner_login),
        ("external_id", &input.external_id),
        ("description", &input.description),
    ] {
        if let Some(value) = value {
            body[key] = json!(value);
        }
    }
    let created = match plesk.rest(Method::Post, "/clients", Some(&body)) {
        Ok(created) => created,
        // A first attempt whose answer was lost may have created it.
        Err(err @ PleskError::Api { .. }) => {
            if let Some(existing) = find(&plesk, None, Some(&input.login))? {
                return Ok(CreateClientOut {
                    changed: false,
                    id: existing.id,
                    guid: existing.guid,
                    login: existing.login,
                });
            }
            return Err(err.into());
        }
        Err(err) => return Err(err.into()),
    };
    let id = created
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| StepError::fatal("plesk created the client but gave no id"))?;
    log::info!("created plesk client {} (id {id})", input.login);
    Ok(CreateClientOut {
        changed: true,
        id,
        guid: created
            .get("guid")
            .and_then(Value::as_str)
            .map(str::to_owned),
        login: input.login,
    })
}

/// Returns a client.
pub fn get_client(input: ClientIn, _cx: &Context) -> Result<Client, StepError> {
    let plesk = Plesk::connect(&input.connection)?;
    require(&plesk, input.id, input.login.as_deref())
}

/// Output of `suspend-client`, `activate-client` and `delete-client`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ClientChangeOut {
    /// `false` when the client was already in that state (or, for
    /// `delete-client`, did not exist).
    pub changed: bool,
    /// The client's id (`null` when deleting a client that did not exist,
    /// named by login).
    pub id: Option<u64>,
    /// The login (`null` when deleting a client that did not exist, named
    /// by id).
    pub login: Option<String>,
    /// The client's status now: `active`, `suspended` or `deleted`.
    pub status: String,
}

/// Suspends a client; already suspended is a success that changes nothing.
pub fn suspend_client(input: ClientIn, _cx: &Context) -> Result<ClientChangeOut, StepError> {
    set_status(input, SUSPENDED, "suspend", "suspended")
}

/// Activates a client; already active is a success that changes nothing.
pub fn activate_client(input: ClientIn, _cx: &Context) -> Result<ClientChangeOut, StepError> {
    set_status(input, ACTIVE, "activate", "active")
}

fn set_status(
    input: ClientIn,
    wanted: i64,
    verb: &str,
    state: &str,
) -> Result<ClientChangeOut, StepError> {
    let plesk = Plesk::connect(&input.connection)?;
    let client = require(&plesk, input.id, input.login.as_deref())?;
    let changed = client.status_code != wanted;
    if changed {
        plesk.rest(Method::Put, &format!("/clients/{}/{verb}", client.id), None)?;
        log::info!("plesk client {} is now {state}", client.login);
    } else {
        log::info!("plesk client {} is already {state}", client.login);
    }
    Ok(ClientChangeOut {
        changed,
        id: Some(client.id),
        login: Some(client.login),
        status: state.to_owned(),
    })
}

/// Deletes a client and everything it owns; a missing client is a success
/// that changes nothing.
pub fn delete_client(input: ClientIn, _cx: &Context) -> Result<ClientChangeOut, StepError> {
    let plesk = Plesk::connect(&input.connection)?;
    let Some(client) = find(&plesk, input.id, input.login.as_deref())? else {
        log::info!("plesk client does not exist: nothing to delete");
        return Ok(ClientChangeOut {
            changed: false,
            id: input.id,
            login: input.login,
            status: "deleted".into(),
        });
    };
    let changed = match plesk.rest(Method::Delete, &format!("/clients/{}", client.id), None) {
        Ok(_) => true,
        Err(err) if err.is_not_found() => false,
        Err(err) => return Err(err.into()),
    };
    if changed {
        log::warn!("deleted plesk client {} (id {})", client.login, client.id);
    }
    Ok(ClientChangeOut {
        changed,
        id: Some(client.id),
        login: Some(client.login),
        status: "deleted".into(),
    })
}
