//! Solace PubSub+ broker: SEMPv2 sessions, and the objects automation reads and writes
//! first (message VPNs, client usernames, client profiles, ACL profiles, queues).
//!
//! The rules it honours are in Part 2 of `shared/vendors/bigip-solace.md` and in the
//! seed document `shared/seeds/003_8e2f3587e4fa89dc.txt`. It keeps no session state of
//! its own: the first request with HTTP Basic credentials opens a session
//! ([`crate::session::SessionStore::login`]) and answers with a `Session` cookie; the
//! cookie authenticates later requests ([`crate::session::SessionStore::authenticate`]);
//! logout, admin delete, password changes, renames, user deletion, auth-type changes,
//! timeouts and restarts are all calls on the device's store.
//!
//! - [`routes`]: the axum [`Router`], its handlers and the middleware that authenticates
//!   every request, sets the cookie and renders every error in the SEMP envelope;
//! - [`auth`]: who is asking (cookie, HTTP Basic or Bearer) and their access level;
//! - [`wire`]: the SEMP envelopes (`data`, `links`, `meta`), paging, `select`, `where`;
//! - [`errors`]: the SEMP error envelope (`meta.error.code/description/status`);
//! - [`models`]: the broker's objects beyond sessions, device state reset with the device;
//! - [`objects`]: their SEMPv2 config and monitor views.
//!
//! Everything the evidence leaves open ([I] and [U]) is a field of [`SolaceSettings`],
//! and each profile says which of its values are verified and which assumed.

pub mod auth;
pub mod errors;
pub mod models;
pub mod objects;
pub mod routes;
pub mod wire;

use std::fmt;

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::device::DeviceHandle;

/// Session type of SEMP sessions (the only kind a broker has).
pub const SESSION_TYPE: &str = "semp";

/// Device setting (see [`crate::device::Device::setting`]) holding the broker's current
/// management auth type, once changed from the profile's.
pub const AUTH_TYPE_SETTING: &str = "solace.auth_type";

/// Device setting holding the auth profile (RADIUS domain or LDAP profile) in force.
pub const AUTH_PROFILE_SETTING: &str = "solace.auth_profile";

/// The SEMP error object of an answer whose body the evidence does not give: the HTTP
/// status and `meta.error.{code,status,description}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorSpec {
    /// HTTP status (and `meta.responseCode`).
    pub http_status: u16,
    /// `meta.error.code`.
    pub code: i64,
    /// `meta.error.status`.
    pub status: String,
    /// `meta.error.description`.
    pub description: String,
}

impl ErrorSpec {
    fn new(http_status: u16, code: i64, status: &str, description: &str) -> ErrorSpec {
        ErrorSpec {
            http_status,
            code,
            status: status.to_string(),
            description: description.to_string(),
        }
    }
}

/// An OAuth bearer token the broker accepts. Bearer requests never open sessions.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BearerToken {
    /// The token as sent after `Authorization: Bearer `.
    #[serde(skip_serializing)]
    pub token: String,
    /// The user name the token's claims map to (`about/user` `username`).
    pub user: String,
    /// Its global access level: `admin`, `read-write`, `read-only` or `none`.
    pub global_access_level: String,
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerToken")
            .field("token", &"[redacted]")
            .field("user", &self.user)
            .field("global_access_level", &self.global_access_level)
            .finish()
    }
}

/// What a request carrying both a dead `Session` cookie and valid Basic credentials gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StaleCookie {
    /// 401; the client must drop the cookie and retry with Basic alone (what Solace's own
    /// MCP server is written for).
    Unauthorized,
    /// The cookie is ignored and Basic opens a new session.
    NewSession,
}

/// Solace settings of a profile (`[solace]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SolaceSettings {
    /// `sempVersion` of `/about/api`.
    pub semp_version: String,
    /// `platform` of `/about/api`.
    pub platform: String,
    /// Name of the session cookie.
    pub cookie_name: String,
    /// What follows `<name>=<value>` in `Set-Cookie` (`; ` is added before it).
    pub cookie_attributes: String,
    /// A dead cookie sent together with valid Basic credentials.
    pub stale_cookie_with_basic: StaleCookie,
    /// Missing, wrong or dead credentials.
    pub unauthorized: ErrorSpec,
    /// No session slot is free.
    pub session_limit: ErrorSpec,
    /// The user's global access level is too low for the request.
    pub access_denied: ErrorSpec,
    /// A create names an object that exists (the description is the broker's own,
    /// naming the object).
    pub already_exists: ErrorSpec,
    /// A create without the object's identifying attribute (the description names it).
    pub missing_attribute: ErrorSpec,
    /// `meta.error.status` of error code 11 (a bad attribute or parameter value).
    pub invalid_parameter_status: String,
    /// `WWW-Authenticate` sent with every 401; empty for none.
    pub www_authenticate: String,
    /// Whether `meta.request.uri`, `links` and `nextPageUri` are absolute
    /// (`http://host:port/SEMP/...`) or paths.
    pub absolute_uris: bool,
    /// The largest `count` a collection request is served; larger ones are cut to it.
    pub max_page_count: usize,
    /// The largest request body read; larger ones get a parse error.
    pub max_body_bytes: usize,
    /// Whether action-API objects link their actions (`deleteUri`, `logoutUri`).
    pub action_links: bool,
    /// Whether `/sessions/{user}%2C{id}` finds the session like `/sessions/{user},{id}`.
    pub escaped_comma_matches: bool,
    /// Lowest value of both SEMP session timeouts, in minutes.
    pub timeout_min_minutes: u64,
    /// Highest value of both SEMP session timeouts, in minutes.
    pub timeout_max_minutes: u64,
    /// OAuth bearer tokens the broker accepts.
    pub bearer_tokens: Vec<BearerToken>,
    /// The management auth type at start and after a reset.
    pub auth_type: String,
    /// The auth profile (RADIUS domain, LDAP profile) at start; empty for none.
    pub auth_profile: String,
    /// Auth types the broker accepts.
    pub auth_types: Vec<String>,
    /// Attribute of the private config Broker object that holds the auth type.
    pub auth_type_attribute: String,
    /// Attribute of the private config Broker object that holds the auth profile.
    pub auth_profile_attribute: String,
}

impl Default for SolaceSettings {
    fn default() -> Self {
        SolaceSettings {
            semp_version: "2.34".to_string(),
            platform: "VMR".to_string(),
            cookie_name: "Session".to_string(),
            cookie_attributes: "Path=/; HttpOnly".to_string(),
            stale_cookie_with_basic: StaleCookie::Unauthorized,
            unauthorized: ErrorSpec::new(401, 72, "UNAUTHORIZED", "Unauthorized"),
            session_limit: ErrorSpec::new(529, 2, "FAIL", "No SEMP Session Available"),
            access_denied: ErrorSpec::new(
                401,
                72,
                "UNAUTHORIZED",
                "The user does not have the sufficient access level required to perform the \
                 request",
            ),
            already_exists: ErrorSpec::new(400, 10, "ALREADY_EXISTS", ""),
            missing_attribute: ErrorSpec::new(400, 228, "MISSING_PARAMETER", ""),
            invalid_parameter_status: "INVALID_PARMETER".to_string(),
            www_authenticate: String::new(),
            absolute_uris: true,
            max_page_count: 100,
            max_body_bytes: 1024 * 1024,
            action_links: true,
            escaped_comma_matches: false,
            timeout_min_minutes: 1,
            timeout_max_minutes: 5_256_000,
            bearer_tokens: Vec::new(),
            auth_type: "internal".to_string(),
            auth_profile: String::new(),
            auth_types: vec!["internal".to_string(), "radius".to_string(), "ldap".to_string()],
            auth_type_attribute: "cliAuthType".to_string(),
            auth_profile_attribute: "cliAuthProfileName".to_string(),
        }
    }
}

/// The Solace router for a device.
pub fn router(device: DeviceHandle) -> Router {
    routes::app(device).into_router()
}
