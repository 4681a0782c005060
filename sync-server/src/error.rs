//! The one error type of the HTTP API.
//!
//! A client error says what to do about it: a stable machine-readable `code` the apps switch
//! on, and a `detail` sentence for people. An internal failure is logged in full on the
//! server and answered with an opaque 500, so no SQL, path or stack ever reaches a client.
//! Details never echo a password or a token.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::InvalidValue;
use crate::store::StoreError;

pub use fieldsales_core::sync::ErrorCode;

/// The body of every error answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub detail: String,
    /// The request field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answer of the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A client error: status, code and a sentence.
    #[error("{code:?}: {detail}")]
    Client {
        /// HTTP status.
        status: StatusCode,
        /// Machine-readable reason.
        code: ErrorCode,
        /// Human-readable sentence.
        detail: String,
        /// The field at fault.
        field: Option<String>,
    },
    /// Not now: too many attempts (429) or too much load (503); `Retry-After` says when.
    #[error("{code:?}: {detail} (retry after {retry_after_secs} s)")]
    Later {
        /// HTTP status.
        status: StatusCode,
        /// Machine-readable reason.
        code: ErrorCode,
        /// Human-readable sentence.
        detail: String,
        /// Seconds to wait before trying again.
        retry_after_secs: u64,
    },
    /// A server failure: logged, answered opaquely.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// A client error.
    pub fn client(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::Client {
            status,
            code,
            detail: detail.into(),
            field: None,
        }
    }

    /// A request field with a bad value.
    pub fn invalid_field(field: &str, why: &InvalidValue) -> Self {
        ApiError::Client {
            status: StatusCode::BAD_REQUEST,
            code: ErrorCode::InvalidField,
            detail: format!("{field}: {}", why.reason),
            field: Some(field.to_owned()),
        }
    }

    /// Too much load right now: 503 `overloaded`, retry after `secs`.
    pub fn overloaded(detail: impl Into<String>, secs: u64) -> Self {
        ApiError::Later {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: ErrorCode::Overloaded,
            detail: detail.into(),
            retry_after_secs: secs,
        }
    }

    /// A server failure.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(e))
    }

    /// The code answered.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Client { code, .. } | ApiError::Later { code, .. } => *code,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The status answered.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Client { status, .. } | ApiError::Later { status, .. } => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Client {
                status,
                code,
                detail,
                field,
            } => {
                let mut response = (
                    status,
                    Json(ErrorBody {
                        code,
                        detail,
                        field,
                    }),
                )
                    .into_response();
                if status == StatusCode::UNAUTHORIZED {
                    // RFC 6750: tell the client which scheme to use.
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Bearer realm=\"fieldsales\""),
                    );
                }
                response
            }
            ApiError::Later {
                status,
                code,
                detail,
                retry_after_secs,
            } => {
                let mut response = (
                    status,
                    Json(ErrorBody {
                        code,
                        detail,
                        field: None,
                    }),
                )
                    .into_response();
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after_secs.max(1)),
                );
                response
            }
            ApiError::Internal(source) => {
                tracing::error!(error = %source, cause = ?source.source(), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(ErrorBody {
                        code: ErrorCode::Internal,
                        detail: "internal server error".to_owned(),
                        field: None,
                    }),
                )
                    .into_response()
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::LoginTaken { login } => ApiError::Client {
                status: StatusCode::CONFLICT,
                code: ErrorCode::LoginTaken,
                detail: format!("login `{login}` is taken in this tenant"),
                field: Some("login".to_owned()),
            },
            StoreError::ProfileTaken { profile_id } => ApiError::Client {
                status: StatusCode::CONFLICT,
                code: ErrorCode::ProfileTaken,
                detail: format!("profile {profile_id} has an account already"),
                field: Some("profile_id".to_owned()),
            },
            StoreError::AccountNotFound { account_id } => ApiError::client(
                StatusCode::NOT_FOUND,
                ErrorCode::AccountNotFound,
                format!("no account {account_id} in this tenant"),
            ),
            StoreError::DeviceNotFound { device_id } => ApiError::client(
                StatusCode::NOT_FOUND,
                ErrorCode::DeviceNotFound,
                format!("no device {device_id} in this tenant"),
            ),
            StoreError::DeviceUnavailable { device_id } => ApiError::client(
                StatusCode::UNAUTHORIZED,
                ErrorCode::DeviceRevoked,
                format!("device {device_id} was revoked: wipe local data and sign in afresh"),
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::auth::PasswordError> for ApiError {
    fn from(e: crate::auth::PasswordError) -> Self {
        match e {
            crate::auth::PasswordError::Busy => {
                ApiError::overloaded("too many sign-ins at once: try again in a moment", 1)
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let (status, code) = match &rejection {
            JsonRejection::JsonSyntaxError(_) => {
                (StatusCode::BAD_REQUEST, ErrorCode::MalformedBody)
            }
            JsonRejection::JsonDataError(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidBody),
            JsonRejection::MissingJsonContentType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::BodyTooLarge)
            }
            _ => (StatusCode::BAD_REQUEST, ErrorCode::MalformedBody),
        };
        ApiError::client(status, code, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::client(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidPath,
            rejection.body_text(),
        )
    }
}

/// A JSON body whose rejections are [`ApiError`]s (axum's own are plain text).
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// Path parameters whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Answers requests to unknown endpoints in the API's error shape.
pub async fn not_found() -> ApiError {
    ApiError::client(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such endpoint",
    )
}

/// Answers a known endpoint called with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::client(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        "this endpoint does not take that method",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn an_internal_failure_is_an_opaque_500_whatever_its_cause_says() {
        let cause = std::io::Error::other("SELECT password_hash FROM account: disk I/O error");
        let response = ApiError::internal(cause).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_of(response).await;
        assert_eq!(body["code"], "internal");
        assert_eq!(body["detail"], "internal server error");
        assert!(!body.to_string().contains("password_hash"));
    }

    #[tokio::test]
    async fn storage_failures_that_are_not_the_callers_fault_are_internal() {
        let err: ApiError = StoreError::Corrupt {
            detail: "account 1 login".to_owned(),
        }
        .into();
        assert_eq!(err.code(), ErrorCode::Internal);
        let err: ApiError = StoreError::LoginTaken {
            login: crate::model::Login::parse("li.na").unwrap(),
        }
        .into();
        assert_eq!(err.status(), StatusCode::CONFLICT);
        let body = body_of(err.into_response()).await;
        assert_eq!(body["code"], "login_taken");
        assert_eq!(body["field"], "login");
    }
}
