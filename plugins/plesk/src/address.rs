//! The panel's address as a user writes it (`plesk.example.com`,
//! `https://plesk.example.com:8443/`), reduced to the origin requests go to.

use relais_plugin_sdk::StepError;

/// The Plesk port over TLS, implied when the address names none.
pub(crate) const PLESK_TLS_PORT: u16 = 8443;

/// `scheme://host:port` from what the user wrote.
///
/// A bare host name means `https://HOST:8443`. A trailing `/` or
/// `/api/v2` is dropped; any other path, a query, a fragment or
/// credentials are refused. Plain `http` is refused except towards the
/// machine itself (an SSH tunnel, a test): the API key would cross the
/// network in clear.
pub(crate) fn origin(written: &str) -> Result<String, StepError> {
    let bad = |why: &str| StepError::invalid_input(format!("connection.url {written:?}: {why}"));
    let text = written.trim();
    if text.is_empty() {
        return Err(bad("is empty"));
    }
    let (scheme, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("https".to_owned(), text),
    };
    if scheme != "https" && scheme != "http" {
        return Err(bad("must be an https:// address"));
    }
    if rest.contains(['?', '#']) {
        return Err(bad("must not carry a query or a fragment"));
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = path.trim_end_matches('/');
    if !path.is_empty() && path != "/api/v2" {
        return Err(bad(
            "must be the server's address only (https://HOST:8443), without a path",
        ));
    }
    if authority.contains('@') {
        return Err(bad(
            "must not carry credentials: name a secret in connection.api_key_secret",
        ));
    }
    let (host, port) = split_host_port(authority).ok_or_else(|| bad("has no valid host"))?;
    if scheme == "http" && !is_loopback(&host) {
        return Err(bad(
            "uses plain http: the API key would cross the network in clear; use https://HOST:8443",
        ));
    }
    let port = port.unwrap_or(if scheme == "https" {
        PLESK_TLS_PORT
    } else {
        8880
    });
    Ok(format!("{scheme}://{host}:{port}"))
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

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "[::1]" || host.starts_with("127.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_users_write() {
        for (written, expected) in [
            ("plesk.example.com", "https://plesk.example.com:8443"),
            ("Plesk.Example.com:8443", "https://plesk.example.com:8443"),
            (
                "https://plesk.example.com:8443/",
                "https://plesk.example.com:8443",
            ),
            (
                "https://plesk.example.com/api/v2/",
                "https://plesk.example.com:8443",
            ),
            (
                "https://plesk.example.com:443",
                "https://plesk.example.com:443",
            ),
            (" https://[2001:db8::1]:8443 ", "https://[2001:db8::1]:8443"),
            ("http://127.0.0.1:4010", "http://127.0.0.1:4010"),
            ("http://localhost", "http://localhost:8880"),
        ] {
            assert_eq!(origin(written), Ok(expected.to_owned()), "{written}");
        }
    }

    #[test]
    fn refuses_what_would_go_wrong() {
        for (written, why) in [
            ("", "is empty"),
            ("ftp://plesk.example.com", "https://"),
            ("http://plesk.example.com:8880", "plain http"),
            ("https://plesk.example.com:8443/api/v1", "without a path"),
            ("https://plesk.example.com:8443/?x=1", "query"),
            ("https://admin:pw@plesk.example.com", "credentials"),
            ("https://plesk.example.com:99999", "no valid host"),
            ("https://plesk.example.com:0", "no valid host"),
            ("https://plesk example.com", "no valid host"),
            ("https://[zz]:8443", "no valid host"),
            ("https://:8443", "no valid host"),
        ] {
            let err = origin(written).unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{written}");
            assert!(err.message().contains(why), "{written}: {err}");
        }
    }
}
