//! Request bodies in, iControl REST bodies out.
//!
//! Bodies are serialized from structs so their keys keep the order of the captures
//! (serde_json's `json!` would sort them). Every link starts `https://localhost`, as on
//! the device ([C], bigip-solace.md 1.1).

use std::future::Future;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, FixedOffset, Utc};
use futures_util::future::{ready, Either};
use futures_util::FutureExt as _;
use serde::Serialize;
use serde_json::{Map, Value};

use super::errors::{RestError, JSON_CONTENT_TYPE};
use super::routes::Ctx;
use super::uuid3::name_uuid_from_bytes;
use super::{BigipSettings, TOKEN_SESSION_TYPE};
use crate::session::{Account, Session};
use crate::vendors::http::BodyRefused;

/// Every link's origin.
pub const ORIGIN: &str = "https://localhost";
/// The token collection.
pub const TOKENS: &str = "/mgmt/shared/authz/tokens";
/// The login worker.
pub const LOGIN: &str = "/mgmt/shared/authn/login";
/// Local users.
pub const USERS: &str = "/mgmt/tm/auth/user";

/// `kind` of one token ([C] login capture, [P] f5-sdk `authz.py`).
pub const TOKEN_KIND: &str = "shared:authz:tokens:authtokenitemstate";
/// `kind` of the token collection ([P] f5-sdk `authz.py`).
pub const TOKEN_COLLECTION_KIND: &str = "shared:authz:tokens:authtokencollectionstate";

/// Session attribute: the login provider a token was issued by.
pub const ATTR_PROVIDER: &str = "bigip.provider";
/// Session attribute: the token's `generation` (1 at login, +1 per PATCH).
pub const ATTR_GENERATION: &str = "bigip.generation";
/// Session attribute: the `timeout` last asked for (what the body shows).
pub const ATTR_TIMEOUT: &str = "bigip.timeout";
/// Session attribute: `lastUpdateMicros` of the last PATCH.
pub const ATTR_UPDATED: &str = "bigip.updated_micros";

/// A JSON answer.
pub fn json(status: StatusCode, body: &impl Serialize) -> Response {
    let mut response = Response::new(Body::from(serde_json::to_vec(body).unwrap_or_default()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    response
}

/// A 200 JSON answer.
pub fn ok(body: &impl Serialize) -> Response {
    json(StatusCode::OK, body)
}

/// A 200 JSON answer whose body was rendered before (as [`ok`] renders it), with its
/// `Content-Length`.
pub fn ok_rendered(body: &crate::vendors::http::Rendered) -> Response {
    let mut response = Response::new(Body::from(body.bytes().clone()));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    headers.insert(header::CONTENT_LENGTH, body.length().clone());
    response
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSSZ` in the device's zone (`2024-07-11T02:22:15.666-0700`, [C]).
pub fn local_time(at: DateTime<Utc>, settings: &BigipSettings) -> String {
    let offset = FixedOffset::east_opt(settings.utc_offset_minutes.saturating_mul(60))
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC is a valid offset"));
    at.with_timezone(&offset).format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

/// Microseconds since the Unix epoch.
pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

#[derive(Serialize)]
struct Link {
    link: String,
}

fn link(path: &str) -> Link {
    Link { link: format!("{ORIGIN}{path}") }
}

/// One token (`shared:authz:tokens:authtokenitemstate`), keys in the captured order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenBody {
    token: String,
    name: String,
    user_name: String,
    auth_provider_name: String,
    user: Link,
    group_references: Vec<Value>,
    timeout: u64,
    start_time: String,
    address: String,
    partition: &'static str,
    generation: u64,
    last_update_micros: i64,
    expiration_micros: i64,
    kind: &'static str,
    self_link: String,
}

/// The timeout a token shows: the last one asked for, else its session's.
pub fn token_timeout(session: &Session) -> u64 {
    session
        .attrs
        .get(ATTR_TIMEOUT)
        .and_then(|t| t.parse().ok())
        .or_else(|| session.idle_timeout.map(|d| d.as_secs()))
        .unwrap_or(0)
}

/// The token body of a `rest-token` session. `expirationMicros` is the session's deadline
/// truncated to whole milliseconds (1720690935666000 for a login at ...666487, [C]).
pub fn token(session: &Session, settings: &BigipSettings) -> TokenBody {
    let provider = session
        .attrs
        .get(ATTR_PROVIDER)
        .cloned()
        .unwrap_or_else(|| settings.default_login_provider.clone());
    let created = micros(session.created_at);
    let expires = session
        .deadline()
        .and_then(|(d, _)| chrono::Duration::from_std(d.saturating_sub(session.created_mono)).ok())
        .and_then(|lived| session.created_at.checked_add_signed(lived))
        .map_or(0, |at| at.timestamp_millis() * 1000);
    let updated = session.attrs.get(ATTR_UPDATED).and_then(|u| u.parse().ok()).unwrap_or(created);
    TokenBody {
        token: session.token.as_str().to_string(),
        name: session.token.as_str().to_string(),
        user_name: session.user.as_str().to_owned(),
        auth_provider_name: provider,
        user: link(&format!("/mgmt/shared/authz/users/{}", segment(&session.user))),
        group_references: Vec::new(),
        timeout: token_timeout(session),
        start_time: local_time(session.created_at, settings),
        address: session.client.addr.clone().unwrap_or_else(|| "127.0.0.1".to_string()),
        partition: "[All]",
        generation: session.attrs.get(ATTR_GENERATION).and_then(|g| g.parse().ok()).unwrap_or(1),
        last_update_micros: updated,
        expiration_micros: expires,
        kind: TOKEN_KIND,
        self_link: format!("{ORIGIN}{TOKENS}/{}", session.token.as_str()),
    }
}

/// The login answer, keys in the captured order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginBody {
    username: String,
    login_reference: Link,
    login_provider_name: String,
    token: TokenBody,
    generation: u64,
    last_update_micros: u64,
}

/// The login provider's `loginReference`: `local` is `/mgmt/cm/system/authn/providers/
/// local/login` ([C]); `tmos` carries `nameUUIDFromBytes("tmos")` ([P] F5-AUTHDOC).
pub fn login_reference(provider: &str) -> String {
    if provider == "local" {
        "/mgmt/cm/system/authn/providers/local/login".to_string()
    } else {
        format!(
            "/mgmt/cm/system/authn/providers/{provider}/{}/login",
            name_uuid_from_bytes(provider.as_bytes())
        )
    }
}

/// `POST /mgmt/shared/authn/login` answered 200.
pub fn login(session: &Session, provider: &str, settings: &BigipSettings) -> LoginBody {
    LoginBody {
        username: session.user.as_str().to_owned(),
        login_reference: link(&login_reference(provider)),
        login_provider_name: provider.to_string(),
        token: token(session, settings),
        generation: 0,
        last_update_micros: 0,
    }
}

/// The login request as the device echoes it in `originalRequestBody`: the fields it
/// read, the password left out, then `generation` and `lastUpdateMicros` ([C]
/// `{"username":"admin","loginProviderName":"local","generation":0,"lastUpdateMicros":0}`).
pub fn echo_login_request(body: &Map<String, Value>) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Echo<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        username: Option<&'a Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        login_provider_name: Option<&'a Value>,
        generation: u64,
        last_update_micros: u64,
    }
    let echo = Echo {
        username: body.get("username"),
        login_provider_name: body.get("loginProviderName"),
        generation: 0,
        last_update_micros: 0,
    };
    serde_json::to_string(&echo).unwrap_or_default()
}

/// The token collection (`shared:authz:tokens:authtokencollectionstate`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenCollection {
    items: Vec<TokenBody>,
    generation: u64,
    kind: &'static str,
    last_update_micros: i64,
    self_link: String,
}

/// A collection of these token sessions.
pub fn token_collection(sessions: &[Session], settings: &BigipSettings) -> TokenCollection {
    let items: Vec<TokenBody> = sessions
        .iter()
        .filter(|s| s.session_type == TOKEN_SESSION_TYPE)
        .map(|s| token(s, settings))
        .collect();
    TokenCollection {
        generation: items.len() as u64,
        last_update_micros: items.iter().map(|t| t.last_update_micros).max().unwrap_or(0),
        items,
        kind: TOKEN_COLLECTION_KIND,
        self_link: format!("{ORIGIN}{TOKENS}"),
    }
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
pub fn segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ----- tm resources -----

#[derive(Serialize)]
struct PartitionAccess {
    name: &'static str,
    role: String,
}

/// A local user (`tm:auth:user:userstate`); the password hash is never shown.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserBody {
    kind: &'static str,
    name: String,
    full_path: String,
    generation: u64,
    self_link: String,
    description: String,
    partition_access: Vec<PartitionAccess>,
    shell: &'static str,
}

/// One local user.
pub fn user(account: &Account, settings: &BigipSettings) -> UserBody {
    UserBody {
        kind: "tm:auth:user:userstate",
        name: account.user.clone(),
        full_path: account.user.clone(),
        generation: account.version,
        self_link: format!("{ORIGIN}{USERS}/{}?ver={}", segment(&account.user), settings.version),
        description: account.user.clone(),
        partition_access: vec![PartitionAccess {
            name: "all-partitions",
            role: account.role.clone(),
        }],
        shell: "none",
    }
}

/// The local users (`tm:auth:user:usercollectionstate`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserCollection {
    kind: &'static str,
    self_link: String,
    items: Vec<UserBody>,
}

/// Every local user.
pub fn users(accounts: &[Account], settings: &BigipSettings) -> UserCollection {
    UserCollection {
        kind: "tm:auth:user:usercollectionstate",
        self_link: format!("{ORIGIN}{USERS}?ver={}", settings.version),
        items: accounts.iter().map(|a| user(a, settings)).collect(),
    }
}

#[derive(Serialize)]
struct Description {
    description: String,
}

/// `/mgmt/tm/sys/version` (`tm:sys:version:versionstats`).
pub fn version(settings: &BigipSettings) -> Value {
    let d = |s: &str| serde_json::to_value(Description { description: s.to_string() });
    let mut entries = Map::new();
    for (name, value) in [
        ("Build", settings.build.as_str()),
        ("Date", settings.version_date.as_str()),
        ("Edition", settings.edition.as_str()),
        ("Product", "BIG-IP"),
        ("Title", "Main Package"),
        ("Version", settings.version.as_str()),
    ] {
        entries.insert(name.to_string(), d(value).unwrap_or(Value::Null));
    }
    let mut nested = Map::new();
    nested.insert(
        "nestedStats".to_string(),
        Value::Object(Map::from_iter([("entries".to_string(), Value::Object(entries))])),
    );
    let mut outer = Map::new();
    outer.insert(format!("{ORIGIN}/mgmt/tm/sys/version/0"), Value::Object(nested));
    let mut body = Map::new();
    body.insert("kind".to_string(), Value::from("tm:sys:version:versionstats"));
    body.insert(
        "selfLink".to_string(),
        Value::from(format!("{ORIGIN}/mgmt/tm/sys/version?ver={}", settings.version)),
    );
    body.insert("entries".to_string(), Value::Object(outer));
    Value::Object(body)
}

// ----- request bodies -----

/// A request body that must be a JSON object. Rejections in the iControl REST envelope:
/// 413 past [`BigipSettings::max_body_bytes`], 400 when it is not a JSON object. The
/// Content-Type is not checked (curl's `-d` sends form encoding and the device reads JSON).
#[derive(Clone, Debug)]
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = RestError;

    fn from_request(req: Request, _: &S) -> impl Future<Output = Result<Self, RestError>> {
        let Some(ctx) = Ctx::of(req.extensions()) else {
            return Either::Left(ready(Err(RestError::internal())));
        };
        let reading = read_body(req, &ctx);
        Either::Right(reading.map(move |read| match serde_json::from_slice::<Value>(&read?) {
            Ok(Value::Object(map)) => Ok(JsonObject(map)),
            _ => Err(RestError::bad_request(ctx.settings.messages.bad_json.clone())),
        }))
    }
}

/// The raw body, capped at [`BigipSettings::max_body_bytes`]. The future keeps only the
/// body's reading and the settings, not the request (see
/// [`crate::vendors::http::limited_body`]).
pub fn read_body(
    req: Request,
    ctx: &Ctx,
) -> impl Future<Output = Result<axum::body::Bytes, RestError>> + Send + 'static {
    let settings = ctx.settings.clone();
    let reading = crate::vendors::http::limited_body(req, settings.max_body_bytes);
    reading.map(move |read| {
        let messages = &settings.messages;
        read.map_err(|refused| match refused {
            BodyRefused::TooLarge => {
                RestError::new(StatusCode::PAYLOAD_TOO_LARGE, messages.payload_too_large.clone())
            }
            BodyRefused::Unreadable => RestError::bad_request(messages.bad_json.clone()),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    /// `startTime` is local time with milliseconds and a colon-less offset ([C]
    /// `2024-07-11T02:22:15.666-0700`).
    #[test]
    fn start_time_is_local_with_millis_and_offset() {
        let at = Utc.timestamp_micros(1_720_689_735_666_487).single().unwrap();
        let settings = BigipSettings { utc_offset_minutes: -420, ..BigipSettings::default() };
        assert_eq!(local_time(at, &settings), "2024-07-11T02:22:15.666-0700");
        assert_eq!(micros(at), 1_720_689_735_666_487);
    }

    /// The login echo drops the password and appends `generation` and
    /// `lastUpdateMicros` ([C] `exampleAuthRespFailed`).
    #[test]
    fn login_echo_has_no_password() {
        let body: Map<String, Value> = serde_json::from_str(
            r#"{"password":"secret","username":"admin","loginProviderName":"local"}"#,
        )
        .unwrap();
        assert_eq!(
            echo_login_request(&body),
            r#"{"username":"admin","loginProviderName":"local","generation":0,"lastUpdateMicros":0}"#
        );
    }

    /// `tmos` logins point at the provider named by `nameUUIDFromBytes("tmos")` ([P]).
    #[test]
    fn tmos_login_reference_names_the_provider_uuid() {
        assert_eq!(
            login_reference("tmos"),
            "/mgmt/cm/system/authn/providers/tmos/1f44a60e-11a7-3c51-a49f-82983026b41b/login"
        );
    }
}
