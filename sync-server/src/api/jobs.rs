//! Running the scheduled jobs now, for the admin's tenant: the command line uses it after an
//! import, and tests use it to see a job's effect without waiting for the schedule.

use axum::extract::State;
use axum::http::StatusCode;

use crate::auth::AdminSession;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::jobs::{self, JobReport};
use crate::state::AppState;

/// Runs lead reclaim and missing-report detection over the admin's tenant now, on the
/// server's clock; the records written reach devices by pull.
#[utoipa::path(
    post,
    path = "/v1/admin/jobs/run",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the run wrote", body = JobReport),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
    )
)]
pub async fn run_jobs(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
) -> Result<(StatusCode, ApiJson<JobReport>), ApiError> {
    let report = jobs::run_tenant(&state, admin.tenant_id).await?;
    tracing::info!(by = %admin.account_id, "scheduled jobs run by admin");
    Ok((StatusCode::OK, ApiJson(report)))
}
