//! Sending mail through an SMTP relay the operator configured on the host
//! (the contract's `mail` interface, world `mailer`).
//!
//! A plugin never opens a socket: it hands one [`Message`] to the host,
//! which builds the MIME document (RFC 2047 for non-ASCII header text,
//! `multipart/alternative` when both bodies are given), connects to the
//! relay named in the call (STARTTLS, TLS or plain, with authentication, as
//! the operator configured it) and sends it. The plugin never sees the
//! relay's password.
//!
//! A relay must be granted to the plugin in the host's settings
//! (`relais.toml`: `[plugins.NAME] mail = ["RELAY"]`); calling a relay that
//! is not granted fails with a fatal [`Error`] and the host notes the
//! attempt in the invocation's log.
//!
//! # The capability, for plugin authors
//!
//! - **Contract.** `relais:plugin/mail@0.1.0` in `wit/plugin.wit`:
//!   `send(relay, message) -> result<sent, send-error>`. The SDK's bindings
//!   target world `mailer` (`plugin` plus `import mail`); a component only
//!   imports `mail` when it calls [`send`], so plugins that never send mail
//!   import nothing new and load in any host. A plugin in another language
//!   targets world `mailer` the same way.
//! - **What the host does.** It checks the message (addresses, at least one
//!   recipient and one body, no line break in a header, no header it sets
//!   itself: `From`, `To`, `Cc`, `Bcc`, `Reply-To`, `Subject`, `Date`,
//!   `Message-ID`, `MIME-Version`, `Content-*`), builds the MIME document,
//!   and sends it with the relay's TLS mode, credentials and timeouts. At
//!   most 32 messages per invocation, 10 MiB each.
//! - **Errors.** [`Error::Retryable`]: no answer, a timeout, an SMTP 4xx;
//!   [`Error::Fatal`]: not granted or not configured, login refused, a
//!   certificate not trusted, an SMTP 5xx; [`Error::Invalid`]: the message
//!   is malformed. `?` turns them into the step errors of the same kind.
//! - **Retries.** SMTP has no idempotency key: give the message a
//!   `Message-ID` derived from the step's idempotency key
//!   ([`message_id_for`]) and record what was sent in [`kv`](crate::kv) if a
//!   retry must not send twice.
//! - **Tests.** Natively, [`FakeMail`] stands for the host's relays.
//!
//! ```
//! use relais_plugin_sdk::mail::{self, Mailbox, Message};
//! use relais_plugin_sdk::prelude::*;
//!
//! fn remind(to: &str, cx: &Context) -> Result<String, StepError> {
//!     let message = Message::new(
//!         Mailbox::named("Agence Dupont", "facturation@agence.test"),
//!         "Échéance de votre hébergement",
//!     )
//!     .to(Mailbox::new(to))
//!     .text("Bonjour,\nvotre hébergement arrive à échéance.")
//!     // The same id on every retry of this step.
//!     .message_id(mail::message_id_for(&cx.idempotency_key, "agence.test"));
//!     let sent = mail::send("primary", &message)?; // retryable or fatal, as the host says
//!     Ok(sent.message_id)
//! }
//!
//! // In a native test, a fake relay answers instead of the host:
//! use relais_plugin_sdk::mail::FakeMail;
//! use relais_plugin_sdk::testing::FakeHost;
//!
//! let relays = FakeMail::new().grant("primary");
//! let cx = Context::new("run-1", "remind");
//! let id = relays.run(|| FakeHost::new().run(|| remind("client@example.test", &cx)));
//! assert!(id.is_ok());
//! assert_eq!(relays.sent()[0].1.to[0].address, "client@example.test");
//!
//! // A relay that is not granted: fatal, nothing sent.
//! let bare = FakeMail::new();
//! let err = bare.run(|| FakeHost::new().run(|| remind("client@example.test", &cx)));
//! assert_eq!(err.unwrap_err().kind(), "fatal");
//! assert!(bare.sent().is_empty());
//! ```

use crate::StepError;

/// One address, with an optional display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Display name (any Unicode text).
    pub name: Option<String>,
    /// The address itself.
    pub address: String,
}

impl Mailbox {
    /// An address without a display name.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            name: None,
            address: address.into(),
        }
    }

    /// An address with a display name.
    pub fn named(name: impl Into<String>, address: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            address: address.into(),
        }
    }
}

/// One message, built with [`Message::new`] and the chained setters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The author (`From`).
    pub from: Mailbox,
    /// Recipients (`To`).
    pub to: Vec<Mailbox>,
    /// Copies (`Cc`).
    pub cc: Vec<Mailbox>,
    /// Blind copies.
    pub bcc: Vec<Mailbox>,
    /// Where answers go (`Reply-To`).
    pub reply_to: Vec<Mailbox>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: Option<String>,
    /// HTML body.
    pub html: Option<String>,
    /// Extra header fields (the host refuses the ones it sets itself).
    pub headers: Vec<(String, String)>,
    /// `Message-ID` without angle brackets; `None` lets the host make one.
    pub message_id: Option<String>,
}

impl Message {
    /// A message from `from` about `subject`, with no recipient and no body
    /// yet.
    pub fn new(from: Mailbox, subject: impl Into<String>) -> Self {
        Self {
            from,
            to: Vec::new(),
            cc: Vec::new(),
            bcc: Vec::new(),
            reply_to: Vec::new(),
            subject: subject.into(),
            text: None,
            html: None,
            headers: Vec::new(),
            message_id: None,
        }
    }

    /// Adds a `To` recipient.
    #[must_use]
    pub fn to(mut self, mailbox: Mailbox) -> Self {
        self.to.push(mailbox);
        self
    }

    /// Adds a `Cc` recipient.
    #[must_use]
    pub fn cc(mut self, mailbox: Mailbox) -> Self {
        self.cc.push(mailbox);
        self
    }

    /// Adds a blind-copy recipient.
    #[must_use]
    pub fn bcc(mut self, mailbox: Mailbox) -> Self {
        self.bcc.push(mailbox);
        self
    }

    /// Adds a `Reply-To` address.
    #[must_use]
    pub fn reply_to(mut self, mailbox: Mailbox) -> Self {
        self.reply_to.push(mailbox);
        self
    }

    /// Sets the plain-text body.
    #[must_use]
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Sets the HTML body.
    #[must_use]
    pub fn html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }

    /// Adds an extra header field.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the `Message-ID` (without angle brackets).
    #[must_use]
    pub fn message_id(mut self, id: impl Into<String>) -> Self {
        self.message_id = Some(id.into());
        self
    }
}

/// A `Message-ID` derived from an idempotency key: the same key always
/// gives the same id, so a retried step sends a message that mail clients
/// (and some relays) recognise as the same one. `domain` is usually the
/// sender's domain.
///
/// ```
/// # use relais_plugin_sdk::mail::message_id_for;
/// assert_eq!(message_id_for("run-7/remind", "agence.test"), "relais.72756e2d372f72656d696e64@agence.test");
/// ```
pub fn message_id_for(idempotency_key: &str, domain: &str) -> String {
    let hex: String = idempotency_key
        .bytes()
        .take(100)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("relais.{hex}@{domain}")
}

/// A message the relay accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The relay's name.
    pub relay: String,
    /// The `Message-ID` of the message, without angle brackets.
    pub message_id: String,
    /// The relay's final answer, e.g. `250 2.0.0 Ok: queued as 4F1B2`.
    pub response: String,
}

/// Why a message was not sent. Converts into [`StepError`]: `Retryable` →
/// retryable, `Fatal` → fatal, `Invalid` → invalid-input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Worth trying again later: the relay was unreachable or slow, or
    /// answered with a transient (4xx) code.
    #[error("{message}")]
    Retryable {
        /// What went wrong.
        message: String,
        /// The relay's SMTP reply code, when it answered.
        code: Option<u16>,
    },
    /// Retrying would not help: relay not granted or not configured,
    /// authentication or TLS failed, the relay refused the message (5xx).
    #[error("{message}")]
    Fatal {
        /// What went wrong.
        message: String,
        /// The relay's SMTP reply code, when it answered.
        code: Option<u16>,
    },
    /// The message is malformed (bad address, no recipient, no body,
    /// forbidden header).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Whether trying again later may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable { .. })
    }

    /// The relay's SMTP reply code, when it answered.
    pub fn code(&self) -> Option<u16> {
        match self {
            Self::Retryable { code, .. } | Self::Fatal { code, .. } => *code,
            Self::Invalid(_) => None,
        }
    }
}

impl From<Error> for StepError {
    fn from(err: Error) -> Self {
        match err {
            Error::Retryable { message, .. } => StepError::retryable(message),
            Error::Fatal { message, .. } => StepError::fatal(message),
            Error::Invalid(message) => StepError::invalid_input(message),
        }
    }
}

/// Sends `message` through the relay named `relay`.
pub fn send(relay: &str, message: &Message) -> Result<Sent, Error> {
    imp::send(relay, message)
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::{Error, Mailbox, Message, Sent};
    use crate::bindings::relais::plugin::mail as wit;

    fn mailbox(m: &Mailbox) -> wit::Mailbox {
        wit::Mailbox {
            name: m.name.clone(),
            address: m.address.clone(),
        }
    }

    fn list(l: &[Mailbox]) -> Vec<wit::Mailbox> {
        l.iter().map(mailbox).collect()
    }

    pub(super) fn send(relay: &str, m: &Message) -> Result<Sent, Error> {
        let message = wit::Message {
            from: mailbox(&m.from),
            to: list(&m.to),
            cc: list(&m.cc),
            bcc: list(&m.bcc),
            reply_to: list(&m.reply_to),
            subject: m.subject.clone(),
            text: m.text.clone(),
            html: m.html.clone(),
            headers: m.headers.clone(),
            message_id: m.message_id.clone(),
        };
        match wit::send(relay, &message) {
            Ok(sent) => Ok(Sent {
                relay: sent.relay,
                message_id: sent.message_id,
                response: sent.response,
            }),
            Err(wit::SendError::Retryable(f)) => Err(Error::Retryable {
                message: f.message,
                code: f.code,
            }),
            Err(wit::SendError::Fatal(f)) => Err(Error::Fatal {
                message: f.message,
                code: f.code,
            }),
            Err(wit::SendError::Invalid(message)) => Err(Error::Invalid(message)),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::fake::current;
    use super::{Error, Message, Sent};

    pub(super) fn send(relay: &str, message: &Message) -> Result<Sent, Error> {
        current().send(relay, message)
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use fake::FakeMail;

#[cfg(not(target_arch = "wasm32"))]
mod fake {
    use std::cell::RefCell;
    use std::collections::{BTreeMap, VecDeque};
    use std::rc::Rc;

    use super::{Error, Message, Sent};

    #[derive(Default)]
    struct State {
        granted: Vec<String>,
        scripted: BTreeMap<String, VecDeque<Result<String, Error>>>,
        sent: Vec<(String, Message)>,
        attempts: Vec<String>,
    }

    /// Fake SMTP relays for native tests: grants, scripted answers, and the
    /// messages "sent". Install it around plugin code with
    /// [`run`](Self::run) (it nests with
    /// [`FakeHost::run`](crate::testing::FakeHost::run)).
    ///
    /// A granted relay accepts every message with `250 2.0.0 Ok: queued`
    /// unless an answer was scripted with [`answer`](Self::answer); a relay
    /// that is not granted fails fatally, as the host does.
    #[derive(Default, Clone)]
    pub struct FakeMail {
        state: Rc<RefCell<State>>,
    }

    impl std::fmt::Debug for FakeMail {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let state = self.state.borrow();
            f.debug_struct("FakeMail")
                .field("granted", &state.granted)
                .field("sent", &state.sent.len())
                .finish()
        }
    }

    thread_local! {
        static CURRENT: RefCell<Option<FakeMail>> = const { RefCell::new(None) };
    }

    pub(super) fn current() -> FakeMail {
        CURRENT.with(|c| c.borrow().clone()).unwrap_or_else(|| {
            panic!(
                "relais_plugin_sdk::mail: no relay outside wasm32; run plugin code inside \
                     relais_plugin_sdk::mail::FakeMail::run"
            )
        })
    }

    impl FakeMail {
        /// Relays that grant nothing.
        pub fn new() -> Self {
            Self::default()
        }

        /// Grants relay `name` to the plugin.
        #[must_use]
        pub fn grant(self, name: &str) -> Self {
            self.state.borrow_mut().granted.push(name.to_owned());
            self
        }

        /// Scripts the next answer of relay `name`: `Ok(response)` accepts
        /// the message with that SMTP answer, `Err` fails the send. Answers
        /// are used in order, once each; then the relay accepts again.
        #[must_use]
        pub fn answer(self, name: &str, answer: Result<&str, Error>) -> Self {
            self.state
                .borrow_mut()
                .scripted
                .entry(name.to_owned())
                .or_default()
                .push_back(answer.map(str::to_owned));
            self
        }

        /// Runs `f` with these relays installed.
        pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
            let previous = CURRENT.with(|c| c.borrow_mut().replace(self.clone()));
            struct Restore(Option<FakeMail>);
            impl Drop for Restore {
                fn drop(&mut self) {
                    let previous = self.0.take();
                    CURRENT.with(|c| *c.borrow_mut() = previous);
                }
            }
            let _restore = Restore(previous);
            f()
        }

        /// Messages the relays accepted, with the relay's name, in order.
        pub fn sent(&self) -> Vec<(String, Message)> {
            self.state.borrow().sent.clone()
        }

        /// Every relay name `send` was called with, accepted or not.
        pub fn attempts(&self) -> Vec<String> {
            self.state.borrow().attempts.clone()
        }

        pub(super) fn send(&self, relay: &str, message: &Message) -> Result<Sent, Error> {
            let mut state = self.state.borrow_mut();
            state.attempts.push(relay.to_owned());
            if !state.granted.iter().any(|g| g == relay) {
                return Err(Error::Fatal {
                    message: format!("relay {relay:?} is not granted to this plugin"),
                    code: None,
                });
            }
            if message.to.is_empty() && message.cc.is_empty() && message.bcc.is_empty() {
                return Err(Error::Invalid(
                    "no recipient: give at least one of to, cc, bcc".to_owned(),
                ));
            }
            if message.text.is_none() && message.html.is_none() {
                return Err(Error::Invalid(
                    "no body: give text, html or both".to_owned(),
                ));
            }
            let answer = state
                .scripted
                .get_mut(relay)
                .and_then(VecDeque::pop_front)
                .unwrap_or_else(|| Ok("250 2.0.0 Ok: queued".to_owned()))?;
            let n = state.sent.len() + 1;
            state.sent.push((relay.to_owned(), message.clone()));
            Ok(Sent {
                relay: relay.to_owned(),
                message_id: message
                    .message_id
                    .clone()
                    .unwrap_or_else(|| format!("fake.{n}@relais.invalid")),
                response: answer,
            })
        }
    }
}
