//! What to fire when the scheduler wakes: the slot it slept for, and what it
//! missed while it was not running.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};

use super::error::ScheduleError;
use super::{Fire, Schedule};

/// A slot no older than this when the planner runs is on time, not missed:
/// the usual lateness of a scheduler waking for it.
pub const DEFAULT_GRACE: TimeDelta = TimeDelta::seconds(60);

/// The most slots [`CatchUpPolicy::All`] fires at once by default.
pub const DEFAULT_MAX_FIRES: usize = 100;

/// Missed slots counted one by one before the count becomes a lower bound.
const COUNT_LIMIT: u64 = 100_000;

/// What to do with slots missed while the scheduler was not running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CatchUpPolicy {
    /// Fire nothing that was missed; only a slot that is on time (no older
    /// than the grace) fires.
    None,
    /// Fire the most recent missed slot once, drop the others.
    #[default]
    Latest,
    /// Fire every missed slot, oldest first, up to a maximum; the oldest
    /// beyond it are dropped.
    All,
}

impl CatchUpPolicy {
    /// The policy's name in workflow files: `none`, `latest` or `all`.
    pub fn name(self) -> &'static str {
        match self {
            CatchUpPolicy::None => "none",
            CatchUpPolicy::Latest => "latest",
            CatchUpPolicy::All => "all",
        }
    }
}

impl fmt::Display for CatchUpPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CatchUpPolicy {
    type Err = ScheduleError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "none" => Ok(CatchUpPolicy::None),
            "latest" => Ok(CatchUpPolicy::Latest),
            "all" => Ok(CatchUpPolicy::All),
            _ => Err(ScheduleError::UnknownCatchUpPolicy {
                name: name.to_owned(),
            }),
        }
    }
}

/// Settings of the catch-up planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchUp {
    /// What to do with missed slots.
    pub policy: CatchUpPolicy,
    /// How late a slot may be and still count as on time under
    /// [`CatchUpPolicy::None`].
    pub grace: TimeDelta,
    /// The most slots fired at once under [`CatchUpPolicy::All`].
    pub max_fires: usize,
}

impl Default for CatchUp {
    fn default() -> Self {
        CatchUp {
            policy: CatchUpPolicy::default(),
            grace: DEFAULT_GRACE,
            max_fires: DEFAULT_MAX_FIRES,
        }
    }
}

impl CatchUp {
    /// The defaults with another policy.
    pub fn with_policy(policy: CatchUpPolicy) -> CatchUp {
        CatchUp {
            policy,
            ..CatchUp::default()
        }
    }
}

/// The planner's answer; see [`Schedule::plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Slots to fire now, oldest first. Each is after the last fired slot
    /// and no later than `now`.
    pub fire_now: Vec<Fire>,
    /// Due slots that will never fire (missed and not caught up).
    pub dropped: u64,
    /// `false` when so many slots were missed that `dropped` is a lower
    /// bound (over 100 000 missed slots).
    pub dropped_exact: bool,
    /// The first slot after `now` (and after the last fired slot): the one
    /// to wait for. `None` only past the end of the calendar.
    pub next: Option<Fire>,
}

impl Schedule {
    /// Plans what to fire at `now`.
    ///
    /// `last_fired` is the last slot that fired (its [`Fire::at`]). For a
    /// schedule that has never fired, pass the instant it was armed (the
    /// workflow deployed or enabled): slots after it are due, so the first
    /// one fires when the scheduler wakes for it. `None` means no starting
    /// point is known: nothing before `now` is due.
    ///
    /// The due slots are those in (`last_fired`, `now`]. The plan never
    /// returns a slot at or before `last_fired`, even if the clock went
    /// back.
    pub fn plan(
        &self,
        last_fired: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        catch_up: &CatchUp,
    ) -> Plan {
        let floor = last_fired.unwrap_or(now);
        let next = self.next_after(floor.max(now));
        if floor >= now {
            return Plan {
                fire_now: Vec::new(),
                dropped: 0,
                dropped_exact: true,
                next,
            };
        }

        let keep = match catch_up.policy {
            CatchUpPolicy::None | CatchUpPolicy::Latest => 1,
            CatchUpPolicy::All => catch_up.max_fires,
        };
        let due = self.due(floor, now, keep);
        let fire_now: Vec<Fire> = match catch_up.policy {
            CatchUpPolicy::None => due
                .newest
                .into_iter()
                .filter(|fire| now - fire.at() <= catch_up.grace)
                .collect(),
            CatchUpPolicy::Latest | CatchUpPolicy::All => due.newest.into(),
        };
        Plan {
            dropped: due.total - fire_now.len() as u64,
            dropped_exact: due.exact,
            fire_now,
            next,
        }
    }

    /// The newest `keep` fires in (`floor`, `now`] and how many there are.
    fn due(&self, floor: DateTime<Utc>, now: DateTime<Utc>, keep: usize) -> Due {
        let mut newest = VecDeque::with_capacity(keep.min(1024));
        let mut total = 0;
        let mut cursor = floor;
        let mut fires = self.fires_between(floor, now);
        for fire in fires.by_ref() {
            remember(&mut newest, keep, fire);
            total += 1;
            cursor = fire.at();
            if total == COUNT_LIMIT {
                break;
            }
        }
        if total < COUNT_LIMIT || fires.next().is_none() {
            return Due {
                newest,
                total,
                exact: true,
            };
        }

        // Too many to count: look back from `now` over windows that double
        // until they hold `keep` fires or reach what was already counted.
        // Only a window that reaches it makes the count exact.
        let mut span = TimeDelta::hours(1);
        loop {
            let start = match now.checked_sub_signed(span) {
                Some(start) if start > cursor => start,
                _ => cursor,
            };
            let reached = start == cursor;
            // A window that reaches the counted fires continues them.
            let mut window = if reached {
                newest.clone()
            } else {
                VecDeque::with_capacity(keep.min(1024))
            };
            let mut in_window = 0;
            for fire in self.fires_between(start, now) {
                remember(&mut window, keep, fire);
                in_window += 1;
            }
            if reached || in_window >= keep as u64 {
                return Due {
                    newest: window,
                    total: total + in_window,
                    exact: reached,
                };
            }
            span = span.checked_mul(2).unwrap_or(TimeDelta::MAX);
        }
    }
}

/// Keeps the `keep` newest fires seen so far, oldest first.
fn remember(newest: &mut VecDeque<Fire>, keep: usize, fire: Fire) {
    if keep == 0 {
        return;
    }
    if newest.len() == keep {
        newest.pop_front();
    }
    newest.push_back(fire);
}

struct Due {
    newest: VecDeque<Fire>,
    total: u64,
    exact: bool,
}
