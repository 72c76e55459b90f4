//! Concurrency: the limit check and the insert are one step, so a burst of logins from
//! many threads can never overfill the table; a session's attributes are set in the step
//! that opens it, and read-then-write changes are one step too.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::Duration;

use emulator::clock::Now;
use emulator::session::{
    Account, ClientInfo, EndReason, EventKind, IdGenerator, LimitScope, LoginError, LoginRequest,
    Policy, SessionSetup, SessionStore, UpdateError,
};

const THREADS: usize = 200;
const MAX_TOTAL: usize = 16;

/// seed 000 (a table filled by clients that forget to log out) and seed 001 ("subsequent
/// attempts to create a new user sessions are rejected"): 200 threads logging in at once
/// against `max_total = 16` yield exactly 16 sessions and 184 `LimitReached` refusals.
#[test]
fn concurrent_logins_never_overfill_the_table() {
    let policy = Policy { max_total: Some(MAX_TOTAL), idle_timeout_secs: 60, ..Policy::default() };
    let store = SessionStore::new(
        policy,
        [Account::new("admin", "admin-pw", "Administrator")],
        IdGenerator::seeded(1, 1),
    );
    let now = Now::at_secs(0);
    let start = Barrier::new(THREADS);

    let results: Vec<Result<_, LoginError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let (store, start) = (&store, &start);
                scope.spawn(move || {
                    let client = ClientInfo {
                        addr: Some(format!("192.0.2.{i}")),
                        user_agent: None,
                        process: None,
                    };
                    let req = LoginRequest {
                        user: "admin",
                        password: "admin-pw",
                        session_type: "redfish",
                        client,
                    };
                    start.wait();
                    store.login(&req, now)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("login thread panicked")).collect()
    });

    let opened: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let refused = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Err(LoginError::LimitReached { scope: LimitScope::Total, limit: MAX_TOTAL })
            )
        })
        .count();
    assert_eq!(opened.len(), MAX_TOTAL);
    assert_eq!(refused, THREADS - MAX_TOTAL);

    let listed = store.list(now);
    assert_eq!(listed.len(), MAX_TOTAL);
    let mut ids: Vec<_> = opened.iter().map(|s| s.id.clone()).collect();
    ids.sort();
    let mut listed_ids: Vec<_> = listed.iter().map(|s| s.id.clone()).collect();
    listed_ids.sort();
    assert_eq!(ids, listed_ids);
    let mut tokens: Vec<_> = opened.iter().map(|s| s.token.as_str()).collect();
    tokens.sort_unstable();
    tokens.dedup();
    assert_eq!(tokens.len(), MAX_TOTAL, "tokens are unique");

    let events = store.events(now);
    let created = events.iter().filter(|e| e.kind == EventKind::Created).count();
    let refusals =
        events.iter().filter(|e| e.kind == EventKind::Refused { limit: LimitScope::Total }).count();
    assert_eq!((created, refusals), (MAX_TOTAL, THREADS - MAX_TOTAL));
}

fn store_with(policy: Policy) -> SessionStore {
    SessionStore::new(
        policy,
        [Account::new("admin", "admin-pw", "Administrator")],
        IdGenerator::seeded(1, 1),
    )
}

fn admin_login() -> LoginRequest<'static> {
    LoginRequest {
        user: "admin",
        password: "admin-pw",
        session_type: "rest-token",
        client: ClientInfo::default(),
    }
}

/// Issue 13 item 1 (a BIG-IP login racing a delete-all of the user's tokens answered
/// 500): a session opened with attributes and a timeout is never seen without them, by a
/// listing thread, while a third thread deletes every session.
#[test]
fn a_session_opened_with_a_setup_is_never_seen_half_made() {
    const LOGINS: usize = 3_000;
    let store = store_with(Policy { idle_timeout_secs: 60, ..Policy::default() });
    let now = Now::at_secs(0);
    let done = AtomicBool::new(false);
    let setup = SessionSetup::new()
        .attr("provider", "tmos")
        .idle_timeout(Some(Duration::from_secs(600)), false);
    let (half_made, opened) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut half_made = 0;
            while !done.load(Ordering::Relaxed) {
                half_made += store
                    .list(now)
                    .iter()
                    .filter(|s| {
                        s.attrs.get("provider").map(String::as_str) != Some("tmos")
                            || s.idle_timeout != Some(Duration::from_secs(600))
                    })
                    .count();
            }
            half_made
        });
        let deleter = scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                store.end_all(EndReason::AdminDelete, now);
            }
        });
        let mut opened = 0;
        for _ in 0..LOGINS {
            let session = store.login_with(&admin_login(), &setup, now).expect("no limit");
            assert_eq!(session.attrs.get("provider").map(String::as_str), Some("tmos"));
            opened += 1;
        }
        done.store(true, Ordering::Relaxed);
        deleter.join().expect("deleter panicked");
        (watcher.join().expect("watcher panicked"), opened)
    });
    assert_eq!((half_made, opened), (0, LOGINS));
}

/// SOAP-SEED System.Session (a user's requests without a session id share one default
/// session): 50 threads asking at once for the default session open exactly one.
#[test]
fn concurrent_first_uses_open_one_default_session() {
    let store = store_with(Policy { idle_timeout_secs: 60, ..Policy::default() });
    let now = Now::at_secs(0);
    let start = Barrier::new(50);
    let setup = SessionSetup::new().attr("default", "1");
    let ids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    let is_default =
                        |s: &emulator::session::Session| s.attrs.contains_key("default");
                    let client = ClientInfo::default();
                    store.use_or_open_for("admin", "soap", is_default, client, &setup, now)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread").expect("opened").id).collect()
    });
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let listed = store.list(now);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].requests, 49, "every later use renewed it");
}

/// F5-TOKMGMT (`generation` goes up by one on each PATCH): read-and-raise through
/// `update_session` loses no update when 8 threads raise the same counter at once.
#[test]
fn concurrent_session_updates_lose_nothing() {
    const THREADS: usize = 8;
    const EACH: usize = 500;
    let store = store_with(Policy::default());
    let now = Now::at_secs(0);
    let id = store.login(&admin_login(), now).expect("login").id;
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..EACH {
                    store
                        .update_session(&id, now, |s| {
                            let n: usize = s.attrs.get("n").map_or(0, |v| v.parse().unwrap_or(0));
                            Ok::<_, ()>(SessionSetup::new().attr("n", (n + 1).to_string()))
                        })
                        .expect("open session");
                }
            });
        }
    });
    let n = store.get(&id, now).expect("open").attrs["n"].clone();
    assert_eq!(n, (THREADS * EACH).to_string());
}

/// SOAP-SEED `set_session_timeout` and `set_maximum_sessions` change different knobs:
/// changed at once from two threads through `update_policy`, both changes stay.
#[test]
fn concurrent_policy_changes_keep_both() {
    const EACH: u64 = 2_000;
    let store = store_with(Policy::default());
    let now = Now::at_secs(0);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for i in 1..=EACH {
                store.update_policy(now, |p| p.max_total = Some(i as usize));
            }
        });
        scope.spawn(|| {
            for i in 1..=EACH {
                store.set_idle_timeout(Some("soap"), i, now);
            }
        });
    });
    let policy = store.policy();
    assert_eq!(policy.max_total, Some(EACH as usize));
    assert_eq!(policy.idle_timeout_by_type.get("soap"), Some(&EACH));
}

/// Engine rule: an update that the caller's check refuses changes nothing and says so;
/// one on an ended session is `NoSuchSession`.
#[test]
fn refused_and_missing_updates_change_nothing() {
    let store = store_with(Policy::default());
    let now = Now::at_secs(0);
    let setup = SessionSetup::new().attr("tx", "open");
    let id = store.login_with(&admin_login(), &setup, now).expect("login").id;
    let start_tx = |s: &emulator::session::Session| {
        if s.attrs.contains_key("tx") {
            Err("already open")
        } else {
            Ok(SessionSetup::new().attr("tx", "open"))
        }
    };
    assert_eq!(store.update_session(&id, now, start_tx), Err(UpdateError::Refused("already open")));
    store.end(&id, EndReason::Logout, now).expect("open");
    assert!(matches!(store.update_session(&id, now, start_tx), Err(UpdateError::NoSuchSession(_))));
}
