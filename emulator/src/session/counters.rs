//! Running totals of what the session table did: logins accepted and refused, sessions
//! ended. The event log is bounded (it drops its oldest entries under its budget), so
//! totals read from it would shrink; these never do, until the device is reset.
//!
//! They are plain integers inside the table's state, updated under the lock the
//! operation already holds: no extra atomic or allocation on a hot path once a session
//! type has been seen.

use std::collections::BTreeMap;

use super::HashMap;

use serde::Serialize;

use super::{EndReason, LimitScope};

/// Why a login was refused, as the counters and metrics name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalReason {
    /// Unknown user, wrong password or disabled account.
    BadCredentials,
    /// The device-wide limit was full.
    TotalLimit,
    /// The pool of the session's type was full.
    PoolLimit,
    /// The user's own limit was full.
    UserLimit,
}

impl RefusalReason {
    /// Every reason.
    pub const ALL: [RefusalReason; 4] = [
        RefusalReason::BadCredentials,
        RefusalReason::TotalLimit,
        RefusalReason::PoolLimit,
        RefusalReason::UserLimit,
    ];

    /// The kebab-case name (`pool-limit`), as end reasons are named.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::BadCredentials => "bad-credentials",
            RefusalReason::TotalLimit => "total-limit",
            RefusalReason::PoolLimit => "pool-limit",
            RefusalReason::UserLimit => "user-limit",
        }
    }

    /// The reason for a refusal by this limit.
    pub fn of_limit(scope: &LimitScope) -> RefusalReason {
        match scope {
            LimitScope::Total => RefusalReason::TotalLimit,
            LimitScope::Pool(_) => RefusalReason::PoolLimit,
            LimitScope::User(_) => RefusalReason::UserLimit,
        }
    }
}

/// The counters of one table, by session type.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    accepted: HashMap<String, u64>,
    refused: HashMap<String, [u64; RefusalReason::ALL.len()]>,
    ended: HashMap<String, [u64; EndReason::ALL.len()]>,
}

impl Counters {
    pub(crate) fn accepted(&mut self, session_type: &str) {
        bump(&mut self.accepted, session_type, |n| *n += 1);
    }

    pub(crate) fn refused(&mut self, session_type: &str, reason: RefusalReason) {
        let index = RefusalReason::ALL.iter().position(|r| *r == reason).unwrap_or(0);
        bump(&mut self.refused, session_type, |n| n[index] += 1);
    }

    pub(crate) fn ended(&mut self, session_type: &str, reason: EndReason) {
        let index = EndReason::ALL.iter().position(|r| *r == reason).unwrap_or(0);
        bump(&mut self.ended, session_type, |n| n[index] += 1);
    }

    pub(crate) fn snapshot(&self) -> CounterSnapshot {
        let mut snap = CounterSnapshot::default();
        for (t, n) in &self.accepted {
            snap.accepted.insert(t.clone(), *n);
        }
        for (t, counts) in &self.refused {
            for (reason, n) in RefusalReason::ALL.iter().zip(counts).filter(|(_, n)| **n > 0) {
                snap.refused.insert((t.clone(), *reason), *n);
            }
        }
        for (t, counts) in &self.ended {
            for (reason, n) in EndReason::ALL.iter().zip(counts).filter(|(_, n)| **n > 0) {
                snap.ended.insert((t.clone(), reason.as_str()), *n);
            }
        }
        snap
    }
}

/// Applies `bump` to the slot of `key`, made on first use only (no allocation once the
/// type is known).
fn bump<V: Default>(map: &mut HashMap<String, V>, key: &str, bump: impl FnOnce(&mut V)) {
    match map.get_mut(key) {
        Some(v) => bump(v),
        None => bump(map.entry(key.to_string()).or_default()),
    }
}

/// A copy of a table's counters, sorted, with only the non-zero ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Sessions opened (logins accepted), by session type.
    pub accepted: BTreeMap<String, u64>,
    /// Logins refused, by session type and reason.
    pub refused: BTreeMap<(String, RefusalReason), u64>,
    /// Sessions ended, by session type and end reason (its kebab-case name).
    pub ended: BTreeMap<(String, &'static str), u64>,
}
