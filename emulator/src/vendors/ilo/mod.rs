//! HPE iLO 4, 5 and 6: Redfish with HPE's session resources.

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::device::DeviceHandle;

/// iLO settings of a profile (`[ilo]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IloSettings {}

/// The iLO router for a device (for now the standard Redfish service).
pub fn router(device: DeviceHandle) -> Router {
    super::redfish::router(device)
}
