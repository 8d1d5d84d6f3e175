//! What a message holds (text, blocks, unfurling), shared by both steps,
//! and the record of a message already posted.

use relais_plugin_sdk::keys;
use relais_plugin_sdk::prelude::*;
use serde_json::Value;

/// Longest text Slack takes, in characters.
pub const MAX_TEXT_CHARS: usize = 40_000;
/// Most blocks one message may hold.
pub const MAX_BLOCKS: usize = 50;

/// Checks that there is something to post: text, blocks or both (with
/// blocks, the text is what notifications show).
pub(crate) fn check(text: Option<&str>, blocks: Option<&Vec<Value>>) -> Result<(), StepError> {
    let text = text.filter(|text| !text.trim().is_empty());
    let blocks = blocks.filter(|blocks| !blocks.is_empty());
    if text.is_none() && blocks.is_none() {
        return Err(StepError::invalid_input("give text, blocks or both"));
    }
    if let Some(text) = text {
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(StepError::invalid_input(format!(
                "text: {chars} characters, at most {MAX_TEXT_CHARS}"
            )));
        }
    }
    if let Some(blocks) = blocks {
        if blocks.len() > MAX_BLOCKS {
            return Err(StepError::invalid_input(format!(
                "blocks: {} given, at most {MAX_BLOCKS}",
                blocks.len()
            )));
        }
        if let Some(i) = blocks
            .iter()
            .position(|block| block.get("type").and_then(Value::as_str).is_none())
        {
            return Err(StepError::invalid_input(format!(
                "blocks[{i}]: a block is an object with a \"type\""
            )));
        }
    }
    Ok(())
}

/// The store key of a step's record (`PREFIX:IDEMPOTENCY_KEY`, hashed when
/// too long).
pub(crate) fn record_key(prefix: &str, idempotency_key: &str) -> String {
    let key = format!("{prefix}:{idempotency_key}");
    if key.len() <= relais_plugin_sdk::kv::MAX_KEY_BYTES {
        return key;
    }
    let hash = keys::fnv1a64(key.as_bytes());
    format!(
        "{prefix}:{}-{hash:016x}",
        &idempotency_key[..idempotency_key.floor_char_boundary(400)]
    )
}

/// Reads a record; a store that fails reads as no record (the message is
/// then posted: a duplicate is better than a lost notification).
pub(crate) fn read_record<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    kv::get_json(key).unwrap_or_else(|err| {
        log::warn!("cannot read whether an earlier attempt posted: {err}");
        None
    })
}

/// Writes a record; a store that fails is logged, not fatal (the message
/// is already posted).
pub(crate) fn write_record<T: Serialize>(key: &str, record: &T) {
    if let Err(err) = kv::set_json(key, record) {
        log::warn!("cannot record the posted message: {err}");
    }
}
