//! Who is asking on iControl REST.
//!
//! `X-F5-Auth-Token` is checked first and wins when HTTP Basic is sent too ("the token
//! scheme takes precedence", [P] F5-AUTHDOC); a token never renews on use (REST tokens
//! are a non-sliding session type). HTTP Basic checks the credentials and creates no
//! token and no session ([C] BIGREST #13: echo-query "does not generate a token").

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::sync::Arc;

use axum::http::{header, Extensions, HeaderMap, HeaderName};

use crate::vendors::http;
pub use crate::vendors::http::Client;

use super::errors::RestError;
use super::routes::Ctx;
use super::{fill, BasicFailureBody, TOKEN_SESSION_TYPE};
use crate::session::{Account, AuthError, EndReason, LoginRequest, Session};

/// iControl REST's token header (F5's iControl REST user guide, token-based authentication).
const X_F5_AUTH_TOKEN: HeaderName = HeaderName::from_static("x-f5-auth-token");

/// Session type named in the event log for failed HTTP Basic checks (no session is made).
pub const BASIC_TYPE: &str = "rest-basic";

/// `message` of a 401 for an expired token ([C] f5-cli #8; f5-ansible matches it).
pub const TOKEN_EXPIRED: &str = "X-F5-Auth-Token has expired.";
/// `message` of a 401 for an unknown or deleted token ([C] POSH-LTM-Rest #147).
pub const TOKEN_UNKNOWN: &str = "X-F5-Auth-Token does not exist.";

/// An authenticated REST caller.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The account name.
    pub user: String,
    /// Its role (the account's current one; the token's when the account is gone).
    pub role: String,
    /// The token session, when the request came with `X-F5-Auth-Token`.
    pub token: Option<Arc<Session>>,
}

impl Principal {
    /// Whether the caller's role is administrative.
    pub fn is_admin(&self, ctx: &Ctx) -> bool {
        ctx.settings.is_admin_role(&self.role)
    }

    /// 401 `forbidden` unless the caller is an administrator.
    pub fn require_admin(&self, ctx: &Ctx, method: &str, path: &str) -> Result<(), RestError> {
        if self.is_admin(ctx) {
            Ok(())
        } else {
            Err(RestError::unauthorized(fill(
                &ctx.settings.messages.forbidden,
                &[("user", &self.user), ("path", path), ("method", method)],
            )))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::of(&parts.extensions).ok_or_else(RestError::internal)?;
        authenticate(&parts.headers, &parts.extensions, parts.uri.path(), &ctx)
    }
}

/// The 401 for a token the store refused: "has expired" when it timed out, "does not
/// exist" when it was never issued or was deleted.
/// Both carry the reason phrase `F5 Authorization Required` (bigip-solace.md 1.2 [C]).
pub fn token_refused(error: AuthError) -> RestError {
    let message = match error {
        AuthError::Ended(EndReason::IdleTimeout | EndReason::MaxLifetime) => TOKEN_EXPIRED,
        _ => TOKEN_UNKNOWN,
    };
    RestError::unauthorized(message).with_reason_phrase("F5 Authorization Required")
}

/// Authenticates a REST request: `X-F5-Auth-Token` first, then `Authorization: Basic`.
/// Who the client is (from `extensions` and the headers) is read only without a token.
pub fn authenticate(
    headers: &HeaderMap,
    extensions: &Extensions,
    path: &str,
    ctx: &Ctx,
) -> Result<Principal, RestError> {
    let store = &ctx.device.store;
    let now = ctx.now();
    if let Some(value) = http::request_header(headers, &X_F5_AUTH_TOKEN) {
        let Ok(token) = value.to_str() else {
            return Err(RestError::unauthorized(TOKEN_UNKNOWN));
        };
        let role_now =
            |session: &Session, account: Option<&Account>| session.role_now(account).to_string();
        return match store.authenticate_with(token.trim(), now, role_now) {
            Ok((session, role)) if session.session_type == TOKEN_SESSION_TYPE => {
                Ok(Principal { user: session.user.as_str().to_owned(), role, token: Some(session) })
            }
            Ok(_) => Err(RestError::unauthorized(TOKEN_UNKNOWN)),
            Err(error) => {
                tracing::debug!(%error, "bigip: X-F5-Auth-Token refused");
                Err(token_refused(error))
            }
        };
    }
    let messages = &ctx.settings.messages;
    let client = http::client_info(extensions, headers);
    let addr = client.addr.clone().unwrap_or_else(|| "127.0.0.1".to_string());
    let Some(authorization) = http::request_header(headers, &header::AUTHORIZATION) else {
        let message = fill(&messages.no_credentials, &[("path", path), ("addr", &addr)]);
        return Err(RestError::unauthorized(message).with_challenge());
    };
    let basic_failed = || {
        let mut e = RestError::unauthorized(messages.basic_failed.clone()).with_challenge();
        e.html = ctx.settings.basic_failure_body == BasicFailureBody::ApacheHtml;
        e
    };
    let Some(basic) = authorization.to_str().ok().and_then(http::parse_basic) else {
        return Err(basic_failed());
    };
    let (user, password) = (basic.user(), basic.password());
    let request = LoginRequest { user, password, session_type: BASIC_TYPE, client };
    match store.check_credentials(&request, now) {
        Ok(account) => {
            if !ctx.settings.basic_auth_non_admin && !ctx.settings.is_admin_role(&account.role) {
                return Err(RestError::unauthorized(fill(
                    &messages.basic_not_allowed,
                    &[("user", &account.user)],
                )));
            }
            Ok(Principal { user: account.user, role: account.role, token: None })
        }
        Err(_) => {
            tracing::info!(user = %user, "bigip: Basic credentials refused");
            Err(basic_failed())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Timed-out tokens are "expired"; deleted or unknown ones "do not exist"
    /// (bigip-solace.md 1.2).
    #[test]
    fn token_refusals_name_expiry_or_absence() {
        assert_eq!(token_refused(AuthError::Ended(EndReason::IdleTimeout)).message, TOKEN_EXPIRED);
        assert_eq!(token_refused(AuthError::Ended(EndReason::Logout)).message, TOKEN_UNKNOWN);
        assert_eq!(token_refused(AuthError::Unknown).message, TOKEN_UNKNOWN);
    }
}
