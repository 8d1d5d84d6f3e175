//! TLS of outbound HTTP: certificates are checked against the public roots
//! (Mozilla's set), unless the operator grants one plugin, for one https
//! origin, something else in `relais.toml`:
//!
//! ```toml
//! [plugins.cpanel.http]
//! hosts = ["https://whm.example.net:2087"]
//! [plugins.cpanel.http.tls."https://whm.example.net:2087"]
//! pin_sha256 = "3f0c…"          # or ca_file = "/etc/relais/whm.pem", or verify = false
//! ```
//!
//! A plugin cannot change any of it (`wasi:http` has no TLS option). It may
//! mark a request with [`TLS_HEADER`]`: operator-trust` (a panel connector
//! does when its step says `verify_tls: false`): the host then *requires* a
//! grant for that origin and refuses the request with a clear message when
//! there is none. The header is removed before the request leaves. An
//! origin that has a grant is always connected to under that grant.
//!
//! One [`rustls::ClientConfig`] is built per distinct setting when the
//! plugin is loaded, never per request; each keeps its own session cache,
//! so a session made under a relaxed setting is never resumed under another.

mod verify;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::grants::{HttpGrants, Origin};

pub(crate) use verify::failure;
use verify::{Trust, Verifier};

/// The request header by which a plugin asks for the operator's TLS setting
/// of an origin (value [`OPERATOR_TRUST`]). The host removes it.
pub const TLS_HEADER: &str = "relais-tls";

/// The one value of [`TLS_HEADER`]: this origin's certificate is not
/// publicly trusted, use the TLS grant of `relais.toml` (and refuse the
/// request when there is none).
pub const OPERATOR_TRUST: &str = "operator-trust";

/// The SHA-256 of a certificate's DER encoding, as `openssl x509 -noout
/// -fingerprint -sha256` prints it (with colons) or as hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint([u8; 32]);

/// A fingerprint that could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid pin_sha256 {input:?}: {reason}")]
pub struct FingerprintError {
    input: String,
    reason: String,
}

impl Fingerprint {
    /// The fingerprint of a certificate, from its DER encoding.
    pub fn of(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// Parses 64 hex digits, in either case, colons allowed between them
    /// (`AB:CD:…`); a leading `sha256 Fingerprint=` (openssl's output) is
    /// ignored.
    pub fn parse(input: &str) -> Result<Self, FingerprintError> {
        let err = |reason: String| FingerprintError {
            input: input.to_string(),
            reason,
        };
        let text = input.trim();
        let text = match text.split_once('=') {
            Some((label, rest)) if label.trim().eq_ignore_ascii_case("sha256 fingerprint") => {
                rest.trim()
            }
            _ => text,
        };
        let digits: String = text.chars().filter(|c| *c != ':').collect();
        if let Some(bad) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(err(format!(
                "{bad:?} is not a hex digit (expected 64 hex digits, colons allowed)"
            )));
        }
        if digits.len() != 64 {
            return Err(err(format!(
                "{} hex digits, a sha256 fingerprint has 64",
                digits.len()
            )));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&digits, &mut bytes).map_err(|e| err(e.to_string()))?;
        Ok(Self(bytes))
    }

    /// The 32 bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = FingerprintError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Fingerprint> for String {
    fn from(value: Fingerprint) -> Self {
        value.to_string()
    }
}

/// How the host checks the certificate of one granted https origin
/// (`[plugins.NAME.http.tls."https://HOST:PORT"]` in `relais.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawTlsGrant", into = "RawTlsGrant")]
pub enum TlsGrant {
    /// `ca_file = "PATH"`: the certificates of this PEM file (a panel's
    /// self-signed certificate, an internal CA) are the only roots trusted
    /// for the origin; its name and the validity dates are still checked.
    CaFile(PathBuf),
    /// `pin_sha256 = "HEX"` (or a list, while a certificate is replaced):
    /// exactly the certificate with this fingerprint is accepted, whoever
    /// issued it, whatever name and dates it carries.
    Pinned(Vec<Fingerprint>),
    /// `verify = false`: any certificate is accepted. The traffic is still
    /// encrypted, but anyone on the path can read and change it.
    Unverified,
}

/// The keys of a TLS entry as written in `relais.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTlsGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ca_file: Option<PathBuf>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "one_or_many"
    )]
    pin_sha256: Option<Vec<Fingerprint>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    verify: Option<bool>,
}

/// `pin_sha256 = "…"` or `pin_sha256 = ["…", "…"]`.
fn one_or_many<'de, D>(de: D) -> Result<Option<Vec<Fingerprint>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Pins;
    impl<'de> serde::de::Visitor<'de> for Pins {
        type Value = Vec<Fingerprint>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a sha256 fingerprint (64 hex digits) or a list of them")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Fingerprint::parse(v).map(|p| vec![p]).map_err(E::custom)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut pins = Vec::new();
            while let Some(text) = seq.next_element::<String>()? {
                pins.push(Fingerprint::parse(&text).map_err(serde::de::Error::custom)?);
            }
            Ok(pins)
        }
    }
    de.deserialize_any(Pins).map(Some)
}

impl TryFrom<RawTlsGrant> for TlsGrant {
    type Error = String;
    fn try_from(raw: RawTlsGrant) -> Result<Self, Self::Error> {
        match (raw.ca_file, raw.pin_sha256, raw.verify) {
            (None, None, Some(false)) => Ok(TlsGrant::Unverified),
            (_, _, Some(false)) => Err("verify = false accepts any certificate: \
                 it cannot be combined with ca_file or pin_sha256"
                .into()),
            (Some(_), Some(_), _) => Err("give either ca_file or pin_sha256, not both".into()),
            (Some(path), None, _) if path.as_os_str().is_empty() => {
                Err("ca_file is empty: name a PEM file".into())
            }
            (Some(path), None, _) => Ok(TlsGrant::CaFile(path)),
            (None, Some(pins), _) if pins.is_empty() => {
                Err("pin_sha256 is an empty list: give the certificate's sha256 fingerprint".into())
            }
            (None, Some(pins), _) => Ok(TlsGrant::Pinned(pins)),
            (None, None, _) => Err("a tls entry needs ca_file, pin_sha256 or verify = false \
                 (without one, certificates are checked against the public roots)"
                .into()),
        }
    }
}

impl From<TlsGrant> for RawTlsGrant {
    fn from(grant: TlsGrant) -> Self {
        match grant {
            TlsGrant::CaFile(path) => RawTlsGrant {
                ca_file: Some(path),
                ..RawTlsGrant::default()
            },
            TlsGrant::Pinned(pins) => RawTlsGrant {
                pin_sha256: Some(pins),
                ..RawTlsGrant::default()
            },
            TlsGrant::Unverified => RawTlsGrant {
                verify: Some(false),
                ..RawTlsGrant::default()
            },
        }
    }
}

/// The `tls` table of a plugin's HTTP grants: origin → setting. Two keys
/// naming the same origin (`https://x` and `https://x:443`) are an error.
pub(crate) fn deserialize_tls_map<'de, D>(de: D) -> Result<BTreeMap<Origin, TlsGrant>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error as _;
    let raw: BTreeMap<String, TlsGrant> = BTreeMap::deserialize(de)?;
    let mut out = BTreeMap::new();
    for (key, grant) in raw {
        let origin = Origin::parse(&key).map_err(D::Error::custom)?;
        if out.insert(origin.clone(), grant).is_some() {
            return Err(D::Error::custom(format!(
                "tls: {key:?} names {origin}, which has another entry"
            )));
        }
    }
    Ok(out)
}

/// A TLS grant that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The origin is not one the plugin may call.
    #[error(
        "tls setting for {origin}: the origin is not granted to the plugin (add it to hosts or private)"
    )]
    NotGranted {
        /// The origin of the entry.
        origin: Origin,
    },
    /// The origin is plain `http`: there is no certificate to check.
    #[error("tls setting for {origin}: only https origins have certificates")]
    NotHttps {
        /// The origin of the entry.
        origin: Origin,
    },
    /// `ca_file` could not be read.
    #[error("tls setting for {origin}: cannot read ca_file {}: {source}", path.display())]
    ReadCaFile {
        /// The origin of the entry.
        origin: Origin,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `ca_file` holds no certificate, or one that cannot be used.
    #[error("tls setting for {origin}: ca_file {}: {message}", path.display())]
    BadCaFile {
        /// The origin of the entry.
        origin: Origin,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// Checks that every TLS entry names an https origin the plugin may call.
pub(crate) fn check(grants: &HttpGrants) -> Result<(), TlsError> {
    for origin in grants.tls.keys() {
        if origin.scheme != "https" {
            return Err(TlsError::NotHttps {
                origin: origin.clone(),
            });
        }
        if !grants.allows(origin) {
            return Err(TlsError::NotGranted {
                origin: origin.clone(),
            });
        }
    }
    Ok(())
}

/// The TLS client settings of one plugin: the default, and one per origin
/// the operator granted something else.
#[derive(Debug)]
pub(crate) struct TlsPolicy {
    default: Arc<rustls::ClientConfig>,
    by_origin: HashMap<Origin, Arc<rustls::ClientConfig>>,
    /// `plugins.STEM`: where the plugin's settings live in `relais.toml`,
    /// for messages.
    pub(crate) section: String,
}

impl TlsPolicy {
    /// Builds the settings of a plugin (`stem`: its name, which keys
    /// its `relais.toml` section): reads every `ca_file`, and warns loudly
    /// about every `verify = false`.
    pub(crate) fn new(
        default: Arc<rustls::ClientConfig>,
        grants: &HttpGrants,
        stem: &str,
    ) -> Result<Self, TlsError> {
        check(grants)?;
        let mut built: HashMap<&TlsGrant, Arc<rustls::ClientConfig>> = HashMap::new();
        let mut by_origin = HashMap::new();
        for (origin, grant) in &grants.tls {
            if *grant == TlsGrant::Unverified {
                tracing::warn!(
                    plugin = stem,
                    %origin,
                    "TLS certificates of {origin} are NOT verified for plugin {stem} \
                     (verify = false in relais.toml): anyone on the network path can read \
                     and change this traffic, secrets included; prefer pin_sha256"
                );
            }
            let config = match built.get(grant) {
                Some(config) => config.clone(),
                None => {
                    let provider = provider();
                    let config = client_config(trust(origin, grant, &provider)?, provider);
                    built.insert(grant, config.clone());
                    config
                }
            };
            by_origin.insert(origin.clone(), config);
        }
        Ok(Self {
            default,
            by_origin,
            section: format!("plugins.{stem}"),
        })
    }

    /// The settings for `origin`, and whether the operator granted them.
    pub(crate) fn for_origin(&self, origin: &Origin) -> (Arc<rustls::ClientConfig>, bool) {
        match self.by_origin.get(origin) {
            Some(config) => (config.clone(), true),
            None => (self.default.clone(), false),
        }
    }
}

fn trust(
    origin: &Origin,
    grant: &TlsGrant,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<Trust, TlsError> {
    Ok(match grant {
        TlsGrant::Unverified => Trust::Any,
        TlsGrant::Pinned(pins) => Trust::Pins(pins.clone()),
        TlsGrant::CaFile(path) => {
            let bad = |message: String| TlsError::BadCaFile {
                origin: origin.clone(),
                path: path.clone(),
                message,
            };
            let pem = std::fs::read(path).map_err(|source| TlsError::ReadCaFile {
                origin: origin.clone(),
                path: path.clone(),
                source,
            })?;
            let mut roots = rustls::RootCertStore::empty();
            for (n, cert) in CertificateDer::pem_slice_iter(&pem).enumerate() {
                let cert = cert.map_err(|e| bad(format!("not a PEM file: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| bad(format!("certificate {} is not usable: {e}", n + 1)))?;
            }
            if roots.is_empty() {
                return Err(bad("holds no PEM certificate".into()));
            }
            let webpki = roots_verifier(roots, provider).map_err(|e| bad(e.to_string()))?;
            Trust::Roots {
                webpki,
                ca_file: Some(path.clone()),
            }
        }
    })
}

fn roots_verifier(
    roots: rustls::RootCertStore,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<rustls::client::WebPkiServerVerifier>, rustls::client::VerifierBuilderError> {
    rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(
    trust: Trust,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Arc<rustls::ClientConfig> {
    let verifier = Arc::new(Verifier::new(trust, &provider));
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| {
            b.dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth()
        });
    match config {
        Ok(c) => Arc::new(c),
        Err(e) => panic!("ring provider supports the default TLS versions: {e}"),
    }
}

/// The settings of every origin without a grant: the Mozilla root set.
pub(crate) fn default_config() -> Arc<rustls::ClientConfig> {
    let provider = provider();
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.into(),
    };
    let webpki = match roots_verifier(roots, &provider) {
        Ok(v) => v,
        Err(e) => panic!("the Mozilla root set is not empty: {e}"),
    };
    client_config(
        Trust::Roots {
            webpki,
            ca_file: None,
        },
        provider,
    )
}

#[cfg(test)]
mod tests;
