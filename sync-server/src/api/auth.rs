//! Sign-in, sign-out and "who am I" for devices and browsers.
//!
//! A phone signs in as a device: it gets a device id, a token and an Automerge actor, and
//! admins see and revoke it among the account's devices. A browser signs in with
//! `/v1/auth/browser`: a token of the account on no device (no actor, no holdings, never
//! listed or counted as a device), refused by the sync endpoint, ended by signing out, by an
//! admin's revocation of the account's browser sessions or of the account.

use std::net::IpAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use fieldsales_core::{RecordId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{Actor, AuditDraft, Operation};
use crate::auth::{BearerToken, Lane, Lockout, Session, Throttle};
use crate::error::{ApiError, ApiJson, ErrorBody, ErrorCode};
use crate::model::{
    Account, AccountId, ActorId, DeviceId, DisplayName, Login, Password, Tenant, TenantId,
    TenantSlug,
};
use crate::serve::PeerAddr;
use crate::state::AppState;
use crate::store::{NewBrowserSession, NewSession, SessionDevice};

/// A sign-in from a device (or from the command line's admin client, which sends this type).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The tenant's short name.
    #[schema(example = "acme")]
    pub tenant: String,
    /// The person's login (compared without case).
    #[schema(example = "zhang.wei")]
    pub login: String,
    /// The password, in clear over TLS; never stored or logged.
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "super::send_password")]
    pub password: Password,
    /// A name for this device, shown to admins.
    #[schema(example = "Zhang Wei's phone")]
    pub device_name: String,
    /// The id this server gave the device at an earlier sign-in, to keep the same device.
    #[schema(format = Uuid)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}

/// A successful sign-in.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// The bearer token for this device; shown once, keep it in the platform's secure store.
    pub token: String,
    /// When the token stops being accepted (UTC milliseconds).
    #[schema(value_type = i64)]
    pub expires_at: Timestamp,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The account signed in.
    pub account_id: AccountId,
    /// The person's profile record.
    #[schema(value_type = String, format = Uuid)]
    pub profile_id: RecordId,
    /// The device: new, or the one named in the request.
    pub device_id: DeviceId,
    /// A fresh Automerge actor for this device: make every change with it. The server
    /// refuses changes from actors that are not the pushing device's.
    pub actor_id: ActorId,
    /// Whether the account may use the admin API.
    pub is_admin: bool,
    /// The server's clock (UTC milliseconds), for the device's clock offset.
    #[schema(value_type = i64)]
    pub server_time: Timestamp,
    /// Who the user is to the rules (profile, unit, roles, widest data scope, zone); absent
    /// when the account has no live profile record yet.
    #[schema(value_type = Option<MeSchema>)]
    #[serde(default)]
    pub me: Option<fieldsales_core::me::Me>,
}

/// The description of `fieldsales_core::me::Me` as it serializes, for the API
/// description only (core's `Me` is not an API type); a test keeps the two the same shape.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Me)]
struct MeSchema {
    /// The user's profile record.
    user_id: RecordId,
    /// Their org unit.
    unit_id: RecordId,
    /// Their role codes.
    roles: Vec<String>,
    /// The widest data scope of their roles.
    scope: fieldsales_core::record::DataScope,
    /// Their time zone: "today" and report deadlines follow it.
    zone: fieldsales_core::Zone,
    /// The fields their roles hide (`contact.phone`, `contact.email`, `user.phone`,
    /// `user.email`, `product.cost`): never sent to their devices.
    #[serde(default)]
    hidden: Vec<String>,
}

/// The caller's session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionResponse {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The account.
    pub account_id: AccountId,
    /// The person's profile record.
    #[schema(value_type = String, format = Uuid)]
    pub profile_id: RecordId,
    /// The device; absent for a browser session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<DeviceId>,
    /// Whether the account may use the admin API.
    pub is_admin: bool,
    /// When the token stops being accepted (UTC milliseconds).
    #[schema(value_type = i64)]
    pub expires_at: Timestamp,
    /// The server's clock (UTC milliseconds).
    #[schema(value_type = i64)]
    pub server_time: Timestamp,
}

/// A sign-in from a browser.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BrowserLoginRequest {
    /// The tenant's short name.
    #[schema(example = "acme")]
    pub tenant: String,
    /// The person's login (compared without case).
    #[schema(example = "li.na")]
    pub login: String,
    /// The password, in clear over TLS; never stored or logged.
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "super::send_password")]
    pub password: Password,
}

/// A browser's successful sign-in: a token on no device.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BrowserLoginResponse {
    /// The bearer token for this browser tab; keep it for the tab only.
    pub token: String,
    /// When the token stops being accepted (UTC milliseconds).
    #[schema(value_type = i64)]
    pub expires_at: Timestamp,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The account signed in.
    pub account_id: AccountId,
    /// The person's profile record.
    #[schema(value_type = String, format = Uuid)]
    pub profile_id: RecordId,
    /// Whether the account may use the admin API.
    pub is_admin: bool,
    /// The server's clock (UTC milliseconds).
    #[schema(value_type = i64)]
    pub server_time: Timestamp,
}

fn bad_credentials() -> ApiError {
    ApiError::client(
        StatusCode::UNAUTHORIZED,
        ErrorCode::BadCredentials,
        "unknown tenant or login, or wrong password",
    )
}

/// How long a sign-in must wait: by this instance's throttle (the login and the address) and
/// by the login's count that every instance over the store shares (PostgreSQL).
async fn throttle_wait(
    state: &AppState,
    tenant_key: &str,
    login_key: &str,
    address: Option<IpAddr>,
) -> Result<Option<std::time::Duration>, ApiError> {
    let now = state.clock.now();
    let here = state.throttle.wait(tenant_key, login_key, address, now);
    let shared = state
        .store
        .sign_in_wait(&Throttle::key(tenant_key, login_key), now)
        .await?;
    Ok(here.max(shared))
}

/// Counts a wrong password here and in the shared count; the waits it starts.
async fn throttle_failed(
    state: &AppState,
    tenant_key: &str,
    login_key: &str,
    address: Option<IpAddr>,
) -> Result<Lockout, ApiError> {
    let now = state.clock.now();
    let mut lockout = state.throttle.failed(tenant_key, login_key, address, now);
    let shared = state
        .store
        .sign_in_failed(
            &Throttle::key(tenant_key, login_key),
            now,
            state.throttle.lockout_after(),
            state.throttle.lockout_max(),
        )
        .await?;
    lockout.login = lockout.login.max(shared);
    Ok(lockout)
}

/// 429: wrong passwords in a row slowed this login or address down.
fn too_many_attempts(wait: std::time::Duration) -> ApiError {
    ApiError::Later {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: ErrorCode::TooManyAttempts,
        detail: format!(
            "too many wrong passwords: try again in {} s",
            wait.as_secs().max(1)
        ),
        retry_after_secs: wait.as_secs().max(1),
    }
}

fn field<T>(name: &str, parsed: Result<T, crate::model::InvalidValue>) -> Result<T, ApiError> {
    parsed.map_err(|e| ApiError::invalid_field(name, &e))
}

/// Signs a device in and hands it a token and a fresh actor.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 400, description = "Malformed body or invalid field", body = ErrorBody),
        (status = 401, description = "`bad_credentials`, `account_revoked` or `device_revoked`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: wrong passwords slowed this login or address; see `Retry-After`", body = ErrorBody),
        (status = 503, description = "`overloaded`: too many sign-ins at once; see `Retry-After`", body = ErrorBody),
        (status = 403, description = "`device_not_yours`: the device belongs to another account", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<PeerAddr>>>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<ApiJson<LoginResponse>, ApiError> {
    let address = peer.map(|Extension(ConnectInfo(PeerAddr(addr)))| addr.ip());
    let device_name = field("device_name", DisplayName::parse(&request.device_name))?;
    let requested_device = request
        .device_id
        .as_deref()
        .map(|s| field("device_id", s.parse::<DeviceId>()))
        .transpose()?;
    let (tenant, account) = authenticate(
        &state,
        address,
        &request.tenant,
        &request.login,
        &request.password,
    )
    .await?;
    let slug = &tenant.slug;
    let device = match requested_device {
        None => SessionDevice::New(DeviceId::new()),
        Some(id) => match state.store.device(tenant.id, id).await? {
            // Unknown here (a restored server, another tenant's id): start a new device.
            None => SessionDevice::New(DeviceId::new()),
            Some(d) if d.account_id != account.id => {
                return Err(ApiError::client(
                    StatusCode::FORBIDDEN,
                    ErrorCode::DeviceNotYours,
                    "this device is signed in to another account: sign in without device_id",
                ));
            }
            Some(d) if d.revoked_at.is_some() => {
                return Err(ApiError::client(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::DeviceRevoked,
                    "this device was revoked: wipe local data and sign in without device_id",
                ));
            }
            Some(d) => SessionDevice::Existing(d.id),
        },
    };

    let now = state.clock.now();
    let lifetime = i64::try_from(state.config.auth.token_lifetime.as_millis()).unwrap_or(i64::MAX);
    let token = BearerToken::generate().map_err(|e| ApiError::internal(RandomFailed(e)))?;
    let actor = ActorId::random().map_err(|e| ApiError::internal(RandomFailed(e)))?;
    let expires_at = now.plus_millis(lifetime);
    let device = state
        .store
        .start_session(NewSession {
            tenant_id: tenant.id,
            account_id: account.id,
            device,
            device_name,
            token_hash: token.hash(),
            actor,
            issued_at: now,
            expires_at,
        })
        .await?;
    let me = state.records.me(tenant.id, account.profile_id).await?;
    tracing::info!(tenant = %slug, account = %account.id, device = %device.id, actor = %actor, "signed in");
    Ok(ApiJson(LoginResponse {
        token: token.expose().to_owned(),
        expires_at,
        tenant_id: tenant.id,
        account_id: account.id,
        profile_id: account.profile_id,
        device_id: device.id,
        actor_id: actor,
        is_admin: account.is_admin,
        server_time: now,
        me,
    }))
}

/// Checks a sign-in's tenant, login and password, slowing repeated wrong passwords: the
/// tenant and the live account, or `bad_credentials` (never telling which part was wrong),
/// `too_many_attempts` or `account_revoked`.
async fn authenticate(
    state: &AppState,
    address: Option<std::net::IpAddr>,
    tenant: &str,
    login: &str,
    password: &Password,
) -> Result<(Tenant, Account), ApiError> {
    let slug = field("tenant", TenantSlug::parse(tenant))?;
    let login_name = field("login", Login::parse(login))?;
    if password.expose().len() > Password::MAX_BYTES {
        return Err(bad_credentials());
    }
    let (tenant_key, login_key) = (tenant.trim(), login.trim());
    if let Some(wait) = throttle_wait(state, tenant_key, login_key, address).await? {
        return Err(too_many_attempts(wait));
    }
    let lane = if state
        .throttle
        .trusted(tenant_key, login_key, state.clock.now())
    {
        Lane::Clean
    } else {
        Lane::Suspect
    };
    let refused = async |reason: &'static str| -> Result<Lockout, ApiError> {
        let lockout = throttle_failed(state, tenant_key, login_key, address).await?;
        if let Some(wait) = lockout.wait() {
            tracing::warn!(tenant = %slug, login = %login_key, ?address, wait_secs = wait.as_secs(),
                reason, "sign-ins slowed after repeated wrong passwords");
        }
        Ok(lockout)
    };
    let Some(tenant) = state.store.tenant_by_slug(&slug).await? else {
        state.passwords.verify_in(lane, password, None).await?;
        tracing::info!(tenant = %slug, reason = "unknown tenant", "sign-in refused");
        // No tenant, no log to write a lockout in.
        refused("unknown tenant").await?;
        return Err(bad_credentials());
    };
    let credentials = state.store.credentials(tenant.id, &login_name).await?;
    let matched = state
        .passwords
        .verify_in(
            lane,
            password,
            credentials.as_ref().map(|c| &c.password_hash),
        )
        .await?;
    let account = match credentials {
        Some(c) if matched => c.account,
        Some(c) => {
            tracing::info!(tenant = %slug, account = %c.account.id, reason = "wrong password", "sign-in refused");
            let lockout = refused("wrong password").await?;
            audit_lockout(
                state,
                tenant.id,
                Some(&c.account),
                &login_name,
                address,
                lockout,
            )
            .await?;
            return Err(bad_credentials());
        }
        None => {
            tracing::info!(tenant = %slug, reason = "unknown login", "sign-in refused");
            let lockout = refused("unknown login").await?;
            audit_lockout(state, tenant.id, None, &login_name, address, lockout).await?;
            return Err(bad_credentials());
        }
    };
    state
        .throttle
        .succeeded(tenant_key, login_key, state.clock.now());
    state
        .store
        .sign_in_succeeded(&Throttle::key(tenant_key, login_key))
        .await?;
    if account.revoked_at.is_some() {
        return Err(ApiError::client(
            StatusCode::UNAUTHORIZED,
            ErrorCode::AccountRevoked,
            "this account was revoked: wipe local data",
        ));
    }
    Ok((tenant, account))
}

/// Signs a browser in: a token of the account on no device. The browser can read what the
/// account may read (dashboards, the admin API for an admin) but cannot sync, and it is not
/// one of the account's devices.
#[utoipa::path(
    post,
    path = "/v1/auth/browser",
    tag = "auth",
    request_body = BrowserLoginRequest,
    responses(
        (status = 200, description = "Signed in", body = BrowserLoginResponse),
        (status = 400, description = "Malformed body or invalid field", body = ErrorBody),
        (status = 401, description = "`bad_credentials` or `account_revoked`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: wrong passwords slowed this login or address; see `Retry-After`", body = ErrorBody),
        (status = 503, description = "`overloaded`: too many sign-ins at once; see `Retry-After`", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    )
)]
pub async fn browser_login(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<PeerAddr>>>,
    ApiJson(request): ApiJson<BrowserLoginRequest>,
) -> Result<ApiJson<BrowserLoginResponse>, ApiError> {
    let address = peer.map(|Extension(ConnectInfo(PeerAddr(addr)))| addr.ip());
    let (tenant, account) = authenticate(
        &state,
        address,
        &request.tenant,
        &request.login,
        &request.password,
    )
    .await?;
    let now = state.clock.now();
    let lifetime = i64::try_from(state.config.auth.token_lifetime.as_millis()).unwrap_or(i64::MAX);
    let token = BearerToken::generate().map_err(|e| ApiError::internal(RandomFailed(e)))?;
    let expires_at = now.plus_millis(lifetime);
    state
        .store
        .start_browser_session(NewBrowserSession {
            tenant_id: tenant.id,
            account_id: account.id,
            token_hash: token.hash(),
            issued_at: now,
            expires_at,
        })
        .await?;
    tracing::info!(tenant = %tenant.slug, account = %account.id, "signed in from a browser");
    Ok(ApiJson(BrowserLoginResponse {
        token: token.expose().to_owned(),
        expires_at,
        tenant_id: tenant.id,
        account_id: account.id,
        profile_id: account.profile_id,
        is_admin: account.is_admin,
        server_time: now,
    }))
}

/// The operating system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("random source failed: {0}")]
struct RandomFailed(getrandom::Error);

/// Records a lockout a wrong password started (nothing when it started none): who was
/// locked out — the account when the login exists — from which address, for how long.
async fn audit_lockout(
    state: &AppState,
    tenant: TenantId,
    account: Option<&Account>,
    login: &Login,
    address: Option<std::net::IpAddr>,
    lockout: Lockout,
) -> Result<(), ApiError> {
    if lockout.wait().is_none() {
        return Ok(());
    }
    let mut notes = vec![format!("login {login}")];
    if let Some(wait) = lockout.login {
        notes.push(format!("login locked for {} s", wait.as_secs().max(1)));
    }
    if let Some(wait) = lockout.address {
        let from = address.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
        notes.push(format!(
            "address {from} locked for {} s",
            wait.as_secs().max(1)
        ));
    } else if let Some(address) = address {
        notes.push(format!("from {address}"));
    }
    let actor = Actor {
        account: account.map(|a| a.id),
        user: account.map(|a| a.profile_id),
        device: None,
    };
    let mut entry = AuditDraft::new(state.clock.now(), actor, Operation::Lockout);
    if let Some(account) = account {
        entry = entry.about(*account.id.as_uuid(), "account");
    }
    state
        .store
        .audit_event(tenant, entry.detail(notes.join("; ")))
        .await?;
    Ok(())
}

/// Signs the calling device out: its token stops working at once.
#[utoipa::path(
    post,
    path = "/v1/auth/logout",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "No live token", body = ErrorBody),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .revoke_token(session.token_hash, state.clock.now())
        .await?;
    tracing::info!(account = %session.account_id, device = ?session.device_id, "signed out");
    Ok(StatusCode::NO_CONTENT)
}

/// Who the caller is; also a cheap way for an app to check its token.
#[utoipa::path(
    get,
    path = "/v1/auth/session",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's session", body = SessionResponse),
        (status = 401, description = "`token_missing`, `token_malformed`, `token_invalid`, `token_expired`, `token_revoked`, `device_revoked` or `account_revoked`", body = ErrorBody),
    )
)]
pub async fn session(State(state): State<AppState>, session: Session) -> ApiJson<SessionResponse> {
    ApiJson(SessionResponse {
        tenant_id: session.tenant_id,
        account_id: session.account_id,
        profile_id: session.profile_id,
        device_id: session.device_id,
        is_admin: session.is_admin,
        expires_at: session.expires_at,
        server_time: state.clock.now(),
    })
}

#[cfg(test)]
mod tests {
    use fieldsales_core::me::Me;
    use fieldsales_core::record::DataScope;
    use fieldsales_core::{RecordId, Zone};

    use super::MeSchema;

    /// The API description of `me` is the shape core's `Me` serializes to: a field added to,
    /// renamed in or removed from `Me` fails here until the description follows.
    #[test]
    fn the_described_me_is_the_shape_core_writes() {
        let me = Me {
            hidden: Default::default(),
            user_id: RecordId::new(),
            unit_id: RecordId::new(),
            roles: vec!["sales_manager".to_owned()],
            scope: DataScope::Subtree,
            zone: Zone::SHANGHAI,
        };
        let written = serde_json::to_value(&me).expect("serializes");
        let described: MeSchema =
            serde_json::from_value(written.clone()).expect("every field of Me is described");
        assert_eq!(
            serde_json::to_value(&described).expect("serializes"),
            written
        );
    }
}

/// A change of the caller's own password.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    /// The password now.
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "super::send_password")]
    pub current_password: Password,
    /// The new password.
    #[schema(value_type = String, format = Password)]
    #[serde(serialize_with = "super::send_password")]
    pub new_password: Password,
}

/// Changes the caller's own password, given the current one. The caller's devices stay
/// signed in. Wrong current passwords count towards the login's lockout like wrong
/// sign-ins. Recorded in the audit log.
#[utoipa::path(
    put,
    path = "/v1/auth/password",
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed"),
        (status = 400, description = "Malformed body or invalid field (a weak new password)", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "`wrong_password`: the current password is wrong", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<PeerAddr>>>,
    session: Session,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    let address = peer.map(|Extension(ConnectInfo(PeerAddr(addr)))| addr.ip());
    request
        .new_password
        .check_new(state.config.auth.min_password_length)
        .map_err(|e| ApiError::invalid_field("new_password", &e))?;
    let account = state
        .store
        .account(session.tenant_id, session.account_id)
        .await?
        .ok_or_else(|| ApiError::internal(AccountVanished))?;
    // The throttle's key: this tenant's id stands where a sign-in gives its slug.
    let (tenant_key, login_key) = (session.tenant_id.to_string(), account.login.to_string());
    if let Some(wait) = throttle_wait(&state, &tenant_key, &login_key, address).await? {
        return Err(too_many_attempts(wait));
    }
    let credentials = state
        .store
        .credentials(session.tenant_id, &account.login)
        .await?
        .ok_or_else(|| ApiError::internal(AccountVanished))?;
    let matched = request.current_password.expose().len() <= Password::MAX_BYTES
        && state
            .passwords
            .verify_in(
                Lane::Clean,
                &request.current_password,
                Some(&credentials.password_hash),
            )
            .await?;
    if !matched {
        let lockout = throttle_failed(&state, &tenant_key, &login_key, address).await?;
        audit_lockout(
            &state,
            session.tenant_id,
            Some(&account),
            &account.login,
            address,
            lockout,
        )
        .await?;
        return Err(ApiError::client(
            StatusCode::FORBIDDEN,
            ErrorCode::WrongPassword,
            "the current password is wrong",
        ));
    }
    let hash = state.passwords.hash(&request.new_password).await?;
    let change = crate::store::PasswordChange::Own {
        by: Actor::of(&session),
        at: state.clock.now(),
    };
    state
        .store
        .set_password_hash(session.tenant_id, session.account_id, hash, change)
        .await?;
    tracing::info!(account = %session.account_id, device = ?session.device_id, "password changed");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, thiserror::Error)]
#[error("the signed-in account is not in the store")]
struct AccountVanished;
