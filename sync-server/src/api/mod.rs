//! The HTTP API: every route is registered together with its OpenAPI description
//! (`utoipa_axum::routes!`), so the served `/openapi.json` cannot leave a route out.
//!
//! The request and answer types of each endpoint are public and re-exported here: they are
//! the one definition of the wire format, read and written by the handlers and by the
//! command line's admin client alike, so the two cannot drift apart.

mod admin;
mod attachments;
mod audit;
mod auth;
mod console;
mod customers;
mod dashboards;
mod export;
mod import;
mod jobs;
mod ops;
mod records;
mod sync;
mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use admin::{
    AccountFilter, AccountView, BrowserSessionsRevoked, CreateAccountRequest, DeviceView,
    SetPasswordRequest,
};
pub use attachments::{UPLOAD_COMPLETE, UPLOAD_OFFSET, UploadState};
pub use audit::{AuditExport, AuditFilter, AuditPage, ExportFormat, MAX_EXPORT};
pub use auth::{
    BrowserLoginRequest, BrowserLoginResponse, ChangePasswordRequest, LoginRequest, LoginResponse,
    SessionResponse,
};
pub use console::{
    ConsoleView, HandOverRequest, MatrixRequest, MatrixView, OtherAccount, PersonAccount,
    PersonView, ProcessView, Revision, RoleView, UnitView,
};
pub use export::XLSX;
pub use ops::{HealthResponse, HealthStatus, METRICS_CONTENT_TYPE, OpenApiDocument};
pub use records::{AdminRecord, AdminRecordKind, WrittenRecord};

use crate::error::{self, ApiError, ErrorBody, ErrorCode};
use crate::model::Password;
use crate::state::AppState;
use crate::telemetry;

/// A body of bytes (an attachment, a compressed sync message), for the API description.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("Bytes, as the content type says"))
            .into()
    }
}

impl utoipa::ToSchema for Binary {}

/// Writes a request's password for a client that sends the request (the command line's
/// admin client). `Password` has no `Serialize` of its own, so no answer and no log line can
/// carry one; only the request fields that name this function write it.
fn send_password<S: serde::Serializer>(
    password: &Password,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(password.expose())
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fieldsales sync server",
        description = "Sign-in, device tokens and administration of the Fieldsales sync server. \
            Every error answer is an `ErrorBody` whose `code` is stable. Instants are UTC \
            milliseconds since the Unix epoch."
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody, ErrorCode)),
    tags(
        (name = "auth", description = "Sign-in of devices and browsers, and tokens"),
        (name = "admin", description = "Accounts and devices of the admin's tenant, its records \
            and its audit log"),
        (name = "attachments", description = "Photos and files by SHA-256, resumable"),
        (name = "sync", description = "Push and pull of records"),
        (name = "dashboards", description = "Manager dashboards of the caller's scope"),
        (name = "customers", description = "The duplicate check across the whole company"),
        (name = "ops", description = "Health, metrics and this description"),
    )
)]
struct ApiDoc;

/// The router with its description, before state and middleware.
fn described_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::browser_login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::session))
        .routes(routes!(auth::change_password))
        .routes(routes!(audit::audit_log))
        .routes(routes!(audit::export_audit_log))
        .routes(routes!(admin::create_account, admin::list_accounts))
        .routes(routes!(admin::get_account))
        .routes(routes!(admin::set_password))
        .routes(routes!(admin::revoke_account))
        .routes(routes!(admin::list_devices))
        .routes(routes!(admin::revoke_device))
        .routes(routes!(admin::revoke_browser_sessions))
        .routes(routes!(
            attachments::put_attachment,
            attachments::get_attachment,
            attachments::head_attachment
        ))
        .routes(routes!(records::put_record))
        .routes(routes!(console::console))
        .routes(routes!(console::set_matrix))
        .routes(routes!(console::hand_over))
        .routes(routes!(import::import))
        .routes(routes!(jobs::run_jobs))
        .routes(routes!(sync::sync))
        .routes(routes!(customers::duplicates))
        .routes(routes!(dashboards::funnel))
        .routes(routes!(dashboards::visits))
        .routes(routes!(dashboards::visit_points))
        .routes(routes!(dashboards::reports))
        .routes(routes!(dashboards::targets))
        .routes(routes!(dashboards::attention))
        .routes(routes!(dashboards::org))
        .routes(routes!(dashboards::person))
        .routes(routes!(export::export))
        .routes(routes!(ops::health))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::openapi))
}

/// The OpenAPI description of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    described_routes().into_openapi()
}

/// The whole application: routes, middleware and state. Serve it with [`crate::serve`].
pub fn app(state: AppState) -> Router {
    let (router, spec) = described_routes().split_for_parts();
    let spec = Arc::new(OpenApiDocument::new(&spec));
    let limits = state.config.limits.clone();
    let x_request_id = HeaderName::from_static("x-request-id");

    router
        .merge(web::routes(&state.config.web))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.json_body_bytes))
        .layer(middleware::from_fn_with_state(
            limits.request_timeout,
            time_limit,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state.metrics),
            telemetry::track,
        ))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map(MatchedPath::as_str)
                        .unwrap_or("unmatched");
                    let id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        route,
                        request_id = id,
                        device = tracing::field::Empty,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .layer(CatchPanicLayer::custom(|_panic| {
            tracing::error!("a request handler panicked");
            ApiError::internal(Panicked).into_response()
        }))
        .layer(axum::Extension(spec))
        .with_state(state)
}

#[derive(Debug, thiserror::Error)]
#[error("handler panicked")]
struct Panicked;

/// Answers `503 timeout` when a request runs longer than the configured limit.
async fn time_limit(
    axum::extract::State(limit): axum::extract::State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::client(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Timeout,
            format!(
                "the request took longer than {}",
                humantime::format_duration(limit)
            ),
        )
        .into_response(),
    }
}

/// The signed-in caller as the rules see them (user, unit, roles, scope, zone), read from the
/// tenant's records: a 403 when the account has no active profile.
async fn signed_in_user(
    state: &crate::state::AppState,
    session: &crate::auth::Session,
) -> Result<fieldsales_core::me::Me, ApiError> {
    state
        .records
        .me(session.tenant_id, session.profile_id)
        .await?
        .ok_or_else(|| {
            ApiError::client(
                StatusCode::FORBIDDEN,
                ErrorCode::ProfileMissing,
                "this account has no active user profile: an admin must create one",
            )
        })
}

/// A request's query parameters, or 400 `invalid_field` saying what was wrong with them.
pub(super) fn query_params<T>(
    query: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    query.map(|axum::extract::Query(p)| p).map_err(|rejection| {
        ApiError::client(
            axum::http::StatusCode::BAD_REQUEST,
            ErrorCode::InvalidField,
            rejection.body_text(),
        )
    })
}
