//! Unit tests of the vendor-neutral session engine, with explicit time.
//!
//! Every call takes `now`; time moves only by `Now::at_secs(n)` and `now.plus(d)`, so no
//! test sleeps. Each test pins one rule; its doc comment cites the seed document or
//! vendor evidence it comes from (`/work/shared/seeds`, `/work/shared/vendors`), or
//! states the engine rule when it is the engine's own.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use emulator::clock::Now;
use emulator::session::{
    Account, AccountError, AccountUpdate, AuthConfigChange, AuthError, ChosenTokenError,
    ClientInfo, EndReason, Event, EventKind, IdFormat, IdGenerator, LimitScope, LoginError,
    LoginRequest, NoSuchSession, Policy, Pool, Session, SessionStore, TokenFormat, UserChange,
};

// ----- helpers -----

fn t(secs: u64) -> Now {
    Now::at_secs(secs)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The password of every test account is `<user>-pw`.
fn password(user: &str) -> String {
    format!("{user}-pw")
}

fn accounts() -> Vec<Account> {
    ["admin", "operator", "root"]
        .into_iter()
        .map(|u| Account::new(u, &password(u), "Administrator"))
        .collect()
}

/// A one-minute sliding idle timeout, no lifetime, no limits.
fn policy() -> Policy {
    Policy { idle_timeout_secs: 60, ..Policy::default() }
}

fn store_with(policy: Policy) -> SessionStore {
    let start = policy.id_counter_start;
    SessionStore::new(policy, accounts(), IdGenerator::seeded(7, start))
}

fn store() -> SessionStore {
    store_with(policy())
}

fn request<'a>(user: &'a str, password: &'a str, session_type: &'a str) -> LoginRequest<'a> {
    LoginRequest { user, password, session_type, client: ClientInfo::default() }
}

fn login_as(store: &SessionStore, user: &str, ty: &str, now: Now) -> Result<Session, LoginError> {
    store.login(&request(user, &password(user), ty), now)
}

fn login(store: &SessionStore, now: Now) -> Session {
    login_as(store, "admin", "redfish", now).expect("login")
}

fn ids(sessions: &[Session]) -> Vec<String> {
    sessions.iter().map(|s| s.id.clone()).collect()
}

fn open_ids(store: &SessionStore, now: Now) -> Vec<String> {
    ids(&store.list(now))
}

/// (session id, reason, time) of every `Ended` event.
fn endings(store: &SessionStore, now: Now) -> Vec<(String, EndReason, Now)> {
    store
        .events(now)
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Ended { reason } => {
                let at = (e.at - Now::at_secs(0).utc).to_std().expect("after origin");
                Some((e.session_id.expect("ended events name a session"), reason, t(0).plus(at)))
            }
            _ => None,
        })
        .collect()
}

fn ended_reason(store: &SessionStore, session: &Session, now: Now) -> Option<AuthError> {
    store.authenticate(session.token.as_str(), now).err()
}

// ----- logging in and using a session -----

/// DSP0266 Session login: a login returns a session whose token authenticates later
/// requests and which shows in the Sessions collection.
#[test]
fn login_opens_a_session_that_its_token_authenticates() {
    let store = store();
    let s = login(&store, t(0));
    assert_eq!(s.user, "admin");
    assert_eq!(s.session_type, "redfish");
    assert_eq!(s.role, "Administrator");
    assert!(!s.one_request);
    assert_eq!(open_ids(&store, t(1)), vec![s.id.clone()]);
    let again = store.authenticate(s.token.as_str(), t(1)).expect("token works");
    assert_eq!(again.id, s.id);
}

/// DSP0266 Session login: two logins in a row get different sessions (ids and tokens).
#[test]
fn two_logins_get_different_ids_and_tokens() {
    let store = store();
    let a = login(&store, t(0));
    let b = login(&store, t(0));
    assert_ne!(a.id, b.id);
    assert_ne!(a.token, b.token);
    assert_eq!(store.counts(t(0)).total, 2);
}

/// Engine rule: a session records when it was created and last used, in monotonic and
/// wall time that move together.
#[test]
fn session_records_creation_and_last_use_times() {
    let store = store();
    let s = login(&store, t(10));
    assert_eq!(s.created_mono, secs(10));
    assert_eq!(s.created_at, t(10).utc);
    assert_eq!(s.last_used_at, t(10).utc);
    let used = store.authenticate(s.token.as_str(), t(40)).unwrap();
    assert_eq!(used.created_at, t(10).utc);
    assert_eq!(used.last_used_mono, secs(40));
    assert_eq!(used.last_used_at, t(40).utc);
}

/// Engine rule: the client's address and User-Agent are kept on the session and in the
/// event log, for the hygiene report.
#[test]
fn client_info_is_kept_on_session_and_events() {
    let store = store();
    let client = ClientInfo {
        addr: Some("192.0.2.7".into()),
        user_agent: Some("ansible/2.16".into()),
        process: None,
    };
    let req = LoginRequest { client: client.clone(), ..request("admin", "admin-pw", "redfish") };
    let s = store.login(&req, t(0)).unwrap();
    assert_eq!(*s.client, client);
    let created = &store.events(t(0))[0];
    assert_eq!(created.kind, EventKind::Created);
    assert_eq!(created.session_id.as_deref(), Some(s.id.as_str()));
    assert_eq!(created.client_addr.as_deref(), Some("192.0.2.7"));
    assert_eq!(created.user_agent.as_deref(), Some("ansible/2.16"));
    assert_eq!(created.user, "admin");
    assert_eq!(created.session_type, "redfish");
}

/// DSP0266 Authentication failure: a failed login says nothing privileged — an unknown
/// user, a wrong password and a disabled account get the same answer.
#[test]
fn bad_credentials_never_say_which() {
    let store = store();
    store
        .update_account("operator", &AccountUpdate { enabled: Some(false), ..Default::default() })
        .unwrap();
    let unknown = store.login(&request("nobody", "x", "redfish"), t(0)).unwrap_err();
    let wrong = store.login(&request("admin", "wrong", "redfish"), t(0)).unwrap_err();
    let disabled = store.login(&request("operator", "operator-pw", "redfish"), t(0)).unwrap_err();
    assert_eq!(unknown, LoginError::BadCredentials);
    assert_eq!(wrong, unknown);
    assert_eq!(disabled, unknown);
    assert_eq!(unknown.to_string(), "bad credentials");
    assert!(store.list(t(0)).is_empty());
}

/// seed 002 lists "Authentication Failures" among what users chase on iDRAC: every failed
/// login is logged, with the user name as sent and no session.
#[test]
fn failed_login_is_logged() {
    let store = store();
    let _ = store.login(&request("admin", "wrong", "redfish"), t(5));
    let events = store.events(t(5));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::LoginFailed);
    assert_eq!(events[0].user, "admin");
    assert_eq!(events[0].session_id, None);
    assert_eq!(events[0].at, t(5).utc);
}

/// Engine rule: a disabled account cannot log in, even with the right password; enabling
/// it again lets it in.
#[test]
fn disabled_account_cannot_log_in() {
    let store = store();
    let off = AccountUpdate { enabled: Some(false), ..Default::default() };
    store.update_account("admin", &off).unwrap();
    assert_eq!(login_as(&store, "admin", "redfish", t(0)), Err(LoginError::BadCredentials));
    let on = AccountUpdate { enabled: Some(true), ..Default::default() };
    store.update_account("admin", &on).unwrap();
    assert!(login_as(&store, "admin", "redfish", t(0)).is_ok());
}

/// Engine rule: `check_credentials` (Basic auth that creates no session) checks the
/// password without opening a session.
#[test]
fn check_credentials_opens_no_session() {
    let store = store();
    let account = store.check_credentials(&request("admin", "admin-pw", "redfish"), t(0)).unwrap();
    assert_eq!(account.user, "admin");
    assert_eq!(
        store.check_credentials(&request("admin", "nope", "redfish"), t(0)).unwrap_err(),
        LoginError::BadCredentials
    );
    assert!(store.list(t(0)).is_empty());
}

/// Engine rule: `open_for` (an SSH handshake or the control API already authenticated the
/// user) skips the password but not the limits, and refuses unknown users.
#[test]
fn open_for_skips_password_but_not_limits() {
    let store = store_with(Policy { max_total: Some(1), ..policy() });
    let s = store.open_for("operator", "ssh", ClientInfo::default(), t(0)).unwrap();
    assert_eq!(s.user, "operator");
    assert!(matches!(
        store.open_for("admin", "ssh", ClientInfo::default(), t(0)),
        Err(LoginError::LimitReached { scope: LimitScope::Total, limit: 1 })
    ));
    store.end(&s.id, EndReason::Logout, t(0)).unwrap();
    assert_eq!(
        store.open_for("ghost", "ssh", ClientInfo::default(), t(0)),
        Err(LoginError::BadCredentials)
    );
}

/// Engine rule: `open_with_token` opens a session whose token the caller chose (BIG-IP's
/// `POST /mgmt/shared/authz/tokens`, [P] f5-sdk functional test `test_authz.py`): the
/// token authenticates, limits apply, a live token is refused, an ended one may be reused.
#[test]
fn open_with_token_uses_the_given_token() {
    let store = store_with(Policy { max_total: Some(1), ..policy() });
    let chosen = "T1234512345123451234512345";
    let s = store.open_with_token("operator", "rest-token", chosen, ClientInfo::default(), t(0));
    let s = s.unwrap();
    assert_eq!(s.token.as_str(), chosen);
    assert_eq!(store.authenticate(chosen, t(1)).unwrap().id, s.id);
    assert_eq!(
        store.open_with_token("admin", "rest-token", chosen, ClientInfo::default(), t(1)),
        Err(ChosenTokenError::InUse)
    );
    assert!(matches!(
        store.open_with_token("admin", "rest-token", "OTHER", ClientInfo::default(), t(1)),
        Err(ChosenTokenError::Login(LoginError::LimitReached { scope: LimitScope::Total, .. }))
    ));
    store.end(&s.id, EndReason::Logout, t(2)).unwrap();
    assert_eq!(store.authenticate(chosen, t(2)), Err(AuthError::Ended(EndReason::Logout)));
    assert_eq!(
        store.open_with_token("ghost", "rest-token", chosen, ClientInfo::default(), t(2)),
        Err(ChosenTokenError::Login(LoginError::BadCredentials))
    );
    let again = store.open_with_token("admin", "rest-token", chosen, ClientInfo::default(), t(3));
    assert_eq!(store.authenticate(chosen, t(3)).unwrap().id, again.unwrap().id);
}

/// Engine rule: `peek` reads a session without using it, so its idle timer is not renewed.
#[test]
fn peek_does_not_renew_idle_timer() {
    let store = store();
    let s = login(&store, t(0));
    assert!(store.peek(s.token.as_str(), t(50)).is_ok());
    assert_eq!(
        store.peek(s.token.as_str(), t(60)).unwrap_err(),
        AuthError::Ended(EndReason::IdleTimeout)
    );
}

/// Engine rule: a token no session ever had is `Unknown`, not `Ended`.
#[test]
fn unknown_token_is_unknown() {
    let store = store();
    login(&store, t(0));
    assert_eq!(
        store.authenticate("0123456789abcdef0123456789abcdef", t(0)),
        Err(AuthError::Unknown)
    );
    assert_eq!(store.peek("", t(0)), Err(AuthError::Unknown));
}

// ----- timeouts -----

/// DSP0266 SessionService.SessionTimeout: a session unused for that long ends.
#[test]
fn idle_timeout_ends_session_unless_used() {
    let store = store();
    let s = login(&store, t(0));
    assert!(store.get(&s.id, t(59)).is_some());
    assert!(store.get(&s.id, t(60)).is_none());
    assert_eq!(ended_reason(&store, &s, t(60)), Some(AuthError::Ended(EndReason::IdleTimeout)));
}

/// Engine rule: the deadline itself is the end — a session is alive a millisecond before
/// its deadline and gone at it.
#[test]
fn session_ends_exactly_at_its_deadline() {
    let store = store();
    let s = login(&store, t(0));
    assert!(store.authenticate(s.token.as_str(), t(0).plus(Duration::from_millis(59_999))).is_ok());
    // The use above renewed the timer to 119.999 s.
    let deadline = t(0).plus(Duration::from_millis(119_999));
    assert!(store.get(&s.id, t(119)).is_some());
    assert!(store.get(&s.id, deadline).is_none());
}

/// ilo-idrac.md 1.8 "The timeout is sliding: activity extends `UserExpires`" [C]; iDRAC
/// 2.5: polling every 5 minutes kept a session alive for 6 days.
#[test]
fn use_renews_sliding_idle_timer() {
    let store = store();
    let s = login(&store, t(0));
    for now in (50..=6 * 86_400).step_by(50) {
        store.authenticate(s.token.as_str(), t(now)).expect("kept alive by use");
    }
    let last = 6 * 86_400;
    assert!(store.get(&s.id, t(last + 59)).is_some());
    assert!(store.get(&s.id, t(last + 60)).is_none());
}

/// bigip-solace.md 1.2 "Absolute, not idle": with a non-sliding timeout the expiry is
/// creation + timeout, use does not extend it, and the ending is a lifetime ending.
#[test]
fn non_sliding_timeout_counts_from_creation() {
    let store = store_with(Policy { sliding: false, ..policy() });
    let s = login(&store, t(0));
    assert!(!s.sliding);
    store.authenticate(s.token.as_str(), t(30)).unwrap();
    store.authenticate(s.token.as_str(), t(59)).unwrap();
    assert_eq!(ended_reason(&store, &s, t(60)), Some(AuthError::Ended(EndReason::MaxLifetime)));
}

/// seed 003: "Sessions will be invalidated after this period of time, regardless of
/// activity" (Maximum Lifetime).
#[test]
fn max_lifetime_ends_session_even_when_used() {
    let store = store_with(Policy { max_lifetime_secs: 300, ..policy() });
    let s = login(&store, t(0));
    for now in (30..300).step_by(30) {
        store.authenticate(s.token.as_str(), t(now)).expect("in use, within lifetime");
    }
    assert_eq!(ended_reason(&store, &s, t(300)), Some(AuthError::Ended(EndReason::MaxLifetime)));
}

/// Engine rule: a session used again and again ends one idle timeout after its last use,
/// never earlier (its deadline is filed again only when the earlier one comes), and no
/// deadline is reported for a session that has ended.
#[test]
fn a_used_session_ends_one_idle_timeout_after_its_last_use() {
    let store = store();
    let s = login(&store, t(0));
    for n in 1..=159 {
        store.authenticate(s.token.as_str(), t(n)).unwrap();
    }
    assert_eq!(store.next_deadline(), Some(secs(219)));
    assert_eq!(open_ids(&store, t(218)), vec![s.id.clone()]);
    assert!(store.list(t(219)).is_empty());
    assert_eq!(endings(&store, t(219)), vec![(s.id.clone(), EndReason::IdleTimeout, t(219))]);
    let used = login(&store, t(300));
    store.authenticate(used.token.as_str(), t(330)).unwrap();
    store.end(&used.id, EndReason::Logout, t(331)).unwrap();
    assert_eq!(store.next_deadline(), None);
}

/// Engine rule: a session's deadline is the earlier of its idle and lifetime deadlines,
/// with the reason that goes with it.
#[test]
fn deadline_is_the_earlier_of_idle_and_lifetime() {
    let store = store_with(Policy { max_lifetime_secs: 100, ..policy() });
    let s = login(&store, t(0));
    assert_eq!(s.deadline(), Some((secs(60), EndReason::IdleTimeout)));
    let s = store.authenticate(s.token.as_str(), t(50)).unwrap();
    assert_eq!(s.deadline(), Some((secs(100), EndReason::MaxLifetime)));
    assert_eq!(store.next_deadline(), Some(secs(100)));
    assert_eq!(s.idle_expires_at(t(50)), Some(t(110).utc));
    assert_eq!(s.hard_expires_at(t(50)), Some(t(100).utc));
}

/// Engine rule: when the idle and lifetime deadlines fall on the same instant, the session
/// ended because it reached its maximum lifetime.
#[test]
fn lifetime_wins_a_tie_with_idle_timeout() {
    let store = store_with(Policy { max_lifetime_secs: 300, ..policy() });
    let mut s = login(&store, t(0));
    for now in (40..=240).step_by(40) {
        s = Session::clone(&store.authenticate(s.token.as_str(), t(now)).unwrap());
    }
    assert_eq!(s.deadline(), Some((secs(300), EndReason::MaxLifetime)));
    assert_eq!(ended_reason(&store, &s, t(300)), Some(AuthError::Ended(EndReason::MaxLifetime)));
}

/// ilo-idrac.md 2.5: each session type has its own idle timeout (`Racadm.1.Timeout: 60`
/// beside `SSH.1.Timeout: 1800`); types without one use the default.
#[test]
fn per_type_idle_timeout_overrides_default() {
    let policy = Policy {
        idle_timeout_secs: 1800,
        idle_timeout_by_type: BTreeMap::from([("racadm".to_string(), 60)]),
        ..policy()
    };
    let store = store_with(policy);
    let racadm = login_as(&store, "admin", "racadm", t(0)).unwrap();
    let ssh = login_as(&store, "admin", "ssh", t(0)).unwrap();
    assert_eq!(racadm.idle_timeout, Some(secs(60)));
    assert_eq!(ssh.idle_timeout, Some(secs(1800)));
    assert_eq!(open_ids(&store, t(60)), vec![ssh.id.clone()]);
}

/// iLO 6 `SessionTimeout` "0 means no timeout"; iDRAC 2.5 "set this property to 0" to
/// disable the idle timeout: with no timeout and no lifetime a session never expires.
#[test]
fn zero_timeout_means_none() {
    let store = store_with(Policy { idle_timeout_secs: 0, max_lifetime_secs: 0, ..policy() });
    let s = login(&store, t(0));
    assert_eq!(s.idle_timeout, None);
    assert_eq!(s.deadline(), None);
    assert_eq!(store.next_deadline(), None);
    assert!(store.get(&s.id, t(10 * 365 * 86_400)).is_some());
}

/// iDRAC 2.5 "Changes to idle time out settings take effect at the next login"; iLO 1.8
/// "will be enforced immediately in all new sessions": by default a timeout change
/// applies only to sessions created afterwards.
#[test]
fn timeout_change_applies_only_to_new_sessions_by_default() {
    let store = store();
    let old = login(&store, t(0));
    store.set_idle_timeout(None, 600, t(10));
    let new = login(&store, t(10));
    assert_eq!(new.idle_timeout, Some(secs(600)));
    assert_eq!(store.get(&old.id, t(10)).unwrap().idle_timeout, Some(secs(60)));
    assert_eq!(open_ids(&store, t(60)), vec![new.id]);
}

/// Profile knob `timeout_change_applies_to_existing`: when set, a changed timeout also
/// applies to open sessions, counted from their last use.
#[test]
fn timeout_change_applies_to_existing_when_policy_says_so() {
    let store = store_with(Policy { timeout_change_applies_to_existing: true, ..policy() });
    let s = login(&store, t(0));
    store.authenticate(s.token.as_str(), t(20)).unwrap();
    store.set_idle_timeout(None, 600, t(30));
    assert_eq!(store.get(&s.id, t(30)).unwrap().idle_timeout, Some(secs(600)));
    assert!(store.get(&s.id, t(619)).is_some());
    assert!(store.get(&s.id, t(620)).is_none());
}

/// Engine rule: with the applies-to-existing knob, changing one type's timeout touches
/// only sessions of that type; changing the default touches only types without their own.
#[test]
fn timeout_change_for_a_type_touches_only_that_type() {
    let policy = Policy {
        timeout_change_applies_to_existing: true,
        idle_timeout_by_type: BTreeMap::from([("ssh".to_string(), 120)]),
        ..policy()
    };
    let store = store_with(policy);
    let web = login_as(&store, "admin", "web", t(0)).unwrap();
    let ssh = login_as(&store, "admin", "ssh", t(0)).unwrap();
    store.set_idle_timeout(Some("web"), 300, t(1));
    assert_eq!(store.get(&web.id, t(1)).unwrap().idle_timeout, Some(secs(300)));
    assert_eq!(store.get(&ssh.id, t(1)).unwrap().idle_timeout, Some(secs(120)));
    store.set_idle_timeout(None, 30, t(2));
    assert_eq!(store.get(&web.id, t(2)).unwrap().idle_timeout, Some(secs(300)));
    assert_eq!(store.get(&ssh.id, t(2)).unwrap().idle_timeout, Some(secs(120)));
}

/// Engine rule: a timeout shortened under open sessions ends the ones it makes overdue at
/// once, logged at the change — they were alive (and usable) until then — never at a
/// past instant.
#[test]
fn shortened_timeout_ends_overdue_sessions_at_the_change() {
    let store = store_with(Policy {
        idle_timeout_secs: 1800,
        timeout_change_applies_to_existing: true,
        ..policy()
    });
    let s = login(&store, t(0));
    store.authenticate(s.token.as_str(), t(400)).unwrap();
    let later = login(&store, t(500));
    store.set_idle_timeout(None, 60, t(1000));
    assert!(store.list(t(1000)).is_empty());
    assert_eq!(
        endings(&store, t(1000)),
        vec![
            (s.id.clone(), EndReason::IdleTimeout, t(1000)),
            (later.id.clone(), EndReason::IdleTimeout, t(1000)),
        ]
    );
    let times: Vec<_> = store.events(t(1000)).iter().map(|e| e.at).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "event log goes back in time: {times:?}");
}

/// bigip-solace.md 1.2: a token's timeout can be changed (`PATCH .../tokens/<token>`);
/// with `from_now` the timer restarts at the change.
#[test]
fn set_session_timeout_from_now() {
    let store = store();
    let s = login(&store, t(0));
    let changed = store.set_session_timeout(&s.id, Some(secs(100)), true, t(30)).unwrap();
    assert_eq!(changed.deadline(), Some((secs(130), EndReason::IdleTimeout)));
    assert!(store.get(&s.id, t(129)).is_some());
    assert!(store.get(&s.id, t(130)).is_none());
}

/// bigip-solace.md 1.2 "the new expiry is `startTime + timeout`" [I]: without `from_now`
/// a non-sliding timeout keeps counting from creation.
#[test]
fn set_session_timeout_keeps_counting_from_creation_when_not_from_now() {
    let store = store_with(Policy { sliding: false, ..policy() });
    let s = login(&store, t(0));
    let changed = store.set_session_timeout(&s.id, Some(secs(100)), false, t(30)).unwrap();
    assert_eq!(changed.deadline(), Some((secs(100), EndReason::MaxLifetime)));
    assert!(store.get(&s.id, t(100)).is_none());
}

/// Engine rule: `from_now` on a non-sliding session still ends it `timeout` after the
/// change, and later use does not move that.
#[test]
fn set_session_timeout_from_now_on_non_sliding_session() {
    let store = store_with(Policy { sliding: false, ..policy() });
    let s = login(&store, t(0));
    store.set_session_timeout(&s.id, Some(secs(100)), true, t(30)).unwrap();
    store.authenticate(s.token.as_str(), t(120)).unwrap();
    assert!(store.get(&s.id, t(129)).is_some());
    assert!(store.get(&s.id, t(130)).is_none());
}

/// Engine rule: changing the timeout of a session that is not open is `NoSuchSession`.
#[test]
fn set_session_timeout_of_unknown_session_is_not_found() {
    let store = store();
    let s = login(&store, t(0));
    assert_eq!(
        store.set_session_timeout(&s.id, Some(secs(10)), true, t(60)),
        Err(NoSuchSession(s.id.clone()))
    );
}

// ----- limits -----

/// seed 002 / ilo-idrac.md 2.4: iDRAC's Redfish and GUI sessions share the web-server
/// limit (RAC0218 "The maximum number of user sessions is reached"); the refusal names
/// the pool, and types outside it are not affected.
#[test]
fn pool_limit_refuses_login_naming_the_pool() {
    let pool =
        Pool { name: "web-server".into(), types: vec!["redfish".into(), "gui".into()], limit: 2 };
    let store = store_with(Policy { pools: vec![pool], ..policy() });
    login_as(&store, "admin", "redfish", t(0)).unwrap();
    login_as(&store, "operator", "gui", t(0)).unwrap();
    let refused = login_as(&store, "root", "redfish", t(0)).unwrap_err();
    assert_eq!(
        refused,
        LoginError::LimitReached { scope: LimitScope::Pool("web-server".into()), limit: 2 }
    );
    assert_eq!(refused.to_string(), "session limit reached (pool web-server)");
    assert!(login_as(&store, "root", "ssh", t(0)).is_ok());
}

/// seed 001 `set_maximum_sessions`: past the maximum "subsequent attempts to create a new
/// user sessions are rejected with an error"; seed 003: a limited number of sessions.
#[test]
fn total_limit_refuses_login() {
    let store = store_with(Policy { max_total: Some(2), ..policy() });
    login_as(&store, "admin", "web", t(0)).unwrap();
    login_as(&store, "operator", "ssh", t(0)).unwrap();
    assert_eq!(
        login_as(&store, "root", "cli", t(0)),
        Err(LoginError::LimitReached { scope: LimitScope::Total, limit: 2 })
    );
    assert_eq!(store.counts(t(0)).total, 2);
}

/// bigip-solace.md 1.4: "Each user can request up to 100 tokens"; the 101st is refused
/// for that user only.
#[test]
fn per_user_limit_refuses_only_that_user() {
    let store = store_with(Policy { max_per_user: Some(2), ..policy() });
    login(&store, t(0));
    login(&store, t(0));
    assert_eq!(
        login_as(&store, "admin", "redfish", t(0)),
        Err(LoginError::LimitReached { scope: LimitScope::User("admin".into()), limit: 2 })
    );
    assert!(login_as(&store, "operator", "redfish", t(0)).is_ok());
}

/// bigip-solace.md 1.4: "The only exception is the "admin" user" — exempt users are not
/// held to the per-user limit (but still to the total).
#[test]
fn per_user_limit_spares_exempt_users() {
    let store = store_with(Policy {
        max_per_user: Some(1),
        per_user_exempt: vec!["admin".into()],
        max_total: Some(5),
        ..policy()
    });
    for _ in 0..3 {
        login(&store, t(0));
    }
    login_as(&store, "operator", "ssh", t(0)).unwrap();
    assert_eq!(
        login_as(&store, "operator", "ssh", t(0)),
        Err(LoginError::LimitReached { scope: LimitScope::User("operator".into()), limit: 1 })
    );
    login(&store, t(0));
    assert_eq!(
        login_as(&store, "admin", "redfish", t(0)),
        Err(LoginError::LimitReached { scope: LimitScope::Total, limit: 5 })
    );
}

/// Engine rule: a refused login is logged with the limit that refused it, and opens nothing.
#[test]
fn refused_login_is_logged_with_its_limit() {
    let store = store_with(Policy { max_total: Some(1), ..policy() });
    login(&store, t(0));
    let _ = login_as(&store, "operator", "ssh", t(3));
    let last = store.events(t(3)).pop().unwrap();
    assert_eq!(last.kind, EventKind::Refused { limit: LimitScope::Total });
    assert_eq!(last.user, "operator");
    assert_eq!(last.session_type, "ssh");
    assert_eq!(last.session_id, None);
    assert_eq!(last.at, t(3).utc);
    assert_eq!(store.list(t(3)).len(), 1);
}

/// Engine rule: bad credentials are checked before limits, so a full table never tells
/// a stranger that the password was right.
#[test]
fn bad_credentials_win_over_a_full_table() {
    let store = store_with(Policy { max_total: Some(1), ..policy() });
    login(&store, t(0));
    assert_eq!(
        store.login(&request("admin", "wrong", "redfish"), t(0)),
        Err(LoginError::BadCredentials)
    );
}

/// seed 000: a full iLO table locks clients out "until sessions are removed when the
/// UserExpires time is reached": expiry frees the slot, with no sweep needed.
#[test]
fn expiry_frees_slot() {
    let store = store_with(Policy { max_total: Some(1), ..policy() });
    login(&store, t(0));
    assert!(login_as(&store, "admin", "redfish", t(59)).is_err());
    assert!(login_as(&store, "admin", "redfish", t(60)).is_ok());
}

/// DSP0266 Session termination: logout ends the session and frees its slot.
#[test]
fn logout_frees_slot() {
    let store = store_with(Policy { max_total: Some(1), ..policy() });
    let s = login(&store, t(0));
    assert!(login_as(&store, "operator", "redfish", t(1)).is_err());
    store.end(&s.id, EndReason::Logout, t(2)).unwrap();
    assert!(login_as(&store, "operator", "redfish", t(3)).is_ok());
}

/// Engine rule: limits changed with `set_policy` apply to the next login; sessions already
/// open stay.
#[test]
fn set_policy_changes_limits_for_next_login() {
    let store = store();
    login(&store, t(0));
    login(&store, t(0));
    store.set_policy(Policy { max_total: Some(1), ..policy() }, t(1));
    assert_eq!(store.list(t(1)).len(), 2);
    assert!(login_as(&store, "operator", "redfish", t(1)).is_err());
    assert_eq!(store.policy().max_total, Some(1));
}

// ----- one-request (Basic-auth) sessions -----

/// seed 000: "the Basic Authentication mechanism ... deletes automatically the session
/// after completion of the HTTP GET request"; ilo-idrac.md 1.7 [I]: it is listed and
/// holds a slot while the request runs.
#[test]
fn one_request_session_holds_a_slot_until_request_end() {
    let store = store_with(Policy { max_total: Some(1), ..policy() });
    let basic = store.begin_request(&request("admin", "admin-pw", "redfish"), t(0)).unwrap();
    assert!(basic.one_request);
    assert_eq!(open_ids(&store, t(0)), vec![basic.id.clone()]);
    assert!(matches!(
        login_as(&store, "operator", "redfish", t(0)),
        Err(LoginError::LimitReached { scope: LimitScope::Total, .. })
    ));
    store.end_request(&basic.id, t(0));
    assert!(store.list(t(0)).is_empty());
    assert_eq!(endings(&store, t(0)), vec![(basic.id.clone(), EndReason::RequestEnd, t(0))]);
    assert!(store.events(t(0)).iter().filter(|e| e.session_id.is_some()).all(|e| e.one_request));
    assert!(login_as(&store, "operator", "redfish", t(0)).is_ok());
}

/// Profile knob `one_request_sessions_count = false`: one-request sessions are listed but
/// neither take a slot nor are refused by a full table.
#[test]
fn one_request_sessions_may_not_count_when_policy_says_so() {
    let store =
        store_with(Policy { max_total: Some(1), one_request_sessions_count: false, ..policy() });
    let basic = store.begin_request(&request("admin", "admin-pw", "redfish"), t(0)).unwrap();
    let s = login(&store, t(0));
    let basic2 = store.begin_request(&request("admin", "admin-pw", "redfish"), t(0)).unwrap();
    assert_eq!(open_ids(&store, t(0)), vec![basic.id.clone(), s.id, basic2.id.clone()]);
    store.end_request(&basic.id, t(0));
    store.end_request(&basic2.id, t(0));
    assert!(login_as(&store, "operator", "redfish", t(0)).is_err());
}

/// Engine rule: a one-request session that already ended (a restart during the request)
/// is left alone by `end_request`: its ending is not logged twice.
#[test]
fn end_request_after_restart_is_harmless() {
    let store = store();
    let basic = store.begin_request(&request("admin", "admin-pw", "redfish"), t(0)).unwrap();
    store.restart(t(1));
    store.end_request(&basic.id, t(2));
    assert_eq!(endings(&store, t(2)), vec![(basic.id.clone(), EndReason::Restart, t(1))]);
}

/// Engine rule: a one-request login with bad credentials opens nothing.
#[test]
fn one_request_with_bad_credentials_is_refused() {
    let store = store();
    assert_eq!(
        store.begin_request(&request("admin", "nope", "redfish"), t(0)),
        Err(LoginError::BadCredentials)
    );
    assert!(store.list(t(0)).is_empty());
}

// ----- endings -----

/// seed 003 "an admin user deletes your session(s) via SEMPv2 or the CLI"; seed 002
/// `racadm closessn -i ID`: an administrator ends one session, the others stay.
#[test]
fn admin_delete_ends_one_session() {
    let store = store();
    let a = login(&store, t(0));
    let b = login(&store, t(0));
    let ended = store.end(&a.id, EndReason::AdminDelete, t(5)).unwrap();
    assert_eq!(ended.id, a.id);
    assert_eq!(open_ids(&store, t(5)), vec![b.id]);
    assert_eq!(ended_reason(&store, &a, t(5)), Some(AuthError::Ended(EndReason::AdminDelete)));
}

/// Engine rule: ending a session that is not open (never was, or already ended) is
/// `NoSuchSession` and logs nothing.
#[test]
fn ending_a_session_twice_is_not_found() {
    let store = store();
    let s = login(&store, t(0));
    store.end(&s.id, EndReason::Logout, t(1)).unwrap();
    assert_eq!(store.end(&s.id, EndReason::Logout, t(2)), Err(NoSuchSession(s.id.clone())));
    assert_eq!(store.end("nope", EndReason::AdminDelete, t(2)), Err(NoSuchSession("nope".into())));
    assert_eq!(endings(&store, t(2)).len(), 1);
}

/// seed 003: "When the session terminates for any reason, the associated token immediately
/// becomes invalid and cannot be used again"; the engine tells the caller why it ended.
#[test]
fn ended_token_reports_its_reason() {
    let policy = Policy { max_lifetime_secs: 100, ..policy() };
    let ended_by = |reason: EndReason| -> AuthError {
        let store = store_with(policy.clone());
        let s = login(&store, t(0));
        let mut now = t(1);
        match reason {
            EndReason::Logout | EndReason::AdminDelete => {
                store.end(&s.id, reason, now).unwrap();
            }
            EndReason::IdleTimeout => now = t(60),
            EndReason::MaxLifetime => {
                for n in (30..100).step_by(30) {
                    store.authenticate(s.token.as_str(), t(n)).unwrap();
                }
                now = t(100);
            }
            EndReason::CredentialChange => {
                store.change_password("admin", "new", now).unwrap();
            }
            EndReason::UserDeleted => {
                store.delete_account("admin", now).unwrap();
            }
            EndReason::AuthConfigChange => {
                store.change_auth_config(now);
            }
            EndReason::Restart => {
                store.restart(now);
            }
            // Only a one-request session ends so, and it has no token (tested below).
            EndReason::RequestEnd => unreachable!("a login session does not end with its request"),
        }
        store.authenticate(s.token.as_str(), now).unwrap_err()
    };
    for reason in EndReason::ALL.into_iter().filter(|r| *r != EndReason::RequestEnd) {
        assert_eq!(ended_by(reason), AuthError::Ended(reason), "{reason}");
    }
}

/// Engine rule: a one-request session hands out no token (its client sends the password
/// each time), so its end takes no place among the remembered ended tokens: however many
/// Basic requests follow a logout, the logged-out token is still told apart from an
/// unknown one.
#[test]
fn one_request_sessions_hand_out_no_token_and_leave_ended_tokens_alone() {
    let store = store();
    let s = login(&store, t(0));
    store.end(&s.id, EndReason::Logout, t(1)).unwrap();
    for _ in 0..5_000 {
        let basic = store.begin_request(&request("admin", "admin-pw", "redfish"), t(1)).unwrap();
        assert!(basic.token.is_none());
        assert_eq!(store.authenticate(basic.token.as_str(), t(1)), Err(AuthError::Unknown));
        store.end_request(&basic.id, t(1));
    }
    assert_eq!(
        store.authenticate(s.token.as_str(), t(1)),
        Err(AuthError::Ended(EndReason::Logout))
    );
}

/// Engine design: sessions share one copy of each user, role and type name, so opening
/// one copies no name (the pointers are equal), and each still reads its own names.
#[test]
fn sessions_share_one_copy_of_each_name() {
    let store = store();
    let first = login(&store, t(0));
    let second = login(&store, t(1));
    let basic = store.begin_request(&request("admin", "admin-pw", "redfish"), t(2)).unwrap();
    for s in [&second, &basic] {
        assert_eq!(s.user.as_str().as_ptr(), first.user.as_str().as_ptr());
        assert_eq!(s.role.as_str().as_ptr(), first.role.as_str().as_ptr());
        assert_eq!(s.session_type.as_str().as_ptr(), first.session_type.as_str().as_ptr());
    }
    assert_eq!((first.user.as_str(), first.session_type.as_str()), ("admin", "redfish"));
    let other = store.begin_request(&request("admin", "admin-pw", "web"), t(3)).unwrap();
    assert_eq!(other.session_type, "web");
    assert_ne!(other.session_type.as_str().as_ptr(), first.session_type.as_str().as_ptr());
}

/// Engine rule: where session ids are the token itself, a one-request session still gets
/// an id of the token's form (the tokens view lists it while its request runs).
#[test]
fn one_request_session_ids_made_of_tokens_are_still_tokens() {
    let store = store_with(Policy {
        id_format: IdFormat::Token,
        token_format: TokenFormat::Hex32,
        ..policy()
    });
    let basic = store.begin_request(&request("admin", "admin-pw", "redfish"), t(0)).unwrap();
    let other = store.begin_request(&request("admin", "admin-pw", "redfish"), t(0)).unwrap();
    assert_eq!(basic.id.len(), 32);
    assert_ne!(basic.id, other.id);
    assert!(basic.token.is_none());
}

/// seed 003: "If the user credentials change, the event broker deletes all sessions for
/// that user" — and only that user's.
#[test]
fn password_change_ends_only_that_users_sessions() {
    let store = store();
    let a1 = login(&store, t(0));
    let a2 = login_as(&store, "admin", "ssh", t(0)).unwrap();
    let op = login_as(&store, "operator", "redfish", t(0)).unwrap();
    let (account, ended) = store.change_password("admin", "new-pw", t(1)).unwrap();
    assert_eq!(account.user, "admin");
    assert_eq!(ids(&ended), vec![a1.id.clone(), a2.id.clone()]);
    assert_eq!(open_ids(&store, t(1)), vec![op.id]);
    assert_eq!(
        ended_reason(&store, &a1, t(1)),
        Some(AuthError::Ended(EndReason::CredentialChange))
    );
}

/// ilo-idrac.md 1.10 and bigip-solace.md 1.7: whether a password change ends sessions is
/// unknown on iLO and BIG-IP, so `on_password_change = keep` leaves them open.
#[test]
fn password_change_keeps_sessions_when_policy_says_keep() {
    let store = store_with(Policy { on_password_change: UserChange::Keep, ..policy() });
    let s = login(&store, t(0));
    let (_, ended) = store.change_password("admin", "new-pw", t(1)).unwrap();
    assert!(ended.is_empty());
    assert!(store.authenticate(s.token.as_str(), t(2)).is_ok());
}

/// ilo-idrac.md 2.7 [C]: after a password change the old password is refused; the new
/// one works.
#[test]
fn new_password_works_and_old_one_does_not() {
    let store = store();
    store.change_password("admin", "new-pw", t(0)).unwrap();
    assert_eq!(
        store.login(&request("admin", "admin-pw", "redfish"), t(1)),
        Err(LoginError::BadCredentials)
    );
    assert!(store.login(&request("admin", "new-pw", "redfish"), t(1)).is_ok());
    assert_eq!(
        store.change_password("ghost", "x", t(1)),
        Err(AccountError::NotFound("ghost".into()))
    );
}

/// seed 003: user deletion ends all that user's sessions; ilo-idrac.md 1.10
/// `AccountForSessionNoLongerExists` [I].
#[test]
fn user_delete_ends_that_users_sessions() {
    let store = store();
    let a = login(&store, t(0));
    let op = login_as(&store, "operator", "redfish", t(0)).unwrap();
    let (account, ended) = store.delete_account("admin", t(1)).unwrap();
    assert_eq!(account.user, "admin");
    assert_eq!(ids(&ended), vec![a.id.clone()]);
    assert_eq!(open_ids(&store, t(1)), vec![op.id]);
    assert_eq!(ended_reason(&store, &a, t(1)), Some(AuthError::Ended(EndReason::UserDeleted)));
    assert!(store.account("admin").is_none());
    assert_eq!(login_as(&store, "admin", "redfish", t(1)), Err(LoginError::BadCredentials));
}

/// bigip-solace.md 1.7 "keep until expiry vs revoke on change": `on_user_delete = keep`
/// leaves the deleted user's sessions open until they end some other way.
#[test]
fn user_delete_keeps_sessions_when_policy_says_keep() {
    let store = store_with(Policy { on_user_delete: UserChange::Keep, ..policy() });
    let s = login(&store, t(0));
    let (_, ended) = store.delete_account("admin", t(1)).unwrap();
    assert!(ended.is_empty());
    assert!(store.authenticate(s.token.as_str(), t(2)).is_ok());
    assert_eq!(ended_reason(&store, &s, t(62)), Some(AuthError::Ended(EndReason::IdleTimeout)));
}

/// Engine rule: a deleted user can be created again and log in with its new password;
/// adding a user that exists is refused.
#[test]
fn deleted_user_can_be_recreated() {
    let store = store();
    store.delete_account("admin", t(0)).unwrap();
    assert_eq!(
        store.delete_account("admin", t(0)).unwrap_err(),
        AccountError::NotFound("admin".into())
    );
    store.add_account(Account::new("admin", "again", "Operator")).unwrap();
    assert_eq!(
        store.add_account(Account::new("admin", "x", "Operator")).unwrap_err(),
        AccountError::Exists("admin".into())
    );
    let s = store.login(&request("admin", "again", "redfish"), t(1)).unwrap();
    assert_eq!(s.role, "Operator");
}

/// seed 003: credential changes "do not include access level changes": changing a role
/// leaves the user's sessions open.
#[test]
fn role_change_leaves_sessions_open() {
    let store = store();
    let s = login(&store, t(0));
    let update = AccountUpdate { role: Some("ReadOnly".into()), ..Default::default() };
    let account = store.update_account("admin", &update).unwrap();
    assert_eq!(account.role, "ReadOnly");
    assert!(account.version > 1);
    assert!(store.authenticate(s.token.as_str(), t(1)).is_ok());
}

/// seed 003: "If the auth-type configuration changes, the event broker deletes all
/// sessions."
#[test]
fn auth_config_change_ends_all() {
    let store = store();
    let a = login(&store, t(0));
    let b = login_as(&store, "operator", "ssh", t(0)).unwrap();
    let ended = store.change_auth_config(t(1));
    assert_eq!(ids(&ended), vec![a.id.clone(), b.id]);
    assert!(store.list(t(1)).is_empty());
    assert_eq!(ended_reason(&store, &a, t(1)), Some(AuthError::Ended(EndReason::AuthConfigChange)));
}

/// Profile knob `on_auth_config_change = keep`: for devices where an auth-config change
/// leaves sessions alone.
#[test]
fn auth_config_change_keeps_sessions_when_policy_says_keep() {
    let store = store_with(Policy { on_auth_config_change: AuthConfigChange::Keep, ..policy() });
    let s = login(&store, t(0));
    assert!(store.change_auth_config(t(1)).is_empty());
    assert!(store.authenticate(s.token.as_str(), t(1)).is_ok());
}

/// seed 003 "the broker restarts"; seed 000 lock-out lasts "until ... iLO reset": a restart
/// ends every session.
#[test]
fn restart_ends_all() {
    let store = store_with(Policy { max_total: Some(2), ..policy() });
    let a = login(&store, t(0));
    login_as(&store, "operator", "ssh", t(0)).unwrap();
    assert_eq!(store.restart(t(1)).len(), 2);
    assert!(store.list(t(1)).is_empty());
    assert_eq!(ended_reason(&store, &a, t(1)), Some(AuthError::Ended(EndReason::Restart)));
    assert!(login_as(&store, "operator", "ssh", t(1)).is_ok());
}

/// Engine rule: `end_user` ends every session of one user with the given reason.
#[test]
fn end_user_ends_only_that_users_sessions() {
    let store = store();
    let a = login(&store, t(0));
    let op = login_as(&store, "operator", "ssh", t(0)).unwrap();
    let ended = store.end_user("admin", EndReason::AdminDelete, t(1));
    assert_eq!(ids(&ended), vec![a.id]);
    assert_eq!(open_ids(&store, t(1)), vec![op.id]);
}

// ----- observation and the event log -----

/// DESIGN "Every ending has a reason": an expiry is logged at the deadline, not when the
/// engine happened to notice it.
#[test]
fn expiry_logged_at_deadline_not_at_observation() {
    let store = store_with(Policy { max_lifetime_secs: 100, ..policy() });
    let idle = login(&store, t(0));
    let busy = login(&store, t(0));
    store.authenticate(busy.token.as_str(), t(50)).unwrap();
    store.authenticate(busy.token.as_str(), t(90)).unwrap();
    let observed = t(5000);
    assert_eq!(
        endings(&store, observed),
        vec![(idle.id, EndReason::IdleTimeout, t(60)), (busy.id, EndReason::MaxLifetime, t(100)),]
    );
}

/// DESIGN "no listing, count or limit ever sees a dead session": `list`, `counts`, `get`,
/// `peek`, `events` and the limit check each end what has expired first, with no sweep.
#[test]
fn no_listing_or_count_sees_expired_session() {
    type Sees = fn(&SessionStore, &Session, Now) -> bool;
    let observers: [(&str, Sees); 6] = [
        ("list", |store, s, now| store.list(now).iter().any(|x| x.id == s.id)),
        ("counts", |store, _, now| store.counts(now).total > 0),
        ("get", |store, s, now| store.get(&s.id, now).is_some()),
        ("peek", |store, s, now| store.peek(s.token.as_str(), now).is_ok()),
        ("events", |store, _, now| {
            !store.events(now).iter().any(|e| matches!(e.kind, EventKind::Ended { .. }))
        }),
        ("limit", |store, _, now| login_as(store, "operator", "ssh", now).is_err()),
    ];
    for (name, sees) in observers {
        let store = store_with(Policy { max_total: Some(1), ..policy() });
        let s = login(&store, t(0));
        assert!(sees(&store, &s, t(59)), "{name} misses a live session");
        assert!(!sees(&store, &s, t(60)), "{name} sees an expired session");
    }
}

/// Engine rule: `sweep` (the reaper's call) ends what is due and returns it, once;
/// `next_deadline` then moves to the next open session's deadline.
#[test]
fn sweep_returns_expired_sessions_once() {
    let store = store();
    let a = login(&store, t(0));
    let b = login(&store, t(30));
    assert_eq!(store.next_deadline(), Some(secs(60)));
    assert!(store.sweep(t(59)).is_empty());
    assert_eq!(ids(&store.sweep(t(60))), vec![a.id]);
    assert!(store.sweep(t(60)).is_empty());
    assert_eq!(store.next_deadline(), Some(secs(90)));
    assert_eq!(ids(&store.sweep(t(1000))), vec![b.id]);
    assert_eq!(store.next_deadline(), None);
}

/// DESIGN "Every ending has a reason ... The event log records each": every session that
/// ends is logged exactly once, whatever tries to end it again afterwards.
#[test]
fn every_ending_logged_once() {
    let store = store_with(Policy { max_lifetime_secs: 200, ..policy() });
    let logout = login(&store, t(0));
    let idle = login(&store, t(0));
    let basic = store.begin_request(&request("admin", "admin-pw", "redfish"), t(0)).unwrap();
    let op = login_as(&store, "operator", "ssh", t(0)).unwrap();
    store.end(&logout.id, EndReason::Logout, t(1)).unwrap();
    let _ = store.end(&logout.id, EndReason::AdminDelete, t(2));
    store.change_password("operator", "x", t(3)).unwrap();
    store.change_password("operator", "y", t(4)).unwrap();
    store.sweep(t(100));
    store.sweep(t(100));
    let _ = store.end(&idle.id, EndReason::Logout, t(101));
    store.restart(t(102));
    store.end_request(&basic.id, t(103));
    store.restart(t(104));

    let mut seen: HashMap<String, Vec<EndReason>> = HashMap::new();
    for (id, reason, _) in endings(&store, t(105)) {
        seen.entry(id).or_default().push(reason);
    }
    assert_eq!(
        seen,
        HashMap::from([
            (logout.id, vec![EndReason::Logout]),
            (op.id, vec![EndReason::CredentialChange]),
            (idle.id, vec![EndReason::IdleTimeout]),
            (basic.id.clone(), vec![EndReason::IdleTimeout]),
        ])
    );
}

/// Engine rule: the event log numbers its entries from 1, oldest first, and the time of
/// each entry never goes backwards.
#[test]
fn events_are_numbered_in_order() {
    let store = store();
    let s = login(&store, t(0));
    let _ = store.login(&request("admin", "bad", "redfish"), t(10));
    login(&store, t(20));
    store.end(&s.id, EndReason::Logout, t(30)).unwrap();
    let events: Vec<Event> = store.events(t(200));
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as u64).collect::<Vec<_>>());
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(store.events_dropped(), 0);
}

// ----- tokens and ids -----

/// DESIGN "--seed makes every token and id reproducible": two stores with the same seed
/// hand out the same tokens and ids; another seed gives other ones.
#[test]
fn seeded_store_is_reproducible() {
    let run = |seed: u64| {
        let policy = Policy { id_format: IdFormat::Hex16, ..policy() };
        let store = SessionStore::new(policy, accounts(), IdGenerator::seeded(seed, 1));
        (0..5)
            .map(|i| {
                let s = login(&store, t(i));
                (s.id, s.token.as_str().to_string())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

/// DSP0266 "The token is indistinguishable from random": tokens never repeat, not even
/// against ended sessions.
#[test]
fn tokens_are_unique() {
    let store = store();
    let mut seen = HashSet::new();
    for i in 0..500 {
        let s = login(&store, t(i));
        assert!(seen.insert(s.token.as_str().to_string()));
        store.end(&s.id, EndReason::Logout, t(i)).unwrap();
    }
}

/// ilo-idrac.md 2.2 [C][P]: iDRAC9 session ids are decimal counters that keep growing
/// (`74`, `102`–`107`), from the profile's start.
#[test]
fn counter_ids_keep_growing_from_their_start() {
    let store =
        store_with(Policy { id_format: IdFormat::Counter, id_counter_start: 74, ..policy() });
    let a = login(&store, t(0));
    store.end(&a.id, EndReason::Logout, t(0)).unwrap();
    let b = login(&store, t(0));
    let c = login(&store, t(0));
    assert_eq!([a.id, b.id, c.id], ["74", "75", "76"]);
}

/// ilo-idrac.md 2.2 [P]: iDRAC10 session ids are UUIDs.
#[test]
fn uuid_ids_are_hyphenated_uuids() {
    let store = store_with(Policy { id_format: IdFormat::Uuid, ..policy() });
    let id = login(&store, t(0)).id;
    assert_eq!(id.len(), 36);
    let groups: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12]);
    assert_eq!(id.as_bytes()[14], b'4', "version 4: {id}");
}

/// ilo-idrac.md 1.3 [C]: iLO ids are the user name, 16 hex digits of the login time in
/// Unix seconds and 8 random hex digits (`demopaq000000005b6da206f020c3c9`).
#[test]
fn ilo_ids_carry_user_and_login_time() {
    let store = store_with(Policy { id_format: IdFormat::UserUnixHexRandom, ..policy() });
    let now = t(90);
    let id = login(&store, now).id;
    let prefix = format!("admin{:016x}", now.utc.timestamp());
    assert!(id.starts_with(&prefix), "{id}");
    let tail = &id[prefix.len()..];
    assert_eq!(tail.len(), 8);
    assert!(tail.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
}

/// Engine rule: `hex16` ids are 16 lower-case hex digits; `token` ids are the token.
#[test]
fn hex16_and_token_ids() {
    let store = store_with(Policy { id_format: IdFormat::Hex16, ..policy() });
    let id = login(&store, t(0)).id;
    assert_eq!(id.len(), 16);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let store = store_with(Policy { id_format: IdFormat::Token, ..policy() });
    let s = login(&store, t(0));
    assert_eq!(s.id, s.token.as_str());
}

/// ilo-idrac.md (32 lower hex), bigip-solace.md 1.1 (26 of `[A-Z2-7]`), part 2 (Solace, 43
/// URL-safe characters): the policy's token format is what the store hands out.
#[test]
fn token_format_follows_the_policy() {
    let token = |format: TokenFormat| {
        let store = store_with(Policy { token_format: format, ..policy() });
        login(&store, t(0)).token.as_str().to_string()
    };
    let hex = token(TokenFormat::Hex32);
    assert!(
        hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let b32 = token(TokenFormat::Base32Upper26);
    assert!(
        b32.len() == 26
            && b32.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
    );
    let url = token(TokenFormat::UrlSafe43);
    assert!(
        url.len() == 43 && url.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let uuid = token(TokenFormat::Uuid);
    assert_eq!(uuid.len(), 36);
}

/// Engine rule: tokens and passwords never show in `Debug` output, so they cannot leak
/// into logs.
#[test]
fn debug_output_hides_secrets() {
    let store = store();
    let s = login(&store, t(0));
    let shown = format!("{s:?}");
    assert!(!shown.contains(s.token.as_str()), "{shown}");
    let req = request("admin", "hunter2", "redfish");
    assert!(!format!("{req:?}").contains("hunter2"));
    let account = Account::new("admin", "hunter2", "Administrator");
    assert!(!format!("{account:?}").contains("hunter2"));
}

// ----- names and policy checks -----

/// Engine rule: every end reason round-trips through its kebab-case name (JSON, filters).
#[test]
fn end_reasons_round_trip_through_their_names() {
    for reason in EndReason::ALL {
        assert_eq!(reason.as_str().parse::<EndReason>(), Ok(reason));
        assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
    }
    assert!("sleep".parse::<EndReason>().is_err());
}

/// Engine rule: a policy with a pool defined twice, an empty pool or a counter starting at
/// 0 is reported to the profile author.
#[test]
fn policy_problems_are_reported() {
    assert!(Policy::default().problems().is_empty());
    let pool = |name: &str, types: &[&str]| Pool {
        name: name.into(),
        types: types.iter().map(|t| t.to_string()).collect(),
        limit: 1,
    };
    let bad = Policy {
        pools: vec![pool("web", &["gui"]), pool("web", &[])],
        id_format: IdFormat::Counter,
        id_counter_start: 0,
        ..Policy::default()
    };
    assert_eq!(
        bad.problems(),
        vec![
            "pool \"web\" is defined twice".to_string(),
            "pool \"web\" names no session types".to_string(),
            "id_counter_start must be 1 or more".to_string(),
        ]
    );
}

/// `end_request` ends only one-request sessions: a token session named by mistake stays open.
#[test]
fn end_request_leaves_ordinary_sessions_alone() {
    let store = store();
    let s = login(&store, t(0));
    store.end_request(&s.id, t(1));
    assert_eq!(open_ids(&store, t(1)), vec![s.id]);
}

/// A failed Basic-auth request is logged as a one-request attempt.
#[test]
fn failed_one_request_login_is_logged_as_one_request() {
    let store = store();
    assert_eq!(
        store.begin_request(&request("admin", "wrong", "redfish"), t(0)),
        Err(LoginError::BadCredentials)
    );
    let failed: Vec<_> =
        store.events(t(0)).into_iter().filter(|e| e.kind == EventKind::LoginFailed).collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].one_request);
}

/// A disabled account gets no session, even through `open_for`.
#[test]
fn open_for_refuses_disabled_accounts() {
    let store = store();
    store
        .update_account(
            "operator",
            &AccountUpdate { enabled: Some(false), ..AccountUpdate::default() },
        )
        .unwrap();
    assert_eq!(
        store.open_for("operator", "ssh", ClientInfo::default(), t(0)),
        Err(LoginError::BadCredentials)
    );
}

/// bigip-solace.md 2.3: `serviceSempSessionMaxLifetime` is changeable; new sessions always
/// take the new lifetime, open ones only when `timeout_change_applies_to_existing` is set,
/// and those the change puts past their end end at once with reason `max-lifetime`.
#[test]
fn set_max_lifetime_applies_to_new_sessions_and_to_open_ones_by_policy() {
    let keep = store_with(Policy { idle_timeout_secs: 0, max_lifetime_secs: 600, ..policy() });
    let old = login(&keep, t(0));
    keep.set_max_lifetime(60, t(100));
    assert_eq!(keep.policy().max_lifetime_secs, 60);
    let new = login(&keep, t(100));
    assert_eq!(new.max_lifetime, Some(secs(60)));
    assert_eq!(open_ids(&keep, t(200)), vec![old.id.clone()]);

    let apply = store_with(Policy {
        idle_timeout_secs: 0,
        max_lifetime_secs: 600,
        timeout_change_applies_to_existing: true,
        ..policy()
    });
    let a = login(&apply, t(0));
    let b = login(&apply, t(90));
    apply.set_max_lifetime(100, t(120));
    assert_eq!(open_ids(&apply, t(120)), vec![b.id.clone()]);
    assert_eq!(endings(&apply, t(120)), vec![(a.id, EndReason::MaxLifetime, t(120))]);
    assert_eq!(open_ids(&apply, t(191)), Vec::<String>::new());
}

/// BIG-IP: only REST tokens count against a user's 100; sessions of other types neither
/// count nor are refused (bigip-solace.md 1.4 "Each user can request up to 100 tokens").
#[test]
fn per_user_limit_counts_only_its_session_types() {
    let store = store_with(Policy {
        max_per_user: Some(1),
        per_user_types: vec!["rest-token".into()],
        ..policy()
    });
    login_as(&store, "operator", "soap", t(0)).expect("soap is not per-user");
    login_as(&store, "operator", "rest-token", t(0)).expect("first token");
    login_as(&store, "operator", "soap", t(0)).expect("soap still not per-user");
    assert_eq!(
        login_as(&store, "operator", "rest-token", t(0)),
        Err(LoginError::LimitReached { scope: LimitScope::User("operator".into()), limit: 1 })
    );
}

/// BIG-IP: REST tokens expire a fixed time after creation while SOAP sessions slide
/// (bigip-solace.md 1.2 "Absolute, not idle"; SOAP-SEED set_session_timeout "has not
/// processed a request").
#[test]
fn sliding_can_differ_by_session_type() {
    let store = store_with(Policy {
        sliding_by_type: BTreeMap::from([("rest-token".to_string(), false)]),
        ..policy()
    });
    let token = login_as(&store, "admin", "rest-token", t(0)).unwrap();
    let soap = login_as(&store, "admin", "soap", t(0)).unwrap();
    assert!(!token.sliding && soap.sliding);
    store.authenticate(token.token.as_str(), t(50)).unwrap();
    store.authenticate(soap.token.as_str(), t(50)).unwrap();
    assert_eq!(
        store.authenticate(token.token.as_str(), t(61)),
        Err(AuthError::Ended(EndReason::MaxLifetime))
    );
    assert!(store.authenticate(soap.token.as_str(), t(61)).is_ok());
}

/// BIG-IP 17.1.2.x (bug ID1787517, bigip-solace.md 1.4): deleted or expired tokens keep
/// counting against the user's limit until restjavad restarts; a restart forgets them.
#[test]
fn ghost_types_keep_ended_sessions_counting_until_cleared() {
    let store = store_with(Policy {
        max_per_user: Some(2),
        per_user_types: vec!["rest-token".into()],
        ghost_types: vec!["rest-token".into()],
        ..policy()
    });
    let a = login_as(&store, "operator", "rest-token", t(0)).unwrap();
    login_as(&store, "operator", "rest-token", t(0)).unwrap();
    store.end(&a.id, EndReason::Logout, t(1)).unwrap();
    // The second one idles out at 60 s.
    assert_eq!(store.counts(t(70)).total, 0);
    assert_eq!(store.ghost_count("operator", t(70)), 2);
    assert!(matches!(
        login_as(&store, "operator", "rest-token", t(70)),
        Err(LoginError::LimitReached { scope: LimitScope::User(_), .. })
    ));
    login_as(&store, "admin", "rest-token", t(70)).expect("ghosts are per user");
    assert_eq!(store.clear_ghosts(t(71)), 2);
    login_as(&store, "operator", "rest-token", t(71)).expect("freed after clearing");
    store.restart(t(72));
    assert_eq!(store.ghost_count("operator", t(72)), 0, "a restart leaves no ghosts");
}

/// Each authenticated request is counted on its session, for the hygiene report
/// ("requests made with it"); a peek is not a request.
#[test]
fn authenticated_requests_are_counted() {
    let store = store();
    let s = login(&store, t(0));
    assert_eq!(s.requests, 0);
    store.authenticate(s.token.as_str(), t(1)).unwrap();
    store.authenticate(s.token.as_str(), t(2)).unwrap();
    store.peek(s.token.as_str(), t(3)).unwrap();
    assert_eq!(store.get(&s.id, t(3)).unwrap().requests, 2);
}

// ----- running totals and limit usage (issue 16) -----

/// The counters count every login accepted, every refusal by reason and every ending by
/// reason, and stay exact while the bounded event log drops its oldest entries.
#[test]
fn counters_stay_exact_when_the_event_log_drops() {
    use emulator::session::{EventBudget, RefusalReason};
    let store = store_with(Policy {
        max_total: Some(3),
        pools: vec![Pool { name: "ssh".into(), types: vec!["ssh".into()], limit: 1 }],
        max_per_user: Some(2),
        ..policy()
    });
    // A budget of a few events: the log must drop most of what follows.
    store.share_event_budget(EventBudget::new(2_000, 1));
    let mut now = t(0);
    for round in 0..50u64 {
        now = t(round * 1_000);
        let a = login_as(&store, "admin", "redfish", now).unwrap();
        login_as(&store, "operator", "ssh", now).unwrap();
        assert!(matches!(
            login_as(&store, "root", "ssh", now),
            Err(LoginError::LimitReached { scope: LimitScope::Pool(_), .. })
        ));
        login_as(&store, "admin", "redfish", now).unwrap();
        assert!(matches!(
            login_as(&store, "root", "redfish", now),
            Err(LoginError::LimitReached { scope: LimitScope::Total, .. })
        ));
        assert!(store.login(&request("admin", "wrong", "redfish"), now).is_err());
        store.end(&a.id, EndReason::Logout, now).unwrap();
        // The rest idle out before the next round.
    }
    store.sweep(t(60_000));
    assert!(store.events_dropped() > 0, "the log dropped events");
    let c = store.counters(now);
    assert_eq!(c.accepted.get("redfish"), Some(&100));
    assert_eq!(c.accepted.get("ssh"), Some(&50));
    assert_eq!(c.refused.get(&("ssh".to_string(), RefusalReason::PoolLimit)), Some(&50));
    assert_eq!(c.refused.get(&("redfish".to_string(), RefusalReason::TotalLimit)), Some(&50));
    assert_eq!(c.refused.get(&("redfish".to_string(), RefusalReason::BadCredentials)), Some(&50));
    assert_eq!(c.ended.get(&("redfish".to_string(), "logout")), Some(&50));
    assert_eq!(c.ended.get(&("redfish".to_string(), "idle-timeout")), Some(&50));
    assert_eq!(c.ended.get(&("ssh".to_string(), "idle-timeout")), Some(&50));
    // A reset starts them again.
    store.reset(policy(), accounts(), IdGenerator::seeded(7, 1));
    assert_eq!(store.counters(now), Default::default());
}

/// Usage reports each limit as the login check counts it: pools, the total, and users.
#[test]
fn usage_reports_every_limit_as_logins_are_checked() {
    let store = store_with(Policy {
        max_total: Some(4),
        pools: vec![Pool {
            name: "web".into(),
            types: vec!["redfish".into(), "gui".into()],
            limit: 3,
        }],
        max_per_user: Some(2),
        per_user_exempt: vec!["root".into()],
        ..policy()
    });
    login_as(&store, "admin", "redfish", t(0)).unwrap();
    login_as(&store, "operator", "gui", t(0)).unwrap();
    login_as(&store, "root", "ssh", t(0)).unwrap();
    let usage = store.usage(t(1));
    let find = |scope: LimitScope| usage.iter().find(|u| u.scope == scope).unwrap().clone();
    let web = find(LimitScope::Pool("web".into()));
    assert_eq!((web.used, web.limit), (2, 3));
    assert_eq!(web.types, vec!["redfish".to_string(), "gui".to_string()]);
    let total = find(LimitScope::Total);
    assert_eq!((total.used, total.limit), (3, 4));
    assert_eq!(find(LimitScope::User("admin".into())).used, 1);
    assert!(usage.iter().all(|u| u.scope != LimitScope::User("root".into())), "exempt");
    // Expired sessions never count, and a user who holds none is not listed.
    assert!(store.usage(t(61)).iter().all(|u| u.used == 0));
    assert!(store.usage(t(61)).iter().all(|u| !matches!(u.scope, LimitScope::User(_))));
    assert_eq!(store_with(policy()).usage(t(0)), Vec::new(), "no limits, nothing to show");
    assert_eq!(store.policy().limit_for("gui"), Some(3));
    assert_eq!(store.policy().limit_for("ssh"), Some(4));
    assert_eq!(policy().limit_for("ssh"), None);
}

// ----- reads made in the same step -----

/// Engine rule: a request's authentication reads the account as it is now (a role
/// changed after login applies at once), in the same step that touches the session.
#[test]
fn authenticate_with_reads_the_account_as_it_is_now() {
    let store = store();
    let s = login(&store, t(0));
    let update = AccountUpdate { role: Some("ReadOnly".to_string()), ..AccountUpdate::default() };
    store.update_account("admin", &update).unwrap();
    let role = |_: &Session, a: Option<&Account>| a.map(|a| a.role.clone());
    let (session, now_role) = store.authenticate_with(s.token.as_str(), t(30), role).unwrap();
    assert_eq!(now_role.as_deref(), Some("ReadOnly"));
    assert_eq!(session.requests, 1, "the read is a use of the session");
    // The idle timer restarted at 30: alive at 89, as with `authenticate`.
    assert!(store.peek(s.token.as_str(), t(89)).is_ok());
    store.delete_account("admin", t(40)).unwrap();
    let gone = store.authenticate_with(s.token.as_str(), t(41), role);
    assert!(matches!(gone, Err(AuthError::Ended(EndReason::UserDeleted))), "{gone:?}");
}

/// Engine rule: a one-request session's account is read in the step that opens it.
#[test]
fn begin_request_with_reads_the_account() {
    let store = store();
    let role = |s: &Session, a: Option<&Account>| (s.one_request, a.map(|a| a.user.clone()));
    let (session, read) =
        store.begin_request_with(&request("root", "root-pw", "redfish"), t(0), role).unwrap();
    assert_eq!(read, (true, Some("root".to_string())));
    store.end_request(&session.id, t(0));
    assert_eq!(store.counts(t(0)).total, 0);
}

/// Engine rule: the rules that per-request answers read without the table's lock change
/// with every call that changes them, reset included.
#[test]
fn policy_reads_follow_every_change() {
    let store = store();
    let idle = |s: &SessionStore| s.with_policy(|p| p.idle_timeout_secs);
    assert_eq!(idle(&store), 60);
    store.set_idle_timeout(None, 120, t(0));
    assert_eq!(idle(&store), 120);
    store.set_idle_timeout(Some("web"), 5, t(0));
    assert_eq!(store.with_policy(|p| p.idle_timeout_by_type.get("web").copied()), Some(5));
    store.set_max_lifetime(900, t(0));
    assert_eq!(store.with_policy(|p| p.max_lifetime_secs), 900);
    store.update_policy(t(0), |p| p.max_total = Some(3));
    assert_eq!(store.policy().max_total, Some(3));
    store.set_policy(Policy { idle_timeout_secs: 7, ..Policy::default() }, t(0));
    assert_eq!(idle(&store), 7);
    store.reset(policy(), accounts(), IdGenerator::seeded(1, 1));
    assert_eq!(idle(&store), 60);
    assert_eq!(store.policy().max_total, None);
}

/// Engine rule: a login reads its account in the step that opens the session.
#[test]
fn login_reading_reads_the_account_of_the_new_session() {
    let store = store();
    let update = AccountUpdate { password_change_required: Some(true), ..AccountUpdate::default() };
    store.update_account("operator", &update).unwrap();
    let flag = |_: &Session, a: Option<&Account>| a.map(|a| a.password_change_required);
    let (session, read) =
        store.login_reading(&request("operator", "operator-pw", "redfish"), t(0), flag).unwrap();
    assert_eq!((session.user.as_str(), read), ("operator", Some(true)));
    let refused = store.login_reading(&request("operator", "nope", "redfish"), t(0), flag);
    assert_eq!(refused.err(), Some(LoginError::BadCredentials));
}
