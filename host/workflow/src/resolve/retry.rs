//! `retry:` of a plugin step.

use crate::duration::Duration;
use crate::error::WorkflowError;
use crate::model::{Backoff, Retry};
use crate::yaml::NodeKind;

use super::Cx;
use super::raw::RawRetry;

/// Reads `retry:`; defaults: 3 attempts, exponential, 10s initial, max 1h
/// (or `initial` if larger), no jitter (`jitter: true` is 0.2).
pub(super) fn resolve(cx: &mut Cx<'_>, raw: &RawRetry, scope: &str) -> Option<Retry> {
    let mut ok = true;
    let attempts = match &raw.attempts {
        Some(a) if a.value == 0 || a.value > 100 => {
            cx.error(
                a.loc,
                scope,
                WorkflowError::InvalidValue {
                    field: "retry.attempts",
                    reason: format!(
                        "expected 1 to 100 (attempts in all, the first included), found {}",
                        a.value
                    ),
                },
            );
            ok = false;
            0
        }
        Some(a) => a.value,
        None => 3,
    };
    let initial = match &raw.initial {
        Some(d) => cx.duration(d, scope),
        None => Some(Duration::from_secs_const(10)),
    };
    let max = match &raw.max {
        Some(d) => cx.duration(d, scope),
        None => initial.map(|i| i.max(Duration::from_secs_const(3600))),
    };
    if let (Some(i), Some(m), Some(raw_max)) = (initial, max, &raw.max)
        && m < i
    {
        cx.error(
            raw_max.loc,
            scope,
            WorkflowError::InvalidValue {
                field: "retry.max",
                reason: format!("expected at least `initial` ({i}), found {m}"),
            },
        );
        ok = false;
    }
    let jitter = match &raw.jitter {
        None => Some(0.0),
        Some(n) => match &n.kind {
            NodeKind::Bool(true) => Some(0.2),
            NodeKind::Bool(false) => Some(0.0),
            NodeKind::Float(f) if (0.0..=1.0).contains(f) => Some(*f),
            NodeKind::Int(0) | NodeKind::UInt(0) => Some(0.0),
            NodeKind::Int(1) | NodeKind::UInt(1) => Some(1.0),
            _ => {
                cx.error(
                    n.loc,
                    scope,
                    WorkflowError::InvalidValue {
                        field: "retry.jitter",
                        reason: format!(
                            "expected true, false or a fraction from 0 to 1, found {}",
                            n.to_json()
                        ),
                    },
                );
                None
            }
        },
    };
    if !ok {
        return None;
    }
    Some(Retry {
        attempts,
        backoff: raw.backoff.unwrap_or(Backoff::Exponential),
        initial: initial?,
        max: max?,
        jitter: jitter?,
    })
}
