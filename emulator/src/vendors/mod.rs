//! Wire personalities. Each translates its protocol onto the session engine and renders
//! the engine's outcomes in the vendor's exact format; none keeps session state.

pub mod bigip;
pub mod redfish;
pub mod solace;

use axum::Router;

use crate::device::DeviceHandle;
use crate::profile::Vendor;

/// The router that serves `device` in its profile's personality.
pub fn router(device: DeviceHandle) -> Router {
    match device.profile().vendor {
        Vendor::Redfish => redfish::router(device),
        Vendor::Bigip => bigip::router(device),
        Vendor::Solace => solace::router(device),
    }
}
