//! Concurrency: the limit check and the insert are one step, so a burst of logins from
//! many threads can never overfill the table.

use std::sync::Barrier;

use emulator::clock::Now;
use emulator::session::{
    Account, ClientInfo, EventKind, IdGenerator, LimitScope, LoginError, LoginRequest, Policy,
    SessionStore,
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
