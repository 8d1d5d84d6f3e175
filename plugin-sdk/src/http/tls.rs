//! Servers whose certificate is not publicly trusted (a control panel's or
//! an appliance's self-signed certificate).
//!
//! A plugin cannot change how TLS is checked: the host does that, with the
//! setting the operator granted the destination's origin in `relais.toml`
//! (`pin_sha256`, `ca_file`). A plugin whose input says "this server's
//! certificate is not publicly trusted" (typically `verify_tls: false`)
//! marks each request with [`HEADER`]`: `[`OPERATOR_TRUST`]; the host then
//! applies the operator's setting for that origin, refuses the request when
//! the operator granted none, and never forwards the header.
//!
//! [`OperatorTrust`] does the marking and turns the host's refusals and
//! certificate errors into messages that say what the operator must do.
//!
//! ```
//! use relais_plugin_sdk::http::{self, Method, tls::OperatorTrust};
//! use relais_plugin_sdk::testing::{FakeHost, FakeResponse};
//!
//! const TLS: OperatorTrust<'static> = OperatorTrust {
//!     setting: "connection.verify_tls",
//!     server: "router",
//! };
//!
//! let url = "https://192.0.2.1:8443/api/status";
//! let host = FakeHost::new().on(Method::Get, url, FakeResponse::refused("HTTP-request-denied"));
//! let err = host
//!     .run(|| TLS.send(http::get(url), TLS.applies(false, url)))
//!     .unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "request to https://192.0.2.1:8443/api/status refused by the host: HTTP-request-denied: \
//!      connection.verify_tls is false, so relais.toml must grant this router a TLS setting \
//!      (pin_sha256 or ca_file; the run log names the section)"
//! );
//! assert_eq!(host.requests()[0].header("relais-tls"), Some("operator-trust"));
//! ```

use super::{Error, RequestBuilder, Response};

/// The request header that asks the host for the operator's TLS setting of
/// the request's origin.
pub const HEADER: &str = "relais-tls";
/// [`HEADER`]'s one value.
pub const OPERATOR_TRUST: &str = "operator-trust";
/// What the `wasi:http` error code of a refused certificate reads as in a
/// transport error's reason.
pub const CERTIFICATE_ERROR: &str = "TLS-certificate-error";

/// How a plugin names things in the hints it adds to TLS failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorTrust<'a> {
    /// The input that asks for the operator's setting, read as a boolean
    /// that is `false` then (`connection.verify_tls`).
    pub setting: &'a str,
    /// What the server is, for the operator (`panel`, `router`).
    pub server: &'a str,
}

impl OperatorTrust<'_> {
    /// Whether requests to `origin` must ask for the operator's setting:
    /// the input turned public verification off (`verify` is `false`) and
    /// the origin is `https` (plain `http` has no certificate to check).
    pub fn applies(&self, verify: bool, origin: &str) -> bool {
        !verify
            && origin
                .get(..8)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }

    /// `request`, marked with [`HEADER`]`: `[`OPERATOR_TRUST`] when
    /// `operator_trust`.
    pub fn mark(&self, request: RequestBuilder, operator_trust: bool) -> RequestBuilder {
        if operator_trust {
            request.header(HEADER, OPERATOR_TRUST)
        } else {
            request
        }
    }

    /// Sends `request`, [marked](Self::mark) when `operator_trust`, and
    /// [explains](Self::explain) what fails.
    pub fn send(&self, request: RequestBuilder, operator_trust: bool) -> Result<Response, Error> {
        self.mark(request, operator_trust)
            .send()
            .map_err(|err| self.explain(err, operator_trust))
    }

    /// Adds what an operator needs to know to a refusal or a certificate
    /// error, depending on whether the request asked for the operator's
    /// setting (`operator_trust`). The error keeps its variant (so its
    /// step error kind); other errors are returned as they are.
    pub fn explain(&self, err: Error, operator_trust: bool) -> Error {
        let Self { setting, server } = self;
        match err {
            Error::Refused { url, reason } if operator_trust => Error::Refused {
                url,
                reason: format!(
                    "{reason}: {setting} is false, so relais.toml must grant this {server} a TLS \
                     setting (pin_sha256 or ca_file; the run log names the section)"
                ),
            },
            Error::Transport { url, reason } if reason.contains(CERTIFICATE_ERROR) => {
                let hint = if operator_trust {
                    format!(
                        "the certificate does not match the TLS setting relais.toml grants this \
                         {server} (the run log shows the fingerprint seen)"
                    )
                } else {
                    format!(
                        "the certificate is not publicly trusted: for a self-signed {server} set \
                         {setting}: false and grant its fingerprint in relais.toml (the run log \
                         shows it; see the plugin's README)"
                    )
                };
                Error::Transport {
                    url,
                    reason: format!("{reason}: {hint}"),
                }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StepError;
    use crate::http::{self, Method};
    use crate::testing::{FakeHost, FakeResponse};

    const PANEL: OperatorTrust<'static> = OperatorTrust {
        setting: "connection.verify_tls",
        server: "panel",
    };
    const URL: &str = "https://whm.example.net:2087/json-api/version";

    fn refused() -> Error {
        Error::Refused {
            url: URL.into(),
            reason: "HTTP-request-denied".into(),
        }
    }

    fn transport(reason: &str) -> Error {
        Error::Transport {
            url: URL.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn applies_only_to_https_without_public_verification() {
        assert!(PANEL.applies(false, "https://whm.example.net:2087"));
        assert!(PANEL.applies(false, "HTTPS://whm.example.net"));
        assert!(!PANEL.applies(true, "https://whm.example.net:2087"));
        assert!(!PANEL.applies(false, "http://127.0.0.1:2086"));
        assert!(!PANEL.applies(false, "https:/"));
        assert!(!PANEL.applies(false, ""));
    }

    #[test]
    fn refusals_say_what_to_grant_only_when_the_operators_setting_was_asked() {
        assert_eq!(
            PANEL.explain(refused(), true).to_string(),
            "request to https://whm.example.net:2087/json-api/version refused by the host: \
             HTTP-request-denied: connection.verify_tls is false, so relais.toml must grant this \
             panel a TLS setting (pin_sha256 or ca_file; the run log names the section)"
        );
        assert_eq!(PANEL.explain(refused(), false), refused());
        assert_eq!(
            StepError::from(PANEL.explain(refused(), true)).kind(),
            "fatal"
        );
    }

    #[test]
    fn certificate_errors_point_at_the_setting_or_at_the_pin() {
        let bad = || transport("TLS-certificate-error");
        let explained = PANEL.explain(bad(), false);
        assert_eq!(
            explained.to_string(),
            "request to https://whm.example.net:2087/json-api/version failed: \
             TLS-certificate-error: the certificate is not publicly trusted: for a self-signed \
             panel set connection.verify_tls: false and grant its fingerprint in relais.toml (the \
             run log shows it; see the plugin's README)"
        );
        assert!(StepError::from(explained).is_retryable());
        assert_eq!(
            PANEL.explain(bad(), true).to_string(),
            "request to https://whm.example.net:2087/json-api/version failed: \
             TLS-certificate-error: the certificate does not match the TLS setting relais.toml \
             grants this panel (the run log shows the fingerprint seen)"
        );
    }

    #[test]
    fn other_errors_are_left_alone() {
        for operator_trust in [false, true] {
            let other = transport("connection-refused");
            assert_eq!(PANEL.explain(other.clone(), operator_trust), other);
            let invalid = Error::InvalidUrl {
                url: "x".into(),
                reason: "TLS-certificate-error".into(),
            };
            assert_eq!(PANEL.explain(invalid.clone(), operator_trust), invalid);
        }
    }

    #[test]
    fn send_marks_only_when_asked_and_explains() {
        let host = FakeHost::new()
            .on_once(Method::Get, URL, FakeResponse::ok())
            .on_once(Method::Get, URL, FakeResponse::ok())
            .on(
                Method::Get,
                URL,
                FakeResponse::transport_error("TLS-certificate-error"),
            );
        host.run(|| {
            PANEL.send(http::get(URL), true).unwrap();
            PANEL.send(http::get(URL), false).unwrap();
            let err = PANEL.send(http::get(URL), true).unwrap_err();
            assert!(
                err.to_string()
                    .ends_with("(the run log shows the fingerprint seen)")
            );
        });
        let marks: Vec<Option<String>> = host
            .requests()
            .iter()
            .map(|r| r.header(HEADER).map(str::to_owned))
            .collect();
        assert_eq!(
            marks,
            [
                Some(OPERATOR_TRUST.to_owned()),
                None,
                Some(OPERATOR_TRUST.to_owned())
            ]
        );
    }
}
