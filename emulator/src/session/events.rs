//! The event log: every session that starts, ends or is refused, with who and why.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{ClientInfo, ClientProcess, EndReason, LimitScope, Session};

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

impl Event {
    /// Roughly the memory it holds: the struct and its strings.
    pub fn approx_bytes(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let process = self.client_process.as_ref().map_or(0, |p| {
            p.name.len()
                + p.cmdline.iter().map(|a| a.len() + std::mem::size_of::<String>()).sum::<usize>()
        });
        let limit = match &self.kind {
            EventKind::Refused { limit: LimitScope::Pool(n) | LimitScope::User(n) } => n.len(),
            _ => 0,
        };
        std::mem::size_of::<Event>()
            + opt(&self.session_id)
            + self.user.len()
            + self.session_type.len()
            + opt(&self.client_addr)
            + opt(&self.user_agent)
            + process
            + limit
    }
}

/// How an event is kept: a fifth of an [`Event`]'s size. Its sequence number is its
/// position in the log; user names, session types and clients are interned per log (a
/// device's events mostly repeat a few of each), so an entry holds pointers to them and
/// only its session id of its own.
#[derive(Debug)]
struct Entry {
    at: DateTime<Utc>,
    kind: Kind,
    one_request: bool,
    session_id: Option<Box<str>>,
    user: Arc<str>,
    session_type: Arc<str>,
    client: Arc<ClientInfo>,
}

/// [`EventKind`] with interned names.
#[derive(Debug)]
enum Kind {
    Created,
    Ended(EndReason),
    RefusedTotal,
    RefusedPool(Arc<str>),
    RefusedUser(Arc<str>),
    LoginFailed,
    Expired(Arc<str>),
}

impl Entry {
    /// The memory an entry holds of its own (interned values are shared, and counted
    /// once in [`Interned::bytes`]).
    fn bytes(&self) -> usize {
        std::mem::size_of::<Entry>() + self.session_id.as_ref().map_or(0, |id| id.len())
    }
}

/// A log's interned values, dropped when no entry refers to them any more.
#[derive(Debug, Default)]
struct Interned {
    names: super::HashSet<Arc<str>>,
    clients: super::HashSet<Arc<ClientInfo>>,
    /// Size of both sets at the last pruning: they are pruned when they have doubled.
    pruned_at: usize,
}

impl Interned {
    fn name(&mut self, name: &str) -> Arc<str> {
        if let Some(found) = self.names.get(name) {
            return found.clone();
        }
        let made: Arc<str> = Arc::from(name);
        self.names.insert(made.clone());
        made
    }

    /// The log's copy of `client`, made if it has none (sessions hold it too).
    fn client(&mut self, client: &ClientInfo) -> Arc<ClientInfo> {
        if let Some(found) = self.clients.get(client) {
            return found.clone();
        }
        let made = Arc::new(client.clone());
        self.clients.insert(made.clone());
        made
    }

    /// Drops values only the sets still hold, once the sets have doubled since the last
    /// time (so a client sending a new `User-Agent` each time cannot grow them beyond
    /// about twice what the kept entries use).
    fn prune(&mut self) {
        let size = self.names.len() + self.clients.len();
        if size < 64 || size < self.pruned_at * 2 {
            return;
        }
        self.names.retain(|n| Arc::strong_count(n) > 1);
        self.clients.retain(|c| Arc::strong_count(c) > 1);
        self.pruned_at = self.names.len() + self.clients.len();
    }

    /// Roughly what the interned values hold.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        let names: usize = self.names.iter().map(|n| n.len() + 16 + 8).sum();
        let clients: usize = self
            .clients
            .iter()
            .map(|c| {
                std::mem::size_of::<ClientInfo>()
                    + 24
                    + c.addr.as_ref().map_or(0, String::len)
                    + c.user_agent.as_ref().map_or(0, String::len)
            })
            .sum();
        names + clients
    }

    fn kind(&mut self, kind: EventKind) -> Kind {
        match kind {
            EventKind::Created => Kind::Created,
            EventKind::Ended { reason } => Kind::Ended(reason),
            EventKind::Refused { limit: LimitScope::Total } => Kind::RefusedTotal,
            EventKind::Refused { limit: LimitScope::Pool(n) } => Kind::RefusedPool(self.name(&n)),
            EventKind::Refused { limit: LimitScope::User(n) } => Kind::RefusedUser(self.name(&n)),
            EventKind::LoginFailed => Kind::LoginFailed,
            EventKind::Expired { what } => Kind::Expired(self.name(&what)),
        }
    }

    /// The entry of an event about `session`, made from it without copying what is
    /// interned already.
    fn session_entry(&mut self, at: DateTime<Utc>, kind: EventKind, session: &Session) -> Entry {
        let client = session.client.clone();
        Entry {
            at,
            kind: self.kind(kind),
            one_request: session.one_request,
            session_id: Some(Box::from(session.id.as_str())),
            user: self.name(&session.user),
            session_type: self.name(&session.session_type),
            client,
        }
    }

    /// The entry of an event about no session, its names and client interned.
    fn entry(&mut self, at: DateTime<Utc>, kind: EventKind, who: Who<'_>) -> Entry {
        Entry {
            at,
            kind: self.kind(kind),
            one_request: who.one_request,
            session_id: None,
            user: self.name(who.user),
            session_type: self.name(who.session_type),
            client: self.client(who.client),
        }
    }
}

/// Who an event about no session (a refused login) concerns.
struct Who<'a> {
    user: &'a str,
    session_type: &'a str,
    client: &'a ClientInfo,
    one_request: bool,
}

impl Entry {
    fn event(&self, seq: u64) -> Event {
        let kind = match &self.kind {
            Kind::Created => EventKind::Created,
            Kind::Ended(reason) => EventKind::Ended { reason: *reason },
            Kind::RefusedTotal => EventKind::Refused { limit: LimitScope::Total },
            Kind::RefusedPool(n) => EventKind::Refused { limit: LimitScope::Pool(n.to_string()) },
            Kind::RefusedUser(n) => EventKind::Refused { limit: LimitScope::User(n.to_string()) },
            Kind::LoginFailed => EventKind::LoginFailed,
            Kind::Expired(what) => EventKind::Expired { what: what.to_string() },
        };
        Event {
            seq,
            at: self.at,
            kind,
            session_id: self.session_id.as_deref().map(str::to_string),
            user: self.user.to_string(),
            session_type: self.session_type.to_string(),
            client_addr: self.client.addr.clone(),
            user_agent: self.client.user_agent.clone(),
            client_process: self.client.process.clone(),
            one_request: self.one_request,
        }
    }
}

/// Memory for the event logs of a whole fleet, so a fleet of any size stays within one
/// bound. Each device has a reserved share (half the budget split evenly); the other
/// half is a pool that busy devices borrow from and give back as their old events go.
/// A device whose share is used and the pool empty drops its own oldest events.
#[derive(Debug)]
pub struct EventBudget {
    limit: usize,
    share: usize,
    pool: AtomicUsize,
}

impl EventBudget {
    /// A budget of `limit_bytes` for `devices` event logs.
    pub fn new(limit_bytes: usize, devices: usize) -> Arc<EventBudget> {
        let devices = devices.max(1);
        let share = limit_bytes / 2 / devices;
        Arc::new(EventBudget {
            limit: limit_bytes,
            share,
            pool: AtomicUsize::new(limit_bytes - share * devices),
        })
    }

    /// The whole fleet's budget, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Each device's reserved share, in bytes.
    pub fn share(&self) -> usize {
        self.share
    }

    /// Bytes left in the shared pool.
    pub fn available(&self) -> usize {
        self.pool.load(Ordering::Relaxed)
    }

    fn take(&self, bytes: usize) -> bool {
        self.pool
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| left.checked_sub(bytes))
            .is_ok()
    }

    fn give(&self, bytes: usize) {
        self.pool.fetch_add(bytes, Ordering::AcqRel);
    }
}

/// What a log holds against its budget, for the control API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct EventMemory {
    /// Entries kept.
    pub kept: usize,
    /// Their approximate size in bytes.
    pub bytes: usize,
    /// The most entries one device keeps.
    pub max_entries: usize,
    /// The fleet-wide budget in bytes, when the log shares one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet_budget_bytes: Option<usize>,
    /// This device's reserved share of it in bytes (it may borrow beyond it while the
    /// fleet has room).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_share_bytes: Option<usize>,
}

/// A bounded log: past `capacity` entries, or past its share of a fleet-wide
/// [`EventBudget`] when the fleet has no room left, the oldest are dropped and counted.
#[derive(Debug)]
pub struct EventLog {
    entries: VecDeque<Entry>,
    interned: Interned,
    capacity: usize,
    next_seq: u64,
    dropped: u64,
    budget: Option<Arc<EventBudget>>,
    /// Approximate bytes held by `entries`.
    bytes: usize,
    /// Of those, bytes borrowed from the budget's pool (beyond the share).
    borrowed: usize,
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog::with_capacity(100_000)
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        if let Some(budget) = &self.budget {
            budget.give(self.borrowed);
        }
    }
}

impl EventLog {
    /// A log that keeps at most `capacity` entries.
    pub fn with_capacity(capacity: usize) -> EventLog {
        EventLog {
            entries: VecDeque::new(),
            interned: Interned::default(),
            capacity: capacity.max(1),
            next_seq: 1,
            dropped: 0,
            budget: None,
            bytes: 0,
            borrowed: 0,
        }
    }

    /// An empty log with the same capacity and budget (a device reset).
    pub(crate) fn fresh(&self) -> EventLog {
        let mut log = EventLog::with_capacity(self.capacity);
        log.budget = self.budget.clone();
        log
    }

    /// Makes the log count against a fleet-wide budget from now on; what it holds beyond
    /// its share is dropped now if the pool cannot lend it.
    pub(crate) fn share(&mut self, budget: Arc<EventBudget>) {
        if let Some(old) = self.budget.take() {
            old.give(std::mem::take(&mut self.borrowed));
        }
        self.budget = Some(budget);
        self.settle(0);
    }

    /// The log's copy of `client` (made if it has none), for a new session to share.
    pub(crate) fn client(&mut self, client: &ClientInfo) -> Arc<ClientInfo> {
        self.interned.client(client)
    }

    pub(crate) fn session(&mut self, at: DateTime<Utc>, kind: EventKind, s: &Session) {
        self.make_room();
        let entry = self.interned.session_entry(at, kind, s);
        self.keep(entry);
    }

    /// Logs an event about no session (a refused login), copying nothing it has
    /// interned already.
    pub(crate) fn note(
        &mut self,
        at: DateTime<Utc>,
        kind: EventKind,
        user: &str,
        session_type: &str,
        client: &ClientInfo,
        one_request: bool,
    ) {
        self.make_room();
        let who = Who { user, session_type, client, one_request };
        let entry = self.interned.entry(at, kind, who);
        self.keep(entry);
    }

    /// Numbers the next event, and drops the oldest when the log is at its capacity.
    fn make_room(&mut self) {
        self.next_seq += 1;
        if self.entries.len() == self.capacity {
            self.drop_oldest();
        }
    }

    fn keep(&mut self, entry: Entry) {
        let size = entry.bytes();
        if !self.settle(size) {
            // Larger than all the room there is: counted, not kept.
            self.dropped += 1;
            return;
        }
        self.bytes += size;
        self.entries.push_back(entry);
        self.interned.prune();
    }

    /// Makes room for `incoming` more bytes within the share and what the pool lends,
    /// dropping the oldest entries while it cannot; `false` if even an empty log has
    /// no room for them.
    fn settle(&mut self, incoming: usize) -> bool {
        let Some(budget) = self.budget.clone() else { return true };
        loop {
            let wanted = (self.bytes + incoming).saturating_sub(budget.share);
            if wanted <= self.borrowed {
                let spare = self.borrowed - wanted;
                budget.give(spare);
                self.borrowed = wanted;
                return true;
            }
            if budget.take(wanted - self.borrowed) {
                self.borrowed = wanted;
                return true;
            }
            if self.entries.is_empty() {
                return false;
            }
            self.drop_oldest();
        }
    }

    fn drop_oldest(&mut self) {
        if let Some(old) = self.entries.pop_front() {
            self.bytes = self.bytes.saturating_sub(old.bytes());
            self.dropped += 1;
            if let Some(budget) = &self.budget {
                let keep = self.bytes.saturating_sub(budget.share).min(self.borrowed);
                budget.give(self.borrowed - keep);
                self.borrowed = keep;
            }
        }
    }

    /// The entries kept, oldest first.
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = Event> + ExactSizeIterator + '_ {
        let first = self.next_seq - self.entries.len() as u64;
        self.entries.iter().enumerate().map(move |(i, entry)| entry.event(first + i as u64))
    }

    /// How many entries were dropped to stay within capacity or the fleet's budget.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// What the log holds against its bounds.
    pub fn memory(&self) -> EventMemory {
        EventMemory {
            kept: self.entries.len(),
            bytes: self.bytes,
            max_entries: self.capacity,
            fleet_budget_bytes: self.budget.as_ref().map(|b| b.limit()),
            device_share_bytes: self.budget.as_ref().map(|b| b.share()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(i: usize) -> Event {
        Event {
            seq: 0,
            at: DateTime::<Utc>::UNIX_EPOCH,
            kind: if i % 2 == 0 {
                EventKind::Created
            } else {
                EventKind::Ended { reason: EndReason::Logout }
            },
            session_id: Some(format!("{:032x}", i / 2)),
            user: "Administrator".into(),
            session_type: "redfish".into(),
            client_addr: Some("127.0.0.1".into()),
            user_agent: Some("python-requests/2.32.3".into()),
            client_process: None,
            one_request: false,
        }
    }

    /// Logs `event` as the engine would, its session id included.
    fn push(log: &mut EventLog, event: Event) {
        log.make_room();
        let client = ClientInfo {
            addr: event.client_addr,
            user_agent: event.user_agent,
            process: event.client_process,
        };
        let who = Who {
            user: &event.user,
            session_type: &event.session_type,
            client: &client,
            one_request: event.one_request,
        };
        let mut entry = log.interned.entry(event.at, event.kind, who);
        entry.session_id = event.session_id.map(String::into_boxed_str);
        log.keep(entry);
    }

    /// Issue 15: an event costs under 150 bytes (its entry and its share of the interned
    /// values, a 32-character session id included), and reads back whole, numbered in
    /// order.
    #[test]
    fn an_event_is_kept_in_under_150_bytes_and_reads_back_whole() {
        let mut log = EventLog::with_capacity(1_000);
        for i in 0..1_500 {
            push(&mut log, event(i));
        }
        let kept = log.entries.len();
        let per_event = (log.bytes + log.interned.bytes()) / kept;
        assert!(per_event < 150, "{per_event} bytes per event");
        let read: Vec<Event> = log.entries().collect();
        assert_eq!(read.len(), 1_000);
        assert_eq!(read[0], Event { seq: 501, ..event(500) });
        assert_eq!(read[999], Event { seq: 1_500, ..event(1_499) });
        assert_eq!(log.dropped(), 500);
    }

    /// A client that sends a new `User-Agent` each time does not grow the interned
    /// values beyond about twice what the kept entries use.
    #[test]
    fn interned_values_no_entry_uses_are_dropped() {
        let mut log = EventLog::with_capacity(10);
        for i in 0..1_000 {
            push(&mut log, Event { user_agent: Some(format!("agent-{i}")), ..event(i) });
        }
        assert!(log.interned.clients.len() <= 64 + 20, "{}", log.interned.clients.len());
    }
}
