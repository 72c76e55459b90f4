//! Issue 15: the routes of a profile are built once and shared by every device of the
//! profile (a router was most of a touched device's memory). Each request brings its own
//! device's context, so devices on one set of routes still keep their own sessions.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::profile::Profile;
use emulator::vendors::http::App;

/// Two devices of one profile (the same `Arc`, as a fleet gives them).
fn two_devices(profile: &str) -> (DeviceHandle, DeviceHandle) {
    let profile = Arc::new(Profile::embedded(profile).expect("embedded profile"));
    let clock = Clock::virtual_now();
    let a = Device::handle("a", profile.clone(), clock.clone(), Some(1));
    let b = Device::handle("b", profile, clock, Some(2));
    (a, b)
}

async fn call(app: &App, request: Request<Body>) -> axum::response::Response {
    app.call(request).await
}

/// How a client of `profile` logs in and proves it: a request that opens a session, where
/// its answer keeps the credential, and the header that carries it back.
async fn log_in(app: &App, device: &Device) -> (header::HeaderName, String) {
    let account = device.profile().default_account().clone();
    let json = |uri: &str, body: serde_json::Value| {
        Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    match device.profile().vendor {
        emulator::profile::Vendor::Bigip => {
            let body = serde_json::json!({
                "username": account.user, "password": account.password,
                "loginProviderName": "tmos",
            });
            let answer = call(app, json("/mgmt/shared/authn/login", body)).await;
            assert_eq!(answer.status(), StatusCode::OK, "BIG-IP login");
            let bytes = axum::body::to_bytes(answer.into_body(), 1 << 20).await.expect("body");
            let value: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
            let token = value["token"]["token"].as_str().expect("token").to_string();
            (header::HeaderName::from_static("x-f5-auth-token"), token)
        }
        emulator::profile::Vendor::Solace => {
            use base64::Engine as _;
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", account.user, account.password));
            let request = Request::builder()
                .uri("/SEMP/v2/config")
                .header(header::AUTHORIZATION, format!("Basic {basic}"))
                .body(Body::empty())
                .expect("request");
            let answer = call(app, request).await;
            assert_eq!(answer.status(), StatusCode::OK, "SEMP login");
            let cookie = answer.headers()[header::SET_COOKIE].to_str().expect("cookie");
            let pair = cookie.split(';').next().expect("name=value").to_string();
            (header::COOKIE, pair)
        }
        _ => {
            let body = serde_json::json!({"UserName": account.user, "Password": account.password});
            let answer = call(app, json("/redfish/v1/SessionService/Sessions", body)).await;
            assert_eq!(answer.status(), StatusCode::CREATED, "Redfish login");
            let token = answer.headers()["x-auth-token"].to_str().expect("token").to_string();
            (header::HeaderName::from_static("x-auth-token"), token)
        }
    }
}

/// A resource that needs a session, per personality.
fn guarded(device: &Device) -> &'static str {
    match device.profile().vendor {
        emulator::profile::Vendor::Bigip => "/mgmt/shared/authz/tokens",
        emulator::profile::Vendor::Solace => "/SEMP/v2/config",
        _ => "/redfish/v1/SessionService",
    }
}

/// issue 15 ("build the router once per profile and share it"): two devices served by
/// one profile's routes each answer from their own session table.
#[tokio::test]
async fn devices_sharing_their_profiles_routes_keep_their_own_sessions() {
    for profile in ["redfish", "ilo5", "idrac9", "bigip17", "solace-software-100"] {
        let (a, b) = two_devices(profile);
        let shared = emulator::vendors::shared(&a);
        let app_a = emulator::vendors::app_in(&shared, a.clone());
        let app_b = emulator::vendors::app_in(&shared, b.clone());
        let (name, credential) = log_in(&app_a, &a).await;
        assert_eq!(a.store.list(a.now()).len(), 1, "{profile}: the session is a's");
        assert_eq!(b.store.list(b.now()).len(), 0, "{profile}: b has none");
        let probe = || {
            Request::builder()
                .uri(guarded(&a))
                .header(name.clone(), credential.clone())
                .body(Body::empty())
                .expect("request")
        };
        assert_eq!(call(&app_a, probe()).await.status(), StatusCode::OK, "{profile}: on a");
        assert_eq!(
            call(&app_b, probe()).await.status(),
            StatusCode::UNAUTHORIZED,
            "{profile}: on b"
        );
        assert_eq!(b.store.list(b.now()).len(), 0, "{profile}: b still has none");
    }
}
