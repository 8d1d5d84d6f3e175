//! Steps that read: list accounts, account summary, list packages, test
//! connection.

use relais_plugin_sdk::input::domain_name;
use relais_plugin_sdk::prelude::*;
use serde_json::Value;

use crate::account::{self, Account, Search, check_user};
use crate::error::WhmError;
use crate::units;
use crate::whm::{Connection, Whm, as_flag};

/// Most accounts `list-accounts` returns by default.
const DEFAULT_LIMIT: usize = 1000;

/// Input of `list-accounts`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListIn {
    /// How to reach WHM.
    pub connection: Connection,
    /// Only suspended accounts (`true`) or only active ones (`false`).
    #[serde(default)]
    pub suspended: Option<bool>,
    /// Only the account whose main domain is this one.
    #[serde(default)]
    pub domain: Option<String>,
    /// Only accounts owned by this WHM user (root or a reseller).
    #[serde(default)]
    pub owner: Option<String>,
    /// At most this many accounts (default 1000, at most 10000).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Output of `list-accounts`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ListOut {
    /// How many accounts matched (before `limit`).
    pub count: usize,
    /// Whether `limit` cut the list.
    pub truncated: bool,
    /// The accounts, sorted by user name.
    pub accounts: Vec<Account>,
}

/// Lists accounts, filtered by suspension, domain and owner.
pub fn list_accounts(input: ListIn, _cx: &Context) -> Result<ListOut, StepError> {
    let limit = input.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=10_000).contains(&limit) {
        return Err(StepError::invalid_input(format!(
            "limit {limit} is out of range (1 to 10000)"
        )));
    }
    let domain = input
        .domain
        .as_deref()
        .map(|d| domain_name("domain", d))
        .transpose()?;
    if let Some(owner) = input.owner.as_deref().filter(|o| *o != "root") {
        check_user("owner", owner)?;
    }
    let whm = Whm::connect(&input.connection)?;
    // WHM searches one field at a time: the most selective goes to WHM,
    // the rest is filtered here.
    let search = match (&domain, &input.owner) {
        (Some(domain), _) => Search::Domain(domain),
        (None, Some(owner)) => Search::Owner(owner),
        (None, None) => Search::All,
    };
    let mut accounts: Vec<Account> = account::list(&whm, search)?
        .into_iter()
        .filter(|a| domain.as_ref().is_none_or(|d| a.domain == *d))
        .filter(|a| {
            input
                .owner
                .as_ref()
                .is_none_or(|o| a.owner.as_ref() == Some(o))
        })
        .filter(|a| input.suspended.is_none_or(|s| a.suspended == s))
        .collect();
    accounts.sort_by(|a, b| a.user.cmp(&b.user));
    let count = accounts.len();
    accounts.truncate(limit);
    Ok(ListOut {
        count,
        truncated: count > limit,
        accounts,
    })
}

/// Input of `account-summary`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryIn {
    /// How to reach WHM.
    pub connection: Connection,
    /// The cPanel user name.
    pub user: String,
}

/// Use of one resource against its limit.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Usage {
    /// Bytes used.
    pub used_bytes: u64,
    /// The limit in bytes; `null` when unlimited.
    pub limit_bytes: Option<u64>,
    /// `used_bytes` as a percentage of `limit_bytes`, one decimal; `null`
    /// when unlimited.
    pub percent: Option<f64>,
}

impl Usage {
    fn new(used_bytes: u64, limit_bytes: Option<u64>) -> Self {
        let limit_bytes = limit_bytes.filter(|limit| *limit > 0);
        Self {
            used_bytes,
            limit_bytes,
            percent: limit_bytes
                .map(|limit| (used_bytes as f64 * 1000.0 / limit as f64).round() / 10.0),
        }
    }
}

/// Output of `account-summary`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SummaryOut {
    /// The account.
    pub account: Account,
    /// Disk space used against the quota.
    pub disk: Option<Usage>,
    /// This month's bandwidth against the limit; `null` when the server
    /// did not report it (see `warnings`).
    pub bandwidth: Option<Usage>,
    /// What could not be read, if anything.
    pub warnings: Vec<String>,
}

/// An account with its disk and bandwidth use against its limits: WHM's
/// `listaccts`, and UAPI `ResourceUsage::get_usages` through `uapi_cpanel`
/// for the figures WHM API 1 has no call for.
pub fn account_summary(input: SummaryIn, _cx: &Context) -> Result<SummaryOut, StepError> {
    check_user("user", &input.user)?;
    let whm = Whm::connect(&input.connection)?;
    let account = account::require(&whm, &input.user)?;
    let mut warnings = Vec::new();
    let from_listaccts = account
        .disk_used_bytes
        .map(|used| Usage::new(used, account.disk_limit_bytes));
    let (disk, bandwidth) = match whm.uapi(&input.user, "ResourceUsage", "get_usages") {
        Ok(reply) => {
            let usages = reply.data;
            let disk = usage(&usages, "disk_usage").or(from_listaccts);
            let bandwidth = usage(&usages, "bandwidth");
            if bandwidth.is_none() {
                warnings.push("the server reported no bandwidth figure".to_owned());
            }
            (disk, bandwidth)
        }
        Err(err @ (WhmError::UapiFailed { .. } | WhmError::NotWhm { .. })) => {
            warnings.push(format!("bandwidth unknown: {err}"));
            (from_listaccts, None)
        }
        Err(err) => return Err(err.into()),
    };
    Ok(SummaryOut {
        account,
        disk,
        bandwidth,
        warnings,
    })
}

/// The entry `id` of `ResourceUsage::get_usages` (`usage` and `maximum`
/// in bytes; a `maximum` of `null` means unlimited).
fn usage(usages: &Value, id: &str) -> Option<Usage> {
    let entry = usages
        .as_array()?
        .iter()
        .find(|entry| entry.get("id").and_then(Value::as_str) == Some(id))?;
    let used = entry.get("usage").and_then(units::count)?;
    Some(Usage::new(
        used,
        entry.get("maximum").and_then(units::count),
    ))
}

/// Input of `list-packages`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackagesIn {
    /// How to reach WHM.
    pub connection: Connection,
}

/// A limit: a number, or `"unlimited"`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Limit {
    /// At most this many (or megabytes, for sizes).
    Count(u64),
    /// The text `unlimited`.
    Unlimited(String),
}

/// A hosting package.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Package {
    /// The package's name.
    pub name: String,
    /// Disk quota in megabytes.
    pub disk_quota_mb: Option<Limit>,
    /// Monthly bandwidth in megabytes.
    pub bandwidth_mb: Option<Limit>,
    /// Email accounts.
    pub max_email_accounts: Option<Limit>,
    /// Databases.
    pub max_databases: Option<Limit>,
    /// FTP accounts.
    pub max_ftp_accounts: Option<Limit>,
    /// Subdomains.
    pub max_subdomains: Option<Limit>,
    /// Addon domains.
    pub max_addon_domains: Option<Limit>,
    /// Parked domains (aliases).
    pub max_parked_domains: Option<Limit>,
    /// Mailing lists.
    pub max_mailing_lists: Option<Limit>,
    /// Emails each domain may send per hour.
    pub max_emails_per_hour: Option<Limit>,
    /// The feature list.
    pub feature_list: Option<String>,
    /// The cPanel theme.
    pub theme: Option<String>,
    /// The language.
    pub language: Option<String>,
    /// Shell access.
    pub shell: bool,
    /// CGI scripts.
    pub cgi: bool,
    /// A dedicated IP address.
    pub dedicated_ip: bool,
}

impl Package {
    fn from_whm(entry: &Value) -> Option<Self> {
        let limit = |key: &str| {
            let value = entry.get(key)?;
            if units::is_unlimited(value) {
                Some(Limit::Unlimited("unlimited".into()))
            } else {
                units::count(value).map(Limit::Count)
            }
        };
        let text = |key: &str| {
            entry
                .get(key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let yes = |key: &str| match entry.get(key) {
            Some(Value::String(v)) => matches!(v.as_str(), "y" | "Y" | "1"),
            Some(other) => as_flag(other).unwrap_or(false),
            None => false,
        };
        Some(Self {
            name: text("name")?,
            disk_quota_mb: limit("QUOTA"),
            bandwidth_mb: limit("BWLIMIT"),
            max_email_accounts: limit("MAXPOP"),
            max_databases: limit("MAXSQL"),
            max_ftp_accounts: limit("MAXFTP"),
            max_subdomains: limit("MAXSUB"),
            max_addon_domains: limit("MAXADDON"),
            max_parked_domains: limit("MAXPARK"),
            max_mailing_lists: limit("MAXLST"),
            max_emails_per_hour: limit("MAX_EMAIL_PER_HOUR"),
            feature_list: text("FEATURELIST"),
            theme: text("CPMOD"),
            language: text("LANG"),
            shell: yes("HASSHELL"),
            cgi: yes("CGI"),
            dedicated_ip: yes("IP"),
        })
    }
}

/// Output of `list-packages`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PackagesOut {
    /// The packages the token may use, sorted by name.
    pub packages: Vec<Package>,
}

/// Lists the hosting packages.
pub fn list_packages(input: PackagesIn, _cx: &Context) -> Result<PackagesOut, StepError> {
    let whm = Whm::connect(&input.connection)?;
    let mut packages = packages(&whm)?;
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(PackagesOut { packages })
}

fn packages(whm: &Whm) -> Result<Vec<Package>, WhmError> {
    let reply = whm.get("listpkgs", &[])?;
    Ok(reply
        .data
        .get("pkg")
        .and_then(Value::as_array)
        .map(|entries| entries.iter().filter_map(Package::from_whm).collect())
        .unwrap_or_default())
}

/// The names of the packages the token may use.
pub(crate) fn package_names(whm: &Whm) -> Result<Vec<String>, WhmError> {
    Ok(packages(whm)?.into_iter().map(|p| p.name).collect())
}

/// Input of `test-connection`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestIn {
    /// How to reach WHM.
    pub connection: Connection,
}

/// Output of `test-connection`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TestOut {
    /// Always `true` (a failure is an error).
    pub ok: bool,
    /// The WHM version (e.g. `11.110.0.8`).
    pub version: Option<String>,
    /// The WHM user the token belongs to.
    pub username: String,
}

/// Checks the address, the certificate and the token with WHM's `version`
/// call.
pub fn test_connection(input: TestIn, _cx: &Context) -> Result<TestOut, StepError> {
    let whm = Whm::connect(&input.connection)?;
    let reply = whm.get("version", &[])?;
    let version = reply
        .data
        .get("version")
        .and_then(Value::as_str)
        .map(str::to_owned);
    log::info!(
        "whm answered, version {}",
        version.as_deref().unwrap_or("unknown")
    );
    Ok(TestOut {
        ok: true,
        version,
        username: input.connection.username.trim().to_owned(),
    })
}
