//! The inputs of the `email` steps, and the address checks made before any
//! provider is tried.

use std::collections::BTreeMap;

use relais_plugin_sdk::mail::Mailbox;
use relais_plugin_sdk::prelude::*;
use serde_json::Value;

/// Production endpoints, used when a provider gives no `base_url`.
pub const POSTMARK_URL: &str = "https://api.postmarkapp.com";
/// SendGrid's global endpoint (`https://api.eu.sendgrid.com` for EU subusers).
pub const SENDGRID_URL: &str = "https://api.sendgrid.com";
/// Mailgun's US endpoint (`https://api.eu.mailgun.net` for EU domains).
pub const MAILGUN_URL: &str = "https://api.mailgun.net";

/// An address: `"ann@example.fr"`, `"Ann Martin <ann@example.fr>"`, or
/// `{name, address}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Address {
    /// `ann@example.fr` or `Ann Martin <ann@example.fr>`.
    Text(String),
    /// An address with an optional display name.
    Full {
        /// Display name.
        #[serde(default)]
        name: Option<String>,
        /// The address.
        address: String,
    },
}

/// One address or a list of them.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Addresses {
    /// A single address.
    One(Address),
    /// Several.
    Many(Vec<Address>),
}

impl Default for Addresses {
    fn default() -> Self {
        Self::Many(Vec::new())
    }
}

impl Addresses {
    /// The checked mailboxes; `field` names the input field in errors.
    pub fn mailboxes(&self, field: &str) -> Result<Vec<Mailbox>, StepError> {
        let list: Vec<&Address> = match self {
            Self::One(a) => vec![a],
            Self::Many(all) => all.iter().collect(),
        };
        list.into_iter()
            .enumerate()
            .map(|(i, a)| a.mailbox(&format!("{field}[{i}]")))
            .collect()
    }
}

impl Address {
    /// The checked mailbox.
    pub fn mailbox(&self, field: &str) -> Result<Mailbox, StepError> {
        let (name, address) = match self {
            Self::Full { name, address } => (name.clone(), address.trim().to_owned()),
            Self::Text(text) => {
                let text = text.trim();
                match (text.rfind('<'), text.strip_suffix('>')) {
                    (Some(open), Some(_)) => {
                        let name = text[..open].trim().trim_matches('"').trim();
                        let address = text[open + 1..text.len() - 1].trim();
                        let name = (!name.is_empty()).then(|| name.to_owned());
                        (name, address.to_owned())
                    }
                    _ => (None, text.to_owned()),
                }
            }
        };
        check_address(&address).map_err(|why| {
            StepError::invalid_input(format!(
                "{field}: {address:?} is not an email address: {why}"
            ))
        })?;
        if let Some(n) = &name
            && n.chars().any(char::is_control)
        {
            return Err(StepError::invalid_input(format!(
                "{field}: the display name holds a control character"
            )));
        }
        Ok(Mailbox {
            name: name.filter(|n| !n.trim().is_empty()),
            address,
        })
    }
}

/// `local@domain`: one `@`, no space, control character or separator, a
/// domain with a dot (or an address literal `[...]`).
fn check_address(address: &str) -> Result<(), &'static str> {
    let (local, domain) = address.rsplit_once('@').ok_or("no @")?;
    if local.is_empty() || domain.is_empty() {
        return Err("empty part before or after @");
    }
    if address.len() > 254 {
        return Err("longer than 254 bytes");
    }
    if address
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
    {
        return Err("it holds a space, a control character or one of < > , ;");
    }
    if !domain.starts_with('[') && (!domain.contains('.') || domain.contains('@')) {
        return Err("the domain has no dot");
    }
    if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
        return Err("the domain has an empty label");
    }
    Ok(())
}

/// One way to deliver, tried in the order given.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Provider {
    /// Through an SMTP relay configured on the host and granted to this
    /// plugin (the host's mail capability).
    Smtp(SmtpProvider),
    /// Postmark's `POST /email`.
    Postmark(PostmarkProvider),
    /// SendGrid's `POST /v3/mail/send`.
    Sendgrid(SendgridProvider),
    /// Mailgun's `POST /v3/{domain}/messages`.
    Mailgun(MailgunProvider),
}

/// `type: smtp`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpProvider {
    /// Name of the relay in the host's configuration (`mail_relays`).
    pub relay: String,
}

/// `type: postmark`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostmarkProvider {
    /// Secret holding the server token (default `postmark_server_token`).
    #[serde(default = "postmark_secret")]
    pub server_token_secret: String,
    /// API base URL (default `https://api.postmarkapp.com`).
    #[serde(default = "postmark_url")]
    pub base_url: String,
}

/// `type: sendgrid`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendgridProvider {
    /// Secret holding the API key (default `sendgrid_api_key`).
    #[serde(default = "sendgrid_secret")]
    pub api_key_secret: String,
    /// API base URL (default `https://api.sendgrid.com`).
    #[serde(default = "sendgrid_url")]
    pub base_url: String,
}

/// `type: mailgun`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MailgunProvider {
    /// The sending domain configured in Mailgun, e.g. `mg.agence.fr`.
    pub domain: String,
    /// Secret holding the API key (default `mailgun_api_key`).
    #[serde(default = "mailgun_secret")]
    pub api_key_secret: String,
    /// API base URL (default `https://api.mailgun.net`).
    #[serde(default = "mailgun_url")]
    pub base_url: String,
}

fn postmark_secret() -> String {
    "postmark_server_token".into()
}
fn postmark_url() -> String {
    POSTMARK_URL.into()
}
fn sendgrid_secret() -> String {
    "sendgrid_api_key".into()
}
fn sendgrid_url() -> String {
    SENDGRID_URL.into()
}
fn mailgun_secret() -> String {
    "mailgun_api_key".into()
}
fn mailgun_url() -> String {
    MAILGUN_URL.into()
}

impl Provider {
    /// How the provider is named in outputs and messages: `postmark`,
    /// `sendgrid`, `mailgun`, `smtp:RELAY`.
    pub fn label(&self) -> String {
        match self {
            Self::Smtp(s) => format!("smtp:{}", s.relay),
            Self::Postmark(_) => "postmark".into(),
            Self::Sendgrid(_) => "sendgrid".into(),
            Self::Mailgun(_) => "mailgun".into(),
        }
    }
}

/// The content of a message: inline templates, or a stored template by
/// name. The input of `render`, and part of the input of `send`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Content {
    /// A template stored with `email/put-template`; `subject`, `text` and
    /// `html` given here override its parts.
    #[serde(default)]
    pub template: Option<String>,
    /// Subject template.
    #[serde(default)]
    pub subject: Option<String>,
    /// Plain-text body template.
    #[serde(default)]
    pub text: Option<String>,
    /// HTML body template (inserted values are HTML-escaped).
    #[serde(default)]
    pub html: Option<String>,
    /// Values for the templates' `{{ placeholders }}`.
    #[serde(default = "empty_object")]
    #[schemars(with = "BTreeMap<String, Value>")]
    pub vars: Value,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// Input of `send`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendIn {
    /// The sender: `"Agence <facturation@agence.fr>"` or `{name, address}`.
    pub from: Address,
    /// Recipients.
    #[serde(default)]
    pub to: Addresses,
    /// Copies.
    #[serde(default)]
    pub cc: Addresses,
    /// Blind copies.
    #[serde(default)]
    pub bcc: Addresses,
    /// Where answers go.
    #[serde(default)]
    pub reply_to: Addresses,
    /// Stored template name.
    #[serde(default)]
    pub template: Option<String>,
    /// Subject template.
    #[serde(default)]
    pub subject: Option<String>,
    /// Plain-text body template.
    #[serde(default)]
    pub text: Option<String>,
    /// HTML body template (inserted values are HTML-escaped).
    #[serde(default)]
    pub html: Option<String>,
    /// Values for the templates' `{{ placeholders }}`.
    #[serde(default = "empty_object")]
    #[schemars(with = "BTreeMap<String, Value>")]
    pub vars: Value,
    /// Extra header fields (`X-...`, `List-Unsubscribe`, ...).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A tag for the provider's statistics (Postmark `Tag`, SendGrid
    /// category, Mailgun `o:tag`; not sent over SMTP).
    #[serde(default)]
    pub tag: Option<String>,
    /// Ways to deliver, tried in order until one accepts the message.
    pub providers: Vec<Provider>,
}

impl SendIn {
    /// The content part of the input.
    pub fn content(&self) -> Content {
        Content {
            template: self.template.clone(),
            subject: self.subject.clone(),
            text: self.text.clone(),
            html: self.html.clone(),
            vars: self.vars.clone(),
        }
    }
}

/// Input of `put-template`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    /// Name to store it under (lowercase letters, digits, `-`, `_`).
    pub name: String,
    /// Subject template.
    pub subject: String,
    /// Plain-text body template.
    #[serde(default)]
    pub text: Option<String>,
    /// HTML body template.
    #[serde(default)]
    pub html: Option<String>,
}
