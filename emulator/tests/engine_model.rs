//! Model-based test of the session store (`proptest-state-machine`).
//!
//! A small reference model says which sessions are open, when each would end and why;
//! random sequences of logins, one-request (Basic-auth) requests, uses, logouts, time
//! jumps, password changes, user deletion and re-creation, auth-config changes, restarts
//! and admin deletes drive the real [`SessionStore`] and the model side by side. After
//! every step:
//!
//! - no limit is exceeded (total, pool, per user), counted from `store.list`;
//! - no session is observable past its deadline, and each open session's deadline and
//!   reason are the model's;
//! - the model and the store agree on which sessions are open, and on every outcome;
//! - every ended session appears exactly once in the events, as `Ended` with the model's
//!   reason and time; the log never goes back in time;
//! - tokens and ids are unique.
//!
//! Failures shrink to a minimal sequence and are saved in `engine_model.regressions`
//! beside this file; commit that file when it appears.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use emulator::clock::Now;
use emulator::session::{
    Account, AccountError, AuthConfigChange, AuthError, ClientInfo, EndReason, EventKind,
    IdGenerator, LimitScope, LoginError, LoginRequest, Policy, Pool, Session, SessionStore,
    UserChange,
};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use proptest::test_runner::{Config, FileFailurePersistence};
use proptest_state_machine::{prop_state_machine, ReferenceStateMachine, StateMachineTest};

// ----- the policy under test -----

/// `root` is exempt from the per-user limit.
const USERS: [&str; 3] = ["alice", "bob", "root"];
const EXEMPT: usize = 2;
/// `web` and `redfish` share the `web-server` pool; `ssh` has its own idle timeout.
const TYPES: [&str; 3] = ["web", "redfish", "ssh"];
const POOL: &str = "web-server";
const POOL_TYPES: [usize; 2] = [0, 1];
const SSH: usize = 2;
const POOL_LIMIT: usize = 3;
const MAX_TOTAL: usize = 5;
const MAX_PER_USER: usize = 3;
const IDLE_SECS: u64 = 60;
const SSH_IDLE_SECS: u64 = 120;
const LIFETIME_SECS: u64 = 300;

/// The rules that vary from case to case; the numbers above do not.
#[derive(Clone, Debug)]
struct Knobs {
    sliding: bool,
    on_password_change: UserChange,
    on_user_delete: UserChange,
    on_auth_config_change: AuthConfigChange,
    one_request_sessions_count: bool,
}

impl Knobs {
    fn policy(&self) -> Policy {
        Policy {
            max_total: Some(MAX_TOTAL),
            pools: vec![Pool {
                name: POOL.to_string(),
                types: POOL_TYPES.iter().map(|&t| TYPES[t].to_string()).collect(),
                limit: POOL_LIMIT,
            }],
            max_per_user: Some(MAX_PER_USER),
            per_user_exempt: vec![USERS[EXEMPT].to_string()],
            idle_timeout_secs: IDLE_SECS,
            idle_timeout_by_type: BTreeMap::from([(TYPES[SSH].to_string(), SSH_IDLE_SECS)]),
            sliding: self.sliding,
            max_lifetime_secs: LIFETIME_SECS,
            on_password_change: self.on_password_change,
            on_user_delete: self.on_user_delete,
            on_auth_config_change: self.on_auth_config_change,
            one_request_sessions_count: self.one_request_sessions_count,
            ..Policy::default()
        }
    }
}

fn password(user: usize, generation: u32) -> String {
    format!("{}-pw{generation}", USERS[user])
}

fn at(secs: u64) -> Now {
    Now::at_secs(secs)
}

// ----- the model -----

/// Which password a login sends.
#[derive(Clone, Copy, Debug)]
enum Pw {
    Current,
    /// The one before the last change (never the current one).
    Stale,
    Wrong,
}

#[derive(Clone, Debug)]
enum Transition {
    Login {
        user: usize,
        pw: Pw,
        ty: usize,
    },
    /// A one-request (Basic-auth) session: begin, check it is listed, end.
    OneRequest {
        user: usize,
        pw: Pw,
        ty: usize,
    },
    Authenticate(usize),
    Logout(usize),
    Advance(u64),
    ChangePassword(usize),
    DeleteUser(usize),
    CreateUser(usize),
    AuthConfigChange,
    Restart,
    AdminDelete(usize),
}

/// What the last transition should have answered.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Start,
    /// A session opened: the last one in `Model::sessions`.
    Opened,
    Refused(LimitScope),
    BadCredentials,
    Authenticated,
    AuthFailed(AuthError),
    /// These sessions (model indices) ended, in creation order.
    Ended(Vec<usize>),
    NoSuchSession,
    AccountMissing,
    AccountExists,
    AccountCreated,
}

#[derive(Clone, Debug)]
struct ModelSession {
    user: usize,
    ty: usize,
    one_request: bool,
    created: u64,
    last_used: u64,
    /// Why and when (seconds) it ended.
    ended: Option<(EndReason, u64)>,
}

impl ModelSession {
    fn deadline(&self, sliding: bool) -> (u64, EndReason) {
        let idle = if self.ty == SSH { SSH_IDLE_SECS } else { IDLE_SECS };
        let idle_deadline = if sliding { self.last_used } else { self.created } + idle;
        let lifetime_deadline = self.created + LIFETIME_SECS;
        // A timeout that use does not renew is a fixed end: a lifetime ending.
        if lifetime_deadline <= idle_deadline || !sliding {
            (lifetime_deadline.min(idle_deadline), EndReason::MaxLifetime)
        } else {
            (idle_deadline, EndReason::IdleTimeout)
        }
    }

    fn is_open(&self) -> bool {
        self.ended.is_none()
    }
}

#[derive(Clone, Debug)]
struct Model {
    knobs: Knobs,
    /// Seconds since the origin.
    now: u64,
    /// The current password generation of each user; `None` once deleted.
    users: [Option<u32>; 3],
    next_generation: u32,
    /// Every session ever opened, in order.
    sessions: Vec<ModelSession>,
    failed_logins: usize,
    refusals: Vec<LimitScope>,
    last: Outcome,
}

impl Model {
    fn open(&self) -> impl Iterator<Item = (usize, &ModelSession)> {
        self.sessions.iter().enumerate().filter(|(_, s)| s.is_open())
    }

    fn password_ok(&self, user: usize, pw: Pw) -> bool {
        matches!((self.users[user], pw), (Some(_), Pw::Current))
    }

    /// The first limit a new session would break, in the engine's order: pool, total, user.
    fn full(&self, user: usize, ty: usize) -> Option<LimitScope> {
        let open: Vec<&ModelSession> = self.open().map(|(_, s)| s).collect();
        if POOL_TYPES.contains(&ty)
            && open.iter().filter(|s| POOL_TYPES.contains(&s.ty)).count() >= POOL_LIMIT
        {
            return Some(LimitScope::Pool(POOL.to_string()));
        }
        if open.len() >= MAX_TOTAL {
            return Some(LimitScope::Total);
        }
        if user != EXEMPT && open.iter().filter(|s| s.user == user).count() >= MAX_PER_USER {
            return Some(LimitScope::User(USERS[user].to_string()));
        }
        None
    }

    /// Ends what is due by `now`, at its deadline; returns what ended.
    fn expire(&mut self) -> Vec<usize> {
        let (now, sliding) = (self.now, self.knobs.sliding);
        let mut ended = Vec::new();
        for (i, s) in self.sessions.iter_mut().enumerate() {
            if s.is_open() {
                let (deadline, reason) = s.deadline(sliding);
                if deadline <= now {
                    s.ended = Some((reason, deadline));
                    ended.push(i);
                }
            }
        }
        ended
    }

    fn end_where(&mut self, reason: EndReason, pick: impl Fn(&ModelSession) -> bool) -> Outcome {
        let now = self.now;
        let mut ended = Vec::new();
        for (i, s) in self.sessions.iter_mut().enumerate() {
            if s.is_open() && pick(s) {
                s.ended = Some((reason, now));
                ended.push(i);
            }
        }
        Outcome::Ended(ended)
    }

    fn end_one(&mut self, index: usize, reason: EndReason) -> Outcome {
        let now = self.now;
        let s = &mut self.sessions[index];
        if s.is_open() {
            s.ended = Some((reason, now));
            Outcome::Ended(vec![index])
        } else {
            Outcome::NoSuchSession
        }
    }

    fn login(&mut self, user: usize, pw: Pw, ty: usize, one_request: bool) -> Outcome {
        if !self.password_ok(user, pw) {
            self.failed_logins += 1;
            return Outcome::BadCredentials;
        }
        if !one_request || self.knobs.one_request_sessions_count {
            if let Some(scope) = self.full(user, ty) {
                self.refusals.push(scope.clone());
                return Outcome::Refused(scope);
            }
        }
        let now = self.now;
        self.sessions.push(ModelSession {
            user,
            ty,
            one_request,
            created: now,
            last_used: now,
            ended: one_request.then_some((EndReason::RequestEnd, now)),
        });
        Outcome::Opened
    }
}

struct StoreModel;

impl ReferenceStateMachine for StoreModel {
    type State = Model;
    type Transition = Transition;

    fn init_state() -> BoxedStrategy<Model> {
        let change = || prop_oneof![Just(UserChange::EndUserSessions), Just(UserChange::Keep)];
        let auth = prop_oneof![Just(AuthConfigChange::EndAll), Just(AuthConfigChange::Keep)];
        (any::<bool>(), change(), change(), auth, any::<bool>())
            .prop_map(|(sliding, on_password_change, on_user_delete, on_auth, count)| Model {
                knobs: Knobs {
                    sliding,
                    on_password_change,
                    on_user_delete,
                    on_auth_config_change: on_auth,
                    one_request_sessions_count: count,
                },
                now: 0,
                users: [Some(1), Some(2), Some(3)],
                next_generation: 4,
                sessions: Vec::new(),
                failed_logins: 0,
                refusals: Vec::new(),
                last: Outcome::Start,
            })
            .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Transition> {
        let user = || 0..USERS.len();
        let ty = || 0..TYPES.len();
        let pw = || prop_oneof![8 => Just(Pw::Current), 1 => Just(Pw::Stale), 1 => Just(Pw::Wrong)];
        // Steps around the timeouts (60 idle, 120 ssh idle, 300 lifetime) and anything else.
        let advance = prop_oneof![
            3 => select(vec![1u64, 29, 30, 59, 60, 61, 119, 120, 121, 179, 180, 240, 299, 300, 301]),
            1 => 0u64..400,
        ];
        let mut options: Vec<(u32, BoxedStrategy<Transition>)> = vec![
            (
                8,
                (user(), pw(), ty())
                    .prop_map(|(user, pw, ty)| Transition::Login { user, pw, ty })
                    .boxed(),
            ),
            (
                2,
                (user(), pw(), ty())
                    .prop_map(|(user, pw, ty)| Transition::OneRequest { user, pw, ty })
                    .boxed(),
            ),
            (5, advance.prop_map(Transition::Advance).boxed()),
            (1, user().prop_map(Transition::ChangePassword).boxed()),
            (1, user().prop_map(Transition::DeleteUser).boxed()),
            (1, user().prop_map(Transition::CreateUser).boxed()),
            (1, Just(Transition::AuthConfigChange).boxed()),
            (1, Just(Transition::Restart).boxed()),
        ];
        let n = state.sessions.len();
        if n > 0 {
            options.push((6, (0..n).prop_map(Transition::Authenticate).boxed()));
            options.push((2, (0..n).prop_map(Transition::Logout).boxed()));
            options.push((1, (0..n).prop_map(Transition::AdminDelete).boxed()));
        }
        Union::new_weighted(options).boxed()
    }

    fn preconditions(state: &Model, transition: &Transition) -> bool {
        match transition {
            Transition::Authenticate(i) | Transition::Logout(i) | Transition::AdminDelete(i) => {
                *i < state.sessions.len()
            }
            _ => true,
        }
    }

    fn apply(mut state: Model, transition: &Transition) -> Model {
        state.expire();
        state.last = match *transition {
            Transition::Login { user, pw, ty } => state.login(user, pw, ty, false),
            Transition::OneRequest { user, pw, ty } => state.login(user, pw, ty, true),
            Transition::Authenticate(i) => {
                let now = state.now;
                let s = &mut state.sessions[i];
                match s.ended {
                    // It handed out no token: nothing can authenticate as it.
                    _ if s.one_request => Outcome::AuthFailed(AuthError::Unknown),
                    None => {
                        s.last_used = now;
                        Outcome::Authenticated
                    }
                    Some((reason, _)) => Outcome::AuthFailed(AuthError::Ended(reason)),
                }
            }
            Transition::Logout(i) => state.end_one(i, EndReason::Logout),
            Transition::AdminDelete(i) => state.end_one(i, EndReason::AdminDelete),
            Transition::Advance(secs) => {
                state.now += secs;
                Outcome::Ended(state.expire())
            }
            Transition::ChangePassword(user) => match state.users[user] {
                None => Outcome::AccountMissing,
                Some(_) => {
                    state.users[user] = Some(state.next_generation);
                    state.next_generation += 1;
                    match state.knobs.on_password_change {
                        UserChange::EndUserSessions => {
                            state.end_where(EndReason::CredentialChange, |s| s.user == user)
                        }
                        UserChange::Keep => Outcome::Ended(Vec::new()),
                    }
                }
            },
            Transition::DeleteUser(user) => match state.users[user] {
                None => Outcome::AccountMissing,
                Some(_) => {
                    state.users[user] = None;
                    match state.knobs.on_user_delete {
                        UserChange::EndUserSessions => {
                            state.end_where(EndReason::UserDeleted, |s| s.user == user)
                        }
                        UserChange::Keep => Outcome::Ended(Vec::new()),
                    }
                }
            },
            Transition::CreateUser(user) => match state.users[user] {
                Some(_) => Outcome::AccountExists,
                None => {
                    state.users[user] = Some(state.next_generation);
                    state.next_generation += 1;
                    Outcome::AccountCreated
                }
            },
            Transition::AuthConfigChange => match state.knobs.on_auth_config_change {
                AuthConfigChange::EndAll => state.end_where(EndReason::AuthConfigChange, |_| true),
                AuthConfigChange::Keep => Outcome::Ended(Vec::new()),
            },
            Transition::Restart => state.end_where(EndReason::Restart, |_| true),
        };
        state
    }
}

// ----- the system under test -----

struct Sut {
    store: SessionStore,
    now: Now,
    /// Every session the store opened, in the model's order.
    sessions: Vec<Session>,
}

impl Sut {
    fn request<'a>(user: usize, password: &'a str, ty: usize) -> LoginRequest<'a> {
        LoginRequest {
            user: USERS[user],
            password,
            session_type: TYPES[ty],
            client: ClientInfo {
                addr: Some("198.51.100.1".into()),
                user_agent: None,
                process: None,
            },
        }
    }

    fn password_for(model: &Model, user: usize, pw: Pw) -> String {
        match (model.users[user], pw) {
            (Some(generation), Pw::Current) => password(user, generation),
            // Generations start at 1, so the one before is never the current one.
            (Some(generation), Pw::Stale) => password(user, generation - 1),
            (None, Pw::Current | Pw::Stale) => password(user, model.next_generation - 1),
            (_, Pw::Wrong) => "wrong".to_string(),
        }
    }

    fn login_outcome(result: Result<Session, LoginError>, opened: &mut Vec<Session>) -> Outcome {
        match result {
            Ok(session) => {
                opened.push(session);
                Outcome::Opened
            }
            Err(LoginError::BadCredentials) => Outcome::BadCredentials,
            Err(LoginError::LimitReached { scope, limit }) => {
                let expected = match scope {
                    LimitScope::Total => MAX_TOTAL,
                    LimitScope::Pool(_) => POOL_LIMIT,
                    LimitScope::User(_) => MAX_PER_USER,
                };
                assert_eq!(limit, expected, "refusal names the wrong limit size");
                Outcome::Refused(scope)
            }
            Err(other) => panic!("unexpected login error {other:?}"),
        }
    }

    fn ended(&self, ended: &[Session]) -> Outcome {
        Outcome::Ended(
            ended
                .iter()
                .map(|e| {
                    self.sessions.iter().position(|s| s.id == e.id).expect("ended a known session")
                })
                .collect(),
        )
    }
}

fn account_outcome(
    result: Result<(Account, Vec<Session>), AccountError>,
    sut: &Sut,
    user: usize,
) -> Outcome {
    match result {
        Ok((account, ended)) => {
            assert_eq!(account.user, USERS[user]);
            sut.ended(&ended)
        }
        Err(AccountError::NotFound(name)) => {
            assert_eq!(name, USERS[user]);
            Outcome::AccountMissing
        }
        Err(other) => panic!("unexpected account error {other:?}"),
    }
}

struct StoreTest;

impl StateMachineTest for StoreTest {
    type SystemUnderTest = Sut;
    type Reference = StoreModel;

    fn init_test(model: &Model) -> Sut {
        let accounts = (0..USERS.len()).map(|u| {
            let generation = model.users[u].expect("every user exists at the start");
            Account::new(USERS[u], &password(u, generation), "Administrator")
        });
        Sut {
            store: SessionStore::new(model.knobs.policy(), accounts, IdGenerator::seeded(7, 1)),
            now: at(model.now),
            sessions: Vec::new(),
        }
    }

    fn apply(mut sut: Sut, model: &Model, transition: Transition) -> Sut {
        let now = sut.now;
        let outcome = match transition {
            Transition::Login { user, pw, ty } => {
                let password = Sut::password_for(model, user, pw);
                let result = sut.store.login(&Sut::request(user, &password, ty), now);
                Sut::login_outcome(result, &mut sut.sessions)
            }
            Transition::OneRequest { user, pw, ty } => {
                let password = Sut::password_for(model, user, pw);
                let result = sut
                    .store
                    .begin_request(&Sut::request(user, &password, ty), now)
                    .map(std::sync::Arc::unwrap_or_clone);
                let outcome = Sut::login_outcome(result, &mut sut.sessions);
                if outcome == Outcome::Opened {
                    let basic = sut.sessions.last().expect("just opened").clone();
                    assert!(basic.one_request);
                    let listed = sut.store.list(now);
                    assert!(listed.iter().any(|s| s.id == basic.id), "one-request session listed");
                    if !model.knobs.one_request_sessions_count {
                        // It may overfill the table: it does not count.
                        assert!(listed.len() <= MAX_TOTAL + 1);
                    } else {
                        assert!(listed.len() <= MAX_TOTAL);
                    }
                    sut.store.end_request(&basic.id, now);
                }
                outcome
            }
            Transition::Authenticate(i) => {
                let token = sut.sessions[i].token.clone();
                match sut.store.authenticate(token.as_str(), now) {
                    Ok(session) => {
                        assert_eq!(session.id, sut.sessions[i].id);
                        assert_eq!(session.last_used_mono, now.mono);
                        Outcome::Authenticated
                    }
                    Err(e) => Outcome::AuthFailed(e),
                }
            }
            Transition::Logout(i) | Transition::AdminDelete(i) => {
                let reason = match transition {
                    Transition::Logout(_) => EndReason::Logout,
                    _ => EndReason::AdminDelete,
                };
                let id = sut.sessions[i].id.clone();
                match sut.store.end(&id, reason, now) {
                    Ok(session) => sut.ended(&[std::sync::Arc::unwrap_or_clone(session)]),
                    Err(_) => Outcome::NoSuchSession,
                }
            }
            Transition::Advance(secs) => {
                sut.now = now.plus(Duration::from_secs(secs));
                let mut swept = sut.store.sweep(sut.now);
                swept.sort_by_key(|s| sut.sessions.iter().position(|x| x.id == s.id));
                sut.ended(&swept)
            }
            Transition::ChangePassword(user) => {
                let password = model.users[user].map(|g| password(user, g)).unwrap_or_default();
                let result = sut.store.change_password(USERS[user], &password, now);
                account_outcome(result, &sut, user)
            }
            Transition::DeleteUser(user) => {
                let result = sut.store.delete_account(USERS[user], now);
                account_outcome(result, &sut, user)
            }
            Transition::CreateUser(user) => {
                let generation = model.users[user].unwrap_or(0);
                let account = Account::new(USERS[user], &password(user, generation), "Operator");
                match sut.store.add_account(account) {
                    Ok(_) => Outcome::AccountCreated,
                    Err(AccountError::Exists(_)) => Outcome::AccountExists,
                    Err(other) => panic!("unexpected account error {other:?}"),
                }
            }
            Transition::AuthConfigChange => {
                let ended = sut.store.change_auth_config(now);
                sut.ended(&ended)
            }
            Transition::Restart => {
                let ended = sut.store.restart(now);
                sut.ended(&ended)
            }
        };
        assert_eq!(outcome, model.last, "store and model disagree on the outcome");
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        let now = sut.now;
        assert_eq!(now, at(model.now), "store and model clocks agree");

        // No session is observable past its deadline.
        let listed = sut.store.list(now);
        for s in &listed {
            if let Some((deadline, _)) = s.deadline() {
                assert!(deadline > now.mono, "session {} listed past its deadline", s.id);
            }
            assert!(!s.one_request, "one-request session {} outlived its request", s.id);
        }

        // The store and the model agree on which sessions are open, and on their deadlines.
        let open_ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
        let model_open: Vec<&str> =
            model.open().map(|(i, _)| sut.sessions[i].id.as_str()).collect();
        assert_eq!(open_ids, model_open, "open sessions differ");
        for (s, (_, m)) in listed.iter().zip(model.open()) {
            let (deadline, reason) = m.deadline(model.knobs.sliding);
            assert_eq!(s.deadline(), Some((Duration::from_secs(deadline), reason)), "{}", s.id);
            assert_eq!(s.user, USERS[m.user]);
            assert_eq!(s.session_type, TYPES[m.ty]);
        }

        // No limit is exceeded.
        assert!(listed.len() <= MAX_TOTAL, "total {} > {MAX_TOTAL}", listed.len());
        let counts = sut.store.counts(now);
        assert_eq!(counts.total, listed.len());
        let in_pool = listed
            .iter()
            .filter(|s| POOL_TYPES.iter().any(|&t| TYPES[t] == s.session_type))
            .count();
        assert!(in_pool <= POOL_LIMIT, "pool {in_pool} > {POOL_LIMIT}");
        let mut per_user: HashMap<&str, usize> = HashMap::new();
        for s in &listed {
            *per_user.entry(s.user.as_str()).or_default() += 1;
        }
        for (user, n) in per_user {
            assert!(user == USERS[EXEMPT] || n <= MAX_PER_USER, "{user} holds {n}");
        }

        // Every ending is logged once, with its reason and time; the rest is logged too.
        let events = sut.store.events(now);
        assert!(events.windows(2).all(|w| w[0].at <= w[1].at), "event log goes back in time");
        let mut endings: HashMap<&str, Vec<(EndReason, Now)>> = HashMap::new();
        let mut created = 0;
        let mut failed = 0;
        let mut refused = Vec::new();
        for e in &events {
            match &e.kind {
                EventKind::Ended { reason } => {
                    let id = e.session_id.as_deref().expect("ended events name a session");
                    let index = sut.sessions.iter().position(|s| s.id == id).expect("known id");
                    assert_eq!(e.one_request, model.sessions[index].one_request, "{id}");
                    let secs = (e.at - at(0).utc).num_seconds().unsigned_abs();
                    assert_eq!(e.at, at(secs).utc, "endings fall on whole seconds here");
                    endings.entry(id).or_default().push((*reason, at(secs)));
                }
                EventKind::Created => created += 1,
                EventKind::LoginFailed => failed += 1,
                EventKind::Refused { limit } => refused.push(limit.clone()),
                EventKind::Expired { what } => panic!("nothing here lapses, yet {what} did"),
            }
        }
        assert_eq!(created, model.sessions.len(), "created events");
        assert_eq!(failed, model.failed_logins, "failed-login events");
        assert_eq!(refused, model.refusals, "refusal events");
        let mut ended_in_model = 0;
        for (s, m) in sut.sessions.iter().zip(&model.sessions) {
            let logged = endings.get(s.id.as_str()).cloned().unwrap_or_default();
            match m.ended {
                Some((reason, secs)) => {
                    ended_in_model += 1;
                    assert_eq!(logged, vec![(reason, at(secs))], "endings of {}", s.id);
                }
                None => assert!(logged.is_empty(), "open session {} logged as ended", s.id),
            }
        }
        assert_eq!(endings.values().map(Vec::len).sum::<usize>(), ended_in_model);

        // Tokens and ids are unique; one-request sessions hand out no token.
        let (one_request, handed): (Vec<&Session>, Vec<&Session>) =
            sut.sessions.iter().partition(|s| s.one_request);
        assert!(one_request.iter().all(|s| s.token.is_none()), "a one-request session has a token");
        let tokens: HashSet<&str> = handed.iter().map(|s| s.token.as_str()).collect();
        assert_eq!(tokens.len(), handed.len(), "a token was handed out twice");
        let ids: HashSet<&str> = sut.sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids.len(), sut.sessions.len(), "an id was handed out twice");
    }
}

fn config() -> Config {
    Config {
        cases: 128,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    }
}

prop_state_machine! {
    #![proptest_config(config())]

    /// DESIGN "no listing, count or limit ever sees a dead session" and "Every ending has
    /// a reason": the store follows the model through any sequence of operations.
    #[test]
    fn store_follows_the_model(sequential 1..40 => StoreTest);
}
