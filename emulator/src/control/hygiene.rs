//! The hygiene report: which clients hold sessions open, and how their past sessions
//! ended. A client whose sessions end by `idle-timeout` forgot to log out.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::State;
use serde::Serialize;

use super::error::ApiError;
use super::extract::{Json, Path};
use super::find;
use super::views::{age_secs, rfc3339};
use crate::device::Device;
use crate::fleet::FleetState;
use crate::session::{ClientProcess, EventKind};

/// One client: every session with the same address, User-Agent and (where the device
/// names them) local process.
#[derive(Debug, Default, Serialize)]
pub struct ClientGroup {
    client_addr: Option<String>,
    user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_process: Option<ClientProcess>,
    /// Open sessions.
    count: usize,
    /// Age of its oldest open session, in seconds.
    oldest_age_secs: Option<u64>,
    /// Seconds since it last used any of its open sessions.
    last_use_age_secs: Option<u64>,
    session_ids: Vec<String>,
    users: BTreeSet<String>,
    /// How its sessions ended, from the event log.
    ended_by_reason: BTreeMap<&'static str, usize>,
}

/// Totals over a device or the fleet.
#[derive(Debug, Default, Serialize)]
pub struct Totals {
    open_sessions: usize,
    /// Clients with at least one open session.
    clients_with_open_sessions: usize,
    ended_by_reason: BTreeMap<&'static str, usize>,
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        self.open_sessions += other.open_sessions;
        self.clients_with_open_sessions += other.clients_with_open_sessions;
        for (reason, n) in &other.ended_by_reason {
            *self.ended_by_reason.entry(reason).or_insert(0) += n;
        }
    }
}

/// One device's report.
#[derive(Debug, Serialize)]
pub struct DeviceHygiene {
    device: String,
    totals: Totals,
    /// Clients with the most open sessions first.
    clients: Vec<ClientGroup>,
}

type Key = (Option<String>, Option<String>, Option<ClientProcess>);

fn group<'a>(
    groups: &'a mut BTreeMap<Key, ClientGroup>,
    addr: &Option<String>,
    agent: &Option<String>,
    process: &Option<ClientProcess>,
) -> &'a mut ClientGroup {
    groups.entry((addr.clone(), agent.clone(), process.clone())).or_insert_with(|| ClientGroup {
        client_addr: addr.clone(),
        user_agent: agent.clone(),
        client_process: process.clone(),
        ..ClientGroup::default()
    })
}

fn report(device: &Device) -> DeviceHygiene {
    let now = device.now();
    let mut groups: BTreeMap<Key, ClientGroup> = BTreeMap::new();
    let mut totals = Totals::default();
    for s in device.store.list(now) {
        let g = group(&mut groups, &s.client.addr, &s.client.user_agent, &s.client.process);
        let age = age_secs(now, s.created_mono);
        let idle = age_secs(now, s.last_used_mono);
        g.count += 1;
        g.oldest_age_secs = Some(g.oldest_age_secs.map_or(age, |o| o.max(age)));
        g.last_use_age_secs = Some(g.last_use_age_secs.map_or(idle, |l| l.min(idle)));
        g.session_ids.push(s.id);
        g.users.insert(s.user.into());
        totals.open_sessions += 1;
    }
    for e in device.store.events(now) {
        if let EventKind::Ended { reason } = e.kind {
            *group(&mut groups, &e.client_addr, &e.user_agent, &e.client_process)
                .ended_by_reason
                .entry(reason.as_str())
                .or_insert(0) += 1;
            *totals.ended_by_reason.entry(reason.as_str()).or_insert(0) += 1;
        }
    }
    let mut clients: Vec<ClientGroup> = groups.into_values().collect();
    totals.clients_with_open_sessions = clients.iter().filter(|g| g.count > 0).count();
    // Stable sort: equal counts stay in (address, User-Agent, process) order.
    clients.sort_by_key(|g| std::cmp::Reverse(g.count));
    DeviceHygiene { device: device.name().to_string(), totals, clients }
}

/// `GET /_sessionlab/devices/{name}/hygiene`.
pub async fn device(
    State(fleet): State<Arc<FleetState>>,
    Path(name): Path<String>,
) -> Result<Json<DeviceHygiene>, ApiError> {
    Ok(Json(report(&find(&fleet, &name)?.device)))
}

/// The whole fleet's report.
#[derive(Debug, Serialize)]
pub struct FleetHygiene {
    now: String,
    totals: Totals,
    devices: Vec<DeviceHygiene>,
}

/// `GET /_sessionlab/hygiene`.
pub async fn fleet(State(fleet): State<Arc<FleetState>>) -> Json<FleetHygiene> {
    let devices: Vec<DeviceHygiene> = fleet.devices.iter().map(|d| report(&d.device)).collect();
    let mut totals = Totals::default();
    for d in &devices {
        totals.add(&d.totals);
    }
    Json(FleetHygiene { now: rfc3339(fleet.clock.now().utc), totals, devices })
}
