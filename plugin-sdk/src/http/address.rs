//! Where requests go, as a step's input says it: [`base_url`] (a vendor
//! API's base URL, `connection.base_url`) and [`ServerAddress`] (the
//! address of a server a plugin manages, a control panel or an appliance,
//! as a user writes it: `panel.example.com`,
//! `https://panel.example.com:8443/`, reduced to the origin requests go
//! to).

use crate::StepError;

/// A base URL from a step's input (`connection.base_url`), without its
/// trailing `/`s, so that paths append to it: `format!("{base}/v1/...")`.
/// It must start with `https://` or `http://` (plain `http` towards a mock
/// or a tunnel; the host's grants decide where requests may go); otherwise
/// the step's input is wrong: `invalid-input` naming `field`.
///
/// ```
/// use relais_plugin_sdk::http;
///
/// assert_eq!(http::base_url("connection.base_url", "https://api.test/v1/"), Ok("https://api.test/v1"));
/// let err = http::base_url("connection.base_url", "ftp://api.test").unwrap_err();
/// assert_eq!(err.kind(), "invalid-input");
/// assert_eq!(err.message(), "connection.base_url: \"ftp://api.test\" is not an http(s) url");
/// ```
pub fn base_url<'a>(field: &str, written: &'a str) -> Result<&'a str, StepError> {
    let base = written.trim_end_matches('/');
    if base.starts_with("https://") || base.starts_with("http://") {
        Ok(base)
    } else {
        Err(StepError::invalid_input(format!(
            "{field}: {base:?} is not an http(s) url"
        )))
    }
}

/// How one plugin reads the address of the servers it manages: which field
/// holds it, the ports implied, the API path a user may paste along, and
/// how the credential is named in refusals.
///
/// [`origin`](Self::origin) gives `scheme://host:port`:
///
/// - a bare host name means `https://HOST:TLS_PORT`; `http://HOST` means
///   port `plain_port`;
/// - a trailing `/` or [`api_path`](Self::api_path) is dropped; any other
///   path, a query, a fragment or credentials are refused;
/// - plain `http` is refused except towards the machine itself
///   (`localhost`, `127.*`, `[::1]`: an SSH tunnel, a test), since the
///   credential would cross the network in clear;
/// - the host is lowercased; a port must be 1 to 65535.
///
/// ```
/// use relais_plugin_sdk::http::ServerAddress;
///
/// const ADDRESS: ServerAddress<'static> = ServerAddress {
///     field: "connection.url",
///     tls_port: 8443,
///     plain_port: 8880,
///     api_path: "/api/v2",
///     credential: "API key",
///     secret_field: "connection.api_key_secret",
/// };
///
/// assert_eq!(ADDRESS.origin("Panel.example.com").unwrap(), "https://panel.example.com:8443");
/// assert_eq!(ADDRESS.origin("https://panel.example.com/api/v2/").unwrap(), "https://panel.example.com:8443");
/// assert_eq!(ADDRESS.origin("http://127.0.0.1").unwrap(), "http://127.0.0.1:8880");
/// let err = ADDRESS.origin("http://panel.example.com").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "connection.url \"http://panel.example.com\": uses plain http: the API key would cross \
///      the network in clear; use https://HOST:8443"
/// );
/// assert_eq!(relais_plugin_sdk::StepError::from(err).kind(), "invalid-input");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerAddress<'a> {
    /// The input field that holds the address, named in errors
    /// (`connection.url`).
    pub field: &'a str,
    /// The port implied by `https` (or no scheme).
    pub tls_port: u16,
    /// The port implied by `http`.
    pub plain_port: u16,
    /// The API's path, dropped when a user pastes it along (`/json-api`);
    /// empty when there is none.
    pub api_path: &'a str,
    /// What the credential is called in the plain-http refusal
    /// (`API token`).
    pub credential: &'a str,
    /// The input field that names the credential's secret, pointed at when
    /// the address carries credentials (`connection.token_secret`).
    pub secret_field: &'a str,
}

/// An address [`ServerAddress::origin`] refuses. Converts into an
/// `invalid-input` [`StepError`] with the same message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {written:?}: {reason}")]
pub struct AddressError {
    /// The input field that holds the address.
    pub field: String,
    /// The address as written.
    pub written: String,
    /// What is wrong with it.
    pub reason: String,
}

impl From<AddressError> for StepError {
    fn from(err: AddressError) -> Self {
        StepError::invalid_input(err.to_string())
    }
}

impl ServerAddress<'_> {
    /// `scheme://host:port` from what the user wrote (see the type's
    /// documentation for the rules).
    pub fn origin(&self, written: &str) -> Result<String, AddressError> {
        let bad = |reason: String| AddressError {
            field: self.field.to_owned(),
            written: written.to_owned(),
            reason,
        };
        let text = written.trim();
        if text.is_empty() {
            return Err(bad("is empty".to_owned()));
        }
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("https".to_owned(), text),
        };
        if scheme != "https" && scheme != "http" {
            return Err(bad("must be an https:// address".to_owned()));
        }
        if rest.contains(['?', '#']) {
            return Err(bad("must not carry a query or a fragment".to_owned()));
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = path.trim_end_matches('/');
        if !path.is_empty() && path != self.api_path {
            return Err(bad(format!(
                "must be the server's address only (https://HOST:{}), without a path",
                self.tls_port
            )));
        }
        if authority.contains('@') {
            return Err(bad(format!(
                "must not carry credentials: name a secret in {}",
                self.secret_field
            )));
        }
        let (host, port) =
            split_host_port(authority).ok_or_else(|| bad("has no valid host".to_owned()))?;
        if scheme == "http" && !is_loopback(&host) {
            return Err(bad(format!(
                "uses plain http: the {} would cross the network in clear; use https://HOST:{}",
                self.credential, self.tls_port
            )));
        }
        let port = port.unwrap_or(if scheme == "https" {
            self.tls_port
        } else {
            self.plain_port
        });
        Ok(format!("{scheme}://{host}:{port}"))
    }
}

/// `(host, port)` of `host`, `host:port`, `[v6]` or `[v6]:port`; the host
/// lowercased.
fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6.split_once(']')?;
        if inside.is_empty() || !inside.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return None;
        }
        (format!("[{inside}]"), after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (authority.to_owned(), None),
        }
    };
    let valid_host = !host.is_empty()
        && (host.starts_with('[')
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
    if !valid_host {
        return None;
    }
    let port = match port {
        None => None,
        Some(text) => Some(text.parse::<u16>().ok().filter(|p| *p != 0)?),
    };
    Some((host.to_ascii_lowercase(), port))
}

/// `localhost`, `[::1]` or an IPv4 literal in 127.0.0.0/8 (a name such as
/// `127.example.net` is not: it resolves anywhere).
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PANEL: ServerAddress<'static> = ServerAddress {
        field: "connection.address",
        tls_port: 9443,
        plain_port: 9080,
        api_path: "/api",
        credential: "password",
        secret_field: "connection.password_secret",
    };

    #[test]
    fn base_urls_lose_trailing_slashes_and_must_be_http() {
        for (written, base) in [
            ("https://api.test", "https://api.test"),
            ("https://api.test/v1//", "https://api.test/v1"),
            ("http://127.0.0.1:9/", "http://127.0.0.1:9"),
        ] {
            assert_eq!(base_url("connection.base_url", written), Ok(base));
        }
        for (written, shown) in [
            ("ftp://api.test/", "ftp://api.test"),
            ("api.test", "api.test"),
            ("HTTPS://api.test", "HTTPS://api.test"),
            ("https:/api.test", "https:/api.test"),
            ("", ""),
        ] {
            assert_eq!(
                base_url("field", written),
                Err(StepError::invalid_input(format!(
                    "field: {shown:?} is not an http(s) url"
                ))),
                "{written:?}"
            );
        }
    }

    #[test]
    fn accepts_what_users_write() {
        for (written, expected) in [
            ("box.example.com", "https://box.example.com:9443"),
            ("BOX.Example.com:9443", "https://box.example.com:9443"),
            (
                "https://box.example.com:9443/",
                "https://box.example.com:9443",
            ),
            (
                "https://box.example.com/api",
                "https://box.example.com:9443",
            ),
            (
                "HTTPS://box.example.com/api//",
                "https://box.example.com:9443",
            ),
            (
                "https://box.example.com:8443",
                "https://box.example.com:8443",
            ),
            ("box.example.com:1", "https://box.example.com:1"),
            ("box.example.com:65535", "https://box.example.com:65535"),
            (" https://[2001:db8::1]:9443 ", "https://[2001:db8::1]:9443"),
            ("https://[2001:DB8::1]", "https://[2001:db8::1]:9443"),
            ("http://127.0.0.1:4010", "http://127.0.0.1:4010"),
            ("http://localhost", "http://localhost:9080"),
            ("http://[::1]", "http://[::1]:9080"),
        ] {
            assert_eq!(PANEL.origin(written), Ok(expected.to_owned()), "{written}");
        }
    }

    #[test]
    fn refuses_what_would_go_wrong_with_the_exact_reason() {
        for (written, reason) in [
            ("", "is empty"),
            ("   ", "is empty"),
            ("ftp://box.example.com", "must be an https:// address"),
            (
                "http://box.example.com:9080",
                "uses plain http: the password would cross the network in clear; use \
                 https://HOST:9443",
            ),
            (
                "http://127.evil.example:9080",
                "uses plain http: the password would cross the network in clear; use \
                 https://HOST:9443",
            ),
            (
                "https://box.example.com:9443/cpsess123/api",
                "must be the server's address only (https://HOST:9443), without a path",
            ),
            (
                "https://box.example.com/apis",
                "must be the server's address only (https://HOST:9443), without a path",
            ),
            (
                "https://box.example.com:9443/?x=1",
                "must not carry a query or a fragment",
            ),
            (
                "https://box.example.com#top",
                "must not carry a query or a fragment",
            ),
            (
                "https://root:pw@box.example.com",
                "must not carry credentials: name a secret in connection.password_secret",
            ),
            ("https://box.example.com:65536", "has no valid host"),
            ("https://box.example.com:0", "has no valid host"),
            ("https://box.example.com:", "has no valid host"),
            ("https://box example.com", "has no valid host"),
            ("https://box_1.example.com", "has no valid host"),
            ("https://[zz]:9443", "has no valid host"),
            ("https://[]:9443", "has no valid host"),
            ("https://[::1", "has no valid host"),
            ("https://:9443", "has no valid host"),
        ] {
            let err = PANEL.origin(written).unwrap_err();
            assert_eq!(
                err,
                AddressError {
                    field: "connection.address".into(),
                    written: written.into(),
                    reason: reason.into(),
                },
                "{written:?}"
            );
            let step = StepError::from(err);
            assert_eq!(step.kind(), "invalid-input");
            assert_eq!(
                step.message(),
                format!("connection.address {written:?}: {reason}")
            );
        }
    }

    #[test]
    fn no_api_path_means_no_path_at_all() {
        let bare = ServerAddress {
            api_path: "",
            ..PANEL
        };
        assert_eq!(
            bare.origin("https://box.example.com/"),
            Ok("https://box.example.com:9443".to_owned())
        );
        assert!(bare.origin("https://box.example.com/api").is_err());
    }
}
