//! Real clients drive the resource tree: DMTF's python-redfish-library (`redfish` 3.4.2)
//! and OpenStack sushy (5.14.0) each log in with a session, read the system's power
//! state, force it off, turn it on again, and log out, on every Redfish-family profile.
//!
//! The clients live in the `main` virtual environment that `ci/clients/setup.sh` builds
//! under `$SESSIONLAB_CLIENTS_DIR` (default `<workspace>/target/clients`). When it is
//! missing the test says so and passes, except under `CI=true`, where it fails.

mod common;

use std::path::PathBuf;

use emulator::profile::Profile;
use emulator::EmulatedDevice;
use serde_json::Value;
use tokio::process::Command;

const PROFILES: [&str; 7] = ["redfish", "ilo4", "ilo5", "ilo6", "idrac8", "idrac9", "idrac10"];

/// python-redfish-library: the calls of its README (login with a session, get, post,
/// logout), following the service root's links to the one system.
const REDFISH_LIBRARY: &str = r##"
import json, sys, warnings
warnings.simplefilter("ignore")
import redfish

url, user, password = sys.argv[1:4]
client = redfish.redfish_client(base_url=url, username=user, password=password)
client.login(auth="session")
states = []
try:
    root = client.get("/redfish/v1/").dict
    systems = client.get(root["Systems"]["@odata.id"]).dict
    path = systems["Members"][0]["@odata.id"]
    system = client.get(path).dict
    states.append(system["PowerState"])
    target = system["Actions"]["#ComputerSystem.Reset"]["target"]
    for kind in ("ForceOff", "On"):
        reply = client.post(target, body={"ResetType": kind})
        assert reply.status in (200, 204), (kind, reply.status, reply.text)
        states.append(client.get(path).dict["PowerState"])
finally:
    client.logout()
print(json.dumps({"states": states}))
"##;

/// sushy: the default system, `reset_system`, `refresh`, then the session closed.
const SUSHY: &str = r##"
import json, sys, warnings
warnings.simplefilter("ignore")
import sushy
from sushy import auth

url, user, password = sys.argv[1:4]
session = auth.SessionAuth(username=user, password=password)
root = sushy.Sushy(url + "/redfish/v1", auth=session, verify=False)
states = []
try:
    system = root.get_system()
    states.append(system.power_state.value)
    for kind in (sushy.ResetType.FORCE_OFF, sushy.ResetType.ON):
        system.reset_system(kind)
        system.refresh()
        states.append(system.power_state.value)
finally:
    session.close()
print(json.dumps({"states": states}))
"##;

/// The venv's python, or why it cannot be used (a failure under CI).
fn python() -> Option<PathBuf> {
    let python = common::clients_dir().join("main/bin/python");
    if python.is_file() {
        return Some(python);
    }
    let why = format!(
        "{} is missing: run ci/clients/setup.sh, or point SESSIONLAB_CLIENTS_DIR at its output",
        python.display()
    );
    assert!(!common::strict(), "CI=true and the client venv is missing: {why}");
    println!("SKIPPED real clients against the resource tree: {why}");
    eprintln!("SKIPPED real clients against the resource tree: {why}");
    None
}

async fn run(python: &PathBuf, client: &str, script: &str, profile: &str) {
    let device = EmulatedDevice::start(Profile::embedded(profile).expect("profile"))
        .await
        .expect("device starts");
    let (user, password) = device.credentials();
    let out = Command::new(python)
        .args(["-c", script, &device.url(), &user, &password])
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{client} on {profile} failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    let line = stdout.lines().last().unwrap_or_default();
    let result: Value = serde_json::from_str(line).expect("the script's JSON line");
    assert_eq!(result["states"], serde_json::json!(["On", "Off", "On"]), "{client} on {profile}");
    let dev = device.device();
    let now = dev.now();
    let open: Vec<_> = dev.store.list(now).into_iter().filter(|s| !s.one_request).collect();
    assert!(open.is_empty(), "{client} on {profile} left sessions open: {open:?}");
}

/// issue 11 Tests: python-redfish-library and sushy read the system's power state and
/// reset it on each Redfish-family profile, and log out.
#[tokio::test]
async fn real_clients_read_and_reset_power_on_every_profile() {
    let Some(python) = python() else { return };
    for profile in PROFILES {
        run(&python, "python-redfish-library", REDFISH_LIBRARY, profile).await;
        run(&python, "sushy", SUSHY, profile).await;
    }
}
