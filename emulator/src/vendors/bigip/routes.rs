//! The routes ([`crate::vendors::routing::Routes`]) of the BIG-IP personality.
//!
//! | URI | Methods | Authentication |
//! |---|---|---|
//! | `/mgmt/shared/authn/login` | POST (login) | none |
//! | `/mgmt/shared/authz/tokens` | GET, POST (a token of the caller's choosing), DELETE | token or Basic |
//! | `/mgmt/shared/authz/tokens/{token}` | GET, PATCH, DELETE | token or Basic (owner only) |
//! | `/mgmt/shared/echo-query` | GET | token or Basic |
//! | `/mgmt/tm/sys`, `/mgmt/tm/sys/version` | GET | token or Basic |
//! | `/mgmt/tm/sys/service/restjavad` | POST `{"command": "restart"}` | admin |
//! | `/mgmt/tm/auth/user` | GET, POST | token or Basic; POST admin |
//! | `/mgmt/tm/auth/user/{name}` | GET, PATCH, DELETE | token or Basic |
//! | `/iControl/iControlPortal.cgi` | POST (SOAP 1.1); GET `?WSDL=<Interface>` | Basic |
//!
//! Every iControl REST path (`/mgmt/...`) is also served with one trailing slash, the
//! form f5-sdk writes every URI in ([P] f5-sdk `resource.py` `_activate_URI` appends `/`;
//! `ManagementRoot` reads `/mgmt/tm/sys/`): [`normalise`] trims it before routing, so
//! there is one route per resource. The SOAP portal is a file and takes no slash.
//!
//! Unknown paths get 404 and known paths with another method 405, both in the iControl
//! REST envelope; the [`finish`] middleware renders every error with the client's
//! address as `referer` and a fresh `restOperationId`, so no answer is ever plain text.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::vendors::http::{Inner, Shared};
use crate::vendors::routing::{get, post, Param, Routes};
use axum::body::Body;
use axum::extract::{FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use futures_util::FutureExt;
use serde::Serialize;
use serde_json::{Map, Value};

use super::auth::{Client, Principal};
use super::errors::{PendingError, RestError};
use super::uuid3::name_uuid_from_bytes;
use super::wire::{self, JsonObject};
use super::{fill, BigipSettings, CollectionScope, TimeoutFrom, TOKEN_SESSION_TYPE};
use crate::clock::Now;
use crate::device::{Device, DeviceHandle};
use crate::session::{
    Account, AccountError, AccountUpdate, ChosenTokenError, EndReason, LoginError, LoginRequest,
    Session, SessionSetup,
};

/// What every handler and extractor reads: the device, its BIG-IP settings and the
/// `restOperationId` counter. One per device, carried in the device's context
/// ([`crate::vendors::http::DeviceContext`]); one `Arc`, so each copy a request makes costs
/// one shared count.
#[derive(Clone, Debug)]
pub struct Ctx(Arc<CtxParts>);

/// What a [`Ctx`] holds.
#[derive(Debug)]
pub struct CtxParts {
    /// The device served.
    pub device: DeviceHandle,
    /// Its `[bigip]` settings (defaults when the profile has none).
    pub settings: Arc<BigipSettings>,
    operations: AtomicU64,
    /// `/mgmt/tm/sys/version`, which only the profile's settings shape: rendered once per
    /// profile.
    version: Arc<std::sync::OnceLock<crate::vendors::http::Rendered>>,
}

impl std::ops::Deref for Ctx {
    type Target = CtxParts;

    fn deref(&self) -> &CtxParts {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = RestError;

    /// The context of the device the request came to, which its service put in the
    /// request ([`Shared::serve`]).
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Ctx, RestError> {
        Ctx::of(&parts.extensions).ok_or_else(RestError::internal)
    }
}

impl Ctx {
    /// The context of `device`, with its profile's `settings` and the place the profile
    /// keeps its rendered `/mgmt/tm/sys/version`.
    fn with(
        device: DeviceHandle,
        settings: Arc<BigipSettings>,
        version: Arc<std::sync::OnceLock<crate::vendors::http::Rendered>>,
    ) -> Ctx {
        Ctx(Arc::new(CtxParts { device, settings, operations: AtomicU64::new(1000), version }))
    }

    /// The context a request carries (none outside a device's service).
    pub fn of(extensions: &axum::http::Extensions) -> Option<Ctx> {
        crate::vendors::http::DeviceContext::of(extensions)
    }

    /// The device's current time.
    pub fn now(&self) -> Now {
        self.device.now()
    }

    /// The next `restOperationId`.
    pub fn next_operation(&self) -> u64 {
        self.operations.fetch_add(1, Ordering::Relaxed)
    }
}

type Answer = Result<Response, RestError>;

/// The BIG-IP router of `device`, with the step every personality shares (`Date`, the
/// request log line): what a listener serves.
pub fn app(device: DeviceHandle) -> crate::vendors::http::App {
    crate::vendors::app_in(&shared(&device), device)
}

/// The BIG-IP service of `device`'s profile, for every device of it: each device has its
/// own `restOperationId` counter, and shares the rendered `/mgmt/tm/sys/version`, which
/// only the profile shapes.
pub fn shared(device: &Device) -> Shared {
    let settings = Arc::new(device.profile().bigip.clone().unwrap_or_default());
    let rendered: Arc<std::sync::OnceLock<crate::vendors::http::Rendered>> = Arc::default();
    let inner = Routes::new()
        .route(wire::LOGIN, post(login))
        .route(wire::TOKENS, get(list_tokens).post(create_token).delete(delete_tokens))
        .route(
            "/mgmt/shared/authz/tokens/{token}",
            get(get_token).patch(patch_token).delete(delete_token),
        )
        .route("/mgmt/shared/echo-query", get(echo_query))
        .route("/mgmt/tm/sys", get(sys))
        .route("/mgmt/tm/sys/version", get(version))
        .route("/mgmt/tm/sys/service/restjavad", post(restjavad))
        .route(wire::USERS, get(list_users).post(create_user))
        .route("/mgmt/tm/auth/user/{name}", get(get_user).patch(patch_user).delete(delete_user))
        .route(super::soap::PORTAL, post(super::soap::portal).get(super::wsdl::wsdl))
        .merge(super::objects::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    let app = crate::vendors::http::around(inner, (), finish);
    Shared::new(app, move |device| Ctx::with(device, settings.clone(), rendered.clone()))
}

/// The path a request is routed by: an iControl REST path (`/mgmt/...`) loses one
/// trailing slash, `/mgmt/tm/sys/` routing as `/mgmt/tm/sys`. Other paths are left alone.
pub fn routed_path(path: &str) -> std::borrow::Cow<'_, str> {
    crate::vendors::http::one_trailing_slash_ignored(path, "/mgmt/")
}

// ----- the last middleware -----

fn content_type_of(response: &Response) -> &str {
    response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Renders every REST error with the client's address and a `restOperationId`; an error
/// response that did not come from a [`RestError`] (an axum rejection) gets the envelope
/// too, so no answer is plain text. The request is routed by [`routed_path`].
///
/// The answer's future holds the router's call and what an error needs (context, method,
/// client address): combinators rather than an `async` block, which would hold the
/// request twice.
pub fn finish(
    (): &(),
    mut req: Request,
    next: &Inner,
) -> impl std::future::Future<Output = Response> + Send + 'static {
    let Some(ctx) = Ctx::of(req.extensions()) else {
        return Either::Left(std::future::ready(RestError::internal().render("127.0.0.1", 0, "")));
    };
    crate::vendors::http::reroute(&mut req, &routed_path);
    let method = req.method().clone();
    // The address is written out only for an error: formatting it cost a successful
    // request about a tenth of its work.
    let peer = crate::vendors::http::Connection::with(req.extensions(), |c| Some(c?.peer.ip()));
    let answer = next.run(req);
    Either::Right(answer.map(move |response| finish_answer(&ctx, &method, peer, response)))
}

/// [`finish`]'s touches on `response`, the router's answer to `method` from `peer`.
fn finish_answer(
    ctx: &Ctx,
    method: &Method,
    peer: Option<std::net::IpAddr>,
    mut response: Response,
) -> Response {
    let status = response.status();
    let error = match response.extensions_mut().remove::<PendingError>() {
        Some(PendingError(error)) => Some(error),
        None if (status.is_client_error() || status.is_server_error())
            && !content_type_of(&response).contains("json")
            && !content_type_of(&response).contains("xml") =>
        {
            Some(RestError::new(status, status.canonical_reason().unwrap_or("Error")))
        }
        None => None,
    };
    if let Some(error) = error {
        let referer = peer.map_or_else(|| "127.0.0.1".to_string(), |ip| ip.to_string());
        let rendered = error.render(&referer, ctx.next_operation(), &ctx.settings.auth_realm);
        // Not the message: some name the token the request carried.
        tracing::debug!(%method, status = status.as_u16(), "bigip: error");
        return rendered;
    }
    response
}

async fn not_found(uri: Uri, ctx: Ctx) -> RestError {
    RestError::not_found(fill(&ctx.settings.messages.uri_not_found, &[("path", uri.path())]))
}

async fn method_not_allowed(method: Method, uri: Uri, ctx: Ctx) -> RestError {
    RestError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        fill(
            &ctx.settings.messages.method_not_allowed,
            &[("method", method.as_str()), ("path", uri.path())],
        ),
    )
}

// ----- login -----

/// `message` of the 400 on the 101st token: `user <nameUUIDFromBytes(user)> has reached
/// maximum active login tokens` ([P] F5-TOKMGMT, [C] TF #401 on 15.1.2, TF #1049 on 17.1.2.1).
pub fn max_tokens_message(user: &str) -> String {
    format!(
        "user {} has reached maximum active login tokens",
        name_uuid_from_bytes(user.as_bytes())
    )
}

/// `message` of the 406 on a PATCH above the maximum ([P] F5-TOKMGMT).
pub fn timeout_exceeded_message(max: u64) -> String {
    format!("Auth-token absolute timeout ({max} seconds) exceeded")
}

/// `POST /mgmt/shared/authn/login`: 200 with the token, 401 `Authentication failed.` with
/// the request echoed without its password, 400 on the user's 101st token.
async fn login(ctx: Ctx, Client(client): Client, JsonObject(body): JsonObject) -> Answer {
    let echo = wire::echo_login_request(&body);
    let failed =
        || RestError::unauthorized("Authentication failed.").with_request_body(echo.clone());
    let provider = match body.get("loginProviderName") {
        None | Some(Value::Null) => ctx.settings.default_login_provider.clone(),
        Some(Value::String(p)) if ctx.settings.login_providers.contains(p) => p.clone(),
        Some(_) => return Err(RestError::unauthorized("loginProviderName is invalid.")),
    };
    let (Some(Value::String(user)), Some(Value::String(password))) =
        (body.get("username"), body.get("password"))
    else {
        return Err(failed());
    };
    let now = ctx.now();
    let store = &ctx.device.store;
    let request = LoginRequest { user, password, session_type: TOKEN_SESSION_TYPE, client };
    // The provider is set as the token is made: a delete racing the login must not find
    // (or leave) a token without one.
    let setup = SessionSetup::new().attr(wire::ATTR_PROVIDER, provider.as_str());
    let session = match store.login_with(&request, &setup, now) {
        Ok(session) => session,
        Err(LoginError::LimitReached { scope, limit }) => {
            tracing::info!(user = %user, %scope, limit, "bigip: login refused, too many tokens");
            return Err(RestError::bad_request(max_tokens_message(user)));
        }
        Err(_) => {
            tracing::info!(user = %user, "bigip: login refused");
            return Err(failed());
        }
    };
    tracing::info!(user = %user, session = %session.id, "bigip: token issued");
    Ok(wire::ok(&wire::login(&session, &provider, &ctx.settings)))
}

// ----- tokens -----

/// The token named in the path, if it is the caller's: 404 when there is no such live
/// token, 400 when it is someone else's ([P] F5-TOKMGMT "You can only manage your own token").
fn own_token(ctx: &Ctx, p: &Principal, token: &str) -> Result<Session, RestError> {
    let not_found =
        || RestError::not_found(fill(&ctx.settings.messages.token_not_found, &[("token", token)]));
    match ctx.device.store.peek(token, ctx.now()) {
        Ok(s) if s.session_type == TOKEN_SESSION_TYPE && s.user == p.user => Ok(Session::clone(&s)),
        Ok(s) if s.session_type == TOKEN_SESSION_TYPE => Err(RestError::bad_request(fill(
            &ctx.settings.messages.foreign_token,
            &[("token", token), ("user", &p.user)],
        ))),
        _ => Err(not_found()),
    }
}

fn tokens_of(ctx: &Ctx, user: Option<&str>) -> Vec<Session> {
    ctx.device
        .store
        .list(ctx.now())
        .into_iter()
        .filter(|s| s.session_type == TOKEN_SESSION_TYPE && user.is_none_or(|u| s.user == u))
        .collect()
}

/// `GET /mgmt/shared/authz/tokens`: the caller's own tokens.
async fn list_tokens(ctx: Ctx, p: Principal) -> Answer {
    Ok(wire::ok(&wire::token_collection(&tokens_of(&ctx, Some(&p.user)), &ctx.settings)))
}

/// The user a created token is for: the account named by a `.../authz/users/<name>` link,
/// else the caller (F5's own test links the provider's users collection, [P] f5-sdk
/// `test_authz.py` `users_link`).
fn token_owner(ctx: &Ctx, p: &Principal, body: &Map<String, Value>) -> String {
    let named = body
        .get("user")
        .and_then(|u| u.get("link"))
        .and_then(Value::as_str)
        .and_then(|link| link.split('?').next())
        .and_then(|link| link.rsplit_once("/mgmt/shared/authz/users/"))
        .map(|(_, name)| name.trim_end_matches('/'))
        .filter(|name| !name.is_empty() && !name.contains('/'));
    match named {
        Some(name) if ctx.device.store.account(name).is_some() => name.to_string(),
        _ => p.user.clone(),
    }
}

/// `POST /mgmt/shared/authz/tokens` with `{"token": "<value>", "user": {"link": ...}}`:
/// a token whose value the caller chose ([P] f5-sdk `Token` requires `token` and `user`;
/// its functional test creates `T1234512345123451234512345`). It counts and expires as a
/// login's token does; 200 with the token. A token for another user needs an
/// administrator (F5-TOKMGMT: manage others' tokens "with an appropriate role").
async fn create_token(
    ctx: Ctx,
    p: Principal,
    Client(client): Client,
    JsonObject(body): JsonObject,
) -> Answer {
    let settings = &ctx.settings;
    let value = body.get("token").and_then(Value::as_str).unwrap_or("");
    let usable = !value.is_empty()
        && value.len() <= 256
        && value.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'/' | b'?' | b'#' | b'%'));
    if !usable {
        return Err(RestError::bad_request(fill(
            &settings.messages.bad_token,
            &[("token", value)],
        )));
    }
    let timeout = match body.get("timeout") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let t = v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .filter(|t| *t >= 1)
                .ok_or_else(|| RestError::bad_request(settings.messages.bad_timeout.clone()))?;
            if t > settings.max_token_timeout_secs {
                return Err(RestError::new(
                    StatusCode::NOT_ACCEPTABLE,
                    timeout_exceeded_message(settings.max_token_timeout_secs),
                ));
            }
            Some(t)
        }
    };
    let owner = token_owner(&ctx, &p, &body);
    if owner != p.user && !p.is_admin(&ctx) {
        return Err(RestError::bad_request(fill(
            &settings.messages.foreign_token,
            &[("token", value), ("user", &p.user)],
        )));
    }
    let provider = p
        .token
        .as_ref()
        .and_then(|t| t.attrs.get(wire::ATTR_PROVIDER).cloned())
        .unwrap_or_else(|| settings.default_login_provider.clone());
    let mut setup = SessionSetup::new().attr(wire::ATTR_PROVIDER, provider);
    if let Some(t) = timeout {
        setup = setup
            .idle_timeout(Some(std::time::Duration::from_secs(t)), false)
            .attr(wire::ATTR_TIMEOUT, t.to_string());
    }
    let store = &ctx.device.store;
    let now = ctx.now();
    let opened = store.open_with_token_with(&owner, TOKEN_SESSION_TYPE, value, client, &setup, now);
    let session = match opened {
        Ok(session) => session,
        Err(ChosenTokenError::InUse) => {
            return Err(RestError::new(
                StatusCode::CONFLICT,
                fill(&settings.messages.token_exists, &[("token", value)]),
            ))
        }
        Err(ChosenTokenError::Login(LoginError::LimitReached { scope, limit })) => {
            tracing::info!(user = %owner, %scope, limit, "bigip: token refused, too many tokens");
            return Err(RestError::bad_request(max_tokens_message(&owner)));
        }
        Err(_) => return Err(user_not_found(&ctx, &owner)),
    };
    tracing::info!(by = %p.user, user = %owner, session = %session.id, "bigip: token created");
    Ok(wire::ok(&wire::token(&session, settings)))
}

/// `DELETE /mgmt/shared/authz/tokens`: ends the caller's tokens (or, with
/// `delete_collection_scope = "all"`, an administrator ends everyone's).
async fn delete_tokens(ctx: Ctx, p: Principal) -> Answer {
    let everyone = ctx.settings.delete_collection_scope == CollectionScope::All && p.is_admin(&ctx);
    let targets = tokens_of(&ctx, (!everyone).then_some(p.user.as_str()));
    let now = ctx.now();
    let ended: Vec<Session> = targets
        .iter()
        .filter_map(|s| {
            let reason = if s.user == p.user { EndReason::Logout } else { EndReason::AdminDelete };
            ctx.device.store.end(&s.id, reason, now).ok().map(Arc::unwrap_or_clone)
        })
        .collect();
    tracing::info!(by = %p.user, ended = ended.len(), "bigip: token collection deleted");
    Ok(wire::ok(&wire::token_collection(&ended, &ctx.settings)))
}

async fn get_token(ctx: Ctx, p: Principal, Param(token): Param<String>) -> Answer {
    let session = own_token(&ctx, &p, &token)?;
    Ok(wire::ok(&wire::token(&session, &ctx.settings)))
}

/// `PATCH .../tokens/<token>` with `{"timeout": N}`: 406 above the maximum ([P]); the
/// new expiry counts from creation or from now per `token_timeout_from`; `generation`
/// goes up by one.
async fn patch_token(
    ctx: Ctx,
    p: Principal,
    Param(token): Param<String>,
    JsonObject(body): JsonObject,
) -> Answer {
    let session = own_token(&ctx, &p, &token)?;
    let settings = &ctx.settings;
    let bad_timeout = || RestError::bad_request(settings.messages.bad_timeout.clone());
    let timeout = match body.get("timeout") {
        Some(v) => v.as_u64().filter(|t| *t >= 1).ok_or_else(bad_timeout)?,
        None => token_timeout_or_default(&session),
    };
    if timeout > settings.max_token_timeout_secs {
        return Err(RestError::new(
            StatusCode::NOT_ACCEPTABLE,
            timeout_exceeded_message(settings.max_token_timeout_secs),
        ));
    }
    let store = &ctx.device.store;
    let now = ctx.now();
    let from_now = settings.token_timeout_from == TimeoutFrom::Now;
    let expired = || RestError::unauthorized(super::auth::TOKEN_EXPIRED);
    // One step: the generation is read and raised under the same look as the timeout
    // change, so two PATCHes at once count twice and no reader sees half of one.
    let session = store
        .update_session(&session.id, now, |current| {
            let generation = current
                .attrs
                .get(wire::ATTR_GENERATION)
                .and_then(|g| g.parse::<u64>().ok())
                .unwrap_or(1)
                + 1;
            Ok::<_, std::convert::Infallible>(
                SessionSetup::new()
                    .idle_timeout(Some(std::time::Duration::from_secs(timeout)), from_now)
                    .attr(wire::ATTR_TIMEOUT, timeout.to_string())
                    .attr(wire::ATTR_GENERATION, generation.to_string())
                    .attr(wire::ATTR_UPDATED, wire::micros(now.utc).to_string()),
            )
        })
        .map_err(|_| expired())?;
    tracing::info!(user = %p.user, session = %session.id, timeout, "bigip: token timeout changed");
    Ok(wire::ok(&wire::token(&session, settings)))
}

fn token_timeout_or_default(session: &Session) -> u64 {
    wire::token_timeout(session).max(1)
}

/// `DELETE .../tokens/<token>`: logout; 200 with the token as it was ([I]).
async fn delete_token(ctx: Ctx, p: Principal, Param(token): Param<String>) -> Answer {
    let session = own_token(&ctx, &p, &token)?;
    let ended = ctx.device.store.end(&session.id, EndReason::Logout, ctx.now()).map_err(|_| {
        RestError::not_found(fill(&ctx.settings.messages.token_not_found, &[("token", &token)]))
    })?;
    tracing::info!(user = %p.user, session = %ended.id, "bigip: token deleted");
    Ok(wire::ok(&wire::token(&ended, &ctx.settings)))
}

// ----- small resources -----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EchoQuery {
    query: Map<String, Value>,
    generation: u64,
    last_update_micros: u64,
    kind: &'static str,
    self_link: String,
}

/// `GET /mgmt/shared/echo-query`: a connection check that creates no token ([C] BIGREST #13).
async fn echo_query(
    _p: Principal,
    Query(query): Query<std::collections::BTreeMap<String, String>>,
) -> Answer {
    let body = EchoQuery {
        query: query.into_iter().map(|(k, v)| (k, Value::from(v))).collect(),
        generation: 0,
        last_update_micros: 0,
        kind: "shared:echo-query:echoqueryworkerstate",
        self_link: format!("{}/mgmt/shared/echo-query", wire::ORIGIN),
    };
    Ok(wire::ok(&body))
}

#[derive(Serialize)]
struct Reference {
    reference: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SysCollection {
    kind: &'static str,
    self_link: String,
    items: Vec<Reference>,
}

/// `GET /mgmt/tm/sys`: f5-ansible's Basic-auth probe ([P] F5-ANSIBLE bigip.py).
async fn sys(ctx: Ctx, _p: Principal) -> Answer {
    let v = &ctx.settings.version;
    let items = ["version", "service"]
        .into_iter()
        .map(|name| Reference {
            reference: serde_json::json!({ "link": format!("{}/mgmt/tm/sys/{name}?ver={v}", wire::ORIGIN) }),
        })
        .collect();
    let body = SysCollection {
        kind: "tm:sys:syscollectionstate",
        self_link: format!("{}/mgmt/tm/sys?ver={v}", wire::ORIGIN),
        items,
    };
    Ok(wire::ok(&body))
}

async fn version(ctx: Ctx, _p: Principal) -> Answer {
    let body = ctx.version.get_or_init(|| {
        let bytes = serde_json::to_vec(&wire::version(&ctx.settings)).unwrap_or_default();
        crate::vendors::http::Rendered::new(bytes.into())
    });
    Ok(wire::ok_rendered(body))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceRun {
    kind: &'static str,
    command: &'static str,
    name: &'static str,
    released_token_slots: usize,
}

/// `POST /mgmt/tm/sys/service/restjavad` `{"command": "restart"}` (tmsh `restart sys
/// service restjavad`): the workaround for bug ID1787517 on 17.1.2.x ([C] ASTs #125,
/// #151): tokens that were deleted or expired stop counting against their users.
async fn restjavad(ctx: Ctx, p: Principal, JsonObject(body): JsonObject) -> Answer {
    p.require_admin(&ctx, "POST", "/mgmt/tm/sys/service/restjavad")?;
    if body.get("command").and_then(Value::as_str) != Some("restart") {
        return Err(RestError::bad_request(ctx.settings.messages.bad_service_command.clone()));
    }
    let now = ctx.now();
    let store = &ctx.device.store;
    let released = store.clear_ghosts(now);
    let mut ended = 0;
    if ctx.settings.restjavad_restart_ends_tokens {
        for s in tokens_of(&ctx, None) {
            ended += usize::from(store.end(&s.id, EndReason::Restart, now).is_ok());
        }
    }
    tracing::info!(by = %p.user, released, ended, "bigip: restjavad restarted");
    Ok(wire::ok(&ServiceRun {
        kind: "tm:sys:service:runstate",
        command: "restart",
        name: "restjavad",
        released_token_slots: released,
    }))
}

// ----- local users -----

fn user_not_found(ctx: &Ctx, user: &str) -> RestError {
    RestError::not_found(fill(&ctx.settings.messages.user_not_found, &[("user", user)]))
}

async fn list_users(ctx: Ctx, _p: Principal) -> Answer {
    Ok(wire::ok(&wire::users(&ctx.device.store.accounts(), &ctx.settings)))
}

async fn get_user(ctx: Ctx, _p: Principal, Param(name): Param<String>) -> Answer {
    let account = ctx.device.store.account(&name).ok_or_else(|| user_not_found(&ctx, &name))?;
    Ok(wire::ok(&wire::user(&account, &ctx.settings)))
}

/// The role in `partitionAccess[0].role` (or a legacy top-level `role`).
fn role_of(body: &Map<String, Value>) -> Option<Option<String>> {
    if let Some(access) = body.get("partitionAccess") {
        let role = access.as_array()?.first()?.get("role")?.as_str()?;
        return Some(Some(role.to_string()));
    }
    match body.get("role") {
        Some(Value::String(r)) => Some(Some(r.clone())),
        Some(_) => None,
        None => Some(None),
    }
}

/// `POST /mgmt/tm/auth/user` with `name`, `password` and `partitionAccess`; new users
/// get role `no-access` unless one is given.
async fn create_user(ctx: Ctx, p: Principal, JsonObject(body): JsonObject) -> Answer {
    p.require_admin(&ctx, "POST", wire::USERS)?;
    let name = body.get("name").and_then(Value::as_str).unwrap_or("").to_string();
    let bad = || RestError::bad_request(fill(&ctx.settings.messages.bad_user, &[("user", &name)]));
    let password = match body.get("password") {
        Some(Value::String(pw)) => pw.clone(),
        None => String::new(),
        Some(_) => return Err(bad()),
    };
    let role = role_of(&body).ok_or_else(bad)?.unwrap_or_else(|| "no-access".to_string());
    if name.is_empty() {
        return Err(bad());
    }
    let created = ctx.device.store.add_account(Account::new(&name, &password, &role)).map_err(
        |e| match e {
            AccountError::Exists(n) => RestError::new(
                StatusCode::CONFLICT,
                fill(&ctx.settings.messages.user_exists, &[("user", &n)]),
            ),
            _ => bad(),
        },
    )?;
    tracing::info!(by = %p.user, user = %created.user, role = %created.role, "bigip: user created");
    Ok(wire::ok(&wire::user(&created, &ctx.settings)))
}

/// `PATCH /mgmt/tm/auth/user/<name>`: `password` (own, or any as admin) applies the
/// profile's `on_password_change` to the user's tokens; a role change needs admin.
async fn patch_user(
    ctx: Ctx,
    p: Principal,
    Param(name): Param<String>,
    JsonObject(body): JsonObject,
) -> Answer {
    let path = format!("{}/{name}", wire::USERS);
    let store = &ctx.device.store;
    store.account(&name).ok_or_else(|| user_not_found(&ctx, &name))?;
    let bad = || RestError::bad_request(fill(&ctx.settings.messages.bad_user, &[("user", &name)]));
    let role = role_of(&body).ok_or_else(bad)?;
    let password = match body.get("password") {
        Some(Value::String(pw)) => Some(pw.clone()),
        None => None,
        Some(_) => return Err(bad()),
    };
    if role.is_some() || name != p.user {
        p.require_admin(&ctx, "PATCH", &path)?;
    }
    let now = ctx.now();
    if let Some(password) = password {
        let (_, ended) = store
            .change_password(&name, &password, now)
            .map_err(|_| user_not_found(&ctx, &name))?;
        tracing::info!(by = %p.user, user = %name, ended = ended.len(), "bigip: password changed");
    }
    if let Some(role) = role {
        let update = AccountUpdate { role: Some(role), ..AccountUpdate::default() };
        store.update_account(&name, &update).map_err(|_| user_not_found(&ctx, &name))?;
    }
    let account = store.account(&name).ok_or_else(|| user_not_found(&ctx, &name))?;
    Ok(wire::ok(&wire::user(&account, &ctx.settings)))
}

/// `DELETE /mgmt/tm/auth/user/<name>`: 200 with no body; the profile's `on_user_delete`
/// says what happens to the user's tokens.
async fn delete_user(ctx: Ctx, p: Principal, Param(name): Param<String>) -> Answer {
    p.require_admin(&ctx, "DELETE", &format!("{}/{name}", wire::USERS))?;
    let (_, ended) = ctx
        .device
        .store
        .delete_account(&name, ctx.now())
        .map_err(|_| user_not_found(&ctx, &name))?;
    tracing::info!(by = %p.user, user = %name, ended = ended.len(), "bigip: user deleted");
    Ok(Response::new(Body::empty()).into_response())
}
