//! Health, fleet and device endpoints: list, show, reset, restart, auth-config change.

use std::sync::Arc;

use axum::extract::State;
use serde::Serialize;

use super::error::ApiError;
use super::extract::{Json, Path};
use super::find;
use super::views::Ended;
use crate::fleet::{FleetState, RunningDevice};
use crate::profile::Vendor;
use crate::session::{AuthConfigChange, Counts, EndReason};

/// A device as the control API shows it.
#[derive(Debug, Serialize)]
pub struct DeviceView {
    name: String,
    profile: String,
    vendor: Vendor,
    description: String,
    /// The device's address (its own, or the fleet's bind address).
    address: String,
    url: String,
    /// `own` (sockets of its own) or `shared` (the fleet's sockets, routed by address).
    sockets: &'static str,
    /// `host:port` of the device's SSH service, for personalities that have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    ssh: Option<String>,
    sessions: Counts,
}

impl DeviceView {
    fn new(d: &RunningDevice) -> DeviceView {
        let profile = d.device.profile();
        DeviceView {
            name: d.device.name().to_string(),
            profile: profile.name.clone(),
            vendor: profile.vendor,
            description: profile.description.clone(),
            address: d.addr.ip().to_string(),
            url: d.url(),
            sockets: if d.shared { "shared" } else { "own" },
            ssh: d.ssh_addr.map(|a| a.to_string()),
            sessions: d.device.store.counts(d.device.now()),
        }
    }
}

/// Every device.
#[derive(Debug, Serialize)]
pub struct DeviceList {
    devices: Vec<DeviceView>,
}

impl DeviceList {
    fn new(fleet: &FleetState) -> DeviceList {
        DeviceList { devices: fleet.devices.iter().map(DeviceView::new).collect() }
    }
}

/// `GET /_sessionlab/health`.
pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /_sessionlab/devices`.
pub async fn list(State(fleet): State<Arc<FleetState>>) -> Json<DeviceList> {
    Json(DeviceList::new(&fleet))
}

/// `GET /_sessionlab/devices/{name}`.
pub async fn get(
    State(fleet): State<Arc<FleetState>>,
    Path(name): Path<String>,
) -> Result<Json<DeviceView>, ApiError> {
    Ok(Json(DeviceView::new(find(&fleet, &name)?)))
}

/// `POST /_sessionlab/reset`: every device back to its profile.
pub async fn reset_all(State(fleet): State<Arc<FleetState>>) -> Json<DeviceList> {
    for d in &fleet.devices {
        d.device.reset();
    }
    tracing::info!(devices = fleet.devices.len(), "fleet reset to its profiles");
    Json(DeviceList::new(&fleet))
}

/// `POST /_sessionlab/devices/{name}/reset`: one device back to its profile.
pub async fn reset(
    State(fleet): State<Arc<FleetState>>,
    Path(name): Path<String>,
) -> Result<Json<DeviceView>, ApiError> {
    let d = find(&fleet, &name)?;
    d.device.reset();
    tracing::info!(device = %name, "device reset to its profile");
    Ok(Json(DeviceView::new(d)))
}

/// What a device-wide operation ended.
#[derive(Debug, Serialize)]
pub struct DeviceEnded {
    device: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<AuthConfigChange>,
    ended: Ended,
}

/// `POST /_sessionlab/devices/{name}/restart`: every session ends with reason `restart`.
pub async fn restart(
    State(fleet): State<Arc<FleetState>>,
    Path(name): Path<String>,
) -> Result<Json<DeviceEnded>, ApiError> {
    let d = find(&fleet, &name)?;
    let ended = d.device.restart();
    tracing::info!(device = %name, ended = ended.len(), "device restarted");
    Ok(Json(DeviceEnded {
        device: name,
        policy: None,
        ended: Ended::new(EndReason::Restart, &ended),
    }))
}

/// `POST /_sessionlab/devices/{name}/auth-config`: the authentication configuration
/// changes; the profile's policy says whether sessions end.
pub async fn auth_config(
    State(fleet): State<Arc<FleetState>>,
    Path(name): Path<String>,
) -> Result<Json<DeviceEnded>, ApiError> {
    let d = find(&fleet, &name)?;
    let policy = d.device.store.policy().on_auth_config_change;
    let ended = d.device.store.change_auth_config(d.device.now());
    tracing::info!(device = %name, ended = ended.len(), "auth configuration changed");
    Ok(Json(DeviceEnded {
        device: name,
        policy: Some(policy),
        ended: Ended::new(EndReason::AuthConfigChange, &ended),
    }))
}
