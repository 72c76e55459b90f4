//! Who is asking, and with which global access level.
//!
//! bigip-solace.md 2.1:
//! - the first SEMPv2 request carries HTTP Basic credentials and, when they are good, the
//!   broker opens a session and answers with a `Session` cookie [P]; this is
//!   [`crate::session::SessionStore::login`], so a client that never sends the cookie
//!   back opens a new session with every request and fills the table;
//! - later requests may send only the cookie [P]
//!   ([`crate::session::SessionStore::authenticate`], which renews the idle timer);
//! - a dead or unknown cookie is refused with 401 even when valid Basic credentials come
//!   with it [I] (profile: `stale_cookie_with_basic`);
//! - Bearer (OAuth) requests never open sessions, and any cookie sent with them is
//!   ignored [P]; the tokens accepted are profile data (`bearer_tokens`).
//!
//! Credentials, cookies and tokens are never logged.

pub use crate::vendors::http::{client_info, parse_basic};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::sync::Arc;

use axum::http::{header, Extensions, HeaderMap};

use super::errors::SempError;
use super::routes::Ctx;
use super::wire::ReqInfo;
use super::{StaleCookie, SESSION_TYPE};
use crate::session::{Account, LoginError, LoginRequest, Name, Session};

/// A SEMP global access level, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AccessLevel {
    /// `none`: about/user and logout only.
    None,
    /// `read-only`.
    ReadOnly,
    /// `read-write`.
    ReadWrite,
    /// `admin`.
    Admin,
}

impl AccessLevel {
    /// Every level, lowest first.
    pub const ALL: [AccessLevel; 4] =
        [AccessLevel::None, AccessLevel::ReadOnly, AccessLevel::ReadWrite, AccessLevel::Admin];

    /// The name SEMP uses (`globalAccessLevel`).
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::None => "none",
            AccessLevel::ReadOnly => "read-only",
            AccessLevel::ReadWrite => "read-write",
            AccessLevel::Admin => "admin",
        }
    }

    /// The level named `name`, if it is one.
    pub fn parse(name: &str) -> Option<AccessLevel> {
        AccessLevel::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// The level of an account role; a role that is not a SEMP level is `none`.
    pub fn of_role(role: &str) -> AccessLevel {
        AccessLevel::parse(role).unwrap_or(AccessLevel::None)
    }
}

/// How a request authenticated.
#[derive(Clone, Debug)]
pub enum Credential {
    /// With a session: its cookie, or Basic credentials that opened it (`created`).
    Session {
        /// The session as it was when the request came in.
        session: Arc<Session>,
        /// Whether this request's Basic credentials opened it (the answer sets the cookie).
        created: bool,
        /// The account's level as the request came in, read with the session.
        level: AccessLevel,
    },
    /// With a Bearer token: no session.
    Bearer {
        /// The level the token carries.
        level: AccessLevel,
    },
}

/// An authenticated requester; the router's step hands one to every request that reaches
/// a handler ([`Authorized`]).
#[derive(Clone, Debug)]
pub struct Principal {
    /// The user name (shared with the session, when there is one).
    pub user: Name,
    /// How the request authenticated.
    pub credential: Credential,
}

impl Principal {
    /// The session behind the request, if any (Bearer requests have none).
    pub fn session(&self) -> Option<&Session> {
        match &self.credential {
            Credential::Session { session, .. } => Some(session.as_ref()),
            Credential::Bearer { .. } => None,
        }
    }

    /// The session this request opened, if it opened one.
    pub fn created(&self) -> Option<&Session> {
        match &self.credential {
            Credential::Session { session, created: true, .. } => Some(session.as_ref()),
            _ => None,
        }
    }

    /// The user's global access level: the account's role as the request came in (so an
    /// access-level change applies from the next request on, without ending sessions),
    /// or the Bearer token's level.
    pub fn level(&self) -> AccessLevel {
        match &self.credential {
            Credential::Bearer { level } | Credential::Session { level, .. } => *level,
        }
    }

    /// The request needs at least `needed`.
    pub fn require(&self, ctx: &Ctx, needed: AccessLevel) -> Result<(), SempError> {
        if self.level() >= needed {
            Ok(())
        } else {
            tracing::info!(user = %self.user, needed = needed.as_str(), "solace: access level too low");
            Err(SempError::access_denied(&ctx.settings, needed.as_str()))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = SempError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Authorized>()
            .map(|authorized| authorized.principal.clone())
            .ok_or_else(|| SempError::internal("the request was not authenticated"))
    }
}

/// What SEMP's step hands every request that reaches a handler, as one request extension:
/// who asked, what the request is, and the device's context. Handlers take the parts as
/// [`Principal`], [`ReqInfo`] and [`Ctx`].
#[derive(Clone, Debug)]
pub struct Authorized {
    /// Who asked.
    pub principal: Principal,
    /// What was asked.
    pub info: ReqInfo,
    /// The device asked.
    pub ctx: Ctx,
}

/// Authenticates a request from its headers (see the module documentation for the order).
/// Who the client is (from `extensions` and the headers) is read only when Basic
/// credentials open a session.
pub fn authenticate(
    headers: &HeaderMap,
    extensions: &Extensions,
    ctx: &Ctx,
) -> Result<Principal, SempError> {
    let settings = &ctx.settings;
    let store = &ctx.device.store;
    let now = ctx.device.now();
    let authorization = crate::vendors::http::request_header(headers, &header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Some(token) = authorization.and_then(bearer_token) {
        return match settings.bearer_tokens.iter().find(|t| same(&t.token, token)) {
            Some(t) => Ok(Principal {
                user: Name::from(t.user.as_str()),
                credential: Credential::Bearer {
                    level: AccessLevel::parse(&t.global_access_level).unwrap_or(AccessLevel::None),
                },
            }),
            None => {
                tracing::info!("solace: Bearer token refused");
                Err(SempError::unauthorized(settings))
            }
        };
    }
    let basic = authorization.and_then(parse_basic);
    if let Some(cookie) = session_cookie(headers, &settings.cookie_name) {
        match store.authenticate_with(cookie, now, level_now) {
            Ok((session, level)) => {
                return Ok(Principal {
                    user: session.user.clone(),
                    credential: Credential::Session { session, created: false, level },
                });
            }
            Err(reason) => {
                tracing::debug!(%reason, "solace: session cookie refused");
                let retry =
                    basic.is_some() && settings.stale_cookie_with_basic == StaleCookie::NewSession;
                if !retry {
                    return Err(SempError::unauthorized(settings));
                }
            }
        }
    }
    let Some(basic) = basic else {
        return Err(SempError::unauthorized(settings));
    };
    let (user, password) = (basic.user(), basic.password());
    let client = client_info(extensions, headers);
    let request = LoginRequest { user, password, session_type: SESSION_TYPE, client };
    match store.login_reading(&request, now, level_now) {
        Ok((session, level)) => {
            tracing::info!(user = %user, session = %session.id, "solace: session opened by Basic");
            let user = session.user.clone();
            let session = Arc::new(session);
            let credential = Credential::Session { session, created: true, level };
            Ok(Principal { user, credential })
        }
        Err(LoginError::LimitReached { scope, .. }) => {
            tracing::info!(user = %user, %scope, "solace: no SEMP session available");
            Err(SempError::session_limit(settings))
        }
        Err(_) => {
            tracing::info!(user = %user, "solace: Basic credentials refused");
            Err(SempError::unauthorized(settings))
        }
    }
}

/// The level of a session's account as it is now (the session's own role if the account
/// is gone), read in the step that finds or opens the session.
fn level_now(session: &Session, account: Option<&Account>) -> AccessLevel {
    AccessLevel::of_role(session.role_now(account))
}

/// The token of `Bearer <token>`.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The value of the first cookie called `name` in the request's `Cookie` headers (every
/// SEMP request with a session reads it: a loop over the pairs, borrowing the value).
pub fn session_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            match pair.trim().split_once('=') {
                Some((n, v)) if n.trim() == name => return Some(v.trim().trim_matches('"')),
                _ => {}
            }
        }
    }
    None
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// bigip-solace.md 2.1: the cookie is called `Session`; other cookies are ignored.
    #[test]
    fn session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; Session=abc-_1; b=2"));
        assert_eq!(session_cookie(&headers, "Session"), Some("abc-_1"));
        assert_eq!(session_cookie(&headers, "session"), None);
    }

    /// The cookie as the plain reading of RFC 6265's `Cookie` header finds it: every
    /// header in order, pairs split at `;`, the name and value trimmed, quotes dropped.
    fn cookie_as_read_plainly(headers: &HeaderMap, name: &str) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| n.trim() == name)
            .map(|(_, v)| v.trim().trim_matches('"').to_string())
    }

    proptest::proptest! {
        /// The loop finds the cookie the plain reading finds, among several headers of
        /// pairs with spaces, tabs, quotes, empty names and values, and bytes that are not
        /// visible ASCII.
        #[test]
        fn the_session_cookie_is_the_plain_readings(
            values in proptest::collection::vec(
                proptest::collection::vec(
                    (
                        proptest::sample::select(&["", " ", "\t"][..]),
                        proptest::sample::select(&["Session", "session", "", "Session "][..]),
                        proptest::sample::select(&["=", "", "=="][..]),
                        proptest::collection::vec(
                            proptest::sample::select(
                                &["\"", "a", " ", "\t", "1", "=", "\u{e9}"][..],
                            ),
                            0..5,
                        ),
                    ),
                    0..4,
                ),
                0..3,
            ),
            separator in proptest::sample::select(&[";", "; ", ";\t", " ;"][..]),
        ) {
            let values: Vec<String> = values
                .iter()
                .map(|pairs| {
                    let pairs = pairs.iter().map(|(space, name, equals, value)| {
                        format!("{space}{name}{equals}{}", value.concat())
                    });
                    pairs.collect::<Vec<_>>().join(separator)
                })
                .collect();
            let mut headers = HeaderMap::new();
            for value in &values {
                if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
                    headers.append(header::COOKIE, value);
                }
            }
            proptest::prop_assert_eq!(
                session_cookie(&headers, "Session").map(str::to_string),
                cookie_as_read_plainly(&headers, "Session")
            );
        }
    }

    /// Access levels order none < read-only < read-write < admin.
    #[test]
    fn access_levels_are_ordered() {
        assert!(AccessLevel::Admin > AccessLevel::ReadWrite);
        assert!(AccessLevel::ReadWrite > AccessLevel::ReadOnly);
        assert_eq!(AccessLevel::of_role("Administrator"), AccessLevel::None);
        assert_eq!(AccessLevel::parse("read-only"), Some(AccessLevel::ReadOnly));
    }
}
