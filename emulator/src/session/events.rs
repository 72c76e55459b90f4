//! The event log: every session that starts, ends or is refused, with who and why.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{ClientProcess, EndReason, LimitScope, Session};

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum EventKind {
    /// A session was created.
    Created,
    /// A session ended.
    Ended {
        /// Why.
        reason: EndReason,
    },
    /// A login was refused because a limit was reached.
    Refused {
        /// Which limit.
        limit: LimitScope,
    },
    /// A login failed on its credentials.
    LoginFailed,
    /// Something held in a session lapsed after its own idle timeout while the session
    /// went on (an open transaction).
    Expired {
        /// What lapsed, in the vendor's words ("transaction").
        what: String,
    },
}

/// One entry of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Position in the device's log, from 1.
    pub seq: u64,
    /// When it happened (for expiries: when the deadline passed, not when it was noticed).
    pub at: DateTime<Utc>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
    /// The session, when there is one.
    pub session_id: Option<String>,
    /// The user it concerns.
    pub user: String,
    /// The session type.
    pub session_type: String,
    /// The client's address.
    pub client_addr: Option<String>,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
    /// The local process that held the client's end of the connection, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_process: Option<ClientProcess>,
    /// Whether it was a one-request (Basic-auth) session.
    pub one_request: bool,
}

/// A bounded log: past `capacity` entries the oldest are dropped and counted.
#[derive(Clone, Debug)]
pub struct EventLog {
    entries: VecDeque<Event>,
    capacity: usize,
    next_seq: u64,
    dropped: u64,
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog::with_capacity(100_000)
    }
}

impl EventLog {
    /// A log that keeps at most `capacity` entries.
    pub fn with_capacity(capacity: usize) -> EventLog {
        EventLog { entries: VecDeque::new(), capacity: capacity.max(1), next_seq: 1, dropped: 0 }
    }

    pub(crate) fn session(&mut self, at: DateTime<Utc>, kind: EventKind, s: &Session) {
        self.push(Event {
            seq: 0,
            at,
            kind,
            session_id: Some(s.id.clone()),
            user: s.user.clone(),
            session_type: s.session_type.clone(),
            client_addr: s.client.addr.clone(),
            user_agent: s.client.user_agent.clone(),
            client_process: s.client.process.clone(),
            one_request: s.one_request,
        });
    }

    pub(crate) fn push(&mut self, mut event: Event) {
        event.seq = self.next_seq;
        self.next_seq += 1;
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(event);
    }

    /// The entries kept, oldest first.
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &Event> + ExactSizeIterator {
        self.entries.iter()
    }

    /// How many entries were dropped to stay within capacity.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}
