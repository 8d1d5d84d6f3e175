//! The binary layout of run headers.
//!
//! A run header is rewritten at every change of its run (created, claimed,
//! each step, finished), so its encoding sits on the store's hottest path:
//! as JSON, field names were most of its bytes and decoding it most of its
//! cost. A header starts with a version byte ([`RUN_V1`]); JSON records,
//! which start with `{`, are still read, so stores written before keep
//! working and are rewritten in this layout as their runs change.
//!
//! Layout v1, integers little-endian, a string as a `u32` length then its
//! bytes, an optional value as a byte (`0` absent, `1` present) then the
//! value:
//!
//! ```text
//! version (1) ‖ id (16) ‖ workflow_id (str) ‖ revision (str) ‖ trigger (u8)
//! ‖ status (u8) ‖ next_step (u32) ‖ created_at (u64) ‖ started_at (opt u64)
//! ‖ try_started_at (opt u64) ‖ updated_at (u64) ‖ finished_at (opt u64)
//! ‖ owner (opt str) ‖ lease_until (opt u64) ‖ wake (opt JSON str)
//! ‖ error (opt JSON str) ‖ retries (u32) ‖ attempts (u32)
//! ‖ history_from (u32) ‖ budget_from (u32) ‖ dedupe_key (opt str)
//! ‖ cron_slot (opt u64)
//! ```
//!
//! The timer and the error are rare and richer, so they stay JSON inside.

use serde::de::Error as _;

use crate::error::{Result, StoreError};
use crate::{Run, RunId, RunStatus, Timestamp, TriggerKind};

/// The version byte of the layout above.
const RUN_V1: u8 = 1;

/// Encodes a run header.
pub fn encode_run(run: &Run) -> Result<Vec<u8>> {
    let mut w = Vec::with_capacity(128 + run.workflow_id.len() + run.revision.len());
    w.push(RUN_V1);
    w.extend_from_slice(&run.id.to_bytes());
    put_str(&mut w, &run.workflow_id);
    put_str(&mut w, &run.revision);
    w.push(trigger_code(run.trigger));
    w.push(run.status.code());
    w.extend_from_slice(&run.next_step.to_le_bytes());
    put_ts(&mut w, run.created_at);
    put_opt_ts(&mut w, run.started_at);
    put_opt_ts(&mut w, run.try_started_at);
    put_ts(&mut w, run.updated_at);
    put_opt_ts(&mut w, run.finished_at);
    put_opt_str(&mut w, run.owner.as_deref());
    put_opt_ts(&mut w, run.lease_until);
    put_opt_json(&mut w, run.wake.as_ref())?;
    put_opt_json(&mut w, run.error.as_ref())?;
    for n in [run.retries, run.attempts, run.history_from, run.budget_from] {
        w.extend_from_slice(&n.to_le_bytes());
    }
    put_opt_str(&mut w, run.dedupe_key.as_deref());
    put_opt_ts(&mut w, run.cron_slot);
    Ok(w)
}

/// Decodes a run header in either layout.
pub fn decode_run(bytes: &[u8]) -> Result<Run> {
    let decoded = match bytes.first() {
        Some(&RUN_V1) => Reader { bytes, at: 1 }.run(),
        Some(b'{') => return crate::tables::decode("runs", bytes),
        Some(v) => Err(serde_json::Error::custom(format!(
            "run header version {v} is unknown to this build"
        ))),
        None => Err(serde_json::Error::custom("empty run header")),
    };
    decoded.map_err(|source| StoreError::Corrupt {
        table: "runs",
        source,
    })
}

fn trigger_code(t: TriggerKind) -> u8 {
    match t {
        TriggerKind::Webhook => 1,
        TriggerKind::Cron => 2,
        TriggerKind::Manual => 3,
    }
}

fn put_str(w: &mut Vec<u8>, s: &str) {
    // Strings in a header are names, hashes and keys, far below 4 GiB.
    w.extend_from_slice(&(s.len() as u32).to_le_bytes());
    w.extend_from_slice(s.as_bytes());
}

fn put_ts(w: &mut Vec<u8>, t: Timestamp) {
    w.extend_from_slice(&t.as_millis().to_le_bytes());
}

fn put_opt_ts(w: &mut Vec<u8>, t: Option<Timestamp>) {
    match t {
        Some(t) => {
            w.push(1);
            put_ts(w, t);
        }
        None => w.push(0),
    }
}

fn put_opt_str(w: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            w.push(1);
            put_str(w, s);
        }
        None => w.push(0),
    }
}

fn put_opt_json<T: serde::Serialize>(w: &mut Vec<u8>, value: Option<&T>) -> Result<()> {
    match value {
        Some(v) => {
            let json = serde_json::to_string(v).map_err(|source| StoreError::Encode {
                what: "run",
                source,
            })?;
            w.push(1);
            put_str(w, &json);
        }
        None => w.push(0),
    }
    Ok(())
}

/// Reads the layout above; errors say which field and at which byte.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

type Decoded<T> = std::result::Result<T, serde_json::Error>;

impl Reader<'_> {
    fn run(&mut self) -> Decoded<Run> {
        let run = Run {
            id: RunId::from_bytes(self.array("id")?),
            workflow_id: self.str("workflow_id")?,
            revision: self.str("revision")?,
            trigger: match self.u8("trigger")? {
                1 => TriggerKind::Webhook,
                2 => TriggerKind::Cron,
                3 => TriggerKind::Manual,
                n => return Err(self.bad("trigger", n)),
            },
            status: {
                let code = self.u8("status")?;
                RunStatus::ALL
                    .into_iter()
                    .find(|s| s.code() == code)
                    .ok_or_else(|| self.bad("status", code))?
            },
            next_step: self.u32("next_step")?,
            created_at: self.ts("created_at")?,
            started_at: self.opt("started_at", |r| r.ts("started_at"))?,
            try_started_at: self.opt("try_started_at", |r| r.ts("try_started_at"))?,
            updated_at: self.ts("updated_at")?,
            finished_at: self.opt("finished_at", |r| r.ts("finished_at"))?,
            owner: self.opt("owner", |r| r.str("owner"))?,
            lease_until: self.opt("lease_until", |r| r.ts("lease_until"))?,
            wake: self.opt("wake", |r| r.json("wake"))?,
            error: self.opt("error", |r| r.json("error"))?,
            retries: self.u32("retries")?,
            attempts: self.u32("attempts")?,
            history_from: self.u32("history_from")?,
            budget_from: self.u32("budget_from")?,
            dedupe_key: self.opt("dedupe_key", |r| r.str("dedupe_key"))?,
            cron_slot: self.opt("cron_slot", |r| r.ts("cron_slot"))?,
        };
        if self.at != self.bytes.len() {
            return Err(serde_json::Error::custom(format!(
                "run header: {} unexpected bytes after the last field",
                self.bytes.len() - self.at
            )));
        }
        Ok(run)
    }

    fn take(&mut self, field: &str, n: usize) -> Decoded<&[u8]> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        let Some(end) = end else {
            return Err(serde_json::Error::custom(format!(
                "run header ends inside field {field} (byte {})",
                self.at
            )));
        };
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: &str) -> Decoded<[u8; N]> {
        let bytes = self.take(field, N)?;
        Ok(bytes.try_into().unwrap_or([0; N]))
    }

    fn u8(&mut self, field: &str) -> Decoded<u8> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u32(&mut self, field: &str) -> Decoded<u32> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    fn ts(&mut self, field: &str) -> Decoded<Timestamp> {
        Ok(Timestamp::from_millis(u64::from_le_bytes(
            self.array(field)?,
        )))
    }

    fn str(&mut self, field: &str) -> Decoded<String> {
        let len = self.u32(field)? as usize;
        let at = self.at;
        let bytes = self.take(field, len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| {
            serde_json::Error::custom(format!("run header field {field} (byte {at}) is not UTF-8"))
        })
    }

    fn json<T: serde::de::DeserializeOwned>(&mut self, field: &str) -> Decoded<T> {
        serde_json::from_str(&self.str(field)?)
    }

    fn opt<T>(
        &mut self,
        field: &str,
        read: impl FnOnce(&mut Self) -> Decoded<T>,
    ) -> Decoded<Option<T>> {
        match self.u8(field)? {
            0 => Ok(None),
            1 => read(self).map(Some),
            n => Err(self.bad(field, n)),
        }
    }

    fn bad(&self, field: &str, value: u8) -> serde_json::Error {
        serde_json::Error::custom(format!(
            "run header field {field} has an unknown value {value} (byte {})",
            self.at - 1
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, StepError, TimerPurpose, Wake};

    fn full() -> Run {
        Run {
            id: RunId::generate(Timestamp::from_millis(1_750_000_000_000)),
            workflow_id: "dunning-é".into(),
            revision: "ab".repeat(32),
            trigger: TriggerKind::Cron,
            status: RunStatus::Waiting,
            next_step: 3,
            created_at: Timestamp::from_millis(1),
            started_at: Some(Timestamp::from_millis(2)),
            try_started_at: Some(Timestamp::from_millis(3)),
            updated_at: Timestamp::from_millis(4),
            finished_at: None,
            owner: Some("node-1".into()),
            lease_until: Some(Timestamp::from_millis(u64::MAX)),
            wake: Some(Wake {
                due: Timestamp::from_millis(5),
                purpose: TimerPurpose::Other("remind".into()),
            }),
            error: Some(StepError {
                kind: ErrorKind::Retryable,
                message: "timed out".into(),
                retry_after_ms: Some(30_000),
            }),
            retries: 1,
            attempts: 7,
            history_from: 2,
            budget_from: 5,
            dedupe_key: Some("evt_1".into()),
            cron_slot: Some(Timestamp::from_millis(6)),
        }
    }

    fn bare() -> Run {
        Run {
            status: RunStatus::Queued,
            trigger: TriggerKind::Webhook,
            started_at: None,
            try_started_at: None,
            owner: None,
            lease_until: None,
            wake: None,
            error: None,
            dedupe_key: None,
            cron_slot: None,
            ..full()
        }
    }

    #[test]
    fn headers_round_trip_and_are_much_smaller_than_json() {
        // The usual header (no timer, no error) is under half its JSON.
        for (run, ratio) in [(full(), 1), (bare(), 2)] {
            let bytes = encode_run(&run).unwrap();
            assert_eq!(decode_run(&bytes).unwrap(), run);
            let json = serde_json::to_vec(&run).unwrap();
            assert!(
                bytes.len() * ratio < json.len(),
                "{} vs {}",
                bytes.len(),
                json.len()
            );
        }
    }

    #[test]
    fn json_headers_written_before_are_still_read() {
        let run = full();
        let json = serde_json::to_vec(&run).unwrap();
        assert_eq!(decode_run(&json).unwrap(), run);
    }

    #[test]
    fn damaged_headers_are_refused_with_the_field() {
        let bytes = encode_run(&full()).unwrap();
        for cut in [1, 17, 40, bytes.len() - 1] {
            let err = decode_run(&bytes[..cut]).unwrap_err().to_string();
            assert!(
                err.contains("runs") && err.contains("ends inside field"),
                "{err}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(
            decode_run(&longer)
                .unwrap_err()
                .to_string()
                .contains("unexpected bytes")
        );
        let mut bad_trigger = bytes.clone();
        let at = 1 + 16 + 4 + "dunning-é".len() + 4 + 64;
        bad_trigger[at] = 9;
        let err = decode_run(&bad_trigger).unwrap_err().to_string();
        assert!(
            err.contains("field trigger has an unknown value 9"),
            "{err}"
        );
        assert!(decode_run(&[]).unwrap_err().to_string().contains("empty"));
        let err = decode_run(&[7, 0, 0]).unwrap_err().to_string();
        assert!(err.contains("version 7 is unknown"), "{err}");
    }
}
