//! `GET /devices/{name}/events`: a device's event log, filtered.

use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::find;
use crate::fleet::FleetState;
use crate::session::{EndReason, Event, EventKind, EventMemory};

/// The event kinds, as the `event` field and filter name them.
const KINDS: [&str; 5] = ["created", "ended", "refused", "login-failed", "expired"];

fn kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Created => KINDS[0],
        EventKind::Ended { .. } => KINDS[1],
        EventKind::Refused { .. } => KINDS[2],
        EventKind::LoginFailed => KINDS[3],
        EventKind::Expired { .. } => KINDS[4],
    }
}

/// Filters; every one given must match.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// End reason (implies `event=ended`).
    #[serde(default)]
    reason: Option<String>,
    /// Event kind.
    #[serde(default)]
    event: Option<String>,
    /// User.
    #[serde(default)]
    user: Option<String>,
    /// Session id.
    #[serde(default)]
    session_id: Option<String>,
    /// Only events with a larger `seq` (for polling).
    #[serde(default)]
    after: Option<u64>,
}

/// A filter with its names checked.
struct Checked<'a> {
    reason: Option<EndReason>,
    event: Option<&'a str>,
    filter: &'a Filter,
}

impl Filter {
    fn check(&self) -> Result<Checked<'_>, ApiError> {
        let reason = match &self.reason {
            None => None,
            Some(r) => Some(r.parse::<EndReason>().map_err(|_| {
                let valid: Vec<&str> = EndReason::ALL.iter().map(|r| r.as_str()).collect();
                ApiError::bad_parameter(format!(
                    "unknown reason {r:?}; valid reasons: {}",
                    valid.join(", ")
                ))
                .with_details(serde_json::json!({ "valid": valid }))
            })?),
        };
        let event = match &self.event {
            None => None,
            Some(e) => Some(KINDS.iter().copied().find(|k| k == e).ok_or_else(|| {
                ApiError::bad_parameter(format!(
                    "unknown event {e:?}; valid events: {}",
                    KINDS.join(", ")
                ))
                .with_details(serde_json::json!({ "valid": KINDS }))
            })?),
        };
        Ok(Checked { reason, event, filter: self })
    }
}

impl Checked<'_> {
    fn matches(&self, e: &Event) -> bool {
        let f = self.filter;
        self.event.is_none_or(|k| kind_name(&e.kind) == k)
            && self.reason.is_none_or(|r| e.kind == EventKind::Ended { reason: r })
            && f.user.as_ref().is_none_or(|u| &e.user == u)
            && f.session_id.as_ref().is_none_or(|id| e.session_id.as_ref() == Some(id))
            && f.after.is_none_or(|after| e.seq > after)
    }
}

/// The matching events, oldest first.
#[derive(Debug, Serialize)]
pub struct EventList {
    device: String,
    /// Events dropped from the front of the bounded log (past its entry cap, or past the
    /// device's part of the fleet's memory budget).
    dropped: u64,
    /// What the log holds against its bounds.
    #[serde(flatten)]
    memory: EventMemory,
    events: Vec<Event>,
}

/// `GET /_sessionlab/devices/{name}/events?reason=&event=&user=&session_id=&after=`.
pub async fn list(
    State(fleet): State<Arc<FleetState>>,
    Path(name): Path<String>,
    Query(filter): Query<Filter>,
) -> Result<Json<EventList>, ApiError> {
    let device = &find(&fleet, &name)?.device;
    let checked = filter.check()?;
    let events =
        device.store.events(device.now()).into_iter().filter(|e| checked.matches(e)).collect();
    let (dropped, memory) = (device.store.events_dropped(), device.store.events_memory());
    Ok(Json(EventList { device: name, dropped, memory, events }))
}
