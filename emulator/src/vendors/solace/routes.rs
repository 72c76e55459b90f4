//! The routes ([`crate::vendors::routing::Routes`]) of the Solace PubSub+ personality.
//!
//! | URI | Methods | Access level |
//! |---|---|---|
//! | `/SEMP/v2/{monitor,config,action}/about` | GET | none |
//! | `/SEMP/v2/{monitor,config,action}/about/api` | GET | none |
//! | `/SEMP/v2/{monitor,config,action}/about/user` | GET | none |
//! | `/SEMP/v2/action/about/user/logout` | PUT `{}` | none |
//! | `/SEMP/v2/{monitor,action}/sessions` | GET (`count`, `cursor`, `where`, `select`) | read-only |
//! | `/SEMP/v2/{monitor,action}/sessions/{user},{id}` | GET | read-only |
//! | `/SEMP/v2/action/sessions/{user},{id}/delete` | PUT `{}` | admin |
//! | `/SEMP/v2/config` (Broker) | GET; PATCH the two session timeouts | read-only; read-write |
//! | `/SEMP/v2/monitor` (Broker) | GET | read-only |
//! | `/SEMP/v2/__private_config__` (Broker: management auth type) | GET; PATCH | read-only; admin |
//! | `/SEMP/v2/__private_config__/usernames` | GET; POST | read-only; admin |
//! | `/SEMP/v2/__private_config__/usernames/{userName}` | GET; PATCH; DELETE | read-only; admin |
//! | `/SEMP/v2/__private_action__/usernames/{userName}/rename` | PUT `{"newUserName"}` | admin |
//! | `/SEMP/v2/{config,monitor}/msgVpns/...`, `.../about/user/msgVpns` | see [`super::objects`] | read-only; read-write |
//!
//! Every request is authenticated first, by the [`semp`] middleware (see [`super::auth`]),
//! so a Basic request opens a session whatever it asks for, and the answer carries the
//! `Set-Cookie`. Unknown paths get 400 `NOT_FOUND`, known paths with another method 400
//! `NOT_SUPPORTED`, bad bodies 400 `PARSE_ERROR`: always the SEMP error envelope.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use futures_util::FutureExt;
use serde_json::{json, Map, Value};

use super::auth::{self, AccessLevel, Authorized, Principal};
use super::errors::{PendingError, SempError};
use super::wire::{self, Api, ListParams, ReqInfo, SempJson, PRIVATE_ACTION, PRIVATE_CONFIG};
use super::{SolaceSettings, AUTH_PROFILE_SETTING, AUTH_TYPE_SETTING};
use crate::clock::Now;
use crate::device::{Device, DeviceHandle};
use crate::session::{Account, AccountError, AccountUpdate, EndReason, Session, UserChange};
use crate::vendors::http::{Inner, ListenerScheme, Rendered, Shared};
use crate::vendors::routing::{get, put, Routes};

/// What every handler and extractor reads: the device and its Solace settings. One per
/// device, carried in the device's context ([`crate::vendors::http::DeviceContext`]); one
/// `Arc`, so the copies every request makes (its step, its handler) cost one shared count,
/// not one per part.
#[derive(Clone, Debug)]
pub struct Ctx(Arc<CtxParts>);

/// What a [`Ctx`] holds.
#[derive(Debug)]
pub struct CtxParts {
    /// The device served.
    pub device: DeviceHandle,
    /// Its `[solace]` settings (defaults when the profile has none).
    pub settings: Arc<SolaceSettings>,
    /// The Broker object as last answered, by everything its body shows.
    broker: Mutex<Option<(BrokerState, Rendered)>>,
}

impl std::ops::Deref for Ctx {
    type Target = CtxParts;

    fn deref(&self) -> &CtxParts {
        &self.0
    }
}

/// What a Broker answer shows: whether the timeouts are readable, their values (s), and
/// the request (its method is always GET).
#[derive(Clone, Debug, PartialEq, Eq)]
struct BrokerState {
    readable: bool,
    timeouts: (u64, u64),
    base: String,
    path: String,
    query: Option<String>,
}

impl BrokerState {
    fn is(&self, readable: bool, timeouts: (u64, u64), req: &ReqInfo) -> bool {
        self.readable == readable
            && self.timeouts == timeouts
            && self.base == req.base
            && self.path == req.path
            && self.query == req.query
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = SempError;

    /// The context of the device the request came to, which its service put in the
    /// request ([`Shared::serve`]).
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Ctx, SempError> {
        Ctx::of(&parts.extensions).ok_or_else(no_context)
    }
}

impl Ctx {
    /// The context a request carries: in the [`Authorized`] SEMP's step hands a handler,
    /// or as the device's service put it in (none outside a device's service).
    pub fn of(extensions: &axum::http::Extensions) -> Option<Ctx> {
        match extensions.get::<Authorized>() {
            Some(authorized) => Some(authorized.ctx.clone()),
            None => crate::vendors::http::DeviceContext::of(extensions),
        }
    }
}

/// What a request outside a device's service gets (none does: every service puts its
/// device's context in).
pub(super) fn no_context() -> SempError {
    SempError::internal("The request reached no device")
}

impl Ctx {
    /// The context of `device`, with its profile's `settings`.
    fn with(device: DeviceHandle, settings: Arc<SolaceSettings>) -> Ctx {
        Ctx(Arc::new(CtxParts { device, settings, broker: Mutex::default() }))
    }

    /// The device's current time.
    pub fn now(&self) -> Now {
        self.device.now()
    }
}

/// Attribute of the Broker object: the SEMP session idle timeout, minutes [P].
pub const IDLE_TIMEOUT: &str = "serviceSempSessionIdleTimeout";

/// Attribute of the Broker object: the SEMP session maximum lifetime, minutes [P].
pub const MAX_LIFETIME: &str = "serviceSempSessionMaxLifetime";

/// The Solace router of `device`, with the step every personality shares (`Date`, the
/// request log line): what a listener serves.
pub fn app(device: DeviceHandle) -> crate::vendors::http::App {
    crate::vendors::app_in(&shared(&device), device)
}

/// The Solace service of `device`'s profile, for every device of it.
pub fn shared(device: &Device) -> Shared {
    let settings = Arc::new(device.profile().solace.clone().unwrap_or_default());
    let mut r = Routes::new();
    for api in [Api::Monitor, Api::Config, Api::Action] {
        let base = api.base();
        r = r
            .route(&format!("{base}/about"), get(about))
            .route(&format!("{base}/about/api"), get(about_api))
            .route(&format!("{base}/about/user"), get(about_user));
    }
    let r = r
        .route("/SEMP/v2/action/about/user/logout", put(logout))
        .route("/SEMP/v2/monitor/sessions", get(list_sessions))
        .route("/SEMP/v2/action/sessions", get(list_sessions))
        .route("/SEMP/v2/monitor/sessions/{key}", get(get_session))
        .route("/SEMP/v2/action/sessions/{key}", get(get_session))
        .route("/SEMP/v2/action/sessions/{key}/delete", put(delete_session))
        .route("/SEMP/v2/config", get(get_broker).patch(patch_broker))
        .route("/SEMP/v2/monitor", get(get_broker))
        .route(PRIVATE_CONFIG, get(get_auth_config).patch(patch_auth_config))
        .route(&format!("{PRIVATE_CONFIG}/usernames"), get(list_users).post(create_user))
        .route(
            &format!("{PRIVATE_CONFIG}/usernames/{{user}}"),
            get(get_user).patch(patch_user).delete(delete_user),
        )
        .route(&format!("{PRIVATE_ACTION}/usernames/{{user}}/rename"), put(rename_user));
    let r = super::objects::routes(r)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    let app = crate::vendors::http::around(r, (), semp);
    Shared::new(app, move |device| Ctx::with(device, settings.clone()))
}

/// The path a request is routed by. SEMP's own specification puts the Broker object at
/// `/` under each API base (`/SEMP/v2/config/`), and the documented URIs have no trailing
/// slash: both reach the same object (bigip-solace.md Part 2).
fn routed_path(path: &str) -> std::borrow::Cow<'_, str> {
    crate::vendors::http::one_trailing_slash_ignored(path, "/SEMP/")
}

// ----- the middleware -----

/// Authenticates every request, hands the handler its [`Principal`] and [`ReqInfo`],
/// sets the `Session` cookie when the request opened a session that is still open, and
/// renders every error in the SEMP envelope, naming the request.
///
/// The answer's future holds the router's call, the context and the request's
/// description: combinators rather than an `async` block, which would hold the request
/// twice.
pub fn semp(
    (): &(),
    mut req: Request,
    next: &Inner,
) -> impl std::future::Future<Output = Response> + Send + 'static {
    let Some(ctx) = Ctx::of(req.extensions()) else {
        return Either::Left(std::future::ready(no_context().into_response()));
    };
    crate::vendors::http::reroute(&mut req, &routed_path);
    // The URI as the client sent it, trailing slash included.
    let info = ReqInfo::new(
        req.method(),
        crate::vendors::http::SentUri::of(&req),
        req.headers(),
        ListenerScheme::of(req.extensions()),
        &ctx.settings,
    );
    let (answer, created) = match auth::authenticate(req.headers(), req.extensions(), &ctx) {
        Ok(principal) => {
            let created = principal.created().map(|s| s.token.clone());
            let authorized = Authorized { principal, info: info.clone(), ctx: ctx.clone() };
            req.extensions_mut().insert(authorized);
            (Either::Left(next.run(req)), created)
        }
        Err(error) => (Either::Right(std::future::ready(error.into_response())), None),
    };
    Either::Right(answer.map(move |response| semp_answer(&ctx, &info, created, response)))
}

/// [`semp`]'s touches on `response`, the answer to the request `info` describes: the
/// cookie of the session it `created`, and errors in the SEMP envelope.
fn semp_answer(
    ctx: &Ctx,
    info: &ReqInfo,
    created: Option<crate::session::Token>,
    mut response: Response,
) -> Response {
    if let Some(token) = created {
        // Only for a session that is still open: a Basic logout ends it at once.
        if ctx.device.store.peek(token.as_str(), ctx.now()).is_ok() {
            set_cookie(&mut response, &ctx.settings, token.as_str());
        }
    }
    let status = response.status();
    let error = match response.extensions_mut().remove::<PendingError>() {
        Some(PendingError(error)) => Some(error),
        None if (status.is_client_error() || status.is_server_error()) && !is_json(&response) => {
            Some(error_for_status(status, info, &ctx.settings))
        }
        None => None,
    };
    if let Some(error) = &error {
        let body = error.envelope(&info.method, &info.uri());
        *response.body_mut() =
            axum::body::Body::from(serde_json::to_vec(&body).unwrap_or_default());
        *response.status_mut() = error.http;
        let headers = response.headers_mut();
        headers.remove(header::CONTENT_LENGTH);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if error.http.canonical_reason().is_none() {
            // bigip-solace.md 2.2 [P]: "529 No SEMP Session Available" — a status HTTP
            // does not name, so the reason phrase is the broker's own words.
            if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(error.description.clone()) {
                response.extensions_mut().insert(phrase);
            }
        }
        tracing::debug!(
            method = %info.method,
            path = %crate::flags::escape_controls(&info.path),
            status = error.http.as_u16(),
            code = error.code,
            "solace: error"
        );
    }
    response
}

fn set_cookie(response: &mut Response, settings: &SolaceSettings, token: &str) {
    let mut value = format!("{}={token}", settings.cookie_name);
    if !settings.cookie_attributes.is_empty() {
        value.push_str("; ");
        value.push_str(&settings.cookie_attributes);
    }
    if let Ok(mut value) = HeaderValue::from_str(&value) {
        value.set_sensitive(true);
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The SEMP error for an error response that did not come from a [`SempError`] (one of
/// axum's own rejections), so no answer is ever plain text.
fn error_for_status(status: StatusCode, info: &ReqInfo, settings: &SolaceSettings) -> SempError {
    match status {
        StatusCode::NOT_FOUND => SempError::no_such_path(&info.path),
        StatusCode::METHOD_NOT_ALLOWED => method_error(info),
        StatusCode::UNAUTHORIZED => SempError::unauthorized(settings),
        s if s.is_client_error() => SempError::parse_error("The request could not be parsed"),
        _ => SempError::internal("The request could not be completed"),
    }
}

fn method_error(info: &ReqInfo) -> SempError {
    SempError::not_supported(format!("Method {} is not supported for {}", info.method, info.path))
}

async fn not_found(req: ReqInfo) -> SempError {
    SempError::no_such_path(&req.path)
}

async fn method_not_allowed(req: ReqInfo) -> SempError {
    method_error(&req)
}

type Answer = Result<Response, SempError>;

fn ok(body: &Value) -> Answer {
    Ok(wire::json_response(StatusCode::OK, body))
}

/// The API a path belongs to.
fn api_of(path: &str) -> Api {
    if path.starts_with(Api::Config.base()) {
        Api::Config
    } else if path.starts_with(Api::Action.base()) {
        Api::Action
    } else {
        Api::Monitor
    }
}

/// Attributes of a PATCH or action body that this resource does not take: code 11
/// ("an attribute ... that is unexpected is in the object", [P]).
fn reject_unknown(body: &Map<String, Value>, known: &[&str], ctx: &Ctx) -> Result<(), SempError> {
    match body.keys().find(|k| !known.contains(&k.as_str())) {
        Some(name) => {
            Err(SempError::invalid_parameter(&ctx.settings, format!("Unknown attribute {name}")))
        }
        None => Ok(()),
    }
}

// ----- about -----

async fn about(req: ReqInfo) -> Answer {
    let base = api_of(&req.path).base();
    let links = json!({
        "apiUri": req.link(&format!("{base}/about/api")),
        "uri": req.link(&format!("{base}/about")),
        "userUri": req.link(&format!("{base}/about/user")),
    });
    ok(&wire::object_body(&req, json!({}), links))
}

async fn about_api(ctx: Ctx, req: ReqInfo) -> Answer {
    let data =
        json!({ "platform": ctx.settings.platform, "sempVersion": ctx.settings.semp_version });
    let data = wire::select_object(data, &req.params(), &ctx.settings)?;
    ok(&wire::object_body(&req, data, json!({ "uri": req.link(&req.path) })))
}

/// `AboutUser`: the session behind this request (bigip-solace.md 2.4).
async fn about_user(ctx: Ctx, p: Principal, req: ReqInfo) -> Answer {
    let now = ctx.now();
    // The session as it is now: this request renewed its idle timer.
    let session = p.session().and_then(|s| ctx.device.store.get(&s.id, now));
    let level = p.level();
    let data = wire::about_user(&p.user, level.as_str(), session.as_ref(), now);
    let data = wire::select_object(data, &req.params(), &ctx.settings)?;
    let base = api_of(&req.path).base();
    let mut links = json!({ "uri": req.link(&format!("{base}/about/user")) });
    if api_of(&req.path) == Api::Action && ctx.settings.action_links {
        links["logoutUri"] = json!(req.link(&format!("{base}/about/user/logout")));
    }
    ok(&wire::object_body(&req, data, links))
}

/// `PUT /SEMP/v2/action/about/user/logout` with `{}`: the session ends, reason `logout`
/// (bigip-solace.md 2.4, [P]). A Bearer request has no session to end.
async fn logout(ctx: Ctx, p: Principal, req: ReqInfo, SempJson(body): SempJson) -> Answer {
    reject_unknown(&body, &[], &ctx)?;
    if let Some(session) = p.session() {
        if ctx.device.store.end(&session.id, EndReason::Logout, ctx.now()).is_ok() {
            tracing::info!(user = %p.user, session = %session.id, "solace: logout");
        }
    }
    ok(&wire::meta_only(&req))
}

// ----- sessions -----

fn render_session(ctx: &Ctx, req: &ReqInfo, api: Api, s: &Session) -> (Value, Value) {
    let data = match api {
        Api::Action => wire::action_session(s),
        _ => wire::monitor_session(s),
    };
    (data, wire::session_links(req, api, s, ctx.settings.action_links))
}

/// `GET /SEMP/v2/{monitor,action}/sessions`, paged (bigip-solace.md 2.4, [P]).
async fn list_sessions(ctx: Ctx, p: Principal, req: ReqInfo) -> Answer {
    p.require(&ctx, AccessLevel::ReadOnly)?;
    let api = api_of(&req.path);
    let params = ListParams::parse(&req.params(), &ctx.settings)?;
    let sessions = ctx.device.store.list(ctx.now());
    let page = wire::page_of_sessions(sessions, &params, &ctx.settings, |s| {
        render_session(&ctx, &req, api, s)
    })?;
    ok(&wire::collection_body(&req, page, &params))
}

/// The `{user},{id}` segment of a session URI as sent, split at its unescaped comma.
fn session_key(ctx: &Ctx, req: &ReqInfo) -> Result<(String, String), SempError> {
    let rest = req
        .path
        .split_once("/sessions/")
        .map(|(_, rest)| rest.trim_end_matches("/delete"))
        .unwrap_or("");
    let raw = if ctx.settings.escaped_comma_matches {
        rest.replace("%2C", ",").replace("%2c", ",")
    } else {
        rest.to_string()
    };
    let missing = || SempError::not_found(format!("Could not find match for session {rest}"));
    let (user, id) = raw.split_once(',').ok_or_else(missing)?;
    let decode = |s: &str| wire::Params::parse(&format!("v={}", s.replace('+', "%2B")));
    let user = decode(user).first("v").unwrap_or_default().to_string();
    let id = decode(id).first("v").unwrap_or_default().to_string();
    Ok((user, id))
}

fn find_session(ctx: &Ctx, req: &ReqInfo) -> Result<Session, SempError> {
    let (user, id) = session_key(ctx, req)?;
    ctx.device.store.get(&id, ctx.now()).filter(|s| s.user == user).ok_or_else(|| {
        SempError::not_found(format!(
            "Could not find match for sessionUsername {user} and sessionId {id}"
        ))
    })
}

/// `GET /SEMP/v2/{monitor,action}/sessions/{user},{id}`.
async fn get_session(ctx: Ctx, p: Principal, req: ReqInfo) -> Answer {
    p.require(&ctx, AccessLevel::ReadOnly)?;
    let session = find_session(&ctx, &req)?;
    let (data, links) = render_session(&ctx, &req, api_of(&req.path), &session);
    let data = wire::select_object(data, &req.params(), &ctx.settings)?;
    ok(&wire::object_body(&req, data, links))
}

/// `PUT /SEMP/v2/action/sessions/{user},{id}/delete` with `{}`: global admin only; the
/// session ends, reason `admin-delete` (bigip-solace.md 2.4 and 2.6, [P]).
async fn delete_session(ctx: Ctx, p: Principal, req: ReqInfo, SempJson(body): SempJson) -> Answer {
    p.require(&ctx, AccessLevel::Admin)?;
    reject_unknown(&body, &[], &ctx)?;
    let session = find_session(&ctx, &req)?;
    ctx.device
        .store
        .end(&session.id, EndReason::AdminDelete, ctx.now())
        .map_err(|_| SempError::not_found(format!("Could not find match for {}", session.id)))?;
    tracing::info!(by = %p.user, user = %session.user, session = %session.id, "solace: session deleted");
    ok(&wire::meta_only(&req))
}

// ----- Broker: the SEMP session timeouts -----

fn minutes(secs: u64) -> u64 {
    secs / 60
}

/// `GET /SEMP/v2/config` and `GET /SEMP/v2/monitor`: the Broker object. The two timeout
/// attributes need `global/read-only` (bigip-solace.md 2.3, [P]); a user below that sees
/// the object without them.
///
/// The body depends only on [`BrokerState`], so the last one answered is kept and served
/// again while the same client asks the same thing.
async fn get_broker(ctx: Ctx, p: Principal, req: ReqInfo) -> Answer {
    let readable = p.level() >= AccessLevel::ReadOnly;
    let timeouts = ctx.device.store.with_policy(|p| (p.idle_timeout_secs, p.max_lifetime_secs));
    let lock = || ctx.broker.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, body)) = lock().as_ref().filter(|(kept, _)| kept.is(readable, timeouts, &req)) {
        return Ok(wire::rendered_response(StatusCode::OK, body));
    }
    let mut data = json!({});
    if readable {
        data[IDLE_TIMEOUT] = json!(minutes(timeouts.0));
        data[MAX_LIFETIME] = json!(minutes(timeouts.1));
    }
    let data = wire::select_object(data, &req.params(), &ctx.settings)?;
    let body = wire::object_body(&req, data, json!({ "uri": req.link(&req.path) }));
    let body = Rendered::new(Bytes::from(serde_json::to_vec(&body).unwrap_or_default()));
    let state = BrokerState {
        readable,
        timeouts,
        base: req.base.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
    };
    let answer = wire::rendered_response(StatusCode::OK, &body);
    *lock() = Some((state, body));
    Ok(answer)
}

/// The value of a timeout attribute, checked against the profile's range (1..5256000
/// minutes, [P]).
fn timeout_value(ctx: &Ctx, name: &str, value: &Value) -> Result<u64, SempError> {
    let (min, max) = (ctx.settings.timeout_min_minutes, ctx.settings.timeout_max_minutes);
    let out_of_range = || {
        SempError::invalid_parameter(
            &ctx.settings,
            format!("Problem with {name}: value {value} is out of range {min}..{max}"),
        )
    };
    let n = value.as_i64().ok_or_else(|| {
        SempError::invalid_parameter(
            &ctx.settings,
            format!("Problem with {name}: {value} is not an integer"),
        )
    })?;
    let n = u64::try_from(n).map_err(|_| out_of_range())?;
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(out_of_range())
    }
}

/// `PATCH /SEMP/v2/config`: changes the SEMP session timeouts (`global/read-write`,
/// [P]). New sessions take them; open ones too when the profile's
/// `timeout_change_applies_to_existing` says so.
async fn patch_broker(ctx: Ctx, p: Principal, req: ReqInfo, SempJson(body): SempJson) -> Answer {
    if let Some(name) = body.keys().find(|k| *k != IDLE_TIMEOUT && *k != MAX_LIFETIME) {
        return Err(SempError::not_supported(format!(
            "Attribute {name} is not supported by this broker emulation"
        )));
    }
    if !body.is_empty() {
        p.require(&ctx, AccessLevel::ReadWrite)?;
    }
    let idle = body.get(IDLE_TIMEOUT).map(|v| timeout_value(&ctx, IDLE_TIMEOUT, v)).transpose()?;
    let life = body.get(MAX_LIFETIME).map(|v| timeout_value(&ctx, MAX_LIFETIME, v)).transpose()?;
    let store = &ctx.device.store;
    if let Some(minutes) = idle {
        store.set_idle_timeout(None, minutes * 60, ctx.now());
        tracing::info!(by = %p.user, minutes, "solace: SEMP session idle timeout changed");
    }
    if let Some(minutes) = life {
        store.set_max_lifetime(minutes * 60, ctx.now());
        tracing::info!(by = %p.user, minutes, "solace: SEMP session max lifetime changed");
    }
    get_broker(ctx, p, req).await
}

// ----- private config: the management auth type -----

fn current_auth(ctx: &Ctx) -> (String, String) {
    let get = |key: &str, default: &str| {
        ctx.device
            .setting(key)
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| default.to_string())
    };
    (
        get(AUTH_TYPE_SETTING, &ctx.settings.auth_type),
        get(AUTH_PROFILE_SETTING, &ctx.settings.auth_profile),
    )
}

fn auth_config_body(ctx: &Ctx, req: &ReqInfo) -> Result<Value, SempError> {
    let (kind, profile) = current_auth(ctx);
    let mut data = Map::new();
    data.insert(ctx.settings.auth_type_attribute.clone(), json!(kind));
    data.insert(ctx.settings.auth_profile_attribute.clone(), json!(profile));
    let data = wire::select_object(Value::Object(data), &req.params(), &ctx.settings)?;
    Ok(wire::object_body(req, data, json!({ "uri": req.link(PRIVATE_CONFIG) })))
}

/// `GET /SEMP/v2/__private_config__`: the broker's management auth type.
async fn get_auth_config(ctx: Ctx, p: Principal, req: ReqInfo) -> Answer {
    p.require(&ctx, AccessLevel::ReadOnly)?;
    ok(&auth_config_body(&ctx, &req)?)
}

/// `PATCH /SEMP/v2/__private_config__`: a change of the auth type or of the auth profile
/// ends every session, reason `auth-config-change` (seed 003, [P]).
async fn patch_auth_config(
    ctx: Ctx,
    p: Principal,
    req: ReqInfo,
    SempJson(body): SempJson,
) -> Answer {
    let (type_attr, profile_attr) =
        (ctx.settings.auth_type_attribute.as_str(), ctx.settings.auth_profile_attribute.as_str());
    reject_unknown(&body, &[type_attr, profile_attr], &ctx)?;
    p.require(&ctx, AccessLevel::Admin)?;
    let text = |name: &str| -> Result<Option<String>, SempError> {
        match body.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(SempError::invalid_parameter(
                &ctx.settings,
                format!("Problem with {name}: {other} is not a string"),
            )),
        }
    };
    let new_type = text(type_attr)?;
    let new_profile = text(profile_attr)?;
    if let Some(kind) = &new_type {
        if !ctx.settings.auth_types.iter().any(|t| t == kind) {
            return Err(SempError::invalid_parameter(
                &ctx.settings,
                format!(
                    "Problem with {type_attr}: {kind} is not one of {}",
                    ctx.settings.auth_types.join(", ")
                ),
            ));
        }
    }
    let (old_kind, old_profile) = current_auth(&ctx);
    let kind = new_type.unwrap_or_else(|| old_kind.clone());
    let profile = new_profile.unwrap_or_else(|| old_profile.clone());
    if kind != old_kind || profile != old_profile {
        ctx.device.set_setting(AUTH_TYPE_SETTING, json!(kind));
        ctx.device.set_setting(AUTH_PROFILE_SETTING, json!(profile));
        let ended = ctx.device.store.change_auth_config(ctx.now());
        tracing::info!(by = %p.user, auth_type = %kind, ended = ended.len(), "solace: auth type changed");
    }
    ok(&auth_config_body(&ctx, &req)?)
}

// ----- private config: local management users -----

fn user_path(user: &str) -> String {
    format!("{PRIVATE_CONFIG}/usernames/{}", wire::encode(user))
}

fn user_object(req: &ReqInfo, account: &Account) -> (Value, Value) {
    let level = AccessLevel::of_role(&account.role);
    (
        wire::username(&account.user, level.as_str()),
        json!({ "uri": req.link(&user_path(&account.user)) }),
    )
}

fn user_not_found(user: &str) -> SempError {
    SempError::not_found(format!("Could not find match for userName {user}"))
}

/// The `{user}` segment of the request path, decoded.
fn user_segment(req: &ReqInfo) -> String {
    let rest = req.path.split_once("/usernames/").map(|(_, r)| r).unwrap_or("");
    let raw = rest.split('/').next().unwrap_or("");
    wire::Params::parse(&format!("v={}", raw.replace('+', "%2B")))
        .first("v")
        .unwrap_or_default()
        .to_string()
}

fn access_level_value(ctx: &Ctx, value: Option<&Value>) -> Result<Option<AccessLevel>, SempError> {
    match value {
        None => Ok(None),
        Some(v) => v.as_str().and_then(AccessLevel::parse).map(Some).ok_or_else(|| {
            SempError::invalid_parameter(
                &ctx.settings,
                format!("Problem with globalAccessLevel: {v} is not one of admin, read-write, read-only, none"),
            )
        }),
    }
}

fn password_value(ctx: &Ctx, value: Option<&Value>) -> Result<Option<String>, SempError> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(SempError::invalid_parameter(
            &ctx.settings,
            "Problem with password: a non-empty string is required",
        )),
    }
}

/// `GET /SEMP/v2/__private_config__/usernames`.
async fn list_users(ctx: Ctx, p: Principal, req: ReqInfo) -> Answer {
    p.require(&ctx, AccessLevel::ReadOnly)?;
    let select = wire::Select::parse(&req.params(), &ctx.settings)?;
    let mut data = Vec::new();
    let mut links = Vec::new();
    for account in ctx.device.store.accounts() {
        let (object, link) = user_object(&req, &account);
        data.push(match &select {
            Some(s) => s.apply(&object, &ctx.settings)?,
            None => object,
        });
        links.push(link);
    }
    let count = data.len();
    ok(&json!({
        "data": data,
        "links": links,
        "meta": { "count": count, "request": req.meta_request(), "responseCode": 200 },
    }))
}

/// `POST /SEMP/v2/__private_config__/usernames` with `userName`, `password` and
/// `globalAccessLevel` (default `none`).
async fn create_user(ctx: Ctx, p: Principal, req: ReqInfo, SempJson(body): SempJson) -> Answer {
    reject_unknown(&body, &["userName", "password", "globalAccessLevel"], &ctx)?;
    p.require(&ctx, AccessLevel::Admin)?;
    let user = match body.get("userName") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(SempError::invalid_parameter(
                &ctx.settings,
                "Problem with userName: a non-empty string is required",
            ))
        }
    };
    let password = password_value(&ctx, body.get("password"))?.ok_or_else(|| {
        SempError::invalid_parameter(&ctx.settings, "Problem with password: it is required")
    })?;
    let level =
        access_level_value(&ctx, body.get("globalAccessLevel"))?.unwrap_or(AccessLevel::None);
    let account = Account::new(&user, &password, level.as_str());
    let created = ctx.device.store.add_account(account).map_err(|e| match e {
        AccountError::Exists(name) => {
            SempError::not_allowed(format!("userName {name} already exists"))
        }
        AccountError::InvalidName(name) => SempError::invalid_parameter(
            &ctx.settings,
            format!("Problem with userName: {name:?} is not valid"),
        ),
        other => SempError::fail(other.to_string()),
    })?;
    tracing::info!(by = %p.user, user = %created.user, level = level.as_str(), "solace: user created");
    let (data, links) = user_object(&req, &created);
    ok(&wire::object_body(&req, data, links))
}

/// `GET /SEMP/v2/__private_config__/usernames/{userName}`.
async fn get_user(ctx: Ctx, p: Principal, req: ReqInfo) -> Answer {
    p.require(&ctx, AccessLevel::ReadOnly)?;
    let user = user_segment(&req);
    let account = ctx.device.store.account(&user).ok_or_else(|| user_not_found(&user))?;
    let (data, links) = user_object(&req, &account);
    let data = wire::select_object(data, &req.params(), &ctx.settings)?;
    ok(&wire::object_body(&req, data, links))
}

/// `PATCH /SEMP/v2/__private_config__/usernames/{userName}`: a new `password` ends the
/// user's sessions ("Changing [password] will cause all SEMP sessions associated with
/// this user to be deleted", [P]); a new `globalAccessLevel` ends none (seed 003, [P]).
async fn patch_user(ctx: Ctx, p: Principal, req: ReqInfo, SempJson(body): SempJson) -> Answer {
    reject_unknown(&body, &["userName", "password", "globalAccessLevel"], &ctx)?;
    p.require(&ctx, AccessLevel::Admin)?;
    let user = user_segment(&req);
    let store = &ctx.device.store;
    store.account(&user).ok_or_else(|| user_not_found(&user))?;
    if let Some(name) = body.get("userName") {
        if name.as_str() != Some(user.as_str()) {
            return Err(SempError::invalid_parameter(
                &ctx.settings,
                format!("Problem with userName: it identifies the object; rename with {PRIVATE_ACTION}/usernames/{{userName}}/rename"),
            ));
        }
    }
    let password = password_value(&ctx, body.get("password"))?;
    let level = access_level_value(&ctx, body.get("globalAccessLevel"))?;
    if let Some(level) = level {
        let update =
            AccountUpdate { role: Some(level.as_str().to_string()), ..AccountUpdate::default() };
        store.update_account(&user, &update).map_err(|_| user_not_found(&user))?;
        tracing::info!(by = %p.user, user = %user, level = level.as_str(), "solace: access level changed");
    }
    if let Some(password) = password {
        let (_, ended) = store
            .change_password(&user, &password, ctx.now())
            .map_err(|_| user_not_found(&user))?;
        tracing::info!(by = %p.user, user = %user, ended = ended.len(), "solace: password changed");
    }
    let account = store.account(&user).ok_or_else(|| user_not_found(&user))?;
    let (data, links) = user_object(&req, &account);
    ok(&wire::object_body(&req, data, links))
}

/// `DELETE /SEMP/v2/__private_config__/usernames/{userName}`: "Deleting a username will
/// cause all SEMP sessions associated with the username to be deleted" ([P]).
async fn delete_user(ctx: Ctx, p: Principal, req: ReqInfo) -> Answer {
    p.require(&ctx, AccessLevel::Admin)?;
    let user = user_segment(&req);
    let (_, ended) =
        ctx.device.store.delete_account(&user, ctx.now()).map_err(|_| user_not_found(&user))?;
    tracing::info!(by = %p.user, user = %user, ended = ended.len(), "solace: user deleted");
    ok(&wire::meta_only(&req))
}

/// `PUT /SEMP/v2/__private_action__/usernames/{userName}/rename` with `{"newUserName"}`:
/// a username change ends that user's sessions (seed 003, [P]), reason
/// `credential-change` when the profile ends sessions on a password change.
async fn rename_user(ctx: Ctx, p: Principal, req: ReqInfo, SempJson(body): SempJson) -> Answer {
    reject_unknown(&body, &["newUserName"], &ctx)?;
    p.require(&ctx, AccessLevel::Admin)?;
    let user = user_segment(&req);
    let store = &ctx.device.store;
    let old = store.account(&user).ok_or_else(|| user_not_found(&user))?;
    let new_name = match body.get("newUserName") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(SempError::invalid_parameter(
                &ctx.settings,
                "Problem with newUserName: a non-empty string is required",
            ))
        }
    };
    let mut renamed = old.clone();
    renamed.user = new_name.clone();
    store.add_account(renamed).map_err(|e| match e {
        AccountError::Exists(name) => {
            SempError::not_allowed(format!("userName {name} already exists"))
        }
        AccountError::InvalidName(name) => SempError::invalid_parameter(
            &ctx.settings,
            format!("Problem with newUserName: {name:?} is not valid"),
        ),
        other => SempError::fail(other.to_string()),
    })?;
    let now = ctx.now();
    let ended = match store.policy().on_password_change {
        UserChange::EndUserSessions => store.end_user(&user, EndReason::CredentialChange, now),
        UserChange::Keep => Vec::new(),
    };
    // Sessions the policy kept belong to a name that no longer exists: the delete applies
    // the profile's rule for deleted users to them.
    let _ = store.delete_account(&user, now);
    tracing::info!(by = %p.user, user = %user, to = %new_name, ended = ended.len(), "solace: user renamed");
    ok(&wire::meta_only(&req))
}
