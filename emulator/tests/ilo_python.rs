//! DMTF's python-redfish-library (`pip install redfish`) against the emulated iLO: log in
//! with session authentication, GET the Sessions collection, log out, for each iLO
//! profile; the device must be left with no session and a `logout` in its event log.
//!
//! When `python3` or the `redfish` module is missing the test prints why and passes (CI
//! installs the module in `.ci/run`).

use emulator::profile::Profile;
use emulator::session::{EndReason, EventKind};
use emulator::EmulatedDevice;
use tokio::process::Command;

/// The client: the calls of HPE's own "Session authentication" example for the DMTF
/// library (seed 000's companion page), plus checks on what came back.
const SCRIPT: &str = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
import redfish

url, user, password, oem = sys.argv[1:5]
client = redfish.redfish_client(base_url=url, username=user, password=password)
client.login(auth="session")
key = client.get_session_key()
location = client.get_session_location()
assert key and len(key) == 32, key
assert location.endswith("/"), location
response = client.get("/redfish/v1/SessionService/Sessions/")
assert response.status == 200, response.status
body = response.dict
mine = body["Oem"][oem]["Links"]["MySession"]["@odata.id"]
assert body["Members@odata.count"] == 1, body
assert location.endswith(mine), (location, mine)
client.logout()
print(json.dumps({"members": body["Members@odata.count"], "mine": mine}))
"#;

async fn python_has_redfish() -> Result<(), String> {
    let probe = Command::new("python3").args(["-c", "import redfish"]).output().await;
    match probe {
        Err(e) => Err(format!("python3 cannot be run ({e})")),
        Ok(out) if !out.status.success() => Err(format!(
            "the python module `redfish` is not importable ({}); install it with `python3 -m pip install redfish`",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("").trim()
        )),
        Ok(_) => Ok(()),
    }
}

/// ilo-idrac.md 1.2 and 1.5 with seed 000: python-redfish-library logs in (session auth), GETs, and logs out against every iLO profile, leaving no session behind.
#[tokio::test]
async fn python_redfish_library_logs_in_gets_and_logs_out() {
    if let Err(why) = python_has_redfish().await {
        println!("SKIPPED python_redfish_library_logs_in_gets_and_logs_out: {why}");
        return;
    }
    for (profile, oem) in [("ilo4", "Hp"), ("ilo5", "Hpe"), ("ilo6", "Hpe")] {
        let ilo = EmulatedDevice::start(Profile::embedded(profile).expect("profile"))
            .await
            .expect("device starts");
        let (user, password) = ilo.credentials();
        let out = Command::new("python3")
            .args(["-c", SCRIPT, &ilo.url(), &user, &password, oem])
            .output()
            .await
            .expect("python3 runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{profile}: python failed\nstdout: {stdout}\nstderr: {stderr}"
        );
        assert!(stdout.contains("\"members\": 1"), "{profile}: {stdout}");
        let device = ilo.device();
        let now = device.now();
        assert!(device.store.list(now).is_empty(), "{profile}: the library left a session open");
        let logouts = device
            .store
            .events(now)
            .iter()
            .filter(|e| e.kind == EventKind::Ended { reason: EndReason::Logout })
            .count();
        assert_eq!(logouts, 1, "{profile}");
    }
}
