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
    /// One slot per session type seen, in the order first seen.
    types: Vec<TypeCounts>,
    /// Where each type's slot is.
    index: HashMap<String, usize>,
    /// The slot counted last: a table counts one type over and over (a Basic request
    /// opens and ends the same type), so a short compare finds it without hashing.
    last: usize,
}

/// What one session type's sessions did.
#[derive(Debug)]
struct TypeCounts {
    session_type: String,
    accepted: u64,
    refused: [u64; RefusalReason::ALL.len()],
    ended: [u64; EndReason::ALL.len()],
}

impl Counters {
    pub(crate) fn accepted(&mut self, session_type: &str) {
        self.of(session_type).accepted += 1;
    }

    pub(crate) fn refused(&mut self, session_type: &str, reason: RefusalReason) {
        let index = RefusalReason::ALL.iter().position(|r| *r == reason).unwrap_or(0);
        self.of(session_type).refused[index] += 1;
    }

    pub(crate) fn ended(&mut self, session_type: &str, reason: EndReason) {
        let index = EndReason::ALL.iter().position(|r| *r == reason).unwrap_or(0);
        self.of(session_type).ended[index] += 1;
    }

    /// The slot of `session_type`, made on first use only (no allocation once the type
    /// is known).
    fn of(&mut self, session_type: &str) -> &mut TypeCounts {
        let last = self.types.get(self.last).filter(|t| t.session_type == session_type);
        if last.is_none() {
            self.last = match self.index.get(session_type) {
                Some(found) => *found,
                None => {
                    self.types.push(TypeCounts {
                        session_type: session_type.to_string(),
                        accepted: 0,
                        refused: [0; RefusalReason::ALL.len()],
                        ended: [0; EndReason::ALL.len()],
                    });
                    let made = self.types.len() - 1;
                    self.index.insert(session_type.to_string(), made);
                    made
                }
            };
        }
        &mut self.types[self.last]
    }

    pub(crate) fn snapshot(&self) -> CounterSnapshot {
        let mut snap = CounterSnapshot::default();
        for counts in &self.types {
            let t = &counts.session_type;
            if counts.accepted > 0 {
                snap.accepted.insert(t.clone(), counts.accepted);
            }
            let refused = RefusalReason::ALL.iter().zip(&counts.refused);
            for (reason, n) in refused.filter(|(_, n)| **n > 0) {
                snap.refused.insert((t.clone(), *reason), *n);
            }
            for (reason, n) in EndReason::ALL.iter().zip(&counts.ended).filter(|(_, n)| **n > 0) {
                snap.ended.insert((t.clone(), reason.as_str()), *n);
            }
        }
        snap
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each type keeps its own counts however the types alternate, and a type never
    /// accepted shows no accepted count (the snapshot lists only what happened).
    #[test]
    fn alternating_types_count_apart_and_snapshots_skip_zeros() {
        let mut counters = Counters::default();
        for _ in 0..3 {
            counters.accepted("redfish");
            counters.accepted("basic");
            counters.ended("redfish", EndReason::Logout);
        }
        counters.refused("ssh", RefusalReason::BadCredentials);
        counters.accepted("redfish");
        let snap = counters.snapshot();
        assert_eq!(snap.accepted.get("redfish"), Some(&4));
        assert_eq!(snap.accepted.get("basic"), Some(&3));
        assert_eq!(snap.accepted.get("ssh"), None);
        assert_eq!(snap.refused.get(&("ssh".to_string(), RefusalReason::BadCredentials)), Some(&1));
        assert_eq!(snap.ended.get(&("redfish".to_string(), "logout")), Some(&3));
        assert_eq!(snap.ended.len(), 1);
        assert_eq!(snap.refused.len(), 1);
    }
}
