//! The SEMP error envelope.
//!
//! bigip-solace.md 2.5 [P]: `{"meta": {"error": {"code", "description", "status"},
//! "request": {"method", "uri"}, "responseCode"}}`, every field required; not found is
//! HTTP and `responseCode` 400 with code 6 `NOT_FOUND` [P][C]. The other codes and terse
//! statuses are those of Solace's "SEMP Error Handling" page
//! (<https://docs.solace.com/Admin/SEMP/SEMP-Error-Handling.htm>, [P]): 2 `FAIL`,
//! 6 `NOT_FOUND`, 11 `INVALID_PARMETER` (sic), 14 `NOT_SUPPORTED`, 27 `PARSE_ERROR`,
//! 72 `UNAUTHORIZED`, 89 `NOT_ALLOWED`. The page says failures are answered 400, 401 or
//! 500. Descriptions are free text that "might change over time"; ours say what happened.
//!
//! `meta.request` names the request, which a handler does not know, so a [`SempError`]
//! renders as a response carrying a [`PendingError`] extension, and the router's last
//! middleware renders the envelope with the request filled in.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::{ErrorSpec, SolaceSettings};

/// `FAIL`: the general failure code.
pub const FAIL: i64 = 2;
/// `NOT_FOUND`: the object or its parent does not exist.
pub const NOT_FOUND: i64 = 6;
/// `INVALID_PARMETER`: an attribute or parameter is unexpected or its value is bad.
pub const INVALID_PARAMETER: i64 = 11;
/// `NOT_SUPPORTED`: a request or attribute that is not supported.
pub const NOT_SUPPORTED: i64 = 14;
/// `PARSE_ERROR`: the request or its JSON payload is malformed.
pub const PARSE_ERROR: i64 = 27;
/// `UNAUTHORIZED`: the access level is not sufficient.
pub const UNAUTHORIZED: i64 = 72;
/// `NOT_ALLOWED`: the broker's state does not allow the request.
pub const NOT_ALLOWED: i64 = 89;

/// One SEMP error: the HTTP status and the `meta.error` object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SempError {
    /// HTTP status, also `meta.responseCode`.
    pub http: StatusCode,
    /// `meta.error.code`.
    pub code: i64,
    /// `meta.error.status`.
    pub status: String,
    /// `meta.error.description`.
    pub description: String,
    /// Extra response headers (`WWW-Authenticate`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Marks a response as a SEMP error for the router's last middleware to render.
#[derive(Clone, Debug)]
pub struct PendingError(pub SempError);

impl SempError {
    /// An error with these parts.
    pub fn new(http: StatusCode, code: i64, status: &str, description: impl Into<String>) -> Self {
        SempError {
            http,
            code,
            status: status.to_string(),
            description: description.into(),
            headers: Vec::new(),
        }
    }

    /// An error as a profile describes it.
    pub fn from_spec(spec: &ErrorSpec) -> SempError {
        let http = StatusCode::from_u16(spec.http_status).unwrap_or(StatusCode::BAD_REQUEST);
        SempError::new(http, spec.code, &spec.status, spec.description.clone())
    }

    /// 400, code 6 `NOT_FOUND` [P][C].
    pub fn not_found(description: impl Into<String>) -> SempError {
        SempError::new(StatusCode::BAD_REQUEST, NOT_FOUND, "NOT_FOUND", description)
    }

    /// No object at `path`: the URI names nothing this broker serves.
    pub fn no_such_path(path: &str) -> SempError {
        SempError::not_found(format!("Could not find match for path {path}"))
    }

    /// 400, code 27 `PARSE_ERROR`.
    pub fn parse_error(description: impl Into<String>) -> SempError {
        SempError::new(StatusCode::BAD_REQUEST, PARSE_ERROR, "PARSE_ERROR", description)
    }

    /// 400, code 11 with the profile's terse status.
    pub fn invalid_parameter(settings: &SolaceSettings, description: impl Into<String>) -> Self {
        SempError::new(
            StatusCode::BAD_REQUEST,
            INVALID_PARAMETER,
            &settings.invalid_parameter_status,
            description,
        )
    }

    /// 400, code 14 `NOT_SUPPORTED`.
    pub fn not_supported(description: impl Into<String>) -> SempError {
        SempError::new(StatusCode::BAD_REQUEST, NOT_SUPPORTED, "NOT_SUPPORTED", description)
    }

    /// 400, code 89 `NOT_ALLOWED`.
    pub fn not_allowed(description: impl Into<String>) -> SempError {
        SempError::new(StatusCode::BAD_REQUEST, NOT_ALLOWED, "NOT_ALLOWED", description)
    }

    /// 400, code 2 `FAIL`.
    pub fn fail(description: impl Into<String>) -> SempError {
        SempError::new(StatusCode::BAD_REQUEST, FAIL, "FAIL", description)
    }

    /// 500, code 2 `FAIL`: the emulator could not build its answer.
    pub fn internal(description: impl Into<String>) -> SempError {
        SempError::new(StatusCode::INTERNAL_SERVER_ERROR, FAIL, "FAIL", description)
    }

    /// The profile's answer to missing, wrong or dead credentials.
    pub fn unauthorized(settings: &SolaceSettings) -> SempError {
        let mut error = SempError::from_spec(&settings.unauthorized);
        if !settings.www_authenticate.is_empty() {
            if let Ok(value) = HeaderValue::from_str(&settings.www_authenticate) {
                error.headers.push((axum::http::header::WWW_AUTHENTICATE, value));
            }
        }
        error
    }

    /// The profile's answer when no session slot is free (529 `No SEMP Session
    /// Available` [P]).
    pub fn session_limit(settings: &SolaceSettings) -> SempError {
        SempError::from_spec(&settings.session_limit)
    }

    /// The profile's answer when the access level is too low; `needed` names it.
    pub fn access_denied(settings: &SolaceSettings, needed: &str) -> SempError {
        let mut error = SempError::from_spec(&settings.access_denied);
        if error.description.is_empty() {
            error.description = format!("global/{needed} access is required");
        }
        error
    }

    /// The envelope for a request `method uri`.
    pub fn envelope(&self, method: &str, uri: &str) -> Value {
        json!({
            "meta": {
                "error": {
                    "code": self.code,
                    "description": self.description,
                    "status": self.status,
                },
                "request": { "method": method, "uri": uri },
                "responseCode": self.http.as_u16(),
            }
        })
    }
}

impl IntoResponse for SempError {
    /// A response whose body names no request; the router's middleware re-renders it
    /// with the request once it sees the [`PendingError`].
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.envelope("", "")).unwrap_or_default();
        let mut response = Response::new(axum::body::Body::from(body));
        *response.status_mut() = self.http;
        let headers = response.headers_mut();
        headers
            .insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        response.extensions_mut().insert(PendingError(self));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// bigip-solace.md 2.5: not found is 400 with code 6 `NOT_FOUND`, and the envelope
    /// carries `code`, `description`, `status`, `request` and `responseCode`.
    #[test]
    fn not_found_is_400_code_6() {
        let body = SempError::not_found("x").envelope("GET", "/SEMP/v2/monitor/x");
        assert_eq!(
            body,
            json!({"meta": {
                "error": {"code": 6, "description": "x", "status": "NOT_FOUND"},
                "request": {"method": "GET", "uri": "/SEMP/v2/monitor/x"},
                "responseCode": 400,
            }})
        );
    }

    /// bigip-solace.md 2.2: a full table is 529 with `No SEMP Session Available`.
    #[test]
    fn default_session_limit_is_529() {
        let e = SempError::session_limit(&SolaceSettings::default());
        assert_eq!(e.http.as_u16(), 529);
        assert_eq!(e.description, "No SEMP Session Available");
    }
}
