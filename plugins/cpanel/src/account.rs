//! Accounts as `listaccts` returns them, looked up one at a time or
//! listed, and the checks on the names workflows send.

use relais_plugin_sdk::prelude::*;
use serde_json::Value;

use crate::error::WhmError;
use crate::units;
use crate::whm::{Whm, as_flag};

/// The `listaccts` fields the plugin reads (`want`: smaller replies on
/// servers with thousands of accounts).
const WANT: &str = "user,domain,email,plan,owner,ip,suspended,suspendreason,suspendtime,\
                    diskused,disklimit,unix_startdate";

/// A cPanel account.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Account {
    /// The cPanel user name.
    pub user: String,
    /// The account's main domain.
    pub domain: String,
    /// The contact email address.
    pub email: Option<String>,
    /// The hosting package (plan).
    pub package: Option<String>,
    /// The WHM user (root or a reseller) that owns the account.
    pub owner: Option<String>,
    /// The account's IP address.
    pub ip: Option<String>,
    /// Whether the account is suspended.
    pub suspended: bool,
    /// Why it was suspended (only while suspended).
    pub suspend_reason: Option<String>,
    /// When it was suspended, ISO 8601 UTC (only while suspended).
    pub suspended_at: Option<String>,
    /// When it was created, ISO 8601 UTC.
    pub created_at: Option<String>,
    /// Disk space used, in bytes.
    pub disk_used_bytes: Option<u64>,
    /// Disk quota in bytes; `null` when unlimited.
    pub disk_limit_bytes: Option<u64>,
}

impl Account {
    /// Reads one entry of `data.acct`; `None` when it has no user name.
    pub(crate) fn from_whm(entry: &Value) -> Option<Self> {
        let text = |key: &str| {
            entry
                .get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let user = text("user")?;
        let suspended = entry.get("suspended").and_then(as_flag).unwrap_or(false);
        Some(Self {
            domain: text("domain").unwrap_or_default(),
            email: text("email").filter(|e| e != "*unknown*"),
            package: text("plan"),
            owner: text("owner"),
            ip: text("ip"),
            suspended,
            suspend_reason: text("suspendreason").filter(|_| suspended),
            suspended_at: entry
                .get("suspendtime")
                .and_then(units::unix_seconds)
                .filter(|t| suspended && *t > 0)
                .map(units::iso8601),
            created_at: entry
                .get("unix_startdate")
                .and_then(units::unix_seconds)
                .map(units::iso8601),
            disk_used_bytes: text("diskused").as_deref().and_then(units::size_bytes),
            disk_limit_bytes: text("disklimit").as_deref().and_then(units::size_bytes),
            user,
        })
    }
}

/// How `listaccts` should narrow its answer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Search<'a> {
    /// Every account the token can see.
    All,
    /// Exactly this user.
    User(&'a str),
    /// Exactly this main domain.
    Domain(&'a str),
    /// Accounts owned by exactly this WHM user.
    Owner(&'a str),
}

/// Accounts matching `search`, as WHM lists them.
pub(crate) fn list(whm: &Whm, search: Search<'_>) -> Result<Vec<Account>, WhmError> {
    let mut params = vec![("want", WANT.to_owned())];
    let (kind, term) = match search {
        Search::All => ("", ""),
        Search::User(user) => ("user", user),
        Search::Domain(domain) => ("domain", domain),
        Search::Owner(owner) => ("owner", owner),
    };
    if !kind.is_empty() {
        params.push(("search", term.to_owned()));
        params.push(("searchtype", kind.to_owned()));
        params.push(("searchmethod", "exact".to_owned()));
    }
    let reply = whm.get("listaccts", &params)?;
    let entries = reply
        .data
        .get("acct")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(entries.iter().filter_map(Account::from_whm).collect())
}

/// The account of `user`, if it exists (and the token may see it).
pub(crate) fn find(whm: &Whm, user: &str) -> Result<Option<Account>, WhmError> {
    Ok(list(whm, Search::User(user))?
        .into_iter()
        .find(|account| account.user == user))
}

/// The account of `user`, or a fatal error naming it.
pub(crate) fn require(whm: &Whm, user: &str) -> Result<Account, StepError> {
    find(whm, user)?.ok_or_else(|| {
        StepError::fatal(format!(
            "no cPanel account {user:?} on this server (or the token may not see it)"
        ))
    })
}

/// Checks a cPanel user name: lowercase letters and digits, starting with
/// a letter, at most 16 characters (WHM's own rule since cPanel 11.42).
pub(crate) fn check_user(field: &str, user: &str) -> Result<(), StepError> {
    let valid = !user.is_empty()
        && user.len() <= 16
        && user.starts_with(|c: char| c.is_ascii_lowercase())
        && user
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(StepError::invalid_input(format!(
            "{field} {user:?} is not a cPanel user name (lowercase letters and digits, starting \
             with a letter, at most 16 characters)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_the_documented_listaccts_entry() {
        let entry = json!({"user": "username", "domain": "example.com",
            "email": "username@example.com", "plan": "default", "owner": "root",
            "ip": "192.168.0.128", "suspended": 0, "suspendreason": "not suspended",
            "suspendtime": null, "disklimit": "unlimited", "diskused": "14M",
            "unix_startdate": 1369256589});
        assert_eq!(
            Account::from_whm(&entry),
            Some(Account {
                user: "username".into(),
                domain: "example.com".into(),
                email: Some("username@example.com".into()),
                package: Some("default".into()),
                owner: Some("root".into()),
                ip: Some("192.168.0.128".into()),
                suspended: false,
                suspend_reason: None,
                suspended_at: None,
                created_at: Some("2013-05-22T21:03:09Z".into()),
                disk_used_bytes: Some(14 * 1024 * 1024),
                disk_limit_bytes: None,
            })
        );
        let suspended = json!({"user": "bob", "suspended": "1", "suspendreason": "Nonpayment",
            "suspendtime": "1594040856", "disklimit": "500M"});
        let account = Account::from_whm(&suspended).unwrap();
        assert!(account.suspended);
        assert_eq!(account.suspend_reason.as_deref(), Some("Nonpayment"));
        assert_eq!(
            account.suspended_at.as_deref(),
            Some("2020-07-06T13:07:36Z")
        );
        assert_eq!(account.disk_limit_bytes, Some(500 << 20));
        assert_eq!(Account::from_whm(&json!({"domain": "x.com"})), None);
    }

    #[test]
    fn user_names() {
        for good in ["bob", "a", "abcdefghijklmnop", "shop2024"] {
            assert_eq!(check_user("user", good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "Bob",
            "2shop",
            "bob_x",
            "bob.x",
            "abcdefghijklmnopq",
            "bob ",
        ] {
            let err = check_user("user", bad).unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{bad}");
            assert!(err.message().starts_with("user "), "{err}");
        }
    }
}
