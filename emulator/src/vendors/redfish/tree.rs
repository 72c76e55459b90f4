//! The device's resource tree ([`crate::resources`]) behind a Redfish personality.
//!
//! [`handle`] is the wire-neutral half: it authenticates the request with the standard
//! [`Principal`] (X-Auth-Token or HTTP Basic, through the session engine), checks the
//! privilege DSP0266's operation-to-privilege mapping gives (`Login` to read,
//! `ConfigureComponents` to PATCH a system or chassis or run its actions), and calls the
//! tree. [`serve`] renders its outcome for the standard personality and iLO (which
//! builds on [`super::routes::RouteTable`]): it is the route table's fallback, so paths
//! the personality serves itself never reach the tree, and paths neither serves are the
//! personality's own 404. iDRAC renders the same outcomes in its envelope
//! (`crate::vendors::idrac::tree`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::auth::{Principal, Privilege};
use super::errors::{base, Message, RedfishError};
use super::routes::{self, Ctx, EnvelopeHook};
use super::wire::{self, allow, JsonObject, OptionalJsonObject};
use crate::resources::{Found, Problem, Served, TreeError};
use crate::vendors::http::KeptAnswer;

/// What a request to the tree came to.
#[derive(Debug)]
pub enum Outcome {
    /// A document (GET, HEAD), as the tree keeps it for its GETs.
    Document {
        /// The document, written.
        served: Arc<Served>,
        /// The methods the path takes.
        allow: &'static str,
    },
    /// `If-None-Match` named the current ETag.
    NotModified {
        /// The ETag.
        etag: String,
        /// The methods the path takes.
        allow: &'static str,
    },
    /// A PATCH was applied; the document as it is now.
    Patched {
        /// The body, with `@odata.etag`.
        body: Value,
        /// Its ETag.
        etag: String,
    },
    /// An action ran.
    Action {
        /// Whether it changed anything.
        changed: bool,
    },
}

/// Why a request to the tree was refused.
#[derive(Debug)]
pub enum Refusal {
    /// The tree holds nothing at the request's path, found before anything else was
    /// looked at: the request, untouched, for the personality to answer as it answers
    /// paths it does not serve.
    NotHeld(Request),
    /// The tree has nothing at this path as asked (an action target read, a document
    /// gone since): the personality's own 404.
    NotInTree,
    /// An error in the standard messages (401, 403, 405, 400, 412, ...).
    Error(RedfishError),
    /// An action the resource's state forbids; each vendor answers it its own way.
    InvalidState {
        /// `ComputerSystem.Reset`.
        action: String,
        /// The requested `ResetType`.
        requested: String,
        /// The current `PowerState`.
        state: String,
    },
}

impl From<RedfishError> for Refusal {
    fn from(e: RedfishError) -> Refusal {
        Refusal::Error(e)
    }
}

/// Base `ActionParameterMissing` (texts of Base.1.18.0).
fn action_parameter_missing(action: &str, parameter: &str) -> Message {
    Message::new(
        "ActionParameterMissing",
        "The action %1 requires the parameter %2 to be present in the request body.",
        "Critical",
        "Supply the action with the required parameter in the request body when the request \
         is resubmitted.",
        vec![action.to_string(), parameter.to_string()],
    )
}

/// Base `ActionNotSupported` (texts of Base.1.18.0).
fn action_not_supported(action: &str) -> Message {
    Message::new(
        "ActionNotSupported",
        "The action %1 is not supported by the resource.",
        "Critical",
        "The action supplied cannot be resubmitted to the implementation.  Perhaps the action \
         was invalid, the wrong resource was the target or the implementation documentation \
         may be of assistance.",
        vec![action.to_string()],
    )
}

/// The Base message of one tree problem.
pub fn problem_message(problem: &Problem) -> Message {
    match problem {
        Problem::PropertyUnknown(p) => base::property_unknown(p),
        Problem::PropertyNotWritable(p) => base::property_not_writable(p),
        Problem::PropertyValueTypeError(v, p) => base::property_value_type_error(v, p),
        Problem::PropertyValueNotInList(v, p) => base::property_value_not_in_list(v, p),
        Problem::ActionParameterMissing(a, p) => action_parameter_missing(a, p),
        Problem::ActionParameterUnknown(a, p) => base::action_parameter_unknown(a, p),
        Problem::ActionParameterValueNotInList(v, p, a) => {
            base::action_parameter_value_not_in_list(v, p, a)
        }
        Problem::ActionParameterValueTypeError(v, p, a) => {
            base::action_parameter_value_type_error(v, p, a)
        }
    }
}

fn refusal(error: TreeError) -> Refusal {
    match error {
        TreeError::NotFound => Refusal::NotInTree,
        TreeError::NotPatchable => Refusal::Error(RedfishError::method_not_allowed()),
        TreeError::PreconditionFailed => Refusal::Error(RedfishError::precondition_failed()),
        TreeError::NoOperation => {
            Refusal::Error(RedfishError::bad_request(vec![base::no_operation()]))
        }
        TreeError::Invalid(problems) => Refusal::Error(RedfishError::bad_request(
            problems.iter().map(problem_message).collect(),
        )),
        TreeError::ActionNotSupported(name) => {
            Refusal::Error(RedfishError::bad_request(vec![action_not_supported(&name)]))
        }
        TreeError::InvalidState { action, requested, state } => {
            Refusal::InvalidState { action, requested, state }
        }
    }
}

fn method_not_allowed(allow: &'static str) -> Refusal {
    Refusal::Error(
        RedfishError::method_not_allowed()
            .with_header(header::ALLOW, HeaderValue::from_static(allow)),
    )
}

/// Serves one request from the device's tree: authentication first (a path the tree
/// serves answers 401 before anything else), then the privilege, then the tree.
pub async fn handle(ctx: &Ctx, req: Request) -> Result<Outcome, Refusal> {
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    let (is_action, patchable, served) =
        match ctx.device.resources().lock().find(req.uri().path(), ctx.now(), read) {
            None => return Err(Refusal::NotHeld(req)),
            Some(Found::Action) => (true, false, None),
            Some(Found::Document { patchable, served }) => (false, patchable, served),
        };
    let (mut parts, body) = req.into_parts();
    let principal = Principal::from_request_parts(&mut parts, ctx).await?;
    let allowed = match (is_action, patchable) {
        (true, _) => "POST",
        (false, true) => allow::GET_PATCH,
        (false, false) => allow::GET,
    };
    let method = parts.method.clone();
    match method {
        Method::GET | Method::HEAD if !is_action => {
            principal.require(Privilege::Login)?;
            let served = served.ok_or(Refusal::NotInTree)?;
            if wire::if_none_match_hits(&parts.headers, &served.etag) {
                return Ok(Outcome::NotModified { etag: served.etag.clone(), allow: allowed });
            }
            Ok(Outcome::Document { served, allow: allowed })
        }
        Method::PATCH if patchable => {
            principal.require(Privilege::ConfigureComponents)?;
            let path = parts.uri.path().to_string();
            let headers = parts.headers.clone();
            let req = Request::from_parts(parts, body);
            let JsonObject(patch) = JsonObject::from_request(req, ctx).await?;
            let now = ctx.now();
            let result = ctx.device.resources().lock().patch(
                &path,
                &patch,
                |etag| wire::if_match_passes(&headers, etag),
                now,
            );
            let (body, etag) = result.map_err(refusal)?;
            tracing::info!(by = principal.user(), path, "redfish: resource patched");
            Ok(Outcome::Patched { body, etag })
        }
        Method::POST if is_action => {
            principal.require(Privilege::ConfigureComponents)?;
            let path = parts.uri.path().to_string();
            let req = Request::from_parts(parts, body);
            let OptionalJsonObject(params) = OptionalJsonObject::from_request(req, ctx).await?;
            let now = ctx.now();
            let outcome =
                ctx.device.resources().lock().invoke(&path, &params, now).map_err(refusal)?;
            tracing::info!(
                by = principal.user(),
                path,
                changed = outcome.changed,
                "redfish: action"
            );
            Ok(Outcome::Action { changed: outcome.changed })
        }
        _ => Err(method_not_allowed(allowed)),
    }
}

fn with_etag(mut response: Response, etag: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// The answer to a GET of the kept document `served`, made at the document's first answer
/// and copied into every answer after ([`KeptAnswer`]): its body with `head`'s headers (the
/// personality's, in its order), then `Content-Length` where the router would add it, the
/// whole finished by `last`, the personality's last step. The map has room for headers
/// added later ([`wire::roomy`]).
pub fn kept_answer(
    served: &Served,
    head: impl Fn() -> HeaderMap,
    last: impl Fn(&mut Response),
) -> Response {
    KeptAnswer::served(&served.kept, || {
        let mut headers = wire::roomy(head());
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(served.json.len()));
        let mut answer = Response::new(Body::from(served.json.clone()));
        *answer.headers_mut() = headers;
        last(&mut answer);
        answer
    })
}

/// A body that only carries `message`, in the personality's shape: through its
/// [`EnvelopeHook`] when it has one (iLO answers PATCHes and actions with its
/// ExtendedInfo envelope, ilo-idrac.md 1.5 [C]), else DSP0266's `@Message.ExtendedInfo`.
fn message_body(ctx: &Ctx, message: Message) -> Value {
    match &ctx.envelope {
        Some(EnvelopeHook(hook)) => {
            hook.error_body(ctx, &RedfishError::new(StatusCode::OK, message))
        }
        None => wire::messages_body(ctx, &[message]),
    }
}

/// iLO's refusal of a reset in the wrong power state: 400 with its own registry's
/// `InvalidOperationForSystemState` and `MessageArgs` `["Power is off"]` (goldyfruit/ansible-ilo#1
/// [C] on iLO 4; python-redfish-utility#72 [C] names the id on iLO 5).
pub fn invalid_operation_for_system_state(state: &str) -> RedfishError {
    RedfishError::new(
        StatusCode::BAD_REQUEST,
        Message::new(
            "InvalidOperationForSystemState",
            "The operation was not successful due to the current power state (%1).",
            "Warning",
            "Change the power state and resubmit the request.",
            vec![format!("Power is {}", state.to_ascii_lowercase())],
        ),
    )
}

/// Adds to `response` the headers a mockup's `headers.json` gives the document `served`,
/// where the response has none of the same name: the personality's own (and those its
/// `finish` middleware sets afterwards) win.
pub fn add_captured_headers(served: &Served, response: &mut Response) {
    for (name, value) in &served.headers {
        let (Ok(name), Ok(value)) =
            (header::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
        else {
            continue;
        };
        if !response.headers().contains_key(&name) {
            response.headers_mut().insert(name, value);
        }
    }
}

/// The fallback of [`super::routes::RouteTable`]: the device's tree, or the
/// personality's 404.
pub async fn serve(ctx: Ctx, req: Request) -> Response {
    serve_else(ctx, req, |_, req| routes::missing(req.uri().path())).await
}

/// [`serve`], with a request for a path the tree holds nothing at answered by
/// `elsewhere` (the tree looks the path up once either way).
pub async fn serve_else(
    ctx: Ctx,
    req: Request,
    elsewhere: impl FnOnce(&Ctx, Request) -> Response,
) -> Response {
    let uri = req.uri().clone();
    match handle(&ctx, req).await {
        Ok(Outcome::Document { served, allow }) => {
            let head = || {
                let mut first = wire::json_bytes(StatusCode::OK, served.json.clone(), None);
                first.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
                let mut first = with_etag(first, &served.etag);
                add_captured_headers(&served, &mut first);
                first.into_parts().0.headers
            };
            kept_answer(&served, head, |answer| {
                let schema = served.odata_type.as_deref().and_then(wire::DescribedBy::of_type);
                let link = schema.and_then(|schema| ctx.link(&schema));
                routes::last_step(&ctx, answer, link);
            })
        }
        Ok(Outcome::NotModified { etag, allow }) => {
            let mut response = wire::empty_response(StatusCode::NOT_MODIFIED);
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
            with_etag(response, &etag)
        }
        Ok(Outcome::Patched { body, etag }) => match &ctx.envelope {
            Some(_) => {
                let info = message_body(&ctx, base::success());
                with_etag(wire::json_body(StatusCode::OK, &info), &etag)
            }
            None => with_etag(wire::json_response(StatusCode::OK, allow::GET_PATCH, &body), &etag),
        },
        Ok(Outcome::Action { .. }) => {
            let status =
                StatusCode::from_u16(ctx.settings.reset_status).unwrap_or(StatusCode::NO_CONTENT);
            if status == StatusCode::NO_CONTENT {
                wire::empty_response(status)
            } else {
                let body = message_body(&ctx, base::success());
                wire::json_body(status, &body)
            }
        }
        Err(Refusal::NotHeld(req)) => elsewhere(&ctx, req),
        Err(Refusal::NotInTree) => routes::missing(uri.path()),
        Err(Refusal::Error(error)) => error.into_response(),
        Err(Refusal::InvalidState { state, .. }) => {
            invalid_operation_for_system_state(&state).into_response()
        }
    }
}
