//! The certificate verifier behind every outbound TLS connection, and the
//! run-log text of a refused certificate.
//!
//! One verifier type for all settings, so a refusal always carries the
//! fingerprint of the certificate seen: an operator can compare it with the
//! panel's own and copy it into `pin_sha256`. Whatever the setting, the
//! handshake signature is verified with the provider's algorithms: the
//! server must hold the key of the certificate it presents.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use wasmtime_wasi_http::Error as HttpError;

use super::Fingerprint;
use crate::grants::Origin;

/// What makes a certificate acceptable.
#[derive(Debug)]
pub(crate) enum Trust {
    /// A chain to one of these roots, valid for the name, in its dates.
    Roots {
        webpki: Arc<WebPkiServerVerifier>,
        /// Where the roots come from, when not the public set.
        ca_file: Option<PathBuf>,
    },
    /// A leaf certificate with one of these fingerprints.
    Pins(Vec<Fingerprint>),
    /// Anything.
    Any,
}

/// A [`ServerCertVerifier`] for one [`Trust`].
#[derive(Debug)]
pub(crate) struct Verifier {
    trust: Trust,
    algorithms: WebPkiSupportedAlgorithms,
}

impl Verifier {
    pub(crate) fn new(trust: Trust, provider: &CryptoProvider) -> Self {
        Self {
            trust,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = || Fingerprint::of(end_entity);
        match &self.trust {
            Trust::Any => Ok(ServerCertVerified::assertion()),
            Trust::Pins(pins) => {
                let seen = seen();
                if pins.contains(&seen) {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(Refusal {
                        seen,
                        why: Why::NotPinned(pins.clone()),
                    }
                    .into())
                }
            }
            Trust::Roots { webpki, ca_file } => webpki
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                .map_err(|cause| {
                    Refusal {
                        seen: seen(),
                        why: Why::Untrusted {
                            cause,
                            ca_file: ca_file.clone(),
                        },
                    }
                    .into()
                }),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A certificate the verifier refused, with its fingerprint.
#[derive(Debug)]
struct Refusal {
    seen: Fingerprint,
    why: Why,
}

#[derive(Debug)]
enum Why {
    NotPinned(Vec<Fingerprint>),
    Untrusted {
        cause: rustls::Error,
        ca_file: Option<PathBuf>,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.why {
            Why::NotPinned(_) => write!(f, "certificate {} is not pinned", self.seen),
            Why::Untrusted { cause, .. } => write!(f, "{cause} (certificate {})", self.seen),
        }
    }
}

impl std::error::Error for Refusal {}

impl From<Refusal> for rustls::Error {
    fn from(refusal: Refusal) -> Self {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(refusal))))
    }
}

/// The run-log line for a failed TLS handshake with `origin`, and the
/// `wasi:http` error to answer. `section` is the plugin's `relais.toml`
/// section (`plugins.cpanel`), for the hint.
pub(crate) fn failure(err: &std::io::Error, origin: &Origin, section: &str) -> (String, HttpError) {
    let tls = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let Some(rustls::Error::InvalidCertificate(cert)) = tls else {
        return (
            format!("tls with {origin} failed: {err}"),
            HttpError::TlsProtocolError,
        );
    };
    let refusal = match cert {
        CertificateError::Other(other) => other.0.downcast_ref::<Refusal>(),
        _ => None,
    };
    let entry = format!("[{section}.http.tls.\"{origin}\"]");
    let text = match refusal {
        None => format!("refused the certificate of {origin}: {cert}"),
        Some(Refusal {
            seen,
            why: Why::NotPinned(pins),
        }) => {
            let pins = pins
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "refused the certificate of {origin}: its sha256 fingerprint is {seen}, \
                 relais.toml pins {pins} in {entry}; if the server's certificate was \
                 replaced, check the new one on the server and set pin_sha256 = \"{seen}\""
            )
        }
        Some(Refusal {
            seen,
            why:
                Why::Untrusted {
                    cause,
                    ca_file: Some(path),
                },
        }) => format!(
            "refused the certificate of {origin}: {cause}, checked against ca_file {} of \
             {entry} (its sha256 fingerprint is {seen})",
            path.display()
        ),
        Some(Refusal {
            seen,
            why:
                Why::Untrusted {
                    cause,
                    ca_file: None,
                },
        }) => format!(
            "refused the certificate of {origin}: {cause} (its sha256 fingerprint is {seen}); \
             if this is the server's own self-signed certificate, check that fingerprint on \
             the server, then trust it in relais.toml: {entry} pin_sha256 = \"{seen}\""
        ),
    };
    (text, HttpError::TlsCertificateError)
}
