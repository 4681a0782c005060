//! An admin's import of customers, contacts or products from a spreadsheet (CSV or a
//! workbook) uploaded through the admin console: the same checks as the command line's
//! import ([`crate::transfer`]), run in one write transaction of the tenant's records, and the
//! same row report back. The file is bounded (the attachment size limit, [`MAX_ROWS`] rows)
//! and never kept.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::auth::AdminSession;
use crate::error::{ApiError, ApiJson, ErrorBody, ErrorCode};
use crate::model::InvalidValue;
use crate::state::AppState;
use crate::transfer::{
    DEFAULT_NEAR_THRESHOLD, Entity, FileFormat, ImportOptions, ImportReport, TransferError,
    read_table_bytes,
};

/// Rows one import may hold: a larger file is refused, to be split. The rows are checked
/// inside the tenant's write transaction, and the duplicate check of each customer row costs
/// more the more customers the tenant has (measured: 4,000 rows over 1,000 customers in about
/// 10 s, 10,000 over 5,000 in about 40 s, release build): this keeps an import well inside
/// the request time limit and the tenant's syncs waiting seconds, not minutes. A rollout of
/// a larger file goes through `fieldsales import` on a device store, or in parts.
pub const MAX_ROWS: usize = 5_000;

/// What to import, and how.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `customers`, `contacts` or `products`.
    #[param(inline)]
    pub entity: Entity,
    /// The file's name: its extension says the format (`.csv`, `.xlsx`, `.xlsm`, `.xls`,
    /// `.ods`), and the audit log names it.
    pub file: String,
    /// The sheet of a workbook to read; the first when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Check every row and write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// The owner of rows that name none: a person's id, employee number or name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_owner: Option<String>,
}

fn refused(field: &str, e: &TransferError) -> ApiError {
    ApiError::invalid_field(
        field,
        &InvalidValue {
            reason: e.to_string(),
        },
    )
}

/// Imports customers, contacts or products from the uploaded file (the body: its bytes).
/// Every row is checked before anything is written; the rows that pass are written in one
/// transaction (none on a dry run), the others reported with their row number and every
/// reason; a row already present is not created again, so a file can be imported again
/// after fixing its bad rows.
#[utoipa::path(
    post,
    path = "/v1/admin/import",
    tag = "admin",
    security(("bearer" = [])),
    params(ImportParams),
    request_body(content = super::Binary, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "The row report (refused rows included)", body = ImportReport),
        (status = 400, description = "`invalid_field`: an unknown format, a file that cannot be read as a whole, missing columns, an unknown default owner, too many rows", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
    )
)]
pub async fn import(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    params: Result<Query<ImportParams>, QueryRejection>,
    body: Body,
) -> Result<ApiJson<ImportReport>, ApiError> {
    let params = super::query_params(params)?;
    let file = PathBuf::from(params.file.trim());
    let format = FileFormat::for_reading(&file).map_err(|e| refused("file", &e))?;
    let limit = state.config.limits.attachment_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            format!("an imported file may be at most {limit} bytes"),
        )
    })?;
    let sheet = params.sheet.clone();
    let named = file.clone();
    // Reading a workbook is CPU work: off the request threads.
    let table = tokio::task::spawn_blocking(move || {
        read_table_bytes(&named, format, &bytes, sheet.as_deref())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| refused("file", &e))?;
    if table.rows.len() > MAX_ROWS {
        return Err(ApiError::invalid_field(
            "file",
            &InvalidValue {
                reason: format!(
                    "{} rows; an import holds at most {MAX_ROWS}: split the file",
                    table.rows.len()
                ),
            },
        ));
    }
    let options = ImportOptions {
        dry_run: params.dry_run,
        sheet: params.sheet,
        default_owner: params.default_owner,
        near_threshold: DEFAULT_NEAR_THRESHOLD,
    };
    let now = state.clock.now();
    let report = state
        .records
        .import(
            admin.tenant_id,
            params.entity,
            table,
            file,
            options,
            now,
            crate::audit::Actor::of(&admin),
        )
        .await?
        .map_err(|e| match &e {
            TransferError::DefaultOwner { .. } => refused("default_owner", &e),
            _ => refused("file", &e),
        })?;
    tracing::info!(
        by = %admin.account_id,
        entity = ?params.entity,
        rows = report.rows,
        imported = report.imported,
        rejected = report.rejected.len(),
        dry_run = report.dry_run,
        "import"
    );
    Ok(ApiJson(report))
}
