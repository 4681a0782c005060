//! The machine-readable codes of the server's error answers (`{code, detail}`), shared by the
//! server that answers them and the clients that act on them: a client matches a code by its
//! variant, never by its text.

use serde::{Deserialize, Serialize};

/// The machine-readable reason of an error answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not JSON, or is cut short.
    MalformedBody,
    /// The body is JSON but not of the expected shape (a field missing or of the wrong type).
    InvalidBody,
    /// A field has a value outside what is allowed; `field` names it.
    InvalidField,
    /// A path segment is not a valid id.
    InvalidPath,
    /// The body is not declared as `application/json`.
    UnsupportedMediaType,
    /// The body exceeds the configured limit.
    BodyTooLarge,
    /// No `Authorization: Bearer` header.
    TokenMissing,
    /// The `Authorization` header is not a bearer token.
    TokenMalformed,
    /// The token is not one this server issued.
    TokenInvalid,
    /// The token's lifetime is over: sign in again.
    TokenExpired,
    /// The token was revoked (signed out, or replaced by a newer sign-in on the device).
    TokenRevoked,
    /// An admin revoked this device: wipe its local data.
    DeviceRevoked,
    /// An admin revoked this account: wipe its local data.
    AccountRevoked,
    /// Unknown tenant, unknown login or wrong password (deliberately not told apart).
    BadCredentials,
    /// The current password given with a change of password is wrong.
    WrongPassword,
    /// The device named at sign-in belongs to another account.
    DeviceNotYours,
    /// The endpoint needs an admin account.
    AdminRequired,
    /// No such account in the caller's tenant.
    AccountNotFound,
    /// No such device in the caller's tenant.
    DeviceNotFound,
    /// The login is taken in this tenant.
    LoginTaken,
    /// The profile record has an account already.
    ProfileTaken,
    /// An admin may not revoke their own account.
    CannotRevokeSelf,
    /// The sync request speaks a protocol version this server does not.
    UnsupportedVersion,
    /// The account has no live user profile record: nothing to sync as.
    ProfileMissing,
    /// A record written through the admin API is invalid.
    InvalidRecord,
    /// The unit or person asked for is not in the caller's scope (or does not exist).
    NotInScope,
    /// The endpoint is for a device (a phone): a browser session cannot sync.
    DeviceRequired,
    /// No such endpoint.
    NotFound,
    /// The endpoint exists but not with this method.
    MethodNotAllowed,
    /// No attachment with this hash is held whole.
    AttachmentNotFound,
    /// An upload chunk does not start where the server's copy ends; `upload-offset` says
    /// where it does.
    UploadOffsetMismatch,
    /// The uploaded content does not hash to its name; it was discarded.
    AttachmentHashMismatch,
    /// A `Range` or `Content-Range` header that cannot be used.
    InvalidRange,
    /// Storage does not answer.
    StorageUnavailable,
    /// The server's disk is full: nothing was written; retry after the answer's
    /// `Retry-After`.
    StorageFull,
    /// The server is busy; retry after the answer's `Retry-After`.
    Overloaded,
    /// Too many wrong passwords for this login or from this address: retry after the
    /// answer's `Retry-After`.
    TooManyAttempts,
    /// The request took longer than the configured limit.
    Timeout,
    /// Something failed on the server; details are in its log.
    Internal,
    /// What the request changes moved on since the caller read it (the process
    /// configuration's revision): read it again and redo the change.
    Conflict,
}

impl ErrorCode {
    /// The code of an answer, as this build knows it; `None` for a code of a newer server.
    pub fn from_wire(code: &str) -> Option<ErrorCode> {
        serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
    }

    /// The code as it travels.
    pub fn as_str(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_travels_as_snake_case_and_an_unknown_one_is_none() {
        assert_eq!(ErrorCode::BadCredentials.as_str(), "bad_credentials");
        assert_eq!(
            ErrorCode::from_wire("device_revoked"),
            Some(ErrorCode::DeviceRevoked)
        );
        assert_eq!(ErrorCode::from_wire("a_code_from_the_future"), None);
    }
}
