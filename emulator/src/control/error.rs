//! The control API's one error shape: `{"error": {"code": "...", "message": "..."}}`.
//!
//! Every failure of the control API, including malformed requests, unknown paths and
//! wrong methods, is answered in this shape with a fitting status. Messages never carry a
//! password or a token; only 5xx errors are logged, and only with their code and message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::session::{AccountError, LoginError, NoSuchSession};

/// A failed control request: status, a stable machine-readable code and a message for
/// people, plus optional structured details.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Option<serde_json::Value>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), details: None }
    }

    /// Adds structured details (`error.details`).
    pub fn with_details(mut self, details: serde_json::Value) -> ApiError {
        self.details = Some(details);
        self
    }

    /// Its code.
    #[cfg(test)]
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// 400 `bad-json`: the body is not JSON.
    pub fn bad_json(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-json", message)
    }

    /// 400 `bad-field`: the JSON is well-formed but a field is missing, unknown or wrong.
    pub fn bad_field(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-field", message)
    }

    /// 400 `bad-parameter`: a path segment or query parameter is wrong.
    pub fn bad_parameter(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-parameter", message)
    }

    /// 404 `device-not-found`.
    pub fn device_not_found(name: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "device-not-found", format!("no device {name:?}"))
    }

    /// 404 `session-not-found`.
    pub fn session_not_found(device: &str, id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "session-not-found",
            format!("device {device:?} has no open session {id:?}"),
        )
    }

    /// 404 `user-not-found`.
    pub fn user_not_found(device: &str, user: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "user-not-found",
            format!("device {device:?} has no account {user:?}"),
        )
    }

    /// 500 `internal`: a case the control API does not know how to answer.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// An account operation failed on `device`.
    pub fn account(device: &str, err: AccountError) -> ApiError {
        match err {
            AccountError::NotFound(user) => ApiError::user_not_found(device, &user),
            AccountError::Exists(user) => ApiError::new(
                StatusCode::CONFLICT,
                "user-exists",
                format!("device {device:?} already has an account {user:?}"),
            ),
            AccountError::InvalidName(user) => {
                ApiError::bad_field(format!("invalid user name {user:?}"))
            }
        }
    }

    /// Opening a session for `user` failed on `device`.
    pub fn login(device: &str, user: &str, err: LoginError) -> ApiError {
        match err {
            // `open_for` checks no password: this only means the account does not exist.
            LoginError::BadCredentials => ApiError::user_not_found(device, user),
            LoginError::LimitReached { scope, limit } => {
                let mut details = serde_json::to_value(&scope).unwrap_or_default();
                if let Some(map) = details.as_object_mut() {
                    map.insert("limit".to_string(), limit.into());
                }
                ApiError::new(
                    StatusCode::CONFLICT,
                    "session-limit",
                    format!("device {device:?}: session limit reached ({scope}, limit {limit})"),
                )
                .with_details(details)
            }
        }
    }

    /// Ending a session failed on `device`.
    pub fn no_session(device: &str, err: NoSuchSession) -> ApiError {
        ApiError::session_not_found(device, &err.0)
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "control API error");
        } else {
            tracing::debug!(status = self.status.as_u16(), code = self.code, "control API refusal");
        }
        let body = Envelope {
            error: Body { code: self.code, message: &self.message, details: self.details.as_ref() },
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// The answer to a path nothing is routed on.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("no control route {}; see /_sessionlab/openapi.json", uri.path()),
    )
}

/// The answer to a routed path called with a method it does not take (axum adds `Allow`).
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("{} does not take {method}; see the Allow header", uri.path()),
    )
}
