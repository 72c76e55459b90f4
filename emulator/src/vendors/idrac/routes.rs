//! The iDRAC Redfish router.
//!
//! | URI | Methods | Notes |
//! |---|---|---|
//! | `/redfish`, `/redfish/v1`, `/redfish/v1/odata`, `/redfish/v1/$metadata` | GET | no authentication |
//! | `/redfish/v1/SessionService` | GET, PATCH | `SessionTimeout` is `WebServer.1.Timeout` |
//! | `/redfish/v1/Sessions[/{id}]` | GET, POST / GET, DELETE | before RedfishVersion 1.6, and still on iDRAC9; POST also at `.../Members` |
//! | `/redfish/v1/SessionService/Sessions[/{id}]` | GET, POST / GET, DELETE | from 1.6; 405 on iDRAC8 |
//! | `/redfish/v1/AccountService[/Accounts[/{slot}]]` | GET; PATCH a slot | accounts by slot 1..16 |
//! | `/redfish/v1/AccountService/Roles[/{id}]` | GET | the predefined roles |
//! | `/redfish/v1/Managers[/iDRAC.Embedded.1]` | GET | |
//! | `.../iDRAC.Embedded.1/Attributes` (and `.../Oem/Dell/DellAttributes/iDRAC.Embedded.1`) | GET, PATCH | Dell attributes |
//! | `.../iDRAC.Embedded.1/Actions/Manager.Reset` | POST | every session ends |
//!
//! Handlers reuse the standard personality's pieces ([`Ctx`], [`Principal`], [`JsonObject`],
//! [`Props`]); the last middleware ([`finish`]) turns any error they raise into iDRAC's
//! body and sets iDRAC's headers.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use futures_util::FutureExt;
use serde_json::{json, Value};

use super::attributes::{self, Attr, SetError, UserField};
use super::errors::{IdracError, Rendered};
use super::wire;
use super::{IdracSettings, LoginAuthorization, LogoutBody, SessionPaths, REDFISH};
use crate::device::{Device, DeviceHandle};
use crate::session::{EndReason, LoginError, LoginRequest, Session};
use crate::vendors::http::{Inner, Shared};
use crate::vendors::redfish::auth::{self as rf_auth, Client, Principal, Privilege};
use crate::vendors::redfish::errors::{PendingError, RedfishError};
use crate::vendors::redfish::expand::{self, Expander};
use crate::vendors::redfish::routes::{both, Ctx, Finishing, Seg, Template};
use crate::vendors::redfish::wire::{
    DescribedBy, JsonObject, OptionalJsonObject, Prerendered, Props,
};
use crate::vendors::redfish::RedfishSettings;
use crate::vendors::routing::{any, get, post, Routes};

type Answer = Result<Response, IdracError>;

/// The iDRAC router of `device`, with the step every personality shares (`Date`, the
/// request log line): what a listener serves.
pub fn app(device: DeviceHandle) -> crate::vendors::http::App {
    crate::vendors::app_in(&shared(&device), device)
}

/// The iDRAC service of `device`'s profile, for every device of it.
pub fn shared(device: &Device) -> Shared {
    let settings = IdracSettings::of(device).into_owned();
    let redfish = RedfishSettings {
        redfish_version: settings.redfish_version.clone(),
        server_header: settings.server_header.clone(),
        session_limit_status: settings.table_full_status,
        manager_id: wire::MANAGER_ID.to_string(),
        ..RedfishSettings::default()
    };
    let forms = Expander::settings_of(device);
    let write = |v: &Value| wire::to_sorted_string(v).into_bytes();
    // Made once: every JSON answer carries it.
    let content_type = json_content_type(&settings);
    let step = |expander| IdracStep {
        finishing: Finishing { expander },
        content_type: content_type.clone(),
    };
    let app = expand::around(routes(&settings), forms, write, step, finish);
    Template::with_settings(redfish).shared(app)
}

/// The routes inside [`finish`].
fn routes(settings: &IdracSettings) -> Routes {
    let mut r = Routes::new();
    r = both(r, "/redfish", get(versions));
    r = both(r, wire::ROOT, get(service_root));
    r = both(r, wire::ODATA, get(odata));
    r = both(r, wire::METADATA, get(metadata));
    r = both(r, wire::SESSION_SERVICE, get(get_session_service).patch(patch_session_service));
    let serve_legacy = settings.sessions != SessionPaths::Current;
    let serve_current = settings.sessions != SessionPaths::Legacy;
    if serve_legacy {
        r = both(r, wire::LEGACY_SESSIONS, get(list_legacy).post(login));
        if settings.members_post {
            r = both(r, &format!("{}/Members", wire::LEGACY_SESSIONS), post(login));
        }
        r = both(r, "/redfish/v1/Sessions/{id}", get(get_session).delete(logout));
    }
    if serve_current {
        r = both(r, wire::SESSIONS, get(list_current).post(login));
        if settings.members_post {
            r = both(r, &format!("{}/Members", wire::SESSIONS), post(login));
        }
        r = both(r, "/redfish/v1/SessionService/Sessions/{id}", get(get_session).delete(logout));
    } else {
        // iDRAC8 answers 405 on the path RedfishVersion 1.6 introduced.
        r = both(r, wire::SESSIONS, any(method_not_allowed));
        r = both(r, "/redfish/v1/SessionService/Sessions/{id}", any(method_not_allowed));
    }
    r = both(r, wire::ACCOUNT_SERVICE, get(get_account_service));
    r = both(r, wire::ACCOUNTS, get(list_accounts));
    r = both(r, "/redfish/v1/AccountService/Accounts/{id}", get(get_account).patch(patch_account));
    r = both(r, wire::ROLES, get(list_roles));
    r = both(r, "/redfish/v1/AccountService/Roles/{id}", get(get_role));
    r = both(r, wire::MANAGERS, get(list_managers));
    r = both(r, wire::MANAGER, get(get_manager));
    r = both(r, wire::ATTRIBUTES, get(get_attributes).patch(patch_attributes));
    r = both(r, wire::DELL_ATTRIBUTES, get(get_attributes).patch(patch_attributes));
    r = both(r, wire::MANAGER_RESET, post(reset_manager));
    // Remote racadm (`racadm -r`): the RACADM pool over the wire.
    r = r.route("/cgi-bin/login", post(super::remote::login));
    r = r.route("/cgi-bin/exec", post(super::remote::exec));
    r = r.route("/cgi-bin/logout", post(super::remote::logout));
    // Paths the router does not serve go to the device's resource tree (systems,
    // chassis), which answers iDRAC's 404 for what it does not hold.
    r.direct_fallback(super::tree::serve).method_not_allowed_fallback(method_not_allowed)
}

fn settings(ctx: &Ctx) -> std::borrow::Cow<'_, IdracSettings> {
    IdracSettings::of(&ctx.device)
}

/// A JSON answer written with sorted keys, carrying its [`DescribedBy`].
fn json(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(axum::body::Body::from(wire::to_sorted_string(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(schema) = DescribedBy::of(body) {
        response.extensions_mut().insert(schema);
    }
    response
}

fn ok(body: &Value) -> Answer {
    Ok(json(StatusCode::OK, body))
}

// ----- the last middleware -----

/// Renders errors that did not come out as iDRAC's (axum rejections, the standard
/// pieces' [`RedfishError`]s) in iDRAC's envelope, and sets iDRAC's headers:
/// `OData-Version`, `Server`, `Cache-Control`, `Access-Control-Allow-Origin` (all four on
/// the iDRAC9 401 capture), the JSON `Content-Type` of the profile,
/// `WWW-Authenticate: Basic realm="RedfishService"` on every 401, and on a successful GET
/// or HEAD the profile's `Link: <schema>;rel=describedby` (captured on iDRAC8).
/// A GET that asks for `$expand` is served through the expander first.
///
/// The answer's future holds the router's call, the context and the URI; the touches are
/// [`finish_answer`]'s, once the answer is ready.
fn finish(
    step: &IdracStep,
    req: Request,
    next: &Inner,
) -> impl std::future::Future<Output = Response> + Send + 'static {
    let Some(ctx) = Ctx::of(req.extensions()) else {
        return Either::Left(std::future::ready(no_context().into_response()));
    };
    let path = crate::vendors::http::KeptPath::of(req.uri());
    let read = req.method() == axum::http::Method::GET || req.method() == axum::http::Method::HEAD;
    let content_type = step.content_type.clone();
    let answer = expand::serve(step.finishing.expander.as_ref(), req, next);
    Either::Right(
        answer
            .map(move |response| finish_answer(&ctx, content_type, path.as_str(), read, response)),
    )
}

/// What iDRAC's step around its routes holds: the `$expand` step, and the profile's JSON
/// `Content-Type` (its `Server` header is the context's, made from the same setting).
#[derive(Clone, Debug)]
struct IdracStep {
    finishing: Finishing,
    content_type: Option<HeaderValue>,
}

/// [`finish`]'s touches on `response`, the router's answer to a request for `path` (`read`:
/// a GET or HEAD), JSON answers labelled `content_type`.
fn finish_answer(
    ctx: &Ctx,
    content_type: Option<HeaderValue>,
    path: &str,
    read: bool,
    mut response: Response,
) -> Response {
    if crate::vendors::http::Finished::is(&response) {
        return response;
    }
    let s = settings(ctx);
    let status = response.status();
    if response.extensions().get::<Rendered>().is_none() {
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let replacement = match response.extensions_mut().remove::<PendingError>() {
            Some(PendingError(error)) => Some(IdracError::from_redfish(&s, &error)),
            None if (status.is_client_error() || status.is_server_error()) && !is_json => {
                Some(match status {
                    StatusCode::NOT_FOUND => IdracError::not_found(&s, path),
                    StatusCode::METHOD_NOT_ALLOWED => IdracError::method_not_allowed(&s),
                    StatusCode::UNAUTHORIZED => IdracError::unauthorized(&s),
                    other => IdracError::from_redfish(
                        &s,
                        &RedfishError::new(
                            other,
                            crate::vendors::redfish::errors::base::general_error(),
                        ),
                    ),
                })
            }
            None => None,
        };
        if let Some(error) = replacement {
            response = error.into_response();
        }
    }
    let status = response.status();
    let link = (read && status.is_success())
        .then(|| response.extensions().get::<DescribedBy>())
        .flatten()
        .and_then(|schema| ctx.link_with(schema, &s.describedby));
    last_headers(ctx, content_type, response.headers_mut(), status, link);
    response
}

/// The headers [`finish`] sets on an answer of `status`: the schema's `link`, then
/// `OData-Version`, `Server`, `Cache-Control`, `Access-Control-Allow-Origin`, the
/// profile's `content_type` for a JSON answer, and `WWW-Authenticate` on a 401.
fn last_headers(
    ctx: &Ctx,
    content_type: Option<HeaderValue>,
    headers: &mut HeaderMap,
    status: StatusCode,
    link: Option<HeaderValue>,
) {
    if let Some(link) = link {
        headers.insert(header::LINK, link);
    }
    headers.insert(crate::vendors::redfish::ODATA_VERSION, HeaderValue::from_static("4.0"));
    if let Some(server) = ctx.server() {
        headers.insert(header::SERVER, server.clone());
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    let json = crate::vendors::http::json_content_type(headers);
    if let (Some(current), Some(content_type)) = (json, content_type) {
        *current = content_type;
    }
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"RedfishService\""),
        );
    }
}

/// What [`finish`] does to a kept 200 read (a document already linked), once, when it is
/// kept: its headers ([`last_headers`]), JSON labelled as the profile `settings` says.
pub(super) fn kept_last_step(ctx: &Ctx, settings: &IdracSettings, answer: &mut Response) {
    let content_type = json_content_type(settings);
    last_headers(ctx, content_type, answer.headers_mut(), StatusCode::OK, None);
}

/// The profile's `Content-Type` of JSON answers, as a header.
fn json_content_type(settings: &IdracSettings) -> Option<HeaderValue> {
    HeaderValue::from_str(&settings.content_type).ok()
}

async fn method_not_allowed(ctx: Ctx) -> IdracError {
    IdracError::method_not_allowed(&settings(&ctx))
}

// ----- who is asking -----

/// An authenticated requester: the standard [`Principal`] (X-Auth-Token, or HTTP Basic
/// when the profile allows it), with iDRAC's 401.
struct Who(Principal);

/// What a request outside a device's service gets (none does: every service puts its
/// device's context in).
fn no_context() -> IdracError {
    IdracError::from_redfish(&IdracSettings::default(), &RedfishError::internal())
}

impl<S: Send + Sync> FromRequestParts<S> for Who {
    type Rejection = IdracError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(ctx) = Ctx::of(&parts.extensions) else {
            return Err(no_context());
        };
        let s = settings(&ctx);
        let has_token = parts.headers.contains_key(crate::vendors::redfish::X_AUTH_TOKEN);
        if !has_token && !s.basic_auth && parts.headers.contains_key(header::AUTHORIZATION) {
            tracing::debug!("idrac: HTTP Basic refused (disabled on this profile)");
            return Err(IdracError::unauthorized(&s));
        }
        rf_auth::authenticate(&parts.headers, &parts.extensions, &ctx)
            .map(Who)
            .map_err(|e| IdracError::from_redfish(&s, &e))
    }
}

impl Who {
    fn require(&self, ctx: &Ctx, privilege: Privilege) -> Result<(), IdracError> {
        self.0.require(privilege).map_err(|e| IdracError::from_redfish(&settings(ctx), &e))
    }
}

// ----- unauthenticated documents -----

async fn versions() -> Response {
    json(StatusCode::OK, &wire::versions())
}

async fn service_root(ctx: Ctx) -> Response {
    let mut body = wire::service_root(&settings(&ctx), ctx.device.name());
    crate::resources::link_service_root(&ctx.device, &mut body);
    json(StatusCode::OK, &body)
}

/// `GET /redfish/v1/odata`: the OData service document (no authentication, DSP0266;
/// served by iDRAC8 and iDRAC9 in Dell's mockups).
async fn odata() -> Response {
    json(StatusCode::OK, &wire::odata_service_document())
}

/// `GET /redfish/v1/$metadata`: the OData metadata document (no authentication).
async fn metadata(ctx: Ctx) -> Response {
    let mut response = Response::new(axum::body::Body::from(wire::metadata_xml(&settings(&ctx))));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    response
}

// ----- SessionService -----

/// `GET` the SessionService, rendered once per web-server timeout.
async fn get_session_service(ctx: Ctx, who: Who) -> Answer {
    who.require(&ctx, Privilege::Login)?;
    let timeout = attributes::web_server_timeout(&ctx.device);
    let rendered = ctx.documents.get_or("SessionService", (timeout, 0), || {
        let settings = settings(&ctx);
        let body = wire::session_service(&settings, timeout);
        let rendered =
            Prerendered::new(wire::to_sorted_string(&body).into(), DescribedBy::of(&body));
        std::sync::Arc::new(rendered.linked(|schema| ctx.link_with(schema, &settings.describedby)))
    });
    Ok(rendered.kept(None, |answer| kept_last_step(&ctx, &settings(&ctx), answer)))
}

/// `SessionTimeout` is the web-server timeout: same range, same rule (next login).
async fn patch_session_service(ctx: Ctx, who: Who, JsonObject(body): JsonObject) -> Answer {
    who.require(&ctx, Privilege::ConfigureManager)?;
    let s = settings(&ctx);
    let mut props = Props::new(body);
    let timeout = props.integer("SessionTimeout");
    props.read_only(&["Id", "Name", "Description", "Sessions", "ServiceEnabled"]);
    props.finish().map_err(|e| IdracError::from_redfish(&s, &e))?;
    if let Some(secs) = timeout {
        let text = secs.to_string();
        attributes::set(&ctx.device, Attr::Timeout(attributes::Group::WebServer), &text, ctx.now())
            .map_err(|_| out_of_range(&s, &text, "SessionTimeout"))?;
    }
    ok(&json!({ "@Message.ExtendedInfo": [wire::success_message(&s)] }))
}

fn out_of_range(s: &IdracSettings, value: &str, property: &str) -> IdracError {
    IdracError::base(
        s,
        StatusCode::BAD_REQUEST,
        "PropertyValueOutOfRange",
        &format!(
            "The value '{value}' for the property {property} is not in the supported range of \
             acceptable values."
        ),
        &[value.to_string(), property.to_string()],
        "Correct the value for the property in the request body and resubmit the request if \
         the operation failed.",
        "Warning",
    )
}

// ----- Sessions -----

/// The sessions the Redfish collection shows: the listed types, no Basic one-request
/// sessions.
fn listed(ctx: &Ctx) -> Vec<Session> {
    let s = settings(ctx);
    ctx.device
        .store
        .list(ctx.now())
        .into_iter()
        .filter(|x| !x.one_request && s.listed_session_types.iter().any(|t| *t == x.session_type))
        .collect()
}

async fn list_legacy(ctx: Ctx, who: Who) -> Answer {
    who.require(&ctx, Privilege::Login)?;
    ok(&wire::session_collection(&settings(&ctx), wire::LEGACY_SESSIONS, &listed(&ctx)))
}

async fn list_current(ctx: Ctx, who: Who) -> Answer {
    who.require(&ctx, Privilege::Login)?;
    ok(&wire::session_collection(&settings(&ctx), wire::SESSIONS, &listed(&ctx)))
}

/// Login: 201 with `X-Auth-Token`, `Location` and the session with `Created` and `SYS414`.
async fn login(
    ctx: Ctx,
    Client(client): Client,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Answer {
    let s = settings(&ctx);
    if headers.contains_key(header::AUTHORIZATION) {
        match s.login_authorization {
            LoginAuthorization::Ignore => {}
            LoginAuthorization::Sys468 => return Err(IdracError::authorization_on_login(&s)),
            LoginAuthorization::UnsupportedMediaType => {
                return Err(IdracError::unsupported_media_type())
            }
        }
    }
    let mut props = Props::new(body);
    let user = props.string("UserName", true);
    let password = props.secret("Password", true);
    props.finish().map_err(|e| IdracError::from_redfish(&s, &e))?;
    let (Some(user), Some(password)) = (user, password) else {
        return Err(IdracError::from_redfish(&s, &RedfishError::internal()));
    };
    let now = ctx.now();
    let request = LoginRequest { user: &user, password: &password, session_type: REDFISH, client };
    let session = match ctx.device.store.login(&request, now) {
        Ok(session) => session,
        Err(LoginError::LimitReached { scope, .. }) => {
            tracing::info!(user = %user, %scope, "idrac: login refused, table full");
            return Err(IdracError::table_full(&s));
        }
        Err(_) => {
            tracing::info!(user = %user, "idrac: login refused");
            return Err(IdracError::bad_credentials(&s));
        }
    };
    tracing::info!(user = %user, session = %session.id, "idrac: login");
    let mut body = wire::session(&s, &session);
    body["@Message.ExtendedInfo"] = wire::created_messages(&s);
    let mut response = json(StatusCode::CREATED, &body);
    let headers = response.headers_mut();
    if let Ok(mut token) = HeaderValue::from_str(session.token.as_str()) {
        token.set_sensitive(true);
        headers.insert(crate::vendors::redfish::X_AUTH_TOKEN, token);
    }
    if let Ok(location) = HeaderValue::from_str(&wire::session_uri(&s, &session.id)) {
        headers.insert(header::LOCATION, location);
    }
    Ok(response)
}

fn find_session(ctx: &Ctx, id: &str, uri: &str) -> Result<Session, IdracError> {
    listed(ctx)
        .into_iter()
        .find(|x| x.id == id)
        .ok_or_else(|| IdracError::not_found(&settings(ctx), uri))
}

async fn get_session(ctx: Ctx, who: Who, Seg(id): Seg, uri: Uri) -> Answer {
    who.require(&ctx, Privilege::Login)?;
    let session = find_session(&ctx, &id, uri.path())?;
    ok(&wire::session(&settings(&ctx), &session))
}

/// Logout (own session) or an administrator ending another user's session: 200 on
/// iDRAC9, 204 on iDRAC10.
async fn logout(ctx: Ctx, who: Who, Seg(id): Seg, uri: Uri) -> Answer {
    let s = settings(&ctx);
    let target = find_session(&ctx, &id, uri.path())?;
    let own = target.user == who.0.user();
    let (needed, reason) = if own {
        (Privilege::ConfigureSelf, EndReason::Logout)
    } else {
        (Privilege::ConfigureManager, EndReason::AdminDelete)
    };
    who.require(&ctx, needed)?;
    ctx.device
        .store
        .end(&id, reason, ctx.now())
        .map_err(|_| IdracError::not_found(&s, uri.path()))?;
    tracing::info!(by = who.0.user(), session = %id, %reason, "idrac: session deleted");
    let status = StatusCode::from_u16(s.logout_status).unwrap_or(StatusCode::OK);
    if status == StatusCode::NO_CONTENT || s.logout_body == LogoutBody::None {
        let mut response = Response::new(axum::body::Body::empty());
        *response.status_mut() = status;
        Ok(response)
    } else {
        Ok(json(status, &json!({ "@Message.ExtendedInfo": [wire::success_message(&s)] })))
    }
}

// ----- AccountService -----

async fn get_account_service(ctx: Ctx, who: Who) -> Answer {
    who.require(&ctx, Privilege::Login)?;
    ok(&wire::account_service())
}

async fn list_accounts(ctx: Ctx, who: Who) -> Answer {
    who.require(&ctx, Privilege::Login)?;
    ok(&wire::account_collection(attributes::SLOTS))
}

async fn list_roles(ctx: Ctx, who: Who) -> Answer {
    who.require(&ctx, Privilege::Login)?;
    ok(&wire::role_collection(&settings(&ctx)))
}

async fn get_role(ctx: Ctx, who: Who, Seg(id): Seg, uri: Uri) -> Answer {
    who.require(&ctx, Privilege::Login)?;
    let s = settings(&ctx);
    let role = wire::role(&s, &id).ok_or_else(|| IdracError::not_found(&s, uri.path()))?;
    ok(&role)
}

fn parse_slot(ctx: &Ctx, id: &str, uri: &Uri) -> Result<u32, IdracError> {
    id.parse::<u32>()
        .ok()
        .filter(|s| attributes::SLOTS.contains(s))
        .ok_or_else(|| IdracError::not_found(&settings(ctx), uri.path()))
}

fn account_body(ctx: &Ctx, slot: u32) -> Value {
    let user = attributes::slots(&ctx.device).get(&slot).cloned().unwrap_or_default();
    let account = ctx.device.store.account(&user);
    let enabled = account.as_ref().is_some_and(|a| a.enabled);
    wire::account(slot, &user, attributes::role_id(account.as_ref()), enabled)
}

async fn get_account(ctx: Ctx, who: Who, Seg(id): Seg, uri: Uri) -> Answer {
    let slot = parse_slot(&ctx, &id, &uri)?;
    let own = attributes::slot_of(&ctx.device, who.0.user()) == Some(slot);
    who.require(&ctx, if own { Privilege::Login } else { Privilege::ConfigureUsers })?;
    ok(&account_body(&ctx, slot))
}

/// PATCH a slot: `UserName` (on a free slot: create; "" deletes), `Password`, `RoleId`,
/// `Enabled`, applied through the same attributes racadm sets.
async fn patch_account(
    ctx: Ctx,
    who: Who,
    Seg(id): Seg,
    uri: Uri,
    JsonObject(body): JsonObject,
) -> Answer {
    let s = settings(&ctx);
    let slot = parse_slot(&ctx, &id, &uri)?;
    let mut props = Props::new(body);
    let user = props.string("UserName", false);
    let password = props.secret("Password", false);
    let role = props.string("RoleId", false);
    let enabled = props.boolean("Enabled");
    props.read_only(&["Id", "Name", "Description", "Locked"]);
    props.finish().map_err(|e| IdracError::from_redfish(&s, &e))?;
    let own = attributes::slot_of(&ctx.device, who.0.user()) == Some(slot);
    let only_password = user.is_none() && role.is_none() && enabled.is_none();
    who.require(
        &ctx,
        if own && only_password { Privilege::ConfigureSelf } else { Privilege::ConfigureUsers },
    )?;
    let privilege = role.as_deref().map(|r| match r {
        "Administrator" => "0x1ff",
        "Operator" => "0x1f3",
        "ReadOnly" => "0x1",
        _ => "0x0",
    });
    let enable = enabled.map(|e| if e { "Enabled" } else { "Disabled" });
    let now = ctx.now();
    let changes = [
        (UserField::UserName, user.as_deref(), "UserName"),
        (UserField::Password, password.as_deref(), "Password"),
        (UserField::Privilege, privilege, "RoleId"),
        (UserField::Enable, enable, "Enabled"),
    ];
    for (field, value, property) in changes {
        if let Some(value) = value {
            attributes::set(&ctx.device, Attr::User(slot, field), value, now).map_err(|_| {
                IdracError::base(
                    &s,
                    StatusCode::BAD_REQUEST,
                    "PropertyValueError",
                    &format!("The value provided for the property {property} is not valid."),
                    &[property.to_string()],
                    "Correct the value for the property in the request body and resubmit the \
                     request if the operation failed.",
                    "Warning",
                )
            })?;
        }
    }
    ok(&json!({ "@Message.ExtendedInfo": [wire::success_message(&s)] }))
}

// ----- Managers -----

async fn list_managers(ctx: Ctx, who: Who) -> Answer {
    who.require(&ctx, Privilege::Login)?;
    ok(&wire::manager_collection())
}

async fn get_manager(ctx: Ctx, who: Who) -> Answer {
    who.require(&ctx, Privilege::Login)?;
    let mut body = {
        let tree = ctx.device.resources().lock();
        wire::manager(ctx.device.name(), &settings(&ctx), |uri| tree.serves(uri))
    };
    crate::resources::set_manager_firmware(ctx.device.profile(), &mut body);
    ok(&body)
}

async fn get_attributes(ctx: Ctx, who: Who, uri: Uri) -> Answer {
    who.require(&ctx, Privilege::Login)?;
    let path = uri.path().trim_end_matches('/');
    ok(&wire::attributes(path, attributes::all(&ctx.device)))
}

/// `{"Attributes": {"WebServer.1.Timeout": 600, ...}}`: every name and value is checked
/// before anything changes; 200 with `Success` and `SYS413`.
async fn patch_attributes(ctx: Ctx, who: Who, JsonObject(body): JsonObject) -> Answer {
    who.require(&ctx, Privilege::ConfigureManager)?;
    let s = settings(&ctx);
    let mut body = body;
    let attrs = body.remove("Attributes");
    Props::new(body).finish().map_err(|e| IdracError::from_redfish(&s, &e))?;
    let attrs = match attrs {
        Some(Value::Object(map)) => Some(map),
        Some(other) => {
            let problem =
                attribute_problem(&s, "PropertyValueTypeError", "Attributes", Some(&other));
            return Err(IdracError::envelope(
                StatusCode::BAD_REQUEST,
                &s.messages.general_error_code,
                vec![problem],
            ));
        }
        None => None,
    };
    let Some(attrs) = attrs else {
        return Err(IdracError::base(
            &s,
            StatusCode::BAD_REQUEST,
            "NoOperation",
            "The request body submitted contain no data to act upon and no changes to the \
             resource took place.",
            &[],
            "Add properties in the JSON object and resubmit the request.",
            "Warning",
        ));
    };
    let mut problems = Vec::new();
    let mut changes = Vec::new();
    for (name, value) in &attrs {
        let text = attributes::value_text(value);
        match (Attr::parse_redfish(name), text) {
            (None, _) => problems.push(attribute_problem(&s, "PropertyUnknown", name, None)),
            (Some(attr), _) if attr.read_only() => {
                problems.push(attribute_problem(&s, "PropertyNotWritable", name, None));
            }
            (Some(_), None) => {
                problems.push(attribute_problem(&s, "PropertyValueTypeError", name, Some(value)));
            }
            (Some(attr), Some(text)) => changes.push((attr, name.clone(), text)),
        }
    }
    if problems.is_empty() {
        // Check timeouts against their range before changing anything.
        for (attr, name, text) in &changes {
            if matches!(attr, Attr::Timeout(_) | Attr::TimeoutEnable)
                && !timeout_ok(&s, *attr, text)
            {
                problems.push(out_of_range_value(&s, name, text));
            }
        }
    }
    if !problems.is_empty() {
        return Err(IdracError::envelope(
            StatusCode::BAD_REQUEST,
            &s.messages.general_error_code,
            problems,
        ));
    }
    let now = ctx.now();
    for (attr, name, text) in changes {
        if let Err(e) = attributes::set(&ctx.device, attr, &text, now) {
            let problem = match e {
                SetError::ReadOnly => attribute_problem(&s, "PropertyNotWritable", &name, None),
                SetError::Invalid(_) => out_of_range_value(&s, &name, &text),
            };
            return Err(IdracError::envelope(
                StatusCode::BAD_REQUEST,
                &s.messages.general_error_code,
                vec![problem],
            ));
        }
    }
    ok(&json!({ "@Message.ExtendedInfo": [wire::success_message(&s), wire::sys413_message(&s)] }))
}

fn timeout_ok(s: &IdracSettings, attr: Attr, text: &str) -> bool {
    if attr == Attr::TimeoutEnable {
        let t = text.trim().to_ascii_lowercase();
        return ["enabled", "disabled", "1", "0", "true", "false"].contains(&t.as_str());
    }
    let Attr::Timeout(group) = attr else { return true };
    let Ok(secs) = text.trim().parse::<u64>() else { return false };
    let [min, max] = match group {
        attributes::Group::WebServer => s.timeouts.web_server,
        attributes::Group::Ssh => s.timeouts.ssh,
        attributes::Group::Racadm => s.timeouts.racadm,
        attributes::Group::VirtualConsole => s.timeouts.virtual_console,
        attributes::Group::Vnc => s.timeouts.vnc,
    };
    (secs == 0 && s.timeouts.zero_disables) || (min..=max).contains(&secs)
}

fn out_of_range_value(s: &IdracSettings, name: &str, text: &str) -> Value {
    wire::message(
        &format!("{}.PropertyValueOutOfRange", s.messages.base_registry),
        &format!(
            "The value '{text}' for the property {name} is not in the supported range of \
             acceptable values."
        ),
        &[text.to_string(), name.to_string()],
        "Correct the value for the property in the request body and resubmit the request if \
         the operation failed.",
        "Warning",
    )
}

fn attribute_problem(s: &IdracSettings, key: &str, name: &str, value: Option<&Value>) -> Value {
    let (text, args) = match key {
        "PropertyUnknown" => (
            format!("The property {name} is not in the list of valid properties for the resource."),
            vec![name.to_string()],
        ),
        "PropertyNotWritable" => (
            format!("The property {name} is a read-only property and cannot be assigned a value."),
            vec![name.to_string()],
        ),
        _ => {
            let shown = value.map(|v| v.to_string()).unwrap_or_default();
            (
                format!(
                    "The value '{shown}' for the property {name} is not a type that the property \
                     can accept."
                ),
                vec![shown, name.to_string()],
            )
        }
    };
    wire::message(
        &format!("{}.{key}", s.messages.base_registry),
        &text,
        &args,
        "Correct the request body and resubmit the request if the operation failed.",
        "Warning",
    )
}

/// `Manager.Reset`: the iDRAC restarts and every session ends.
async fn reset_manager(
    ctx: Ctx,
    who: Who,
    OptionalJsonObject(_body): OptionalJsonObject,
) -> Answer {
    who.require(&ctx, Privilege::ConfigureManager)?;
    let ended = ctx.device.restart();
    tracing::info!(by = who.0.user(), ended = ended.len(), "idrac: Manager.Reset");
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}
