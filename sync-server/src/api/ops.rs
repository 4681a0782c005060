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
use crate::telemetry;

/// The server is up and its storage answers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// Always `ok` (an unhealthy server answers 503 with an error body).
    pub status: HealthStatus,
    /// The server's clock (UTC milliseconds).
    #[schema(value_type = i64)]
    pub server_time: Timestamp,
}

/// The health of a server that answers 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Serving, with storage that answers.
    Ok,
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
            status: HealthStatus::Ok,
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

/// The content type of `/metrics`: the OpenMetrics text format, which is what the encoder
/// writes (`_total` counters, `# EOF`), so parsers read it as what it is.
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The server's metrics in the OpenMetrics text format: build, HTTP requests and latencies,
/// sync (records pushed, accepted, refused by rule, pulled), scheduled job runs and the
/// size of the database files.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    responses(
        (status = 200, description = "OpenMetrics text exposition", body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
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
    let data_dir = state.config.data_dir.clone();
    let sizes = tokio::task::spawn_blocking(move || telemetry::database_sizes(&data_dir))
        .await
        .map_err(ApiError::internal)?;
    state.metrics.set_database_sizes(&sizes);
    let text = state.metrics.encode().map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], text).into_response())
}

/// The OpenAPI document, serialised once at start.
#[derive(Debug)]
pub struct OpenApiDocument(String);

impl utoipa::PartialSchema for OpenApiDocument {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0)",
            ))
            .property(
                "openapi",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .examples(["3.1.0"]),
            )
            .required("openapi")
            .property("info", ObjectBuilder::new().schema_type(Type::Object))
            .required("info")
            .property("paths", ObjectBuilder::new().schema_type(Type::Object))
            .into()
    }
}

impl ToSchema for OpenApiDocument {}

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
    responses((status = 200, description = "The OpenAPI document", body = OpenApiDocument, content_type = "application/json"))
)]
pub async fn openapi(Extension(doc): Extension<Arc<OpenApiDocument>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], doc.0.clone()).into_response()
}
