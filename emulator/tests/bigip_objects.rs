//! BIG-IP configuration beyond sessions (system objects, LTM virtual servers, pools with
//! members, nodes), driven in-process through the personality's router with
//! `tower::ServiceExt::oneshot`.
//!
//! Evidence: F5's iControl REST API reference (object kinds, `selfLink`, the
//! `~Partition~name` addressing, collections with `items`), public captures of mcpd's
//! errors (`{"code":404,"message":"01020036:3: The requested Pool (/Common/my-pool) was
//! not found.","errorStack":[],"apiError":3}`, the 409 `01020066:3: ... already exists in
//! partition Common.`, a member's `Object not found - /Common/wrong:80`), and what f5-sdk
//! 3.0.21 reads (`resource.py`: `kind` must match, `items` may be absent). Bodies are
//! pinned with insta snapshots (`tests/snapshots/bigip_objects__*.snap`); the device runs
//! on a virtual clock that starts at 2026-01-01T00:00:00Z, so nothing needs redacting.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use chrono::TimeZone as _;
use emulator::clock::Clock;
use emulator::device::{Device, DeviceHandle};
use emulator::profile::Profile;
use emulator::vendors::bigip;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

const ADMIN: (&str, &str) = ("admin", "sessionlab");
const OPERATOR: (&str, &str) = ("operator", "sessionlab");
const POOLS: &str = "/mgmt/tm/ltm/pool";
const NODES: &str = "/mgmt/tm/ltm/node";
const VIRTUALS: &str = "/mgmt/tm/ltm/virtual";

struct Bigip {
    device: DeviceHandle,
    app: Router,
}

fn bigip(profile: &str) -> Bigip {
    bigip_with(profile, |_| {})
}

fn bigip_with(profile: &str, change: impl FnOnce(&mut Profile)) -> Bigip {
    let mut profile = Profile::embedded(profile).expect("embedded profile");
    change(&mut profile);
    let start = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
    let device = Device::handle("bigip", Arc::new(profile), Clock::virtual_at(start), Some(7));
    Bigip { app: bigip::router(device.clone()), device }
}

struct Reply {
    status: StatusCode,
    content_type: String,
    body: Value,
    text: String,
}

impl Reply {
    /// Status, content type and body, for snapshots.
    fn view(&self) -> Value {
        json!({ "status": self.status.as_u16(), "content-type": self.content_type, "body": self.body })
    }

    fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("")
    }
}

async fn call(
    b: &Bigip,
    method: Method,
    uri: &str,
    who: Option<&str>,
    body: Option<&str>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(auth) = who {
        request = request.header(header::AUTHORIZATION, auth);
    }
    let body = match body {
        Some(text) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(text.to_string())
        }
        None => Body::empty(),
    };
    let response =
        b.app.clone().oneshot(request.body(body).expect("request")).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let raw = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Reply { status, content_type, body, text }
}

fn basic((user, password): (&str, &str)) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

async fn get(b: &Bigip, uri: &str) -> Reply {
    call(b, Method::GET, uri, Some(&basic(ADMIN)), None).await
}

async fn send(b: &Bigip, method: Method, uri: &str, body: Value) -> Reply {
    call(b, method, uri, Some(&basic(ADMIN)), Some(&body.to_string())).await
}

async fn post(b: &Bigip, uri: &str, body: Value) -> Reply {
    send(b, Method::POST, uri, body).await
}

async fn delete(b: &Bigip, uri: &str) -> Reply {
    call(b, Method::DELETE, uri, Some(&basic(ADMIN)), None).await
}

/// The keys appear in this order in the raw body (insta sorts keys).
fn assert_key_order(text: &str, keys: &[&str]) {
    let mut from = 0;
    for key in keys {
        let quoted = format!("\"{key}\"");
        let at = text[from..]
            .find(&quoted)
            .unwrap_or_else(|| panic!("{key} after byte {from} in {text}"));
        from += at + quoted.len();
    }
}

// ----- collections and objects -----

/// An empty collection has its `kind` and a `selfLink` with `?ver=`, and no `items`
/// (F5 iControl REST reference; f5-sdk `get_collection` reads `items` only when present).
#[tokio::test]
async fn empty_collections_have_kind_and_self_link_without_items() {
    let b = bigip("bigip17");
    for (uri, kind) in [
        (POOLS, "tm:ltm:pool:poolcollectionstate"),
        (NODES, "tm:ltm:node:nodecollectionstate"),
        (VIRTUALS, "tm:ltm:virtual:virtualcollectionstate"),
    ] {
        let reply = get(&b, uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.body["kind"], kind);
        assert_eq!(reply.body["selfLink"], format!("https://localhost{uri}?ver=17.1.1"));
        assert!(reply.body.get("items").is_none(), "{}", reply.text);
    }
    insta::assert_json_snapshot!("empty_pool_collection", get(&b, POOLS).await.view());
}

/// POST creates a pool and answers 200 with it: identity keys first, properties in
/// alphabetical order, the members subcollection's reference (F5 iControl REST
/// reference, `ltm pool`; captured GETs of 11.5-16.1 show the same keys).
#[tokio::test]
async fn pool_create_answers_the_object_in_device_order() {
    let b = bigip("bigip17");
    let created = post(&b, POOLS, json!({ "name": "web", "partition": "Common" })).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_key_order(
        &created.text,
        &["kind", "name", "partition", "fullPath", "generation", "selfLink", "allowNat"],
    );
    insta::assert_json_snapshot!("pool_created", created.view());
    let loaded = get(&b, "/mgmt/tm/ltm/pool/~Common~web").await;
    assert_eq!(loaded.body, created.body);
    // f5-sdk's forms: a trailing slash, `?ver=`, and a bare name in /Common.
    for uri in ["/mgmt/tm/ltm/pool/~Common~web/?ver=17.1.1", "/mgmt/tm/ltm/pool/web"] {
        assert_eq!(get(&b, uri).await.body, created.body, "{uri}");
    }
    let list = get(&b, POOLS).await;
    assert_eq!(list.body["items"], json!([created.body]));
}

/// A second POST of the same object is refused with 409 and mcpd's body ([C]
/// `01020066:3: The requested ... already exists in partition Common.`, apiError 3).
#[tokio::test]
async fn duplicate_create_is_409_with_mcpd_body() {
    let b = bigip("bigip17");
    assert_eq!(post(&b, POOLS, json!({ "name": "web" })).await.status, StatusCode::OK);
    let again = post(&b, POOLS, json!({ "name": "/Common/web" })).await;
    insta::assert_json_snapshot!("error_pool_exists", again.view());
    assert_eq!(post(&b, NODES, json!({ "name": "10.0.0.1" })).await.status, StatusCode::OK);
    let node = post(&b, NODES, json!({ "name": "10.0.0.1", "address": "10.0.0.1" })).await;
    assert_eq!(node.status, StatusCode::CONFLICT);
    assert_eq!(
        node.message(),
        "01020066:3: The requested Node (/Common/10.0.0.1) already exists in partition Common."
    );
}

/// A missing object is 404 in mcpd's envelope ([C] `01020036:3: The requested Pool
/// (/Common/my-pool) was not found.`, apiError 3; a member: `Object not found -
/// /Common/wrong:80`, apiError 1), for GET, PATCH, PUT and DELETE alike.
#[tokio::test]
async fn missing_objects_are_404_with_mcpd_body() {
    let b = bigip("bigip17");
    let pool = get(&b, "/mgmt/tm/ltm/pool/~Common~my-pool").await;
    insta::assert_json_snapshot!("error_pool_not_found", pool.view());
    for (method, uri) in [
        (Method::PATCH, "/mgmt/tm/ltm/virtual/~Common~vs"),
        (Method::PUT, "/mgmt/tm/ltm/node/~Common~n1"),
        (Method::DELETE, "/mgmt/tm/ltm/pool/~Common~my-pool"),
    ] {
        let reply = send(&b, method.clone(), uri, json!({})).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {uri}: {}", reply.text);
        assert_eq!(reply.body["apiError"], 3);
        assert!(reply.message().starts_with("01020036:3: The requested "), "{}", reply.text);
    }
    post(&b, POOLS, json!({ "name": "my-pool" })).await;
    let member = get(&b, "/mgmt/tm/ltm/pool/~Common~my-pool/members/~Common~wrong:80").await;
    insta::assert_json_snapshot!("error_member_not_found", member.view());
}

/// Invalid bodies are 400, nothing is created, and no body is a panic or a 500:
/// an unknown property, a value of the wrong type or outside its list, no name, an
/// unknown partition, a node without an address, a body that is not JSON.
#[tokio::test]
async fn invalid_bodies_are_400() {
    let b = bigip("bigip17");
    let unknown = post(&b, POOLS, json!({ "name": "p", "colour": "blue" })).await;
    insta::assert_json_snapshot!("error_unexpected_property", unknown.view());
    for (uri, body) in [
        (POOLS, json!({ "name": "p", "slowRampTime": "soon" })),
        (POOLS, json!({ "name": "p", "loadBalancingMode": "random" })),
        (POOLS, json!({ "name": "p", "members": "10.0.0.1:80" })),
        (POOLS, json!({ "name": "p", "members": ["10.0.0.1"] })),
        (POOLS, json!({ "partition": "Common" })),
        (POOLS, json!({ "name": "a b" })),
        (POOLS, json!({ "name": 7 })),
        (POOLS, json!({ "name": "p", "partition": "Nope" })),
        (NODES, json!({ "name": "web-node" })),
        (NODES, json!({ "name": "web-node", "address": "web.example.net" })),
        (VIRTUALS, json!({ "name": "vs", "pool": "/Common/none-such" })),
        (VIRTUALS, json!({ "name": "vs", "enabled": "yes" })),
    ] {
        let reply = post(&b, uri, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {}", reply.text);
        assert_eq!(reply.body["code"], 400, "{}", reply.text);
        assert!(reply.body["errorStack"].is_array(), "{}", reply.text);
    }
    let folder = post(&b, POOLS, json!({ "name": "p", "partition": "Nope" })).await;
    assert_eq!(folder.message(), "01020036:3: The requested folder (/Nope) was not found.");
    let not_json = call(&b, Method::POST, POOLS, Some(&basic(ADMIN)), Some("{name: p")).await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST, "{}", not_json.text);
    assert!(get(&b, POOLS).await.body.get("items").is_none(), "nothing was created");
    assert!(get(&b, NODES).await.body.get("items").is_none(), "no node was created");
}

/// PATCH changes only the properties given; PUT sets the ones not given back to their
/// defaults; both answer the object with a higher `generation` (F5 iControl REST user
/// guide: PATCH merges, PUT replaces; f5-sdk's `update()` PUTs back what it loaded,
/// read-only keys included).
#[tokio::test]
async fn patch_merges_put_replaces_and_generation_grows() {
    let b = bigip("bigip17");
    let created = post(&b, POOLS, json!({ "name": "web", "slowRampTime": 30 })).await;
    let uri = "/mgmt/tm/ltm/pool/~Common~web";
    let patched =
        send(&b, Method::PATCH, uri, json!({ "description": "blue", "minUpMembers": "2" })).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["slowRampTime"], 30);
    assert_eq!(patched.body["minUpMembers"], 2);
    assert_eq!(patched.body["description"], "blue");
    let g1 = created.body["generation"].as_u64().unwrap();
    let g2 = patched.body["generation"].as_u64().unwrap();
    assert!(g2 > g1, "{g1} -> {g2}");
    let mut whole = patched.body.clone();
    whole["description"] = json!("green");
    whole.as_object_mut().unwrap().remove("slowRampTime");
    let put = send(&b, Method::PUT, uri, whole).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.body["description"], "green");
    assert_eq!(put.body["slowRampTime"], 10, "back to the default");
    assert!(put.body["generation"].as_u64().unwrap() > g2);
    assert_eq!(get(&b, uri).await.body, put.body);
    let rename = send(&b, Method::PATCH, uri, json!({ "name": "other" })).await;
    assert_eq!(rename.status, StatusCode::BAD_REQUEST, "{}", rename.text);
}

/// DELETE answers 200 with an empty body; the object is gone (f5-sdk `_delete` expects
/// 200 and `exists()` then sees a 404).
#[tokio::test]
async fn delete_answers_200_and_the_object_is_gone() {
    let b = bigip("bigip17");
    post(&b, NODES, json!({ "name": "n1", "address": "192.0.2.1" })).await;
    let deleted = delete(&b, "/mgmt/tm/ltm/node/~Common~n1").await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.text, "");
    assert_eq!(get(&b, "/mgmt/tm/ltm/node/~Common~n1").await.status, StatusCode::NOT_FOUND);
    assert_eq!(delete(&b, "/mgmt/tm/ltm/node/~Common~n1").await.status, StatusCode::NOT_FOUND);
}

/// A plain GET's body is written once and kept with the object; every change (PATCH,
/// PUT, a delete and a create again, of a pool, a member and a node) shows in the next
/// GETs, which read byte for byte what the change answered.
#[tokio::test]
async fn a_kept_body_lasts_until_the_object_changes() {
    let b = bigip("bigip17");
    let pool = "/mgmt/tm/ltm/pool/~Common~web";
    let members = format!("{pool}/members");
    let member = format!("{members}/~Common~10.0.0.1:80");
    let node = "/mgmt/tm/ltm/node/~Common~10.0.0.1";
    let describe = |description: &str| json!({ "description": description });
    let new_member =
        |description: &str| json!({ "name": "10.0.0.1:80", "description": description });

    let created = post(&b, POOLS, json!({ "name": "web" })).await;
    reads_back(&b, pool, created).await;
    reads_back(&b, pool, send(&b, Method::PATCH, pool, describe("blue")).await).await;
    reads_back(&b, pool, send(&b, Method::PUT, pool, describe("green")).await).await;
    reads_back(&b, &member, post(&b, &members, new_member("first")).await).await;
    reads_back(&b, &member, send(&b, Method::PATCH, &member, describe("second")).await).await;
    assert_eq!(delete(&b, &member).await.status, StatusCode::OK);
    reads_back(&b, &member, post(&b, &members, new_member("again")).await).await;
    reads_back(&b, node, send(&b, Method::PATCH, node, describe("rack 4")).await).await;

    let before = get(&b, pool).await;
    assert_eq!(delete(&b, &member).await.status, StatusCode::OK);
    assert_eq!(delete(&b, pool).await.status, StatusCode::OK);
    let again = post(&b, POOLS, json!({ "name": "web", "description": "green" })).await;
    assert_ne!(again.text, before.text, "a new pool, a new generation");
    reads_back(&b, pool, again).await;
}

/// Two GETs of `uri` (the second from what the first kept) read what `change` answered.
async fn reads_back(b: &Bigip, uri: &str, change: Reply) {
    assert_eq!(change.status, StatusCode::OK, "{}", change.text);
    assert_eq!(get(b, uri).await.text, change.text, "{uri}");
    assert_eq!(get(b, uri).await.text, change.text, "{uri}, from what was kept");
}

/// Pool members live under their pool (`.../pool/~Common~web/members/~Common~10.0.0.1:80`,
/// kind `tm:ltm:pool:members:membersstate`); a member on a new address creates its node,
/// and a node or pool still in use cannot be deleted.
#[tokio::test]
async fn members_create_their_node_and_references_block_deletes() {
    let b = bigip("bigip17");
    post(&b, POOLS, json!({ "name": "web" })).await;
    let members = "/mgmt/tm/ltm/pool/~Common~web/members";
    let member = post(&b, members, json!({ "name": "10.0.0.1:80", "partition": "Common" })).await;
    assert_eq!(member.status, StatusCode::OK, "{}", member.text);
    insta::assert_json_snapshot!("member_created", member.view());
    let list = get(&b, members).await;
    assert_eq!(list.body["kind"], "tm:ltm:pool:members:memberscollectionstate");
    assert_eq!(list.body["items"], json!([member.body]));
    let node = get(&b, "/mgmt/tm/ltm/node/~Common~10.0.0.1").await;
    assert_eq!(node.status, StatusCode::OK, "{}", node.text);
    assert_eq!(node.body["address"], "10.0.0.1");
    let twice = post(&b, members, json!({ "name": "10.0.0.1:80" })).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);

    let in_use = delete(&b, "/mgmt/tm/ltm/node/~Common~10.0.0.1").await;
    assert_eq!(in_use.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        in_use.message(),
        "01070110:3: Node address '/Common/10.0.0.1' is referenced by a member of pool '/Common/web'."
    );
    let vs =
        post(&b, VIRTUALS, json!({ "name": "vs", "destination": "10.1.1.1:443", "pool": "web" }))
            .await;
    assert_eq!(vs.status, StatusCode::OK, "{}", vs.text);
    assert_eq!(vs.body["destination"], "/Common/10.1.1.1:443");
    assert_eq!(vs.body["pool"], "/Common/web");
    let pool_in_use = delete(&b, "/mgmt/tm/ltm/pool/~Common~web").await;
    insta::assert_json_snapshot!("error_pool_in_use", pool_in_use.view());

    let patched = send(
        &b,
        Method::PATCH,
        &format!("{members}/~Common~10.0.0.1:80"),
        json!({ "session": "user-disabled" }),
    )
    .await;
    assert_eq!(patched.body["session"], "user-disabled", "{}", patched.text);
    assert_eq!(delete(&b, &format!("{members}/~Common~10.0.0.1:80")).await.status, StatusCode::OK);
    assert_eq!(delete(&b, "/mgmt/tm/ltm/node/~Common~10.0.0.1").await.status, StatusCode::OK);
    assert_eq!(delete(&b, "/mgmt/tm/ltm/virtual/~Common~vs").await.status, StatusCode::OK);
    assert_eq!(delete(&b, "/mgmt/tm/ltm/pool/~Common~web").await.status, StatusCode::OK);
}

/// A pool created with `members` has them, and `expandSubcollections=true` shows them in
/// `membersReference.items`; `$select` keeps only the keys asked for (iControl REST
/// query parameters).
#[tokio::test]
async fn members_inline_expand_and_select() {
    let b = bigip("bigip17");
    let created = post(
        &b,
        POOLS,
        json!({ "name": "web", "members": ["10.0.0.1:80", { "name": "10.0.0.2:80", "ratio": 2 }] }),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let expanded = get(&b, "/mgmt/tm/ltm/pool/~Common~web?expandSubcollections=true").await;
    let items = expanded.body["membersReference"]["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["ratio"], 2);
    let selected = get(&b, "/mgmt/tm/ltm/pool?$select=name,fullPath&ver=17.1.1").await;
    assert_eq!(selected.body["items"], json!([{ "name": "web", "fullPath": "/Common/web" }]));
}

/// Objects in another partition are addressed `~Tenant~name` and listed with
/// `$filter=partition eq Tenant` (iControl REST reference: partition/name addressing).
#[tokio::test]
async fn objects_in_other_partitions_use_their_partition_in_the_path() {
    let b = bigip_with("bigip17", |p| {
        p.bigip.get_or_insert_with(Default::default).objects.partitions =
            vec!["Common".to_string(), "Tenant".to_string()];
    });
    let created = post(&b, POOLS, json!({ "name": "web", "partition": "Tenant" })).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(created.body["fullPath"], "/Tenant/web");
    assert_eq!(
        created.body["selfLink"],
        "https://localhost/mgmt/tm/ltm/pool/~Tenant~web?ver=17.1.1"
    );
    post(&b, POOLS, json!({ "name": "web" })).await;
    assert_eq!(get(&b, "/mgmt/tm/ltm/pool/~Tenant~web").await.body, created.body);
    let filtered = get(&b, "/mgmt/tm/ltm/pool?$filter=partition%20eq%20Tenant").await;
    assert_eq!(filtered.body["items"], json!([created.body]));
    let sub =
        post(&b, POOLS, json!({ "name": "web", "partition": "Tenant", "subPath": "app.app" }))
            .await;
    assert_eq!(sub.body["fullPath"], "/Tenant/app.app/web", "{}", sub.text);
    assert_eq!(get(&b, "/mgmt/tm/ltm/pool/~Tenant~app.app~web").await.status, StatusCode::OK);
}

/// A virtual server shows one of `enabled` and `disabled`, always `true` (bigrest's
/// `asdict()`: "iControl REST API only accepts enabled=True or disabled=True").
#[tokio::test]
async fn virtual_shows_one_of_enabled_and_disabled() {
    let b = bigip("bigip17");
    let vs =
        post(&b, VIRTUALS, json!({ "name": "vs", "destination": "/Common/10.1.1.1:80" })).await;
    assert_eq!(vs.body["enabled"], true);
    insta::assert_json_snapshot!("virtual_created", vs.view());
    let uri = "/mgmt/tm/ltm/virtual/~Common~vs";
    let off = send(&b, Method::PATCH, uri, json!({ "disabled": true })).await;
    assert_eq!(off.body["disabled"], true);
    assert!(off.body.get("enabled").is_none(), "{}", off.text);
    let on = send(&b, Method::PATCH, uri, json!({ "enabled": true })).await;
    assert_eq!(on.body["enabled"], true);
    assert!(on.body.get("disabled").is_none(), "{}", on.text);
}

/// Reads need any authenticated user; writes need a configuration role, else the
/// REST framework's 401 (`:resterrorresponse`); no credentials is the usual 401.
#[tokio::test]
async fn writes_need_a_configuration_role() {
    let b = bigip("bigip17");
    let op = Some(basic(OPERATOR));
    let read = call(&b, Method::GET, POOLS, op.as_deref(), None).await;
    assert_eq!(read.status, StatusCode::OK);
    let write = call(&b, Method::POST, POOLS, op.as_deref(), Some(r#"{"name":"p"}"#)).await;
    assert_eq!(write.status, StatusCode::UNAUTHORIZED, "{}", write.text);
    assert_eq!(write.body["kind"], ":resterrorresponse");
    let anonymous = call(&b, Method::GET, "/mgmt/tm/sys/clock", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(get(&b, POOLS).await.body.get("items").is_none(), "nothing was created");
}

/// The configuration is device state: a restart keeps it, the control API's reset
/// brings back the profile's (no LTM objects, the profile's hostname).
#[tokio::test]
async fn reset_restores_the_profile_and_restart_keeps_the_configuration() {
    let b = bigip("bigip17");
    post(&b, POOLS, json!({ "name": "web" })).await;
    send(
        &b,
        Method::PATCH,
        "/mgmt/tm/sys/global-settings",
        json!({ "hostname": "lb.example.net" }),
    )
    .await;
    b.device.restart();
    assert_eq!(get(&b, "/mgmt/tm/ltm/pool/~Common~web").await.status, StatusCode::OK);
    b.device.reset();
    assert_eq!(get(&b, "/mgmt/tm/ltm/pool/~Common~web").await.status, StatusCode::NOT_FOUND);
    let settings = get(&b, "/mgmt/tm/sys/global-settings").await;
    assert_eq!(settings.body["hostname"], "bigip17.sessionlab.test");
    let created = post(&b, POOLS, json!({ "name": "web" })).await;
    assert_eq!(created.body["generation"], 1, "the generation starts again");
}

/// A token keeps working across object calls and none of them opens a session: tokens
/// are absolute, not renewed by use, and Basic requests create none (vendor evidence:
/// F5-TOKMGMT, BIGREST #13).
#[tokio::test]
async fn token_session_survives_object_calls() {
    let b = bigip("bigip17");
    let login = call(
        &b,
        Method::POST,
        "/mgmt/shared/authn/login",
        None,
        Some(r#"{"username":"admin","password":"sessionlab","loginProviderName":"tmos"}"#),
    )
    .await;
    let token = login.body["token"]["token"].as_str().expect("token").to_string();
    let with_token = |method: Method, uri: &'static str, body: Option<&'static str>| {
        let b = &b;
        let token = token.clone();
        async move {
            let mut request =
                Request::builder().method(method).uri(uri).header("X-F5-Auth-Token", token);
            request = request.header(header::CONTENT_TYPE, "application/json");
            let request = request.body(body.map_or_else(Body::empty, Body::from)).expect("request");
            b.app.clone().oneshot(request).await.expect("infallible").status()
        }
    };
    for (method, uri, body) in [
        (Method::GET, "/mgmt/tm/sys/clock", None),
        (Method::POST, POOLS, Some(r#"{"name":"web"}"#)),
        (Method::PATCH, "/mgmt/tm/ltm/pool/~Common~web", Some(r#"{"description":"x"}"#)),
        (Method::GET, "/mgmt/tm/ltm/pool/~Common~web", None),
        (Method::DELETE, "/mgmt/tm/ltm/pool/~Common~web", None),
    ] {
        assert_eq!(with_token(method.clone(), uri, body).await, StatusCode::OK, "{method} {uri}");
    }
    assert_eq!(b.device.store.list(b.device.now()).len(), 1, "only the token's session");
    b.device.clock().advance(Duration::from_secs(1200)).unwrap();
    assert_eq!(with_token(Method::GET, POOLS, None).await, StatusCode::UNAUTHORIZED);
}

// ----- system objects -----

/// `sys clock` shows the device's clock: it moves when the virtual clock does ([C]
/// `tm:sys:clock:clockstats` with `fullDate` `2018-06-05T13:38:33Z`, f5-ansible).
#[tokio::test]
async fn clock_follows_the_device_clock() {
    let b = bigip("bigip17");
    insta::assert_json_snapshot!("sys_clock", get(&b, "/mgmt/tm/sys/clock").await.view());
    b.device.clock().advance(Duration::from_secs(3 * 3600 + 61)).unwrap();
    let later = get(&b, "/mgmt/tm/sys/clock/").await;
    let entry = &later.body["entries"]["https://localhost/mgmt/tm/sys/clock/0"];
    assert_eq!(entry["nestedStats"]["entries"]["fullDate"]["description"], "2026-01-01T03:01:01Z");
}

/// `sys hardware`, `sys global-settings`, `cm device` and `sys software volume` answer
/// with their kinds and the profile's version (illustrative values written for
/// sessionlab; shapes from F5's iControl REST reference and f5-ansible fixtures).
#[tokio::test]
async fn system_objects_show_the_profile_version() {
    let b = bigip("bigip17");
    insta::assert_json_snapshot!("sys_hardware", get(&b, "/mgmt/tm/sys/hardware").await.view());
    insta::assert_json_snapshot!(
        "sys_global_settings",
        get(&b, "/mgmt/tm/sys/global-settings").await.view()
    );
    let devices = get(&b, "/mgmt/tm/cm/device").await;
    insta::assert_json_snapshot!("cm_device", devices.view());
    assert_key_order(
        &devices.text,
        &[
            "kind",
            "selfLink",
            "items",
            "kind",
            "name",
            "partition",
            "fullPath",
            "generation",
            "selfLink",
        ],
    );
    insta::assert_json_snapshot!(
        "software_volume",
        get(&b, "/mgmt/tm/sys/software/volume").await.view()
    );
    for (profile, version, build) in
        [("bigip15", "15.1.2", "0.0.9"), ("bigip17-1-2", "17.1.2.1", "0.0.8")]
    {
        let b = bigip(profile);
        let device = get(&b, "/mgmt/tm/cm/device").await;
        assert_eq!(device.body["items"][0]["version"], version, "{profile}");
        let volume = get(&b, "/mgmt/tm/sys/software/volume/HD1.1").await;
        assert_eq!(volume.body["version"], version, "{profile}");
        assert_eq!(volume.body["build"], build, "{profile}");
        let name = device.body["items"][0]["name"].as_str().unwrap().to_string();
        let one = get(&b, &format!("/mgmt/tm/cm/device/~Common~{name}")).await;
        assert_eq!(one.body, device.body["items"][0]);
    }
    assert_eq!(get(&b, "/mgmt/tm/cm/device/~Common~other").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&b, "/mgmt/tm/sys/software/volume/HD1.2").await.status, StatusCode::NOT_FOUND);
}

/// `PATCH sys global-settings` changes known properties (f5-ansible `bigip_hostname`
/// sets `hostname` there), and `cm device` shows the new hostname; unknown properties
/// and wrong types are 400.
#[tokio::test]
async fn global_settings_patch_changes_the_hostname() {
    let b = bigip("bigip17");
    let uri = "/mgmt/tm/sys/global-settings";
    let patched = send(
        &b,
        Method::PATCH,
        uri,
        json!({ "hostname": "lb.example.net", "guiSetup": "disabled" }),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["hostname"], "lb.example.net");
    let device = get(&b, "/mgmt/tm/cm/device").await;
    assert_eq!(device.body["items"][0]["hostname"], "lb.example.net");
    for body in [json!({ "colour": "blue" }), json!({ "consoleInactivityTimeout": "never" })] {
        let bad = send(&b, Method::PATCH, uri, body.clone()).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{body}: {}", bad.text);
    }
    let op =
        call(&b, Method::PATCH, uri, Some(&basic(OPERATOR)), Some(r#"{"hostname":"x"}"#)).await;
    assert_eq!(op.status, StatusCode::UNAUTHORIZED);
}
