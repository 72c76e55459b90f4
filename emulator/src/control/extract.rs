//! Extractors that answer bad input in the control API's JSON error shape instead of
//! axum's plain-text rejections. [`Json`] also renders answers, so handlers use one type
//! both ways.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::ApiError;

/// The largest request body the control API reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON request body or answer. As a body, any `Content-Type` is accepted (so
/// `curl -d` works); the body must be JSON of the expected shape.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload-too-large",
                    format!("the request body is larger than {BODY_LIMIT} bytes"),
                )
            } else {
                ApiError::bad_json(format!(
                    "cannot read the request body: {}",
                    rejection.body_text()
                ))
            }
        })?;
        parse(&bytes).map(Json)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Parses a JSON body: malformed JSON is `bad-json`, a wrong shape `bad-field`.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_json("the request body is empty; expected a JSON object"));
    }
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::bad_field(e.to_string()),
        _ => ApiError::bad_json(format!("malformed JSON: {e}")),
    })
}

/// Path parameters.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) if rejection.status().is_server_error() => {
                Err(ApiError::internal(rejection.body_text()))
            }
            Err(rejection) => Err(ApiError::bad_parameter(rejection.body_text())),
        }
    }
}

/// Query parameters.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| ApiError::bad_parameter(rejection.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        user: String,
    }

    /// Malformed JSON and a wrong shape are told apart.
    #[test]
    fn malformed_json_and_wrong_fields_get_different_codes() {
        let code = |text: &str| parse::<Body>(text.as_bytes()).unwrap_err().code();
        assert_eq!(code("{"), "bad-json");
        assert_eq!(code("  "), "bad-json");
        assert_eq!(code("{}"), "bad-field");
        assert_eq!(code(r#"{"user": 1}"#), "bad-field");
        assert_eq!(code(r#"{"user": "a", "x": 1}"#), "bad-field");
        assert!(parse::<Body>(br#"{"user": "a"}"#).is_ok());
    }
}
