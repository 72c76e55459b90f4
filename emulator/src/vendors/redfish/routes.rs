//! The routes ([`crate::vendors::routing::Routes`]) of the standard Redfish service.
//!
//! | URI | Methods | Authentication |
//! |---|---|---|
//! | `/redfish` | GET | none |
//! | `/redfish/v1`, `/redfish/v1/` | GET | none |
//! | `/redfish/v1/odata`, `/redfish/v1/$metadata` | GET | none |
//! | `/redfish/v1/SessionService` | GET, PATCH | yes |
//! | `/redfish/v1/SessionService/Sessions` | GET; POST logs in | GET yes, POST none |
//! | `/redfish/v1/SessionService/Sessions/{id}` | GET, DELETE | yes |
//! | `/redfish/v1/AccountService` | GET | yes |
//! | `/redfish/v1/AccountService/Accounts` | GET, POST | yes |
//! | `/redfish/v1/AccountService/Accounts/{user}` | GET, PATCH, DELETE | yes |
//! | `/redfish/v1/AccountService/Roles[/{id}]` | GET | yes |
//! | `/redfish/v1/Managers[/{id}]` | GET | yes |
//! | `/redfish/v1/Managers/{id}/Actions/Manager.Reset` | POST | yes |
//!
//! Every path also answers with a trailing slash. Unknown paths get 404
//! `ResourceMissingAtURI`, known paths with another method 405 `OperationNotAllowed` with
//! `Allow`. The [`finish`] middleware renders every error a handler returns in the Redfish
//! envelope and adds `OData-Version`, `Server`, `Cache-Control` and, on 401,
//! `WWW-Authenticate`; a refused login's error is rendered the same way where it is made
//! ([`Ctx::error_response`]).
//!
//! Personalities (iLO, iDRAC) start from [`RouteTable::standard`], replace the handlers
//! of the paths they answer differently, add aliases, and may install an [`Envelope`]
//! (in the context's [`Template`]) that renders errors in the vendor's own envelope and
//! has the last word on the headers. The handlers are public so a personality can keep
//! some methods of a path and replace others.
//!
//! The routes are built once per profile and shared by its devices: each request finds
//! its device's [`Ctx`] in the device's context ([`DeviceContext`], put in by
//! [`Shared::serve`]).

use std::sync::Arc;

use crate::vendors::routing::{get, post, Methods, Param, Routes};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Extensions, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use futures_util::FutureExt;
use serde_json::{json, Value};

use super::auth::{is_role, Client, Principal, Privilege};
use super::errors::{base, PendingError, RedfishError};
use super::wire::{self, allow, JsonBytes, JsonObject, OptionalJsonObject, Props};
use super::{RedfishSettings, SESSION_TYPE};
use crate::clock::Now;
use crate::device::{Device, DeviceHandle};
use crate::session::{Account, AccountError, AccountUpdate, LoginError, LoginRequest, Session};
use crate::vendors::http::{
    request_header, App, DeviceContext, Documents, Inner, KeptPath, Shared,
};

/// What every handler and extractor of the Redfish router reads: the device and its
/// Redfish settings. One per device, carried in the device's context ([`DeviceContext`]);
/// each extractor clones it, so it is one shared pointer.
#[derive(Clone, Debug)]
pub struct Ctx(Arc<CtxParts>);

/// What a [`Ctx`] holds.
#[derive(Debug)]
pub struct CtxParts {
    /// The device served.
    pub device: DeviceHandle,
    /// Its `[redfish]` settings (defaults when the profile has none).
    pub settings: Arc<RedfishSettings>,
    /// Documents rendered once per state of what they show.
    pub documents: Documents<Arc<wire::Prerendered>>,
    /// The `Server` header of every answer (none when the setting is empty).
    server: Option<HeaderValue>,
    /// The `Link` header of each schema named so far, made once from the template (hashed
    /// with the engine's fast hasher: every answer looks one up).
    links: std::sync::Mutex<crate::session::HashMap<Arc<str>, Option<HeaderValue>>>,
    /// The answers to the last few errors rendered: a refusal answered again and again (a
    /// full table) is rendered once.
    errors: std::sync::Mutex<std::collections::VecDeque<(RedfishError, KeptError)>>,
    /// A login's refusal on a full table and its answer, made at the first refusal
    /// ([`Ctx::session_limit_response`]).
    session_limit: std::sync::OnceLock<(RedfishError, KeptError)>,
    /// The personality's envelope, if it has one ([`Envelope`]).
    pub envelope: Option<EnvelopeHook>,
    /// The personality's own settings, if it has any ([`Ctx::vendor`]).
    vendor: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

impl std::ops::Deref for Ctx {
    type Target = CtxParts;

    fn deref(&self) -> &CtxParts {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = RedfishError;

    /// The context of the device the request came to, which its service put in the
    /// request ([`Shared::serve`]).
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Ctx, RedfishError> {
        Ctx::of(&parts.extensions).ok_or_else(RedfishError::internal)
    }
}

/// What every device of a profile shares in its [`Ctx`]: the settings, the `Server`
/// header, and the personality's envelope and own settings. Made once per profile, with
/// the routes.
#[derive(Clone, Debug)]
pub struct Template {
    settings: Arc<RedfishSettings>,
    server: Option<HeaderValue>,
    envelope: Option<EnvelopeHook>,
    vendor: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

impl Template {
    /// `device`'s profile settings, no envelope.
    pub fn new(device: &Device) -> Template {
        Template::with_settings(device.profile().redfish.clone().unwrap_or_default())
    }

    /// `settings` of the personality's choosing, no envelope.
    pub fn with_settings(settings: RedfishSettings) -> Template {
        let server = Some(&settings.server_header)
            .filter(|s| !s.is_empty())
            .and_then(|s| HeaderValue::from_str(s).ok());
        Template { settings: Arc::new(settings), server, envelope: None, vendor: None }
    }

    /// `device`'s profile settings, for a personality that shapes its answers with
    /// `envelope` and hands its handlers settings of its own, `vendor` (read back with
    /// [`Ctx::vendor`]).
    pub fn with_personality<V: Send + Sync + 'static>(
        device: &Device,
        envelope: EnvelopeHook,
        vendor: V,
    ) -> Template {
        Template {
            envelope: Some(envelope),
            vendor: Some(Arc::new(vendor)),
            ..Template::new(device)
        }
    }

    /// The context of `device`.
    pub fn context(&self, device: DeviceHandle) -> Ctx {
        Ctx(Arc::new(CtxParts {
            device,
            settings: self.settings.clone(),
            documents: Default::default(),
            server: self.server.clone(),
            links: Default::default(),
            errors: Default::default(),
            session_limit: Default::default(),
            envelope: self.envelope.clone(),
            vendor: self.vendor.clone(),
        }))
    }

    /// The service of these routes, shared by every device of the profile.
    pub fn shared(self, app: App) -> Shared {
        Shared::new(app, move |device| self.context(device))
    }
}

impl Ctx {
    /// The context a request carries (none outside a device's service).
    pub fn of(extensions: &Extensions) -> Option<Ctx> {
        DeviceContext::of(extensions)
    }

    /// The personality's own settings, when they are a `V` (what it gave
    /// [`Template::with_personality`]).
    pub fn vendor<V: Send + Sync + 'static>(&self) -> Option<&V> {
        self.vendor.as_deref()?.downcast_ref()
    }

    /// The `Server` header of every answer, made once from the settings' `server_header`
    /// (none when it is empty).
    pub fn server(&self) -> Option<&HeaderValue> {
        self.server.as_ref()
    }

    /// The `Link: <schema>; rel=describedby` header for `schema`, per the profile's
    /// template (none when it is empty).
    pub fn link(&self, schema: &wire::DescribedBy) -> Option<HeaderValue> {
        self.link_with(schema, &self.settings.describedby)
    }

    /// The `Link` header for `schema` per `template`, a personality's own template (one
    /// per context: the header is made once per schema and kept).
    pub fn link_with(&self, schema: &wire::DescribedBy, template: &str) -> Option<HeaderValue> {
        let mut links = self.links.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(link) = links.get(&schema.0) {
            return link.clone();
        }
        let link = schema.link(template);
        links.insert(schema.0.clone(), link.clone());
        link
    }

    /// The answer to `error` under the device's registry, in the personality's envelope
    /// when it has one: its body, and the headers [`last_head`] gives it (then `Date`'s
    /// place, [`crate::vendors::http::date_slot`]).
    fn kept_error(&self, error: &RedfishError) -> KeptError {
        const KEPT: usize = 8;
        let lock = || self.errors.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, kept)) = lock().iter().find(|(e, _)| e == error) {
            return kept.clone();
        }
        let value = match &self.envelope {
            Some(EnvelopeHook(hook)) => hook.error_body(self, error),
            None => error.envelope(self.registry()),
        };
        let body = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        let mut head = HeaderMap::new();
        last_head(self, &mut head, error.status, Some(error), None);
        crate::vendors::http::date_slot(&mut head);
        let answer = KeptError { body, head: Arc::new(wire::roomy(head)) };
        let mut kept = lock();
        if kept.len() == KEPT {
            kept.pop_front();
        }
        kept.push_back((error.clone(), answer.clone()));
        answer
    }

    /// `error`'s answer, finished: what [`finish`] makes of a handler's `Err(error)`. A
    /// handler under [`finish`] answers with it to spare carrying the error there in the
    /// answer's extensions (a refused login, about 350 instructions). Only under
    /// [`finish`]: iDRAC's routes render errors from `Err` in their own envelope, and
    /// their last step would pass this answer on as finished, without iDRAC's headers. A
    /// header a handler adds to it comes after `Date`'s place.
    pub fn error_response(&self, error: &RedfishError) -> Response {
        self.fresh_error_response(error, &self.kept_error(error))
    }

    /// [`Ctx::error_response`] to a login refused for a full table
    /// ([`Ctx::session_limit_error`]), the error and its answer made once: a client
    /// retrying against a full table gets it again and again.
    pub fn session_limit_response(&self) -> Response {
        let (error, kept) = self.session_limit.get_or_init(|| {
            let error = self.session_limit_error();
            let kept = self.kept_error(&error);
            (error, kept)
        });
        self.fresh_error_response(error, kept)
    }

    /// A new answer to `error`, made of its `kept` answer.
    fn fresh_error_response(&self, error: &RedfishError, kept: &KeptError) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = error.status;
        self.write_error(error, kept, &mut response);
        tracing::debug!(status = error.status.as_u16(), messages = ?error.keys(), "redfish: error");
        response
    }

    /// Writes `error`'s `kept` body over `response`'s, then its head: the kept one whole
    /// when `response` has none, the last step's otherwise. Then the envelope's last touch.
    fn write_error(&self, error: &RedfishError, kept: &KeptError, response: &mut Response) {
        let status = response.status();
        *response.body_mut() = Body::from(kept.body.clone());
        if response.headers().is_empty() && status == error.status {
            *response.headers_mut() = HeaderMap::clone(&kept.head);
        } else {
            last_head(self, response.headers_mut(), status, Some(error), None);
        }
        if let Some(EnvelopeHook(hook)) = self.envelope.as_ref() {
            hook.finish_body(self, status, Some(error), response);
        }
    }

    /// The device's current time.
    pub fn now(&self) -> Now {
        self.device.now()
    }

    /// The registry prefix of message ids.
    pub fn registry(&self) -> &str {
        &self.settings.base_registry
    }

    /// `SessionLimitExceeded` with the profile's status.
    pub fn session_limit_error(&self) -> RedfishError {
        RedfishError::new(
            status_or(self.settings.session_limit_status, StatusCode::SERVICE_UNAVAILABLE),
            base::session_limit_exceeded(),
        )
    }
}

fn status_or(code: u16, fallback: StatusCode) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(fallback)
}

/// The Redfish service of `device`, with the step every personality shares (`Date`, the
/// request log line): what a listener serves.
pub fn app(device: DeviceHandle) -> App {
    crate::vendors::app_in(&shared(&device), device)
}

/// The Redfish service of `device`'s profile, for every device of it.
pub fn shared(device: &Device) -> Shared {
    let template = Template::new(device);
    let mut table = RouteTable::standard();
    if template.settings.members_post {
        table.members_post();
    }
    template.shared(table.router(super::expand::Expander::settings_of(device)))
}

/// The routes of a Redfish service before they become [`Routes`]: a personality takes
/// the standard table, replaces the handlers of some paths, adds its own paths and
/// aliases, and builds the routes. Every path is served with and without a trailing
/// slash; the fallbacks and the [`finish`] middleware are those of the standard service.
#[derive(Debug)]
pub struct RouteTable {
    routes: Vec<(String, Methods)>,
}

impl RouteTable {
    /// The standard service's routes (the table at the top of this module).
    pub fn standard() -> RouteTable {
        let mut t = RouteTable { routes: Vec::new() };
        t.set("/redfish", get(redfish_versions));
        t.set("/redfish/v1", get(service_root));
        t.set("/redfish/v1/odata", get(odata));
        t.set("/redfish/v1/$metadata", get(metadata));
        t.set(wire::SESSION_SERVICE, get(get_session_service).patch(patch_session_service));
        t.set(wire::SESSIONS, get(list_sessions).post(login));
        t.set("/redfish/v1/SessionService/Sessions/{id}", get(get_session).delete(logout));
        t.set(wire::ACCOUNT_SERVICE, get(get_account_service));
        t.set(wire::ACCOUNTS, get(list_accounts).post(create_account));
        t.set(
            "/redfish/v1/AccountService/Accounts/{id}",
            get(get_account).patch(patch_account).delete(delete_account),
        );
        t.set(wire::ROLES_URI, get(list_roles));
        t.set("/redfish/v1/AccountService/Roles/{id}", get(get_role));
        t.set(wire::MANAGERS, get(list_managers));
        t.set("/redfish/v1/Managers/{id}", get(get_manager));
        t.set("/redfish/v1/Managers/{id}/Actions/Manager.Reset", post(reset_manager));
        t
    }

    /// Serves POST to the `Members` of the collections that accept POST, with the
    /// collection's own handler (DSP0266 POST (create): "Submitting a POST request to a
    /// resource collection is equivalent to submitting the same request to the Members
    /// property of that resource collection"). A static `Members` segment wins over the
    /// member's `{id}`.
    pub fn members_post(&mut self) -> &mut RouteTable {
        self.set(&format!("{}/Members", wire::SESSIONS), post(login));
        self.set(&format!("{}/Members", wire::ACCOUNTS), post(create_account))
    }

    /// Serves `path` (and `path/`) with `methods`, replacing whatever the table had for
    /// that path. `path` is written without a trailing slash.
    pub fn set(&mut self, path: &str, methods: Methods) -> &mut RouteTable {
        let path = path.trim_end_matches('/');
        match self.routes.iter_mut().find(|(p, _)| p == path) {
            Some(entry) => entry.1 = methods,
            None => self.routes.push((path.to_string(), methods)),
        }
        self
    }

    /// Stops serving `path`.
    pub fn remove(&mut self, path: &str) -> &mut RouteTable {
        let path = path.trim_end_matches('/');
        self.routes.retain(|(p, _)| p != path);
        self
    }

    /// The paths served, without their trailing-slash twins.
    pub fn paths(&self) -> Vec<&str> {
        self.routes.iter().map(|(p, _)| p.as_str()).collect()
    }

    /// The router: every path with and without a trailing slash, 404 and 405 in the
    /// Redfish envelope, inside the [`finish`] step, which serves `$expand` in the forms
    /// `expand` takes ([`super::expand`]), fetching the documents it expands through the
    /// same routes finished without it.
    pub fn router(self, expand: crate::resources::ExpandSettings) -> App {
        let finishing = |expander| Finishing { expander };
        super::expand::around(self.routes(), expand, super::expand::compact, finishing, finish)
    }

    /// The routes alone, without the [`finish`] step: for a personality that serves more
    /// than the table (iLO's catch-all) and finishes the whole with its own step.
    pub fn routes(&self) -> Routes {
        let mut r = Routes::new();
        for (path, methods) in &self.routes {
            r = both(r, path, methods.clone());
        }
        // Paths the table does not serve go to the device's resource tree (systems,
        // chassis), which answers the personality's 404 for what it does not hold.
        r.direct_fallback(super::tree::serve).method_not_allowed_fallback(method_not_allowed)
    }
}

/// Serves `path` with and without a trailing slash.
pub(crate) fn both(routes: Routes, path: &str, methods: Methods) -> Routes {
    routes.route(path, methods.clone()).route(&format!("{path}/"), methods)
}

/// How a personality shapes what every answer of the service shares: the body of an
/// error and the final headers. Installed in the contexts of its devices
/// ([`Template::with_personality`]); without one, errors use the DSP0266 envelope and the headers
/// are the standard ones.
pub trait Envelope: Send + Sync + std::fmt::Debug {
    /// The body of an error answer.
    fn error_body(&self, ctx: &Ctx, error: &RedfishError) -> Value;

    /// Last word on every answer's headers, after the standard ones were set
    /// (`OData-Version`, `Server`, `Cache-Control`, `WWW-Authenticate` on 401). `error`
    /// is the error the answer renders, if it is one. A kept answer (a tree document's,
    /// an error's) gets them once, when its head is made, so they may depend on nothing
    /// but the status and the error.
    fn finish_head(
        &self,
        ctx: &Ctx,
        status: StatusCode,
        error: Option<&RedfishError>,
        headers: &mut HeaderMap,
    ) {
        let _ = (ctx, status, error, headers);
    }

    /// Then the answer itself, on every answer (a kept document's once, when it is kept,
    /// so it may depend on nothing but the answer): its body where the personality writes
    /// bodies its own way.
    fn finish_body(
        &self,
        ctx: &Ctx,
        status: StatusCode,
        error: Option<&RedfishError>,
        response: &mut Response,
    ) {
        let _ = (ctx, status, error, response);
    }
}

/// A personality's [`Envelope`], as the context holds it:
/// `Template::with_personality(device, EnvelopeHook(Arc::new(MyEnvelope)), my_settings)`.
#[derive(Clone, Debug)]
pub struct EnvelopeHook(pub Arc<dyn Envelope>);

// ----- the last middleware -----

/// The answer to a request whose `OData-Version` is not 4.0: 412 (DSP0266 request headers).
fn unsupported_odata_version(headers: &HeaderMap) -> Option<RedfishError> {
    let value = request_header(headers, &super::ODATA_VERSION)?;
    let text = value.to_str().unwrap_or("");
    (text.trim() != "4.0").then(|| {
        RedfishError::new(
            StatusCode::PRECONDITION_FAILED,
            base::header_invalid(&format!("OData-Version: {text}")),
        )
    })
}

/// The envelope for an error response that did not come from a [`RedfishError`] (a
/// rejection of axum's own), so no answer is ever plain text.
fn error_for_status(status: StatusCode, path: &str) -> RedfishError {
    let message = match status {
        StatusCode::BAD_REQUEST => base::unrecognized_request_body(),
        StatusCode::UNAUTHORIZED => base::no_valid_session(),
        StatusCode::FORBIDDEN => base::insufficient_privilege(),
        StatusCode::NOT_FOUND => base::resource_missing_at_uri(path),
        StatusCode::METHOD_NOT_ALLOWED => base::operation_not_allowed(),
        StatusCode::PRECONDITION_FAILED => base::precondition_failed(),
        StatusCode::PAYLOAD_TOO_LARGE => base::payload_too_large(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => base::header_invalid("Content-Type"),
        s if s.is_server_error() => base::internal_error(),
        _ => base::general_error(),
    };
    RedfishError::new(status, message)
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// What the [`finish`] step holds: the `$expand` step when the router serves `$expand`
/// itself. (The device's context comes with each request.)
#[derive(Clone, Debug)]
pub struct Finishing {
    /// Serves `$expand` (none: left to the handlers).
    pub expander: Option<super::expand::Expander>,
}

/// Finishes every answer: error bodies in the Redfish envelope under the profile's
/// registry, `OData-Version: 4.0`, `Server`, `Cache-Control`, and `WWW-Authenticate` on 401.
/// A GET that asks for `$expand` is served through the expander first.
///
/// The answer's future holds the router's call and what the last touches need (the
/// context, method and URI); the touches are [`finish_answer`]'s, once the answer is
/// ready. (Combinators rather than an `async` block, which would hold the call twice.)
pub fn finish(
    step: &Finishing,
    req: Request,
    next: &Inner,
) -> impl std::future::Future<Output = Response> + Send + 'static {
    let Some(ctx) = Ctx::of(req.extensions()) else {
        let registry = &RedfishSettings::default().base_registry;
        return Either::Left(std::future::ready(RedfishError::internal().to_response(registry)));
    };
    let method = req.method().clone();
    let path = KeptPath::of(req.uri());
    let answer = match unsupported_odata_version(req.headers()) {
        Some(error) => Either::Left(std::future::ready(error.into_response())),
        None => Either::Right(super::expand::serve(step.expander.as_ref(), req, next)),
    };
    Either::Right(answer.map(move |response| finish_answer(&ctx, &method, path.as_str(), response)))
}

/// An error's answer as [`Ctx::kept_error`] keeps it.
#[derive(Clone, Debug)]
struct KeptError {
    body: Bytes,
    /// The headers of an answer that had none before the last step (every error a
    /// handler returns): copied whole rather than inserted one by one.
    head: Arc<HeaderMap>,
}

/// [`finish`]'s touches on `response`, the router's answer to `method` on `path`.
fn finish_answer(ctx: &Ctx, method: &Method, path: &str, mut response: Response) -> Response {
    if crate::vendors::http::Finished::is(&response) {
        return response;
    }
    let read = method == axum::http::Method::GET || method == axum::http::Method::HEAD;
    let status = response.status();
    let error = match response.extensions_mut().remove::<PendingError>() {
        Some(PendingError(error)) => Some(error),
        None if (status.is_client_error() || status.is_server_error()) && !is_json(&response) => {
            Some(error_for_status(status, path))
        }
        None => None,
    };
    let Some(error) = error else {
        let link = (read && status.is_success())
            .then(|| response.extensions().get::<wire::DescribedBy>().and_then(|d| ctx.link(d)))
            .flatten();
        last_step(ctx, &mut response, link);
        return response;
    };
    ctx.write_error(&error, &ctx.kept_error(&error), &mut response);
    // The request line itself is the shared layer's (`vendors::http::log_request`).
    tracing::debug!(%method, path, status = status.as_u16(), messages = ?error.keys(), "redfish: error");
    response
}

/// What the last step does to an answer that renders no error, linked to its schema by
/// `link` (a successful read's): sets its headers ([`last_head`]) and lets the
/// personality finish its body ([`Envelope::finish_body`]). A kept answer gets it once,
/// when it is kept; every other answer as it passes.
pub(crate) fn last_step(ctx: &Ctx, answer: &mut Response, link: Option<HeaderValue>) {
    let status = answer.status();
    last_head(ctx, answer.headers_mut(), status, None, link);
    if let Some(EnvelopeHook(hook)) = ctx.envelope.as_ref() {
        hook.finish_body(ctx, status, None, answer);
    }
}

/// The headers the last step sets on an answer of `status`: the standard ones
/// ([`standard_headers`]), then the personality's ([`Envelope::finish_head`]). Made once
/// for a kept answer, whose head then holds them.
pub(crate) fn last_head(
    ctx: &Ctx,
    headers: &mut HeaderMap,
    status: StatusCode,
    error: Option<&RedfishError>,
    link: Option<HeaderValue>,
) {
    standard_headers(ctx, headers, status, error, link);
    if let Some(EnvelopeHook(hook)) = ctx.envelope.as_ref() {
        hook.finish_head(ctx, status, error, headers);
    }
}

/// The headers the last step sets on an answer of `status`, in this order: for an
/// `error`, `Content-Type` and the error's own headers (its `Content-Length` dropped, as
/// the body is replaced); then `OData-Version`, `Server`, `Cache-Control` unless the
/// answer has one, the schema's `link` and, on a 401 without one, `WWW-Authenticate`.
fn standard_headers(
    ctx: &Ctx,
    headers: &mut HeaderMap,
    status: StatusCode,
    error: Option<&RedfishError>,
    link: Option<HeaderValue>,
) {
    if let Some(error) = error {
        headers.remove(header::CONTENT_LENGTH);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in &error.headers {
            headers.insert(name.clone(), value.clone());
        }
    }
    headers.insert(super::ODATA_VERSION, HeaderValue::from_static("4.0"));
    if let Some(server) = &ctx.server {
        headers.insert(header::SERVER, server.clone());
    }
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-cache"));
    if let Some(link) = link {
        headers.insert(header::LINK, link);
    }
    if status == StatusCode::UNAUTHORIZED && !headers.contains_key(header::WWW_AUTHENTICATE) {
        let realm = ctx.settings.auth_realm.replace(['"', '\\'], "");
        if let Ok(value) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\"")) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
    }
}

/// 404 `ResourceMissingAtURI` for a path the service does not serve.
pub fn missing(path: &str) -> Response {
    RedfishError::missing_uri(path).into_response()
}

/// 405 `OperationNotAllowed` for a known path and another method.
pub async fn method_not_allowed() -> RedfishError {
    RedfishError::method_not_allowed()
}

/// A path segment (`{id}`), percent-decoded; an undecodable one is a 404.
#[derive(Clone, Debug)]
pub struct Seg(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Seg {
    type Rejection = RedfishError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Param::<String>::from_request_parts(parts, state).await {
            Ok(Param(segment)) => Ok(Seg(segment)),
            Err(_) => Err(RedfishError::missing_uri(parts.uri.path())),
        }
    }
}

/// What a handler answers: a response, or an error the [`finish`] middleware renders.
pub type Answer = Result<Response, RedfishError>;

fn ok(allow: &'static str, body: &Value) -> Answer {
    Ok(wire::json_response(StatusCode::OK, allow, body))
}

// ----- unauthenticated documents -----

/// `GET /redfish`: the versions document.
pub async fn redfish_versions() -> Response {
    wire::json_response(StatusCode::OK, allow::GET, &wire::versions())
}

/// `GET /redfish/v1/`: the service root (no authentication).
pub async fn service_root(ctx: Ctx) -> Response {
    let mut body = wire::service_root(&ctx);
    crate::resources::link_service_root(&ctx.device, &mut body);
    wire::json_response(StatusCode::OK, allow::GET, &body)
}

/// `GET /redfish/v1/odata`: the OData service document.
pub async fn odata() -> Response {
    wire::json_response(StatusCode::OK, allow::GET, &wire::odata_service_document())
}

/// `GET /redfish/v1/$metadata`: the OData metadata document.
pub async fn metadata() -> Response {
    let mut response = Response::new(Body::from(wire::metadata_xml()));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    headers.insert(header::ALLOW, HeaderValue::from_static(allow::GET));
    response
}

// ----- SessionService -----

/// `GET` the SessionService, rendered once per timeout setting.
pub async fn get_session_service(ctx: Ctx, p: Principal) -> Answer {
    p.require(Privilege::Login)?;
    let state = wire::session_service_state(&ctx);
    let rendered = ctx.documents.get_or("SessionService", state, || {
        let body = wire::Prerendered::of(&wire::session_service(&ctx));
        Arc::new(body.linked(|schema| ctx.link(schema)))
    });
    Ok(rendered.kept(Some(allow::GET_PATCH), |answer| last_step(&ctx, answer, None)))
}

/// `SessionTimeout` bounds (SessionService schema: Validation.Minimum/Maximum).
const SESSION_TIMEOUT_RANGE: std::ops::RangeInclusive<i128> = 30..=86_400;

/// `PATCH` the SessionService: `SessionTimeout` (30..86400 s) sets the idle timeout.
pub async fn patch_session_service(ctx: Ctx, p: Principal, JsonObject(body): JsonObject) -> Answer {
    p.require(Privilege::ConfigureManager)?;
    let mut props = Props::new(body);
    if props.is_empty() {
        return Err(RedfishError::bad_request(vec![base::no_operation()]));
    }
    let timeout = props.integer("SessionTimeout");
    props.read_only(&[
        "Id",
        "Name",
        "Description",
        "Status",
        "Sessions",
        "ServiceEnabled",
        "AbsoluteSessionTimeout",
        "AbsoluteSessionTimeoutEnabled",
    ]);
    if let Some(secs) = timeout {
        if !SESSION_TIMEOUT_RANGE.contains(&secs) {
            props.error(base::property_value_out_of_range(&secs.to_string(), "SessionTimeout"));
        }
    }
    props.finish()?;
    if let Some(secs) = timeout.and_then(|s| u64::try_from(s).ok()) {
        let store = &ctx.device.store;
        // A profile may give Redfish sessions their own timeout; otherwise it is the default.
        let only =
            store.policy().idle_timeout_by_type.contains_key(SESSION_TYPE).then_some(SESSION_TYPE);
        store.set_idle_timeout(only, secs, ctx.now());
        tracing::info!(by = p.user(), secs, "redfish: SessionTimeout changed");
    }
    ok(allow::GET_PATCH, &wire::session_service(&ctx))
}

// ----- Sessions -----

/// The sessions the collection shows: every open session but Basic one-request ones.
fn visible_sessions(ctx: &Ctx) -> Vec<Session> {
    ctx.device.store.list(ctx.now()).into_iter().filter(|s| !s.one_request).collect()
}

fn find_session(ctx: &Ctx, id: &str) -> Result<Arc<Session>, RedfishError> {
    ctx.device
        .store
        .shared(id, ctx.now())
        .filter(|s| !s.one_request)
        .ok_or_else(|| RedfishError::not_found("Session", id))
}

/// `GET` the Sessions collection (Basic one-request sessions are not listed).
pub async fn list_sessions(ctx: Ctx, p: Principal) -> Answer {
    p.require(Privilege::Login)?;
    ok(allow::GET_POST, &wire::session_collection(&visible_sessions(&ctx)))
}

/// Login: 201 with `X-Auth-Token`, `Location` and the session resource.
pub async fn login(ctx: Ctx, Client(client): Client, JsonBytes(body): JsonBytes) -> Answer {
    let (user, password) = wire::credentials(&body)?;
    let now = ctx.now();
    let request =
        LoginRequest { user: &user, password: &password, session_type: SESSION_TYPE, client };
    let must_change =
        |_: &Session, a: Option<&Account>| a.is_some_and(|a| a.password_change_required);
    let (session, must_change) = match ctx.device.store.login_reading(&request, now, must_change) {
        Ok(answer) => answer,
        Err(LoginError::LimitReached { scope, .. }) => {
            tracing::info!(user = %user, %scope, "redfish: login refused, table full");
            return Ok(ctx.session_limit_response());
        }
        Err(_) => {
            tracing::info!(user = %user, "redfish: login refused");
            return Ok(ctx.error_response(&RedfishError::unauthorized()));
        }
    };
    tracing::info!(user = %user, session = %session.id, "redfish: login");
    let mut body = wire::session(&session, now);
    if must_change {
        let message = base::password_change_required(&wire::account_uri(&session.user));
        body.messages = Some(json!([message.render(ctx.registry())]));
    }
    let mut response = body.response(StatusCode::CREATED, None);
    let headers = response.headers_mut();
    let mut token =
        HeaderValue::from_str(session.token.as_str()).map_err(|_| RedfishError::internal())?;
    token.set_sensitive(true);
    headers.insert(super::X_AUTH_TOKEN, token);
    let location = HeaderValue::from_str(&wire::session_uri(&session.id))
        .map_err(|_| RedfishError::internal())?;
    headers.insert(header::LOCATION, location);
    Ok(response)
}

/// `GET` one session.
pub async fn get_session(ctx: Ctx, p: Principal, Seg(id): Seg) -> Answer {
    p.require(Privilege::Login)?;
    let session = find_session(&ctx, &id)?;
    Ok(wire::session(&session, ctx.now()).response(StatusCode::OK, Some(allow::GET_DELETE)))
}

/// Logout (own session, `ConfigureSelf`) or an administrator ending another user's
/// session (`ConfigureManager`).
pub async fn logout(ctx: Ctx, p: Principal, Seg(id): Seg) -> Answer {
    let own = find_session(&ctx, &id)?.user == p.user();
    if p.password_change_required() && !(own && ctx.settings.password_change_allows_logout) {
        p.require_password_changed()?;
    }
    let (needed, reason) = if own {
        (Privilege::ConfigureSelf, crate::session::EndReason::Logout)
    } else {
        (Privilege::ConfigureManager, crate::session::EndReason::AdminDelete)
    };
    if !p.has(needed) {
        return Err(RedfishError::insufficient_privilege());
    }
    ctx.device
        .store
        .end(&id, reason, ctx.now())
        .map_err(|_| RedfishError::not_found("Session", &id))?;
    tracing::info!(by = p.user(), session = %id, %reason, "redfish: session deleted");
    let status = status_or(ctx.settings.logout_status, StatusCode::NO_CONTENT);
    if status == StatusCode::OK {
        let body = wire::messages_body(&ctx, &[base::session_terminated()]);
        Ok(wire::json_body(status, &body))
    } else {
        Ok(wire::empty_response(status))
    }
}

// ----- AccountService -----

/// `GET` the AccountService.
pub async fn get_account_service(p: Principal) -> Answer {
    p.require(Privilege::Login)?;
    ok(allow::GET, &wire::account_service())
}

fn account_response(status: StatusCode, account: &Account) -> Response {
    let mut response = if status == StatusCode::CREATED {
        wire::json_body(status, &wire::account(account))
    } else {
        wire::json_response(status, allow::GET_PATCH_DELETE, &wire::account(account))
    };
    if let Ok(etag) = HeaderValue::from_str(&wire::account_etag(account)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

fn account_not_found(user: &str) -> RedfishError {
    RedfishError::not_found("ManagerAccount", user)
}

/// Without `ConfigureUsers` an account sees only itself.
pub async fn list_accounts(ctx: Ctx, p: Principal) -> Answer {
    p.require(Privilege::Login)?;
    let all_visible = p.has(Privilege::ConfigureUsers);
    let users: Vec<String> = ctx
        .device
        .store
        .accounts()
        .into_iter()
        .filter(|a| all_visible || a.user == p.user())
        .map(|a| a.user)
        .collect();
    ok(allow::GET_POST, &wire::account_collection(&users))
}

const ACCOUNT_READ_ONLY: [&str; 6] =
    ["Id", "Name", "Description", "Locked", "AccountTypes", "Links"];

/// `POST` to Accounts: creates an account (`ConfigureUsers`).
pub async fn create_account(ctx: Ctx, p: Principal, JsonObject(body): JsonObject) -> Answer {
    p.require(Privilege::ConfigureUsers)?;
    let mut props = Props::new(body);
    let user = props.string("UserName", true);
    let password = props.secret("Password", true);
    let role = props.string("RoleId", true);
    let enabled = props.boolean("Enabled");
    let must_change = props.boolean("PasswordChangeRequired");
    props.read_only(&ACCOUNT_READ_ONLY);
    if let Some(role) = &role {
        if !is_role(role) {
            props.error(base::property_value_not_in_list(role, "RoleId"));
        }
    }
    props.finish()?;
    let (Some(user), Some(password), Some(role)) = (user, password, role) else {
        return Err(RedfishError::internal());
    };
    let mut account = Account::new(&user, &password, &role);
    account.enabled = enabled.unwrap_or(true);
    account.password_change_required = must_change.unwrap_or(false);
    let created = ctx.device.store.add_account(account).map_err(|e| match e {
        AccountError::Exists(name) => RedfishError::new(
            StatusCode::CONFLICT,
            base::resource_already_exists("ManagerAccount", "UserName", &name),
        ),
        AccountError::InvalidName(name) => {
            RedfishError::bad_request(vec![base::property_value_format_error(&name, "UserName")])
        }
        _ => RedfishError::internal(),
    })?;
    tracing::info!(by = p.user(), user = %created.user, role = %created.role, "redfish: account created");
    let mut response = account_response(StatusCode::CREATED, &created);
    let location = HeaderValue::from_str(&wire::account_uri(&created.user))
        .map_err(|_| RedfishError::internal())?;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// An account reads itself (even when it must change its password); others need
/// `ConfigureUsers`. `If-None-Match` with the current ETag answers 304.
pub async fn get_account(ctx: Ctx, p: Principal, Seg(user): Seg, headers: HeaderMap) -> Answer {
    if user != p.user() {
        p.require(Privilege::ConfigureUsers)?;
    }
    let account = ctx.device.store.account(&user).ok_or_else(|| account_not_found(&user))?;
    let etag = wire::account_etag(&account);
    if wire::if_none_match_hits(&headers, &etag) {
        let mut response = wire::empty_response(StatusCode::NOT_MODIFIED);
        if let Ok(value) = HeaderValue::from_str(&etag) {
            response.headers_mut().insert(header::ETAG, value);
        }
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow::GET_PATCH_DELETE));
        return Ok(response);
    }
    Ok(account_response(StatusCode::OK, &account))
}

/// `Password` is a credential change (`change_password`: ends the user's sessions per the
/// profile, clears `PasswordChangeRequired`); `RoleId`, `Enabled` and
/// `PasswordChangeRequired` are attribute changes (`update_account`). An account may
/// change its own password (`ConfigureSelf`); everything else needs `ConfigureUsers`.
pub async fn patch_account(
    ctx: Ctx,
    p: Principal,
    Seg(user): Seg,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Answer {
    let own = user == p.user();
    if !own {
        p.require(Privilege::ConfigureUsers)?;
    }
    let store = &ctx.device.store;
    let current = store.account(&user).ok_or_else(|| account_not_found(&user))?;
    let mut props = Props::new(body);
    if props.is_empty() {
        return Err(RedfishError::bad_request(vec![base::no_operation()]));
    }
    let password = props.secret("Password", false);
    let role = props.string("RoleId", false);
    let enabled = props.boolean("Enabled");
    let must_change = props.boolean("PasswordChangeRequired");
    if let Some(name) = props.string("UserName", false) {
        if name != current.user {
            props.error(base::property_not_writable("UserName"));
        }
    }
    props.read_only(&ACCOUNT_READ_ONLY);
    if let Some(role) = &role {
        if !is_role(role) {
            props.error(base::property_value_not_in_list(role, "RoleId"));
        }
    }
    props.finish()?;
    let attributes = role.is_some() || enabled.is_some() || must_change.is_some();
    if own {
        if attributes {
            p.require(Privilege::ConfigureUsers)?;
        } else if !p.has(Privilege::ConfigureSelf) {
            return Err(RedfishError::insufficient_privilege());
        }
    }
    if password.is_none() && !attributes {
        return Err(RedfishError::bad_request(vec![base::no_operation()]));
    }
    if !wire::if_match_passes(&headers, &wire::account_etag(&current)) {
        return Err(RedfishError::precondition_failed());
    }
    let now = ctx.now();
    if let Some(password) = password {
        let (_, ended) =
            store.change_password(&user, &password, now).map_err(|_| account_not_found(&user))?;
        tracing::info!(by = p.user(), user = %user, ended = ended.len(), "redfish: password changed");
    }
    if attributes {
        let update = AccountUpdate { role, enabled, password_change_required: must_change };
        store.update_account(&user, &update).map_err(|_| account_not_found(&user))?;
        tracing::info!(by = p.user(), user = %user, "redfish: account attributes changed");
    }
    let updated = store.account(&user).ok_or_else(|| account_not_found(&user))?;
    Ok(account_response(StatusCode::OK, &updated))
}

/// `DELETE` an account and, per the profile, its sessions (`ConfigureUsers`).
pub async fn delete_account(ctx: Ctx, p: Principal, Seg(user): Seg) -> Answer {
    p.require(Privilege::ConfigureUsers)?;
    let (_, ended) =
        ctx.device.store.delete_account(&user, ctx.now()).map_err(|_| account_not_found(&user))?;
    tracing::info!(by = p.user(), user = %user, ended = ended.len(), "redfish: account deleted");
    Ok(wire::empty_response(StatusCode::NO_CONTENT))
}

/// `GET` the Roles collection.
pub async fn list_roles(p: Principal) -> Answer {
    p.require(Privilege::Login)?;
    ok(allow::GET, &wire::role_collection())
}

/// `GET` one standard role.
pub async fn get_role(p: Principal, Seg(id): Seg) -> Answer {
    p.require(Privilege::Login)?;
    let role = wire::role(&id).ok_or_else(|| RedfishError::not_found("Role", &id))?;
    ok(allow::GET, &role)
}

// ----- Managers -----

/// `GET` the Managers collection.
pub async fn list_managers(ctx: Ctx, p: Principal) -> Answer {
    p.require(Privilege::Login)?;
    ok(allow::GET, &wire::manager_collection(&ctx))
}

fn check_manager(ctx: &Ctx, id: &str) -> Result<(), RedfishError> {
    if id == ctx.settings.manager_id {
        Ok(())
    } else {
        Err(RedfishError::not_found("Manager", id))
    }
}

/// `GET` the manager.
pub async fn get_manager(ctx: Ctx, p: Principal, Seg(id): Seg) -> Answer {
    p.require(Privilege::Login)?;
    check_manager(&ctx, &id)?;
    let mut body = wire::manager(&ctx);
    crate::resources::set_manager_firmware(ctx.device.profile(), &mut body);
    ok(allow::GET, &body)
}

/// Checks the parameters of a `Manager.Reset` action: only `ResetType`, one of the
/// `ResetType` values; `@`-annotations are ignored.
pub fn check_reset_parameters(body: &serde_json::Map<String, Value>) -> Result<(), RedfishError> {
    const ACTION: &str = "Manager.Reset";
    let mut problems = Vec::new();
    for (name, value) in body.iter().filter(|(k, _)| !k.starts_with('@')) {
        match (name.as_str(), value) {
            ("ResetType", Value::String(t)) if wire::RESET_TYPES.contains(&t.as_str()) => {}
            ("ResetType", Value::String(t)) => {
                problems.push(base::action_parameter_value_not_in_list(t, name, ACTION));
            }
            ("ResetType", other) => problems.push(base::action_parameter_value_type_error(
                &wire::value_arg(other),
                name,
                ACTION,
            )),
            _ => problems.push(base::action_parameter_unknown(ACTION, name)),
        }
    }
    if !problems.is_empty() {
        return Err(RedfishError::bad_request(problems));
    }
    Ok(())
}

/// `#Manager.Reset`: the device restarts and every session ends.
pub async fn reset_manager(
    ctx: Ctx,
    p: Principal,
    Seg(id): Seg,
    OptionalJsonObject(body): OptionalJsonObject,
) -> Answer {
    p.require(Privilege::ConfigureManager)?;
    check_manager(&ctx, &id)?;
    check_reset_parameters(&body)?;
    let ended = ctx.device.restart();
    tracing::info!(by = p.user(), ended = ended.len(), "redfish: Manager.Reset");
    let status = status_or(ctx.settings.reset_status, StatusCode::NO_CONTENT);
    if status == StatusCode::OK {
        let body = wire::messages_body(&ctx, &[base::success()]);
        Ok(wire::json_body(status, &body))
    } else {
        Ok(wire::empty_response(status))
    }
}
