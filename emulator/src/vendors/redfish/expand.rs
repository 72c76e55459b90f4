//! The `$expand` query of every Redfish-family router (DSP0266 "Use the $expand query
//! parameter"), served from inside the personality's last step, so refusals are
//! rendered in the vendor's envelope.
//!
//! - a profile that takes the form asked for ([`crate::resources::ExpandSettings`]) gets
//!   the resource with its links replaced by the documents they name, each fetched through
//!   the personality's own router with the request's credentials (so a session
//!   collection, the accounts, the Dell attributes and the tree expand alike, and a link
//!   the requester may not read stays a link);
//! - a form it does not take answers the profile's `unsupported_status` (DSP0266: 501)
//!   with Base `QueryNotSupported`, a malformed value 400 `QueryParameterValueFormatError`,
//!   `$levels` beyond `MaxLevels` 400 `QueryParameterOutOfRange`; but only once the
//!   request would have been served: a request without credentials still gets 401, an
//!   unknown path 404.
//!
//! Only GET takes `$expand` ("Shall only support query parameters on GET operations").

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use serde_json::Value;

use super::errors::{Message, RedfishError};
use crate::resources::{expand_param, expand_with, ExpandRefusal, ExpandSettings};
use crate::vendors::http::{App, Connection, DeviceContext, Inner};

/// The largest body an expansion reads (a resource or an expanded member).
const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// What the middleware needs: the profile's forms, the router that serves the documents
/// links name (the personality's, without this middleware; none when the profile takes
/// no form), and how the personality writes JSON.
#[derive(Clone)]
pub struct Expander {
    settings: ExpandSettings,
    documents: Option<App>,
    write: fn(&Value) -> Vec<u8>,
}

impl std::fmt::Debug for Expander {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expander").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Expander {
    /// The `[tree.expand]` of `device`'s profile (defaults: no form taken).
    pub fn settings_of(device: &crate::device::Device) -> ExpandSettings {
        device.profile().tree.as_ref().map(|t| t.expand.clone()).unwrap_or_default()
    }
}

/// `routes` inside a personality's last `step`, as [`crate::vendors::http::around`] puts
/// them, the step serving `$expand` in the forms `settings` take: `state(expander)` is the
/// step's state, and the documents an expansion names are fetched through the same routes
/// inside the step without an expander (`state(None)`). `write` serialises the expanded
/// body.
pub fn around<S, F, Fut>(
    routes: impl Into<crate::vendors::routing::Routes>,
    settings: ExpandSettings,
    write: fn(&Value) -> Vec<u8>,
    state: impl Fn(Option<Expander>) -> S,
    step: F,
) -> App
where
    S: Send + Sync + 'static,
    F: Fn(&S, Request, &Inner) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response> + Send + 'static,
{
    use crate::vendors::http::around;
    let routes = routes.into();
    let documents = settings.supported().then(|| around(routes.clone(), state(None), step.clone()));
    let expander = Expander { settings, documents, write };
    around(routes, state(Some(expander)), step)
}

/// Compact JSON (`serde_json`'s map keeps keys sorted).
pub fn compact(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// Base `QueryNotSupported` (texts of Base.1.18.0).
fn query_not_supported() -> Message {
    Message::new(
        "QueryNotSupported",
        "Querying is not supported by the implementation.",
        "Warning",
        "If the operation did not complete, remove the query parameter and resubmit the request.",
        Vec::new(),
    )
}

/// Base `QueryParameterValueFormatError` (texts of Base.1.18.0).
fn query_parameter_value_format_error(value: &str, parameter: &str) -> Message {
    Message::new(
        "QueryParameterValueFormatError",
        "The value %1 for the parameter %2 is in a format that is not supported by the \
         parameter.",
        "Warning",
        "If the operation did not complete, correct the value for the query parameter in the \
         request body and resubmit the request.",
        vec![value.to_string(), parameter.to_string()],
    )
}

/// Base `QueryParameterOutOfRange` (texts of Base.1.18.0).
fn query_parameter_out_of_range(value: &str, parameter: &str, range: &str) -> Message {
    Message::new(
        "QueryParameterOutOfRange",
        "The value %1 for the query parameter %2 is out of range %3.",
        "Warning",
        "Specify a query parameter value that is within range. For example, a page that is \
         within the valid range of pages.",
        vec![value.to_string(), parameter.to_string(), range.to_string()],
    )
}

/// The error a refusal is answered with.
pub fn refusal_error(refusal: &ExpandRefusal) -> RedfishError {
    match refusal {
        ExpandRefusal::Unsupported { status, .. } => RedfishError::new(
            StatusCode::from_u16(*status).unwrap_or(StatusCode::NOT_IMPLEMENTED),
            query_not_supported(),
        ),
        ExpandRefusal::Malformed { value } => RedfishError::new(
            StatusCode::BAD_REQUEST,
            query_parameter_value_format_error(value, "$expand"),
        ),
        ExpandRefusal::LevelsOutOfRange { value, max } => RedfishError::new(
            StatusCode::BAD_REQUEST,
            query_parameter_out_of_range(value, "$levels", &format!("1-{max}")),
        ),
    }
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// What a sub-request carries over from the request: its credentials and headers (not
/// its preconditions) and who the client is.
#[derive(Clone)]
struct Origin {
    headers: HeaderMap,
    connection: Option<Connection>,
    /// The device's context: the documents are the same device's.
    context: Option<DeviceContext>,
}

impl Origin {
    fn of(req: &Request) -> Origin {
        let mut headers = req.headers().clone();
        for name in [header::IF_NONE_MATCH, header::IF_MATCH, header::CONTENT_LENGTH] {
            headers.remove(name);
        }
        // What the request carries itself: a connection being served is the fetches'
        // too, as they run in its task.
        let extensions = req.extensions();
        let connection = extensions.get::<Connection>().cloned();
        Origin { headers, connection, context: extensions.get::<DeviceContext>().cloned() }
    }

    /// GET `uri` through `router`: its JSON body when it answers 200.
    async fn fetch(&self, app: &App, uri: &str) -> Option<Value> {
        let mut request =
            Request::builder().method(Method::GET).uri(uri).body(Body::empty()).ok()?;
        *request.headers_mut() = self.headers.clone();
        if let Some(connection) = &self.connection {
            request.extensions_mut().insert(connection.clone());
        }
        if let Some(context) = &self.context {
            context.attach(request.extensions_mut());
        }
        let response = app.call(request).await;
        if response.status() != StatusCode::OK || !is_json(&response) {
            return None;
        }
        let bytes = axum::body::to_bytes(response.into_body(), BODY_LIMIT).await.ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// Serves `req` through `next`, expanded when there is an expander and the request asks
/// for `$expand`: see the module documentation.
///
/// A request that asks for no expansion waits on the router's own call and nothing more;
/// an expansion's work, and what it keeps between its fetches, is boxed for the requests
/// that ask. (Each request's answer is boxed whole by the step around it, so what this
/// future holds is copied and allocated on every request.)
pub fn serve(
    expander: Option<&Expander>,
    req: Request,
    next: &Inner,
) -> impl std::future::Future<Output = Response> + Send + 'static {
    let asked =
        (req.method() == Method::GET).then(|| req.uri().query().and_then(expand_param)).flatten();
    match (expander, asked) {
        (Some(expander), Some(value)) => {
            Either::Right(Box::pin(expanded(expander.clone(), value, req, next.clone())))
        }
        _ => Either::Left(next.run(req)),
    }
}

/// [`serve`] for a request that asks for `$expand` with `value`.
async fn expanded(expander: Expander, value: String, req: Request, next: Inner) -> Response {
    let origin = Origin::of(&req);
    let checked = expander.settings.check(&value);
    let response = next.run(req).await;
    let query = match checked {
        // Authentication and the path first: only a request that would have been served
        // learns that its query is not.
        Err(refusal) if response.status().is_success() => {
            tracing::debug!(value = %crate::flags::escape_controls(&value), "redfish: $expand refused");
            return refusal_error(&refusal).into_response();
        }
        Err(_) => return response,
        Ok(query) => query,
    };
    let Some(documents) = &expander.documents else { return response };
    if response.status() != StatusCode::OK || !is_json(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return RedfishError::internal().into_response();
    };
    let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    // Expand from a cache; fetch what the pass missed, and again, until a pass misses
    // nothing (one more pass per level at most).
    let mut cache: BTreeMap<String, Option<Value>> = BTreeMap::new();
    let expanded = loop {
        let mut missing: Vec<String> = Vec::new();
        let mut out = doc.clone();
        expand_with(&mut out, query.kind, query.levels, &mut |uri| match cache.get(uri) {
            Some(found) => found.clone(),
            None => {
                missing.push(uri.to_string());
                None
            }
        });
        if missing.is_empty() {
            break out;
        }
        missing.sort();
        missing.dedup();
        for uri in missing {
            let found = origin.fetch(documents, &uri).await;
            cache.insert(uri, found);
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    // The ETag names the resource, not this expanded view of it.
    parts.headers.remove(header::ETAG);
    Response::from_parts(parts, Body::from((expander.write)(&expanded)))
}
