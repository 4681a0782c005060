//! The entries of the accounts chain, made once for both stores: each store appends the one
//! its write makes, in that write's transaction.

use fieldsales_core::{RecordId, Timestamp};

use super::{Actor, AuditDraft, Change, MASKED, Operation};
use crate::model::{Account, AccountId, Device, DeviceId};
use crate::store::PasswordChange;

fn set(field: &str, after: impl ToString) -> Change {
    Change {
        field: field.to_owned(),
        before: None,
        after: Some(after.to_string()),
    }
}

/// An account was created by `by`.
pub fn account_created(account: &Account, by: &Actor) -> AuditDraft {
    AuditDraft::new(account.created_at, *by, Operation::AccountCreate)
        .about(*account.id.as_uuid(), "account")
        .changes(vec![
            set("is_admin", account.is_admin),
            set("login", account.login.as_str()),
            set("profile_id", account.profile_id),
        ])
}

/// A password was replaced; `signed_out` tokens were revoked with it.
pub fn password_changed(account: AccountId, change: PasswordChange, signed_out: u64) -> AuditDraft {
    let (by, at, operation) = match change {
        PasswordChange::Own { by, at } => (by, at, Operation::PasswordChange),
        PasswordChange::Reset { by, at } => (by, at, Operation::PasswordReset),
    };
    let draft = AuditDraft::new(at, by, operation)
        .about(*account.as_uuid(), "account")
        .changes(vec![Change {
            field: "password".into(),
            before: Some(MASKED.into()),
            after: Some(MASKED.into()),
        }]);
    match change {
        PasswordChange::Reset { .. } => {
            draft.detail(format!("{signed_out} device session(s) signed out"))
        }
        PasswordChange::Own { .. } => draft,
    }
}

fn revoked_change(before: Option<Timestamp>, after: Option<Timestamp>) -> Vec<Change> {
    if before == after {
        return Vec::new();
    }
    vec![Change {
        field: "revoked_at".into(),
        before: before.map(|t| t.to_string()),
        after: after.map(|t| t.to_string()),
    }]
}

/// An account (and its devices) was revoked by `by`; `before` is when it was revoked before,
/// if it was.
pub fn account_revoked(
    account: &Account,
    before: Option<Timestamp>,
    at: Timestamp,
    by: &Actor,
) -> AuditDraft {
    AuditDraft::new(at, *by, Operation::AccountRevoke)
        .about(*account.id.as_uuid(), "account")
        .changes(revoked_change(before, account.revoked_at))
}

/// A device was revoked by `by`.
pub fn device_revoked(
    device: &Device,
    before: Option<Timestamp>,
    at: Timestamp,
    by: &Actor,
) -> AuditDraft {
    AuditDraft::new(at, *by, Operation::DeviceRevoke)
        .about(*device.id.as_uuid(), "device")
        .changes(revoked_change(before, device.revoked_at))
}

/// The account signed in on `device` (new to the server or not).
pub fn signed_in(
    account: AccountId,
    profile: RecordId,
    device: &Device,
    new_device: bool,
    at: Timestamp,
) -> AuditDraft {
    let actor = Actor {
        account: Some(account),
        user: Some(profile),
        device: Some(device.id),
    };
    let draft = AuditDraft::new(at, actor, Operation::SignIn)
        .about(*device.id.as_uuid(), "device")
        .detail(device.name.as_str());
    if new_device {
        draft.changes(vec![set("registered_at", device.registered_at)])
    } else {
        draft
    }
}

/// The account signed in from a browser: a session, on no device.
pub fn browser_signed_in(account: AccountId, profile: RecordId, at: Timestamp) -> AuditDraft {
    browser_session(account, profile, at, Operation::SignIn)
}

/// The account's browser session ended by signing out.
pub fn browser_signed_out(account: AccountId, profile: RecordId, at: Timestamp) -> AuditDraft {
    browser_session(account, profile, at, Operation::SignOut)
}

/// `by` (an admin) ended `count` live browser sessions of the account.
pub fn browser_sessions_revoked(
    account: AccountId,
    count: u64,
    at: Timestamp,
    by: &Actor,
) -> AuditDraft {
    AuditDraft::new(at, *by, Operation::SignOut)
        .about(*account.as_uuid(), "account")
        .detail(format!("browser sessions ended by an admin: {count}"))
}

fn browser_session(
    account: AccountId,
    profile: RecordId,
    at: Timestamp,
    operation: Operation,
) -> AuditDraft {
    let actor = Actor {
        account: Some(account),
        user: Some(profile),
        device: None,
    };
    AuditDraft::new(at, actor, operation)
        .about(*account.as_uuid(), "account")
        .detail("browser")
}

/// The account signed out on `device`.
pub fn signed_out(
    account: AccountId,
    profile: RecordId,
    device: DeviceId,
    at: Timestamp,
) -> AuditDraft {
    let actor = Actor {
        account: Some(account),
        user: Some(profile),
        device: Some(device),
    };
    AuditDraft::new(at, actor, Operation::SignOut).about(*device.as_uuid(), "device")
}
