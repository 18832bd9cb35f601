//! `ApiError`: every error answer the gateway gives, in one shape and one `match`.
//!
//! The body is always `{"error": {"code": "...", "message": "..."}}`, a wrong method's 405
//! included. A 5xx body says nothing internal; its cause chain is logged once, here.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use common::api::{codes, ErrorBody, ErrorDetail};
use serde::de::DeserializeOwned;

use crate::error::Error;

/// An error on its way to becoming an HTTP answer.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::BytesRejection(_)
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Error::TooLarge("the request body is too large".into())
            }
            JsonRejection::MissingJsonContentType(_) => {
                Error::Invalid("send the body as JSON with `Content-Type: application/json`".into())
            }
            other => Error::Invalid(format!("the JSON body is not valid: {}", other.body_text())),
        }
    }
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Error::Invalid(format!(
            "the query string is not valid: {}",
            rejection.body_text()
        ))
    }
}

impl From<PathRejection> for Error {
    fn from(rejection: PathRejection) -> Self {
        Error::Invalid(format!(
            "the URL path is not valid: {}",
            rejection.body_text()
        ))
    }
}

impl ApiError {
    /// The status and the body this error answers with; a 5xx is logged here, with its cause
    /// chain, and its body says nothing internal. A batch answers each item's error so.
    pub fn answer(&self) -> (StatusCode, ErrorDetail) {
        let (status, code) = match &self.0 {
            Error::Invalid(_) => (StatusCode::BAD_REQUEST, codes::INVALID),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, codes::FORBIDDEN),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, codes::NOT_FOUND),
            Error::Conflict(_) => (StatusCode::CONFLICT, codes::CONFLICT),
            Error::Gone(_) => (StatusCode::GONE, codes::GONE),
            Error::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, codes::PAYLOAD_TOO_LARGE),
            Error::QuotaExceeded(_) => (StatusCode::PAYLOAD_TOO_LARGE, codes::QUOTA_EXCEEDED),
            Error::Integrity(_) => (StatusCode::UNPROCESSABLE_ENTITY, codes::INTEGRITY),
            Error::InsufficientStorage(_) => (
                StatusCode::INSUFFICIENT_STORAGE,
                codes::INSUFFICIENT_STORAGE,
            ),
            Error::TimedOut(_) => (StatusCode::REQUEST_TIMEOUT, codes::REQUEST_TIMEOUT),
            Error::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, codes::RATE_LIMITED),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, codes::UNAVAILABLE),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, codes::INTERNAL),
        };
        let message = match &self.0 {
            Error::Unavailable(_) => "a backing store is unavailable; try again shortly".to_owned(),
            Error::Internal(_) => "something went wrong on our side; it has been logged".to_owned(),
            other => other.to_string(),
        };
        if status.is_server_error() {
            tracing::error!(error = %self.0.report(), "request failed");
        }
        let detail = ErrorDetail {
            code: code.to_owned(),
            message,
        };
        (status, detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, detail) = self.answer();
        let mut response = error_response(status, &detail.code, detail.message);
        if let Error::RateLimited { retry_after } = &self.0 {
            let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The JSON error answer `{"error": {"code": code, "message": message}}` with `status`.
fn error_response(status: StatusCode, code: &str, message: String) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message,
        },
    };
    (status, Json(body)).into_response()
}

/// A JSON body extractor whose rejections are [`ApiError`]s. The body must be a JSON object:
/// serde would also read a struct from an array of its fields in order (`[null, null]`), which
/// no request of this API is.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<serde_json::Value>::from_request(request, state)
            .await
            .map_err(Error::from)?;
        Ok(Self(from_object(value)?))
    }
}

/// `value` as a `T`, if it is a JSON object that reads as one.
pub fn from_object<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Error> {
    if !value.is_object() {
        return Err(Error::Invalid(
            "the JSON body is not valid: it must be an object".into(),
        ));
    }
    // The error names the field it is about (`notifications.activity_mail: ...`).
    serde_path_to_error::deserialize(integral(value))
        .map_err(|error| Error::Invalid(format!("the JSON body is not valid: {error}")))
}

/// `value` with every number that is a whole number written as an integer: JSON does not tell
/// `1232.0` from `1232`, and every number of this API is a count.
fn integral(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(number) => match number.as_f64() {
            Some(float)
                if !number.is_u64()
                    && !number.is_i64()
                    && float.fract() == 0.0
                    && (0.0..=u64::MAX as f64).contains(&float) =>
            {
                Value::from(float as u64)
            }
            _ => Value::Number(number),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(integral).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (name, integral(value)))
                .collect(),
        ),
        other => other,
    }
}

/// A query-string extractor whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct QueryParams<T>(pub T);

/// A path-parameters extractor whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct PathParams<T>(pub T);

/// The answer to a route that does not exist.
pub async fn not_found() -> ApiError {
    ApiError(Error::NotFound("no such endpoint".into()))
}

/// The answer to a route that exists but not with this method. Not an [`Error`]: no service
/// call can end this way. axum adds the `Allow` header to it.
pub async fn method_not_allowed(method: Method) -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::METHOD_NOT_ALLOWED,
        format!(
            "this endpoint does not take {method}; the Allow header lists the methods it takes"
        ),
    )
}
