//! The audit log for admins: read by record, person, operation and time, paged, and exported
//! as CSV or Excel. Nothing here, or anywhere in the API, edits or deletes an entry.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::{AuditCursor, AuditEntry, AuditQuery, Operation, export, merge_pages};
use crate::auth::AdminSession;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::model::{InvalidValue, TenantId};
use crate::state::AppState;

/// Entries a page holds unless asked for fewer.
const DEFAULT_LIMIT: usize = 100;
/// Entries a page holds at most.
const MAX_LIMIT: usize = 1_000;
/// Entries an export holds at most: a larger one is refused, to be narrowed by time.
pub const MAX_EXPORT: usize = 100_000;

/// Which entries to read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only about this record, account or device.
    #[param(format = Uuid)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Only by this person: their account id or their profile record's id.
    #[param(format = Uuid)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Only this operation: record.create, record.edit, record.reassign, record.delete,
    /// opportunity.stage, approval.decision, visit.check_in, push.rejected, auth.sign_in,
    /// auth.lockout, password.reset, admin.write, … (an unknown one is refused with the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// From this server time on (UTC milliseconds, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// Before this server time (UTC milliseconds, exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
    /// The `next` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Entries at most (1 to 1000; 100 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// A page of the log, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// Where the next page starts (pass it as `after`); absent on the last page.
    pub next: Option<String>,
}

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// CSV, UTF-8 with a byte-order mark.
    #[default]
    Csv,
    /// An Excel workbook.
    Xlsx,
}

/// Which entries to export, and how.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditExport {
    /// `csv` (the default) or `xlsx`.
    #[param(inline)]
    #[serde(default)]
    pub format: ExportFormat,
    /// Only about this record, account or device.
    #[param(format = Uuid)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Only by this person: their account id or their profile record's id.
    #[param(format = Uuid)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Only this operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// From this server time on (UTC milliseconds, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// Before this server time (UTC milliseconds, exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
}

fn uuid_field(name: &str, text: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    text.map(|t| {
        t.trim().parse::<Uuid>().map_err(|_| {
            ApiError::invalid_field(
                name,
                &InvalidValue {
                    reason: "expected an id (UUID)".to_owned(),
                },
            )
        })
    })
    .transpose()
}

/// Checks a filter's fields: ids, a known operation, a time range.
fn query_of(
    record: Option<&str>,
    user: Option<&str>,
    operation: Option<&str>,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<AuditQuery, ApiError> {
    let operation = match operation.map(str::trim) {
        None | Some("") => None,
        Some(name) => Some(
            Operation::parse(name)
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "operation",
                        &InvalidValue {
                            reason: format!(
                                "unknown operation; one of {}",
                                Operation::ALL
                                    .iter()
                                    .map(|o| o.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        },
                    )
                })?
                .as_str()
                .to_owned(),
        ),
    };
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ApiError::invalid_field(
            "from",
            &InvalidValue {
                reason: "`from` is after `to`".to_owned(),
            },
        ));
    }
    Ok(AuditQuery {
        record: uuid_field("record", record)?,
        user: uuid_field("user", user)?,
        operation,
        from,
        to,
        after: None,
        limit: DEFAULT_LIMIT,
    })
}

/// One page of both chains, merged: at most `query.limit` entries and where the next starts.
async fn page(
    state: &AppState,
    tenant: TenantId,
    query: &AuditQuery,
) -> Result<(Vec<AuditEntry>, Option<AuditCursor>), ApiError> {
    let ask = AuditQuery {
        limit: query.limit + 1,
        ..query.clone()
    };
    let (accounts, records) = tokio::try_join!(
        state.store.audit_entries(tenant, &ask),
        state.records.audit_entries(tenant, &ask)
    )?;
    let mut entries = accounts;
    entries.extend(records);
    Ok(merge_pages(entries, query.limit))
}

/// Reads the audit log of the admin's tenant, oldest first, one page at a time.
#[utoipa::path(
    get,
    path = "/v1/admin/audit",
    tag = "admin",
    security(("bearer" = [])),
    params(AuditFilter),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, description = "`invalid_field`: a filter that cannot be used", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
    )
)]
pub async fn audit_log(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    filter: Result<Query<AuditFilter>, QueryRejection>,
) -> Result<ApiJson<AuditPage>, ApiError> {
    let filter = super::query_params(filter)?;
    let mut query = query_of(
        filter.record.as_deref(),
        filter.user.as_deref(),
        filter.operation.as_deref(),
        filter.from,
        filter.to,
    )?;
    query.limit = match filter.limit {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "limit",
                &InvalidValue {
                    reason: format!("between 1 and {MAX_LIMIT}"),
                },
            ));
        }
    };
    query.after = filter
        .after
        .as_deref()
        .map(|a| a.parse::<AuditCursor>())
        .transpose()
        .map_err(|e| ApiError::invalid_field("after", &e))?;
    let (entries, next) = page(&state, admin.tenant_id, &query).await?;
    Ok(ApiJson(AuditPage {
        entries,
        next: next.map(|c| c.to_string()),
    }))
}

/// Exports the audit log of the admin's tenant, oldest first, as CSV or an Excel workbook
/// (at most 100 000 entries: narrow a larger one by time).
#[utoipa::path(
    get,
    path = "/v1/admin/audit/export",
    tag = "admin",
    security(("bearer" = [])),
    params(AuditExport),
    responses(
        (status = 200, description = "The entries as `text/csv`, or as an Excel workbook (`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`) with `format=xlsx`", body = crate::api::Binary, content_type = "text/csv"),
        (status = 400, description = "`invalid_field`: a filter that cannot be used, or too many entries", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
    )
)]
pub async fn export_audit_log(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    filter: Result<Query<AuditExport>, QueryRejection>,
) -> Result<Response, ApiError> {
    let filter = super::query_params(filter)?;
    let mut query = query_of(
        filter.record.as_deref(),
        filter.user.as_deref(),
        filter.operation.as_deref(),
        filter.from,
        filter.to,
    )?;
    query.limit = MAX_LIMIT;
    let mut all = Vec::new();
    loop {
        let (entries, next) = page(&state, admin.tenant_id, &query).await?;
        all.extend(entries);
        if all.len() > MAX_EXPORT {
            return Err(ApiError::invalid_field(
                "to",
                &InvalidValue {
                    reason: format!("more than {MAX_EXPORT} entries: narrow the time range"),
                },
            ));
        }
        match next {
            Some(cursor) => query.after = Some(cursor),
            None => break,
        }
    }
    let (bytes, content_type, extension) = match filter.format {
        ExportFormat::Csv => (
            export::csv(&all).map_err(ApiError::internal)?,
            "text/csv; charset=utf-8",
            "csv",
        ),
        ExportFormat::Xlsx => (
            export::xlsx(&all).map_err(ApiError::internal)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    tracing::info!(by = %admin.account_id, entries = all.len(), format = extension, "audit log exported");
    let disposition = format!("attachment; filename=\"audit.{extension}\"");
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
