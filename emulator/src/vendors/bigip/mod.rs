//! F5 BIG-IP: iControl REST tokens and iControl SOAP `System.Session`.
//!
//! The rules it honours are in Part 1 of `shared/vendors/bigip-solace.md` and the seed
//! document (`System::Session`, `seeds/001_*.txt`). It keeps no session state of its own:
//! REST tokens and SOAP sessions are two session types on the device's one
//! [`crate::session::SessionStore`] (`rest-token` and `soap`), with their own limits and
//! timeouts in the profile's `[session]` policy.
//!
//! - [`routes`]: the axum [`Router`]: iControl REST resources, the SOAP portal, and the
//!   middleware that renders every error in the BIG-IP envelope;
//! - [`auth`]: who is asking on REST (`X-F5-Auth-Token` first, then HTTP Basic);
//! - [`wire`]: JSON request bodies in, token, user and version bodies out;
//! - [`errors`]: the iControl REST error envelope and the SOAP fault;
//! - [`soap`]: the SOAP 1.1 portal and the `System.Session` methods;
//! - [`objects`]: configuration beyond sessions: system objects and LTM virtual servers,
//!   pools (with members) and nodes, kept per device;
//! - [`wsdl`]: the interfaces the portal implements, and their WSDL documents;
//! - [`uuid3`]: Java's `UUID.nameUUIDFromBytes` (MD5, version 3), which names users in
//!   the "maximum active login tokens" message.

pub mod auth;
pub mod errors;
pub mod objects;
pub mod routes;
pub mod soap;
pub mod uuid3;
pub mod wire;
pub mod wsdl;

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::device::DeviceHandle;

/// Session type of iControl REST tokens (`POST /mgmt/shared/authn/login`).
pub const TOKEN_SESSION_TYPE: &str = "rest-token";

/// Session type of iControl SOAP user sessions (default and explicit ids).
pub const SOAP_SESSION_TYPE: &str = "soap";

/// Device setting that holds the SOAP force-sessions state (`iControl.ForceSessions`).
pub const FORCE_SESSIONS_SETTING: &str = "bigip.icontrol.force_sessions";

/// Device setting that holds the SOAP DTD processing state (`iControl.DTDParsing`).
pub const DTD_PROCESSING_SETTING: &str = "bigip.icontrol.dtd_processing";

/// What a `PATCH` of a token's `timeout` counts the new expiry from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeoutFrom {
    /// The token's creation (`startTime` + timeout): "absolute".
    Creation,
    /// The moment of the PATCH.
    Now,
}

/// Whose tokens `DELETE /mgmt/shared/authz/tokens` removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CollectionScope {
    /// The caller's own tokens.
    Own,
    /// Every user's tokens.
    All,
}

/// How a REST request with wrong HTTP Basic credentials is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BasicFailureBody {
    /// The iControl REST error envelope (`code`, `message`, ...).
    Json,
    /// httpd's HTML "401 Unauthorized" page.
    ApacheHtml,
}

/// Texts of iControl REST errors that no public capture shows (profile `[bigip.messages]`).
/// Placeholders: `{path}`, `{method}`, `{addr}`, `{user}`, `{token}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RestMessages {
    /// 401: a protected resource without `X-F5-Auth-Token` or `Authorization`.
    pub no_credentials: String,
    /// 401: HTTP Basic credentials that do not match (JSON form).
    pub basic_failed: String,
    /// 401: the account may not use HTTP Basic on REST (see `basic_auth_non_admin`).
    pub basic_not_allowed: String,
    /// 400: a token that belongs to another user (the stored copy of F5's article is cut
    /// after "Au").
    pub foreign_token: String,
    /// 404: no such token.
    pub token_not_found: String,
    /// 400: `POST .../tokens` without a usable `token` value.
    pub bad_token: String,
    /// 409: `POST .../tokens` with a token that is in use.
    pub token_exists: String,
    /// 404: nothing is served at this URI.
    pub uri_not_found: String,
    /// 405: the URI exists but not with this method.
    pub method_not_allowed: String,
    /// 400: the body is not JSON (or not an object).
    pub bad_json: String,
    /// 400: a token `timeout` that is not a positive integer.
    pub bad_timeout: String,
    /// 404: no such local user.
    pub user_not_found: String,
    /// 409: a local user by that name exists.
    pub user_exists: String,
    /// 400: a user body without `name` or with unusable fields.
    pub bad_user: String,
    /// 401: the role may not do this.
    pub forbidden: String,
    /// 413: the body is larger than `max_body_bytes`.
    pub payload_too_large: String,
    /// 400: `/mgmt/tm/sys/service/restjavad` without `{"command": "restart"}`.
    pub bad_service_command: String,
    /// 404: `?WSDL=` names an interface the emulator does not implement. Placeholders:
    /// `{interface}`, `{served}` (the ones it does).
    pub wsdl_not_found: String,
}

impl Default for RestMessages {
    fn default() -> Self {
        RestMessages {
            no_credentials: "Authorization failed: no user authentication header or token \
                             detected. Uri:http://localhost:8100{path} Referrer:{addr} \
                             Sender:{addr}"
                .to_string(),
            basic_failed: "Authentication failed.".to_string(),
            basic_not_allowed: "Authorization failed: user={user} must use token \
                                authentication"
                .to_string(),
            foreign_token: "Authorization failed: the token does not belong to user {user}"
                .to_string(),
            token_not_found:
                "Object not found - https://localhost/mgmt/shared/authz/tokens/{token}".to_string(),
            bad_token: "Invalid token value: {token}".to_string(),
            token_exists: "Token {token} already exists".to_string(),
            uri_not_found: "URI path {path} not registered.  Please verify URI is supported \
                            and wait for /available suffix to be responsive."
                .to_string(),
            method_not_allowed: "Method {method} not allowed on {path}".to_string(),
            bad_json: "Found invalid JSON body in the request.".to_string(),
            bad_timeout: "The provided timeout must be a number between 1 and 36000.".to_string(),
            user_not_found: "01020036:3: The requested user ({user}) was not found.".to_string(),
            user_exists: "01020037:3: The requested user ({user}) already exists.".to_string(),
            bad_user: "Invalid user definition: {user}".to_string(),
            forbidden: "Authorization failed: user={user} resource={path} verb={method}"
                .to_string(),
            payload_too_large: "Request body too large.".to_string(),
            bad_service_command: "Invalid command for service restjavad.".to_string(),
            wsdl_not_found: "No WSDL for iControl interface {interface}: this emulated device \
                             implements {served}"
                .to_string(),
        }
    }
}

/// One iControl SOAP fault text: `Exception: Common::<exception>`, the primary error code
/// and the `error_string`. Placeholders: `{user}`, `{id}`, `{limit}`, `{method}`, `{arg}`,
/// `{timeout}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultText {
    /// `OperationFailed`, `AccessDenied` or `InvalidArgument`.
    pub exception: String,
    /// `primary_error_code`.
    pub primary_error_code: u32,
    /// `error_string`.
    pub error_string: String,
}

impl FaultText {
    fn new(exception: &str, code: u32, error_string: &str) -> FaultText {
        FaultText {
            exception: exception.to_string(),
            primary_error_code: code,
            error_string: error_string.to_string(),
        }
    }
}

/// iControl SOAP fault texts (profile `[bigip.soap_faults]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SoapFaults {
    /// Force sessions is on and the request names no session id (SOAP-SEED
    /// set_force_sessions_state: "Could not find the iControl session for <user>").
    pub no_session: FaultText,
    /// An explicit session id that is unknown or has expired (SOAP-SEED
    /// set_session_timeout: "re-using an expired session will result in an error").
    pub session_not_found: FaultText,
    /// The maximum number of user sessions is reached (set_maximum_sessions).
    pub max_sessions: FaultText,
    /// `start_transaction` while one is open ("Only one transaction can be open").
    pub transaction_open: FaultText,
    /// `submit_transaction` / `rollback_transaction` with none open.
    pub no_transaction: FaultText,
    /// `submit_transaction` / `rollback_transaction` of a transaction that lapsed after
    /// the transaction timeout (SOAP-SEED set_transaction_timeout: "effectively unusable
    /// after that point").
    pub transaction_expired: FaultText,
    /// A non-administrator calls an administrators-only setter.
    pub access_denied: FaultText,
    /// A parameter that is missing or malformed.
    pub invalid_argument: FaultText,
}

impl Default for SoapFaults {
    fn default() -> Self {
        SoapFaults {
            no_session: FaultText::new(
                "OperationFailed",
                0,
                "Could not find the iControl session for {user}",
            ),
            session_not_found: FaultText::new(
                "OperationFailed",
                0,
                "Could not find the iControl session {id} for {user}",
            ),
            max_sessions: FaultText::new(
                "OperationFailed",
                0,
                "The maximum number of iControl user sessions ({limit}) has been reached",
            ),
            transaction_open: FaultText::new(
                "OperationFailed",
                0,
                "A transaction is already open in this session",
            ),
            no_transaction: FaultText::new(
                "OperationFailed",
                0,
                "No transaction is open in this session",
            ),
            transaction_expired: FaultText::new(
                "OperationFailed",
                0,
                "The transaction has expired: it was inactive for longer than the transaction \
                 timeout ({timeout} seconds) and was rolled back",
            ),
            access_denied: FaultText::new(
                "AccessDenied",
                0,
                "Only administrators can call {method}",
            ),
            invalid_argument: FaultText::new("InvalidArgument", 0, "Invalid argument: {arg}"),
        }
    }
}

/// BIG-IP settings of a profile (`[bigip]`). Session limits and timeouts are not here:
/// they are the `[session]` policy (per-user limit, `soap` pool, idle timeouts by type).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BigipSettings {
    /// TMOS version (`/mgmt/tm/sys/version`, SOAP `get_version`).
    pub version: String,
    /// Build number.
    pub build: String,
    /// Edition ("Final", "Point Release 1").
    pub edition: String,
    /// Build date as `/mgmt/tm/sys/version` shows it.
    pub version_date: String,
    /// The device's time zone as minutes east of UTC: `startTime` is local time with
    /// this offset (`2024-07-11T02:22:15.666-0700` is -420).
    pub utc_offset_minutes: i32,
    /// Largest request body accepted, in bytes (REST and SOAP).
    pub max_body_bytes: usize,
    /// Largest token `timeout` a PATCH may set, in seconds; above it 406.
    pub max_token_timeout_secs: u64,
    /// What a PATCHed `timeout` counts from.
    pub token_timeout_from: TimeoutFrom,
    /// `loginProviderName`s the login accepts; others get 401 `loginProviderName is invalid.`
    pub login_providers: Vec<String>,
    /// The provider assumed when a login names none.
    pub default_login_provider: String,
    /// Whose tokens `DELETE /mgmt/shared/authz/tokens` removes.
    pub delete_collection_scope: CollectionScope,
    /// Whether accounts without the `admin` role may use HTTP Basic on REST.
    pub basic_auth_non_admin: bool,
    /// How wrong HTTP Basic credentials on REST are answered.
    pub basic_failure_body: BasicFailureBody,
    /// Whether restarting restjavad (`POST /mgmt/tm/sys/service/restjavad`) also ends
    /// every REST token (it always clears leaked token counts).
    pub restjavad_restart_ends_tokens: bool,
    /// Realm of `WWW-Authenticate: Basic` on 401.
    pub auth_realm: String,
    /// Roles that may change SOAP session settings and manage other users.
    pub admin_roles: Vec<String>,
    /// Initial force-sessions state (`iControl.ForceSessions`).
    pub force_sessions: bool,
    /// Initial DTD processing state (`iControl.DTDParsing`): off, a request with a DTD is
    /// refused with "parsing aborted"; on, its internal entities are expanded (bounded).
    pub dtd_processing: bool,
    /// `get_returned_path` of a new SOAP session: `PATH_FULL`, `PATH_RELATIVE` or
    /// `PATH_BARE`.
    pub returned_path: String,
    /// The active folder of a new SOAP session.
    pub default_folder: String,
    /// Transaction timeout of a new SOAP session in seconds (`get_transaction_timeout`
    /// before any `set_transaction_timeout`); 0: transactions never lapse.
    pub transaction_timeout_secs: u64,
    /// `soap:address location` of the served WSDLs; empty: the portal of the device that
    /// served it (the listener's scheme and the request's `Host`).
    pub wsdl_location: String,
    /// REST error texts that no capture shows.
    pub messages: RestMessages,
    /// SOAP fault texts that no capture shows.
    pub soap_faults: SoapFaults,
    /// System objects' values and LTM object rules (`[bigip.objects]`).
    pub objects: objects::ObjectSettings,
}

impl Default for BigipSettings {
    fn default() -> Self {
        BigipSettings {
            version: "15.1.2".to_string(),
            build: "0.0.9".to_string(),
            edition: "Final".to_string(),
            version_date: "Thu Dec 17 09:54:21 PST 2020".to_string(),
            utc_offset_minutes: 0,
            max_body_bytes: 1024 * 1024,
            max_token_timeout_secs: 36_000,
            token_timeout_from: TimeoutFrom::Creation,
            login_providers: vec!["tmos".to_string(), "local".to_string()],
            default_login_provider: "local".to_string(),
            delete_collection_scope: CollectionScope::Own,
            basic_auth_non_admin: true,
            basic_failure_body: BasicFailureBody::Json,
            restjavad_restart_ends_tokens: false,
            auth_realm: "Enterprise Manager".to_string(),
            admin_roles: vec!["admin".to_string()],
            force_sessions: false,
            dtd_processing: false,
            returned_path: "PATH_FULL".to_string(),
            default_folder: "/Common".to_string(),
            transaction_timeout_secs: 600,
            wsdl_location: String::new(),
            messages: RestMessages::default(),
            soap_faults: SoapFaults::default(),
            objects: objects::ObjectSettings::default(),
        }
    }
}

impl BigipSettings {
    /// Whether `role` is administrative.
    pub fn is_admin_role(&self, role: &str) -> bool {
        self.admin_roles.iter().any(|r| r == role)
    }
}

/// Fills `{name}` placeholders of a message template.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The BIG-IP router for a device.
pub fn router(device: DeviceHandle) -> Router {
    routes::app(device).into_router()
}
