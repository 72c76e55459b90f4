//! Dell iDRAC 8, 9 and 10: Redfish, session-type pools, racadm over SSH.

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::device::DeviceHandle;

/// iDRAC settings of a profile (`[idrac]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdracSettings {}

/// The SSH service (racadm); `None` until it is built.
pub const SSH: Option<super::SshServe> = None;

/// The iDRAC router for a device (for now the standard Redfish service).
pub fn router(device: DeviceHandle) -> Router {
    super::redfish::router(device)
}
