//! The device's resource tree behind the iDRAC router: the standard personality's
//! [`handle`] (authentication, privileges, the tree), rendered the iDRAC way.
//!
//! - documents with sorted keys, as every iDRAC body;
//! - a PATCH answers 200 with the Base registry's `Success` (and, on a Dell attribute
//!   set, `SYS413`, as the attributes PATCH);
//! - `ComputerSystem.Reset` answers 204 without body (assumed, as Dell's scripts expect);
//! - a reset the power state forbids answers 409 `PSU501` "Server is already powered
//!   ON." (dellemc-openmanage-ansible-modules#115/#132 [C]) or, when the server is off,
//!   `PSU502` "Server is already powered OFF." (the same shape; not captured);
//! - every other error in iDRAC's envelope through [`IdracError::from_redfish`].

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::errors::IdracError;
use super::wire;
use super::IdracSettings;
use crate::vendors::redfish::routes::Ctx;
use crate::vendors::redfish::tree::{handle, Outcome, Refusal};

fn sorted(status: StatusCode, body: &Value, etag: Option<&str>) -> Response {
    written(status, wire::to_sorted_string(body).into(), etag)
}

/// [`sorted`] for a body already written that way.
fn written(status: StatusCode, json: axum::body::Bytes, etag: Option<&str>) -> Response {
    let mut response = Response::new(Body::from(json));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(value) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
        headers.insert(header::ETAG, value);
    }
    response
}

/// 409 with `PSU501` (on) or `PSU502` (off) in iDRAC's envelope.
pub fn already_in_state(s: &IdracSettings, state: &str) -> IdracError {
    let (id, text) = if state == "Off" {
        ("PSU502", "Server is already powered OFF.")
    } else {
        ("PSU501", "Server is already powered ON.")
    };
    IdracError::envelope(
        StatusCode::CONFLICT,
        &s.messages.general_error_code,
        vec![wire::message(
            &format!("{}.{id}", s.messages.idrac_registry),
            text,
            &[],
            "No response action is required.",
            "Informational",
        )],
    )
}

/// The iDRAC router's fallback: the device's tree, or iDRAC's 404.
pub async fn serve(ctx: Ctx, req: Request) -> Response {
    let s = IdracSettings::of(&ctx.device);
    let path = req.uri().path();
    let headers = req.headers();
    let basic = !headers.contains_key(crate::vendors::redfish::X_AUTH_TOKEN)
        && headers.contains_key(header::AUTHORIZATION);
    if basic && !s.basic_auth && ctx.device.resources().lock().serves(path) {
        tracing::debug!("idrac: HTTP Basic refused (disabled on this profile)");
        return IdracError::unauthorized(&s).into_response();
    }
    // For the answers that name the path once `handle` has taken the request.
    let uri = req.uri().clone();
    match handle(&ctx, req).await {
        Ok(Outcome::Document { served, allow }) => {
            // The tree writes serde_json's compact JSON, keys in byte order: iDRAC's writing
            // (`wire::to_sorted_string`; a test there holds the two equal).
            let head = || {
                let mut first = written(StatusCode::OK, served.json.clone(), Some(&served.etag));
                first.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
                crate::vendors::redfish::tree::add_captured_headers(&served, &mut first);
                first.into_parts().0.headers
            };
            crate::vendors::redfish::tree::kept_answer(&served, head, |answer| {
                super::routes::kept_last_step(&ctx, &s, answer);
            })
        }
        Ok(Outcome::NotModified { etag, .. }) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            if let Ok(value) = HeaderValue::from_str(&etag) {
                response.headers_mut().insert(header::ETAG, value);
            }
            response
        }
        Ok(Outcome::Patched { etag, .. }) => {
            // Dell attribute sets answer as the iDRAC's own attributes do.
            let mut messages = vec![wire::success_message(&s)];
            if uri.path().contains("/Oem/Dell/DellAttributes/") {
                messages.push(wire::sys413_message(&s));
            }
            let body = json!({ "@Message.ExtendedInfo": messages });
            sorted(StatusCode::OK, &body, Some(&etag))
        }
        Ok(Outcome::Action { .. }) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
        Err(Refusal::NotHeld(_) | Refusal::NotInTree) => {
            IdracError::not_found(&s, uri.path()).into_response()
        }
        Err(Refusal::Error(error)) => IdracError::from_redfish(&s, &error).into_response(),
        Err(Refusal::InvalidState { state, .. }) => already_in_state(&s, &state).into_response(),
    }
}
