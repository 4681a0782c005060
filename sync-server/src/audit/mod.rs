//! The audit log: one entry per key operation, written by the server in the same transaction
//! as the change it records, append-only and hash-chained, so that an entry edited or
//! deleted in a database file is found by `fieldsales-server audit verify`.
//!
//! # Two chains per tenant
//!
//! A tenant's accounts (sign-ins, revocations, passwords, lockouts, new accounts) and its
//! records (pushes, an admin's writes, the jobs' writes) live in different transactions — on
//! SQLite even in different files — and an entry must commit with its change. So each tenant
//! has two chains, one per [`Stream`]: the accounts chain beside the accounts, the records
//! chain beside the records. Each chain is numbered from 1 without gaps; each entry carries
//! the hash of the one before ([`chain`]); a head row per chain holds the last number and
//! hash, written in the same transaction, so that deleting the newest entries is found too.
//! The API reads both chains as one log ordered by server time.
//!
//! # What an entry says
//!
//! Who (account, the person's profile record, device — taken from the bearer token, never
//! from what a device sends), when (the server's clock), which record and kind, the
//! operation, the rule of a refusal, and what changed: before and after of each scalar field
//! ([`diff`]), with hidden fields (telephone numbers, e-mail addresses, costs) masked.
//!
//! Nothing in the API edits or deletes an entry; the tables refuse `UPDATE` and `DELETE`
//! with triggers as a second line, and the chain is the third.

pub mod accounts;
pub mod chain;
pub mod diff;
pub mod export;
pub mod postgres;
pub mod sqlite;
pub mod verify;

use std::fmt;

use fieldsales_core::RecordId;
use fieldsales_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Session;
use crate::model::{AccountId, DeviceId, TenantId};

/// Which of a tenant's two chains an entry belongs to (see the module documentation).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// Accounts, devices, sign-ins, passwords, lockouts.
    Accounts,
    /// Records: pushes, refusals, an admin's writes, the jobs' writes.
    Records,
}

impl Stream {
    /// The number stored for the stream.
    pub const fn code(self) -> i64 {
        match self {
            Stream::Accounts => 1,
            Stream::Records => 2,
        }
    }

    /// The stream stored as `code`.
    pub fn from_code(code: i64) -> Option<Stream> {
        match code {
            1 => Some(Stream::Accounts),
            2 => Some(Stream::Records),
            _ => None,
        }
    }

    /// Its name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stream::Accounts => "accounts",
            Stream::Records => "records",
        }
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was done. Stored and served as its dotted name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// A record was created (a customer, a contact, a task, …).
    RecordCreate,
    /// A record's fields were edited.
    RecordEdit,
    /// A record's owner or unit changed.
    RecordReassign,
    /// A record was deleted (tombstoned).
    RecordDelete,
    /// An opportunity moved to another stage.
    StageChange,
    /// A deal's progress or a daily report was marked false, or a report's verdict changed.
    Judgment,
    /// An approval was requested.
    ApprovalRequest,
    /// An approval was decided (approved, rejected, a step of the chain).
    ApprovalDecision,
    /// A visit's check-in arrived, with the server's verdict.
    CheckIn,
    /// A visit's check-out arrived.
    CheckOut,
    /// A daily report was submitted.
    ReportSubmit,
    /// A pushed record was refused (the rule is in the entry).
    PushRejected,
    /// An admin wrote an org unit, a profile, a role or the process configuration (with the
    /// permission matrix).
    AdminWrite,
    /// The scheduled jobs wrote a record (a lead reclaimed, a missing report).
    JobWrite,
    /// A device signed in.
    SignIn,
    /// A device signed out.
    SignOut,
    /// Wrong passwords locked a login or an address out for a while.
    Lockout,
    /// An admin created an account.
    AccountCreate,
    /// An admin revoked an account and its devices.
    AccountRevoke,
    /// An admin revoked a device.
    DeviceRevoke,
    /// A user changed their own password.
    PasswordChange,
    /// An admin reset a user's password (their devices signed out).
    PasswordReset,
}

impl Operation {
    /// Every operation, for documentation and parsing.
    pub const ALL: &'static [Operation] = &[
        Operation::RecordCreate,
        Operation::RecordEdit,
        Operation::RecordReassign,
        Operation::RecordDelete,
        Operation::StageChange,
        Operation::Judgment,
        Operation::ApprovalRequest,
        Operation::ApprovalDecision,
        Operation::CheckIn,
        Operation::CheckOut,
        Operation::ReportSubmit,
        Operation::PushRejected,
        Operation::AdminWrite,
        Operation::JobWrite,
        Operation::SignIn,
        Operation::SignOut,
        Operation::Lockout,
        Operation::AccountCreate,
        Operation::AccountRevoke,
        Operation::DeviceRevoke,
        Operation::PasswordChange,
        Operation::PasswordReset,
    ];

    /// Its stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::RecordCreate => "record.create",
            Operation::RecordEdit => "record.edit",
            Operation::RecordReassign => "record.reassign",
            Operation::RecordDelete => "record.delete",
            Operation::StageChange => "opportunity.stage",
            Operation::Judgment => "record.judgment",
            Operation::ApprovalRequest => "approval.request",
            Operation::ApprovalDecision => "approval.decision",
            Operation::CheckIn => "visit.check_in",
            Operation::CheckOut => "visit.check_out",
            Operation::ReportSubmit => "report.submit",
            Operation::PushRejected => "push.rejected",
            Operation::AdminWrite => "admin.write",
            Operation::JobWrite => "job.write",
            Operation::SignIn => "auth.sign_in",
            Operation::SignOut => "auth.sign_out",
            Operation::Lockout => "auth.lockout",
            Operation::AccountCreate => "account.create",
            Operation::AccountRevoke => "account.revoke",
            Operation::DeviceRevoke => "device.revoke",
            Operation::PasswordChange => "password.change",
            Operation::PasswordReset => "password.reset",
        }
    }

    /// The operation named `name`.
    pub fn parse(name: &str) -> Option<Operation> {
        Operation::ALL
            .iter()
            .copied()
            .find(|op| op.as_str() == name)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who did it: the server knows it from the bearer token (or, for a sign-in, from the
/// password just checked); all empty for the server itself (jobs, the first admin made on
/// the server host).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Actor {
    /// The account.
    pub account: Option<AccountId>,
    /// The person's profile record.
    pub user: Option<RecordId>,
    /// The device.
    pub device: Option<DeviceId>,
}

impl Actor {
    /// The server itself.
    pub const SERVER: Actor = Actor {
        account: None,
        user: None,
        device: None,
    };

    /// The signed-in caller of a request.
    pub fn of(session: &Session) -> Actor {
        Actor {
            account: Some(session.account_id),
            user: Some(session.profile_id),
            // A browser session is on no device.
            device: session.device_id,
        }
    }
}

/// One field's change. Values are the field's scalar as text (`None`: absent); a hidden
/// field reads [`MASKED`] on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Change {
    /// The field's path (`address.city`, `lines.0.quantity`).
    pub field: String,
    /// Before.
    pub before: Option<String>,
    /// After.
    pub after: Option<String>,
}

/// What a masked value reads.
pub const MASKED: &str = "***";

/// An entry before it is numbered and chained: what the code that makes a change hands to
/// the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    /// The server's time of the change.
    pub at: Timestamp,
    /// Who.
    pub actor: Actor,
    /// The record, account or device concerned.
    pub record_id: Option<Uuid>,
    /// Its kind (`customer`, `account`, `device`).
    pub kind: Option<String>,
    /// What was done.
    pub operation: Operation,
    /// The rule a refusal names.
    pub rule: Option<String>,
    /// What changed.
    pub changes: Vec<Change>,
    /// A short note (a refusal's detail, a lockout's address and wait).
    pub detail: Option<String>,
}

impl AuditDraft {
    /// A draft of `operation` by `actor` at `at`, about nothing yet.
    pub fn new(at: Timestamp, actor: Actor, operation: Operation) -> AuditDraft {
        AuditDraft {
            at,
            actor,
            record_id: None,
            kind: None,
            operation,
            rule: None,
            changes: Vec::new(),
            detail: None,
        }
    }

    /// About `id` of kind `kind`.
    pub fn about(mut self, id: Uuid, kind: &str) -> AuditDraft {
        self.record_id = Some(id);
        self.kind = Some(kind.to_owned());
        self
    }

    /// With these changes.
    pub fn changes(mut self, changes: Vec<Change>) -> AuditDraft {
        self.changes = changes;
        self
    }

    /// With a note.
    pub fn detail(mut self, detail: impl Into<String>) -> AuditDraft {
        self.detail = Some(detail.into());
        self
    }
}

/// One entry of the log, as stored and served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// The chain it belongs to.
    pub stream: Stream,
    /// Its number in the chain, from 1.
    pub seq: u64,
    /// The server's time (UTC milliseconds).
    pub at: i64,
    /// Who: the account.
    #[schema(format = Uuid)]
    pub account_id: Option<Uuid>,
    /// Who: the person's profile record.
    #[schema(format = Uuid)]
    pub user_id: Option<Uuid>,
    /// From which device.
    #[schema(format = Uuid)]
    pub device_id: Option<Uuid>,
    /// The record, account or device concerned.
    #[schema(format = Uuid)]
    pub record_id: Option<Uuid>,
    /// Its kind (`customer`, `opportunity`, `account`, `device`, …).
    pub kind: Option<String>,
    /// What was done: one of the names of [`Operation::as_str`] (record.edit, opportunity.stage,
    /// push.rejected, auth.sign_in, …).
    pub operation: String,
    /// The rule that refused a push.
    pub rule: Option<String>,
    /// What changed, field by field.
    pub changes: Vec<Change>,
    /// A short note.
    pub detail: Option<String>,
    /// The hash of the entry before it in its chain (hex; zeros for the first).
    pub prev_hash: String,
    /// This entry's hash (hex): SHA-256 over `prev_hash` and the entry's canonical encoding.
    pub hash: String,
}

impl AuditEntry {
    /// Where the entry sorts in the merged log: server time, then chain, then number.
    pub fn key(&self) -> AuditCursor {
        AuditCursor {
            at: self.at,
            stream: self.stream,
            seq: self.seq,
        }
    }
}

/// A place in the merged log, for paging: `at.stream.seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AuditCursor {
    /// Server time.
    pub at: i64,
    /// Chain.
    pub stream: Stream,
    /// Number.
    pub seq: u64,
}

impl fmt::Display for AuditCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.at, self.stream.code(), self.seq)
    }
}

impl std::str::FromStr for AuditCursor {
    type Err = crate::model::InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || crate::model::InvalidValue {
            reason: "expected the `next` of an earlier page".to_owned(),
        };
        let mut parts = s.split('.');
        let at = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let stream = parts
            .next()
            .and_then(|p| p.parse().ok())
            .and_then(Stream::from_code)
            .ok_or_else(bad)?;
        let seq = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(AuditCursor { at, stream, seq })
    }
}

/// Which entries to read, in the order of [`AuditEntry::key`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only about this record, account or device.
    pub record: Option<Uuid>,
    /// Only by this person: an account id or a profile record id.
    pub user: Option<Uuid>,
    /// Only this operation.
    pub operation: Option<String>,
    /// From this server time on (inclusive, UTC milliseconds).
    pub from: Option<i64>,
    /// Before this server time (exclusive).
    pub to: Option<i64>,
    /// After this place (the previous page's last entry).
    pub after: Option<AuditCursor>,
    /// Entries at most.
    pub limit: usize,
}

/// A chain's head: its last number and hash, as the head row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The tenant.
    pub tenant: TenantId,
    /// The chain.
    pub stream: Stream,
    /// The last number.
    pub seq: u64,
    /// The last hash.
    pub hash: [u8; 32],
}

/// One stored row of a chain, read for verification: the entry, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRow {
    /// Its number.
    pub seq: u64,
    /// The entry, or what is damaged.
    pub entry: Result<AuditEntry, String>,
}

/// Where a tenant's audit entries are kept (the accounts store keeps the accounts chain, the
/// records store the records chain).
#[async_trait::async_trait]
pub trait AuditLog: Send + Sync {
    /// Entries of `tenant` matching `query`, in the order of [`AuditEntry::key`], at most
    /// `query.limit`.
    async fn audit_entries(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, crate::store::StoreError>;

    /// The head of every chain kept here.
    async fn audit_heads(&self) -> Result<Vec<ChainHead>, crate::store::StoreError>;

    /// The rows of a chain after number `after`, in order, at most `limit`.
    async fn audit_chain(
        &self,
        tenant: TenantId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ChainRow>, crate::store::StoreError>;
}

/// Merges pages of both chains into one page of at most `limit`: the entries and the cursor
/// of the next page (`None`: nothing more).
pub fn merge_pages(
    mut entries: Vec<AuditEntry>,
    limit: usize,
) -> (Vec<AuditEntry>, Option<AuditCursor>) {
    entries.sort_by_key(AuditEntry::key);
    if entries.len() > limit {
        entries.truncate(limit);
        let next = entries.last().map(AuditEntry::key);
        (entries, next)
    } else {
        (entries, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_written_and_refuses_anything_else() {
        let cursor = AuditCursor {
            at: 1_773_018_000_000,
            stream: Stream::Records,
            seq: 42,
        };
        assert_eq!(cursor.to_string().parse::<AuditCursor>().ok(), Some(cursor));
        for bad in ["", "1.2", "1.3.4", "1.2.3.4", "a.1.1", "1.1.-1"] {
            assert!(bad.parse::<AuditCursor>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_operation_reads_back_from_its_name() {
        for op in Operation::ALL {
            assert_eq!(Operation::parse(op.as_str()), Some(*op));
        }
        assert_eq!(Operation::parse("record.rewrite"), None);
    }

    #[test]
    fn merged_pages_keep_time_order_and_say_where_to_go_on() {
        let entry = |stream, seq, at| AuditEntry {
            stream,
            seq,
            at,
            account_id: None,
            user_id: None,
            device_id: None,
            record_id: None,
            kind: None,
            operation: "record.edit".into(),
            rule: None,
            changes: Vec::new(),
            detail: None,
            prev_hash: String::new(),
            hash: String::new(),
        };
        let (page, next) = merge_pages(
            vec![
                entry(Stream::Records, 1, 30),
                entry(Stream::Accounts, 1, 10),
                entry(Stream::Accounts, 2, 30),
            ],
            2,
        );
        assert_eq!(
            page.iter().map(|e| (e.stream, e.seq)).collect::<Vec<_>>(),
            vec![(Stream::Accounts, 1), (Stream::Accounts, 2)]
        );
        assert_eq!(next, Some(page[1].key()));
        let (all, next) = merge_pages(vec![entry(Stream::Records, 1, 5)], 2);
        assert_eq!((all.len(), next), (1, None));
    }
}
