//! The control API under `/_sessionlab/`, over a real socket on port 0.
//!
//! Time only moves through `POST /_sessionlab/clock/advance`; nothing here sleeps.

use emulator::clock::ClockMode;
use emulator::fleet::{DeviceSpec, Fleet, FleetConfig};
use emulator::profile::Profile;
use emulator::EmulatedDevice;
use reqwest::Method;
use serde_json::{json, Value};

/// A started device and a client for its control API.
struct Api {
    device: EmulatedDevice,
    client: reqwest::Client,
}

impl Api {
    async fn start() -> Api {
        let device = EmulatedDevice::start(Profile::embedded("redfish").unwrap()).await.unwrap();
        Api { device, client: client() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/_sessionlab/{path}", self.device.control())
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(body) = body {
            req = req.json(&body);
        }
        answer(req.send().await.unwrap()).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Opens a session through the control API and returns its id.
    async fn open(&self, user: &str, session_type: &str, agent: &str, addr: &str) -> String {
        let (status, body) = self
            .post(
                "devices/redfish/sessions",
                json!({"user": user, "session_type": session_type,
                       "user_agent": agent, "client_addr": addr}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// Ids of the open sessions.
    async fn open_ids(&self) -> Vec<String> {
        let (status, body) = self.get("devices/redfish/sessions").await;
        assert_eq!(status, 200, "{body}");
        ids(&body["sessions"], "id")
    }

    /// Session ids of the events matching `query`.
    async fn event_ids(&self, query: &str) -> Vec<String> {
        let (status, body) = self.get(&format!("devices/redfish/events?{query}")).await;
        assert_eq!(status, 200, "{body}");
        ids(&body["events"], "session_id")
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn answer(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status {status}: body is not JSON ({e}): {text:?}"));
    (status, body)
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list.as_array().unwrap().iter().map(|v| v[field].as_str().unwrap().to_string()).collect()
}

/// Asserts the control API's error shape with this status and code.
#[track_caller]
fn assert_error(answer: &(u16, Value), status: u16, code: &str) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

/// Health answers `{"status":"ok"}`.
#[tokio::test]
async fn health_answers_ok() {
    let api = Api::start().await;
    assert_eq!(api.get("health").await, (200, json!({"status": "ok"})));
}

/// Advancing the virtual clock moves its time and ends an idle session with reason
/// `idle-timeout`, logged in the events.
#[tokio::test]
async fn clock_advance_moves_time_and_idles_out_sessions() {
    let api = Api::start().await;
    let (status, before) = api.get("clock").await;
    assert_eq!(status, 200);
    assert_eq!(before["mode"], "virtual");
    let start = chrono::DateTime::parse_from_rfc3339(before["now"].as_str().unwrap()).unwrap();
    let id = api.open("operator", "web", "gui", "192.0.2.1").await;

    // 1799 s: still open (the redfish profile's idle timeout is 1800 s).
    let (status, after) = api.post("clock/advance", json!({"seconds": 1799})).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["advanced_secs"], 1799.0);
    assert_eq!(api.open_ids().await, vec![id.clone()]);

    let (status, after) = api.post("clock/advance", json!({"duration": "1s"})).await;
    assert_eq!(status, 200, "{after}");
    let now = chrono::DateTime::parse_from_rfc3339(after["now"].as_str().unwrap()).unwrap();
    assert_eq!((now - start).num_seconds(), 1800);
    assert_eq!(
        after["monotonic_secs"].as_f64().unwrap() - before["monotonic_secs"].as_f64().unwrap(),
        1800.0
    );
    assert_eq!(api.open_ids().await, Vec::<String>::new());
    assert_eq!(api.event_ids("reason=idle-timeout").await, vec![id]);
}

/// A real clock cannot be advanced: 409 `clock-not-virtual`.
#[tokio::test]
async fn clock_advance_on_real_clock_is_conflict() {
    let fleet = Fleet::start(FleetConfig {
        clock: ClockMode::Real,
        ..FleetConfig::new(DeviceSpec::default_fleet().unwrap())
    })
    .await
    .unwrap();
    let client = client();
    let url = format!("{}/_sessionlab/", fleet.control_url());
    let clock = answer(client.get(format!("{url}clock")).send().await.unwrap()).await;
    assert_eq!(clock.1["mode"], "real");
    let refused = answer(
        client
            .post(format!("{url}clock/advance"))
            .json(&json!({"seconds": 60}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&refused, 409, "clock-not-virtual");
    assert!(refused.1["error"]["message"].as_str().unwrap().contains("virtual"));
}

/// Issue 13 (reliability): past what the virtual clock can represent, an advance is 409 `clock-out-of-range` and the clock stays put, instead of a 200 that claims it moved.
#[tokio::test]
async fn clock_advance_past_the_representable_is_refused() {
    let api = Api::start().await;
    for _ in 0..5 {
        let (status, _) = api.post("clock/advance", json!({"duration": "36500d"})).await;
        assert_eq!(status, 200);
    }
    let (_, before) = api.get("clock").await;
    let refused = api.post("clock/advance", json!({"duration": "36500d"})).await;
    assert_error(&refused, 409, "clock-out-of-range");
    let (_, after) = api.get("clock").await;
    assert_eq!(before["now"], after["now"]);
}

/// Bad advance bodies are 400 `bad-field`.
#[tokio::test]
async fn clock_advance_refuses_bad_amounts() {
    let api = Api::start().await;
    for body in [
        json!({}),
        json!({"seconds": 0}),
        json!({"seconds": -5}),
        json!({"seconds": "60"}),
        json!({"duration": "soon"}),
        json!({"seconds": 1, "duration": "1s"}),
        json!({"minutes": 1}),
    ] {
        assert_error(&api.post("clock/advance", body).await, 400, "bad-field");
    }
}

/// The device list shows each device's URL and open sessions by type.
#[tokio::test]
async fn devices_list_counts_sessions_by_type() {
    let api = Api::start().await;
    api.open("admin", "web", "gui", "192.0.2.1").await;
    api.open("admin", "web", "gui", "192.0.2.1").await;
    api.open("operator", "ssh", "ssh", "192.0.2.2").await;
    let (status, list) = api.get("devices").await;
    assert_eq!(status, 200);
    let devices = list["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1);
    let d = &devices[0];
    assert_eq!(d["name"], "redfish");
    assert_eq!(d["profile"], "redfish");
    assert_eq!(d["vendor"], "redfish");
    assert_eq!(d["url"], api.device.url());
    assert_eq!(d["sessions"], json!({"total": 3, "by_type": {"web": 2, "ssh": 1}}));
    assert_eq!(api.get("devices/redfish").await, (200, d.clone()));
}

/// A session opened through the control API carries its token once; listings never do.
#[tokio::test]
async fn opened_session_shows_token_only_on_creation() {
    let api = Api::start().await;
    let (status, created) = api
        .post("devices/redfish/sessions", json!({"user": "admin", "session_type": "console"}))
        .await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap();
    assert_eq!(token.len(), 32);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        api.device.device().store.authenticate(token, api.device.clock().now()).unwrap().id,
        created["id"]
    );
    for path in ["devices/redfish/sessions", "devices/redfish/events", "devices/redfish/hygiene"] {
        let (_, body) = api.get(path).await;
        assert!(!body.to_string().contains(token), "{path} shows the token");
    }
    let (status, one) =
        api.get(&format!("devices/redfish/sessions/{}", created["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert!(one.get("token").is_none());
    assert_eq!(one["session_type"], "console");
    assert!(one["idle_expires"].is_string());
    assert!(one["hard_expires"].is_null());
}

/// Opening a session refused by a full limit is 409 `session-limit` with the scope.
#[tokio::test]
async fn session_limit_full_is_conflict_with_scope() {
    let api = Api::start().await;
    for _ in 0..16 {
        api.open("admin", "web", "gui", "192.0.2.1").await;
    }
    let refused =
        api.post("devices/redfish/sessions", json!({"user": "admin", "session_type": "web"})).await;
    assert_error(&refused, 409, "session-limit");
    assert_eq!(refused.1["error"]["details"], json!({"scope": "total", "limit": 16}));
    let unknown = api
        .post("devices/redfish/sessions", json!({"user": "nobody", "session_type": "web"}))
        .await;
    assert_error(&unknown, 404, "user-not-found");
    let bad_addr = api
        .post(
            "devices/redfish/sessions",
            json!({"user": "admin", "session_type": "web", "client_addr": "10.0.0.1:443"}),
        )
        .await;
    assert_error(&bad_addr, 400, "bad-field");
}

/// Issue 12: a session type the profile does not have (`GUI` where iDRAC's pool is
/// `gui`, `virtual_console` for `virtual-console`) is 400 naming the valid types, and
/// occupies no slot.
#[tokio::test]
async fn unknown_session_type_is_refused_with_the_valid_ones() {
    let device = EmulatedDevice::start(Profile::embedded("idrac9").unwrap()).await.unwrap();
    let api = Api { device, client: client() };
    for wrong in ["GUI", "virtual_console"] {
        let refused = api
            .post("devices/idrac9/sessions", json!({"user": "root", "session_type": wrong}))
            .await;
        assert_error(&refused, 400, "bad-field");
        let message = refused.1["error"]["message"].as_str().unwrap();
        assert!(message.contains(wrong) && message.contains("gui, ipmi, racadm"), "{message}");
        assert_eq!(
            refused.1["error"]["details"]["valid_session_types"],
            json!([
                "gui",
                "ipmi",
                "racadm",
                "redfish",
                "redfish-basic",
                "ssh",
                "virtual-console",
                "vnc"
            ])
        );
    }
    let (status, body) = api.get("devices/idrac9/sessions").await;
    assert_eq!(status, 200);
    assert_eq!(body["sessions"], json!([]));
    let ok =
        api.post("devices/idrac9/sessions", json!({"user": "root", "session_type": "gui"})).await;
    assert_eq!(ok.0, 201, "{}", ok.1);
}

/// Issue 12: an account of a role the vendor does not have is 400 naming the valid roles.
#[tokio::test]
async fn unknown_role_is_refused_with_the_valid_ones() {
    let api = Api::start().await;
    let refused = api
        .post("devices/redfish/users", json!({"user": "eve", "password": "pw", "role": "Admin"}))
        .await;
    assert_error(&refused, 400, "bad-field");
    assert_eq!(
        refused.1["error"]["details"]["valid_roles"],
        json!(["Administrator", "Operator", "ReadOnly"])
    );
    let (status, _) = api.get("devices/redfish/users/eve").await;
    assert_eq!(status, 404);
}

/// Deleting one session or all ends them with reason `admin-delete`.
#[tokio::test]
async fn admin_delete_ends_one_or_all_sessions() {
    let api = Api::start().await;
    let a = api.open("admin", "web", "gui", "192.0.2.1").await;
    let b = api.open("admin", "web", "gui", "192.0.2.1").await;
    let c = api.open("operator", "ssh", "ssh", "192.0.2.2").await;

    let (status, one) = api.delete(&format!("devices/redfish/sessions/{a}")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["ended"], json!({"reason": "admin-delete", "count": 1, "session_ids": [a]}));
    assert_error(
        &api.delete(&format!("devices/redfish/sessions/{a}")).await,
        404,
        "session-not-found",
    );

    let (status, all) = api.delete("devices/redfish/sessions").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["ended"], json!({"reason": "admin-delete", "count": 2, "session_ids": [b, c]}));
    assert!(api.open_ids().await.is_empty());
    assert_eq!(api.event_ids("reason=admin-delete").await, vec![a, b, c]);
}

/// Creating a user, changing its password and deleting it follow the redfish profile:
/// both end that user's sessions, and no answer shows a password.
#[tokio::test]
async fn users_lifecycle_applies_profile_policy() {
    let api = Api::start().await;
    let (status, created) = api
        .post(
            "devices/redfish/users",
            json!({"user": "alice", "password": "first-secret", "role": "Operator"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["user"], "alice");
    assert_error(
        &api.post(
            "devices/redfish/users",
            json!({"user": "alice", "password": "x", "role": "Operator"}),
        )
        .await,
        409,
        "user-exists",
    );
    let (_, users) = api.get("devices/redfish/users").await;
    assert_eq!(ids(&users["users"], "user"), ["admin", "alice", "operator", "readonly"]);
    assert!(!users.to_string().contains("secret") && !users.to_string().contains("password\""));

    let a1 = api.open("alice", "web", "gui", "192.0.2.1").await;
    let a2 = api.open("alice", "ssh", "ssh", "192.0.2.1").await;
    let admin = api.open("admin", "web", "gui", "192.0.2.9").await;
    let (status, changed) = api
        .call(
            Method::PUT,
            "devices/redfish/users/alice/password",
            Some(json!({"password": "second-secret"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["policy"], "end-user-sessions");
    assert_eq!(
        changed["ended"],
        json!({"reason": "credential-change", "count": 2, "session_ids": [a1, a2]})
    );
    assert!(!changed.to_string().contains("secret"));
    assert_eq!(api.open_ids().await, vec![admin.clone()]);

    // POST changes a password too.
    let (status, _) =
        api.post("devices/redfish/users/alice/password", json!({"password": "third"})).await;
    assert_eq!(status, 200);

    let a3 = api.open("alice", "web", "gui", "192.0.2.1").await;
    let (status, deleted) = api.delete("devices/redfish/users/alice").await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(
        deleted["ended"],
        json!({"reason": "user-deleted", "count": 1, "session_ids": [a3]})
    );
    assert_eq!(api.open_ids().await, vec![admin]);
    assert_error(&api.get("devices/redfish/users/alice").await, 404, "user-not-found");
    assert_error(&api.delete("devices/redfish/users/alice").await, 404, "user-not-found");
    assert_error(
        &api.post("devices/redfish/users/alice/password", json!({"password": "x"})).await,
        404,
        "user-not-found",
    );
}

/// An auth-config change ends every session under the redfish profile's `end-all`.
#[tokio::test]
async fn auth_config_change_ends_every_session() {
    let api = Api::start().await;
    let a = api.open("admin", "web", "gui", "192.0.2.1").await;
    let b = api.open("operator", "ssh", "ssh", "192.0.2.2").await;
    let (status, body) = api.post("devices/redfish/auth-config", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["policy"], "end-all");
    assert_eq!(
        body["ended"],
        json!({"reason": "auth-config-change", "count": 2, "session_ids": [a, b]})
    );
    assert!(api.open_ids().await.is_empty());
}

/// A restart ends every session with reason `restart`.
#[tokio::test]
async fn restart_ends_every_session() {
    let api = Api::start().await;
    let a = api.open("admin", "web", "gui", "192.0.2.1").await;
    let (status, body) = api.call(Method::POST, "devices/redfish/restart", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ended"], json!({"reason": "restart", "count": 1, "session_ids": [a]}));
    assert_eq!(api.event_ids("reason=restart").await, vec![a]);
}

/// A reset puts accounts, sessions and the event log back to the profile.
#[tokio::test]
async fn reset_restores_the_profile() {
    let api = Api::start().await;
    api.post("devices/redfish/users", json!({"user": "bob", "password": "pw", "role": "ReadOnly"}))
        .await;
    api.open("bob", "web", "gui", "192.0.2.1").await;
    let (status, body) = api.call(Method::POST, "reset", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["devices"][0]["sessions"]["total"], 0);
    assert_error(&api.get("devices/redfish/users/bob").await, 404, "user-not-found");
    let (_, events) = api.get("devices/redfish/events").await;
    assert_eq!(events["events"], json!([]));
}

/// Events filter by kind, reason, user and session, and every filter must match.
#[tokio::test]
async fn events_filter_by_kind_and_reason() {
    let api = Api::start().await;
    let a = api.open("admin", "web", "gui", "192.0.2.1").await;
    let b = api.open("operator", "web", "gui", "192.0.2.1").await;
    api.delete(&format!("devices/redfish/sessions/{a}")).await;
    api.post("clock/advance", json!({"duration": "30m"})).await;

    assert_eq!(api.event_ids("event=created").await, vec![a.clone(), b.clone()]);
    assert_eq!(api.event_ids("event=ended").await, vec![a.clone(), b.clone()]);
    assert_eq!(api.event_ids("reason=idle-timeout").await, vec![b.clone()]);
    assert_eq!(api.event_ids("event=ended&reason=admin-delete").await, vec![a.clone()]);
    assert_eq!(api.event_ids("event=created&user=operator").await, vec![b.clone()]);
    assert_eq!(api.event_ids(&format!("session_id={a}")).await, vec![a.clone(), a.clone()]);
    assert!(api.event_ids("event=created&reason=logout").await.is_empty());
    let (_, all) = api.get("devices/redfish/events").await;
    let last = all["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event"], "ended");
    assert_eq!(last["reason"], "idle-timeout");
    assert_eq!(
        api.event_ids(&format!("after={}", last["seq"].as_u64().unwrap() - 1)).await,
        vec![b]
    );
}

/// An unknown end reason or event kind is 400 and lists the valid ones.
#[tokio::test]
async fn unknown_event_filter_is_bad_request_listing_valid_values() {
    let api = Api::start().await;
    let bad = api.get("devices/redfish/events?reason=timeout").await;
    assert_error(&bad, 400, "bad-parameter");
    let message = bad.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("idle-timeout") && message.contains("admin-delete"), "{message}");
    assert_eq!(bad.1["error"]["details"]["valid"].as_array().unwrap().len(), 9);
    assert_error(&api.get("devices/redfish/events?event=deleted").await, 400, "bad-parameter");
    assert_error(&api.get("devices/redfish/events?after=soon").await, 400, "bad-parameter");
    assert_error(&api.get("devices/redfish/events?resaon=logout").await, 400, "bad-parameter");
}

/// The hygiene report groups open sessions by client address and User-Agent, and says
/// how each client's past sessions ended.
#[tokio::test]
async fn hygiene_groups_sessions_by_client() {
    let api = Api::start().await;
    let leaked = api.open("admin", "web", "leaky-script/1.0", "192.0.2.7").await;
    api.post("clock/advance", json!({"seconds": 1800})).await;
    let l1 = api.open("admin", "web", "leaky-script/1.0", "192.0.2.7").await;
    api.post("clock/advance", json!({"seconds": 60})).await;
    let l2 = api.open("operator", "web", "leaky-script/1.0", "192.0.2.7").await;
    let l3 = api.open("admin", "ssh", "leaky-script/1.0", "192.0.2.7").await;
    api.post("clock/advance", json!({"seconds": 30})).await;
    let good = api.open("readonly", "web", "tidy-client/2.0", "192.0.2.8").await;

    let (status, report) = api.get("devices/redfish/hygiene").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["totals"],
        json!({"open_sessions": 4, "clients_with_open_sessions": 2,
               "ended_by_reason": {"idle-timeout": 1}})
    );
    let clients = report["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 2);
    assert_eq!(
        clients[0],
        json!({"client_addr": "192.0.2.7", "user_agent": "leaky-script/1.0", "count": 3,
               "oldest_age_secs": 90, "last_use_age_secs": 30,
               "session_ids": [l1, l2, l3], "users": ["admin", "operator"],
               "ended_by_reason": {"idle-timeout": 1}})
    );
    assert_eq!(clients[1]["user_agent"], "tidy-client/2.0");
    assert_eq!(clients[1]["session_ids"], json!([good]));
    assert_eq!(api.event_ids("reason=idle-timeout").await, vec![leaked]);

    let (status, fleet) = api.get("hygiene").await;
    assert_eq!(status, 200);
    assert_eq!(fleet["totals"], report["totals"]);
    assert_eq!(fleet["devices"][0], report);
}

/// An unknown device is 404 `device-not-found` in JSON, on every device route.
#[tokio::test]
async fn unknown_device_is_not_found_json() {
    let api = Api::start().await;
    for path in
        ["devices/nope", "devices/nope/sessions", "devices/nope/events", "devices/nope/hygiene"]
    {
        assert_error(&api.get(path).await, 404, "device-not-found");
    }
    assert_error(
        &api.call(Method::POST, "devices/nope/restart", None).await,
        404,
        "device-not-found",
    );
}

/// Malformed JSON is 400 `bad-json`; a wrong or unknown field is 400 `bad-field`.
#[tokio::test]
async fn malformed_json_is_bad_request_json() {
    let api = Api::start().await;
    let send = |body: &'static str| {
        api.client
            .post(api.url("devices/redfish/sessions"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_error(&answer(send("{\"user\": ").await.unwrap()).await, 400, "bad-json");
    assert_error(&answer(send("").await.unwrap()).await, 400, "bad-json");
    assert_error(&answer(send("{\"user\": 1}").await.unwrap()).await, 400, "bad-field");
    assert_error(
        &answer(send("{\"user\": \"admin\", \"session_type\": \"web\", \"x\": 1}").await.unwrap())
            .await,
        400,
        "bad-field",
    );
}

/// A body over 64 KiB is 413 `payload-too-large` in JSON.
#[tokio::test]
async fn oversized_body_is_payload_too_large_json() {
    let api = Api::start().await;
    let huge = json!({"user": "admin", "session_type": "web", "user_agent": "x".repeat(70 * 1024)});
    assert_error(&api.post("devices/redfish/sessions", huge).await, 413, "payload-too-large");
}

/// A method a route does not take is 405 `method-not-allowed` in JSON, with `Allow`.
#[tokio::test]
async fn wrong_method_is_method_not_allowed_json() {
    let api = Api::start().await;
    let res = api.client.delete(api.url("health")).send().await.unwrap();
    let allow = res.headers().get("allow").map(|v| v.to_str().unwrap().to_string());
    assert_error(&answer(res).await, 405, "method-not-allowed");
    assert_eq!(allow.as_deref(), Some("GET,HEAD"));
    assert_error(&api.get("clock/advance").await, 405, "method-not-allowed");
}

/// A path nothing is routed on is 404 `not-found` in JSON.
#[tokio::test]
async fn unknown_path_is_not_found_json() {
    let api = Api::start().await;
    assert_error(&api.get("nothing-here").await, 404, "not-found");
    let res = api.client.get(format!("{}/", api.device.control())).send().await.unwrap();
    assert_error(&answer(res).await, 404, "not-found");
}

/// Issue 14: `GET /_sessionlab/`, the URL printed at start, answers with an index of the API.
#[tokio::test]
async fn the_printed_url_answers_with_an_index() {
    let api = Api::start().await;
    let (status, index) = api.get("").await;
    assert_eq!(status, 200, "{index}");
    assert_eq!(index["openapi"], "/_sessionlab/openapi.json");
    let endpoints = index["endpoints"].as_array().unwrap();
    assert!(endpoints.iter().any(|e| e["method"] == "POST"
        && e["path"] == "/_sessionlab/clock/advance"
        && e["summary"].as_str().is_some_and(|s| !s.is_empty())));
}

/// Every path and method in openapi.json is routed, every other method of those paths
/// is 405, and every `$ref` resolves.
#[tokio::test]
async fn every_openapi_path_is_routed() {
    let api = Api::start().await;
    let (status, doc) = api.get("openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc, serde_json::from_str::<Value>(emulator::control::OPENAPI).unwrap());
    assert_eq!(doc["servers"][0]["url"], "/_sessionlab");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 18, "{} paths", paths.len());
    let methods = ["get", "post", "put", "delete", "patch"];
    for (template, item) in paths {
        let path = template
            .trim_start_matches('/')
            .replace("{name}", "redfish")
            .replace("{id}", "no-such-session")
            .replace("{user}", "no-such-user");
        for m in methods {
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let documented = item.get(m);
            // The metrics are OpenMetrics text, not JSON (issue 16).
            if template == "/metrics" && m == "get" {
                let res = api.client.get(api.url(&path)).send().await.unwrap();
                assert_eq!(res.status(), 200);
                assert!(res.text().await.unwrap().ends_with("# EOF\n"));
                continue;
            }
            let body = documented.and_then(|op| op.get("requestBody")).map(|_| json!({}));
            let (status, answer) = api.call(method, &path, body).await;
            let what = format!("{m} {template}: {status} {answer}");
            match documented {
                Some(_) => {
                    assert_ne!(status, 405, "{what}");
                    assert_ne!(answer["error"]["code"], "not-found", "{what}");
                }
                None => assert_eq!(status, 405, "undocumented method routed: {what}"),
            }
        }
    }
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap();
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
