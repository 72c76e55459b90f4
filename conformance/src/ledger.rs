//! The ledger: what the harness must undo on a device, and the stop signal that ends a
//! run early without losing any of it.
//!
//! Rules it keeps (issue 13, item 8):
//! - intent is recorded before the harness acts: an account before it is created, a
//!   login before it is sent. A step cut short after the device acted but before its
//!   answer was read leaves a pending entry, never nothing;
//! - an entry leaves the ledger only once the device has undone it (or refused to), so
//!   a cleanup cut short still knows what is left and can say so;
//! - sessions are told apart by URI, id and token together, never by the token alone:
//!   some servers (DMTF's Redfish mockup server) hand every login the same token.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::driver::{user_agent, Driver, DriverError, LogoutOutcome, SessionHandle};
use crate::scenario::format_secs;
use crate::target::Target;

/// What the runner must undo on the device: open sessions, logins whose answer never
/// came, created accounts, the original idle timeout. Shared with the code that handles
/// an interrupt, so Ctrl-C cleans up too.
#[derive(Debug, Default)]
pub struct Ledger {
    state: Mutex<LedgerState>,
}

#[derive(Debug, Default)]
struct LedgerState {
    sessions: Vec<SessionHandle>,
    /// Logins sent (or about to be) whose answer has not been read: by intent number,
    /// the user logging in.
    pending_logins: BTreeMap<u64, String>,
    next_intent: u64,
    users: Vec<Account>,
    idle_timeout: Option<Duration>,
}

#[derive(Debug)]
struct Account {
    name: String,
    /// The device said it created it; until then the creation may or may not have
    /// happened.
    confirmed: bool,
}

/// A login recorded before it is sent; settle it with [`Ledger::opened`] or
/// [`Ledger::settled`] once the answer is read.
#[derive(Debug)]
#[must_use = "a login intent stays pending until it is settled"]
pub struct LoginIntent(u64);

/// Whether two handles name the same session: same URI, id and token. A shared token
/// (the mockup server's) or a shared URI (BIG-IP's SOAP portal) alone is not enough.
pub fn same_session(a: &SessionHandle, b: &SessionHandle) -> bool {
    a.uri == b.uri && a.id == b.id && a.token == b.token
}

impl Ledger {
    fn lock(&self) -> MutexGuard<'_, LedgerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a login about to be sent for `user`.
    pub fn intend_login(&self, user: &str) -> LoginIntent {
        let mut state = self.lock();
        state.next_intent += 1;
        let n = state.next_intent;
        state.pending_logins.insert(n, user.to_string());
        LoginIntent(n)
    }

    /// The login opened `session`: it is now to be logged out.
    pub fn opened(&self, intent: LoginIntent, session: &SessionHandle) {
        let mut state = self.lock();
        state.pending_logins.remove(&intent.0);
        if !state.sessions.iter().any(|h| same_session(h, session)) {
            state.sessions.push(session.clone());
        }
    }

    /// The login's answer was read and opened no session.
    pub fn settled(&self, intent: LoginIntent) {
        self.lock().pending_logins.remove(&intent.0);
    }

    /// Settles a login from the driver's result: an answer (whatever it said) settles
    /// it; no answer (a transport error) leaves it pending, since the device may have
    /// opened a session before the connection failed.
    pub fn settle_unless_lost<T>(&self, intent: LoginIntent, result: &Result<T, DriverError>) {
        match result {
            Err(DriverError::Transport(_)) => {}
            _ => self.settled(intent),
        }
    }

    /// Records a session that came from elsewhere (a raw request that logged in).
    pub fn add_session(&self, session: &SessionHandle) {
        let mut state = self.lock();
        if !state.sessions.iter().any(|h| same_session(h, session)) {
            state.sessions.push(session.clone());
        }
    }

    /// The session ended (logged out, rejected, deleted): nothing to undo.
    pub fn remove_session(&self, session: &SessionHandle) {
        self.lock().sessions.retain(|h| !same_session(h, session));
    }

    /// Records an account about to be created.
    pub fn intend_user(&self, user: &str) {
        let mut state = self.lock();
        if !state.users.iter().any(|u| u.name == user) {
            state.users.push(Account { name: user.to_string(), confirmed: false });
        }
    }

    /// The device created the account.
    pub fn user_created(&self, user: &str) {
        let mut state = self.lock();
        match state.users.iter_mut().find(|u| u.name == user) {
            Some(u) => u.confirmed = true,
            None => state.users.push(Account { name: user.to_string(), confirmed: true }),
        }
    }

    /// The account is gone (deleted, or its creation was refused).
    pub fn remove_user(&self, user: &str) {
        self.lock().users.retain(|u| u.name != user);
    }

    /// Remembers the idle timeout to restore; only the first (original) value counts.
    /// Called before the timeout is changed.
    pub fn note_idle_timeout(&self, original: Duration) {
        let mut state = self.lock();
        if state.idle_timeout.is_none() {
            state.idle_timeout = Some(original);
        }
    }

    /// How many sessions it would log out.
    pub fn open_sessions(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Logins whose answer never came: they may have left sessions the ledger cannot
    /// name.
    pub fn lost_logins(&self) -> usize {
        self.lock().pending_logins.len()
    }

    /// Forgets the logins whose answer never came, once a sweep has ended whatever they
    /// opened.
    pub fn forget_lost_logins(&self) {
        self.lock().pending_logins.clear();
    }

    /// Whether nothing is left to undo.
    pub fn is_empty(&self) -> bool {
        let state = self.lock();
        state.sessions.is_empty()
            && state.pending_logins.is_empty()
            && state.users.is_empty()
            && state.idle_timeout.is_none()
    }

    /// What is left to undo, in words (`""` when nothing): for a cleanup that was cut
    /// short. Names session ids and accounts; never tokens or passwords.
    pub fn describe(&self) -> String {
        let state = self.lock();
        let mut parts = Vec::new();
        if !state.sessions.is_empty() {
            let ids: Vec<String> =
                state.sessions.iter().map(|s| format!("{} ({})", s.id, s.user)).collect();
            parts.push(format!("{} open session(s): {}", ids.len(), ids.join(", ")));
        }
        if !state.pending_logins.is_empty() {
            let users: Vec<&str> = state.pending_logins.values().map(String::as_str).collect();
            parts.push(format!(
                "{} login(s) whose answer never came, which may have opened sessions (users: {})",
                users.len(),
                users.join(", ")
            ));
        }
        if !state.users.is_empty() {
            let names: Vec<String> = state.users.iter().map(|u| format!("{:?}", u.name)).collect();
            parts.push(format!("account(s) {}", names.join(", ")));
        }
        if let Some(d) = state.idle_timeout {
            parts.push(format!("the idle timeout (to restore to {})", format_secs(d.as_secs())));
        }
        parts.join("; ")
    }

    /// Undoes everything recorded: logs sessions out, deletes accounts, restores the
    /// idle timeout. Each entry leaves the ledger only after its undo was tried, so if
    /// this is cut short, [`Ledger::describe`] says what is left. Returns what could not
    /// be undone. Logins whose answer never came stay recorded (see
    /// [`Ledger::lost_logins`]): only a sweep of the device's sessions can find them.
    pub async fn clean(&self, driver: &dyn Driver) -> Vec<String> {
        let mut problems = Vec::new();
        loop {
            let next = self.lock().sessions.first().cloned();
            let Some(s) = next else { break };
            match driver.logout(&s).await {
                Ok(a) => match a.value {
                    LogoutOutcome::LoggedOut | LogoutOutcome::AlreadyInvalid => {}
                    LogoutOutcome::Other(why) => problems.push(format!(
                        "cleanup: could not log out session {} ({why}): {}",
                        s.id,
                        a.exchange.summary()
                    )),
                },
                Err(e) => {
                    problems.push(format!("cleanup: could not log out session {}: {e}", s.id))
                }
            }
            self.remove_session(&s);
        }
        loop {
            let next = self.lock().users.first().map(|u| (u.name.clone(), u.confirmed));
            let Some((user, confirmed)) = next else { break };
            if let Err(e) = driver.delete_user(&user).await {
                if confirmed {
                    problems.push(format!("cleanup: could not delete account {user:?}: {e}"));
                } else {
                    // Its creation was cut short: the device may never have made it.
                    tracing::debug!(user = %user, error = %e, "cleanup: account to delete not found");
                }
            }
            self.remove_user(&user);
        }
        let idle = self.lock().idle_timeout;
        if let Some(original) = idle {
            if let Err(e) = driver.set_idle_timeout(original).await {
                problems.push(format!(
                    "cleanup: could not restore the idle timeout to {}: {e}",
                    format_secs(original.as_secs())
                ));
            }
            self.lock().idle_timeout = None;
        }
        problems
    }
}

/// Ends the sessions on the target's device that carry this run's own User-Agent
/// ([`crate::driver::user_agent`]), through the emulator's control API: what a login
/// cut short left behind, which the ledger cannot name. Returns warnings: one naming
/// what it found (the ledger had lost track of it), or why it could not look. Without
/// a control API there is nothing to sweep with (no vendor's session list shows the
/// User-Agent), and logins whose answer never came are reported as possibly open.
pub async fn sweep(target: &Target, ledger: &Ledger) -> Vec<String> {
    let Some((control, device)) = &target.control else {
        let lost = ledger.lost_logins();
        if lost == 0 {
            return Vec::new();
        }
        ledger.forget_lost_logins();
        return vec![format!(
            "cleanup: {lost} login(s) got no answer; each may have left a session open on the \
             device, which the harness cannot see without a control API"
        )];
    };
    let ours = user_agent();
    let listed = match control.sessions(device).await {
        Ok(l) => l,
        Err(e) => return vec![format!("cleanup: could not list the device's sessions: {e}")],
    };
    let mut ended = Vec::new();
    let mut problems = Vec::new();
    for s in listed.iter().filter(|s| s.user_agent.as_deref() == Some(ours)) {
        match control.admin_delete(device, &s.id).await {
            Ok(()) => ended.push(s.id.clone()),
            Err(e) => problems.push(format!("cleanup: could not end session {}: {e}", s.id)),
        }
    }
    ledger.forget_lost_logins();
    if !ended.is_empty() {
        problems.insert(
            0,
            format!(
                "cleanup: ended {} session(s) the harness had opened but lost track of: {}",
                ended.len(),
                ended.join(", ")
            ),
        );
    }
    problems
}

/// A request to stop a run early, shared by the runner and whatever watches for Ctrl-C.
/// Steps check it between requests; waits end when it is raised. A request in flight is
/// never dropped because of it, so its answer reaches the ledger.
#[derive(Clone, Debug)]
pub struct Stop {
    rx: tokio::sync::watch::Receiver<bool>,
}

/// Raises a [`Stop`].
#[derive(Debug)]
pub struct StopSwitch {
    tx: tokio::sync::watch::Sender<bool>,
}

impl Stop {
    /// A switch and the signal it raises.
    pub fn new() -> (StopSwitch, Stop) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (StopSwitch { tx }, Stop { rx })
    }

    /// A signal that is never raised.
    pub fn never() -> Stop {
        let (switch, stop) = Stop::new();
        // The receiver keeps the value; a dropped sender only means no change comes.
        drop(switch);
        stop
    }

    /// Whether a stop was asked for.
    pub fn is_raised(&self) -> bool {
        *self.rx.borrow()
    }

    /// Completes once a stop is asked for (never, if it never is).
    pub async fn raised(&self) {
        let mut rx = self.rx.clone();
        if rx.wait_for(|v| *v).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl StopSwitch {
    /// Asks the run to stop.
    pub fn raise(&self) {
        self.tx.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle(id: &str, uri: &str, token: &str) -> SessionHandle {
        SessionHandle {
            id: id.to_string(),
            uri: uri.to_string(),
            user: "admin".to_string(),
            token: token.to_string(),
        }
    }

    /// Two sessions sharing a token are two entries; ending one keeps the other.
    #[test]
    fn shared_tokens_are_two_sessions() {
        let ledger = Ledger::default();
        let a = handle("1", "/s/1", "same");
        let b = handle("2", "/s/2", "same");
        ledger.add_session(&a);
        ledger.add_session(&b);
        ledger.remove_session(&a);
        assert_eq!(ledger.open_sessions(), 1);
        assert!(ledger.describe().contains("2 (admin)"), "{}", ledger.describe());
    }

    /// Two sessions sharing a URI (BIG-IP's SOAP portal) are told apart by token.
    #[test]
    fn shared_uris_are_two_sessions() {
        let ledger = Ledger::default();
        ledger.add_session(&handle("x", "/iControl/iControlPortal.cgi", "x"));
        ledger.add_session(&handle("y", "/iControl/iControlPortal.cgi", "y"));
        ledger.remove_session(&handle("x", "/iControl/iControlPortal.cgi", "x"));
        assert_eq!(ledger.open_sessions(), 1);
    }

    /// A login whose answer never came stays recorded and is described, without tokens.
    #[test]
    fn unanswered_login_stays_pending() {
        let ledger = Ledger::default();
        let answered = ledger.intend_login("admin");
        let _lost = ledger.intend_login("slx");
        ledger.opened(answered, &handle("7", "/s/7", "secret-token"));
        assert_eq!(ledger.lost_logins(), 1);
        let text = ledger.describe();
        assert!(text.contains("users: slx") && text.contains("7 (admin)"), "{text}");
        assert!(!text.contains("secret-token"), "{text}");
        assert!(!ledger.is_empty());
    }

    /// An account is recorded before it is created and leaves only when removed.
    #[test]
    fn accounts_are_recorded_before_creation() {
        let ledger = Ledger::default();
        ledger.intend_user("slx");
        assert!(ledger.describe().contains("\"slx\""));
        ledger.user_created("slx");
        ledger.remove_user("slx");
        assert!(ledger.is_empty());
    }

    /// A raised stop is seen by every clone; a never-raised one stays down.
    #[tokio::test]
    async fn stop_is_seen_by_clones() {
        let (switch, stop) = Stop::new();
        let seen = stop.clone();
        assert!(!seen.is_raised());
        switch.raise();
        seen.raised().await;
        assert!(stop.is_raised());
        assert!(!Stop::never().is_raised());
    }
}
