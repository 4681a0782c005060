//! What the admin console in the browser reads and writes beyond the record writes of
//! [`super::records`]: the tenant's shape in one answer (org tree, people with their
//! accounts, roles, the process configuration with its permission matrix, and the closed sets
//! a form offers), the permission matrix of one role, and the hand-over of a leaving rep's
//! customers, leads and deals to a colleague. Admins only; every write is in the audit log.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::http::StatusCode;
use fieldsales_core::process::permissions::{Operation, Right, RolePermissions};
use fieldsales_core::record::private::SensitiveField;
use fieldsales_core::record::{DataScope, Kind, OrgLevel};
use fieldsales_core::{LocalDate, RecordId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AdminSession;
use crate::error::{ApiError, ApiJson, ErrorBody, ErrorCode};
use crate::model::AccountId;
use crate::records::{AdminWriteError, HandedOver};
use crate::state::AppState;

/// An org unit.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnitView {
    /// Its record.
    #[schema(value_type = String, format = Uuid)]
    pub id: RecordId,
    /// Its name.
    pub name: String,
    /// `hq`, `region`, `district` or `team`.
    #[schema(value_type = String)]
    pub level: OrgLevel,
    /// The unit above.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<RecordId>,
    /// Its manager's profile.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub manager_id: Option<RecordId>,
    /// Its IANA time zone, when it has its own.
    pub zone: Option<String>,
}

/// A person's sign-in account, as the console shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonAccount {
    /// The account.
    pub id: AccountId,
    /// Its login.
    pub login: String,
    /// May use the admin API.
    pub is_admin: bool,
    /// When it was revoked (UTC milliseconds).
    pub revoked_at: Option<i64>,
}

/// An account with no profile record.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OtherAccount {
    /// The account.
    pub id: AccountId,
    /// Its login.
    pub login: String,
    /// The profile id it acts as (no record holds it).
    #[schema(value_type = String, format = Uuid)]
    pub profile_id: RecordId,
    /// May use the admin API.
    pub is_admin: bool,
    /// When it was revoked (UTC milliseconds).
    pub revoked_at: Option<i64>,
}

/// A person: their profile and, when they have one, their account.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonView {
    /// The profile record.
    #[schema(value_type = String, format = Uuid)]
    pub id: RecordId,
    /// Full name.
    pub name: String,
    /// Employee number.
    pub employee_no: String,
    /// Their unit.
    #[schema(value_type = String, format = Uuid)]
    pub unit_id: RecordId,
    /// Role codes.
    pub roles: Vec<String>,
    /// IANA time zone.
    pub zone: String,
    /// Job title.
    pub title: Option<String>,
    /// Whether they work here now.
    pub active: bool,
    /// Their first working day (`YYYY-MM-DD`).
    #[schema(value_type = Option<String>, format = Date)]
    pub started_on: Option<LocalDate>,
    /// Their last working day (`YYYY-MM-DD`).
    #[schema(value_type = Option<String>, format = Date)]
    pub left_on: Option<LocalDate>,
    /// Their sign-in account.
    pub account: Option<PersonAccount>,
}

/// A role record.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoleView {
    /// Its record.
    #[schema(value_type = String, format = Uuid)]
    pub id: RecordId,
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// `own`, `subtree`, `region` or `all`.
    #[schema(value_type = String)]
    pub data_scope: DataScope,
    /// Permission codes.
    pub permissions: Vec<String>,
    /// Fields hidden from the role.
    pub hidden_fields: Vec<String>,
}

/// One role's grants on one kind: operation → reach.
pub type KindGrantsView = BTreeMap<String, String>;

/// One role's permission matrix (its own, or the defaults of its code).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MatrixView {
    /// Per kind code, operation → reach.
    pub kinds: BTreeMap<String, KindGrantsView>,
    /// Per right, its reach.
    pub rights: BTreeMap<String, String>,
}

/// The process configuration.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProcessView {
    /// Its revision: send the next one with a new file, and this one with a matrix change.
    pub revision: i64,
    /// What the admin calls it.
    pub name: String,
    /// The whole configuration as a process file (TOML), to edit and load again.
    pub toml: String,
    /// Per role code, its permission matrix.
    pub matrix: BTreeMap<String, MatrixView>,
}

/// The tenant's shape, for the admin console.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsoleView {
    /// Every org unit.
    pub units: Vec<UnitView>,
    /// Every person, left ones too.
    pub people: Vec<PersonView>,
    /// Every role.
    pub roles: Vec<RoleView>,
    /// The process configuration, once loaded.
    pub process: Option<ProcessView>,
    /// Accounts whose profile is no record (an admin made on the server's host), so the
    /// audit log can name them by login.
    pub other_accounts: Vec<OtherAccount>,
    /// The kinds of record the matrix grants on.
    pub kinds: Vec<String>,
    /// The operations of the matrix.
    pub operations: Vec<String>,
    /// The rights beyond one kind.
    pub rights: Vec<String>,
    /// The reaches of a grant.
    pub scopes: Vec<String>,
    /// The fields a role may hide.
    pub hideable_fields: Vec<String>,
}

fn matrix_of(p: &RolePermissions) -> MatrixView {
    MatrixView {
        kinds: p
            .kinds
            .iter()
            .map(|(kind, grants)| {
                let ops = grants
                    .granted()
                    .map(|(op, scope)| (op.as_str().to_owned(), scope.as_str().to_owned()))
                    .collect();
                (kind.clone(), ops)
            })
            .collect(),
        rights: p
            .rights
            .iter()
            .map(|(right, scope)| (right.clone(), scope.as_str().to_owned()))
            .collect(),
    }
}

/// The org tree, people, roles and process configuration of the admin's tenant.
#[utoipa::path(
    get,
    path = "/v1/admin/console",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The tenant's shape", body = ConsoleView),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
    )
)]
pub async fn console(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
) -> Result<ApiJson<ConsoleView>, ApiError> {
    let (shape, accounts) = tokio::try_join!(
        async { Ok::<_, ApiError>(state.records.console(admin.tenant_id).await?) },
        async { Ok::<_, ApiError>(state.store.accounts(admin.tenant_id).await?) },
    )?;
    let profiles: std::collections::HashSet<RecordId> =
        shape.people.iter().map(|p| p.header.id).collect();
    let mut by_profile: HashMap<RecordId, PersonAccount> = HashMap::new();
    let mut other_accounts = Vec::new();
    for a in accounts {
        if !profiles.contains(&a.profile_id) {
            other_accounts.push(OtherAccount {
                id: a.id,
                login: a.login.as_str().to_owned(),
                profile_id: a.profile_id,
                is_admin: a.is_admin,
                revoked_at: a.revoked_at.map(|t| t.millis()),
            });
            continue;
        }
        // The live account wins over a revoked one of the same person.
        let keep = by_profile
            .get(&a.profile_id)
            .is_none_or(|held| held.revoked_at.is_some());
        if keep {
            by_profile.insert(
                a.profile_id,
                PersonAccount {
                    id: a.id,
                    login: a.login.as_str().to_owned(),
                    is_admin: a.is_admin,
                    revoked_at: a.revoked_at.map(|t| t.millis()),
                },
            );
        }
    }
    let process = match shape.process {
        None => None,
        Some(config) => Some(ProcessView {
            revision: config.revision,
            name: config.process.name.clone(),
            toml: config
                .process
                .to_toml()
                .map_err(|e| ApiError::internal(std::io::Error::other(e.to_string())))?,
            matrix: config
                .process
                .roles
                .iter()
                .map(|r| (r.code.clone(), matrix_of(&r.permissions())))
                .collect(),
        }),
    };
    Ok(ApiJson(ConsoleView {
        units: shape
            .units
            .into_iter()
            .map(|u| UnitView {
                id: u.header.id,
                name: u.name,
                level: u.level,
                parent_id: u.parent_id,
                manager_id: u.manager_id,
                zone: u.zone.map(|z| z.name().to_owned()),
            })
            .collect(),
        people: shape
            .people
            .into_iter()
            .map(|p| PersonView {
                id: p.header.id,
                account: by_profile.remove(&p.header.id),
                name: p.name,
                employee_no: p.employee_no,
                unit_id: p.unit_id,
                roles: p.roles.iter().cloned().collect(),
                zone: p.zone.name().to_owned(),
                title: p.title,
                active: p.active,
                started_on: p.started_on,
                left_on: p.left_on,
            })
            .collect(),
        roles: shape
            .roles
            .into_iter()
            .map(|r| RoleView {
                id: r.header.id,
                code: r.code,
                name: r.name,
                data_scope: r.data_scope,
                permissions: r.permissions.iter().cloned().collect(),
                hidden_fields: r.hidden_fields.iter().cloned().collect(),
            })
            .collect(),
        process,
        other_accounts,
        kinds: Kind::ALL
            .iter()
            .filter(|k| **k != Kind::Private)
            .map(|k| k.as_str().to_owned())
            .collect(),
        operations: Operation::KNOWN
            .iter()
            .map(|o| o.as_str().to_owned())
            .collect(),
        rights: Right::KNOWN.iter().map(|r| r.as_str().to_owned()).collect(),
        scopes: ["own", "subtree", "region", "all"]
            .map(str::to_owned)
            .to_vec(),
        hideable_fields: SensitiveField::ALL
            .iter()
            .map(|f| f.code().to_owned())
            .collect(),
    }))
}

/// A role's new permission matrix.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixRequest {
    /// The role's code in the process configuration.
    pub role: String,
    /// The revision of the configuration the admin edited: refused with 409 `conflict` when
    /// it changed meanwhile.
    pub revision: i64,
    /// Per kind, operation → reach; per right, its reach. A kind, operation or right left
    /// out is not granted.
    #[schema(value_type = MatrixView)]
    pub permissions: RolePermissions,
}

/// The configuration's revision after a write.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Revision {
    /// The new revision.
    pub revision: i64,
}

/// The answer to a refused admin write.
pub(super) fn refused(e: AdminWriteError) -> ApiError {
    match e {
        AdminWriteError::Invalid(detail) => {
            ApiError::client(StatusCode::BAD_REQUEST, ErrorCode::InvalidRecord, detail)
        }
        AdminWriteError::WrongKind { .. } => ApiError::client(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRecord,
            e.to_string(),
        ),
        AdminWriteError::Stale { .. } => {
            ApiError::client(StatusCode::CONFLICT, ErrorCode::Conflict, e.to_string())
        }
        AdminWriteError::Store(s) => s.into(),
    }
}

/// Gives one role of the process configuration a new permission matrix, checked as a loaded
/// process file is; the configuration's next revision reaches every device by pull.
#[utoipa::path(
    put,
    path = "/v1/admin/matrix",
    tag = "admin",
    security(("bearer" = [])),
    request_body = MatrixRequest,
    responses(
        (status = 200, description = "Written", body = Revision),
        (status = 400, description = "Malformed body or `invalid_record` (an unknown role, kind, right or reach)", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
        (status = 409, description = "`conflict`: the configuration changed since it was read", body = ErrorBody),
    )
)]
pub async fn set_matrix(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    ApiJson(request): ApiJson<MatrixRequest>,
) -> Result<ApiJson<Revision>, ApiError> {
    let now = state.clock.now();
    let revision = state
        .records
        .set_matrix(
            admin.tenant_id,
            request.role.clone(),
            request.permissions,
            request.revision,
            now,
            crate::audit::Actor::of(&admin),
        )
        .await
        .map_err(refused)?;
    tracing::info!(by = %admin.account_id, role = %request.role, revision, "permission matrix written");
    Ok(ApiJson(Revision { revision }))
}

/// Whose records go to whom.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandOverRequest {
    /// The leaving person's profile.
    #[schema(value_type = String, format = Uuid)]
    pub from: RecordId,
    /// The colleague taking over (an active person).
    #[schema(value_type = String, format = Uuid)]
    pub to: RecordId,
}

/// Hands a leaving person's customers, contacts, open leads and open deals over to a
/// colleague: each gets the colleague as owner and their unit, leaves the leaver's devices
/// and reaches the colleague's at the next pull, and is logged in the audit log as a
/// reassignment naming both. Won and lost deals, converted and closed leads stay with who
/// worked them.
#[utoipa::path(
    post,
    path = "/v1/admin/hand-over",
    tag = "admin",
    security(("bearer" = [])),
    request_body = HandOverRequest,
    responses(
        (status = 200, description = "Handed over", body = HandedOver),
        (status = 400, description = "Malformed body or `invalid_record`: the same person, an unknown one, or a colleague who left", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
    )
)]
pub async fn hand_over(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    ApiJson(request): ApiJson<HandOverRequest>,
) -> Result<ApiJson<HandedOver>, ApiError> {
    let now = state.clock.now();
    let moved = state
        .records
        .hand_over(
            admin.tenant_id,
            request.from,
            request.to,
            now,
            crate::audit::Actor::of(&admin),
        )
        .await
        .map_err(refused)?;
    tracing::info!(by = %admin.account_id, from = %request.from, to = %request.to, ?moved, "records handed over");
    Ok(ApiJson(moved))
}
