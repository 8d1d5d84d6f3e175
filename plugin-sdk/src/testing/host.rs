//! The SDK's host calls, served natively by the [`FakeHost`](super::FakeHost)
//! installed on the current thread.

use std::cell::RefCell;
use std::rc::Rc;

use super::{Inner, LogLine, Outcome, RecordedRequest};
use crate::host::{WireError, WireRequest, WireResponse};
use crate::log::Level;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Inner>>> = const { RefCell::new(None) };
}

/// Puts back the previously installed host when dropped (also on panic).
pub(crate) struct Installed {
    previous: Option<Rc<Inner>>,
}

pub(crate) fn install(host: Rc<Inner>) -> Installed {
    let previous = CURRENT.with(|current| current.borrow_mut().replace(host));
    Installed { previous }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

/// The installed host.
///
/// # Panics
///
/// When plugin code runs natively outside [`FakeHost::run`](super::FakeHost::run)
/// or [`FakeHost::invoke`](super::FakeHost::invoke): there is no host to ask.
fn current() -> Rc<Inner> {
    CURRENT
        .with(|current| current.borrow().clone())
        .unwrap_or_else(|| {
            panic!(
                "relais_plugin_sdk: no host outside wasm32; run plugin code through \
                 relais_plugin_sdk::testing::FakeHost::invoke or FakeHost::run"
            )
        })
}

pub(crate) fn log_write(level: Level, message: &str) {
    current().state.borrow_mut().logs.push(LogLine {
        level,
        message: message.to_owned(),
    });
}

pub(crate) fn secret_get(name: &str) -> Option<String> {
    current().state.borrow().secrets.get(name).cloned()
}

pub(crate) fn kv_get(key: &str) -> Result<Option<Vec<u8>>, String> {
    let host = current();
    let state = host.state.borrow();
    match &state.kv_failure {
        Some(message) => Err(message.clone()),
        None => Ok(state.kv.get(key).cloned()),
    }
}

pub(crate) fn kv_set(key: &str, value: &[u8]) -> Result<(), String> {
    let host = current();
    let mut state = host.state.borrow_mut();
    if let Some(message) = &state.kv_failure {
        return Err(message.clone());
    }
    state.kv.insert(key.to_owned(), value.to_vec());
    Ok(())
}

pub(crate) fn kv_delete(key: &str) -> Result<(), String> {
    let host = current();
    let mut state = host.state.borrow_mut();
    if let Some(message) = &state.kv_failure {
        return Err(message.clone());
    }
    state.kv.remove(key);
    Ok(())
}

pub(crate) fn http_send(req: &WireRequest<'_>) -> Result<WireResponse, WireError> {
    let host = current();
    let recorded = RecordedRequest {
        method: req.method.clone(),
        url: req.url.to_owned(),
        headers: req.headers.clone(),
        body: req.body.unwrap_or_default().to_vec(),
    };
    host.state.borrow_mut().requests.push(recorded.clone());
    match host.respond(&recorded) {
        Outcome::Answer {
            status,
            headers,
            body,
        } => Ok(WireResponse {
            status,
            headers: headers
                .into_iter()
                .map(|(name, value)| (name, value.into_bytes()))
                .collect(),
            body,
        }),
        Outcome::Transport(reason) => Err(WireError::Transport(reason)),
        Outcome::Refused(reason) => Err(WireError::Refused(reason)),
    }
}
