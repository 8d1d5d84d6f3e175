//! The `mail` capability (`relais:plugin/mail`): a plugin hands one message
//! to the host, which builds the MIME document and sends it through an SMTP
//! relay the operator configured ([`MailRelay`], in
//! [`RuntimeConfig::mail_relays`](crate::RuntimeConfig::mail_relays)) and
//! granted to that plugin ([`PluginSettings::mail`](crate::PluginSettings::mail)).
//!
//! A plugin never reaches the relay itself and never sees its password. A
//! relay that is not granted is refused before any connection, and the
//! refusal is noted in the invocation's log.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::secrets::SecretValue;

pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        inline: "
            package relais:host-mail;
            world mail-only { import relais:plugin/mail@0.1.0; }
        ",
        world: "relais:host-mail/mail-only",
        imports: { default: async },
        require_store_data_send: true,
    });
}

use bindings::relais::plugin::mail as wit;

/// Messages one invocation may send.
pub const MAX_MESSAGES_PER_INVOCATION: u32 = 32;
/// Largest message (headers and both bodies, encoded) the host sends.
pub const MAX_MESSAGE_BYTES: usize = 10 << 20;

/// How the connection to a relay is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTls {
    /// Plain connection upgraded with `STARTTLS`, which the relay must
    /// offer (default port 587).
    #[default]
    Starttls,
    /// TLS from the first byte, "SMTPS" (default port 465).
    Tls,
    /// No encryption (default port 25): only for a relay on the same
    /// machine or network.
    None,
}

/// One SMTP relay, as the operator configures it. Its name is its key in
/// [`RuntimeConfig::mail_relays`](crate::RuntimeConfig::mail_relays).
///
/// `Debug` shows the password as `***`; serialising leaves it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailRelay {
    /// Host name or IP address of the relay.
    pub host: String,
    /// Port; default 587 (`starttls`), 465 (`tls`) or 25 (`none`).
    #[serde(default)]
    pub port: Option<u16>,
    /// How the connection is secured (default `starttls`).
    #[serde(default)]
    pub tls: MailTls,
    /// User name for `AUTH`; none sends without authenticating.
    #[serde(default)]
    pub username: Option<String>,
    /// Password for `AUTH` (needs `username`).
    #[serde(default, skip_serializing, deserialize_with = "secret")]
    pub password: Option<SecretValue>,
    /// Timeout of each step of the SMTP dialogue (connect, each command);
    /// the invocation's own timeout still bounds the whole send.
    #[serde(
        default = "default_timeout",
        serialize_with = "ser_duration",
        deserialize_with = "de_duration"
    )]
    pub timeout: Duration,
    /// PEM file of extra certificate authorities to trust for this relay
    /// (an internal CA), besides the usual public roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Name this host gives in `EHLO` (default `localhost`); some relays
    /// want the sending machine's public name.
    #[serde(default)]
    pub hello_name: Option<String>,
}

impl MailRelay {
    /// A relay at `host` with every other setting at its default.
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: None,
            tls: MailTls::default(),
            username: None,
            password: None,
            timeout: default_timeout(),
            ca_file: None,
            hello_name: None,
        }
    }

    /// The port in use: the configured one or the default of its `tls` mode.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            MailTls::Starttls => 587,
            MailTls::Tls => 465,
            MailTls::None => 25,
        })
    }
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretValue>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(SecretValue::new))
}

fn ser_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{}ms", d.as_millis()))
}

/// A number of milliseconds, or text such as `500ms`, `30s`, `2m`.
fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Millis(u64),
        Text(String),
    }
    let parse = |t: &str| -> Option<Duration> {
        let split = t.find(|c: char| !c.is_ascii_digit())?;
        let (n, unit) = t.split_at(split);
        let n: u64 = n.parse().ok()?;
        let ms = match unit {
            "ms" => n,
            "s" => n.checked_mul(1000)?,
            "m" => n.checked_mul(60_000)?,
            _ => return None,
        };
        Some(Duration::from_millis(ms))
    };
    match Raw::deserialize(d)? {
        Raw::Millis(ms) => Ok(Duration::from_millis(ms)),
        Raw::Text(t) => parse(t.trim()).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid duration {t:?}: expected a number with ms, s or m (e.g. 30s)"
            ))
        }),
    }
}

/// A relay whose settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MailRelayError {
    /// The relay's host is empty or holds spaces.
    #[error("mail relay {relay}: host {host:?} is not a host name or address")]
    Host {
        /// The relay's name.
        relay: String,
        /// The host as configured.
        host: String,
    },
    /// A password without a user name.
    #[error("mail relay {relay}: a password needs a username")]
    PasswordWithoutUser {
        /// The relay's name.
        relay: String,
    },
    /// The CA file cannot be read or holds no certificate.
    #[error("mail relay {relay}: cannot use ca_file {path}: {message}")]
    CaFile {
        /// The relay's name.
        relay: String,
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The TLS settings cannot be built.
    #[error("mail relay {relay}: tls settings: {message}")]
    Tls {
        /// The relay's name.
        relay: String,
        /// What the TLS library said.
        message: String,
    },
}

/// A relay checked once, when the runtime starts.
struct Relay {
    settings: MailRelay,
    tls: Tls,
}

/// Every configured relay, by name.
#[derive(Default)]
pub(crate) struct Relays(BTreeMap<String, Arc<Relay>>);

impl Relays {
    /// Checks every relay: host, credentials, CA file and TLS settings.
    pub(crate) fn new(config: &BTreeMap<String, MailRelay>) -> Result<Self, MailRelayError> {
        let mut relays = BTreeMap::new();
        for (name, settings) in config {
            let host = settings.host.trim();
            if host.is_empty() || host.contains(char::is_whitespace) {
                return Err(MailRelayError::Host {
                    relay: name.clone(),
                    host: settings.host.clone(),
                });
            }
            if settings.password.is_some() && settings.username.is_none() {
                return Err(MailRelayError::PasswordWithoutUser {
                    relay: name.clone(),
                });
            }
            let tls = match settings.tls {
                MailTls::None => Tls::None,
                MailTls::Starttls => Tls::Required(tls_parameters(name, settings)?),
                MailTls::Tls => Tls::Wrapper(tls_parameters(name, settings)?),
            };
            relays.insert(
                name.clone(),
                Arc::new(Relay {
                    settings: settings.clone(),
                    tls,
                }),
            );
        }
        Ok(Self(relays))
    }
}

fn tls_parameters(name: &str, settings: &MailRelay) -> Result<TlsParameters, MailRelayError> {
    let mut builder = TlsParameters::builder(settings.host.trim().to_string());
    if let Some(path) = &settings.ca_file {
        let ca_err = |message: String| MailRelayError::CaFile {
            relay: name.to_string(),
            path: path.clone(),
            message,
        };
        let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
        let cert = Certificate::from_pem(&pem).map_err(|e| ca_err(e.to_string()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| MailRelayError::Tls {
        relay: name.to_string(),
        message: e.to_string(),
    })
}

/// The mail state of one invocation: the relays, the plugin's grant, how
/// many messages it sent and when it must be done.
pub(crate) struct MailCtx {
    relays: Arc<Relays>,
    granted: Arc<[String]>,
    plugin: Arc<str>,
    sent: u32,
    deadline: tokio::time::Instant,
}

impl MailCtx {
    pub(crate) fn new(
        relays: Arc<Relays>,
        granted: &[String],
        plugin: Arc<str>,
        deadline: tokio::time::Instant,
    ) -> Self {
        Self {
            relays,
            granted: granted.into(),
            plugin,
            sent: 0,
            deadline,
        }
    }

    /// Sends `message` through `relay`; the second value is the line the
    /// host adds to the invocation's log.
    pub(crate) async fn send(
        &mut self,
        relay: &str,
        message: wit::Message,
    ) -> (Result<wit::Sent, wit::SendError>, String) {
        let result = self.try_send(relay, message).await;
        let note = match &result {
            Ok(sent) => format!(
                "mail: sent through relay {relay:?} as <{}>: {}",
                sent.message_id, sent.response
            ),
            Err(wit::SendError::Invalid(m)) => format!("mail: message refused: {m}"),
            Err(wit::SendError::Fatal(f) | wit::SendError::Retryable(f)) => {
                format!("mail: {}", f.message)
            }
        };
        (result, note)
    }

    async fn try_send(
        &mut self,
        relay_name: &str,
        message: wit::Message,
    ) -> Result<wit::Sent, wit::SendError> {
        if !self.granted.iter().any(|g| g == relay_name) {
            return Err(fatal(format!(
                "relay {relay_name:?} is not granted to plugin {} (grant it in the plugin's `mail` settings)",
                self.plugin
            )));
        }
        let Some(relay) = self.relays.0.get(relay_name).cloned() else {
            return Err(fatal(format!(
                "relay {relay_name:?} is granted to plugin {} but not configured on this host",
                self.plugin
            )));
        };
        if self.sent >= MAX_MESSAGES_PER_INVOCATION {
            return Err(fatal(format!(
                "relay {relay_name:?}: at most {MAX_MESSAGES_PER_INVOCATION} messages per invocation"
            )));
        }
        let (email, message_id) = message::build(message).map_err(wit::SendError::Invalid)?;
        let bytes = email.formatted();
        if bytes.len() > MAX_MESSAGE_BYTES {
            return Err(wit::SendError::Invalid(format!(
                "the message is {} bytes, the limit is {MAX_MESSAGE_BYTES}",
                bytes.len()
            )));
        }
        self.sent += 1;
        let transport = transport(&relay);
        let sending = transport.send_raw(email.envelope(), &bytes);
        let response = match tokio::time::timeout_at(self.deadline, sending).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => return Err(classify(relay_name, &relay.settings, &e)),
            Err(_) => {
                return Err(wit::SendError::Retryable(wit::Failure {
                    message: format!(
                        "relay {relay_name:?}: no answer before the invocation's deadline"
                    ),
                    code: None,
                }));
            }
        };
        let code = response.code().to_string();
        let text: Vec<&str> = response.message().collect();
        Ok(wit::Sent {
            relay: relay_name.to_string(),
            message_id,
            response: format!("{code} {}", text.join(" ")).trim_end().to_string(),
        })
    }
}

fn fatal(message: String) -> wit::SendError {
    wit::SendError::Fatal(wit::Failure {
        message,
        code: None,
    })
}

fn transport(relay: &Relay) -> AsyncSmtpTransport<Tokio1Executor> {
    let s = &relay.settings;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.trim())
        .port(s.effective_port())
        .tls(relay.tls.clone())
        .timeout(Some(s.timeout));
    if let Some(name) = &s.hello_name {
        builder = builder.hello_name(ClientId::Domain(name.clone()));
    }
    if let Some(user) = &s.username {
        let password = s
            .password
            .as_ref()
            .map(|p| p.expose().to_string())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    builder.build()
}

/// Whether a TLS error (certificate, handshake) is behind `e`; lettre
/// reports those made while connecting as connection errors.
fn is_tls_failure(e: &lettre::transport::smtp::Error) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if err.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
        {
            return true;
        }
        current = err.source();
    }
    false
}

/// Transient SMTP replies (4xx), timeouts and connection failures may pass
/// on a later try; permanent replies (5xx, a refused login), TLS failures
/// and client-side errors will not.
fn classify(name: &str, relay: &MailRelay, e: &lettre::transport::smtp::Error) -> wit::SendError {
    let code = e.status().and_then(|c| c.to_string().parse::<u16>().ok());
    let message = format!(
        "relay {name:?} ({}:{}): {e}",
        relay.host.trim(),
        relay.effective_port()
    );
    let failure = wit::Failure { message, code };
    if is_tls_failure(e) {
        // A certificate the relay's CA does not vouch for, a failed
        // handshake: settings to fix, not a passing fault.
        return wit::SendError::Fatal(failure);
    }
    if e.is_transient() || e.is_timeout() {
        wit::SendError::Retryable(failure)
    } else if e.is_permanent() || e.is_tls() || e.is_client() {
        wit::SendError::Fatal(failure)
    } else {
        // Connection refused or reset, a reply that did not parse: the relay
        // may be restarting.
        wit::SendError::Retryable(failure)
    }
}

mod message;
#[cfg(test)]
mod tests;
