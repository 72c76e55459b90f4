//! iDRAC's error answers.
//!
//! Captured bodies are kept as literal strings and sent byte for byte: the table-full
//! `RAC0218` bodies with their quirks, the 415 to a login with `Authorization`, and the
//! `AccessDenied` 401. Bodies built here follow the captured shape: an `error` object
//! with `@Message.ExtendedInfo` (each message with its eight properties), `code` and a
//! `message` without final period, keys in byte order.
//!
//! Errors from the standard Redfish pieces this personality reuses (the `Principal`
//! extractor, body parsing) arrive as [`RedfishError`]s and are re-rendered by
//! [`IdracError::from_redfish`], so no DMTF-shaped body ever leaves an iDRAC.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::wire::{self, message};
use super::{IdracSettings, TableFullBody, Unauthorized};
use crate::vendors::redfish::errors::RedfishError;

/// 503 when the table is full, iDRAC9 2020 firmware (stmcginnis/gofish#75, \[C\]): the
/// registry's resolution, and no final period on the envelope's `message`.
pub const RAC0218_2020: &str = r##"{"error":{"@Message.ExtendedInfo":[{"Message":"The maximum number of user sessions is reached.","MessageArgs":[],"MessageArgs@odata.count":0,"MessageId":"IDRAC.2.1.RAC0218","RelatedProperties":[],"RelatedProperties@odata.count":0,"Resolution":"Close one or more sessions before opening another session.","Severity":"Informational"}],"code":"Base.1.5.GeneralError","message":"A general error has occurred. See ExtendedInfo for more information"}}"##;

/// 503 when the table is full, 2022 report (bb-Ricardo/check_redfish#89, \[C\]; the same
/// text from an R6615 in quadsproject/badfish#447): note `[session id].Warning` without a
/// space and no final period on the envelope's `message`.
pub const RAC0218_2022: &str = r##"{"error":{"@Message.ExtendedInfo":[{"Message":"The maximum number of user sessions is reached.","MessageArgs":[],"MessageArgs@odata.count":0,"MessageId":"IDRAC.2.4.RAC0218","RelatedProperties":[],"RelatedProperties@odata.count":0,"Resolution":"Make sure that the number of active sessions is less than or equal to the threshold limit. To end a current session and start a new session, do one of the following: 1) Log out of iDRAC by using a Graphical User Interface (GUI). 2) End any unused session by running the following RACADM command at the Command Line Interface (CLI): racadm closessn -i [session id].Warning: Ending a session may abruptly stop any running operation on that specific iDRAC session.","Severity":"Informational"}],"code":"Base.1.7.GeneralError","message":"A general error has occurred. See ExtendedInfo for more information"}}"##;

/// 415 to a login POST that carries `Authorization`, iDRAC9 5.x/6.x
/// (ansible-collections/community.general#5886, \[C\]): ExtendedInfo is an object, not an
/// array, and the keys are not sorted.
pub const UNSUPPORTED_MEDIA_TYPE_2022: &str = r##"{"error":{"code":"Base.1.5.GeneralError","message":"A general error has occurred. See ExtendedInfo for more information.","@Message.ExtendedInfo":{"@odata.type":"#Message.v1_0_0.Message","MessageId":"Base.1.5.GeneralError","Message":"A general error has occurred. See Resolution for information on how to resolve the error.","Resolution":"Redfish request contains unsupported media type. Correct the request body and resubmit.","Severity":"Warning"}}}"##;

/// 401 for wrong Basic credentials on iDRAC9 (2020, dell/iDRAC-Redfish-Scripting#126, \[C\]):
/// the unsorted key order as captured. Its two ids are replaced by the profile's
/// `messages.access_denied_code` and `messages.access_denied` (the captured ones by default).
pub const ACCESS_DENIED_2020: &str = r##"{"error":{"code":"Base.1.0.GeneralError","message":"A general error has occurred. See ExtendedInfo for more information.","@Message.ExtendedInfo":[{"@odata.type":"#Message.v1_0_0.Message","MessageId":"Base.1.2.AccessDenied","Message":"The authentication credentials included with this request are missing or invalid.","MessageArgs":[],"MessageArgs@odata.count":0,"RelatedProperties":[],"RelatedProperties@odata.count":0,"Severity":"Critical","Resolution":"Attempt to ensure that the URI is correct and that the service has the appropriate credentials."}]}}"##;

/// The envelope's `message` in every captured iDRAC 2.x error (no final period).
pub const GENERAL_MESSAGE: &str =
    "A general error has occurred. See ExtendedInfo for more information";

/// Marks a response whose body is already iDRAC's, so the router's last middleware
/// leaves it alone.
#[derive(Clone, Copy, Debug)]
pub struct Rendered;

/// An error answer with its exact body.
#[derive(Clone, Debug)]
pub struct IdracError {
    /// HTTP status.
    pub status: StatusCode,
    /// The body; `None` is the empty `text/html` 401 of iDRAC8.
    pub body: Option<String>,
    /// The `MessageId` (or a short name) for logs.
    pub what: String,
}

impl IdracError {
    fn json(status: StatusCode, body: String, what: &str) -> IdracError {
        IdracError { status, body: Some(body), what: what.to_string() }
    }

    /// The iDRAC envelope around `messages`, with `code`.
    pub fn envelope(status: StatusCode, code: &str, messages: Vec<Value>) -> IdracError {
        let what = messages
            .first()
            .and_then(|m| m["MessageId"].as_str())
            .unwrap_or("GeneralError")
            .to_string();
        let body = json!({
            "error": {
                "@Message.ExtendedInfo": messages,
                "code": code,
                "message": GENERAL_MESSAGE,
            }
        });
        IdracError::json(status, wire::to_sorted_string(&body), &what)
    }

    /// The table is full: the profile's captured `RAC0218` body.
    pub fn table_full(s: &IdracSettings) -> IdracError {
        let body = match s.table_full_body {
            TableFullBody::Rac0218V2020 => RAC0218_2020,
            TableFullBody::Rac0218V2022 => RAC0218_2022,
        };
        let status =
            StatusCode::from_u16(s.table_full_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        IdracError::json(status, body.to_string(), "RAC0218")
    }

    /// 401 `SYS415`: the login's credentials are wrong.
    pub fn bad_credentials(s: &IdracSettings) -> IdracError {
        let m = &s.messages;
        IdracError::envelope(
            StatusCode::UNAUTHORIZED,
            &m.sys415_code,
            vec![message(
                &m.sys415,
                "Unable to complete the operation because an invalid username and/or password \
                 is entered, and therefore authentication failed.",
                &[],
                "Enter valid user name and password and retry the operation.",
                "Warning",
            )],
        )
    }

    /// `SYS468`: the login POST carried an `Authorization` header (iDRAC 7.00.60).
    pub fn authorization_on_login(s: &IdracSettings) -> IdracError {
        let m = &s.messages;
        let body = json!({
            "error": {
                "@Message.ExtendedInfo": [message(
                    &m.sys468,
                    "Unable to complete the operation because the Authorization request header \
                     is present in the request.",
                    &[],
                    "Make sure that the Authorization request header is not included and retry \
                     the operation. For information about the necessary headers, see the Redfish \
                     specification and Redfish User's Guide available on the support site.",
                    "Informational",
                )],
                "code": m.sys468_code,
                "message": m.sys468_message,
            }
        });
        let status = StatusCode::from_u16(s.sys468_status).unwrap_or(StatusCode::BAD_REQUEST);
        IdracError::json(status, wire::to_sorted_string(&body), "SYS468")
    }

    /// 415 with the captured non-array ExtendedInfo (iDRAC9 5.x and 6.x).
    pub fn unsupported_media_type() -> IdracError {
        IdracError::json(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            UNSUPPORTED_MEDIA_TYPE_2022.to_string(),
            "GeneralError (415)",
        )
    }

    /// 401 to a request without valid credentials (a dead or unknown token).
    pub fn unauthorized(s: &IdracSettings) -> IdracError {
        match s.unauthorized {
            Unauthorized::EmptyHtml => IdracError {
                status: StatusCode::UNAUTHORIZED,
                body: None,
                what: "401 (text/html)".to_string(),
            },
            Unauthorized::AccessDenied => {
                let body = ACCESS_DENIED_2020
                    .replace("Base.1.0.GeneralError", &s.messages.access_denied_code)
                    .replace("Base.1.2.AccessDenied", &s.messages.access_denied);
                IdracError::json(StatusCode::UNAUTHORIZED, body, "AccessDenied")
            }
        }
    }

    /// 405 `SYS402` (text captured from iDRAC8 2.70, dellemc-openmanage-ansible-modules#90).
    pub fn method_not_allowed(s: &IdracSettings) -> IdracError {
        let m = &s.messages;
        IdracError::envelope(
            StatusCode::METHOD_NOT_ALLOWED,
            &m.general_error_code,
            vec![message(
                &format!("{}.SYS402", m.idrac_registry),
                "Unable to run the method because the requested HTTP method is not allowed.",
                &[],
                "Enter a valid HTTP method and retry the operation. For information about valid \
                 methods, see the Redfish Users Guide available on the support site.",
                "Informational",
            )],
        )
    }

    /// A Base registry message in the iDRAC envelope.
    pub fn base(
        s: &IdracSettings,
        status: StatusCode,
        key: &str,
        text: &str,
        args: &[String],
        resolution: &str,
        severity: &str,
    ) -> IdracError {
        let id = format!("{}.{key}", s.messages.base_registry);
        IdracError::envelope(
            status,
            &s.messages.general_error_code,
            vec![message(&id, text, args, resolution, severity)],
        )
    }

    /// 404 for a URI the service does not serve, or a member that is gone.
    pub fn not_found(s: &IdracSettings, uri: &str) -> IdracError {
        IdracError::base(
            s,
            StatusCode::NOT_FOUND,
            "ResourceMissingAtURI",
            &format!("The resource at the URI {uri} was not found."),
            &[uri.to_string()],
            "Place a valid resource at the URI or correct the URI and resubmit the request.",
            "Critical",
        )
    }

    /// The standard personality's error in the iDRAC envelope: 401 and 405 and a full
    /// table get iDRAC's own answers; anything else keeps its Base messages.
    pub fn from_redfish(s: &IdracSettings, error: &RedfishError) -> IdracError {
        let keys = error.keys();
        match error.status {
            StatusCode::UNAUTHORIZED => IdracError::unauthorized(s),
            StatusCode::METHOD_NOT_ALLOWED => IdracError::method_not_allowed(s),
            _ if keys.contains(&"SessionLimitExceeded") => IdracError::table_full(s),
            status => {
                let registry = &s.messages.base_registry;
                let messages = error
                    .messages
                    .iter()
                    .map(|m| message(&m.id(registry), &m.text(), &m.args, m.resolution, m.severity))
                    .collect();
                IdracError::envelope(status, &s.messages.general_error_code, messages)
            }
        }
    }
}

impl IntoResponse for IdracError {
    fn into_response(self) -> Response {
        let (body, content_type) = match self.body {
            Some(body) => (Body::from(body), "application/json"),
            None => (Body::empty(), "text/html"),
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response.extensions_mut().insert(Rendered);
        tracing::debug!(status = self.status.as_u16(), what = %self.what, "idrac: error");
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The literal bodies are valid JSON, and the two RAC0218 quirks are intact.
    #[test]
    fn captured_bodies_parse_and_keep_their_quirks() {
        for body in [RAC0218_2020, RAC0218_2022, UNSUPPORTED_MEDIA_TYPE_2022, ACCESS_DENIED_2020] {
            serde_json::from_str::<Value>(body).expect("valid JSON");
        }
        assert!(RAC0218_2022.contains("racadm closessn -i [session id].Warning: Ending"));
        assert!(RAC0218_2022.ends_with(
            r#""message":"A general error has occurred. See ExtendedInfo for more information"}}"#
        ));
    }

    /// A built envelope matches the captured RAC0218 byte for byte when given its parts:
    /// the sorted writer reproduces iDRAC's serialisation.
    #[test]
    fn built_envelopes_serialise_like_captured_ones() {
        let built = IdracError::envelope(
            StatusCode::SERVICE_UNAVAILABLE,
            "Base.1.5.GeneralError",
            vec![message(
                "IDRAC.2.1.RAC0218",
                "The maximum number of user sessions is reached.",
                &[],
                "Close one or more sessions before opening another session.",
                "Informational",
            )],
        );
        assert_eq!(built.body.as_deref(), Some(RAC0218_2020));
    }
}
