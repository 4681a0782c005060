//! Account and device administration within the admin's own tenant.
//!
//! Only what authentication needs lives here; a person's name, org unit and roles are
//! records edited through sync like any other.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use fieldsales_core::{RecordId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::Actor;
use crate::auth::AdminSession;
use crate::error::{ApiError, ApiJson, ApiPath, ErrorBody, ErrorCode};
use crate::model::{Account, AccountId, ActorId, Device, DeviceId, Login, Password};
use crate::state::AppState;
use crate::store::{NewAccount, PasswordChange, StoreError};

/// A new account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateAccountRequest {
    /// What the person signs in with (compared without case).
    #[schema(example = "li.na")]
    pub login: String,
    /// The first password; the admin hands it over out of band.
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "super::send_password")]
    pub password: Password,
    /// The person's profile record; a fresh id is chosen when absent, for the admin tool to
    /// create the profile record under.
    #[schema(format = Uuid)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    /// Whether the account may use the admin API.
    #[serde(default)]
    pub is_admin: bool,
}

/// An account as admins see it (never its password hash).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountView {
    /// Its id.
    pub id: AccountId,
    /// Its login.
    pub login: String,
    /// The person's profile record.
    #[schema(value_type = String, format = Uuid)]
    pub profile_id: RecordId,
    /// May use the admin API.
    pub is_admin: bool,
    /// When it was created (UTC milliseconds).
    #[schema(value_type = i64)]
    pub created_at: Timestamp,
    /// When it was revoked (UTC milliseconds).
    #[schema(value_type = Option<i64>)]
    pub revoked_at: Option<Timestamp>,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        AccountView {
            id: a.id,
            login: a.login.as_str().to_owned(),
            profile_id: a.profile_id,
            is_admin: a.is_admin,
            created_at: a.created_at,
            revoked_at: a.revoked_at,
        }
    }
}

/// A device as admins see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceView {
    /// Its id.
    pub id: DeviceId,
    /// The account signed in on it.
    pub account_id: AccountId,
    /// The name the app gave it.
    pub name: String,
    /// First sign-in (UTC milliseconds).
    #[schema(value_type = i64)]
    pub registered_at: Timestamp,
    /// Latest sign-in (UTC milliseconds).
    #[schema(value_type = i64)]
    pub last_login_at: Timestamp,
    /// When it was revoked (UTC milliseconds).
    #[schema(value_type = Option<i64>)]
    pub revoked_at: Option<Timestamp>,
    /// Every Automerge actor registered to it, oldest first.
    pub actors: Vec<ActorId>,
}

fn device_view(d: Device, actors: Vec<ActorId>) -> DeviceView {
    DeviceView {
        id: d.id,
        account_id: d.account_id,
        name: d.name.as_str().to_owned(),
        registered_at: d.registered_at,
        last_login_at: d.last_login_at,
        revoked_at: d.revoked_at,
        actors,
    }
}

/// A new password.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetPasswordRequest {
    /// The new password.
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "super::send_password")]
    pub password: Password,
}

/// Creates an account in the admin's tenant.
#[utoipa::path(
    post,
    path = "/v1/admin/accounts",
    tag = "admin",
    security(("bearer" = [])),
    request_body = CreateAccountRequest,
    responses(
        (status = 201, description = "Created", body = AccountView),
        (status = 400, description = "Malformed body or invalid field", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
        (status = 409, description = "`login_taken` or `profile_taken`", body = ErrorBody),
    )
)]
pub async fn create_account(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    ApiJson(request): ApiJson<CreateAccountRequest>,
) -> Result<(StatusCode, ApiJson<AccountView>), ApiError> {
    let login = Login::parse(&request.login).map_err(|e| ApiError::invalid_field("login", &e))?;
    request
        .password
        .check_new(state.config.auth.min_password_length)
        .map_err(|e| ApiError::invalid_field("password", &e))?;
    let profile_id = match request.profile_id.as_deref() {
        None => RecordId::new(),
        Some(text) => text.parse::<RecordId>().map_err(|_| {
            ApiError::invalid_field(
                "profile_id",
                &crate::model::InvalidValue {
                    reason: "expected a record id (UUID)".to_owned(),
                },
            )
        })?,
    };
    let password_hash = state.passwords.hash(&request.password).await?;
    let account = state
        .store
        .create_account(
            NewAccount {
                id: AccountId::new(),
                tenant_id: admin.tenant_id,
                login,
                password_hash,
                profile_id,
                is_admin: request.is_admin,
                created_at: state.clock.now(),
            },
            &Actor::of(&admin),
        )
        .await?;
    tracing::info!(by = %admin.account_id, account = %account.id, is_admin = account.is_admin, "account created");
    Ok((StatusCode::CREATED, ApiJson(account.into())))
}

/// Which accounts to list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilter {
    /// Only the account signing in with this login (compared without case): how an admin
    /// tool finds the account a person names.
    #[param(example = "wang.fang")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
}

/// Lists the accounts of the admin's tenant, by login; with `login`, the one account
/// signing in with it (none when no account does).
#[utoipa::path(
    get,
    path = "/v1/admin/accounts",
    tag = "admin",
    security(("bearer" = [])),
    params(AccountFilter),
    responses(
        (status = 200, description = "Accounts", body = [AccountView]),
        (status = 400, description = "`invalid_field`: not a login", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
    )
)]
pub async fn list_accounts(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    filter: Result<Query<AccountFilter>, QueryRejection>,
) -> Result<ApiJson<Vec<AccountView>>, ApiError> {
    let filter = super::query_params(filter)?;
    let accounts = match filter.login.as_deref() {
        None => state.store.accounts(admin.tenant_id).await?,
        Some(text) => {
            let login = Login::parse(text).map_err(|e| ApiError::invalid_field("login", &e))?;
            state
                .store
                .credentials(admin.tenant_id, &login)
                .await?
                .map(|c| c.account)
                .into_iter()
                .collect()
        }
    };
    Ok(ApiJson(
        accounts.into_iter().map(AccountView::from).collect(),
    ))
}

/// One account of the admin's tenant.
#[utoipa::path(
    get,
    path = "/v1/admin/accounts/{account_id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("account_id" = String, Path, format = Uuid, description = "The account")),
    responses(
        (status = 200, description = "The account", body = AccountView),
        (status = 400, description = "`invalid_path`", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
        (status = 404, description = "`account_not_found`", body = ErrorBody),
    )
)]
pub async fn get_account(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    ApiPath(account_id): ApiPath<AccountId>,
) -> Result<ApiJson<AccountView>, ApiError> {
    let account = state
        .store
        .account(admin.tenant_id, account_id)
        .await?
        .ok_or_else(|| account_not_found(account_id))?;
    Ok(ApiJson(account.into()))
}

fn account_not_found(id: AccountId) -> ApiError {
    ApiError::client(
        StatusCode::NOT_FOUND,
        ErrorCode::AccountNotFound,
        format!("no account {id} in this tenant"),
    )
}

/// Resets an account's password: every device signed in to the account is signed out (its
/// token refused with `token_revoked`; the device keeps its data and signs in again with the
/// new password). Recorded in the audit log.
#[utoipa::path(
    put,
    path = "/v1/admin/accounts/{account_id}/password",
    tag = "admin",
    security(("bearer" = [])),
    params(("account_id" = String, Path, format = Uuid, description = "The account")),
    request_body = SetPasswordRequest,
    responses(
        (status = 204, description = "Password reset; the account's devices signed out"),
        (status = 400, description = "Malformed body or invalid field", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
        (status = 404, description = "`account_not_found`", body = ErrorBody),
    )
)]
pub async fn set_password(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    ApiPath(account_id): ApiPath<AccountId>,
    ApiJson(request): ApiJson<SetPasswordRequest>,
) -> Result<StatusCode, ApiError> {
    request
        .password
        .check_new(state.config.auth.min_password_length)
        .map_err(|e| ApiError::invalid_field("password", &e))?;
    let hash = state.passwords.hash(&request.password).await?;
    let change = PasswordChange::Reset {
        by: Actor::of(&admin),
        at: state.clock.now(),
    };
    let signed_out = state
        .store
        .set_password_hash(admin.tenant_id, account_id, hash, change)
        .await?;
    tracing::info!(by = %admin.account_id, account = %account_id, signed_out, "password reset");
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes an account and all its devices: every token stops working, and each device is
/// told `account_revoked` at its next contact, upon which it wipes its local data.
#[utoipa::path(
    post,
    path = "/v1/admin/accounts/{account_id}/revoke",
    tag = "admin",
    security(("bearer" = [])),
    params(("account_id" = String, Path, format = Uuid, description = "The account")),
    responses(
        (status = 200, description = "Revoked", body = AccountView),
        (status = 400, description = "`invalid_path`", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
        (status = 404, description = "`account_not_found`", body = ErrorBody),
        (status = 409, description = "`cannot_revoke_self`", body = ErrorBody),
    )
)]
pub async fn revoke_account(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    ApiPath(account_id): ApiPath<AccountId>,
) -> Result<ApiJson<AccountView>, ApiError> {
    if account_id == admin.account_id {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            ErrorCode::CannotRevokeSelf,
            "an admin cannot revoke their own account; ask another admin",
        ));
    }
    let account = state
        .store
        .revoke_account(
            admin.tenant_id,
            account_id,
            state.clock.now(),
            &Actor::of(&admin),
        )
        .await?;
    tracing::info!(by = %admin.account_id, account = %account_id, "account revoked");
    Ok(ApiJson(account.into()))
}

/// How many browser sessions an admin's revocation ended.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BrowserSessionsRevoked {
    /// The sessions that were live and are now refused.
    pub revoked: u64,
}

/// Signs an account out of every browser at once: each of its browser sessions stops
/// working. Its phones are untouched (revoke a device for that).
#[utoipa::path(
    post,
    path = "/v1/admin/accounts/{account_id}/browser-sessions/revoke",
    tag = "admin",
    security(("bearer" = [])),
    params(("account_id" = String, Path, format = Uuid, description = "The account")),
    responses(
        (status = 200, description = "Revoked", body = BrowserSessionsRevoked),
        (status = 400, description = "`invalid_path`", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
        (status = 404, description = "`account_not_found`", body = ErrorBody),
    )
)]
pub async fn revoke_browser_sessions(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    ApiPath(account_id): ApiPath<AccountId>,
) -> Result<ApiJson<BrowserSessionsRevoked>, ApiError> {
    if state
        .store
        .account(admin.tenant_id, account_id)
        .await?
        .is_none()
    {
        return Err(StoreError::AccountNotFound { account_id }.into());
    }
    let revoked = state
        .store
        .revoke_browser_sessions(
            admin.tenant_id,
            account_id,
            state.clock.now(),
            Actor::of(&admin),
        )
        .await?;
    tracing::info!(by = %admin.account_id, account = %account_id, revoked, "browser sessions revoked");
    Ok(ApiJson(BrowserSessionsRevoked { revoked }))
}

/// Lists an account's devices, oldest first, with their actors.
#[utoipa::path(
    get,
    path = "/v1/admin/accounts/{account_id}/devices",
    tag = "admin",
    security(("bearer" = [])),
    params(("account_id" = String, Path, format = Uuid, description = "The account")),
    responses(
        (status = 200, description = "Devices", body = [DeviceView]),
        (status = 400, description = "`invalid_path`", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
        (status = 404, description = "`account_not_found`", body = ErrorBody),
    )
)]
pub async fn list_devices(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    ApiPath(account_id): ApiPath<AccountId>,
) -> Result<ApiJson<Vec<DeviceView>>, ApiError> {
    if state
        .store
        .account(admin.tenant_id, account_id)
        .await?
        .is_none()
    {
        return Err(account_not_found(account_id));
    }
    let devices = state.store.devices(admin.tenant_id, account_id).await?;
    let mut views = Vec::with_capacity(devices.len());
    for device in devices {
        let actors = state
            .store
            .device_actors(admin.tenant_id, device.id)
            .await?
            .into_iter()
            .map(|a| a.actor)
            .collect();
        views.push(device_view(device, actors));
    }
    Ok(ApiJson(views))
}

/// Revokes one device (a lost phone): its token stops working and it is told
/// `device_revoked` at its next contact, upon which it wipes its local data.
#[utoipa::path(
    post,
    path = "/v1/admin/devices/{device_id}/revoke",
    tag = "admin",
    security(("bearer" = [])),
    params(("device_id" = String, Path, format = Uuid, description = "The device")),
    responses(
        (status = 200, description = "Revoked", body = DeviceView),
        (status = 400, description = "`invalid_path`", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`admin_required`", body = ErrorBody),
        (status = 404, description = "`device_not_found`", body = ErrorBody),
    )
)]
pub async fn revoke_device(
    State(state): State<AppState>,
    AdminSession(admin): AdminSession,
    ApiPath(device_id): ApiPath<DeviceId>,
) -> Result<ApiJson<DeviceView>, ApiError> {
    let device = state
        .store
        .revoke_device(
            admin.tenant_id,
            device_id,
            state.clock.now(),
            &Actor::of(&admin),
        )
        .await?;
    let actors = state
        .store
        .device_actors(admin.tenant_id, device.id)
        .await?
        .into_iter()
        .map(|a| a.actor)
        .collect();
    tracing::info!(by = %admin.account_id, device = %device_id, "device revoked");
    Ok(ApiJson(device_view(device, actors)))
}
