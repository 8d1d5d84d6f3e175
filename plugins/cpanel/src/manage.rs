//! Steps that change an account: create, suspend, unsuspend, terminate,
//! change package, change password.
//!
//! WHM has no idempotency key, so every step first reads the account and
//! does nothing when it is already in the state asked for (`changed:
//! false`): a retried or re-run workflow never suspends, creates or
//! removes twice.

use relais_plugin_sdk::input::domain_name;
use relais_plugin_sdk::prelude::*;
use serde_json::Value;

use crate::account::{self, check_user};
use crate::error::WhmError;
use crate::whm::{Connection, Whm};

/// Input of `create-account`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIn {
    /// How to reach WHM.
    pub connection: Connection,
    /// The new cPanel user name (lowercase letters and digits, starting
    /// with a letter, at most 16 characters).
    pub user: String,
    /// The account's main domain.
    pub domain: String,
    /// The hosting package; WHM's default package when left out.
    #[serde(default)]
    pub package: Option<String>,
    /// The account's contact email address.
    #[serde(default)]
    pub contact_email: Option<String>,
    /// The name of a secret holding the account's password; when left out,
    /// the account gets no password the workflow knows (set one later with
    /// `change-password`, or let the client reset it).
    #[serde(default)]
    pub password_secret: Option<String>,
    /// The reseller that will own the account (default: the token's user).
    #[serde(default)]
    pub owner: Option<String>,
    /// Give the account a dedicated IP address (default `false`).
    #[serde(default)]
    pub dedicated_ip: bool,
}

/// Output of `create-account`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CreateOut {
    /// `false` when the account already existed with this domain.
    pub changed: bool,
    /// The cPanel user name.
    pub user: String,
    /// The main domain.
    pub domain: String,
    /// The hosting package.
    pub package: Option<String>,
    /// The account's IP address.
    pub ip: Option<String>,
    /// The name servers WHM set up for the domain (empty when unchanged).
    pub nameservers: Vec<String>,
}

/// Creates an account, or finds it already there.
pub fn create_account(input: CreateIn, _cx: &Context) -> Result<CreateOut, StepError> {
    check_user("user", &input.user)?;
    let domain = domain_name("domain", &input.domain)?;
    if let Some(email) = &input.contact_email
        && !email.contains('@')
    {
        return Err(StepError::invalid_input(format!(
            "contact_email {email:?} is not an email address"
        )));
    }
    if let Some(owner) = input.owner.as_deref().filter(|owner| *owner != "root") {
        check_user("owner", owner)?;
    }
    let whm = Whm::connect(&input.connection)?;
    let password = input
        .password_secret
        .as_deref()
        .map(secrets::require)
        .transpose()?;
    if let Some(existing) = existing_with_domain(&whm, &input.user, &domain)? {
        return Ok(existing);
    }

    let mut params = vec![("username", input.user.clone()), ("domain", domain.clone())];
    if let Some(package) = &input.package {
        params.push(("plan", package.clone()));
    }
    if let Some(email) = &input.contact_email {
        params.push(("contactemail", email.clone()));
    }
    if let Some(password) = password {
        params.push(("password", password));
    }
    if let Some(owner) = &input.owner {
        params.push(("owner", owner.clone()));
    }
    if input.dedicated_ip {
        params.push(("ip", "y".to_owned()));
    }
    let reply = match whm.post("createacct", &params) {
        Ok(reply) => reply,
        // A first attempt that timed out may have created it after all.
        Err(err @ WhmError::Failed { .. }) => {
            if let Some(existing) = existing_with_domain(&whm, &input.user, &domain)? {
                return Ok(existing);
            }
            return Err(err.into());
        }
        Err(err) => return Err(err.into()),
    };
    log::info!("created cPanel account {} for {domain}", input.user);
    let text = |key: &str| {
        reply
            .data
            .get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    Ok(CreateOut {
        changed: true,
        user: input.user,
        domain,
        package: text("package").or(input.package),
        ip: text("ip"),
        nameservers: ["nameserver", "nameserver2", "nameserver3", "nameserver4"]
            .into_iter()
            .filter_map(text)
            .collect(),
    })
}

/// `changed: false` when `user` exists with `domain`; an error when it
/// exists with another domain.
fn existing_with_domain(
    whm: &Whm,
    user: &str,
    domain: &str,
) -> Result<Option<CreateOut>, StepError> {
    let Some(existing) = account::find(whm, user)? else {
        return Ok(None);
    };
    if existing.domain != domain {
        return Err(StepError::fatal(format!(
            "cPanel account {user:?} already exists, with domain {:?} rather than {domain:?}",
            existing.domain
        )));
    }
    log::info!("cPanel account {user} already exists for {domain}");
    Ok(Some(CreateOut {
        changed: false,
        user: existing.user,
        domain: existing.domain,
        package: existing.package,
        ip: existing.ip,
        nameservers: Vec::new(),
    }))
}

/// Input of `suspend-account`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendIn {
    /// How to reach WHM.
    pub connection: Connection,
    /// The cPanel user name.
    pub user: String,
    /// Why, shown in WHM and to the account's reseller (e.g. `Unpaid invoice
    /// 1042`).
    #[serde(default)]
    pub reason: Option<String>,
    /// Forbid the account's reseller to unsuspend it (default `false`).
    #[serde(default)]
    pub lock_for_reseller: bool,
}

/// Output of `suspend-account` and `unsuspend-account`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SuspensionOut {
    /// `false` when the account was already in that state.
    pub changed: bool,
    /// The cPanel user name.
    pub user: String,
    /// Whether the account is now suspended.
    pub suspended: bool,
    /// The suspension's reason (the existing one when unchanged).
    pub reason: Option<String>,
}

/// Suspends an account; already suspended is a success that changes
/// nothing.
pub fn suspend_account(input: SuspendIn, _cx: &Context) -> Result<SuspensionOut, StepError> {
    check_user("user", &input.user)?;
    let whm = Whm::connect(&input.connection)?;
    let account = account::require(&whm, &input.user)?;
    if account.suspended {
        log::info!("cPanel account {} is already suspended", input.user);
        return Ok(SuspensionOut {
            changed: false,
            user: account.user,
            suspended: true,
            reason: account.suspend_reason,
        });
    }
    let mut params = vec![("user", input.user.clone())];
    if let Some(reason) = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        params.push(("reason", reason.to_owned()));
    }
    if input.lock_for_reseller {
        params.push(("disallowun", "1".to_owned()));
    }
    let changed = unless_already(whm.get("suspendacct", &params), "already suspended")?;
    if changed {
        log::info!("suspended cPanel account {}", input.user);
    }
    Ok(SuspensionOut {
        changed,
        user: input.user,
        suspended: true,
        reason: input.reason,
    })
}

/// Input of `unsuspend-account`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnsuspendIn {
    /// How to reach WHM.
    pub connection: Connection,
    /// The cPanel user name.
    pub user: String,
}

/// Unsuspends an account; not suspended is a success that changes nothing.
pub fn unsuspend_account(input: UnsuspendIn, _cx: &Context) -> Result<SuspensionOut, StepError> {
    check_user("user", &input.user)?;
    let whm = Whm::connect(&input.connection)?;
    let account = account::require(&whm, &input.user)?;
    if !account.suspended {
        log::info!("cPanel account {} is not suspended", input.user);
        return Ok(SuspensionOut {
            changed: false,
            user: account.user,
            suspended: false,
            reason: None,
        });
    }
    let params = [("user", input.user.clone())];
    let changed = unless_already(whm.get("unsuspendacct", &params), "not suspended")?;
    if changed {
        log::info!("unsuspended cPanel account {}", input.user);
    }
    Ok(SuspensionOut {
        changed,
        user: input.user,
        suspended: false,
        reason: None,
    })
}

/// `Ok(true)` when the call changed something, `Ok(false)` when WHM
/// refused because the state was already reached (`already`), the error
/// otherwise.
fn unless_already<T>(result: Result<T, WhmError>, already: &str) -> Result<bool, StepError> {
    match result {
        Ok(_) => Ok(true),
        Err(err)
            if err
                .reason()
                .is_some_and(|r| r.to_lowercase().contains(already)) =>
        {
            Ok(false)
        }
        Err(err) => Err(err.into()),
    }
}

/// Input of `terminate-account`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminateIn {
    /// How to reach WHM.
    pub connection: Connection,
    /// The cPanel user name. Its files, databases and mail are deleted.
    pub user: String,
    /// Keep the domain's DNS zone on the server (default `false`).
    #[serde(default)]
    pub keep_dns: bool,
}

/// Output of `terminate-account`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TerminateOut {
    /// `false` when there was no such account (already terminated).
    pub changed: bool,
    /// The cPanel user name.
    pub user: String,
    /// The domain the account had (`null` when there was no account).
    pub domain: Option<String>,
    /// Whether the DNS zone was kept.
    pub kept_dns: bool,
}

/// Terminates an account; a missing account is a success that changes
/// nothing.
pub fn terminate_account(input: TerminateIn, _cx: &Context) -> Result<TerminateOut, StepError> {
    check_user("user", &input.user)?;
    let whm = Whm::connect(&input.connection)?;
    let Some(account) = account::find(&whm, &input.user)? else {
        log::info!(
            "cPanel account {} does not exist: nothing to terminate",
            input.user
        );
        return Ok(TerminateOut {
            changed: false,
            user: input.user,
            domain: None,
            kept_dns: input.keep_dns,
        });
    };
    let params = [
        ("username", input.user.clone()),
        ("keepdns", if input.keep_dns { "1" } else { "0" }.to_owned()),
    ];
    let changed = unless_already(whm.get("removeacct", &params), "does not exist")?;
    if changed {
        log::warn!(
            "terminated cPanel account {} ({})",
            input.user,
            account.domain
        );
    }
    Ok(TerminateOut {
        changed,
        user: input.user,
        domain: Some(account.domain),
        kept_dns: input.keep_dns,
    })
}

/// Input of `change-package`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePackageIn {
    /// How to reach WHM.
    pub connection: Connection,
    /// The cPanel user name.
    pub user: String,
    /// The hosting package to move the account to.
    pub package: String,
}

/// Output of `change-package`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangePackageOut {
    /// `false` when the account already had that package.
    pub changed: bool,
    /// The cPanel user name.
    pub user: String,
    /// The account's package now.
    pub package: String,
    /// The package it had before.
    pub previous_package: Option<String>,
}

/// Moves an account to another package; the same package is a success
/// that changes nothing. An unknown package is `invalid-input`, naming the
/// packages there are.
pub fn change_package(
    input: ChangePackageIn,
    _cx: &Context,
) -> Result<ChangePackageOut, StepError> {
    check_user("user", &input.user)?;
    let package = input.package.trim();
    if package.is_empty() {
        return Err(StepError::invalid_input("package is empty"));
    }
    let whm = Whm::connect(&input.connection)?;
    let account = account::require(&whm, &input.user)?;
    if account.package.as_deref() == Some(package) {
        log::info!(
            "cPanel account {} already has package {package}",
            input.user
        );
        return Ok(ChangePackageOut {
            changed: false,
            user: account.user,
            package: package.to_owned(),
            previous_package: account.package,
        });
    }
    let names = crate::inspect::package_names(&whm)?;
    if !names.iter().any(|name| name == package) {
        return Err(StepError::invalid_input(format!(
            "package {package:?} does not exist on this server (packages: {})",
            names.join(", ")
        )));
    }
    whm.get(
        "changepackage",
        &[("user", input.user.clone()), ("pkg", package.to_owned())],
    )?;
    log::info!(
        "moved cPanel account {} from package {} to {package}",
        input.user,
        account.package.as_deref().unwrap_or("(none)")
    );
    Ok(ChangePackageOut {
        changed: true,
        user: input.user,
        package: package.to_owned(),
        previous_package: account.package,
    })
}

/// Input of `change-password`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordIn {
    /// How to reach WHM.
    pub connection: Connection,
    /// The cPanel user name.
    pub user: String,
    /// The name of the secret holding the new password.
    pub password_secret: String,
    /// Also set the account's MySQL password to it (default `true`).
    #[serde(default = "default_true")]
    pub update_database_password: bool,
}

fn default_true() -> bool {
    true
}

/// Output of `change-password`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangePasswordOut {
    /// Always `true`: WHM cannot tell whether the password was already
    /// this one, and setting it again is harmless.
    pub changed: bool,
    /// The cPanel user name.
    pub user: String,
    /// The services whose password WHM changed (e.g. `system`, `ftp`,
    /// `mail`, `mysql`).
    pub services: Vec<String>,
}

/// Sets an account's password from a secret.
pub fn change_password(
    input: ChangePasswordIn,
    _cx: &Context,
) -> Result<ChangePasswordOut, StepError> {
    check_user("user", &input.user)?;
    let whm = Whm::connect(&input.connection)?;
    let password = secrets::require(&input.password_secret)?;
    if password.is_empty() {
        return Err(StepError::fatal(format!(
            "secret {} is empty: it cannot be a password",
            input.password_secret
        )));
    }
    let params = [
        ("user", input.user.clone()),
        ("password", password),
        (
            "db_pass_update",
            if input.update_database_password {
                "1"
            } else {
                "0"
            }
            .to_owned(),
        ),
    ];
    let reply = whm.post("passwd", &params)?;
    log::info!("changed the password of cPanel account {}", input.user);
    let services = match reply.data.get("app") {
        Some(Value::Array(apps)) => apps
            .iter()
            .filter_map(|app| match app {
                Value::String(name) => Some(name.clone()),
                other => other.get("app").and_then(Value::as_str).map(str::to_owned),
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(ChangePasswordOut {
        changed: true,
        user: input.user,
        services,
    })
}
