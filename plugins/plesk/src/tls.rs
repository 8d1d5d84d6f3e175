//! `connection.verify_tls: false`: the panel's certificate is not publicly
//! trusted (Plesk's self-signed certificate), so the Relais host must check
//! it with the TLS setting the operator granted this panel's origin in
//! `relais.toml` (`pin_sha256`, `ca_file`). A plugin cannot change TLS
//! itself: it marks each request with the header below, and the host
//! refuses the request when the operator granted nothing for the origin.
//! The header never reaches the panel.

use relais_plugin_sdk::http;

/// The header that asks the host for the operator's TLS setting.
pub(crate) const HEADER: &str = "relais-tls";
/// Its one value.
pub(crate) const OPERATOR_TRUST: &str = "operator-trust";

/// What the wasi:http error code of a refused certificate reads as.
const CERTIFICATE_ERROR: &str = "TLS-certificate-error";

/// Adds what an operator needs to know to a refusal or a certificate
/// error, depending on whether the step asked for the operator's TLS
/// setting (`operator_trust`). The error keeps its kind.
pub(crate) fn explain(err: http::Error, operator_trust: bool) -> http::Error {
    match err {
        http::Error::Refused { url, reason } if operator_trust => http::Error::Refused {
            url,
            reason: format!(
                "{reason}: connection.verify_tls is false, so relais.toml must grant this \
                 panel a TLS setting (pin_sha256 or ca_file; the run log names the section)"
            ),
        },
        http::Error::Transport { url, reason } if reason.contains(CERTIFICATE_ERROR) => {
            let hint = if operator_trust {
                "the certificate does not match the TLS setting relais.toml grants this panel \
                 (the run log shows the fingerprint seen)"
            } else {
                "the certificate is not publicly trusted: for a self-signed panel set \
                 connection.verify_tls: false and grant its fingerprint in relais.toml (the run \
                 log shows it; see the plugin's README)"
            };
            http::Error::Transport {
                url,
                reason: format!("{reason}: {hint}"),
            }
        }
        other => other,
    }
}
