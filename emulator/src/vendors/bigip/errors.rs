//! The iControl REST error envelope and the iControl SOAP fault.
//!
//! REST (bigip-solace.md 1.6, [C]): every error is
//! `{"code": <status>, "message": "...", "referer": "<client IP>", "restOperationId": <int>,
//! "kind": ":resterrorresponse"}`, with `originalRequestBody` after `message` on a failed
//! login. The referer and operation id are known only to the router, so a [`RestError`]
//! is built without them and rendered by the router's last middleware
//! ([`super::routes::finish`]); rendered on its own it uses `127.0.0.1` and 0.
//!
//! SOAP (bigip-solace.md 1.8): a SOAP 1.1 `Fault` whose `faultstring` has the iControl
//! layout (`Exception caught in ...`, `Exception: Common::...`, the error codes and
//! `error_string`), sent with HTTP 500.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// `kind` of every iControl REST error body ([C]).
pub const ERROR_KIND: &str = ":resterrorresponse";

/// Content type of every iControl REST JSON body.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// Content type of SOAP answers.
pub const XML_CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// An iControl REST error before the router fills in `referer` and `restOperationId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestError {
    /// HTTP status; also the body's `code`.
    pub status: StatusCode,
    /// `message`.
    pub message: String,
    /// `originalRequestBody`: the request as the device read it, never with a password.
    pub original_request_body: Option<String>,
    /// Whether to add `WWW-Authenticate: Basic` (missing or wrong Basic credentials).
    pub challenge: bool,
    /// Whether to answer with httpd's HTML 401 page instead of JSON.
    pub html: bool,
    /// A reason phrase other than the standard one (`F5 Authorization Required`).
    pub reason_phrase: Option<&'static str>,
}

/// The wire form, in the captured key order.
#[derive(Serialize)]
struct Envelope<'a> {
    code: u16,
    message: &'a str,
    #[serde(rename = "originalRequestBody", skip_serializing_if = "Option::is_none")]
    original_request_body: Option<&'a str>,
    referer: &'a str,
    #[serde(rename = "restOperationId")]
    rest_operation_id: u64,
    kind: &'static str,
}

/// httpd's 401 page (Apache's stock text).
const APACHE_401: &str = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n\
<title>401 Unauthorized</title>\n</head><body>\n<h1>Unauthorized</h1>\n<p>This server could \
not verify that you\nare authorized to access the document\nrequested.  Either you supplied \
the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn't understand how to \
supply\nthe credentials required.</p>\n</body></html>\n";

impl RestError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> RestError {
        RestError {
            status,
            message: message.into(),
            original_request_body: None,
            challenge: false,
            html: false,
            reason_phrase: None,
        }
    }

    /// 401 with `message`.
    pub fn unauthorized(message: impl Into<String>) -> RestError {
        RestError::new(StatusCode::UNAUTHORIZED, message)
    }

    /// The same error with its own reason phrase on the status line.
    pub fn with_reason_phrase(mut self, phrase: &'static str) -> RestError {
        self.reason_phrase = Some(phrase);
        self
    }

    /// 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> RestError {
        RestError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> RestError {
        RestError::new(StatusCode::NOT_FOUND, message)
    }

    /// 500: something the emulator did not expect.
    pub fn internal() -> RestError {
        RestError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }

    /// With `originalRequestBody`.
    pub fn with_request_body(mut self, body: String) -> RestError {
        self.original_request_body = Some(body);
        self
    }

    /// With `WWW-Authenticate: Basic`.
    pub fn with_challenge(mut self) -> RestError {
        self.challenge = true;
        self
    }

    /// The body, for a client at `referer` and operation `rest_operation_id`.
    pub fn body(&self, referer: &str, rest_operation_id: u64) -> Vec<u8> {
        if self.html {
            return APACHE_401.as_bytes().to_vec();
        }
        let envelope = Envelope {
            code: self.status.as_u16(),
            message: &self.message,
            original_request_body: self.original_request_body.as_deref(),
            referer,
            rest_operation_id,
            kind: ERROR_KIND,
        };
        serde_json::to_vec(&envelope).unwrap_or_default()
    }

    /// The full response, with `realm` for the Basic challenge.
    pub fn render(&self, referer: &str, rest_operation_id: u64, realm: &str) -> Response {
        let mut response = Response::new(Body::from(self.body(referer, rest_operation_id)));
        *response.status_mut() = self.status;
        let content_type =
            if self.html { "text/html; charset=iso-8859-1" } else { JSON_CONTENT_TYPE };
        if let Some(phrase) = self.reason_phrase {
            response
                .extensions_mut()
                .insert(hyper::ext::ReasonPhrase::from_static(phrase.as_bytes()));
        }
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if self.challenge {
            let realm = realm.replace(['"', '\\'], "");
            if let Ok(value) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\"")) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

/// Marks a response as a [`RestError`] the router's last middleware must render with the
/// client's address and an operation id.
#[derive(Clone, Debug)]
pub struct PendingError(pub RestError);

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let mut response = self.render("127.0.0.1", 0, "");
        response.extensions_mut().insert(PendingError(self));
        response
    }
}

/// One iControl SOAP fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoapFault {
    /// `faultcode` without prefix: `Server` (the method failed) or `Client` (the request
    /// could not be read).
    pub code: &'static str,
    /// `faultstring`, unescaped.
    pub string: String,
    /// HTTP status (500 for every SOAP 1.1 fault).
    pub status: StatusCode,
}

impl SoapFault {
    /// A fault in the iControl layout: `Exception caught in <module>::urn:iControl:
    /// <module>/<interface>::<method>()`, the exception, the codes and `error_string`.
    pub fn icontrol(
        interface: &str,
        method: &str,
        exception: &str,
        primary_error_code: u32,
        error_string: &str,
    ) -> SoapFault {
        let module = interface.split('/').next().unwrap_or(interface);
        let string = format!(
            "Exception caught in {module}::urn:iControl:{interface}::{method}()\n\
             Exception: Common::{exception}\n\
             \tprimary_error_code   : {primary_error_code} (0x{primary_error_code:08X})\n\
             \tsecondary_error_code : 0\n\
             \terror_string         : {error_string}"
        );
        SoapFault { code: "Server", string, status: StatusCode::INTERNAL_SERVER_ERROR }
    }

    /// A fault about the request itself (unreadable XML, unknown method).
    pub fn client(string: impl Into<String>) -> SoapFault {
        SoapFault {
            code: "Client",
            string: string.into(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The fault envelope.
    pub fn xml(&self) -> String {
        let body = format!(
            "<E:Fault>\n<faultcode>E:{}</faultcode>\n<faultstring>{}</faultstring>\n</E:Fault>",
            self.code,
            quick_xml::escape::escape(self.string.as_str())
        );
        super::soap::envelope(&body)
    }
}

impl IntoResponse for SoapFault {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.xml()));
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(XML_CONTENT_TYPE));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The envelope keeps the captured key order, `originalRequestBody` after `message`
    /// (bigip-solace.md 1.1, `exampleAuthRespFailed`).
    #[test]
    fn envelope_has_the_captured_key_order() {
        let e = RestError::unauthorized("Authentication failed.")
            .with_request_body("{\"username\":\"admin\"}".to_string());
        let text = String::from_utf8(e.body("192.168.200.20", 36136900)).unwrap();
        assert_eq!(
            text,
            "{\"code\":401,\"message\":\"Authentication failed.\",\"originalRequestBody\":\
             \"{\\\"username\\\":\\\"admin\\\"}\",\"referer\":\"192.168.200.20\",\
             \"restOperationId\":36136900,\"kind\":\":resterrorresponse\"}"
        );
    }

    /// The faultstring follows the captured iControl layout (bigip-solace.md 1.8).
    #[test]
    fn fault_string_has_the_icontrol_layout() {
        let f = SoapFault::icontrol(
            "LocalLB/Pool",
            "get_active_member_count",
            "OperationFailed",
            16908342,
            "01020036:3: The requested pool (/EXAMPLE/www.example.com) was not found.",
        );
        assert_eq!(
            f.string,
            "Exception caught in LocalLB::urn:iControl:LocalLB/Pool::get_active_member_count()\n\
             Exception: Common::OperationFailed\n\
             \tprimary_error_code   : 16908342 (0x01020036)\n\
             \tsecondary_error_code : 0\n\
             \terror_string         : 01020036:3: The requested pool \
             (/EXAMPLE/www.example.com) was not found."
        );
    }
}
