//! The emulator's own API under `/_sessionlab/`.

use std::sync::Arc;

use axum::Router;

use crate::fleet::FleetState;

/// The control API router.
pub fn router(fleet: Arc<FleetState>) -> Router {
    let _ = fleet;
    Router::new()
}
