//! The session table: one per device, behind a cheap-to-clone handle.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use serde::Serialize;

use super::accounts::Accounts;
use super::counters::{CounterSnapshot, Counters, RefusalReason};
use super::timers::Timers;
use super::{
    Account, AccountError, AccountUpdate, AuthConfigChange, AuthError, ClientInfo, EndReason,
    Event, EventKind, EventLog, HashMap, HashSet, IdFormat, IdGenerator, LimitScope, LoginError,
    Name, NoSuchSession, Policy, Session, Token, UserChange,
};
use crate::clock::Now;

/// How many ended tokens are remembered, so a late request can be told "expired" rather
/// than "unknown".
const ENDED_TOKENS_KEPT: usize = 4096;

/// A login attempt. Its `Debug` never shows the password.
#[derive(Clone)]
pub struct LoginRequest<'a> {
    /// Account name.
    pub user: &'a str,
    /// Password as sent.
    pub password: &'a str,
    /// Vendor-chosen session type ("redfish", "web", "ssh", ...).
    pub session_type: &'a str,
    /// The client's address and User-Agent.
    pub client: ClientInfo,
}

impl fmt::Debug for LoginRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("user", &self.user)
            .field("password", &"[redacted]")
            .field("session_type", &self.session_type)
            .field("client", &self.client)
            .finish()
    }
}

/// Why [`SessionStore::open_with_token`] opened no session.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChosenTokenError {
    /// A live session holds this token.
    #[error("token in use")]
    InUse,
    /// The account is unknown or disabled, or a limit is reached.
    #[error(transparent)]
    Login(#[from] LoginError),
}

/// How full one limit is: what [`SessionStore::usage`] reports for dashboards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LimitUsage {
    /// Which limit.
    pub scope: LimitScope,
    /// The session types it counts; empty for every type.
    pub types: Vec<String>,
    /// Sessions (and, for a user, ghosts) counted against it now.
    pub used: usize,
    /// Its size.
    pub limit: usize,
}

/// Live session counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Every open session.
    pub total: usize,
    /// Open sessions by session type.
    pub by_type: BTreeMap<String, usize>,
}

/// What a session is given in the same engine step that opens or updates it: vendor
/// attributes and an idle timeout. Opening a session and then setting its attributes in
/// a second call lets a concurrent delete end it in between, so a caller would see a
/// session that was never whole; a setup closes that gap.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionSetup {
    /// Attributes to set (`Some`) or remove (`None`), in order.
    attrs: Vec<(String, Option<String>)>,
    /// A new idle timeout, and whether its timer restarts now.
    idle_timeout: Option<(Option<Duration>, bool)>,
}

impl SessionSetup {
    /// Nothing to change.
    pub fn new() -> SessionSetup {
        SessionSetup::default()
    }

    /// Sets a vendor attribute.
    pub fn attr(self, key: impl Into<String>, value: impl Into<String>) -> SessionSetup {
        self.attr_opt(key, Some(value.into()))
    }

    /// Sets a vendor attribute (`Some`) or removes it (`None`).
    pub fn attr_opt(mut self, key: impl Into<String>, value: Option<String>) -> SessionSetup {
        self.attrs.push((key.into(), value));
        self
    }

    /// Sets the session's idle timeout (`None`: none); with `from_now` its timer restarts
    /// now (otherwise it counts from the last use, or from creation when not sliding).
    pub fn idle_timeout(mut self, timeout: Option<Duration>, from_now: bool) -> SessionSetup {
        self.idle_timeout = Some((timeout, from_now));
        self
    }

    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty() && self.idle_timeout.is_none()
    }

    fn apply(&self, session: &mut Session, now: Now) {
        if let Some((timeout, from_now)) = self.idle_timeout {
            session.idle_timeout = timeout;
            if from_now {
                session.last_used_mono = now.mono;
                session.last_used_at = now.utc;
                if !session.sliding {
                    // A non-sliding timeout counts from creation: to end `timeout` after
                    // now, add the time already lived.
                    let lived = now.mono.saturating_sub(session.created_mono);
                    session.idle_timeout = timeout.map(|t| t + lived);
                }
            }
        }
        for (key, value) in &self.attrs {
            match value {
                Some(v) => session.attrs.insert(key.clone(), v.clone()),
                None => session.attrs.remove(key),
            };
        }
    }
}

/// Why [`SessionStore::update_session`] changed nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError<E> {
    /// No open session has that id (it ended, or never was).
    #[error(transparent)]
    NoSuchSession(#[from] NoSuchSession),
    /// The caller's check refused the change, seeing the session as it was.
    #[error("update refused")]
    Refused(E),
}

/// The session table of one device. Clones share the same table.
///
/// Every call that takes `now` first ends the sessions whose deadline has passed, so no
/// listing, count or limit check ever sees an expired session.
#[derive(Clone)]
pub struct SessionStore {
    state: Arc<Mutex<State>>,
    /// The rules in force, the same `Arc` as the table's, published here on every change
    /// (under the table's lock) so that a request reading a setting (the session
    /// service's timeout, say) does not wait behind logins for the table's lock.
    rules: Arc<RwLock<Arc<Policy>>>,
}

impl fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionStore").finish_non_exhaustive()
    }
}

struct Entry {
    /// Shared with the requests that authenticated with it ([`SessionStore::authenticate`]
    /// hands out the `Arc`, not a copy); a change copies it only while one still holds it.
    session: Arc<Session>,
    /// Whether it counts against the limits (one-request sessions may not).
    counted: bool,
    /// Whether it counts against its user's per-user limit.
    per_user: bool,
    /// The deadline it is filed under in `State::deadlines`. A use moves a sliding
    /// deadline later without filing it again: it may be earlier than the session's
    /// own deadline, never later.
    filed: Option<Duration>,
}

struct State {
    /// Shared with [`SessionStore::rules`]: changed copy-on-write, then published.
    policy: Arc<Policy>,
    accounts: Accounts,
    /// Open sessions by creation order.
    sessions: BTreeMap<u64, Entry>,
    by_token: HashMap<Token, u64>,
    by_id: HashMap<String, u64>,
    /// (deadline, key), earliest first: each session's `Entry::filed`.
    deadlines: BTreeSet<(Duration, u64)>,
    counted_total: usize,
    type_counts: HashMap<Name, usize>,
    user_counts: HashMap<Name, usize>,
    /// Ended sessions that still count against their user (`Policy::ghost_types`).
    ghosts: HashMap<Name, usize>,
    /// One copy of each user, role and type name a session has held, shared by the
    /// sessions (as many as names that ever logged in, like the counts above).
    names: Names,
    ended_tokens: HashMap<Token, EndReason>,
    ended_order: VecDeque<Token>,
    /// Attributes that lapse when their session idles (an open transaction).
    timers: Timers,
    events: EventLog,
    /// Totals that the bounded event log cannot give (issue 16: metrics).
    counters: Counters,
    ids: IdGenerator,
    next_key: u64,
}

impl SessionStore {
    /// An empty table with these rules, accounts and id generator.
    pub fn new(
        policy: Policy,
        accounts: impl IntoIterator<Item = Account>,
        ids: IdGenerator,
    ) -> SessionStore {
        let mut state = State::empty();
        state.policy = Arc::new(policy);
        state.accounts = Accounts::new(accounts);
        state.ids = ids;
        let rules = Arc::new(RwLock::new(state.policy.clone()));
        SessionStore { state: Arc::new(Mutex::new(state)), rules }
    }

    /// Puts the table back to a fresh state: no sessions, no events, these rules and
    /// accounts (a device reset to its profile).
    pub fn reset(
        &self,
        policy: Policy,
        accounts: impl IntoIterator<Item = Account>,
        ids: IdGenerator,
    ) {
        let mut state = State::empty();
        state.policy = Arc::new(policy);
        state.accounts = Accounts::new(accounts);
        state.ids = ids;
        let mut current = self.lock();
        state.events = current.events.fresh();
        *current = state;
        self.publish(&current);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not brick the device: the state stays consistent because
        // every mutation completes before anything that could panic.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Publishes the table's rules to readers of [`SessionStore::with_policy`]; called
    /// with the table locked, after every change to them.
    fn publish(&self, state: &State) {
        let mut rules = self.rules.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        *rules = state.policy.clone();
    }

    /// Changes the rules (copied first if a reader still holds them) and publishes them.
    fn change_policy<T>(&self, now: Now, change: impl FnOnce(&mut State) -> T) -> T {
        self.at(now, |s| {
            let changed = change(s);
            self.publish(s);
            changed
        })
    }

    /// Runs `f` on the table after ending what has expired by `now`.
    fn at<T>(&self, now: Now, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.lock();
        state.expire(now);
        f(&mut state)
    }

    // ----- policy -----

    /// The rules in force.
    pub fn policy(&self) -> Policy {
        self.with_policy(Policy::clone)
    }

    /// Reads the rules in force without copying them, and without waiting for the
    /// table (for per-request answers).
    pub fn with_policy<T>(&self, read: impl FnOnce(&Policy) -> T) -> T {
        read(&self.rules.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Replaces the rules. Limits apply to the next login; sessions already open keep
    /// their timeouts (use [`SessionStore::set_idle_timeout`] to change those).
    pub fn set_policy(&self, policy: Policy, now: Now) {
        self.change_policy(now, |s| s.policy = Arc::new(policy));
    }

    /// Changes the rules in one step: `change` sees the rules in force, so a concurrent
    /// change to another knob is never lost (read, edit, write back would lose it). Like
    /// [`SessionStore::set_policy`], it touches no open session.
    pub fn update_policy<T>(&self, now: Now, change: impl FnOnce(&mut Policy) -> T) -> T {
        self.change_policy(now, |s| change(Arc::make_mut(&mut s.policy)))
    }

    /// Sets the idle timeout (seconds, 0 = none) of one session type, or the default when
    /// `session_type` is `None`. Open sessions take it too when the policy says so.
    pub fn set_idle_timeout(&self, session_type: Option<&str>, secs: u64, now: Now) {
        self.change_policy(now, |s| {
            let policy = Arc::make_mut(&mut s.policy);
            match session_type {
                Some(t) => {
                    policy.idle_timeout_by_type.insert(t.to_string(), secs);
                }
                None => policy.idle_timeout_secs = secs,
            }
            if s.policy.timeout_change_applies_to_existing {
                let keys: Vec<u64> = s
                    .sessions
                    .iter()
                    .filter(|(_, e)| {
                        let t = &e.session.session_type;
                        match session_type {
                            Some(only) => t == only,
                            None => !s.policy.idle_timeout_by_type.contains_key(t.as_str()),
                        }
                    })
                    .map(|(k, _)| *k)
                    .collect();
                for key in keys {
                    let timeout = (secs > 0).then(|| Duration::from_secs(secs));
                    s.reschedule(key, |session| session.idle_timeout = timeout);
                }
                s.expire_changed(now);
            }
        });
    }

    /// Sets the maximum lifetime (seconds from creation, 0 = none). Open sessions take it
    /// too when `timeout_change_applies_to_existing` says so (the same rule as
    /// [`SessionStore::set_idle_timeout`]); those it puts past their end end now, with
    /// reason `max-lifetime`.
    pub fn set_max_lifetime(&self, secs: u64, now: Now) {
        self.change_policy(now, |s| {
            Arc::make_mut(&mut s.policy).max_lifetime_secs = secs;
            if s.policy.timeout_change_applies_to_existing {
                let lifetime = (secs > 0).then(|| Duration::from_secs(secs));
                let keys: Vec<u64> = s.sessions.keys().copied().collect();
                for key in keys {
                    s.reschedule(key, |session| session.max_lifetime = lifetime);
                }
                s.expire_changed(now);
            }
        });
    }

    /// Sets one open session's idle timeout; with `from_now` its timer restarts now
    /// (otherwise it keeps counting from its last use, or creation when not sliding).
    pub fn set_session_timeout(
        &self,
        id: &str,
        timeout: Option<Duration>,
        from_now: bool,
        now: Now,
    ) -> Result<Session, NoSuchSession> {
        let setup = SessionSetup::new().idle_timeout(timeout, from_now);
        self.update_session(id, now, |_| Ok::<_, std::convert::Infallible>(setup))
            .map_err(UpdateError::into_no_such_session)
    }

    /// Sets (or with `None` removes) a vendor attribute of an open session.
    pub fn set_session_attr(
        &self,
        id: &str,
        key: &str,
        value: Option<&str>,
        now: Now,
    ) -> Result<Session, NoSuchSession> {
        let setup = SessionSetup::new().attr_opt(key, value.map(str::to_string));
        self.update_session(id, now, |_| Ok::<_, std::convert::Infallible>(setup))
            .map_err(UpdateError::into_no_such_session)
    }

    /// Changes an open session in one step: `change` sees the session as it is and
    /// returns what to change, or refuses (a transaction already open, say). Nobody sees
    /// the session between the look and the change, so read-then-write callers (a counter
    /// in an attribute, set-if-absent) cannot lose an update. A timeout change that puts
    /// the session past its deadline ends it now; that is `NoSuchSession`.
    pub fn update_session<E>(
        &self,
        id: &str,
        now: Now,
        change: impl FnOnce(&Session) -> Result<SessionSetup, E>,
    ) -> Result<Session, UpdateError<E>> {
        self.at(now, |s| {
            let gone = || NoSuchSession(id.to_string());
            let key = *s.by_id.get(id).ok_or_else(gone)?;
            let current = s.session(key).ok_or_else(gone)?;
            let setup = change(current).map_err(UpdateError::Refused)?;
            // Setting an attribute replaces any lapse timer it had.
            for (attr, _) in &setup.attrs {
                s.timers.remove(key, attr);
            }
            if setup.idle_timeout.is_some() {
                s.reschedule(key, |session| setup.apply(session, now));
                s.expire_changed(now);
            } else if let Some(entry) = s.sessions.get_mut(&key) {
                setup.apply(Arc::make_mut(&mut entry.session), now);
            }
            Ok(s.session(key).cloned().ok_or_else(gone)?)
        })
    }

    /// Sets a vendor attribute of an open session that lapses after `timeout` without
    /// use of the session (each authenticated use restarts it): it then takes the value
    /// `lapsed_value`, and the event log records `expired` with `what` at the deadline.
    /// The session itself goes on. Setting the attribute again replaces the timer.
    #[allow(clippy::too_many_arguments)]
    pub fn set_session_attr_lapsing(
        &self,
        id: &str,
        key: &str,
        value: &str,
        timeout: Duration,
        lapsed_value: &str,
        what: &str,
        now: Now,
    ) -> Result<Session, NoSuchSession> {
        self.at(now, |s| {
            let key_of = *s.by_id.get(id).ok_or_else(|| NoSuchSession(id.to_string()))?;
            let entry = s.sessions.get_mut(&key_of).ok_or_else(|| NoSuchSession(id.to_string()))?;
            let session = Arc::make_mut(&mut entry.session);
            session.attrs.insert(key.to_string(), value.to_string());
            let session = session.clone();
            s.timers.set(key_of, key, timeout, lapsed_value, what, now.mono);
            Ok(session)
        })
    }

    // ----- logging in -----

    /// Checks credentials and opens a session, or says why not.
    pub fn login(&self, req: &LoginRequest<'_>, now: Now) -> Result<Session, LoginError> {
        self.login_with(req, &SessionSetup::new(), now)
    }

    /// [`SessionStore::login`], reading the new session's account in the same step (a
    /// login answer that shows whether the password must change needs no second lock).
    pub fn login_reading<T>(
        &self,
        req: &LoginRequest<'_>,
        now: Now,
        read: impl FnOnce(&Session, Option<&Account>) -> T,
    ) -> Result<(Session, T), LoginError> {
        self.at(now, |s| s.log_in(req, false, &SessionSetup::new(), now, read))
            .map(|(session, read)| (Arc::unwrap_or_clone(session), read))
    }

    /// [`SessionStore::login`], the session opened with `setup` already applied.
    pub fn login_with(
        &self,
        req: &LoginRequest<'_>,
        setup: &SessionSetup,
        now: Now,
    ) -> Result<Session, LoginError> {
        self.at(now, |s| s.log_in(req, false, setup, now, |_, _| ()))
            .map(|(session, ())| Arc::unwrap_or_clone(session))
    }

    /// Opens a session for an enabled account without a password (the caller
    /// authenticated it some other way: an SSH handshake, the control API creating a GUI
    /// session).
    pub fn open_for(
        &self,
        user: &str,
        session_type: &str,
        client: ClientInfo,
        now: Now,
    ) -> Result<Session, LoginError> {
        self.open_for_with(user, session_type, client, &SessionSetup::new(), now)
    }

    /// [`SessionStore::open_for`], the session opened with `setup` already applied.
    pub fn open_for_with(
        &self,
        user: &str,
        session_type: &str,
        client: ClientInfo,
        setup: &SessionSetup,
        now: Now,
    ) -> Result<Session, LoginError> {
        self.at(now, |s| {
            s.enabled_account(user)?;
            s.open_as(user, session_type, &client, false, None, setup, now)
                .map(Arc::unwrap_or_clone)
        })
    }

    /// The open session of `user` and `session_type` that `pick` accepts, used (its idle
    /// timer renewed as [`SessionStore::authenticate`] does), or else a new one opened for
    /// the enabled account with `setup` (a device's per-user default session). One step,
    /// so two requests at once never open two.
    pub fn use_or_open_for(
        &self,
        user: &str,
        session_type: &str,
        pick: impl Fn(&Session) -> bool,
        client: ClientInfo,
        setup: &SessionSetup,
        now: Now,
    ) -> Result<Session, LoginError> {
        self.at(now, |s| {
            let found = s.sessions.iter().find_map(|(k, e)| {
                let x = &e.session;
                (x.user == user && x.session_type == session_type && pick(x)).then_some(*k)
            });
            if let Some(key) = found {
                s.touch(key, now);
                if let Some(session) = s.session(key) {
                    return Ok(session.clone());
                }
            }
            s.enabled_account(user)?;
            s.open_as(user, session_type, &client, false, None, setup, now)
                .map(Arc::unwrap_or_clone)
        })
    }

    /// Opens a session for an enabled account with a token the caller chose (a device API
    /// that takes the token's value, such as BIG-IP's `POST /mgmt/shared/authz/tokens`).
    /// Limits apply as for any login; a token that a live session holds is refused.
    pub fn open_with_token(
        &self,
        user: &str,
        session_type: &str,
        token: &str,
        client: ClientInfo,
        now: Now,
    ) -> Result<Session, ChosenTokenError> {
        self.open_with_token_with(user, session_type, token, client, &SessionSetup::new(), now)
    }

    /// [`SessionStore::open_with_token`], the session opened with `setup` already applied.
    pub fn open_with_token_with(
        &self,
        user: &str,
        session_type: &str,
        token: &str,
        client: ClientInfo,
        setup: &SessionSetup,
        now: Now,
    ) -> Result<Session, ChosenTokenError> {
        self.at(now, |s| {
            let token = Token::from(token);
            if s.by_token.contains_key(&token) {
                return Err(ChosenTokenError::InUse);
            }
            s.enabled_account(user)?;
            let session = s
                .open_as(user, session_type, &client, false, Some(token), setup, now)
                .map(Arc::unwrap_or_clone)?;
            // A value reused after its session ended now names the live session only.
            s.ended_tokens.remove(&session.token);
            s.ended_order.retain(|t| *t != session.token);
            Ok(session)
        })
    }

    /// Opens a one-request (Basic-auth) session: it holds a slot while the request runs
    /// and must be closed with [`SessionStore::end_request`].
    /// The session is shared with the table, as [`SessionStore::authenticate`] hands out.
    pub fn begin_request(
        &self,
        req: &LoginRequest<'_>,
        now: Now,
    ) -> Result<Arc<Session>, LoginError> {
        self.begin_request_with(req, now, |_, _| ()).map(|(session, ())| session)
    }

    /// [`SessionStore::begin_request`], reading the session's account in the same step
    /// (as [`SessionStore::authenticate_with`] does).
    pub fn begin_request_with<T>(
        &self,
        req: &LoginRequest<'_>,
        now: Now,
        read: impl FnOnce(&Session, Option<&Account>) -> T,
    ) -> Result<(Arc<Session>, T), LoginError> {
        self.at(now, |s| s.log_in(req, true, &SessionSetup::new(), now, read))
    }

    /// Ends a one-request session with reason `request-end`. A session that already
    /// ended (a restart during the request) is left alone, and so is any session that
    /// is not a one-request session.
    pub fn end_request(&self, id: &str, now: Now) {
        let ended = self.at(now, |s| {
            let key = s.by_id.get(id).copied();
            let key = key.filter(|k| s.session(*k).is_some_and(|x| x.one_request))?;
            s.end_key(key, EndReason::RequestEnd, now.utc)
        });
        // Freed once the table is unlocked: the next request need not wait for it.
        drop(ended);
    }

    /// Checks credentials without opening a session (devices whose Basic auth creates none).
    pub fn check_credentials(
        &self,
        req: &LoginRequest<'_>,
        now: Now,
    ) -> Result<Account, LoginError> {
        self.at(now, |s| {
            s.check(req, false, now)?;
            s.enabled_account(req.user).cloned()
        })
    }

    // ----- using sessions -----

    /// The session of `token`, renewing its idle timer when the policy is sliding: a
    /// snapshot shared with the table, so a request pays no copy of the session.
    pub fn authenticate(&self, token: &str, now: Now) -> Result<Arc<Session>, AuthError> {
        self.authenticate_with(token, now, |_, _| ()).map(|(session, ())| session)
    }

    /// [`SessionStore::authenticate`], reading the session's account (its role now, which
    /// may have changed since login; `None` once deleted) in the same step: one lock for
    /// a request instead of two.
    pub fn authenticate_with<T>(
        &self,
        token: &str,
        now: Now,
        read: impl FnOnce(&Session, Option<&Account>) -> T,
    ) -> Result<(Arc<Session>, T), AuthError> {
        self.at(now, |s| {
            let key = s.key_of_token(token)?;
            s.touch(key, now);
            let session = s.shared(key).ok_or(AuthError::Unknown)?;
            let read = read(&session, s.accounts.get(&session.user));
            Ok((session, read))
        })
    }

    /// The session of `token` without touching it.
    pub fn peek(&self, token: &str, now: Now) -> Result<Arc<Session>, AuthError> {
        self.at(now, |s| {
            let key = s.key_of_token(token)?;
            s.shared(key).ok_or(AuthError::Unknown)
        })
    }

    /// The open session with this id.
    pub fn get(&self, id: &str, now: Now) -> Option<Session> {
        self.shared(id, now).map(Arc::unwrap_or_clone)
    }

    /// The open session with this id, shared with the table (no copy).
    pub fn shared(&self, id: &str, now: Now) -> Option<Arc<Session>> {
        self.at(now, |s| s.by_id.get(id).and_then(|k| s.shared(*k)))
    }

    /// Every open session, oldest first.
    pub fn list(&self, now: Now) -> Vec<Session> {
        self.at(now, |s| s.sessions.values().map(|e| Session::clone(&e.session)).collect())
    }

    /// Open-session counts.
    pub fn counts(&self, now: Now) -> Counts {
        self.at(now, |s| {
            let mut by_type = BTreeMap::new();
            for e in s.sessions.values() {
                *by_type.entry(e.session.session_type.as_str().to_owned()).or_insert(0) += 1;
            }
            Counts { total: s.sessions.len(), by_type }
        })
    }

    // ----- ending sessions -----

    /// Ends one session; what it was, shared with any request still holding it.
    pub fn end(
        &self,
        id: &str,
        reason: EndReason,
        now: Now,
    ) -> Result<Arc<Session>, NoSuchSession> {
        self.at(now, |s| {
            let key = *s.by_id.get(id).ok_or_else(|| NoSuchSession(id.to_string()))?;
            s.end_key(key, reason, now.utc).ok_or_else(|| NoSuchSession(id.to_string()))
        })
    }

    /// Ends every session of `user`.
    pub fn end_user(&self, user: &str, reason: EndReason, now: Now) -> Vec<Session> {
        self.at(now, |s| s.end_where(|e| e.session.user == user, reason, now))
    }

    /// Ends every session.
    pub fn end_all(&self, reason: EndReason, now: Now) -> Vec<Session> {
        self.at(now, |s| s.end_where(|_| true, reason, now))
    }

    /// The device restarts: every session ends, and ghosts are forgotten.
    pub fn restart(&self, now: Now) -> Vec<Session> {
        self.at(now, |s| {
            s.ghosts.clear();
            s.end_where(|_| true, EndReason::Restart, now)
        })
    }

    /// How many ended sessions of `user` still count against the per-user limit
    /// (`Policy::ghost_types`).
    pub fn ghost_count(&self, user: &str, now: Now) -> usize {
        self.at(now, |s| s.ghosts.get(user).copied().unwrap_or(0))
    }

    /// Forgets every ghost, so ended sessions stop counting against their users (the
    /// service that leaked them restarted); returns how many there were.
    pub fn clear_ghosts(&self, now: Now) -> usize {
        self.at(now, |s| s.ghosts.drain().map(|(_, n)| n).sum())
    }

    /// The authentication configuration changed: applies the policy.
    pub fn change_auth_config(&self, now: Now) -> Vec<Session> {
        self.at(now, |s| match s.policy.on_auth_config_change {
            AuthConfigChange::EndAll => s.end_where(|_| true, EndReason::AuthConfigChange, now),
            AuthConfigChange::Keep => Vec::new(),
        })
    }

    /// Ends what has expired by `now` and returns it (the reaper's call).
    pub fn sweep(&self, now: Now) -> Vec<Session> {
        self.lock().expire(now)
    }

    /// The earliest deadline of any open session.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.lock().first_due(None).map(|(deadline, _)| deadline)
    }

    // ----- accounts -----

    /// One account.
    pub fn account(&self, user: &str) -> Option<Account> {
        self.lock().accounts.get(user).cloned()
    }

    /// Reads one account without copying it (for per-request checks of its role).
    pub fn with_account<T>(&self, user: &str, read: impl FnOnce(Option<&Account>) -> T) -> T {
        read(self.lock().accounts.get(user))
    }

    /// Every account, by name.
    pub fn accounts(&self) -> Vec<Account> {
        self.lock().accounts.list()
    }

    /// Adds an account.
    pub fn add_account(&self, account: Account) -> Result<Account, AccountError> {
        self.lock().accounts.add(account)
    }

    /// Changes non-credential attributes of an account; sessions are untouched.
    pub fn update_account(
        &self,
        user: &str,
        update: &AccountUpdate,
    ) -> Result<Account, AccountError> {
        self.lock().accounts.update(user, update)
    }

    /// Changes a password and applies the policy to the user's sessions; returns the
    /// account and the sessions that ended.
    pub fn change_password(
        &self,
        user: &str,
        password: &str,
        now: Now,
    ) -> Result<(Account, Vec<Session>), AccountError> {
        self.at(now, |s| {
            let account = s.accounts.set_password(user, password)?;
            let ended = match s.policy.on_password_change {
                UserChange::EndUserSessions => {
                    s.end_where(|e| e.session.user == user, EndReason::CredentialChange, now)
                }
                UserChange::Keep => Vec::new(),
            };
            Ok((account, ended))
        })
    }

    /// Deletes an account and applies the policy to its sessions.
    pub fn delete_account(
        &self,
        user: &str,
        now: Now,
    ) -> Result<(Account, Vec<Session>), AccountError> {
        self.at(now, |s| {
            let account = s.accounts.remove(user)?;
            let ended = match s.policy.on_user_delete {
                UserChange::EndUserSessions => {
                    s.end_where(|e| e.session.user == user, EndReason::UserDeleted, now)
                }
                UserChange::Keep => Vec::new(),
            };
            Ok((account, ended))
        })
    }

    // ----- events -----

    /// The event log, oldest first, after ending what has expired by `now`.
    pub fn events(&self, now: Now) -> Vec<Event> {
        self.at(now, |s| s.events.entries().collect())
    }

    /// How many events were dropped from the front of the bounded log.
    pub fn events_dropped(&self) -> u64 {
        self.lock().events.dropped()
    }

    /// What the event log holds against its bounds (entries, bytes, the fleet's budget).
    pub fn events_memory(&self) -> super::EventMemory {
        self.lock().events.memory()
    }

    /// Running totals of logins accepted and refused and sessions ended since the table
    /// was created or reset, after ending what has expired by `now`. Unlike the event
    /// log they are never cut short.
    pub fn counters(&self, now: Now) -> CounterSnapshot {
        self.at(now, |s| s.counters.snapshot())
    }

    /// Occupancy of every limit the policy sets, after ending what has expired by `now`:
    /// each pool, the device-wide total, and the per-user limit of each user who holds
    /// a counted session or a ghost. The numbers are the ones a login is checked against.
    pub fn usage(&self, now: Now) -> Vec<LimitUsage> {
        self.at(now, |s| s.usage())
    }

    /// Makes the event log share a fleet-wide memory budget (see [`super::EventBudget`]).
    pub fn share_event_budget(&self, budget: std::sync::Arc<super::EventBudget>) {
        self.lock().events.share(budget);
    }
}

impl State {
    /// The enabled account called `user`, for opening a session without a password.
    fn enabled_account(&self, user: &str) -> Result<&Account, LoginError> {
        self.accounts.get(user).filter(|a| a.enabled).ok_or(LoginError::BadCredentials)
    }

    fn empty() -> State {
        State {
            policy: Arc::default(),
            accounts: Accounts::default(),
            sessions: BTreeMap::new(),
            by_token: HashMap::default(),
            by_id: HashMap::default(),
            deadlines: BTreeSet::new(),
            counted_total: 0,
            type_counts: HashMap::default(),
            user_counts: HashMap::default(),
            ghosts: HashMap::default(),
            names: Names::default(),
            ended_tokens: HashMap::default(),
            ended_order: VecDeque::new(),
            timers: Timers::default(),
            events: EventLog::default(),
            counters: Counters::default(),
            ids: IdGenerator::seeded(0, 1),
            next_key: 1,
        }
    }

    /// The earliest deadline of any open session and its key, if it comes by `by` (any
    /// time for `None`): sessions used since they were filed are filed again under their
    /// own deadline until the first one is.
    fn first_due(&mut self, by: Option<Duration>) -> Option<(Duration, u64)> {
        loop {
            let &(filed, key) = self.deadlines.first()?;
            if by.is_some_and(|by| filed > by) {
                return None;
            }
            match self.session(key).map(|s| s.deadline().map(|(d, _)| d)) {
                Some(due) if due == Some(filed) => return Some((filed, key)),
                Some(_) => self.refile(key),
                None => {
                    self.deadlines.remove(&(filed, key));
                }
            }
        }
    }

    fn session(&self, key: u64) -> Option<&Session> {
        self.sessions.get(&key).map(|e| &*e.session)
    }

    fn shared(&self, key: u64) -> Option<Arc<Session>> {
        self.sessions.get(&key).map(|e| e.session.clone())
    }

    fn key_of_token(&self, token: &str) -> Result<u64, AuthError> {
        match self.by_token.get(token) {
            Some(key) => Ok(*key),
            None => Err(self
                .ended_tokens
                .get(token)
                .map_or(AuthError::Unknown, |r| AuthError::Ended(*r))),
        }
    }

    /// Checks credentials, opens a session (a one-request one with `one_request`) with
    /// `setup` applied, and reads its account: every password login's one step.
    fn log_in<T>(
        &mut self,
        req: &LoginRequest<'_>,
        one_request: bool,
        setup: &SessionSetup,
        now: Now,
        read: impl FnOnce(&Session, Option<&Account>) -> T,
    ) -> Result<(Arc<Session>, T), LoginError> {
        self.check(req, one_request, now)?;
        let session =
            self.open_as(req.user, req.session_type, &req.client, one_request, None, setup, now)?;
        let read = read(&session, self.accounts.get(&session.user));
        Ok((session, read))
    }

    /// Checks the credentials of `req`; a failure is counted and logged.
    fn check(
        &mut self,
        req: &LoginRequest<'_>,
        one_request: bool,
        now: Now,
    ) -> Result<(), LoginError> {
        if self.accounts.check(req.user, req.password).is_some() {
            return Ok(());
        }
        self.counters.refused(req.session_type, RefusalReason::BadCredentials);
        let (user, session_type) = (req.user, req.session_type);
        let kind = EventKind::LoginFailed;
        self.events.note(now.utc, kind, user, session_type, &req.client, one_request);
        Err(LoginError::BadCredentials)
    }

    fn usage(&self) -> Vec<LimitUsage> {
        let count = |t: &String| self.type_counts.get(t.as_str()).copied().unwrap_or(0);
        let mut usage: Vec<LimitUsage> = self
            .policy
            .pools
            .iter()
            .map(|pool| LimitUsage {
                scope: LimitScope::Pool(pool.name.clone()),
                types: pool.types.clone(),
                used: pool.types.iter().map(count).sum(),
                limit: pool.limit,
            })
            .collect();
        if let Some(limit) = self.policy.max_total {
            usage.push(LimitUsage {
                scope: LimitScope::Total,
                types: Vec::new(),
                used: self.counted_total,
                limit,
            });
        }
        if let Some(limit) = self.policy.max_per_user {
            let users: BTreeSet<&str> =
                self.user_counts.keys().chain(self.ghosts.keys()).map(|u| u.as_str()).collect();
            for user in users {
                if self.policy.per_user_exempt.iter().any(|exempt| exempt == user) {
                    continue;
                }
                let used = self.user_counts.get(user).copied().unwrap_or(0)
                    + self.ghosts.get(user).copied().unwrap_or(0);
                usage.push(LimitUsage {
                    scope: LimitScope::User(user.to_string()),
                    types: self.policy.per_user_types.clone(),
                    used,
                    limit,
                });
            }
        }
        usage
    }

    /// The first limit a new session of this user and type would break.
    fn full(&self, user: &str, session_type: &str) -> Option<(LimitScope, usize)> {
        for pool in &self.policy.pools {
            if pool.types.iter().any(|t| t == session_type) {
                let used: usize = pool
                    .types
                    .iter()
                    .map(|t| self.type_counts.get(t.as_str()).copied().unwrap_or(0))
                    .sum();
                if used >= pool.limit {
                    return Some((LimitScope::Pool(pool.name.clone()), pool.limit));
                }
            }
        }
        if let Some(limit) = self.policy.max_total {
            if self.counted_total >= limit {
                return Some((LimitScope::Total, limit));
            }
        }
        if let Some(limit) =
            self.policy.max_per_user.filter(|_| self.policy.counts_per_user(session_type))
        {
            let exempt = self.policy.per_user_exempt.iter().any(|u| u == user);
            let used = self.user_counts.get(user).copied().unwrap_or(0)
                + self.ghosts.get(user).copied().unwrap_or(0);
            if !exempt && used >= limit {
                return Some((LimitScope::User(user.to_string()), limit));
            }
        }
        None
    }

    /// Opens a session for the account `user` (checked by the caller) with the token
    /// given (`Some`) or generated (`None`) and `setup` applied before anyone can see it.
    /// A refusal copies nothing: the log interns the names and the client it records.
    #[allow(clippy::too_many_arguments)]
    fn open_as(
        &mut self,
        user: &str,
        session_type: &str,
        client: &ClientInfo,
        one_request: bool,
        chosen: Option<Token>,
        setup: &SessionSetup,
        now: Now,
    ) -> Result<Arc<Session>, LoginError> {
        let counted = !one_request || self.policy.one_request_sessions_count;
        if counted {
            if let Some((scope, limit)) = self.full(user, session_type) {
                self.counters.refused(session_type, RefusalReason::of_limit(&scope));
                let kind = EventKind::Refused { limit: scope.clone() };
                self.events.note(now.utc, kind, user, session_type, client, one_request);
                return Err(LoginError::LimitReached { scope, limit });
            }
        }
        let role = match self.accounts.get(user) {
            Some(account) => self.names.intern(Names::ROLE, &account.role),
            None => return Err(LoginError::BadCredentials),
        };
        // A one-request session hands out no token: its client sends the password each
        // time, and no later request can present a token it was never given.
        let token = match chosen {
            Some(token) => token,
            None if one_request => Token::none(),
            None => self.fresh_token(),
        };
        let id = loop {
            let format = self.policy.id_format;
            // An id made of the token is made of a fresh one where none is handed out.
            let fresh = (token.is_none() && format == IdFormat::Token).then(|| self.fresh_token());
            let basis = fresh.as_ref().unwrap_or(&token).as_str();
            let candidate = self.ids.id(format, user, basis, now);
            if !self.by_id.contains_key(&candidate) {
                break candidate;
            }
        };
        let mut session = Session {
            id,
            token,
            user: self.names.intern(Names::USER, user),
            role,
            session_type: self.names.intern(Names::TYPE, session_type),
            client: self.events.client(client),
            one_request,
            created_mono: now.mono,
            created_at: now.utc,
            last_used_mono: now.mono,
            last_used_at: now.utc,
            idle_timeout: self.policy.idle_timeout_for(session_type),
            max_lifetime: self.policy.max_lifetime(),
            sliding: self.policy.sliding_for(session_type),
            attrs: BTreeMap::new(),
            requests: 0,
        };
        setup.apply(&mut session, now);
        let key = self.next_key;
        self.next_key += 1;
        if !session.token.is_none() {
            self.by_token.insert(session.token.clone(), key);
        }
        self.by_id.insert(session.id.clone(), key);
        let filed = session.deadline().map(|(deadline, _)| deadline);
        if let Some(deadline) = filed {
            self.deadlines.insert((deadline, key));
        }
        let per_user = counted && self.policy.counts_per_user(session_type);
        if counted {
            self.counted_total += 1;
            increment(&mut self.type_counts, &session.session_type);
        }
        if per_user {
            increment(&mut self.user_counts, &session.user);
        }
        self.counters.accepted(&session.session_type);
        self.events.session(now.utc, EventKind::Created, &session);
        let session = Arc::new(session);
        self.sessions.insert(key, Entry { session: session.clone(), counted, per_user, filed });
        Ok(session)
    }

    /// A request used the session: its idle timer restarts (when sliding) and it counts.
    /// Its deadline only moves later, so it stays filed under the earlier one until that
    /// comes (the expiry check files it again then): one update of the deadlines per
    /// idle period rather than per request.
    fn touch(&mut self, key: u64, now: Now) {
        if let Some(entry) = self.sessions.get_mut(&key) {
            let session = Arc::make_mut(&mut entry.session);
            session.last_used_mono = now.mono;
            session.last_used_at = now.utc;
            session.requests += 1;
            let due = session.deadline().map(|(deadline, _)| deadline);
            if due.is_some_and(|due| entry.filed.is_none_or(|filed| due < filed)) {
                self.refile(key);
            }
        }
        // A use restarts the session's lapse timers too.
        self.timers.touch(key, now.mono);
    }

    /// Applies `change` to a session and files it under its new deadline.
    fn reschedule(&mut self, key: u64, change: impl FnOnce(&mut Session)) {
        let Some(entry) = self.sessions.get_mut(&key) else { return };
        change(Arc::make_mut(&mut entry.session));
        self.refile(key);
    }

    /// Files a session under its own deadline.
    fn refile(&mut self, key: u64) {
        let Some(entry) = self.sessions.get_mut(&key) else { return };
        if let Some(old) = entry.filed {
            self.deadlines.remove(&(old, key));
        }
        entry.filed = entry.session.deadline().map(|(deadline, _)| deadline);
        if let Some(new) = entry.filed {
            self.deadlines.insert((new, key));
        }
    }

    fn end_key(
        &mut self,
        key: u64,
        reason: EndReason,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Option<Arc<Session>> {
        let Entry { session, counted, per_user, filed } = self.sessions.remove(&key)?;
        self.timers.remove_session(key);
        self.by_id.remove(&session.id);
        if let Some(deadline) = filed {
            self.deadlines.remove(&(deadline, key));
        }
        if counted {
            self.counted_total -= 1;
            decrement(&mut self.type_counts, &session.session_type);
        }
        if per_user {
            decrement(&mut self.user_counts, &session.user);
            let ghost = reason != EndReason::Restart
                && self.policy.ghost_types.iter().any(|t| *t == session.session_type);
            if ghost {
                *self.ghosts.entry(session.user.clone()).or_insert(0) += 1;
            }
        }
        if !session.token.is_none() {
            self.by_token.remove(&session.token);
            self.remember_ended(&session.token, reason);
        }
        self.counters.ended(&session.session_type, reason);
        self.events.session(at, EventKind::Ended { reason }, &session);
        Some(session)
    }

    /// Remembers why `token` stopped working, so a late request with it can be told
    /// (the oldest of [`ENDED_TOKENS_KEPT`] is forgotten first).
    fn remember_ended(&mut self, token: &Token, reason: EndReason) {
        if self.ended_order.len() == ENDED_TOKENS_KEPT {
            if let Some(oldest) = self.ended_order.pop_front() {
                self.ended_tokens.remove(&oldest);
            }
        }
        self.ended_order.push_back(token.clone());
        self.ended_tokens.insert(token.clone(), reason);
    }

    /// A new token, used by no open session and by none remembered as ended.
    fn fresh_token(&mut self) -> Token {
        loop {
            let candidate = Token::from(self.ids.token(self.policy.token_format));
            if !self.by_token.contains_key(&candidate)
                && !self.ended_tokens.contains_key(&candidate)
            {
                return candidate;
            }
        }
    }

    fn end_where(
        &mut self,
        pick: impl Fn(&Entry) -> bool,
        reason: EndReason,
        now: Now,
    ) -> Vec<Session> {
        let keys: Vec<u64> =
            self.sessions.iter().filter(|(_, e)| pick(e)).map(|(k, _)| *k).collect();
        keys.into_iter()
            .filter_map(|k| self.end_key(k, reason, now.utc).map(Arc::unwrap_or_clone))
            .collect()
    }

    /// Ends every session whose deadline is at or before `now`, logged at its deadline.
    fn expire(&mut self, now: Now) -> Vec<Session> {
        self.expire_logged_at(now, false)
    }

    /// Ends the sessions a timeout change has just made overdue. They were alive until
    /// this call, so they are logged now, not at a deadline the change put in the past.
    fn expire_changed(&mut self, now: Now) -> Vec<Session> {
        self.expire_logged_at(now, true)
    }

    fn expire_logged_at(&mut self, now: Now, at_now: bool) -> Vec<Session> {
        // Nearly every look at the table finds nothing due: no timer held, and the
        // earliest filed deadline still ahead (what `first_due` would find first).
        let nothing_filed_due = self.deadlines.first().is_none_or(|&(filed, _)| filed > now.mono);
        if !at_now && nothing_filed_due && self.timers.is_empty() {
            return Vec::new();
        }
        if at_now {
            self.lapse(now, now.mono);
        }
        let mut ended = Vec::new();
        while let Some((deadline, key)) = self.first_due(Some(now.mono)) {
            // What lapsed before this deadline is logged first: the log stays in order.
            self.lapse(now, deadline);
            let reason = self
                .session(key)
                .and_then(Session::deadline)
                .map_or(EndReason::IdleTimeout, |(_, r)| r);
            let at = if at_now { now.utc } else { now.utc_at(deadline) };
            match self.end_key(key, reason, at) {
                Some(s) => ended.push(Arc::unwrap_or_clone(s)),
                None => {
                    self.deadlines.remove(&(deadline, key));
                }
            }
        }
        self.lapse(now, now.mono);
        ended
    }
}

impl UpdateError<std::convert::Infallible> {
    fn into_no_such_session(self) -> NoSuchSession {
        match self {
            UpdateError::NoSuchSession(e) => e,
            UpdateError::Refused(never) => match never {},
        }
    }
}

impl State {
    /// Lapses the timed attributes whose deadline is at or before `upto`, each logged at
    /// its deadline; those of a session that ended (or will end) first are dropped.
    fn lapse(&mut self, now: Now, upto: Duration) {
        for lapsed in self.timers.due(upto) {
            let Some(entry) = self.sessions.get_mut(&lapsed.key) else { continue };
            if entry.session.deadline().is_some_and(|(end, _)| end <= lapsed.deadline) {
                continue;
            }
            let session = Arc::make_mut(&mut entry.session);
            session.attrs.insert(lapsed.attr, lapsed.lapsed_value);
            let session = session.clone();
            let at = now.utc_at(lapsed.deadline);
            self.events.session(at, EventKind::Expired { what: lapsed.what }, &session);
        }
    }
}

/// One more under `key` (the key shares the session's name: nothing is copied).
fn increment(counts: &mut HashMap<Name, usize>, key: &Name) {
    *counts.entry(key.clone()).or_insert(0) += 1;
}

/// The table's one copy of each name its sessions hold. A login names the same user,
/// role and type as the one before it nearly always, so each of the three is first
/// compared with the name it was last (a short compare, where a lookup hashes).
#[derive(Default)]
struct Names {
    all: HashSet<Name>,
    recent: [Option<Name>; 3],
}

impl Names {
    const USER: usize = 0;
    const ROLE: usize = 1;
    const TYPE: usize = 2;

    /// The copy of `text`, made on first use; `slot` says which of the three it names.
    fn intern(&mut self, slot: usize, text: &str) -> Name {
        if let Some(recent) = self.recent[slot].as_ref().filter(|name| **name == *text) {
            return recent.clone();
        }
        let name = match self.all.get(text) {
            Some(name) => name.clone(),
            None => {
                let name = Name::from(text);
                self.all.insert(name.clone());
                name
            }
        };
        self.recent[slot] = Some(name.clone());
        name
    }
}

/// One less under `key`; a key at zero is removed.
fn decrement(counts: &mut HashMap<Name, usize>, key: &str) {
    if let Some(n) = counts.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name is the table's one copy whichever slot asks for it, and a slot's recent
    /// name never stands in for another text.
    #[test]
    fn names_are_one_copy_and_the_recent_slot_never_answers_for_another_text() {
        let mut names = Names::default();
        let admin = names.intern(Names::USER, "admin");
        let operator = names.intern(Names::USER, "operator");
        assert_eq!(operator, "operator");
        assert_eq!(names.intern(Names::USER, "admin"), "admin");
        let again = names.intern(Names::ROLE, "admin");
        assert!(std::sync::Arc::ptr_eq(&admin.0, &again.0));
        assert!(std::sync::Arc::ptr_eq(&operator.0, &names.intern(Names::TYPE, "operator").0));
        assert_eq!(names.all.len(), 2);
    }
}
