//! A device's open sessions: list, open (to occupy GUI, SSH or console slots), end.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{Json, Path};
use super::find;
use super::views::{Ended, SessionView};
use crate::fleet::FleetState;
use crate::session::{ClientInfo, EndReason};

/// A device's open sessions, oldest first.
#[derive(Debug, Serialize)]
pub struct SessionList {
    device: String,
    sessions: Vec<SessionView>,
}

/// `GET /_sessionlab/devices/{name}/sessions`.
pub async fn list(
    State(fleet): State<Arc<FleetState>>,
    Path(name): Path<String>,
) -> Result<Json<SessionList>, ApiError> {
    let device = &find(&fleet, &name)?.device;
    let now = device.now();
    let sessions = device.store.list(now).iter().map(|s| SessionView::new(s, now)).collect();
    Ok(Json(SessionList { device: name, sessions }))
}

/// `GET /_sessionlab/devices/{name}/sessions/{id}`.
pub async fn get(
    State(fleet): State<Arc<FleetState>>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<SessionView>, ApiError> {
    let device = &find(&fleet, &name)?.device;
    let now = device.now();
    let session =
        device.store.get(&id, now).ok_or_else(|| ApiError::session_not_found(&name, &id))?;
    Ok(Json(SessionView::new(&session, now)))
}

/// A session to open without a password.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    user: String,
    session_type: String,
    #[serde(default)]
    client_addr: Option<String>,
    #[serde(default)]
    user_agent: Option<String>,
}

impl NewSession {
    fn client(&self) -> Result<ClientInfo, ApiError> {
        if self.session_type.is_empty() || self.session_type.chars().any(char::is_control) {
            return Err(ApiError::bad_field(format!(
                "invalid session_type {:?}: it must be a non-empty name such as \"web\" or \"ssh\"",
                self.session_type
            )));
        }
        if let Some(addr) = &self.client_addr {
            addr.parse::<IpAddr>().map_err(|_| {
                ApiError::bad_field(format!(
                    "invalid client_addr {addr:?}: expected an IP address without port"
                ))
            })?;
        }
        Ok(ClientInfo {
            addr: self.client_addr.clone(),
            user_agent: self.user_agent.clone(),
            process: None,
        })
    }
}

/// `POST /_sessionlab/devices/{name}/sessions`: opens a session for an account as if it
/// had logged in some other way (GUI, SSH, console). Limits apply. The answer carries
/// the token: the control API belongs to the operator.
pub async fn create(
    State(fleet): State<Arc<FleetState>>,
    Path(name): Path<String>,
    Json(body): Json<NewSession>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let device = &find(&fleet, &name)?.device;
    let client = body.client()?;
    let types = device.profile().session_types();
    if !types.contains(&body.session_type) {
        return Err(ApiError::bad_field(format!(
            "unknown session_type {:?} for device {name:?} (profile {}): valid session types \
             are {}",
            body.session_type,
            device.profile().name,
            types.join(", ")
        ))
        .with_details(serde_json::json!({ "valid_session_types": types })));
    }
    let now = device.now();
    let session = device
        .store
        .open_for(&body.user, &body.session_type, client, now)
        .map_err(|e| ApiError::login(&name, &body.user, e))?;
    tracing::info!(
        device = %name, session = %session.id, user = %session.user,
        session_type = %session.session_type, "session opened through the control API"
    );
    Ok((StatusCode::CREATED, Json(SessionView::with_token(&session, now))))
}

/// What an administrative delete ended.
#[derive(Debug, Serialize)]
pub struct Deleted {
    device: String,
    ended: Ended,
}

/// `DELETE /_sessionlab/devices/{name}/sessions/{id}`: ends one session with reason
/// `admin-delete`.
pub async fn end(
    State(fleet): State<Arc<FleetState>>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Deleted>, ApiError> {
    let device = &find(&fleet, &name)?.device;
    let session = device
        .store
        .end(&id, EndReason::AdminDelete, device.now())
        .map_err(|e| ApiError::no_session(&name, e))?;
    tracing::info!(device = %name, session = %id, "session deleted by the operator");
    Ok(Json(Deleted {
        device: name,
        ended: Ended::new(EndReason::AdminDelete, &[Arc::unwrap_or_clone(session)]),
    }))
}

/// `DELETE /_sessionlab/devices/{name}/sessions`: ends every session with reason
/// `admin-delete`.
pub async fn end_all(
    State(fleet): State<Arc<FleetState>>,
    Path(name): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    let device = &find(&fleet, &name)?.device;
    let ended = device.store.end_all(EndReason::AdminDelete, device.now());
    tracing::info!(device = %name, ended = ended.len(), "all sessions deleted by the operator");
    Ok(Json(Deleted { device: name, ended: Ended::new(EndReason::AdminDelete, &ended) }))
}
