//! Who is asking, and what their role may do.
//!
//! Every resource but the service root, `/redfish` and the OData documents needs a
//! [`Principal`]: a session token in `X-Auth-Token` (checked with
//! [`crate::session::SessionStore::authenticate`]) or HTTP Basic credentials, which open a
//! one-request session ([`crate::session::SessionStore::begin_request`]) that a
//! [`RequestGuard`] ends when the handler finishes, whatever its outcome. Cookies are
//! never looked at.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::sync::Arc;

use axum::http::{header, Extensions, HeaderMap};

use crate::vendors::http;
pub use crate::vendors::http::Client;

use super::errors::RedfishError;
use super::routes::Ctx;
use super::wire;
use super::BASIC_SESSION_TYPE;
use crate::device::DeviceHandle;
use crate::session::{Account, LoginError, LoginRequest, Session};

/// A Redfish privilege (DSP0266 "Privilege model").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privilege {
    /// Log in and read.
    Login,
    /// Configure the manager (session service, reset, other users' sessions).
    ConfigureManager,
    /// Manage accounts.
    ConfigureUsers,
    /// Configure components (systems, chassis).
    ConfigureComponents,
    /// Change one's own password and end one's own sessions.
    ConfigureSelf,
}

impl Privilege {
    /// The name in `AssignedPrivileges`.
    pub fn as_str(self) -> &'static str {
        match self {
            Privilege::Login => "Login",
            Privilege::ConfigureManager => "ConfigureManager",
            Privilege::ConfigureUsers => "ConfigureUsers",
            Privilege::ConfigureComponents => "ConfigureComponents",
            Privilege::ConfigureSelf => "ConfigureSelf",
        }
    }
}

/// The standard roles and their fixed `AssignedPrivileges`.
pub const ROLES: [(&str, &[Privilege]); 3] = [
    (
        "Administrator",
        &[
            Privilege::Login,
            Privilege::ConfigureManager,
            Privilege::ConfigureUsers,
            Privilege::ConfigureSelf,
            Privilege::ConfigureComponents,
        ],
    ),
    ("Operator", &[Privilege::Login, Privilege::ConfigureSelf, Privilege::ConfigureComponents]),
    ("ReadOnly", &[Privilege::Login, Privilege::ConfigureSelf]),
];

/// The privileges of `role`; a role that is not one of [`ROLES`] may only log in and read.
pub fn role_privileges(role: &str) -> &'static [Privilege] {
    ROLES.iter().find(|(name, _)| *name == role).map_or(&[Privilege::Login], |(_, p)| p)
}

/// Whether `role` is one of the standard roles.
pub fn is_role(role: &str) -> bool {
    ROLES.iter().any(|(name, _)| *name == role)
}

/// Ends a Basic request's one-request session when dropped: after the handler returned,
/// failed, or was cancelled.
pub struct RequestGuard {
    device: DeviceHandle,
    session: Arc<Session>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.device.store.end_request(&self.session.id, self.device.now());
    }
}

impl std::fmt::Debug for RequestGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestGuard").field("id", &self.session.id).finish()
    }
}

/// An authenticated requester. Extracting it answers 401 `NoValidSession` (or
/// `SessionLimitExceeded` when a Basic request finds the table full).
#[derive(Debug)]
pub struct Principal {
    session: Arc<Session>,
    /// What its account's role allows now.
    privileges: &'static [Privilege],
    password_change_required: bool,
    guard: Option<RequestGuard>,
}

impl Principal {
    fn new(
        (session, (privileges, password_change_required)): (Arc<Session>, AccountNow),
        guard: Option<RequestGuard>,
    ) -> Principal {
        Principal { session, privileges, password_change_required, guard }
    }

    /// The account name.
    pub fn user(&self) -> &str {
        &self.session.user
    }

    /// The session behind the request (the one-request session for Basic).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Whether the request came with HTTP Basic credentials.
    pub fn is_basic(&self) -> bool {
        self.guard.is_some()
    }

    /// Whether the account must change its password before anything else.
    pub fn password_change_required(&self) -> bool {
        self.password_change_required
    }

    /// Whether the role holds `privilege`.
    pub fn has(&self, privilege: Privilege) -> bool {
        self.privileges.contains(&privilege)
    }

    /// 403 `PasswordChangeRequired` while the account must change its password.
    pub fn require_password_changed(&self) -> Result<(), RedfishError> {
        if self.password_change_required {
            Err(RedfishError::password_change_required(&wire::account_uri(self.user())))
        } else {
            Ok(())
        }
    }

    /// The operation needs `privilege`: 403 `PasswordChangeRequired` first, then 403
    /// `InsufficientPrivilege`.
    pub fn require(&self, privilege: Privilege) -> Result<(), RedfishError> {
        self.require_password_changed()?;
        if self.has(privilege) {
            Ok(())
        } else {
            Err(RedfishError::insufficient_privilege())
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = RedfishError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::of(&parts.extensions).ok_or_else(RedfishError::internal)?;
        authenticate(&parts.headers, &parts.extensions, &ctx)
    }
}

/// What the account's role allows now, and whether it must change its password.
type AccountNow = (&'static [Privilege], bool);

/// The privileges of the account's role and its password-change flag now (an account
/// changed since login applies at once), or of the session's role when the account is
/// gone. Read with the session, in the table's one lock; nothing is copied.
fn account_now(session: &Session, account: Option<&Account>) -> AccountNow {
    let must_change = account.is_some_and(|a| a.password_change_required);
    (role_privileges(session.role_now(account)), must_change)
}

/// Authenticates a request from its headers: `X-Auth-Token` first, then `Authorization:
/// Basic`. Anything else, including cookies, is no credential at all. Who the client is
/// (from `extensions` and the headers) is read only for a Basic request, which opens a
/// session.
pub fn authenticate(
    headers: &HeaderMap,
    extensions: &Extensions,
    ctx: &Ctx,
) -> Result<Principal, RedfishError> {
    let store = &ctx.device.store;
    let now = ctx.device.now();
    if let Some(token) = http::request_header(headers, &super::X_AUTH_TOKEN) {
        let token = token.to_str().map_err(|_| RedfishError::unauthorized())?;
        return match store.authenticate_with(token, now, account_now) {
            Ok(authorized) => Ok(Principal::new(authorized, None)),
            Err(reason) => {
                tracing::debug!(%reason, "redfish: X-Auth-Token refused");
                Err(RedfishError::unauthorized())
            }
        };
    }
    let Some(authorization) = http::request_header(headers, &header::AUTHORIZATION) else {
        return Err(RedfishError::unauthorized());
    };
    let Some(basic) = authorization.to_str().ok().and_then(http::parse_basic) else {
        tracing::debug!("redfish: unusable Authorization header");
        return Err(RedfishError::unauthorized());
    };
    let client = http::client_info(extensions, headers);
    let (user, password) = (basic.user(), basic.password());
    let request = LoginRequest { user, password, session_type: BASIC_SESSION_TYPE, client };
    match store.begin_request_with(&request, now, account_now) {
        Ok(authorized) => {
            let session = authorized.0.clone();
            let guard = RequestGuard { device: ctx.device.clone(), session };
            Ok(Principal::new(authorized, Some(guard)))
        }
        Err(LoginError::LimitReached { scope, .. }) => {
            tracing::info!(user = %user, %scope, "redfish: Basic request refused, table full");
            Err(ctx.session_limit_error())
        }
        Err(_) => {
            tracing::info!(user = %user, "redfish: Basic credentials refused");
            Err(RedfishError::unauthorized())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard roles carry the privileges DSP0266 assigns them.
    #[test]
    fn standard_roles_have_their_privileges() {
        assert!(role_privileges("Administrator").contains(&Privilege::ConfigureUsers));
        assert!(!role_privileges("Operator").contains(&Privilege::ConfigureUsers));
        assert!(role_privileges("Operator").contains(&Privilege::ConfigureComponents));
        assert_eq!(role_privileges("ReadOnly"), &[Privilege::Login, Privilege::ConfigureSelf]);
        assert_eq!(role_privileges("nobody"), &[Privilege::Login]);
    }
}
