//! The standard DMTF Redfish service (DSP0266).

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::device::DeviceHandle;

/// Redfish settings of a profile (`[redfish]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedfishSettings {
    /// HTTP status of `SessionLimitExceeded` (the registry gives none).
    pub session_limit_status: u16,
    /// `Server` header on every response.
    pub server_header: String,
    /// `RedfishVersion` in the service root.
    pub redfish_version: String,
}

impl Default for RedfishSettings {
    fn default() -> Self {
        RedfishSettings {
            session_limit_status: 503,
            server_header: "sessionlab-redfish".to_string(),
            redfish_version: "1.15.0".to_string(),
        }
    }
}

/// The Redfish router for a device.
pub fn router(device: DeviceHandle) -> Router {
    let _ = device;
    Router::new()
}
