//! The Solace SEMPv2 objects beyond sessions (message VPNs, client usernames, client
//! profiles, ACL profiles, queues), driven in-process through the Solace router.
//!
//! Evidence: the SEMP API reference as Solace's generated client `solace-semp-config`
//! 9.8.0.12 (SEMP 2.19) carries it (`SEMP ref`: attribute names, defaults, methods and
//! access levels), Solace's SEMP Error Handling page (`SEMP errors`: codes 6, 11, 72, 89,
//! 228), and Part 2 of `shared/vendors/bigip-solace.md` for the envelope and sessions.
//! Wire formats are pinned with insta snapshots (`tests/snapshots/solace_objects__*.snap`).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use base64::Engine as _;
use chrono::TimeZone as _;
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::profile::Profile;
use emulator::vendors::solace;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

const ADMIN: (&str, &str) = ("admin", "sessionlab");
const MONITOR: (&str, &str) = ("monitor", "sessionlab");
const HOST: &str = "broker.example:8080";
const CONFIG: &str = "/SEMP/v2/config";
const MONITOR_API: &str = "/SEMP/v2/monitor";

fn device() -> DeviceHandle {
    let profile = Arc::new(Profile::embedded("solace-software-100").expect("embedded profile"));
    let start = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
    Device::handle("broker", profile, Clock::virtual_at(start), Some(7))
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn view(&self) -> Value {
        json!({ "status": self.status.as_u16(), "body": self.body })
    }

    fn error(&self) -> (u16, Option<i64>, Option<&str>) {
        let e = &self.body["meta"]["error"];
        (self.status.as_u16(), e["code"].as_i64(), e["status"].as_str())
    }

    fn cookie(&self) -> Option<String> {
        let set = self.headers.get("set-cookie")?.to_str().ok()?;
        let (pair, _) = set.split_once(';').unwrap_or((set, ""));
        pair.strip_prefix("Session=").map(str::to_string)
    }
}

struct Req {
    builder: axum::http::request::Builder,
    body: Body,
}

fn req(method: Method, uri: &str) -> Req {
    Req {
        builder: Request::builder().method(method).uri(uri).header("host", HOST),
        body: Body::empty(),
    }
}

impl Req {
    fn basic(mut self, (user, password): (&str, &str)) -> Req {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.builder = self.builder.header(header::AUTHORIZATION, format!("Basic {encoded}"));
        self
    }

    fn cookie(mut self, value: &str) -> Req {
        self.builder = self.builder.header(header::COOKIE, format!("Session={value}"));
        self
    }

    fn json(mut self, body: &Value) -> Req {
        self.builder = self.builder.header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(body.to_string());
        self
    }

    fn raw(mut self, body: &'static str) -> Req {
        self.builder = self.builder.header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(body);
        self
    }

    async fn send(self, dev: &DeviceHandle) -> Reply {
        let request = self.builder.body(self.body).expect("request");
        let response = solace::router(dev.clone()).oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or_else(|_| {
            panic!("not JSON ({status}): {}", String::from_utf8_lossy(&raw));
        });
        Reply { status, headers, body }
    }
}

/// A session for `who`: its cookie.
async fn login(dev: &DeviceHandle, who: (&str, &str)) -> String {
    let reply = req(Method::GET, "/SEMP/v2/monitor/about/user").basic(who).send(dev).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.cookie().expect("Set-Cookie: Session=...")
}

/// An admin session's requests.
struct Admin {
    dev: DeviceHandle,
    cookie: String,
}

impl Admin {
    async fn new(dev: &DeviceHandle) -> Admin {
        Admin { dev: dev.clone(), cookie: login(dev, ADMIN).await }
    }

    async fn get(&self, uri: &str) -> Reply {
        req(Method::GET, uri).cookie(&self.cookie).send(&self.dev).await
    }

    async fn send(&self, method: Method, uri: &str, body: Value) -> Reply {
        req(method, uri).cookie(&self.cookie).json(&body).send(&self.dev).await
    }

    async fn delete(&self, uri: &str) -> Reply {
        req(Method::DELETE, uri).cookie(&self.cookie).send(&self.dev).await
    }
}

const QUEUES: &str = "/SEMP/v2/config/msgVpns/default/queues";

// ----- what a broker ships -----

/// SEMP ref (MsgVpn) [I]: the broker ships the `default` Message VPN; the collection has
/// `data`, `links` with the VPN's collection URIs, and `meta.count` (bigip-solace.md 2.5).
#[tokio::test]
async fn the_default_vpn_is_listed() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    let reply = admin.get("/SEMP/v2/config/msgVpns").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["meta"]["count"], json!(1));
    insta::assert_json_snapshot!("config_msg_vpns", reply.view());
}

/// [I] the default VPN ships its `default` and `#client-username` client usernames; the
/// write-only `password` is "absent from a GET" (SEMP ref).
#[tokio::test]
async fn the_default_vpn_ships_its_client_usernames_without_passwords() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    let reply = admin.get("/SEMP/v2/config/msgVpns/default/clientUsernames").await;
    assert_eq!(reply.status, StatusCode::OK);
    let names: Vec<&str> = reply.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|o| o["clientUsername"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["#client-username", "default"]);
    assert!(reply.body["data"][0].get("password").is_none());
    insta::assert_json_snapshot!("config_client_usernames", reply.view());
}

/// SEMP ref: names appear percent-encoded in URIs, `#acl-profile` as `%23acl-profile`,
/// and the `links.uri` of the object encodes it the same way.
#[tokio::test]
async fn percent_encoded_names_find_their_objects() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    let reply = admin.get("/SEMP/v2/config/msgVpns/default/aclProfiles/%23acl-profile").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["data"]["aclProfileName"], json!("#acl-profile"));
    assert_eq!(
        reply.body["links"]["uri"],
        json!(
            "http://broker.example:8080/SEMP/v2/config/msgVpns/default/aclProfiles/%23acl-profile"
        )
    );
    let profile = admin.get("/SEMP/v2/config/msgVpns/default/clientProfiles/default").await;
    insta::assert_json_snapshot!("config_client_profile_default", profile.view());
}

// ----- a queue's life -----

/// SEMP ref (Queue): POST creates with defaults for what the body leaves out, GET reads
/// it, PATCH changes only what it names, PUT resets the rest to defaults, DELETE answers
/// meta only, and the deleted queue is NOT_FOUND (400, code 6, bigip-solace.md 2.5).
#[tokio::test]
async fn a_queue_is_created_read_updated_replaced_and_deleted() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    let created = admin
        .send(
            Method::POST,
            QUEUES,
            json!({"queueName": "orders", "msgVpnName": "default", "maxTtl": 60}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    insta::assert_json_snapshot!("queue_created", created.view());

    let uri = format!("{QUEUES}/orders");
    let read = admin.get(&uri).await;
    assert_eq!(read.body["data"], created.body["data"]);

    let patched = admin
        .send(Method::PATCH, &uri, json!({"egressEnabled": true, "ingressEnabled": true}))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["data"]["maxTtl"], json!(60));
    assert_eq!(patched.body["data"]["egressEnabled"], json!(true));

    let put = admin.send(Method::PUT, &uri, json!({"permission": "consume"})).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["data"]["maxTtl"], json!(0));
    assert_eq!(put.body["data"]["egressEnabled"], json!(false));
    assert_eq!(put.body["data"]["permission"], json!("consume"));

    let deleted = admin.delete(&uri).await;
    assert_eq!(deleted.status, StatusCode::OK);
    insta::assert_json_snapshot!("queue_deleted", deleted.view());

    let gone = admin.get(&uri).await;
    assert_eq!(gone.error(), (400, Some(6), Some("NOT_FOUND")));
    insta::assert_json_snapshot!("error_queue_not_found", gone.view());
}

/// SEMP ref note 5: "On a PUT, if the object does not exist, it is created first."
#[tokio::test]
async fn put_creates_a_missing_queue() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    let put = admin.send(Method::PUT, &format!("{QUEUES}/fresh"), json!({})).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["data"]["queueName"], json!("fresh"));
    assert_eq!(admin.get(&format!("{QUEUES}/fresh")).await.status, StatusCode::OK);
}

/// The readiness probe of Solace's Ansible collection (`solace_get_available`): POST a
/// queue with a uuid name and its VPN in the body, then DELETE it.
#[tokio::test]
async fn a_readiness_probe_creates_and_deletes_a_test_queue() {
    let dev = device();
    let name = "0b7c2f5e-1d0a-4c55-9f4e-3a1c6f0e9b21";
    let create = req(Method::POST, QUEUES)
        .basic(ADMIN)
        .json(&json!({"msgVpnName": "default", "queueName": name}))
        .send(&dev)
        .await;
    assert_eq!(create.status, StatusCode::OK, "{}", create.body);
    let delete = req(Method::DELETE, &format!("{QUEUES}/{name}")).basic(ADMIN).send(&dev).await;
    assert_eq!(delete.status, StatusCode::OK, "{}", delete.body);
}

/// SEMP ref: a name with a `/` travels percent-encoded (`%2F`) and is linked the same way;
/// a collection URI with a trailing slash is the same collection.
#[tokio::test]
async fn names_with_slashes_and_trailing_slashes_are_served() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    let put = admin.send(Method::PUT, &format!("{QUEUES}/a%2Fb"), json!({})).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["data"]["queueName"], json!("a/b"));
    assert_eq!(
        put.body["links"]["uri"],
        json!("http://broker.example:8080/SEMP/v2/config/msgVpns/default/queues/a%2Fb")
    );
    let listed = admin.get(&format!("{QUEUES}/")).await;
    assert_eq!(listed.body["meta"]["count"], json!(1));
}

// ----- errors -----

/// Solace's error table: a duplicate is code 10 `ALREADY_EXISTS` (profile
/// `already_exists`, HTTP 400).
#[tokio::test]
async fn a_duplicate_queue_is_already_exists() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    admin.send(Method::POST, QUEUES, json!({"queueName": "q"})).await;
    let again = admin.send(Method::POST, QUEUES, json!({"queueName": "q"})).await;
    assert_eq!(again.error(), (400, Some(10), Some("ALREADY_EXISTS")));
    insta::assert_json_snapshot!("error_queue_exists", again.view());
}

/// SEMP errors: a create without its identifying attribute is code 228
/// `MISSING_PARAMETER`; an unknown attribute or a bad value is code 11 (the profile's
/// spelling `INVALID_PARMETER`).
#[tokio::test]
async fn missing_and_invalid_attributes_are_refused() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    let missing = admin.send(Method::POST, QUEUES, json!({"msgVpnName": "default"})).await;
    assert_eq!(missing.error(), (400, Some(228), Some("MISSING_PARAMETER")));
    insta::assert_json_snapshot!("error_queue_name_missing", missing.view());
    for body in [
        json!({"queueName": "q", "accessType": "shared"}),
        json!({"queueName": "q", "maxTtl": "ten"}),
        json!({"queueName": "q", "noSuchAttribute": true}),
        json!({"queueName": "q", "msgVpnName": "other"}),
    ] {
        let reply = admin.send(Method::POST, QUEUES, body.clone()).await;
        assert_eq!(reply.error(), (400, Some(11), Some("INVALID_PARMETER")), "{body}");
    }
    let bad = admin.send(Method::PATCH, &format!("{QUEUES}/nope"), json!({})).await;
    assert_eq!(bad.error(), (400, Some(6), Some("NOT_FOUND")));
    let no_vpn = admin
        .send(Method::POST, "/SEMP/v2/config/msgVpns/nope/queues", json!({"queueName": "q"}))
        .await;
    assert_eq!(no_vpn.error(), (400, Some(6), Some("NOT_FOUND")));
    let broken = req(Method::POST, QUEUES).cookie(&admin.cookie).raw("{").send(&dev).await;
    assert_eq!(broken.error(), (400, Some(27), Some("PARSE_ERROR")));
    let unknown = admin.get("/SEMP/v2/config/msgVpns/default/jndiQueues").await;
    assert_eq!(unknown.error(), (400, Some(6), Some("NOT_FOUND")));
}

/// SEMP ref: writing needs `vpn/read-write`; a read-only user reads but its writes get the
/// profile's access-denied answer (code 72 `UNAUTHORIZED`, SEMP errors), and nothing
/// changes.
#[tokio::test]
async fn a_read_only_user_reads_but_cannot_write() {
    let dev = device();
    let cookie = login(&dev, MONITOR).await;
    let read = req(Method::GET, QUEUES).cookie(&cookie).send(&dev).await;
    assert_eq!(read.status, StatusCode::OK);
    let write =
        req(Method::POST, QUEUES).cookie(&cookie).json(&json!({"queueName": "q"})).send(&dev).await;
    assert_eq!(write.error(), (401, Some(72), Some("UNAUTHORIZED")));
    insta::assert_json_snapshot!("error_read_only_write", write.view());
    let delete = req(Method::DELETE, "/SEMP/v2/config/msgVpns/default/clientUsernames/default")
        .cookie(&cookie)
        .send(&dev)
        .await;
    assert_eq!(delete.error().1, Some(72));
    let after = req(Method::GET, QUEUES).cookie(&cookie).send(&dev).await;
    assert_eq!(after.body["meta"]["count"], json!(0));
}

/// [I] built-in objects cannot be deleted, nor a profile a client username uses (SEMP
/// errors: code 89 `NOT_ALLOWED`).
#[tokio::test]
async fn built_in_objects_and_profiles_in_use_are_not_deleted() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    let vpn = admin.delete("/SEMP/v2/config/msgVpns/default").await;
    assert_eq!(vpn.error(), (400, Some(89), Some("NOT_ALLOWED")));
    let acl = admin.delete("/SEMP/v2/config/msgVpns/default/aclProfiles/%23acl-profile").await;
    assert_eq!(acl.error().1, Some(89));
    let base = "/SEMP/v2/config/msgVpns/default";
    admin
        .send(Method::POST, &format!("{base}/aclProfiles"), json!({"aclProfileName": "apps"}))
        .await;
    let user = admin
        .send(
            Method::POST,
            &format!("{base}/clientUsernames"),
            json!({"clientUsername": "app", "aclProfileName": "apps", "password": "pw"}),
        )
        .await;
    assert_eq!(user.status, StatusCode::OK, "{}", user.body);
    assert!(user.body["data"].get("password").is_none());
    let in_use = admin.delete(&format!("{base}/aclProfiles/apps")).await;
    assert_eq!(in_use.error().1, Some(89));
    assert_eq!(admin.delete(&format!("{base}/clientUsernames/app")).await.status, StatusCode::OK);
    assert_eq!(admin.delete(&format!("{base}/aclProfiles/apps")).await.status, StatusCode::OK);
}

/// [I] a new Message VPN comes with its `default` client username, client profile and ACL
/// profile; deleting the VPN takes them with it.
#[tokio::test]
async fn a_new_vpn_comes_with_its_defaults() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    let created =
        admin.send(Method::POST, "/SEMP/v2/config/msgVpns", json!({"msgVpnName": "finance"})).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["data"]["enabled"], json!(false));
    let users = admin.get("/SEMP/v2/config/msgVpns/finance/clientUsernames").await;
    assert_eq!(users.body["data"][0]["clientUsername"], json!("default"));
    assert_eq!(admin.delete("/SEMP/v2/config/msgVpns/finance").await.status, StatusCode::OK);
    let gone = admin.get("/SEMP/v2/config/msgVpns/finance/clientUsernames").await;
    assert_eq!(gone.error().1, Some(6));
}

// ----- collections: paging, select, where -----

/// SEMP ref ("count", "cursor"): a page of `count` objects, `meta.count` over all pages,
/// `paging.cursorQuery` and a `nextPageUri` that carries `count=` and the cursor; the
/// last page has no paging.
#[tokio::test]
async fn collections_page_with_count_and_cursor() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    for name in ["a", "b", "c"] {
        admin.send(Method::POST, QUEUES, json!({"queueName": name})).await;
    }
    let first = admin.get(&format!("{QUEUES}?count=2&select=queueName")).await;
    assert_eq!(first.body["data"], json!([{"queueName": "a"}, {"queueName": "b"}]));
    assert_eq!(first.body["meta"]["count"], json!(3));
    let next = first.body["meta"]["paging"]["nextPageUri"].as_str().expect("nextPageUri");
    let cursor = first.body["meta"]["paging"]["cursorQuery"].as_str().expect("cursorQuery");
    assert!(next.contains("count=2"), "{next}");
    assert!(next.contains(&format!("cursor={cursor}")), "{next}");
    let path = next.strip_prefix("http://broker.example:8080").expect("absolute");
    let second = admin.get(path).await;
    assert_eq!(second.body["data"], json!([{"queueName": "c"}]));
    assert!(second.body["meta"].get("paging").is_none());
}

/// SEMP ref ("where", "select"): conditions with `==`, `!=`, `<`, `>`, `<=`, `>=` and `*`
/// wildcards in strings; `select` keeps or drops attributes with wildcards.
#[tokio::test]
async fn collections_filter_with_where_and_select() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    for (name, ttl) in [("orders.in", 10), ("orders.out", 20), ("audit", 30)] {
        admin.send(Method::POST, QUEUES, json!({"queueName": name, "maxTtl": ttl})).await;
    }
    let names = |reply: &Reply| -> Vec<String> {
        reply.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|o| o["queueName"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let wildcard = admin.get(&format!("{QUEUES}?where=queueName==orders.*")).await;
    assert_eq!(names(&wildcard), ["orders.in", "orders.out"]);
    assert_eq!(wildcard.body["meta"]["count"], json!(2));
    let not = admin.get(&format!("{QUEUES}?where=queueName!=orders*")).await;
    assert_eq!(names(&not), ["audit"]);
    let numbers = admin.get(&format!("{QUEUES}?where=maxTtl%3E10,maxTtl%3C=30")).await;
    assert_eq!(names(&numbers), ["audit", "orders.out"]);
    let at_least = admin.get(&format!("{QUEUES}?where=maxTtl%3E=20,maxTtl%3C30")).await;
    assert_eq!(names(&at_least), ["orders.out"]);
    let selected = admin.get(&format!("{QUEUES}/audit?select=max*,-maxTtl")).await;
    let keys: Vec<&String> = selected.body["data"].as_object().expect("object").keys().collect();
    assert!(keys.iter().all(|k| k.starts_with("max") && *k != "maxTtl"), "{keys:?}");
    let bad = admin.get(&format!("{QUEUES}?select=nothingLikeIt")).await;
    assert_eq!(bad.error().1, Some(11));
}

// ----- monitor view -----

/// SEMP monitor ref: the monitor view reads the same objects with read-only counters
/// (`spooledMsgCount`, `msgSpoolUsage`, a VPN's `state`) and no write-only attributes; it
/// takes no writes (code 14 `NOT_SUPPORTED`).
#[tokio::test]
async fn the_monitor_view_adds_counters_and_takes_no_writes() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    admin.send(Method::POST, QUEUES, json!({"queueName": "q"})).await;
    let queue = admin.get(&format!("{MONITOR_API}/msgVpns/default/queues/q")).await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    insta::assert_json_snapshot!("monitor_queue", queue.view());
    let vpn = admin.get(&format!("{MONITOR_API}/msgVpns/default?select=state,msgVpnName")).await;
    assert_eq!(vpn.body["data"], json!({"msgVpnName": "default", "state": "up"}));
    let write = admin
        .send(
            Method::POST,
            &format!("{MONITOR_API}/msgVpns/default/queues"),
            json!({"queueName": "x"}),
        )
        .await;
    assert_eq!(write.error(), (400, Some(14), Some("NOT_SUPPORTED")));
}

// ----- about/user/msgVpns -----

/// SEMP ref (AboutUserMsgVpn, `global/none`): every VPN with the user's access level in it.
#[tokio::test]
async fn about_user_msg_vpns_gives_each_users_access_level() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    let reply = admin.get(&format!("{CONFIG}/about/user/msgVpns")).await;
    assert_eq!(reply.status, StatusCode::OK);
    insta::assert_json_snapshot!("about_user_msg_vpns", reply.view());
    let cookie = login(&dev, MONITOR).await;
    let mine = req(Method::GET, &format!("{MONITOR_API}/about/user/msgVpns/default"))
        .cookie(&cookie)
        .send(&dev)
        .await;
    assert_eq!(mine.body["data"], json!({"accessLevel": "read-only", "msgVpnName": "default"}));
    let missing = admin.get(&format!("{CONFIG}/about/user/msgVpns/nope")).await;
    assert_eq!(missing.error().1, Some(6));
}

// ----- sessions and reset -----

/// bigip-solace.md 2.1: one Basic login, then the `Session` cookie alone carries every
/// object call; no other session is opened and no new cookie is set.
#[tokio::test]
async fn one_session_cookie_carries_every_object_call() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    let calls = [
        admin.send(Method::POST, QUEUES, json!({"queueName": "q"})).await,
        admin.get(&format!("{QUEUES}/q")).await,
        admin.send(Method::PATCH, &format!("{QUEUES}/q"), json!({"maxTtl": 1})).await,
        admin.get("/SEMP/v2/monitor/msgVpns/default/queues").await,
        admin.delete(&format!("{QUEUES}/q")).await,
    ];
    for reply in &calls {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.cookie().is_none());
    }
    assert_eq!(dev.store.counts(dev.now()).total, 1);
}

/// The control API's reset (`Device::reset`) brings back what the broker ships:
/// created objects are gone and the default VPN is as shipped.
#[tokio::test]
async fn reset_restores_the_shipped_objects() {
    let dev = device();
    let admin = Admin::new(&dev).await;
    admin.send(Method::POST, QUEUES, json!({"queueName": "q"})).await;
    admin.send(Method::PATCH, "/SEMP/v2/config/msgVpns/default", json!({"enabled": false})).await;
    dev.reset();
    let admin = Admin::new(&dev).await;
    assert_eq!(admin.get(QUEUES).await.body["meta"]["count"], json!(0));
    let vpn = admin.get("/SEMP/v2/config/msgVpns/default?select=enabled").await;
    assert_eq!(vpn.body["data"], json!({"enabled": true}));
}
