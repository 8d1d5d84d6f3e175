//! The MIME message the host builds from a plugin's `mail.message`, and
//! the checks that keep a plugin from forging what the host sets itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use super::wit;

/// Header fields the host sets itself; a plugin may not add them.
const RESERVED_HEADERS: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "return-path",
    "received",
];

fn mailbox(field: &str, m: &wit::Mailbox) -> Result<Mailbox, String> {
    let address: Address = m
        .address
        .trim()
        .parse()
        .map_err(|e| format!("{field}: {:?} is not an email address: {e}", m.address))?;
    let name = m.name.as_ref().map(|n| n.trim().to_string());
    if name.as_deref().is_some_and(|n| n.contains(['\r', '\n'])) {
        return Err(format!("{field}: a display name may not hold a line break"));
    }
    Ok(Mailbox::new(name.filter(|n| !n.is_empty()), address))
}

fn valid_message_id(id: &str) -> bool {
    let Some((left, right)) = id.split_once('@') else {
        return false;
    };
    !left.is_empty()
        && !right.is_empty()
        && !right.contains('@')
        && id.len() <= 250
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\'))
}

/// A fresh `Message-ID` in the sender's domain.
fn new_message_id(from: &Mailbox) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let salt = {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.finish()
    };
    format!("relais.{nanos:x}.{n:x}.{salt:016x}@{}", from.email.domain())
}

/// The MIME message and its `Message-ID`, or why it is malformed.
pub(super) fn build(m: wit::Message) -> Result<(Message, String), String> {
    let from = mailbox("from", &m.from)?;
    if m.to.is_empty() && m.cc.is_empty() && m.bcc.is_empty() {
        return Err("no recipient: give at least one of to, cc, bcc".into());
    }
    if m.subject.contains(['\r', '\n']) {
        return Err("subject: a line break is not allowed".into());
    }
    let message_id = match m.message_id {
        Some(id) => {
            let id = id.trim().trim_start_matches('<').trim_end_matches('>');
            if !valid_message_id(id) {
                return Err(format!(
                    "message-id {id:?} must look like left@right, printable ASCII without <>"
                ));
            }
            id.to_string()
        }
        None => new_message_id(&from),
    };
    let mut b = Message::builder()
        .from(from)
        .subject(m.subject)
        .message_id(Some(format!("<{message_id}>")));
    for (field, list) in [
        ("to", &m.to),
        ("cc", &m.cc),
        ("bcc", &m.bcc),
        ("reply-to", &m.reply_to),
    ] {
        for (i, entry) in list.iter().enumerate() {
            let mb = mailbox(&format!("{field}[{i}]"), entry)?;
            b = match field {
                "to" => b.to(mb),
                "cc" => b.cc(mb),
                "bcc" => b.bcc(mb),
                _ => b.reply_to(mb),
            };
        }
    }
    for (name, value) in m.headers {
        let lower = name.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str()) || lower.starts_with("content-") {
            return Err(format!("header {name:?} is set by the host"));
        }
        if !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(format!("header name {name:?} is not a valid field name"));
        }
        if value.contains(['\r', '\n']) {
            return Err(format!("header {name}: a line break is not allowed"));
        }
        let header = HeaderName::new_from_ascii(name.clone())
            .map_err(|_| format!("header name {name:?} is not a valid field name"))?;
        b = b.raw_header(HeaderValue::new(header, value));
    }
    let built = match (m.text, m.html) {
        (Some(text), Some(html)) => b.multipart(MultiPart::alternative_plain_html(text, html)),
        (Some(text), None) => b.singlepart(SinglePart::plain(text)),
        (None, Some(html)) => b.singlepart(SinglePart::html(html)),
        (None, None) => return Err("no body: give text, html or both".into()),
    };
    let email = built.map_err(|e| format!("cannot build the message: {e}"))?;
    Ok((email, message_id))
}
