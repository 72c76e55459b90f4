//! iLO's ExtendedInfo envelope, for errors and successes alike.
//!
//! Captured on iLO 4, 5 and 6 (ilo-idrac.md 1.5, 1.6), the same shape every time:
//!
//! ```json
//! {"error":{"@Message.ExtendedInfo":[{"MessageId":"Base.1.4.NoValidSession"}],
//!  "code":"iLO.0.10.ExtendedInfo","message":"See @Message.ExtendedInfo for more information."}}
//! ```
//!
//! Only the message id is shown (plus `MessageArgs` when the message has arguments, as in
//! HPE's `OneTimePasscodeSent` example); never the text, severity or resolution. iLO 4
//! spells the key `MessageID` and repeats the messages at the top level with
//! `"Type": "ExtendedError.1.0.0"`. Keys come out sorted, as iLO sends them.
//!
//! The Base registry prefix is the profile's `[redfish] base_registry`; messages of iLO's
//! own registry (`UnauthorizedLoginAttempt`) take `[ilo] ilo_registry`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::wire::with_trailing_slashes;
use super::IloSettings;
use crate::vendors::http::BodyMemo;
use crate::vendors::redfish::errors::{Message, RedfishError};
use crate::vendors::redfish::routes::{Ctx, Envelope};

/// Keys of the messages that belong to iLO's own registry rather than to Base.
pub const ILO_REGISTRY_KEYS: [&str; 4] = [
    "UnauthorizedLoginAttempt",
    "LoginAttemptDelayed",
    "LoginAttemptDelayedSeconds",
    "InvalidOperationForSystemState",
];

/// The full `MessageId` of `message` on this device.
pub fn message_id(ctx: &Ctx, ilo: &IloSettings, message: &Message) -> String {
    if ILO_REGISTRY_KEYS.contains(&message.key) {
        message.id(&ilo.ilo_registry)
    } else {
        message.id(ctx.registry())
    }
}

fn info_item(key: &str, id: &str, args: &[String]) -> Value {
    let mut item = Map::new();
    item.insert(key.to_string(), json!(id));
    if !args.is_empty() {
        item.insert("MessageArgs".to_string(), json!(args));
    }
    Value::Object(item)
}

/// The envelope carrying `messages`.
pub fn envelope(ctx: &Ctx, ilo: &IloSettings, messages: &[Message]) -> Value {
    let ids: Vec<(String, &[String])> =
        messages.iter().map(|m| (message_id(ctx, ilo, m), m.args.as_slice())).collect();
    let info: Vec<Value> =
        ids.iter().map(|(id, args)| info_item(&ilo.message_id_key, id, args)).collect();
    let mut body = json!({
        "error": {
            "code": ilo.error_code,
            "message": ilo.error_message,
            "@Message.ExtendedInfo": info,
        }
    });
    if ilo.legacy_error_fields {
        let legacy: Vec<Value> =
            ids.iter().map(|(id, args)| info_item("MessageID", id, args)).collect();
        body["Messages"] = json!(legacy);
        body["Type"] = json!("ExtendedError.1.0.0");
    }
    body
}

/// A successful answer whose body is the envelope (a login's `Created`, a logout's
/// `Success`), with iLO's ExtendedInfo `ETag`.
pub fn info_response(
    ctx: &Ctx,
    ilo: &IloSettings,
    status: StatusCode,
    message: Message,
) -> Response {
    let body = envelope(ctx, ilo, &[message]);
    let mut response = Response::new(Body::from(serde_json::to_vec(&body).unwrap_or_default()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(etag) = HeaderValue::from_str(&ilo.extended_info_etag) {
        if !ilo.extended_info_etag.is_empty() {
            headers.insert(header::ETAG, etag);
        }
    }
    response
}

/// Messages iLO uses that the standard personality does not (texts of HPE's registries).
pub mod messages {
    use crate::vendors::redfish::errors::Message;

    fn m(
        key: &'static str,
        template: &'static str,
        severity: &'static str,
        resolution: &'static str,
    ) -> Message {
        Message {
            key,
            template,
            severity,
            resolution,
            args: Vec::new(),
            related_properties: Vec::new(),
        }
    }

    /// `iLO.2.x.UnauthorizedLoginAttempt` (ilo-idrac.md 1.6 [P]).
    pub fn unauthorized_login_attempt() -> Message {
        m(
            "UnauthorizedLoginAttempt",
            "The login was not successful, because the supplied credentials could not be authorized.",
            "Critical",
            "None.",
        )
    }

    /// `Base.x.AccountForSessionNoLongerExists` (ilo-idrac.md 1.10 [P]).
    pub fn account_for_session_no_longer_exists() -> Message {
        m(
            "AccountForSessionNoLongerExists",
            "The account for the current session is removed, and the current session is also removed.",
            "OK",
            "None.",
        )
    }

    /// `Base.x.AccountRemoved` (ilo-idrac.md 1.10 [P]).
    pub fn account_removed() -> Message {
        m("AccountRemoved", "The account was removed successfully.", "OK", "None.")
    }

    /// `Base.x.Created` (ilo-idrac.md 1.2 [P]).
    pub fn created() -> Message {
        crate::vendors::redfish::errors::base::created()
    }

    /// `Base.x.Success` (ilo-idrac.md 1.5 [C]).
    pub fn success() -> Message {
        crate::vendors::redfish::errors::base::success()
    }
}

/// A 4xx with iLO's own `UnauthorizedLoginAttempt` (a failed login).
pub fn unauthorized_login(ilo: &IloSettings) -> RedfishError {
    let status = StatusCode::from_u16(ilo.bad_login_status).unwrap_or(StatusCode::UNAUTHORIZED);
    RedfishError::new(status, messages::unauthorized_login_attempt())
}

/// iLO's [`Envelope`]: every error in the ExtendedInfo envelope, no `WWW-Authenticate`
/// (ilo-idrac.md 1.6 [C]), iLO's `Content-Type`, its ExtendedInfo `ETag` on errors, the
/// profile's extra headers, and trailing slashes on the links of the standard
/// personality's answers ([`with_trailing_slashes`]).
#[derive(Debug)]
pub struct IloEnvelope {
    /// The device's iLO settings.
    pub ilo: Arc<IloSettings>,
    /// The settings' headers, made once: the JSON `Content-Type`, the `ETag` of errors,
    /// and the profile's extra headers (a name or value HTTP cannot carry is left out).
    content_type: Option<HeaderValue>,
    error_etag: Option<HeaderValue>,
    extra: Vec<(HeaderName, HeaderValue)>,
    /// The bodies whose links were slashed last.
    slashed: Arc<BodyMemo>,
}

impl IloEnvelope {
    /// The envelope of a device with these settings.
    pub fn new(ilo: Arc<IloSettings>) -> IloEnvelope {
        let content_type = HeaderValue::from_str(&ilo.content_type).ok();
        let error_etag = Some(&ilo.extended_info_etag)
            .filter(|e| !e.is_empty())
            .and_then(|e| HeaderValue::from_str(e).ok());
        let extra = ilo
            .headers
            .iter()
            .filter_map(|(name, value)| {
                let name = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).ok()?;
                Some((name, HeaderValue::from_str(value).ok()?))
            })
            .collect();
        IloEnvelope { ilo, content_type, error_etag, extra, slashed: Arc::default() }
    }
}

impl Envelope for IloEnvelope {
    fn error_body(&self, ctx: &Ctx, error: &RedfishError) -> Value {
        envelope(ctx, &self.ilo, &error.messages)
    }

    fn finish_head(
        &self,
        _ctx: &Ctx,
        status: StatusCode,
        error: Option<&RedfishError>,
        headers: &mut HeaderMap,
    ) {
        // Only a 401 or an error's own headers carry one.
        if status == StatusCode::UNAUTHORIZED || error.is_some() {
            headers.remove(header::WWW_AUTHENTICATE);
        }
        if let (Some(current), Some(value)) =
            (crate::vendors::http::json_content_type(headers), &self.content_type)
        {
            *current = value.clone();
        }
        if let Some(value) = self.error_etag.as_ref().filter(|_| error.is_some()) {
            headers.insert(header::ETAG, value.clone());
        }
        for (name, value) in &self.extra {
            headers.insert(name.clone(), value.clone());
        }
    }

    fn finish_body(
        &self,
        _ctx: &Ctx,
        _status: StatusCode,
        _error: Option<&RedfishError>,
        response: &mut Response,
    ) {
        if self.ilo.trailing_slash {
            // Whether the answer is JSON, now that its `Content-Type` is iLO's.
            let json = response
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            with_trailing_slashes(&self.slashed, response, json);
        }
    }
}
