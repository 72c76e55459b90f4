//! The rules a device's session table follows, read from its profile.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A pool of session types that share one limit (iDRAC: Redfish and GUI share the
/// web-server pool).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    /// Name used when a login is refused ("web-server", "ssh").
    pub name: String,
    /// Session types counted in this pool.
    pub types: Vec<String>,
    /// How many sessions of these types may be open at once.
    pub limit: usize,
}

/// What happens to a user's sessions when something about the user changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserChange {
    /// End every session of that user.
    EndUserSessions,
    /// Keep them: they stay valid until they end some other way.
    Keep,
}

/// What happens to all sessions when the device's authentication configuration changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthConfigChange {
    /// End every session (Solace: any auth-type change).
    EndAll,
    /// Keep them.
    Keep,
}

/// How session tokens look on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenFormat {
    /// 32 lower-case hex characters, 128 bits (iLO, iDRAC, OpenBMC).
    Hex32,
    /// 26 characters of the base32 alphabet `[A-Z2-7]`, 130 bits (BIG-IP).
    Base32Upper26,
    /// 43 URL-safe base64 characters, 256 bits (Solace `Session` cookie).
    UrlSafe43,
    /// A random UUID in its hyphenated form, 122 bits.
    Uuid,
}

/// How session ids look on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdFormat {
    /// A decimal counter that keeps growing (iDRAC9), starting at `id_counter_start`.
    Counter,
    /// A random UUID (iDRAC10).
    Uuid,
    /// User name + 16 hex digits of the login time in Unix seconds + 8 random hex digits (iLO).
    UserUnixHexRandom,
    /// 16 random lower-case hex digits.
    Hex16,
    /// The token itself (devices whose session is named by its token).
    Token,
}

/// Every number and rule of a device's session table. All durations in seconds; 0 means
/// "none" for timeouts and lifetimes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Sessions open at once over the whole device; `None` is unlimited.
    pub max_total: Option<usize>,
    /// Session types the device has besides those its personality opens on the wire and
    /// those named in `pools` and the per-type settings (a web GUI, SSH, a console): the
    /// control API opens sessions of known types only.
    pub session_types: Vec<String>,
    /// Limits shared by groups of session types.
    pub pools: Vec<Pool>,
    /// Sessions one user may hold at once; `None` is unlimited.
    pub max_per_user: Option<usize>,
    /// Users the per-user limit does not apply to.
    pub per_user_exempt: Vec<String>,
    /// Session types the per-user limit counts and applies to; empty means every type
    /// (BIG-IP: only REST tokens count against a user's 100).
    pub per_user_types: Vec<String>,
    /// Idle timeout in seconds for every session type without its own; 0 = none.
    pub idle_timeout_secs: u64,
    /// Idle timeouts of particular session types, in seconds.
    pub idle_timeout_by_type: BTreeMap<String, u64>,
    /// Whether use renews the idle timer (sliding). When false the idle timeout counts
    /// from creation, like an absolute token expiry.
    pub sliding: bool,
    /// `sliding` for particular session types (BIG-IP: SOAP sessions slide, REST tokens
    /// expire a fixed time after creation).
    pub sliding_by_type: BTreeMap<String, bool>,
    /// Maximum lifetime in seconds from creation, whatever the use; 0 = none.
    pub max_lifetime_secs: u64,
    /// Whether a changed idle timeout also applies to sessions already open (else only to
    /// sessions created afterwards).
    pub timeout_change_applies_to_existing: bool,
    /// What a password change does to that user's sessions.
    pub on_password_change: UserChange,
    /// What deleting a user does to that user's sessions.
    pub on_user_delete: UserChange,
    /// What an authentication-configuration change does.
    pub on_auth_config_change: AuthConfigChange,
    /// Whether one-request (Basic-auth) sessions occupy a slot while their request runs.
    pub one_request_sessions_count: bool,
    /// Token format.
    pub token_format: TokenFormat,
    /// Session id format.
    pub id_format: IdFormat,
    /// First value of a `counter` id.
    pub id_counter_start: u64,
    /// Session types whose ended sessions keep counting against their user's per-user
    /// limit ("ghosts") until [`crate::session::SessionStore::clear_ghosts`] or a restart
    /// (BIG-IP 17.1.2.x bug ID1787517: released tokens are not freed until restjavad
    /// restarts). Empty: ended sessions free their slot at once.
    pub ghost_types: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_total: None,
            session_types: Vec::new(),
            pools: Vec::new(),
            max_per_user: None,
            per_user_exempt: Vec::new(),
            per_user_types: Vec::new(),
            idle_timeout_secs: 1800,
            idle_timeout_by_type: BTreeMap::new(),
            sliding: true,
            sliding_by_type: BTreeMap::new(),
            max_lifetime_secs: 0,
            timeout_change_applies_to_existing: false,
            on_password_change: UserChange::EndUserSessions,
            on_user_delete: UserChange::EndUserSessions,
            on_auth_config_change: AuthConfigChange::EndAll,
            one_request_sessions_count: true,
            token_format: TokenFormat::Hex32,
            id_format: IdFormat::Counter,
            id_counter_start: 1,
            ghost_types: Vec::new(),
        }
    }
}

impl Policy {
    /// The idle timeout a new session of `session_type` gets; `None` when it has none.
    pub fn idle_timeout_for(&self, session_type: &str) -> Option<Duration> {
        let secs =
            self.idle_timeout_by_type.get(session_type).copied().unwrap_or(self.idle_timeout_secs);
        (secs > 0).then(|| Duration::from_secs(secs))
    }

    /// Whether use renews the idle timer of a new session of `session_type`.
    pub fn sliding_for(&self, session_type: &str) -> bool {
        self.sliding_by_type.get(session_type).copied().unwrap_or(self.sliding)
    }

    /// Whether sessions of `session_type` count against (and are held to) the per-user limit.
    pub fn counts_per_user(&self, session_type: &str) -> bool {
        self.per_user_types.is_empty() || self.per_user_types.iter().any(|t| t == session_type)
    }

    /// The smallest count limit a session of `session_type` is held to: its pools' and
    /// the device-wide one (the per-user limit is left out: it depends on the user).
    /// `None` when nothing limits the type.
    pub fn limit_for(&self, session_type: &str) -> Option<usize> {
        let pools = self.pools.iter().filter(|p| p.types.iter().any(|t| t == session_type));
        pools.map(|p| p.limit).chain(self.max_total).min()
    }

    /// The maximum lifetime; `None` when sessions live until they idle out or end.
    pub fn max_lifetime(&self) -> Option<Duration> {
        (self.max_lifetime_secs > 0).then(|| Duration::from_secs(self.max_lifetime_secs))
    }

    /// Problems that make this policy unusable, in words for a profile author.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for pool in &self.pools {
            if !seen.insert(pool.name.as_str()) {
                problems.push(format!("pool {:?} is defined twice", pool.name));
            }
            if pool.types.is_empty() {
                problems.push(format!("pool {:?} names no session types", pool.name));
            }
        }
        if self.id_format == IdFormat::Counter && self.id_counter_start == 0 {
            problems.push("id_counter_start must be 1 or more".to_string());
        }
        problems
    }
}
