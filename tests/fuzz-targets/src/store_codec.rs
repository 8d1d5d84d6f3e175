//! The store's run header codec (`relais_store::codec`).
//!
//! Properties: decoding any bytes never panics, and a header that decodes
//! encodes again to one that decodes to the same run; a run built from the
//! input (with `arbitrary`) round-trips through the binary layout and
//! through the JSON layout older stores hold.

use arbitrary::{Result, Unstructured};
use relais_store::codec::{decode_run, encode_run};
use relais_store::{
    ErrorKind, Run, RunId, RunStatus, StepError, TimerPurpose, Timestamp, TriggerKind, Wake,
};

pub fn store_codec(data: &[u8]) {
    if let Ok(run) = decode_run(data) {
        let bytes = encode_run(&run).expect("a decoded run encodes");
        assert_eq!(decode_run(&bytes).expect("a re-encoded run decodes"), run);
    }
    let Ok(run) = arbitrary_run(&mut Unstructured::new(data)) else {
        return;
    };
    let bytes = encode_run(&run).expect("a run encodes");
    assert_eq!(decode_run(&bytes).expect("an encoded run decodes"), run);
    let json = serde_json::to_vec(&run).expect("a run serializes");
    assert_eq!(decode_run(&json).expect("a JSON run decodes"), run);
}

fn arbitrary_run(u: &mut Unstructured<'_>) -> Result<Run> {
    Ok(Run {
        id: RunId::from_bytes(u.arbitrary()?),
        workflow_id: u.arbitrary()?,
        revision: u.arbitrary()?,
        trigger: *u.choose(&[TriggerKind::Webhook, TriggerKind::Cron, TriggerKind::Manual])?,
        status: *u.choose(&RunStatus::ALL)?,
        next_step: u.arbitrary()?,
        created_at: ts(u)?,
        started_at: opt_ts(u)?,
        try_started_at: opt_ts(u)?,
        updated_at: ts(u)?,
        finished_at: opt_ts(u)?,
        owner: u.arbitrary()?,
        lease_until: opt_ts(u)?,
        wake: match u.arbitrary::<bool>()? {
            false => None,
            true => Some(Wake {
                due: ts(u)?,
                purpose: match u.int_in_range(0..=2u8)? {
                    0 => TimerPurpose::Retry,
                    1 => TimerPurpose::Delay,
                    _ => TimerPurpose::Other(u.arbitrary()?),
                },
            }),
        },
        error: match u.arbitrary::<bool>()? {
            false => None,
            true => Some(StepError {
                kind: *u.choose(&[
                    ErrorKind::Retryable,
                    ErrorKind::Fatal,
                    ErrorKind::InvalidInput,
                    ErrorKind::Timeout,
                    ErrorKind::Limit,
                    ErrorKind::Trap,
                    ErrorKind::Cancelled,
                    ErrorKind::Internal,
                ])?,
                message: u.arbitrary()?,
                retry_after_ms: u.arbitrary()?,
            }),
        },
        retries: u.arbitrary()?,
        attempts: u.arbitrary()?,
        history_from: u.arbitrary()?,
        budget_from: u.arbitrary()?,
        dedupe_key: u.arbitrary()?,
        cron_slot: opt_ts(u)?,
    })
}

fn ts(u: &mut Unstructured<'_>) -> Result<Timestamp> {
    Ok(Timestamp::from_millis(u.arbitrary()?))
}

fn opt_ts(u: &mut Unstructured<'_>) -> Result<Option<Timestamp>> {
    Ok(match u.arbitrary::<bool>()? {
        false => None,
        true => Some(ts(u)?),
    })
}
