//! What a plugin is allowed to reach: outbound HTTP origins, the rules
//! that keep it away from private and metadata addresses, and the TLS
//! settings an operator grants some of its origins.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::tls::{TlsError, TlsGrant};

/// A `scheme://host:port` origin a plugin may send requests to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// Lowercase host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Explicit or scheme-default port.
    pub port: u16,
}

/// An origin string that could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid origin {input:?}: {reason}")]
pub struct OriginError {
    input: String,
    reason: &'static str,
}

impl Origin {
    /// Parses `https://api.stripe.com`, `http://127.0.0.1:8080`, `https://[::1]:8443`.
    /// A path other than `/`, a query, or user info are refused: a grant is an origin.
    pub fn parse(input: &str) -> Result<Self, OriginError> {
        let err = |reason| OriginError {
            input: input.to_string(),
            reason,
        };
        let url = url::Url::parse(input).map_err(|_| err("not an absolute URL"))?;
        let scheme = url.scheme().to_string();
        if scheme != "http" && scheme != "https" {
            return Err(err("scheme must be http or https"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err("user info is not allowed in a grant"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(err("a grant is an origin: no path, query or fragment"));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(err("missing host")),
        };
        let port = url
            .port_or_known_default()
            .ok_or_else(|| err("missing port"))?;
        Ok(Self { scheme, host, port })
    }

    /// The origin of a request URI, if it has one.
    pub fn of_uri(uri: &http::Uri) -> Option<Self> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let host = uri.host()?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .to_ascii_lowercase();
        let port = uri.port_u16().unwrap_or(match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        });
        Some(Self { scheme, host, port })
    }

    /// The host as an IP address, when the origin names one literally.
    pub fn ip_literal(&self) -> Option<IpAddr> {
        IpAddr::from_str(&self.host).ok()
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}://[{}]:{}", self.scheme, self.host, self.port)
        } else {
            write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

impl TryFrom<String> for Origin {
    type Error = OriginError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Origin> for String {
    fn from(value: Origin) -> Self {
        value.to_string()
    }
}

/// Outbound HTTP grants of one plugin. Empty means no outbound HTTP at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawHttpGrants")]
pub struct HttpGrants {
    /// Origins the plugin may call. A private or loopback IP written literally
    /// here is reachable; a *name* granted here must still resolve to a public
    /// address, unless it is also listed in `private`.
    pub hosts: Vec<Origin>,
    /// Granted origins whose names may resolve to private, loopback or
    /// link-local addresses (an intranet panel, a test server).
    pub private: Vec<Origin>,
    /// How the certificates of some granted https origins are checked,
    /// instead of against the public roots (`[plugins.NAME.http.tls."ORIGIN"]`:
    /// `ca_file`, `pin_sha256` or `verify = false`). Each key must be an
    /// https origin of `hosts` or `private`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tls: BTreeMap<Origin, TlsGrant>,
}

/// [`HttpGrants`] as written, before the TLS entries are checked against
/// the origins.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpGrants {
    #[serde(default)]
    hosts: Vec<Origin>,
    #[serde(default)]
    private: Vec<Origin>,
    #[serde(default, deserialize_with = "crate::tls::deserialize_tls_map")]
    tls: BTreeMap<Origin, TlsGrant>,
}

impl TryFrom<RawHttpGrants> for HttpGrants {
    type Error = TlsError;
    fn try_from(raw: RawHttpGrants) -> Result<Self, Self::Error> {
        let grants = HttpGrants {
            hosts: raw.hosts,
            private: raw.private,
            tls: raw.tls,
        };
        grants.check()?;
        Ok(grants)
    }
}

impl HttpGrants {
    /// Grants for exactly these origins.
    pub fn hosts(hosts: impl IntoIterator<Item = Origin>) -> Self {
        Self {
            hosts: hosts.into_iter().collect(),
            ..Self::default()
        }
    }

    /// The same grants, with `grant` for `origin`'s certificates.
    pub fn with_tls(mut self, origin: Origin, grant: TlsGrant) -> Self {
        self.tls.insert(origin, grant);
        self
    }

    /// Checks that every TLS entry names an https origin of `hosts` or
    /// `private` (done when deserialised and when a plugin is loaded).
    pub fn check(&self) -> Result<(), TlsError> {
        crate::tls::check(self)
    }

    /// Whether a request towards `origin` may leave at all.
    pub fn allows(&self, origin: &Origin) -> bool {
        self.hosts.contains(origin) || self.private.contains(origin)
    }

    /// Whether `origin`, once resolved to `ip`, may be connected to.
    pub fn allows_address(&self, origin: &Origin, ip: IpAddr) -> bool {
        if is_public(ip) {
            return true;
        }
        if self.private.contains(origin) {
            return !is_metadata(ip) || origin.ip_literal() == Some(ip);
        }
        // A literal private IP that was granted explicitly is what the
        // operator asked for; a name that happens to resolve there is not.
        origin.ip_literal() == Some(canonical(ip))
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Cloud metadata endpoints (AWS, GCP, Azure, Alibaba, Oracle).
pub fn is_metadata(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            v4 == Ipv4Addr::new(169, 254, 169, 254) || v4 == Ipv4Addr::new(100, 100, 100, 200)
        }
        IpAddr::V6(v6) => v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254),
    }
}

/// Whether an address is on the public internet: not loopback, private,
/// link-local, unique-local, shared (CGNAT), multicast, documentation,
/// unspecified, broadcast, or a cloud metadata endpoint.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0.0/24
                || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18.0.0/15
                || o[0] >= 240
                || is_metadata(IpAddr::V4(v4)))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 can reach anything
                || s[0] == 0x2002 // 6to4 embeds an IPv4 address
                || is_metadata(IpAddr::V6(v6)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_origins() {
        let o = Origin::parse("https://API.Stripe.com").unwrap();
        assert_eq!(o.to_string(), "https://api.stripe.com:443");
        let o = Origin::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(o.port, 8080);
        assert_eq!(o.ip_literal(), Some(ip("127.0.0.1")));
        let o = Origin::parse("https://[::1]:8443").unwrap();
        assert_eq!(o.to_string(), "https://[::1]:8443");
        assert!(Origin::parse("ftp://x").is_err());
        assert!(Origin::parse("https://x/path").is_err());
        assert!(Origin::parse("https://u:p@x").is_err());
        assert!(Origin::parse("api.stripe.com").is_err());
    }

    #[test]
    fn origin_of_uri_defaults_ports() {
        let uri: http::Uri = "https://example.com/a?b".parse().unwrap();
        assert_eq!(
            Origin::of_uri(&uri).unwrap(),
            Origin::parse("https://example.com:443").unwrap()
        );
        let uri: http::Uri = "http://[::1]:81/".parse().unwrap();
        assert_eq!(Origin::of_uri(&uri).unwrap().host, "::1");
    }

    #[test]
    fn classifies_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "fd00:ec2::254",
            "255.255.255.255",
        ] {
            assert!(!is_public(ip(private)), "{private} must not be public");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(ip(public)), "{public} must be public");
        }
    }

    #[test]
    fn private_addresses_need_an_explicit_grant() {
        let lit = Origin::parse("http://127.0.0.1:9000").unwrap();
        let name = Origin::parse("http://localhost:9000").unwrap();
        let grants = HttpGrants::hosts([lit.clone(), name.clone()]);
        assert!(grants.allows_address(&lit, ip("127.0.0.1")));
        assert!(!grants.allows_address(&name, ip("127.0.0.1")));
        assert!(grants.allows_address(&name, ip("93.184.216.34")));
        let grants = HttpGrants {
            private: vec![name.clone()],
            ..HttpGrants::default()
        };
        assert!(grants.allows(&name));
        assert!(grants.allows_address(&name, ip("127.0.0.1")));
        assert!(!grants.allows_address(&name, ip("169.254.169.254")));
    }
}
