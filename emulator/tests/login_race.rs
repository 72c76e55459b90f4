//! Races between a login and a delete, driven through the vendors' routers in-process.
//!
//! A second thread ends sessions in a tight loop while the test logs in thousands of
//! times; any answer a device never gives (a 500, a "maximum reached" fault while no
//! maximum is set) fails the test. Bounded in iterations, never in time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::profile::Profile;
use emulator::session::EndReason;
use emulator::vendors::bigip;
use http_body_util::BodyExt as _;
use serde_json::json;
use tower::ServiceExt as _;

/// Logins per test: enough that today's race (about 1 in 5,000 on an idle machine) is
/// hit many times over while the deleting thread spins.
const LOGINS: usize = 10_000;

/// A BIG-IP 17 with no SOAP session maximum (`set_maximum_sessions(0)`: unlimited).
fn bigip_device() -> (DeviceHandle, Router) {
    let mut profile = Profile::embedded("bigip17").expect("embedded profile");
    profile.session.pools.clear();
    let device = Device::handle("bigip", Arc::new(profile), Clock::virtual_now(), Some(7));
    (device.clone(), bigip::router(device))
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let raw = response.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&raw).into_owned())
}

/// Runs `delete` in a loop on another thread while `logins` runs, then stops it.
async fn racing<F, Fut>(device: &DeviceHandle, delete: F, logins: Fut) -> Fut::Output
where
    F: Fn(&DeviceHandle) + Send + 'static,
    Fut: std::future::Future,
{
    let stop = Arc::new(AtomicBool::new(false));
    let deleter = {
        let (stop, device) = (stop.clone(), device.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                delete(&device);
                std::thread::yield_now();
            }
        })
    };
    let out = logins.await;
    stop.store(true, Ordering::Relaxed);
    deleter.join().expect("deleting thread panicked");
    out
}

/// F5-TOKMGMT (a login answers 200 with a token or 400/401; clients delete all their
/// tokens after the 100-token error): a login racing a delete-all of the user's tokens
/// never answers 500.
#[tokio::test]
async fn bigip_rest_login_racing_delete_all_never_answers_500() {
    let (device, app) = bigip_device();
    let delete_all = |d: &DeviceHandle| {
        d.store.end_user("admin", EndReason::Logout, d.now());
    };
    let wrong = racing(&device, delete_all, async {
        let mut wrong = Vec::new();
        for _ in 0..LOGINS {
            let body = json!({"username": "admin", "password": "sessionlab",
                              "loginProviderName": "tmos"});
            let request = Request::builder()
                .method(Method::POST)
                .uri("/mgmt/shared/authn/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .expect("request");
            let (status, text) = send(&app, request).await;
            if status != StatusCode::OK {
                wrong.push(format!("{status} {text}"));
            }
        }
        wrong
    })
    .await;
    assert!(wrong.is_empty(), "{} of {LOGINS} logins failed, first: {}", wrong.len(), wrong[0]);
}

/// SOAP-SEED System.Session (a maximum of 0 means no maximum): `get_session_identifier`
/// racing an administrator deleting every session never answers the "maximum number of
/// iControl user sessions" fault.
#[tokio::test]
async fn bigip_soap_session_identifier_racing_delete_all_never_claims_the_maximum() {
    let (device, app) = bigip_device();
    let delete_all = |d: &DeviceHandle| {
        d.store.end_all(EndReason::AdminDelete, d.now());
    };
    let basic = base64::engine::general_purpose::STANDARD.encode("admin:sessionlab");
    let wrong = racing(&device, delete_all, async {
        let mut wrong = Vec::new();
        for _ in 0..LOGINS {
            let xml = "<?xml version=\"1.0\"?><SOAP-ENV:Envelope \
                 xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Body>\
                 <m:get_session_identifier xmlns:m=\"urn:iControl:System/Session\"/>\
                 </SOAP-ENV:Body></SOAP-ENV:Envelope>";
            let request = Request::builder()
                .method(Method::POST)
                .uri("/iControl/iControlPortal.cgi")
                .header(header::AUTHORIZATION, format!("Basic {basic}"))
                .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
                .body(Body::from(xml))
                .expect("request");
            let (status, text) = send(&app, request).await;
            if status != StatusCode::OK {
                wrong.push(format!("{status} {text}"));
            }
        }
        wrong
    })
    .await;
    assert!(wrong.is_empty(), "{} of {LOGINS} calls failed, first: {}", wrong.len(), wrong[0]);
}

/// F5-TOKMGMT (`POST /mgmt/shared/authz/tokens` with a timeout): a token created while
/// its owner's tokens are being deleted is answered 200 with the timeout asked for, never
/// 401 or 500 for a token that was never shown to anyone.
#[tokio::test]
async fn bigip_created_token_racing_delete_all_is_whole() {
    let (device, app) = bigip_device();
    let delete_tokens = |d: &DeviceHandle| {
        for s in d.store.list(d.now()).iter().filter(|s| s.session_type == "rest-token") {
            d.store.end(&s.id, EndReason::Logout, d.now()).ok();
        }
    };
    let basic = base64::engine::general_purpose::STANDARD.encode("admin:sessionlab");
    let wrong = racing(&device, delete_tokens, async {
        let mut wrong = Vec::new();
        for i in 0..LOGINS / 4 {
            let body = json!({
                "token": format!("RACE{i:022}"),
                "timeout": 600,
            });
            let request = Request::builder()
                .method(Method::POST)
                .uri("/mgmt/shared/authz/tokens")
                .header(header::AUTHORIZATION, format!("Basic {basic}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .expect("request");
            let (status, text) = send(&app, request).await;
            let whole = serde_json::from_str::<serde_json::Value>(&text)
                .is_ok_and(|v| v["timeout"] == json!(600));
            if status != StatusCode::OK || !whole {
                wrong.push(format!("{status} {text}"));
            }
        }
        wrong
    })
    .await;
    assert!(
        wrong.is_empty(),
        "{} of {} creations failed, first: {}",
        wrong.len(),
        LOGINS / 4,
        wrong[0]
    );
}

/// F5 iControl System::Session::start_transaction ("only one transaction can be open at
/// the same time"): two starts racing on one session never both succeed, because the
/// check and the opening are one engine step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bigip_soap_racing_start_transactions_open_one() {
    let (_device, app) = bigip_device();
    let basic = base64::engine::general_purpose::STANDARD.encode("admin:sessionlab");
    let call = |method: &'static str| {
        let xml = format!(
            "<?xml version=\"1.0\"?><SOAP-ENV:Envelope \
             xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Body>\
             <m:{method} xmlns:m=\"urn:iControl:System/Session\"/>\
             </SOAP-ENV:Body></SOAP-ENV:Envelope>"
        );
        Request::builder()
            .method(Method::POST)
            .uri("/iControl/iControlPortal.cgi")
            .header(header::AUTHORIZATION, format!("Basic {basic}"))
            .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .body(Body::from(xml))
            .expect("request")
    };
    let mut both = 0;
    for _ in 0..2_000 {
        let (a, b) = (app.clone(), app.clone());
        let first = tokio::spawn({
            let r = call("start_transaction");
            async move { send(&a, r).await.0 }
        });
        let second = tokio::spawn({
            let r = call("start_transaction");
            async move { send(&b, r).await.0 }
        });
        let (first, second) = (first.await.expect("task"), second.await.expect("task"));
        if first == StatusCode::OK && second == StatusCode::OK {
            both += 1;
        }
        assert!(first == StatusCode::OK || second == StatusCode::OK, "neither start succeeded");
        let (status, text) = send(&app, call("rollback_transaction")).await;
        assert_eq!(status, StatusCode::OK, "{text}");
    }
    assert_eq!(both, 0, "two racing starts both opened a transaction {both} times");
}
