//! JSON shapes shared by several control endpoints.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::clock::Now;
use crate::session::{ClientProcess, EndReason, Session};

/// A wall-clock time as RFC 3339 in UTC (`2026-01-01T00:00:00Z`, with fractions only
/// when there are some).
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Whole seconds between `earlier` and `now` on the monotonic clock (0 if not earlier).
pub fn age_secs(now: Now, earlier: Duration) -> u64 {
    now.mono.saturating_sub(earlier).as_secs()
}

/// One open session as the control API shows it. The token appears only in the answer
/// to `POST .../sessions`, which created it.
#[derive(Debug, Serialize)]
pub struct SessionView {
    id: String,
    user: String,
    role: String,
    session_type: String,
    client_addr: Option<String>,
    user_agent: Option<String>,
    /// The local process that logged in, where the device was asked to find it.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_process: Option<ClientProcess>,
    created: String,
    last_used: String,
    idle_expires: Option<String>,
    hard_expires: Option<String>,
    idle_timeout_secs: Option<u64>,
    max_lifetime_secs: Option<u64>,
    sliding: bool,
    one_request: bool,
    requests: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl SessionView {
    /// A session without its token.
    pub fn new(s: &Session, now: Now) -> SessionView {
        SessionView {
            id: s.id.clone(),
            user: s.user.as_str().to_owned(),
            role: s.role.as_str().to_owned(),
            session_type: s.session_type.as_str().to_owned(),
            client_addr: s.client.addr.clone(),
            user_agent: s.client.user_agent.clone(),
            client_process: s.client.process.clone(),
            created: rfc3339(s.created_at),
            last_used: rfc3339(s.last_used_at),
            idle_expires: s.idle_expires_at(now).map(rfc3339),
            hard_expires: s.hard_expires_at(now).map(rfc3339),
            idle_timeout_secs: s.idle_timeout.map(|d| d.as_secs()),
            max_lifetime_secs: s.max_lifetime.map(|d| d.as_secs()),
            sliding: s.sliding,
            one_request: s.one_request,
            requests: s.requests,
            token: None,
        }
    }

    /// A session with its token: only for the operator who just created it.
    pub fn with_token(s: &Session, now: Now) -> SessionView {
        SessionView { token: Some(s.token.as_str().to_string()), ..SessionView::new(s, now) }
    }
}

/// Which sessions an operation ended, and why.
#[derive(Debug, Serialize)]
pub struct Ended {
    reason: EndReason,
    count: usize,
    session_ids: Vec<String>,
}

impl Ended {
    /// The sessions that ended with `reason`.
    pub fn new(reason: EndReason, sessions: &[Session]) -> Ended {
        Ended {
            reason,
            count: sessions.len(),
            session_ids: sessions.iter().map(|s| s.id.clone()).collect(),
        }
    }
}
