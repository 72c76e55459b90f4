//! The fleet-wide event budget (issue 13 item 7): the event logs of all devices together
//! stay within one memory bound, whatever the fleet's size, and `/events` says how many
//! were dropped.

use std::sync::Arc;

use emulator::clock::Now;
use emulator::fleet::{DeviceSpec, Fleet, FleetConfig};
use emulator::profile::Profile;
use emulator::session::{
    Account, ClientInfo, EndReason, EventBudget, IdGenerator, LoginRequest, Policy, SessionStore,
};

fn store() -> SessionStore {
    SessionStore::new(
        Policy::default(),
        [Account::new("admin", "admin-pw", "Administrator")],
        IdGenerator::seeded(1, 1),
    )
}

/// One login and one logout: two events.
fn churn(store: &SessionStore, times: usize) {
    churn_as(store, ("admin", "admin-pw"), times);
}

fn churn_as(store: &SessionStore, (user, password): (&str, &str), times: usize) {
    let client = ClientInfo {
        addr: Some("192.0.2.7".into()),
        user_agent: Some("churn/1.0".into()),
        process: None,
    };
    for i in 0..times {
        let now = Now::at_secs(i as u64);
        let req = LoginRequest { user, password, session_type: "redfish", client: client.clone() };
        let s = store.login(&req, now).expect("no limit");
        store.end(&s.id, EndReason::Logout, now).expect("open");
    }
}

/// Issue 13 item 7 (a 1,000-device fleet under churn could need 20 GB): ten logs sharing
/// a 100 KB budget hold at most 100 KB together, each says how many it dropped, and
/// dropped + kept is every event it logged.
#[test]
fn a_fleet_budget_bounds_all_the_logs_together() {
    const BUDGET: usize = 100_000;
    let budget = EventBudget::new(BUDGET, 10);
    let stores: Vec<SessionStore> = (0..10).map(|_| store()).collect();
    for s in &stores {
        s.share_event_budget(budget.clone());
    }
    for s in &stores {
        churn(s, 1_000);
    }
    let total: usize = stores.iter().map(|s| s.events_memory().bytes).sum();
    assert!(total <= BUDGET, "{total} bytes held, budget {BUDGET}");
    for s in &stores {
        let memory = s.events_memory();
        assert!(s.events_dropped() > 0);
        assert_eq!(s.events_dropped() + memory.kept as u64, 2_000);
        assert!(memory.bytes >= budget.share() / 2, "every device keeps about its share");
        let seqs: Vec<u64> = s.events(Now::at_secs(0)).iter().map(|e| e.seq).collect();
        assert_eq!(seqs.last(), Some(&2_000), "the newest events are the ones kept");
    }
}

/// Issue 13 item 7: a busy device borrows what quiet ones leave (beyond its reserved
/// share), and a reset gives the borrowed memory back to the fleet.
#[test]
fn a_busy_device_borrows_the_pool_and_a_reset_returns_it() {
    const BUDGET: usize = 100_000;
    let budget = EventBudget::new(BUDGET, 10);
    let pool = budget.available();
    let busy = store();
    let quiet: Vec<SessionStore> = (0..9).map(|_| store()).collect();
    busy.share_event_budget(budget.clone());
    for s in &quiet {
        s.share_event_budget(budget.clone());
        churn(s, 3);
    }
    churn(&busy, 2_000);
    let held = busy.events_memory().bytes;
    assert!(held > budget.share(), "{held} beyond its share {}", budget.share());
    assert!(held <= budget.share() + pool);
    busy.reset(
        Policy::default(),
        [Account::new("admin", "admin-pw", "Administrator")],
        IdGenerator::seeded(1, 1),
    );
    assert_eq!(busy.events_memory().bytes, 0);
    assert_eq!(budget.available(), pool, "every borrowed byte is back");
    churn(&busy, 2_000);
    assert!(busy.events_memory().bytes > budget.share(), "the reset log still shares the budget");
}

/// Issue 13 item 7: `GET /_sessionlab/devices/{name}/events` says how many events were
/// dropped and what the fleet's budget and the device's share are.
#[tokio::test]
async fn events_say_how_many_were_dropped_for_the_fleet_budget() {
    let specs: Vec<DeviceSpec> = (1..=4)
        .map(|i| {
            DeviceSpec::new(&format!("rf-{i}"), Arc::new(Profile::embedded("redfish").unwrap()))
        })
        .collect();
    let fleet = Fleet::start(FleetConfig { event_budget: Some(40_000), ..FleetConfig::new(specs) })
        .await
        .expect("fleet");
    let device = &fleet.devices()[0].device;
    churn_as(&device.store, ("admin", "sessionlab"), 500);
    let url = format!("{}/_sessionlab/devices/rf-1/events?event=created", fleet.control_url());
    let body: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let dropped = body["dropped"].as_u64().expect("dropped");
    let kept = body["kept"].as_u64().expect("kept");
    assert!(dropped > 0, "{body}");
    assert_eq!(dropped + kept, 1_000, "{body}");
    assert_eq!(body["fleet_budget_bytes"], 40_000);
    assert_eq!(body["device_share_bytes"], 5_000);
    assert!(body["bytes"].as_u64().unwrap() <= 40_000);
}
