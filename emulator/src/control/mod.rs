//! The emulator's own API under `/_sessionlab/`: the operator's handle on the fleet.
//!
//! JSON in and out, described by the OpenAPI document served at
//! `/_sessionlab/openapi.json` (kept in `emulator/openapi.json`). Every failure is
//! `{"error": {"code", "message"}}` with a fitting status (see `error.rs`).
//!
//! | Method | Path | What |
//! | --- | --- | --- |
//! | GET | `` | browsers (`Accept: text/html`): the dashboard; others: `index.json` |
//! | GET | `index.json` | every path and method of this API |
//! | GET | `metrics` | Prometheus metrics (OpenMetrics text) |
//! | GET | `health` | liveness |
//! | GET | `openapi.json` | this API's description |
//! | POST | `reset` | every device back to its profile |
//! | GET | `clock` | mode, wall time, monotonic seconds |
//! | POST | `clock/advance` | move a virtual clock (`seconds` or `duration`) |
//! | GET | `hygiene` | open sessions by client, whole fleet |
//! | GET | `devices`, `devices/{name}` | devices with session counts |
//! | POST | `devices/{name}/reset`, `.../restart`, `.../auth-config` | device-wide events |
//! | GET, POST, DELETE | `devices/{name}/sessions` | list, open (with token), end all |
//! | GET, DELETE | `devices/{name}/sessions/{id}` | show, end (`admin-delete`) |
//! | GET, POST | `devices/{name}/users` | list, create |
//! | GET, DELETE | `devices/{name}/users/{user}` | show, delete |
//! | PUT, POST | `devices/{name}/users/{user}/password` | change password |
//! | GET | `devices/{name}/events` | event log, filtered |
//! | GET | `devices/{name}/hygiene` | open sessions by client |
//!
//! The dashboard's pages and forms live under `ui/` (see `dashboard/mod.rs`).
//!
//! Handlers only translate: session rules live in the store, which they call.

mod clock;
pub mod dashboard;
mod devices;
mod error;
mod events;
mod extract;
mod hygiene;
pub mod metrics;
mod sessions;
mod users;
mod views;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

use crate::fleet::{FleetState, RunningDevice};
use error::ApiError;

/// The OpenAPI 3.0 document of this API.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// The control API router.
pub fn router(fleet: Arc<FleetState>) -> Router {
    Router::new()
        .route("/_sessionlab/", get(root))
        .route("/_sessionlab/index.json", get(index))
        .route("/_sessionlab/metrics", get(metrics::get))
        .route("/_sessionlab/ui/dashboard.css", get(dashboard::css))
        .route("/_sessionlab/ui/dashboard.js", get(dashboard::js))
        .route("/_sessionlab/ui/reset", post(dashboard::reset_all))
        .route("/_sessionlab/ui/clock/advance", post(dashboard::advance))
        .route("/_sessionlab/ui/devices/{name}", get(dashboard::device_page))
        .route("/_sessionlab/ui/devices/{name}/reset", post(dashboard::reset_device))
        .route(
            "/_sessionlab/ui/devices/{name}/sessions/{id}/delete",
            post(dashboard::delete_session),
        )
        .route("/_sessionlab/ui/{*rest}", get(dashboard::ui_not_found))
        .route("/_sessionlab/health", get(devices::health))
        .route("/_sessionlab/openapi.json", get(openapi))
        .route("/_sessionlab/reset", post(devices::reset_all))
        .route("/_sessionlab/clock", get(clock::get))
        .route("/_sessionlab/clock/advance", post(clock::advance))
        .route("/_sessionlab/hygiene", get(hygiene::fleet))
        .route("/_sessionlab/devices", get(devices::list))
        .route("/_sessionlab/devices/{name}", get(devices::get))
        .route("/_sessionlab/devices/{name}/reset", post(devices::reset))
        .route("/_sessionlab/devices/{name}/restart", post(devices::restart))
        .route("/_sessionlab/devices/{name}/auth-config", post(devices::auth_config))
        .route(
            "/_sessionlab/devices/{name}/sessions",
            get(sessions::list).post(sessions::create).delete(sessions::end_all),
        )
        .route(
            "/_sessionlab/devices/{name}/sessions/{id}",
            get(sessions::get).delete(sessions::end),
        )
        .route("/_sessionlab/devices/{name}/users", get(users::list).post(users::create))
        .route("/_sessionlab/devices/{name}/users/{user}", get(users::get).delete(users::delete))
        .route(
            "/_sessionlab/devices/{name}/users/{user}/password",
            post(users::change_password).put(users::change_password),
        )
        .route("/_sessionlab/devices/{name}/events", get(events::list))
        .route("/_sessionlab/devices/{name}/hygiene", get(hygiene::device))
        // After every route: it applies to the routes already added.
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .with_state(fleet)
}

/// `GET /_sessionlab/openapi.json`.
async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// `GET /_sessionlab/`: the dashboard for a browser (it asks for `text/html` first),
/// the JSON index for everyone else.
async fn root(
    State(fleet): State<Arc<FleetState>>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if dashboard::wants_html(&headers) {
        return dashboard::fleet_page(&fleet);
    }
    let mut res = index().await.into_response();
    res.headers_mut().insert(header::VARY, axum::http::HeaderValue::from_static("Accept"));
    res
}

/// `GET /_sessionlab/index.json` (and `/_sessionlab/` for non-browsers): every path and method of the API with its summary, read from the
/// OpenAPI document, so the URL printed at start answers with what can be done there.
async fn index() -> impl IntoResponse {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap_or_default();
    let mut endpoints = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                if let Some(op) = item.get(method) {
                    endpoints.push(serde_json::json!({
                        "method": method.to_uppercase(),
                        "path": format!("/_sessionlab{path}"),
                        "summary": op["summary"].as_str().unwrap_or(""),
                    }));
                }
            }
        }
    }
    axum::Json(serde_json::json!({
        "openapi": "/_sessionlab/openapi.json",
        "endpoints": endpoints,
    }))
}

/// The device called `name`, or 404.
fn find<'a>(fleet: &'a FleetState, name: &str) -> Result<&'a RunningDevice, ApiError> {
    fleet.device(name).ok_or_else(|| ApiError::device_not_found(name))
}

#[cfg(test)]
mod tests {
    /// The served OpenAPI document is valid JSON and says it is OpenAPI 3.0.
    #[test]
    fn openapi_document_is_openapi_3_json() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.0"));
    }
}
