//! F5 BIG-IP: iControl REST tokens and iControl SOAP System.Session.

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::device::DeviceHandle;

/// Bigip settings of a profile (`[bigip]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BigipSettings {}

/// The Bigip router for a device.
pub fn router(device: DeviceHandle) -> Router {
    let _ = device;
    Router::new()
}
