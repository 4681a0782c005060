//! Admin writes of the records that shape a tenant: org units, user profiles, roles and the
//! process configuration. Devices never push these (the server refuses it); an admin writes
//! them here, the server stores them with its own actor, and every device gets them by pull.

use axum::extract::State;
use axum::http::StatusCode;
use fieldsales_core::process::SalesProcess;
use fieldsales_core::record::{
    AnyRecord, DataScope, Header, OrgLevel, OrgUnit, ProcessConfig, Role, StringSet, UserProfile,
};
use fieldsales_core::{RecordId, Zone};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AdminSession;
use crate::error::{ApiError, ApiJson, ErrorBody, ErrorCode};
use crate::state::AppState;

/// A record an admin writes, by kind. `id` names an existing record to replace its fields;
/// a new id is chosen when absent.
///
/// The one definition of this request: the server's handler reads it and the command line's
/// admin client (`fieldsales admin`, the demo) sends it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdminRecord {
    /// A node of the org tree.
    OrgUnit {
        /// The record, when replacing one.
        #[schema(value_type = Option<String>, format = Uuid)]
        id: Option<RecordId>,
        /// Its name.
        name: String,
        /// `hq`, `region`, `district` or `team`.
        level: OrgLevel,
        /// The unit above.
        #[schema(value_type = Option<String>, format = Uuid)]
        parent_id: Option<RecordId>,
        /// Its manager's profile.
        #[schema(value_type = Option<String>, format = Uuid)]
        #[serde(default)]
        manager_id: Option<RecordId>,
        /// Its IANA time zone.
        #[serde(default)]
        zone: Option<String>,
    },
    /// A person.
    UserProfile {
        /// The record (the account's `profile_id`).
        #[schema(value_type = Option<String>, format = Uuid)]
        id: Option<RecordId>,
        /// Full name.
        name: String,
        /// Employee number.
        employee_no: String,
        /// Their org unit.
        #[schema(value_type = String, format = Uuid)]
        unit_id: RecordId,
        /// Role codes.
        roles: Vec<String>,
        /// IANA time zone.
        zone: String,
        /// Phone.
        #[serde(default)]
        phone: Option<String>,
        /// E-mail.
        #[serde(default)]
        email: Option<String>,
        /// Job title.
        #[serde(default)]
        title: Option<String>,
        /// Whether they work here now.
        #[serde(default = "yes")]
        active: bool,
        /// When they joined (UTC milliseconds); now when absent, never later than now. They
        /// owe daily reports from that day, so an org moved in from another system keeps
        /// its people's history.
        #[schema(value_type = Option<i64>)]
        #[serde(default)]
        created_at: Option<fieldsales_core::Timestamp>,
        /// Their first working day (`YYYY-MM-DD`): reports are owed from it. The day the
        /// profile was created when absent.
        #[schema(value_type = Option<String>, format = Date)]
        #[serde(default)]
        started_on: Option<fieldsales_core::LocalDate>,
        /// Their last working day (`YYYY-MM-DD`), once they leave.
        #[schema(value_type = Option<String>, format = Date)]
        #[serde(default)]
        left_on: Option<fieldsales_core::LocalDate>,
        /// Approved leave: days (`2026-03-16`) or spans (`2026-03-16..2026-03-20`).
        #[schema(value_type = Vec<String>)]
        #[serde(default)]
        leave: Vec<fieldsales_core::fieldwork::DaySpan>,
    },
    /// A role.
    Role {
        /// The record, when replacing one.
        #[schema(value_type = Option<String>, format = Uuid)]
        id: Option<RecordId>,
        /// Its code (`sales_rep`).
        code: String,
        /// Its name.
        name: String,
        /// `own`, `subtree`, `region` or `all`.
        data_scope: DataScope,
        /// Permission codes.
        #[serde(default)]
        permissions: Vec<String>,
        /// Fields hidden from the role.
        #[serde(default)]
        hidden_fields: Vec<String>,
    },
    /// The tenant's process configuration, as its TOML file.
    ProcessConfig {
        /// The process file.
        toml: String,
        /// Its revision: above the stored one's, else 409 `conflict` (another admin loaded a
        /// later one since).
        revision: i64,
    },
}

fn yes() -> bool {
    true
}

/// The kinds of record an admin writes through this endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdminRecordKind {
    /// A node of the org tree.
    OrgUnit,
    /// A person.
    UserProfile,
    /// A role.
    Role,
    /// The tenant's process configuration.
    ProcessConfig,
}

impl AdminRecordKind {
    /// The kind's code, as records name it (`org_unit`).
    pub fn as_str(self) -> &'static str {
        match self {
            AdminRecordKind::OrgUnit => "org_unit",
            AdminRecordKind::UserProfile => "user_profile",
            AdminRecordKind::Role => "role",
            AdminRecordKind::ProcessConfig => "process_config",
        }
    }
}

impl std::fmt::Display for AdminRecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AdminRecord {
    /// Its kind.
    pub fn kind(&self) -> AdminRecordKind {
        match self {
            AdminRecord::OrgUnit { .. } => AdminRecordKind::OrgUnit,
            AdminRecord::UserProfile { .. } => AdminRecordKind::UserProfile,
            AdminRecord::Role { .. } => AdminRecordKind::Role,
            AdminRecord::ProcessConfig { .. } => AdminRecordKind::ProcessConfig,
        }
    }
}

/// The record written.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WrittenRecord {
    /// Its id.
    pub id: RecordId,
    /// Its kind.
    pub kind: AdminRecordKind,
}

fn invalid(field: &str, detail: String) -> ApiError {
    ApiError::Client {
        status: StatusCode::BAD_REQUEST,
        code: ErrorCode::InvalidField,
        detail: format!("{field}: {detail}"),
        field: Some(field.to_owned()),
    }
}

fn zone(field: &str, text: &str) -> Result<Zone, ApiError> {
    text.parse::<Zone>()
        .map_err(|_| invalid(field, format!("`{text}` is not an IANA time zone")))
}

fn header(id: Option<RecordId>, admin: RecordId, now: fieldsales_core::Timestamp) -> Header {
    let mut header = Header::unowned(Some(admin), now);
    if let Some(id) = id {
        header.id = id;
    }
    header
}

fn strings(items: Vec<String>) -> StringSet {
    StringSet::from_iter(items)
}

/// Writes an org unit, user profile, role or the process configuration.
#[utoipa::path(
    post,
    path = "/v1/admin/records",
    tag = "admin",
    security(("bearer" = [])),
    request_body = AdminRecord,
    responses(
        (status = 201, description = "Written", body = WrittenRecord),
        (status = 400, description = "Malformed body, invalid field or `invalid_record`", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
        (status = 409, description = "`conflict`: a process configuration of this or a later revision is loaded", body = ErrorBody),
    )
)]
pub async fn put_record(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    ApiJson(request): ApiJson<AdminRecord>,
) -> Result<(StatusCode, ApiJson<WrittenRecord>), ApiError> {
    let now = state.clock.now();
    let by = admin.profile_id;
    let kind = request.kind();
    let record = match request {
        AdminRecord::OrgUnit {
            id,
            name,
            level,
            parent_id,
            manager_id,
            zone: z,
        } => AnyRecord::OrgUnit(OrgUnit {
            header: header(id, by, now),
            name,
            level,
            parent_id,
            manager_id,
            zone: z.map(|z| zone("zone", &z)).transpose()?,
        }),
        AdminRecord::UserProfile {
            id,
            name,
            employee_no,
            unit_id,
            roles,
            zone: z,
            phone,
            email,
            title,
            active,
            created_at,
            started_on,
            left_on,
            leave,
        } => AnyRecord::UserProfile(UserProfile {
            header: {
                let mut h = header(id, by, now);
                if let Some(at) = created_at {
                    if at > now {
                        return Err(invalid(
                            "created_at",
                            format!("{at} is in the future; the server's time is {now}"),
                        ));
                    }
                    h.created_at = at;
                }
                h
            },
            name,
            employee_no,
            unit_id,
            roles: strings(roles),
            phone,
            email,
            title,
            zone: zone("zone", &z)?,
            active,
            started_on,
            left_on,
            leave,
        }),
        AdminRecord::Role {
            id,
            code,
            name,
            data_scope,
            permissions,
            hidden_fields,
        } => AnyRecord::Role(Role {
            header: header(id, by, now),
            code,
            name,
            data_scope,
            permissions: strings(permissions),
            hidden_fields: strings(hidden_fields),
        }),
        AdminRecord::ProcessConfig { toml, revision } => {
            let process =
                SalesProcess::from_toml(&toml).map_err(|e| invalid("toml", e.to_string()))?;
            let mut header = header(None, by, now);
            header.id = ProcessConfig::id_for(&admin.tenant_id.to_string());
            AnyRecord::ProcessConfig(ProcessConfig {
                header,
                revision,
                process,
            })
        }
    };
    let id = state
        .records
        .put(
            admin.tenant_id,
            record,
            now,
            crate::audit::Actor::of(&admin),
        )
        .await
        .map_err(super::console::refused)?;
    tracing::info!(by = %admin.account_id, record = %id, %kind, "record written by admin");
    Ok((StatusCode::CREATED, ApiJson(WrittenRecord { id, kind })))
}
