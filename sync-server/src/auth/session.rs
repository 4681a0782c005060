use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use fieldsales_core::{RecordId, Timestamp};

use super::token::{BearerToken, TOKEN_PREFIX};
use crate::error::{ApiError, ErrorCode};
use crate::model::{AccountId, DeviceId, TenantId};
use crate::state::AppState;
use crate::store::{TokenHash, TokenRecord};

/// An authenticated caller: one account on one device, or in a browser. Extracting it from a
/// request checks the bearer token; handlers that take it are unreachable without a live
/// token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The caller's tenant; every lookup is scoped by it.
    pub tenant_id: TenantId,
    /// The caller's account.
    pub account_id: AccountId,
    /// The caller's profile record.
    pub profile_id: RecordId,
    /// The device the token was issued to; `None` for a browser session, which is no device:
    /// it cannot sync and is never listed among the account's devices.
    pub device_id: Option<DeviceId>,
    /// Whether the account may use the admin API.
    pub is_admin: bool,
    /// The token's hash (for sign-out).
    pub token_hash: TokenHash,
    /// When the token stops being accepted.
    pub expires_at: Timestamp,
}

/// Decides whether a stored token may be used at `now`. The most drastic reason wins: a
/// revoked account or device tells the app to wipe its data, which matters more than the
/// token merely being old.
pub fn judge(record: &TokenRecord, now: Timestamp) -> Result<Session, ApiError> {
    let refuse = |code, detail: &str| {
        Err(ApiError::client(
            StatusCode::UNAUTHORIZED,
            code,
            detail.to_owned(),
        ))
    };
    if record.account.revoked_at.is_some() {
        return refuse(
            ErrorCode::AccountRevoked,
            "this account was revoked: wipe local data",
        );
    }
    if record
        .device
        .as_ref()
        .is_some_and(|d| d.revoked_at.is_some())
    {
        return refuse(
            ErrorCode::DeviceRevoked,
            "this device was revoked: wipe local data",
        );
    }
    if record.revoked_at.is_some() {
        return refuse(
            ErrorCode::TokenRevoked,
            "this token was revoked (signed out or replaced): sign in again",
        );
    }
    if now >= record.expires_at {
        return refuse(
            ErrorCode::TokenExpired,
            "this token has expired: sign in again",
        );
    }
    Ok(Session {
        tenant_id: record.account.tenant_id,
        account_id: record.account.id,
        profile_id: record.account.profile_id,
        device_id: record.device.as_ref().map(|d| d.id),
        is_admin: record.account.is_admin,
        token_hash: record.token_hash,
        expires_at: record.expires_at,
    })
}

fn bearer(parts: &Parts) -> Result<BearerToken, ApiError> {
    let unauthorized =
        |code, detail: &str| ApiError::client(StatusCode::UNAUTHORIZED, code, detail.to_owned());
    let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
        unauthorized(
            ErrorCode::TokenMissing,
            "send `Authorization: Bearer <token>` from sign-in",
        )
    })?;
    let malformed = || {
        unauthorized(
            ErrorCode::TokenMalformed,
            "the Authorization header must be `Bearer <token>`",
        )
    };
    let text = header.to_str().map_err(|_| malformed())?;
    let (scheme, token) = text.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(malformed());
    }
    let token = token.trim();
    let well_formed = token
        .strip_prefix(TOKEN_PREFIX)
        .is_some_and(|rest| rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()));
    if !well_formed {
        return Err(unauthorized(
            ErrorCode::TokenInvalid,
            "this is not a token this server issued",
        ));
    }
    Ok(BearerToken::presented(token))
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let record = state.store.token(token.hash()).await?.ok_or_else(|| {
            ApiError::client(
                StatusCode::UNAUTHORIZED,
                ErrorCode::TokenInvalid,
                "this is not a token this server issued",
            )
        })?;
        let session = judge(&record, state.clock.now())?;
        if let Some(device) = session.device_id {
            tracing::Span::current().record("device", tracing::field::display(device));
        }
        Ok(session)
    }
}

impl Session {
    /// The device of a device's session; a browser session is refused with 403
    /// `device_required` (it has no device, no actor and no holdings to sync).
    pub fn device(&self) -> Result<DeviceId, ApiError> {
        self.device_id.ok_or_else(|| {
            ApiError::client(
                StatusCode::FORBIDDEN,
                ErrorCode::DeviceRequired,
                "a browser session cannot sync: sign in from the app",
            )
        })
    }
}

/// A session of an admin account; anyone else is refused with 403 `admin_required`.
#[derive(Debug, Clone)]
pub struct AdminSession(pub Session);

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = Session::from_request_parts(parts, state).await?;
        if !session.is_admin {
            return Err(ApiError::client(
                StatusCode::FORBIDDEN,
                ErrorCode::AdminRequired,
                "this endpoint needs an admin account",
            ));
        }
        Ok(AdminSession(session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Account, Device, DisplayName, Login};

    struct TokenBuilder {
        record: TokenRecord,
    }

    impl TokenBuilder {
        fn issued_at(ms: i64, lifetime_ms: i64) -> Self {
            let tenant_id = TenantId::new();
            let account = Account {
                id: AccountId::new(),
                tenant_id,
                login: Login::parse("rep").unwrap(),
                profile_id: RecordId::new(),
                is_admin: false,
                created_at: Timestamp::from_millis(0),
                revoked_at: None,
            };
            let device = Device {
                id: DeviceId::new(),
                tenant_id,
                account_id: account.id,
                name: DisplayName::parse("phone").unwrap(),
                registered_at: Timestamp::from_millis(ms),
                last_login_at: Timestamp::from_millis(ms),
                revoked_at: None,
            };
            TokenBuilder {
                record: TokenRecord {
                    token_hash: TokenHash([7; 32]),
                    account,
                    device: Some(device),
                    issued_at: Timestamp::from_millis(ms),
                    expires_at: Timestamp::from_millis(ms + lifetime_ms),
                    revoked_at: None,
                },
            }
        }
        fn account_revoked(mut self) -> Self {
            self.record.account.revoked_at = Some(Timestamp::from_millis(1));
            self
        }
        fn device_revoked(mut self) -> Self {
            if let Some(d) = self.record.device.as_mut() {
                d.revoked_at = Some(Timestamp::from_millis(1));
            }
            self
        }
        fn token_revoked(mut self) -> Self {
            self.record.revoked_at = Some(Timestamp::from_millis(1));
            self
        }
    }

    fn code(r: Result<Session, ApiError>) -> ErrorCode {
        r.err().map(|e| e.code()).unwrap_or(ErrorCode::Internal)
    }

    #[test]
    fn a_token_is_accepted_until_the_last_millisecond_of_its_lifetime() {
        let t = TokenBuilder::issued_at(1_000, 60_000).record;
        assert!(judge(&t, Timestamp::from_millis(60_999)).is_ok());
        assert_eq!(
            code(judge(&t, Timestamp::from_millis(61_000))),
            ErrorCode::TokenExpired
        );
    }

    #[test]
    fn a_revoked_account_outranks_every_other_reason() {
        let t = TokenBuilder::issued_at(0, 10)
            .account_revoked()
            .device_revoked()
            .token_revoked()
            .record;
        assert_eq!(
            code(judge(&t, Timestamp::from_millis(99))),
            ErrorCode::AccountRevoked
        );
        let t = TokenBuilder::issued_at(0, 10)
            .device_revoked()
            .token_revoked()
            .record;
        assert_eq!(
            code(judge(&t, Timestamp::from_millis(99))),
            ErrorCode::DeviceRevoked
        );
        let t = TokenBuilder::issued_at(0, 10).token_revoked().record;
        assert_eq!(
            code(judge(&t, Timestamp::from_millis(99))),
            ErrorCode::TokenRevoked
        );
    }
}
