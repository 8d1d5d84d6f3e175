//! `ssl-status`: each domain of an account with its certificate (issuer,
//! expiry) and its AutoSSL state.
//!
//! WHM API 1 has no per-domain view of an account's certificates, so three
//! UAPI functions run as the account through WHM's `uapi_cpanel`:
//! `SSL::installed_hosts` (the certificate on each website),
//! `SSL::get_autossl_excluded_domains` and `SSL::get_autossl_problems`.

use std::collections::BTreeMap;

use relais_plugin_sdk::input::domain_name;
use relais_plugin_sdk::prelude::*;
use serde_json::Value;

use crate::account::check_user;
use crate::units;
use crate::whm::{Connection, Whm, as_flag};

/// Input of `ssl-status`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SslIn {
    /// How to reach WHM.
    pub connection: Connection,
    /// The cPanel user name.
    pub user: String,
    /// Only these domains (default: every domain of the account's
    /// websites). A domain the account does not serve is reported
    /// uncovered.
    #[serde(default)]
    pub domains: Option<Vec<String>>,
}

/// The certificate that serves a domain.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Certificate {
    /// The issuer's organisation (e.g. `Let's Encrypt`, `Sectigo Limited`).
    pub issuer: Option<String>,
    /// The issuer's common name (e.g. `R3`).
    pub issuer_common_name: Option<String>,
    /// The certificate's subject common name.
    pub subject: Option<String>,
    /// Start of validity, ISO 8601 UTC.
    pub not_before: Option<String>,
    /// End of validity, ISO 8601 UTC.
    pub expires_at: Option<String>,
    /// Whole days from the server's clock (its HTTP `Date`) to
    /// `expires_at`; negative once expired, `null` when either is unknown.
    pub expires_in_days: Option<i64>,
    /// Whether it is self-signed.
    pub self_signed: bool,
    /// `dv`, `ov` or `ev`.
    pub validation_type: Option<String>,
    /// Whether AutoSSL issued it.
    pub autossl: bool,
}

/// A domain's TLS state.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DomainSsl {
    /// The domain.
    pub domain: String,
    /// Whether an installed certificate covers it (wildcards included).
    pub covered: bool,
    /// The certificate installed on the domain's website, if any.
    pub certificate: Option<Certificate>,
    /// Whether the account excluded the domain from AutoSSL.
    pub autossl_excluded: bool,
    /// AutoSSL's last problem with the domain, if any.
    pub autossl_problem: Option<String>,
}

/// Output of `ssl-status`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SslOut {
    /// The cPanel user name.
    pub user: String,
    /// The domains, sorted.
    pub domains: Vec<DomainSsl>,
}

/// Reports each domain's certificate and AutoSSL state.
pub fn ssl_status(input: SslIn, _cx: &Context) -> Result<SslOut, StepError> {
    check_user("user", &input.user)?;
    let wanted = input
        .domains
        .as_ref()
        .map(|domains| {
            domains
                .iter()
                .enumerate()
                .map(|(i, d)| domain_name(&format!("domains[{i}]"), d))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let whm = Whm::connect(&input.connection)?;
    let hosts = whm.uapi(&input.user, "SSL", "installed_hosts")?;
    let now = hosts.date.as_deref().and_then(units::http_date);
    let hosts = hosts.data;
    let excluded = whm
        .uapi(&input.user, "SSL", "get_autossl_excluded_domains")?
        .data;
    let problems = whm.uapi(&input.user, "SSL", "get_autossl_problems")?.data;

    let mut report: BTreeMap<String, DomainSsl> = BTreeMap::new();
    for host in hosts.as_array().into_iter().flatten() {
        let certificate = host.get("certificate").filter(|c| c.is_object());
        let covers = certificate
            .map(|c| strings(c.get("domains")))
            .unwrap_or_default();
        for domain in strings(host.get("domains")) {
            let domain = domain.to_ascii_lowercase();
            let covered = covers.iter().any(|pattern| matches(pattern, &domain));
            report.insert(
                domain.clone(),
                DomainSsl {
                    domain,
                    covered,
                    certificate: certificate.map(|c| read_certificate(c, now)),
                    autossl_excluded: false,
                    autossl_problem: None,
                },
            );
        }
    }
    let blank = |domain: &str| DomainSsl {
        domain: domain.to_owned(),
        covered: false,
        certificate: None,
        autossl_excluded: false,
        autossl_problem: None,
    };
    for entry in excluded.as_array().into_iter().flatten() {
        if let Some(domain) = entry.get("excluded_domain").and_then(Value::as_str) {
            let domain = domain.to_ascii_lowercase();
            report
                .entry(domain.clone())
                .or_insert_with(|| blank(&domain))
                .autossl_excluded = true;
        }
    }
    for entry in problems.as_array().into_iter().flatten() {
        let (Some(domain), Some(problem)) = (
            entry.get("domain").and_then(Value::as_str),
            entry.get("problem").and_then(Value::as_str),
        ) else {
            continue;
        };
        let domain = domain.to_ascii_lowercase();
        report
            .entry(domain.clone())
            .or_insert_with(|| blank(&domain))
            .autossl_problem = Some(problem.to_owned());
    }
    let domains = match wanted {
        None => report.into_values().collect(),
        Some(wanted) => {
            let mut picked: Vec<DomainSsl> = wanted
                .iter()
                .map(|d| report.get(d).cloned().unwrap_or_else(|| blank(d)))
                .collect();
            picked.sort_by(|a, b| a.domain.cmp(&b.domain));
            picked.dedup_by(|a, b| a.domain == b.domain);
            picked
        }
    };
    Ok(SslOut {
        user: input.user,
        domains,
    })
}

fn read_certificate(cert: &Value, now: Option<i64>) -> Certificate {
    let text = |key: &str| {
        cert.get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let flag = |key: &str| cert.get(key).and_then(as_flag).unwrap_or(false);
    let not_after = cert.get("not_after").and_then(units::unix_seconds);
    Certificate {
        issuer: text("issuer.organizationName"),
        issuer_common_name: text("issuer.commonName"),
        subject: text("subject.commonName"),
        not_before: cert
            .get("not_before")
            .and_then(units::unix_seconds)
            .map(units::iso8601),
        expires_at: not_after.map(units::iso8601),
        expires_in_days: not_after
            .zip(now)
            .map(|(end, now)| (end - now).div_euclid(86_400)),
        self_signed: flag("is_self_signed"),
        validation_type: text("validation_type"),
        autossl: flag("is_autossl"),
    }
}

/// The strings of a JSON array.
fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether certificate name `pattern` (maybe `*.example.com`) covers
/// `domain`: a wildcard stands for exactly one label.
fn matches(pattern: &str, domain: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(parent) => domain
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => pattern == domain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(matches("example.com", "example.com"));
        assert!(matches("*.example.com", "www.example.com"));
        assert!(matches("*.Example.com", "mail.example.com"));
        assert!(!matches("*.example.com", "example.com"));
        assert!(!matches("*.example.com", "a.b.example.com"));
        assert!(!matches("example.com", "www.example.com"));
    }
}
