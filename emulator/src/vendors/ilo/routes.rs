//! The iLO router: the standard Redfish routes with iLO's handlers where iLO answers
//! differently.
//!
//! | URI (each also with a trailing `/`) | Methods | iLO's own |
//! |---|---|---|
//! | `/redfish/v1` | GET | service root with `Oem.Hpe.Sessions` (`Oem.Hp` on iLO 4) |
//! | `/redfish/v1/SessionService` | GET, PATCH | `SessionTimeout` in seconds |
//! | `/redfish/v1/SessionService/Sessions`, `/redfish/v1/Sessions` | GET; POST logs in | every session listed, Basic ones too |
//! | `/redfish/v1/SessionService/Sessions/{id}`, `/redfish/v1/Sessions/{id}` | GET, DELETE | `Oem.Hpe` session; logout 200 `Success` |
//! | `/redfish/v1/Managers/{id}` | GET, PATCH | `Oem.Hpe.IdleConnectionTimeoutMinutes` (iLO 5, 6) |
//! | `/redfish/v1/Managers/{id}/NetworkService` | GET, PATCH | `SessionTimeoutMinutes` (iLO 4 only) |
//! | `/redfish/v1/Managers/{id}/Actions/Manager.Reset` | POST | ends every session, 200 `Success` |
//! | `/redfish/v1/AccountService/Accounts/{id}` | DELETE | `AccountRemoved` / `AccountForSessionNoLongerExists` |
//!
//! Everything else (accounts, roles, `$metadata`) is the standard personality's. In front
//! of the router, request paths are normalised: the fixed segments match whatever their
//! case, and on iLO 4 `/rest/v1/...` is served as `/redfish/v1/...`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::errors::{self, info_response, messages, IloEnvelope};
use super::wire;
use super::{IdleTimeoutProperty, IloSettings, InfiniteMinutes, REDFISH};
use crate::device::{Device, DeviceHandle};
use crate::session::{EndReason, LoginError, LoginRequest, Session};
use crate::vendors::http::{Inner, ListenerScheme, Shared};
use crate::vendors::redfish::auth::{Client, Principal, Privilege};
use crate::vendors::redfish::errors::{base, Message, RedfishError};
use crate::vendors::redfish::routes::{
    self as rf, Answer, Ctx, EnvelopeHook, RouteTable, Seg, Template,
};
use crate::vendors::redfish::wire::{
    allow, empty_response, json_body, value_arg, JsonObject, OptionalJsonObject, Props,
};
use crate::vendors::routing::{any, get, post, Routes};

/// The device's iLO settings, as every iLO handler receives them (from the device's
/// context, which the request carries).
pub struct Ilo(pub Arc<IloSettings>);

impl<S: Send + Sync> FromRequestParts<S> for Ilo {
    type Rejection = RedfishError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::of(&parts.extensions).ok_or_else(RedfishError::internal)?;
        let ilo = ctx.vendor::<Arc<IloSettings>>().ok_or_else(RedfishError::internal)?;
        Ok(Ilo(ilo.clone()))
    }
}

/// The iLO router of `device`, with the step every personality shares (`Date`, the
/// request log line): what a listener serves.
pub fn app(device: DeviceHandle) -> crate::vendors::http::App {
    crate::vendors::app_in(&shared(&device), device)
}

/// The iLO service of `device`'s profile, for every device of it. [`finish`] serves
/// `$expand` on every route (the table's and the catch-all that serves the tree),
/// fetching the documents it expands through the same routes finished without it.
pub fn shared(device: &Device) -> Shared {
    use crate::vendors::redfish::expand::{self, Expander};
    let forms = Expander::settings_of(device);
    let ilo = Arc::new(IloSettings::of(device));
    let envelope = EnvelopeHook(Arc::new(IloEnvelope::new(ilo.clone())));
    let template = Template::with_personality(device, envelope, ilo.clone());
    let step = |expander| IloStep { finishing: rf::Finishing { expander }, ilo: ilo.clone() };
    template.shared(expand::around(routes(&ilo), forms, expand::compact, step, finish))
}

/// The routes inside [`finish`]: the standard table with iLO's handlers and paths, and a
/// catch-all under `/redfish`.
fn routes(ilo: &IloSettings) -> Routes {
    let mut table = RouteTable::standard();
    table.set(wire::ROOT, get(service_root));
    table.set(wire::SESSION_SERVICE, get(get_session_service).patch(patch_session_service));
    for collection in [wire::SESSIONS, wire::SESSIONS_ALIAS] {
        table.set(collection, get(list_sessions).post(login));
        table.set(&format!("{collection}/{{id}}"), get(get_session).delete(logout));
    }
    table.set(wire::schemas_path(ilo), get(list_json_schemas));
    table.set(&format!("{}/{{id}}", wire::schemas_path(ilo)), get(get_json_schema));
    table.set(wire::REGISTRIES, get(list_registries));
    table.set(&format!("{}/{{id}}", wire::REGISTRIES), get(get_registry));
    table.set("/redfish/v1/Managers/{id}", get(get_manager).patch(patch_manager));
    table.set("/redfish/v1/Managers/{id}/Actions/Manager.Reset", post(reset_manager));
    if ilo.idle_timeout_property == IdleTimeoutProperty::NetworkService {
        table.set(
            "/redfish/v1/Managers/{id}/NetworkService",
            get(get_network_service).patch(patch_network_service),
        );
    }
    table.set(
        "/redfish/v1/AccountService/Accounts/{id}",
        get(rf::get_account).patch(rf::patch_account).delete(delete_account),
    );
    let mut rest = Routes::new();
    if ilo.rest_v1_redirect && !ilo.rest_v1_alias {
        rest = rest.route("/rest/{*rest}", any(rest_redirect));
    }
    // Every other path under /redfish: 401 before 404 (ilo-idrac.md 1.6 [P]); the
    // table's fallback, which the step around the router finishes like every answer.
    table.routes().merge(rest).direct_fallback(unmatched)
}

/// What iLO's step around its routes holds.
#[derive(Clone, Debug)]
struct IloStep {
    finishing: rf::Finishing,
    ilo: Arc<IloSettings>,
}

/// iLO's step around every request: the path routed as iLO reads it (case, aliases:
/// [`canonical_path`]), then the Redfish [`rf::finish`], which serves `$expand` and
/// shapes answers in iLO's envelope (the context holds it: [`IloEnvelope`], which also
/// slashes links when the profile writes them).
fn finish(
    step: &IloStep,
    mut req: axum::extract::Request,
    next: &Inner,
) -> impl std::future::Future<Output = Response> + Send + 'static {
    let IloStep { finishing, ilo } = step;
    crate::vendors::http::reroute(&mut req, &|path| canonical_path(ilo, path));
    rf::finish(finishing, req, next)
}

/// The router's fallback. A path under `/redfish` that no route serves: the device's
/// resource tree if it holds the path; otherwise, without valid credentials 401
/// `NoValidSession` like every resource but the service root (ilo-idrac.md 1.6 [P]: "Any
/// resource except /redfish/v1/ answers 401" — a real iLO has far more resources than
/// this emulator); with them, 404 `ResourceMissingAtURI`. Basic credentials hold their
/// one-request slot meanwhile. Any other path: the tree's answer (its 404).
async fn unmatched(ctx: Ctx, req: axum::extract::Request) -> Response {
    use crate::vendors::redfish::tree;
    // Not what a `/redfish/{*rest}` route would take (something after `/redfish/`).
    if req.uri().path().strip_prefix("/redfish/").is_none_or(str::is_empty) {
        return tree::serve(ctx, req).await;
    }
    tree::serve_else(ctx, req, |ctx, req| {
        match crate::vendors::redfish::auth::authenticate(req.headers(), req.extensions(), ctx) {
            Ok(principal) => {
                drop(principal);
                RedfishError::missing_uri(req.uri().path()).into_response()
            }
            Err(error) => error.into_response(),
        }
    })
    .await
}

/// iLO 5 and later: `/rest/v1/x` answers `308` to `/redfish/v1/x/`, before any
/// authentication (HPE's "Adapting from iLO 4": "all accesses of the /rest/v1/x URI
/// pattern result in HTTP 308 redirect to /redfish/v1/x/"); other `/rest/...` paths 404.
async fn rest_redirect(uri: Uri) -> Answer {
    let path = uri.path();
    let Some(rest) = path.strip_prefix("/rest/v1").filter(|r| r.is_empty() || r.starts_with('/'))
    else {
        return Err(RedfishError::missing_uri(path));
    };
    let mut target = format!("/redfish/v1{}", rest.trim_end_matches('/'));
    target.push('/');
    if let Some(query) = uri.query() {
        target = format!("{target}?{query}");
    }
    let mut response = empty_response(StatusCode::PERMANENT_REDIRECT);
    let location = HeaderValue::from_str(&target).map_err(|_| RedfishError::internal())?;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

// ----- paths -----

/// The fixed path segments of the routes, in their canonical case.
const SEGMENTS: [&str; 18] = [
    "redfish",
    "v1",
    "SessionService",
    "Sessions",
    "AccountService",
    "Accounts",
    "Roles",
    "Managers",
    "Actions",
    "Manager.Reset",
    "NetworkService",
    "odata",
    "$metadata",
    "rest",
    "Oem",
    "JsonSchemas",
    "Schemas",
    "Registries",
];

/// The canonical spelling of `segment` when it spells a fixed segment in another case.
/// Every request's path goes through here, so the segments are grouped by length (a
/// segment is compared with the one to three of its length, not with all eighteen), and
/// the exact spelling, what clients nearly always send, is tried before any case is folded.
/// It reads bytes: the path is not decoded character by character.
fn respelled(segment: &[u8]) -> Option<&'static str> {
    static BY_LENGTH: std::sync::LazyLock<Vec<Vec<&'static str>>> =
        std::sync::LazyLock::new(|| {
            let longest = SEGMENTS.iter().map(|s| s.len()).max().unwrap_or(0);
            let mut by_length = vec![Vec::new(); longest + 1];
            for fixed in SEGMENTS {
                by_length[fixed.len()].push(fixed);
            }
            by_length
        });
    let candidates = BY_LENGTH.get(segment.len())?;
    if candidates.iter().any(|fixed| fixed.as_bytes() == segment) {
        return None;
    }
    candidates.iter().find(|fixed| fixed.as_bytes().eq_ignore_ascii_case(segment)).copied()
}

/// `/rest/v1/...` as `/redfish/v1/...` (iLO 4), and fixed segments in their canonical case
/// (HPE's own examples write `/redfish/v1/sessionservice/sessions`). Segments that are
/// ids (a session id, a user name) are left alone unless they spell a fixed segment.
/// A path already in that form (what clients send nearly always) is borrowed, not copied.
fn canonical_path<'a>(ilo: &IloSettings, path: &'a str) -> std::borrow::Cow<'a, str> {
    let respell = |segment: &[u8]| respelled(segment).filter(|_| ilo.case_insensitive_paths);
    let fixed = |segment: &'a [u8]| -> &'a [u8] { respell(segment).map_or(segment, str::as_bytes) };
    let segments = || path.as_bytes().split(|byte| *byte == b'/');
    let aliased = ilo.rest_v1_alias && {
        let mut leading = segments().skip(1).map(fixed);
        leading.next() == Some(b"rest") && leading.next() == Some(b"v1")
    };
    if !aliased && segments().all(|segment| respell(segment).is_none()) {
        return std::borrow::Cow::Borrowed(path);
    }
    let fixed = |segment: &'a str| -> &'a str { respell(segment.as_bytes()).unwrap_or(segment) };
    let mut segments: Vec<&str> = path.split('/').map(fixed).collect();
    if aliased {
        segments[1] = "redfish";
    }
    std::borrow::Cow::Owned(segments.join("/"))
}

// ----- helpers -----

fn not_found(schema: &str, id: &str) -> RedfishError {
    RedfishError::not_found(schema, id)
}

/// 200 with `Base.x.Success` in iLO's envelope: what iLO answers to a PATCH, an action
/// or a logout.
fn success(ctx: &Ctx, ilo: &IloSettings) -> Response {
    info_response(ctx, ilo, StatusCode::OK, messages::success())
}

/// Every open session, Basic one-request sessions included: HPE's screenshot of two
/// `curl -u` calls shows each listing exactly its own transient session (1.7 [C]).
fn all_sessions(ctx: &Ctx) -> Vec<Session> {
    ctx.device.store.list(ctx.now())
}

fn find_session(ctx: &Ctx, id: &str) -> Result<Session, RedfishError> {
    ctx.device.store.get(id, ctx.now()).ok_or_else(|| not_found("Session", id))
}

fn check_manager(ctx: &Ctx, id: &str) -> Result<(), RedfishError> {
    if id == ctx.settings.manager_id {
        Ok(())
    } else {
        Err(not_found("Manager", id))
    }
}

/// An idle timeout in minutes as a minutes property carries it: one of the allowed
/// values, or infinite as `null` and/or `0` (what each property accepts is in its
/// handler). Returns seconds, 0 for infinite.
fn minutes_value(
    ilo: &IloSettings,
    property: &str,
    value: &Value,
    accept_null: bool,
    accept_zero: bool,
) -> Result<u64, Message> {
    match value {
        Value::Null if accept_null => Ok(0),
        Value::Number(n) => match n.as_u64() {
            Some(0) if accept_zero => Ok(0),
            Some(m) if m > 0 && ilo.idle_timeout_minutes.contains(&m) => Ok(m * 60),
            _ => Err(base::property_value_not_in_list(&n.to_string(), property)),
        },
        other => Err(type_error(other, property)),
    }
}

fn type_error(value: &Value, property: &str) -> Message {
    base::property_value_type_error(&value_arg(value), property)
}

fn set_idle_timeout(ctx: &Ctx, p: &Principal, secs: u64, via: &str) {
    ctx.device.store.set_idle_timeout(None, secs, ctx.now());
    tracing::info!(by = p.user(), secs, via, "ilo: idle timeout changed");
}

// ----- the service root -----

/// `GET /redfish/v1/`: no authentication (1.6 [P]).
pub async fn service_root(ctx: Ctx, Ilo(ilo): Ilo) -> Response {
    let mut body = wire::service_root(&ctx, &ilo, ctx.now());
    crate::resources::link_service_root(&ctx.device, &mut body);
    wire::resource(allow::GET, body)
}

// ----- schemas and registries -----

/// Whether the query asks for `$expand=.` (also percent-encoded).
fn wants_expand(uri: &Uri) -> bool {
    uri.query().is_some_and(|q| {
        q.split('&').any(|pair| matches!(pair, "$expand=." | "%24expand=." | "%24expand=%2E"))
    })
}

/// `GET` the JSON schema collection (`/redfish/v1/JsonSchemas/`, iLO 4
/// `/redfish/v1/Schemas/`): HPE's tools read it right after login (ilo-idrac.md 1.1).
pub async fn list_json_schemas(Ilo(ilo): Ilo, p: Principal, uri: Uri) -> Answer {
    p.require(Privilege::Login)?;
    Ok(wire::resource(allow::GET, wire::json_schema_collection(&ilo, wants_expand(&uri))))
}

/// `GET` one `JsonSchemaFile`.
pub async fn get_json_schema(Ilo(ilo): Ilo, p: Principal, Seg(id): Seg) -> Answer {
    p.require(Privilege::Login)?;
    if !wire::schema_names(&ilo).contains(&id) {
        return Err(not_found("JsonSchemaFile", &id));
    }
    Ok(wire::resource(allow::GET, wire::json_schema_file(&ilo, &id)))
}

/// `GET` the registry collection (`/redfish/v1/Registries/`).
pub async fn list_registries(ctx: Ctx, Ilo(ilo): Ilo, p: Principal, uri: Uri) -> Answer {
    p.require(Privilege::Login)?;
    let body = wire::registry_collection(&ctx, &ilo, wants_expand(&uri));
    Ok(wire::resource(allow::GET, body))
}

/// `GET` one `MessageRegistryFile`.
pub async fn get_registry(ctx: Ctx, Ilo(ilo): Ilo, p: Principal, Seg(id): Seg) -> Answer {
    p.require(Privilege::Login)?;
    let registries = wire::registries(&ctx, &ilo);
    let (id, registry) = registries
        .iter()
        .find(|(known, _)| *known == id)
        .ok_or_else(|| not_found("MessageRegistryFile", &id))?;
    Ok(wire::resource(allow::GET, wire::registry_file(&ilo, id, registry)))
}

// ----- SessionService -----

/// `GET /redfish/v1/SessionService/`.
pub async fn get_session_service(ctx: Ctx, Ilo(ilo): Ilo, p: Principal) -> Answer {
    p.require(Privilege::Login)?;
    let state = (wire::idle_timeout_secs(&ctx), 0);
    let rendered = ctx.documents.get_or("SessionService", state, || {
        let body = wire::rendered_resource(wire::session_service(&ctx, &ilo));
        Arc::new(body.linked(|s| ctx.link(s)))
    });
    Ok(rendered.kept(Some(allow::GET_PATCH), |answer| rf::last_step(&ctx, answer, None)))
}

/// `PATCH /redfish/v1/SessionService/` with `SessionTimeout` in seconds: 0 (infinite,
/// 1.8 [P] iLO 6) or one of the minutes values times 60 (1.8 [I]: it mirrors the idle
/// setting).
pub async fn patch_session_service(
    ctx: Ctx,
    Ilo(ilo): Ilo,
    p: Principal,
    JsonObject(body): JsonObject,
) -> Answer {
    p.require(Privilege::ConfigureManager)?;
    let mut props = Props::new(body);
    if props.is_empty() {
        return Err(RedfishError::bad_request(vec![base::no_operation()]));
    }
    let timeout = props.integer("SessionTimeout");
    props.read_only(&["Id", "Name", "Description", "Status", "Sessions", "ServiceEnabled"]);
    let allowed = |secs: i128| {
        secs == 0 || ilo.idle_timeout_minutes.iter().any(|m| i128::from(*m) * 60 == secs)
    };
    if let Some(secs) = timeout.filter(|s| !allowed(*s)) {
        props.error(base::property_value_not_in_list(&secs.to_string(), "SessionTimeout"));
    }
    props.finish()?;
    if let Some(secs) = timeout.and_then(|s| u64::try_from(s).ok()) {
        set_idle_timeout(&ctx, &p, secs, "SessionService.SessionTimeout");
    }
    Ok(success(&ctx, &ilo))
}

// ----- Sessions -----

/// `GET` the Sessions collection: every user's sessions (1.4 [P]) and
/// `Oem.Hpe.Links.MySession`.
pub async fn list_sessions(ctx: Ctx, Ilo(ilo): Ilo, p: Principal) -> Answer {
    p.require(Privilege::Login)?;
    let body = wire::session_collection(&ilo, &all_sessions(&ctx), &p.session().id);
    Ok(wire::resource(allow::GET_POST, body))
}

/// Login (1.2): 201 with `X-Auth-Token`, an absolute `Location` ending in `/`, `Link`, and
/// the body the profile says. Bad credentials get iLO's `UnauthorizedLoginAttempt` after
/// the profile's login-failure delay; a full table gets `SessionLimitExceeded`.
pub async fn login(
    ctx: Ctx,
    Ilo(ilo): Ilo,
    Client(client): Client,
    listener: ListenerScheme,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Answer {
    let mut props = Props::new(body);
    let user = props.string("UserName", true);
    let password = props.secret("Password", true);
    // The one-time passcode of two-factor logins (HPE's TFA examples); not checked.
    let _ = props.string("Token", false);
    props.finish()?;
    let (Some(user), Some(password)) = (user, password) else {
        return Err(RedfishError::internal());
    };
    let now = ctx.now();
    let request = LoginRequest { user: &user, password: &password, session_type: REDFISH, client };
    let session = match ctx.device.store.login(&request, now) {
        Ok(session) => session,
        Err(LoginError::LimitReached { scope, .. }) => {
            tracing::info!(user = %user, %scope, "ilo: login refused, table full");
            return Ok(ctx.session_limit_response());
        }
        Err(_) => {
            tracing::info!(user = %user, delay = ilo.login_failure_delay_secs, "ilo: login refused");
            if ilo.login_failure_delay_secs > 0 {
                tokio::time::sleep(Duration::from_secs(ilo.login_failure_delay_secs)).await;
            }
            return Err(errors::unauthorized_login(&ilo));
        }
    };
    tracing::info!(user = %user, session = %session.id, "ilo: login");
    let uri = wire::session_uri(&ilo, &session.id);
    let mut response = match ilo.login_body {
        super::LoginBody::Created => {
            info_response(&ctx, &ilo, StatusCode::CREATED, messages::created())
        }
        super::LoginBody::Session => {
            let mut body = wire::session(&ctx, &ilo, &session, &session.id, now);
            let tag = wire::etag(&body);
            body["@odata.etag"] = serde_json::json!(tag);
            let mut response = json_body(StatusCode::CREATED, &body);
            if let Ok(tag) = HeaderValue::from_str(&tag) {
                response.headers_mut().insert(header::ETAG, tag);
            }
            response
        }
    };
    let out = response.headers_mut();
    let mut token =
        HeaderValue::from_str(session.token.as_str()).map_err(|_| RedfishError::internal())?;
    token.set_sensitive(true);
    out.insert(crate::vendors::redfish::X_AUTH_TOKEN, token);
    let location = HeaderValue::from_str(&wire::absolute(&ilo, listener, &headers, &uri))
        .map_err(|_| RedfishError::internal())?;
    out.insert(header::LOCATION, location);
    if let Ok(link) = HeaderValue::from_str(&format!("<{uri}>; rel=self")) {
        out.insert(header::LINK, link);
    }
    Ok(response)
}

/// `GET` one session; `MySession` and `Privileges` only when it is the requester's own.
pub async fn get_session(ctx: Ctx, Ilo(ilo): Ilo, p: Principal, Seg(id): Seg) -> Answer {
    p.require(Privilege::Login)?;
    let session = find_session(&ctx, &id)?;
    let body = wire::session(&ctx, &ilo, &session, &p.session().id, ctx.now());
    Ok(wire::resource(allow::GET_DELETE, body))
}

/// `DELETE` a session (1.5 [C]): 200 with `Base.x.Success`. One's own sessions need
/// `ConfigureSelf`, another user's `ConfigureManager`.
pub async fn logout(ctx: Ctx, Ilo(ilo): Ilo, p: Principal, Seg(id): Seg) -> Answer {
    let target = find_session(&ctx, &id)?;
    let (needed, reason) = if target.user == p.user() {
        (Privilege::ConfigureSelf, EndReason::Logout)
    } else {
        (Privilege::ConfigureManager, EndReason::AdminDelete)
    };
    if !p.has(needed) {
        return Err(RedfishError::insufficient_privilege());
    }
    ctx.device.store.end(&id, reason, ctx.now()).map_err(|_| not_found("Session", &id))?;
    tracing::info!(by = p.user(), session = %id, %reason, "ilo: session deleted");
    match StatusCode::from_u16(ctx.settings.logout_status) {
        Ok(StatusCode::OK) | Err(_) => Ok(success(&ctx, &ilo)),
        Ok(status) => Ok(empty_response(status)),
    }
}

// ----- the manager -----

/// `GET /redfish/v1/Managers/1/`.
pub async fn get_manager(ctx: Ctx, Ilo(ilo): Ilo, p: Principal, Seg(id): Seg) -> Answer {
    p.require(Privilege::Login)?;
    check_manager(&ctx, &id)?;
    Ok(wire::resource(allow::GET_PATCH, wire::manager(&ctx, &ilo)))
}

/// `PATCH /redfish/v1/Managers/1/` with
/// `{"Oem": {"Hpe": {"IdleConnectionTimeoutMinutes": 15|30|60|120|null}}}` (1.8 [P]);
/// iLO 4 has no such property (it is on the NetworkService).
pub async fn patch_manager(
    ctx: Ctx,
    Ilo(ilo): Ilo,
    p: Principal,
    Seg(id): Seg,
    JsonObject(body): JsonObject,
) -> Answer {
    p.require(Privilege::ConfigureManager)?;
    check_manager(&ctx, &id)?;
    let mut props = Props::new(body);
    if props.is_empty() {
        return Err(RedfishError::bad_request(vec![base::no_operation()]));
    }
    const PROPERTY: &str = "IdleConnectionTimeoutMinutes";
    let mut problems = Vec::new();
    let mut timeout = None;
    let mut unknown = Vec::new();
    if let Some(oem) = take_object(&mut props, "Oem", &mut problems) {
        for (vendor, block) in oem {
            match (vendor == ilo.oem, block) {
                (true, Value::Object(block)) => {
                    for (name, value) in block {
                        let ours = name == PROPERTY
                            && ilo.idle_timeout_property == IdleTimeoutProperty::ManagerOem;
                        if !ours {
                            unknown.push(name);
                            continue;
                        }
                        let zero = ilo.infinite_minutes == InfiniteMinutes::Zero;
                        match minutes_value(&ilo, PROPERTY, &value, true, zero) {
                            Ok(secs) => timeout = Some(secs),
                            Err(problem) => problems.push(problem),
                        }
                    }
                }
                (true, other) => problems.push(type_error(&other, &vendor)),
                (false, _) => unknown.push(vendor),
            }
        }
    }
    for name in unknown {
        problems.push(base::property_unknown(&name));
    }
    for problem in problems {
        props.error(problem);
    }
    props.finish()?;
    if let Some(secs) = timeout {
        set_idle_timeout(&ctx, &p, secs, "Manager Oem IdleConnectionTimeoutMinutes");
    }
    Ok(success(&ctx, &ilo))
}

/// Takes an object property out of `props`; a non-object is a type error.
fn take_object(
    props: &mut Props,
    name: &str,
    problems: &mut Vec<Message>,
) -> Option<Map<String, Value>> {
    let value = props.value(name)?;
    match value {
        Value::Object(map) => Some(map),
        other => {
            problems.push(type_error(&other, name));
            None
        }
    }
}

/// `GET /redfish/v1/Managers/1/NetworkService/` (iLO 4).
pub async fn get_network_service(ctx: Ctx, Ilo(ilo): Ilo, p: Principal, Seg(id): Seg) -> Answer {
    p.require(Privilege::Login)?;
    check_manager(&ctx, &id)?;
    Ok(wire::resource(allow::GET_PATCH, wire::network_service(&ctx, &ilo)))
}

/// `PATCH /redfish/v1/Managers/1/NetworkService/` with `SessionTimeoutMinutes`: 0 is
/// infinite (1.8 [P]), otherwise one of the minutes values.
pub async fn patch_network_service(
    ctx: Ctx,
    Ilo(ilo): Ilo,
    p: Principal,
    Seg(id): Seg,
    JsonObject(body): JsonObject,
) -> Answer {
    p.require(Privilege::ConfigureManager)?;
    check_manager(&ctx, &id)?;
    let mut props = Props::new(body);
    if props.is_empty() {
        return Err(RedfishError::bad_request(vec![base::no_operation()]));
    }
    const PROPERTY: &str = "SessionTimeoutMinutes";
    let mut timeout = None;
    if let Some(value) = props.value(PROPERTY) {
        match minutes_value(&ilo, PROPERTY, &value, false, true) {
            Ok(secs) => timeout = Some(secs),
            Err(problem) => props.error(problem),
        }
    }
    props.read_only(&["Id", "Name", "Status", "HTTP", "HTTPS"]);
    props.finish()?;
    if let Some(secs) = timeout {
        set_idle_timeout(&ctx, &p, secs, "NetworkService SessionTimeoutMinutes");
    }
    Ok(success(&ctx, &ilo))
}

/// `#Manager.Reset` (1.9 [P]: sessions stay "until a manual delete, session expiration or
/// an iLO reset"): every session ends; 200 with `Base.x.Success`.
pub async fn reset_manager(
    ctx: Ctx,
    Ilo(ilo): Ilo,
    p: Principal,
    Seg(id): Seg,
    OptionalJsonObject(body): OptionalJsonObject,
) -> Answer {
    p.require(Privilege::ConfigureManager)?;
    check_manager(&ctx, &id)?;
    rf::check_reset_parameters(&body)?;
    let ended = ctx.device.restart();
    tracing::info!(by = p.user(), ended = ended.len(), "ilo: Manager.Reset");
    match StatusCode::from_u16(ctx.settings.reset_status) {
        Ok(StatusCode::OK) | Err(_) => Ok(success(&ctx, &ilo)),
        Ok(status) => Ok(empty_response(status)),
    }
}

// ----- accounts -----

/// `DELETE` an account: its sessions end (1.10 [I]); 200 with `Base.x.AccountRemoved`, or
/// `Base.x.AccountForSessionNoLongerExists` when the requester deleted its own account
/// and with it the session it asked from.
pub async fn delete_account(ctx: Ctx, Ilo(ilo): Ilo, p: Principal, Seg(user): Seg) -> Answer {
    p.require(Privilege::ConfigureUsers)?;
    let (_, ended) = ctx
        .device
        .store
        .delete_account(&user, ctx.now())
        .map_err(|_| not_found("ManagerAccount", &user))?;
    let own = ended.iter().any(|s| s.id == p.session().id);
    tracing::info!(by = p.user(), user = %user, ended = ended.len(), own, "ilo: account deleted");
    let message = if own {
        messages::account_for_session_no_longer_exists()
    } else {
        messages::account_removed()
    };
    Ok(info_response(&ctx, &ilo, StatusCode::OK, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fixed segments match whatever their case; ids keep theirs (HPE writes
    /// `/redfish/v1/sessionservice/sessions`, ilo-idrac.md 1.1 [P]).
    #[test]
    fn fixed_segments_are_case_insensitive() {
        let ilo = IloSettings::default();
        assert_eq!(
            canonical_path(
                &ilo,
                "/redfish/v1/sessionservice/sessions/Admin00000000abcdef0012345678/"
            ),
            "/redfish/v1/SessionService/Sessions/Admin00000000abcdef0012345678/"
        );
        assert_eq!(canonical_path(&ilo, "/REDFISH/V1/"), "/redfish/v1/");
    }

    /// Every fixed segment is respelled from any other case, and nothing else is: the
    /// lookup by length misses none of them.
    #[test]
    fn every_fixed_segment_is_found_whatever_its_case() {
        for fixed in SEGMENTS {
            assert_eq!(respelled(fixed.as_bytes()), None, "{fixed} is already canonical");
            for other in [fixed.to_ascii_lowercase(), fixed.to_ascii_uppercase()] {
                let expected = (other != fixed).then_some(fixed);
                assert_eq!(respelled(other.as_bytes()), expected, "{other}");
            }
        }
        for other in ["", "1", "Admin00000000abcdef0012345678", "SessionServices", "redfis"] {
            assert_eq!(respelled(other.as_bytes()), None, "{other}");
        }
    }

    /// iLO 4 serves `/rest/v1/...` as `/redfish/v1/...` (ilo-idrac.md 1.1 [P]).
    #[test]
    fn rest_v1_is_an_alias_on_ilo4_only() {
        let mut ilo = IloSettings::default();
        assert_eq!(canonical_path(&ilo, "/rest/v1/Sessions"), "/rest/v1/Sessions");
        ilo.rest_v1_alias = true;
        assert_eq!(canonical_path(&ilo, "/rest/v1/Sessions"), "/redfish/v1/Sessions");
        assert_eq!(canonical_path(&ilo, "/rest/v1/sessions/x/"), "/redfish/v1/Sessions/x/");
        assert_eq!(canonical_path(&ilo, "/REST/V1/Sessions"), "/redfish/v1/Sessions");
    }

    /// A path already canonical is borrowed as sent, whatever bytes its ids hold.
    #[test]
    fn canonical_paths_pass_through_unchanged() {
        let ilo = IloSettings::default();
        for path in ["/redfish/v1/SessionService", "/redfish/v1/AccountService/Accounts/jöns", ""]
        {
            assert!(
                matches!(canonical_path(&ilo, path), std::borrow::Cow::Borrowed(p) if p == path)
            );
        }
    }
}
