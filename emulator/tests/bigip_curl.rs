//! The 100-token wall reproduced with curl, the way users meet it: a client that logs in
//! with `POST /mgmt/shared/authn/login` and never deletes its token gets 400 `user <uuid>
//! has reached maximum active login tokens` on its 101st login (bigip-solace.md 1.4).
//! Deleting the tokens (`DELETE /mgmt/shared/authz/tokens` with Basic, as clients do
//! after the error) frees the user again, except on 17.1.2.x (bug ID1787517), where only
//! a restjavad restart does.
//!
//! Runs `curl` with `std::process::Command` against an `EmulatedDevice` on 127.0.0.1:0.
//! Without curl on the PATH the test prints why and passes (skips).

use std::process::Command;

use emulator::profile::Profile;
use emulator::EmulatedDevice;

const USER: &str = "operator";
const PASSWORD: &str = "sessionlab";
/// `UUID.nameUUIDFromBytes("operator")`.
const OPERATOR_UUID: &str = "4b583376-b276-3b92-bc3e-1da60d10de59";

fn curl_available() -> bool {
    Command::new("curl").arg("--version").output().is_ok_and(|o| o.status.success())
}

fn login_args(url: &str) -> Vec<String> {
    let body = format!(
        "{{\"username\":\"{USER}\",\"password\":\"{PASSWORD}\",\"loginProviderName\":\"tmos\"}}"
    );
    ["-s", "-o", "/dev/null", "-w", "%{http_code}\\n", "-H", "Content-Type: application/json"]
        .into_iter()
        .map(str::to_string)
        .chain(["-d".to_string(), body, format!("{url}/mgmt/shared/authn/login")])
        .collect()
}

/// Runs curl; returns stdout.
fn curl(args: &[String]) -> String {
    let out = Command::new("curl").args(args).output().expect("curl runs");
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `n` logins in one curl process (`--next` between them); their status codes.
fn logins(url: &str, n: usize) -> Vec<String> {
    let mut args = Vec::new();
    for i in 0..n {
        if i > 0 {
            args.push("--next".to_string());
        }
        args.extend(login_args(url));
    }
    curl(&args).lines().map(str::to_string).collect()
}

/// One request; (status, body).
fn request(
    url: &str,
    method: &str,
    path: &str,
    basic: &str,
    body: Option<&str>,
) -> (String, String) {
    let mut args: Vec<String> = ["-s", "-w", "\n%{http_code}", "-X", method, "-u", basic]
        .into_iter()
        .map(str::to_string)
        .collect();
    if let Some(body) = body {
        args.extend(["-H".to_string(), "Content-Type: application/json".to_string()]);
        args.extend(["-d".to_string(), body.to_string()]);
    }
    args.push(format!("{url}{path}"));
    let out = curl(&args);
    let (body, status) = out.rsplit_once('\n').expect("status line");
    (status.to_string(), body.to_string())
}

fn one_login(url: &str) -> (String, String) {
    let body = format!(
        "{{\"username\":\"{USER}\",\"password\":\"{PASSWORD}\",\"loginProviderName\":\"tmos\"}}"
    );
    let args: Vec<String> =
        ["-s", "-w", "\n%{http_code}", "-H", "Content-Type: application/json", "-d"]
            .into_iter()
            .map(str::to_string)
            .chain([body, format!("{url}/mgmt/shared/authn/login")])
            .collect();
    let out = curl(&args);
    let (body, status) = out.rsplit_once('\n').expect("status line");
    (status.to_string(), body.to_string())
}

/// bigip-solace.md 1.4: curl reproduces the 100-token wall on every profile; deleting the
/// tokens frees the user on 15.1 and 17.1 but not on 17.1.2.x (bug ID1787517) until
/// restjavad restarts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_hits_the_token_wall_and_deleting_tokens_frees_it_except_on_17_1_2() {
    if !curl_available() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "curl is missing in CI");
        eprintln!("SKIPPED: curl is not on the PATH; install curl to reproduce the 100-token wall");
        return;
    }
    for (profile, freed_by_delete) in [("bigip15", true), ("bigip17", true), ("bigip17-1-2", false)]
    {
        let device = EmulatedDevice::start(Profile::embedded(profile).expect("profile"))
            .await
            .expect("device starts");
        let url = device.url();
        let result = tokio::task::spawn_blocking(move || {
            let statuses = logins(&url, 100);
            assert_eq!(statuses.len(), 100, "{profile}");
            assert!(statuses.iter().all(|s| s == "200"), "{profile}: {statuses:?}");

            let (status, body) = one_login(&url);
            assert_eq!(status, "400", "{profile}: {body}");
            let expected = format!(
                "\"message\":\"user {OPERATOR_UUID} has reached maximum active login tokens\""
            );
            assert!(body.contains(&expected), "{profile}: {body}");

            let basic = format!("{USER}:{PASSWORD}");
            let (status, body) = request(&url, "DELETE", "/mgmt/shared/authz/tokens", &basic, None);
            assert_eq!(status, "200", "{profile}: {body}");

            let (status, body) = one_login(&url);
            if freed_by_delete {
                assert_eq!(status, "200", "{profile}: deleting tokens frees the user: {body}");
            } else {
                assert_eq!(status, "400", "{profile}: deleted tokens still count: {body}");
                let (status, body) = request(
                    &url,
                    "POST",
                    "/mgmt/tm/sys/service/restjavad",
                    "admin:sessionlab",
                    Some("{\"command\":\"restart\"}"),
                );
                assert_eq!(status, "200", "{profile}: {body}");
                let (status, body) = one_login(&url);
                assert_eq!(status, "200", "{profile}: a restjavad restart frees the user: {body}");
            }
        })
        .await;
        drop(device);
        if let Err(panic) = result {
            std::panic::resume_unwind(panic.into_panic());
        }
    }
}
