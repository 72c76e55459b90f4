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

/// How an event is kept: plain data, a fraction of an [`Event`]'s size. Its sequence
/// number is its position in the log; user names, session types and clients are
/// interned per log (a device's events mostly repeat a few of each) and named by their
/// index; its session id is kept in the log's byte ring, in the order of the entries.
/// So logging an event allocates nothing, and dropping the oldest frees nothing and
/// touches nothing but the entry itself.
#[derive(Clone, Copy, Debug)]
struct Entry {
    at: DateTime<Utc>,
    kind: Kind,
    one_request: bool,
    /// Where its session id starts in the log's id ring (counted from the log's first
    /// byte ever) and how long it is; `NO_ID` as the length when it has none.
    id_at: u64,
    id_len: u32,
    user: u32,
    session_type: u32,
    client: u32,
}

/// The length of the id of an entry about no session.
const NO_ID: u32 = u32::MAX;

/// [`EventKind`] with interned names.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Created,
    Ended(EndReason),
    RefusedTotal,
    RefusedPool(u32),
    RefusedUser(u32),
    LoginFailed,
    Expired(u32),
}

impl Kind {
    /// The interned name it refers to, if any.
    fn name(&mut self) -> Option<&mut u32> {
        match self {
            Kind::RefusedPool(n) | Kind::RefusedUser(n) | Kind::Expired(n) => Some(n),
            _ => None,
        }
    }
}

impl Entry {
    /// The memory an entry holds of its own (interned values are shared, and counted
    /// once in [`Interned::bytes`]).
    fn bytes(&self) -> usize {
        std::mem::size_of::<Entry>() + self.id_bytes()
    }

    fn id_bytes(&self) -> usize {
        if self.id_len == NO_ID {
            0
        } else {
            self.id_len as usize
        }
    }
}

/// A log's interned values, each named by its index; dropped when no entry refers to
/// them any more.
#[derive(Debug, Default)]
struct Interned {
    names: Vec<Arc<str>>,
    name_index: super::HashMap<Arc<str>, u32>,
    clients: Vec<Arc<ClientInfo>>,
    client_index: super::HashMap<Arc<ClientInfo>, u32>,
    /// The client interned or looked up last, and its index: a session's events, and a
    /// device's requests, mostly come from one client after another, and this finds it
    /// without hashing it.
    last_client: Option<(Arc<ClientInfo>, u32)>,
    /// The user and the session type named last ([`Interned::recent_name`]): a device's
    /// events mostly repeat both, and this finds them without hashing them.
    last_names: [Option<u32>; 2],
    /// Size of both tables at the last pruning: they are pruned when they have doubled.
    pruned_at: usize,
}

impl Interned {
    fn name(&mut self, name: &str) -> u32 {
        if let Some(found) = self.name_index.get(name) {
            return *found;
        }
        let index = self.names.len() as u32;
        let made: Arc<str> = Arc::from(name);
        self.names.push(made.clone());
        self.name_index.insert(made, index);
        index
    }

    /// [`Interned::name`], first trying the name found last in `slot` (one for users,
    /// one for session types).
    fn recent_name(&mut self, slot: usize, name: &str) -> u32 {
        if let Some(last) = self.last_names[slot] {
            if *self.names[last as usize] == *name {
                return last;
            }
        }
        let index = self.name(name);
        self.last_names[slot] = Some(index);
        index
    }

    /// The index of `client`, which `shared` (when given) already holds.
    fn client_index(&mut self, client: &ClientInfo, shared: Option<&Arc<ClientInfo>>) -> u32 {
        if let Some((last, index)) = &self.last_client {
            if shared.is_some_and(|s| Arc::ptr_eq(s, last)) || **last == *client {
                return *index;
            }
        }
        let index = match self.client_index.get(client) {
            Some(found) => *found,
            None => {
                let index = self.clients.len() as u32;
                let made = shared.cloned().unwrap_or_else(|| Arc::new(client.clone()));
                self.clients.push(made.clone());
                self.client_index.insert(made, index);
                index
            }
        };
        self.last_client = Some((self.clients[index as usize].clone(), index));
        index
    }

    /// The log's copy of `client`, made if it has none (sessions hold it too).
    fn client(&mut self, client: &ClientInfo) -> Arc<ClientInfo> {
        let index = self.client_index(client, None);
        self.clients[index as usize].clone()
    }

    /// Whether the tables have doubled since the last pruning (so a client sending a new
    /// `User-Agent` each time cannot grow them beyond about twice what the kept entries
    /// use, and pruning costs each event a constant share).
    fn due(&self) -> bool {
        let size = self.names.len() + self.clients.len();
        size >= 64 && size >= self.pruned_at * 2
    }

    /// Drops the values no entry of `entries` refers to, and renumbers the rest in them.
    fn prune(&mut self, entries: &mut VecDeque<Entry>) {
        let mut names = vec![u32::MAX; self.names.len()];
        let mut clients = vec![u32::MAX; self.clients.len()];
        for entry in entries.iter() {
            let mut kind = entry.kind;
            for name in [entry.user, entry.session_type].into_iter().chain(kind.name().copied()) {
                names[name as usize] = 0;
            }
            clients[entry.client as usize] = 0;
        }
        keep_marked(&mut self.names, &mut names);
        keep_marked(&mut self.clients, &mut clients);
        self.name_index = self.names.iter().cloned().zip(0..).collect();
        self.client_index = self.clients.iter().cloned().zip(0..).collect();
        for entry in entries.iter_mut() {
            entry.user = names[entry.user as usize];
            entry.session_type = names[entry.session_type as usize];
            entry.client = clients[entry.client as usize];
            if let Some(name) = entry.kind.name() {
                *name = names[*name as usize];
            }
        }
        self.last_client = None;
        self.last_names = [None; 2];
        self.pruned_at = self.names.len() + self.clients.len();
    }

    /// Roughly what the interned values hold.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        let names: usize = self.names.iter().map(|n| n.len() + 16 + 2 * 16 + 4).sum();
        let clients: usize = self
            .clients
            .iter()
            .map(|c| {
                std::mem::size_of::<ClientInfo>()
                    + 16
                    + 2 * 8
                    + 4
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

    fn event(&self, entry: &Entry, seq: u64, session_id: Option<String>) -> Event {
        let name = |index: u32| self.names[index as usize].to_string();
        let kind = match entry.kind {
            Kind::Created => EventKind::Created,
            Kind::Ended(reason) => EventKind::Ended { reason },
            Kind::RefusedTotal => EventKind::Refused { limit: LimitScope::Total },
            Kind::RefusedPool(n) => EventKind::Refused { limit: LimitScope::Pool(name(n)) },
            Kind::RefusedUser(n) => EventKind::Refused { limit: LimitScope::User(name(n)) },
            Kind::LoginFailed => EventKind::LoginFailed,
            Kind::Expired(what) => EventKind::Expired { what: name(what) },
        };
        let client = &self.clients[entry.client as usize];
        Event {
            seq,
            at: entry.at,
            kind,
            session_id,
            user: name(entry.user),
            session_type: name(entry.session_type),
            client_addr: client.addr.clone(),
            user_agent: client.user_agent.clone(),
            client_process: client.process.clone(),
            one_request: entry.one_request,
        }
    }
}

/// Keeps the values of `values` whose mark is not `u32::MAX`, in order, and turns each
/// kept value's mark into its new index.
fn keep_marked<T>(values: &mut Vec<T>, marks: &mut [u32]) {
    for (mark, kept) in marks.iter_mut().filter(|mark| **mark != u32::MAX).zip(0..) {
        *mark = kept;
    }
    let mut marks = marks.iter();
    values.retain(|_| marks.next().is_some_and(|mark| *mark != u32::MAX));
}

/// Who an event about no session (a refused login) concerns.
struct Who<'a> {
    user: &'a str,
    session_type: &'a str,
    client: &'a ClientInfo,
    one_request: bool,
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
    /// The session ids of `entries`, end to end in the same order.
    ids: VecDeque<u8>,
    /// Where `ids` starts, counted from the log's first byte ever.
    ids_start: u64,
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
            ids: VecDeque::new(),
            ids_start: 0,
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
        let who = Who {
            user: &s.user,
            session_type: &s.session_type,
            client: &s.client,
            one_request: s.one_request,
        };
        self.record(at, kind, who, Some(&s.client), Some(&s.id));
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
        let who = Who { user, session_type, client, one_request };
        self.record(at, kind, who, None, None);
    }

    /// Numbers and keeps an event (`shared` is the client as a session holds it).
    fn record(
        &mut self,
        at: DateTime<Utc>,
        kind: EventKind,
        who: Who<'_>,
        shared: Option<&Arc<ClientInfo>>,
        session_id: Option<&str>,
    ) {
        self.make_room();
        let entry = Entry {
            at,
            kind: self.interned.kind(kind),
            one_request: who.one_request,
            id_at: 0,
            id_len: session_id.map_or(NO_ID, |id| id.len().min(NO_ID as usize - 1) as u32),
            user: self.interned.recent_name(0, who.user),
            session_type: self.interned.recent_name(1, who.session_type),
            client: self.interned.client_index(who.client, shared),
        };
        self.keep(entry, session_id.map(str::as_bytes));
    }

    /// Numbers the next event, and drops the oldest when the log is at its capacity.
    fn make_room(&mut self) {
        self.next_seq += 1;
        if self.entries.len() == self.capacity {
            self.drop_oldest();
        }
    }

    fn keep(&mut self, mut entry: Entry, id: Option<&[u8]>) {
        let size = entry.bytes();
        if !self.settle(size) {
            // Larger than all the room there is: counted, not kept.
            self.dropped += 1;
            return;
        }
        self.bytes += size;
        if let Some(id) = id {
            entry.id_at = self.ids_start + self.ids.len() as u64;
            self.ids.extend(&id[..entry.id_bytes()]);
        }
        self.entries.push_back(entry);
        if self.interned.due() {
            self.interned.prune(&mut self.entries);
        }
    }

    /// Makes room for `incoming` more bytes within the share and what the pool lends,
    /// dropping the oldest entries while it cannot; `false` if even an empty log has
    /// no room for them.
    ///
    /// A log within its own share touches nothing the fleet shares: the pool is one
    /// atomic for every device, and every core would take its cache line in turn.
    fn settle(&mut self, incoming: usize) -> bool {
        loop {
            let Some(budget) = &self.budget else { return true };
            let wanted = (self.bytes + incoming).saturating_sub(budget.share);
            if wanted <= self.borrowed {
                if wanted < self.borrowed {
                    budget.give(self.borrowed - wanted);
                }
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
            let id = old.id_bytes();
            self.ids.drain(..id);
            self.ids_start += id as u64;
            self.bytes = self.bytes.saturating_sub(old.bytes());
            self.dropped += 1;
            if let Some(budget) = &self.budget {
                let keep = self.bytes.saturating_sub(budget.share).min(self.borrowed);
                if keep < self.borrowed {
                    budget.give(self.borrowed - keep);
                }
                self.borrowed = keep;
            }
        }
    }

    /// The session id of `entry`, when it has one.
    fn id_of(&self, entry: &Entry) -> Option<String> {
        if entry.id_len == NO_ID {
            return None;
        }
        let start = (entry.id_at - self.ids_start) as usize;
        let bytes: Vec<u8> = self.ids.range(start..start + entry.id_bytes()).copied().collect();
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The entries kept, oldest first.
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = Event> + ExactSizeIterator + '_ {
        let first = self.next_seq - self.entries.len() as u64;
        self.entries
            .iter()
            .enumerate()
            .map(move |(i, entry)| self.interned.event(entry, first + i as u64, self.id_of(entry)))
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
        log.record(event.at, event.kind, who, None, event.session_id.as_deref());
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

    /// Dropping unused interned values renumbers the rest: every kept entry still reads
    /// back with its own user, type, client, limit name and session id.
    #[test]
    fn entries_read_back_whole_after_interned_values_are_pruned() {
        let made = |i: usize| Event {
            kind: match i % 3 {
                0 => EventKind::Refused { limit: LimitScope::Pool(format!("pool-{i}")) },
                1 => EventKind::Expired { what: format!("what-{}", i % 7) },
                _ => EventKind::Created,
            },
            user: format!("user-{}", i % 5),
            user_agent: Some(format!("agent-{i}")),
            session_id: (i % 2 == 0).then(|| format!("id-{i}")),
            ..event(i)
        };
        let log = last_ten_read_back(made);
        assert!(log.interned.names.len() + log.interned.clients.len() < 100);
    }

    /// Logs events `made(0)` to `made(999)` in a log that keeps ten, and checks that the
    /// last ten read back whole.
    fn last_ten_read_back(made: impl Fn(usize) -> Event) -> EventLog {
        let mut log = EventLog::with_capacity(10);
        for i in 0..1_000 {
            push(&mut log, made(i));
        }
        let read: Vec<Event> = log.entries().collect();
        let expected: Vec<Event> =
            (990..1_000).map(|i| Event { seq: i as u64 + 1, ..made(i) }).collect();
        assert_eq!(read, expected);
        log
    }

    /// The user and type found last are remembered by index; pruning renumbers them, and
    /// an event after it still names its own user, not whichever name took the old index.
    #[test]
    fn the_names_found_last_are_renumbered_with_the_rest() {
        last_ten_read_back(|i| Event {
            kind: EventKind::Refused { limit: LimitScope::Pool(format!("pool-{i}")) },
            user: if i < 20 { format!("early-{i}") } else { "admin".to_string() },
            ..event(i)
        });
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
