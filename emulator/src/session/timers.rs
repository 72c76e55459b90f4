//! Session attributes with an idle timeout of their own: something a vendor keeps inside
//! a session (an open transaction) that lapses when the session has not been used for a
//! while, without ending the session. The engine owns the clock, so the engine expires
//! them: on every observation, like sessions, logged at their deadline.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// One timed attribute.
#[derive(Clone, Debug)]
struct Timer {
    /// Idle time after which it lapses.
    timeout: Duration,
    /// Monotonic time of the session's last use (or the attribute's setting).
    from: Duration,
    /// The value the attribute takes when it lapses.
    lapsed_value: String,
    /// What it is, in words, for the event log ("transaction").
    what: String,
}

impl Timer {
    fn deadline(&self) -> Duration {
        self.from + self.timeout
    }
}

/// What lapsed: the session's key, the attribute, its value now, what it was, when.
pub(crate) struct Lapsed {
    pub key: u64,
    pub attr: String,
    pub lapsed_value: String,
    pub what: String,
    pub deadline: Duration,
}

/// Every timed attribute of a table, with an ordered index of their deadlines.
#[derive(Default)]
pub(crate) struct Timers {
    timers: BTreeMap<(u64, String), Timer>,
    deadlines: BTreeSet<(Duration, u64, String)>,
}

impl Timers {
    /// Whether no timer runs (most tables never hold one).
    pub fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }

    /// Starts (or restarts) a timer on `attr` of session `key`.
    pub fn set(
        &mut self,
        key: u64,
        attr: &str,
        timeout: Duration,
        lapsed_value: &str,
        what: &str,
        now: Duration,
    ) {
        self.remove(key, attr);
        let timer = Timer {
            timeout,
            from: now,
            lapsed_value: lapsed_value.to_string(),
            what: what.to_string(),
        };
        self.deadlines.insert((timer.deadline(), key, attr.to_string()));
        self.timers.insert((key, attr.to_string()), timer);
    }

    /// Stops the timer on `attr` of session `key`, if any.
    pub fn remove(&mut self, key: u64, attr: &str) {
        if let Some(old) = self.timers.remove(&(key, attr.to_string())) {
            self.deadlines.remove(&(old.deadline(), key, attr.to_string()));
        }
    }

    /// Stops every timer of session `key` (it ended).
    pub fn remove_session(&mut self, key: u64) {
        // Most tables never hold a timer: a session's end then looks nothing up.
        if self.timers.is_empty() {
            return;
        }
        let attrs: Vec<String> = self
            .timers
            .range((key, String::new())..)
            .take_while(|((k, _), _)| *k == key)
            .map(|((_, a), _)| a.clone())
            .collect();
        for attr in attrs {
            self.remove(key, &attr);
        }
    }

    /// Session `key` was used at `now`: its timers count again from now.
    pub fn touch(&mut self, key: u64, now: Duration) {
        if self.timers.is_empty() {
            return;
        }
        for ((k, attr), timer) in
            self.timers.range_mut((key, String::new())..).take_while(|((k, _), _)| *k == key)
        {
            self.deadlines.remove(&(timer.deadline(), *k, attr.clone()));
            timer.from = now;
            self.deadlines.insert((timer.deadline(), *k, attr.clone()));
        }
    }

    /// Removes and returns the timers whose deadline is at or before `now`, earliest first.
    pub fn due(&mut self, now: Duration) -> Vec<Lapsed> {
        let mut lapsed = Vec::new();
        // Every look at the table asks; most tables never hold a timer.
        if self.timers.is_empty() {
            return lapsed;
        }
        while let Some((deadline, key, attr)) = self.deadlines.first().cloned() {
            if deadline > now {
                break;
            }
            self.deadlines.remove(&(deadline, key, attr.clone()));
            if let Some(timer) = self.timers.remove(&(key, attr.clone())) {
                lapsed.push(Lapsed {
                    key,
                    attr,
                    lapsed_value: timer.lapsed_value,
                    what: timer.what,
                    deadline,
                });
            }
        }
        lapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// A timer lapses at its deadline, not before, and only once.
    #[test]
    fn lapses_at_the_deadline_once() {
        let mut t = Timers::default();
        t.set(1, "tx", secs(30), "expired", "transaction", secs(0));
        assert!(t.due(secs(29)).is_empty());
        let due = t.due(secs(30));
        assert_eq!(due.len(), 1);
        assert_eq!((due[0].key, due[0].attr.as_str(), due[0].deadline), (1, "tx", secs(30)));
        assert!(t.due(secs(100)).is_empty());
    }

    /// Use of the session restarts its timers; an ended session's timers are gone.
    #[test]
    fn touch_restarts_and_removal_stops() {
        let mut t = Timers::default();
        t.set(1, "tx", secs(30), "expired", "transaction", secs(0));
        t.set(2, "tx", secs(30), "expired", "transaction", secs(0));
        t.touch(1, secs(20));
        t.remove_session(2);
        assert!(t.due(secs(49)).is_empty());
        assert_eq!(t.due(secs(50)).len(), 1);
    }
}
