//! Health, metrics and the API description.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fieldsales_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiJson, ErrorBody, ErrorCode};
use crate::state::AppState;

/// The server is up and its storage answers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// Always `ok`.
    pub status: String,
    /// The server's clock (UTC milliseconds).
    #[schema(value_type = i64)]
    pub server_time: Timestamp,
}

/// Whether the server can serve: checks that storage answers reads and writes.
#[utoipa::path(
    get,
    path = "/health",
    tag = "ops",
    responses(
        (status = 200, description = "Healthy", body = HealthResponse),
        (status = 503, description = "`storage_unavailable`", body = ErrorBody),
    )
)]
pub async fn health(State(state): State<AppState>) -> Result<ApiJson<HealthResponse>, ApiError> {
    match state.store.health().await {
        Ok(()) => Ok(ApiJson(HealthResponse {
            status: "ok".to_owned(),
            server_time: state.clock.now(),
        })),
        Err(e) => {
            tracing::error!(error = %e, "health check: storage does not answer");
            Err(ApiError::client(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::StorageUnavailable,
                "storage does not answer",
            ))
        }
    }
}

/// Request counters and latencies in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    responses(
        (status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"),
        (status = 404, description = "`not_found`: metrics are disabled", body = ErrorBody),
    )
)]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    if !state.config.metrics_enabled {
        return Err(ApiError::client(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "metrics are disabled",
        ));
    }
    let text = state.metrics.encode().map_err(ApiError::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// The OpenAPI document, serialised once at start.
#[derive(Debug)]
pub struct OpenApiDocument(String);

impl OpenApiDocument {
    /// Serialises the description.
    pub fn new(spec: &utoipa::openapi::OpenApi) -> Self {
        // Serialising a plain data structure to JSON cannot fail; an empty object stands in
        // if it ever did, and the OpenAPI test would catch it.
        OpenApiDocument(spec.to_json().unwrap_or_else(|_| "{}".to_owned()))
    }
}

/// This API's OpenAPI 3.1 description.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "ops",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
pub async fn openapi(Extension(doc): Extension<Arc<OpenApiDocument>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], doc.0.clone()).into_response()
}
