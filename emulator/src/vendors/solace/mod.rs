//! Solace PubSub+ broker: SEMPv2 sessions.

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::device::DeviceHandle;

/// Solace settings of a profile (`[solace]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SolaceSettings {}

/// The Solace router for a device.
pub fn router(device: DeviceHandle) -> Router {
    let _ = device;
    Router::new()
}
