//! `type: smtp`: the host's mail capability, through a relay the operator
//! configured and granted to this plugin.

use relais_plugin_sdk::mail::{self, Message};
use relais_plugin_sdk::prelude::*;

use super::{Accepted, Outgoing};
use crate::input::SmtpProvider;

pub fn deliver(p: &SmtpProvider, m: &Outgoing) -> Result<Accepted, StepError> {
    let mut message = Message::new(m.from.clone(), m.subject.clone()).message_id(&m.message_id);
    message.to = m.to.clone();
    message.cc = m.cc.clone();
    message.bcc = m.bcc.clone();
    message.reply_to = m.reply_to.clone();
    message.text = m.text.clone();
    message.html = m.html.clone();
    message.headers = m
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let label = format!("smtp:{}", p.relay);
    let sent = mail::send(&p.relay, &message).map_err(|e| StepError::from(e).context(&label))?;
    Ok(Accepted {
        message_id: Some(sent.message_id),
        response: sent.response,
    })
}
