//! The standard DMTF Redfish service (DSP0266).
//!
//! The rules it honours are in `shared/vendors/redfish.md`. It keeps no session state of
//! its own: logins, Basic one-request sessions, token checks, logouts, timeouts, password
//! changes and restarts are all calls on the device's [`crate::session::SessionStore`].
//!
//! - [`routes`]: the axum [`Router`], its handlers and the middleware that finishes
//!   every answer (OData-Version, Server, error envelopes);
//! - [`auth`]: who is asking (X-Auth-Token or HTTP Basic) and what their role may do;
//! - [`wire`]: request bodies in, resource bodies out;
//! - [`errors`]: the error envelope and the Base registry messages;
//! - [`expand`]: the `$expand` query, for every Redfish-family router.
//!
//! HPE iLO and Dell iDRAC personalities build on these pieces.

pub mod auth;
pub mod errors;
pub mod expand;
pub mod routes;
pub mod tree;
pub mod wire;

use axum::http::HeaderName;
use axum::Router;
use serde::{Deserialize, Serialize};

use crate::device::DeviceHandle;

/// Redfish's session token header (DSP0266, Session login). Header names used on every
/// request are constants: a name given as `&str` is parsed and hashed on each lookup.
pub const X_AUTH_TOKEN: HeaderName = HeaderName::from_static("x-auth-token");

/// Redfish's `OData-Version` header (DSP0266, Request headers).
pub const ODATA_VERSION: HeaderName = HeaderName::from_static("odata-version");

/// Session type of sessions created by a login (POST to the Sessions collection).
pub const SESSION_TYPE: &str = "redfish";

/// Session type of the one-request sessions behind HTTP Basic requests.
pub const BASIC_SESSION_TYPE: &str = "redfish-basic";

/// Redfish settings of a profile (`[redfish]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedfishSettings {
    /// HTTP status of `SessionLimitExceeded` (the registry gives none).
    pub session_limit_status: u16,
    /// `Server` header on every response (empty: none).
    pub server_header: String,
    /// `RedfishVersion` in the service root.
    pub redfish_version: String,
    /// Registry prefix of every `MessageId`: `RegistryName.Major.Minor` as DSP0266 forms
    /// message ids (`Base.1.18` gives `Base.1.18.NoValidSession`). The texts are those
    /// of `Base.1.18.0`.
    pub base_registry: String,
    /// Realm of the `WWW-Authenticate: Basic realm="..."` header on every 401.
    pub auth_realm: String,
    /// Largest request body accepted, in bytes; larger ones get 413 `PayloadTooLarge`.
    pub max_body_bytes: usize,
    /// Status of a successful logout (DELETE of a session): 204 with no body, or 200
    /// with the `SessionTerminated` message.
    pub logout_status: u16,
    /// Status of a successful `Manager.Reset`: 204 with no body, or 200 with `Success`.
    pub reset_status: u16,
    /// `Id` of the one manager (`/redfish/v1/Managers/<id>`).
    pub manager_id: String,
    /// Whether an account with `PasswordChangeRequired` may DELETE its own session.
    /// redfish.md lists login, reading the account and PATCHing its password as the only
    /// allowed requests, hence `false`.
    pub password_change_allows_logout: bool,
    /// The `Link` header of GET and HEAD answers that name their JSON schema (DSP0266 Link
    /// header: `rel=describedby`, versioned as the body's `@odata.type`). `{schema}` becomes
    /// the schema's name (`Session.v1_7_0`, `SessionCollection`); empty: no `Link`.
    pub describedby: String,
    /// Whether a POST to a collection's `Members` (`.../Sessions/Members`,
    /// `.../Accounts/Members`) creates a member exactly as a POST to the collection does
    /// (DSP0266 POST (create): "services ... shall support both forms").
    pub members_post: bool,
}

impl Default for RedfishSettings {
    fn default() -> Self {
        RedfishSettings {
            session_limit_status: 503,
            server_header: "sessionlab-redfish".to_string(),
            redfish_version: "1.15.0".to_string(),
            base_registry: errors::DEFAULT_BASE_REGISTRY.to_string(),
            auth_realm: "RedfishService".to_string(),
            max_body_bytes: 64 * 1024,
            logout_status: 204,
            reset_status: 204,
            manager_id: "1".to_string(),
            password_change_allows_logout: false,
            describedby: String::new(),
            members_post: false,
        }
    }
}

/// The Redfish router for a device.
pub fn router(device: DeviceHandle) -> Router {
    routes::app(device).into_router()
}
