//! The vendor-neutral session engine.
//!
//! Limits, idle and lifetime timeouts, invalidation and the event log live here, once.
//! There is no HTTP, SSH or vendor name in this module: vendor modules map their wire
//! protocol onto [`SessionStore`] calls and its outcomes onto their own wire format.
//! Every call takes `now` explicitly; only the edges read the [`crate::clock::Clock`].

mod accounts;
mod counters;
mod events;
mod policy;
mod store;
mod timers;
mod token;

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The engine's hash maps: foldhash, several times faster than the standard SipHash on
/// the short keys hashed on every login and logout (tokens, ids, user and type names),
/// and still seeded per process.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// The engine's hash sets (see [`HashMap`]).
pub(crate) type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

pub use accounts::{Account, AccountError, AccountUpdate};
pub use counters::{CounterSnapshot, RefusalReason};
pub use events::{Event, EventBudget, EventKind, EventLog, EventMemory};
pub use policy::{AuthConfigChange, IdFormat, Policy, Pool, TokenFormat, UserChange};
pub use store::{
    ChosenTokenError, Counts, LimitUsage, LoginRequest, SessionSetup, SessionStore, UpdateError,
};
pub use token::IdGenerator;

/// A name the engine shares rather than copies: a session's user, role and type. A
/// table keeps one copy of each distinct name, so opening a session allocates none. It
/// reads as the `str` it holds (`Deref`, `Display`, comparisons with `str` and `String`).
/// For an owned copy write `name.as_str().to_owned()`: `to_string` goes through the
/// formatter, several times slower on a request path.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(std::sync::Arc<str>);

impl Name {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name(text.into())
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0.as_ref().to_owned()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Who is on the other end of a session: recorded on the session and in the event log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClientInfo {
    /// The client's address (IP, without port).
    pub addr: Option<String>,
    /// The `User-Agent` the client sent, if any.
    pub user_agent: Option<String>,
    /// The local process that held the client's end of the connection, when the
    /// listener was asked to find it (hygiene mode, Linux) and could.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ClientProcess>,
}

/// A process on the emulator's own host, named from `/proc` (see [`crate::peer`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClientProcess {
    /// Its process id.
    pub pid: u32,
    /// Its name (`/proc/PID/comm`), e.g. `python3`.
    pub name: String,
    /// Its command line (`/proc/PID/cmdline`), possibly cut short.
    pub cmdline: Vec<String>,
}

impl fmt::Display for ClientProcess {
    /// `python3 (pid 4242: python3 my_test.py)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (pid {}", self.name, self.pid)?;
        if !self.cmdline.is_empty() {
            write!(f, ": {}", self.cmdline.join(" "))?;
        }
        write!(f, ")")
    }
}

/// Why a session ended. Every ending is logged once with one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndReason {
    /// The client logged out.
    Logout,
    /// Unused for longer than the idle timeout.
    IdleTimeout,
    /// Older than the maximum lifetime.
    MaxLifetime,
    /// The user's password (or name) changed.
    CredentialChange,
    /// The user was deleted.
    UserDeleted,
    /// The device's authentication configuration changed.
    AuthConfigChange,
    /// An administrator deleted it.
    AdminDelete,
    /// The device restarted.
    Restart,
    /// A one-request (Basic-auth) session whose request finished.
    RequestEnd,
}

impl EndReason {
    /// Every reason, for listings and filters.
    pub const ALL: [EndReason; 9] = [
        EndReason::Logout,
        EndReason::IdleTimeout,
        EndReason::MaxLifetime,
        EndReason::CredentialChange,
        EndReason::UserDeleted,
        EndReason::AuthConfigChange,
        EndReason::AdminDelete,
        EndReason::Restart,
        EndReason::RequestEnd,
    ];

    /// The kebab-case name used in JSON and filters.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::IdleTimeout => "idle-timeout",
            EndReason::MaxLifetime => "max-lifetime",
            EndReason::CredentialChange => "credential-change",
            EndReason::UserDeleted => "user-deleted",
            EndReason::AuthConfigChange => "auth-config-change",
            EndReason::AdminDelete => "admin-delete",
            EndReason::Restart => "restart",
            EndReason::RequestEnd => "request-end",
        }
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EndReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EndReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown end reason {s:?}"))
    }
}

/// A session token. Its `Debug` never shows the value, so it cannot leak into logs.
/// Shared, not copied: the session and the table's token indexes hold the same value.
/// A one-request session has none ([`Token::none`]): its client authenticates with its
/// password, and no later request can present a token it was never given.
#[derive(Clone)]
pub struct Token(Option<std::sync::Arc<str>>);

impl Token {
    /// No token: the token of a one-request session, which hands none out.
    pub const fn none() -> Token {
        Token(None)
    }

    /// The token as sent on the wire (empty for [`Token::none`]).
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }

    /// Whether this is [`Token::none`].
    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

impl From<&str> for Token {
    /// A token with the given text (the engine makes its own; tests and chosen tokens
    /// bring theirs).
    fn from(text: &str) -> Token {
        Token(Some(text.into()))
    }
}

impl From<String> for Token {
    /// A token made of `text`, moved into one shared allocation.
    fn from(text: String) -> Token {
        Token(Some(text.into()))
    }
}

/// Tokens are equal, and hash, as their text does: [`Borrow<str>`] below relies on it.
impl PartialEq for Token {
    fn eq(&self, other: &Token) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Token {}

impl std::hash::Hash for Token {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// Lets the engine look a token up by `&str` without allocating; a token hashes as its
/// text does, so this is sound.
impl std::borrow::Borrow<str> for Token {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

/// A snapshot of one open session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The id shown on the wire (in URIs, listings).
    pub id: String,
    /// The secret that authenticates later requests ([`Token::none`] for a one-request
    /// session).
    pub token: Token,
    /// The account it belongs to.
    pub user: Name,
    /// The account's role when the session was created.
    pub role: Name,
    /// Vendor-chosen kind ("redfish", "web", "ssh", ...), counted against pools.
    pub session_type: Name,
    /// Who opened it; shared with the device's event log, which keeps one copy of each
    /// client.
    pub client: std::sync::Arc<ClientInfo>,
    /// A one-request (Basic-auth) session: ends when its request does.
    pub one_request: bool,
    /// Monotonic creation time.
    pub created_mono: Duration,
    /// Wall-clock creation time.
    pub created_at: DateTime<Utc>,
    /// Monotonic time of last use.
    pub last_used_mono: Duration,
    /// Wall-clock time of last use.
    pub last_used_at: DateTime<Utc>,
    /// This session's idle timeout (fixed at creation unless the policy says otherwise).
    pub idle_timeout: Option<Duration>,
    /// This session's maximum lifetime.
    pub max_lifetime: Option<Duration>,
    /// Whether use renews the idle timer.
    pub sliding: bool,
    /// Requests authenticated with it since it was created (the login not counted).
    pub requests: u64,
    /// Vendor attributes kept with the session (an open transaction, a requested
    /// timeout); the engine stores them and never reads them.
    pub attrs: std::collections::BTreeMap<String, String>,
}

impl Session {
    /// When an idle timer that use renews runs out (a sliding idle timeout).
    fn idle_deadline(&self) -> Option<Duration> {
        self.idle_timeout.filter(|_| self.sliding).map(|t| self.last_used_mono + t)
    }

    /// The session's fixed end, whatever its use: the maximum lifetime, or a timeout
    /// that use does not renew (not sliding: it counts from creation, like a BIG-IP
    /// token's absolute expiry), whichever comes first. Ending there is a lifetime
    /// ending, not an idle one.
    fn lifetime_deadline(&self) -> Option<Duration> {
        let fixed = self.idle_timeout.filter(|_| !self.sliding).map(|t| self.created_mono + t);
        let lifetime = self.max_lifetime.map(|t| self.created_mono + t);
        match (fixed, lifetime) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The monotonic instant it ends unless used, and why it would end then.
    pub fn deadline(&self) -> Option<(Duration, EndReason)> {
        match (self.idle_deadline(), self.lifetime_deadline()) {
            (None, None) => None,
            (Some(i), None) => Some((i, EndReason::IdleTimeout)),
            (None, Some(l)) => Some((l, EndReason::MaxLifetime)),
            (Some(i), Some(l)) if l <= i => Some((l, EndReason::MaxLifetime)),
            (Some(i), Some(_)) => Some((i, EndReason::IdleTimeout)),
        }
    }

    /// Wall-clock time the sliding idle timer runs out, read against `now`.
    pub fn idle_expires_at(&self, now: crate::clock::Now) -> Option<DateTime<Utc>> {
        self.idle_deadline().map(|d| now.utc_at(d))
    }

    /// Wall-clock time of the session's fixed end (maximum lifetime, or a timeout that
    /// use does not renew), read against `now`.
    pub fn hard_expires_at(&self, now: crate::clock::Now) -> Option<DateTime<Utc>> {
        self.lifetime_deadline().map(|d| now.utc_at(d))
    }

    /// The role the session acts with now: its account's current role (a role change
    /// applies without ending sessions), or the role it was opened with when the account
    /// is gone. `account` is the session's account as the engine hands it over
    /// ([`SessionStore::authenticate_with`]).
    pub fn role_now<'a>(&'a self, account: Option<&'a Account>) -> &'a str {
        account.map_or(&self.role, |a| &a.role)
    }
}

/// Which limit refused a login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", content = "name", rename_all = "kebab-case")]
pub enum LimitScope {
    /// The device-wide limit.
    Total,
    /// A pool of session types.
    Pool(String),
    /// The per-user limit, for this user.
    User(String),
}

impl fmt::Display for LimitScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitScope::Total => f.write_str("total"),
            LimitScope::Pool(name) => write!(f, "pool {name}"),
            LimitScope::User(name) => write!(f, "user {name}"),
        }
    }
}

/// Why a login was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// Unknown user, wrong password or disabled account; never says which.
    #[error("bad credentials")]
    BadCredentials,
    /// A limit is reached.
    #[error("session limit reached ({scope})")]
    LimitReached {
        /// The limit that is full.
        scope: LimitScope,
        /// Its size.
        limit: usize,
    },
}

/// Why a token was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No session ever had this token (or it was forgotten).
    #[error("unknown token")]
    Unknown,
    /// The session it named has ended.
    #[error("session ended ({0})")]
    Ended(EndReason),
}

/// No open session has that id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no session {0:?}")]
pub struct NoSuchSession(pub String);
