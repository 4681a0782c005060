//! The tenants' records: what devices push and pull, behind one async trait.
//!
//! Each tenant's records live in a core store (the phone's own schema: the same documents and
//! projection tables, read only through core's typed queries), so the rules' facts and the
//! dashboards are the phone's own code, plus two tables of sync's own: a change sequence (one
//! row per record, renumbered whenever the record's heads change, which makes the pull
//! cursor a plain number) and, per device, the records it holds and which heads it was sent.
//! That second table answers exactly the two questions a scoped pull must: is this record new
//! to the device (send it whole), and did the device hold a record it may no longer see (tell
//! it to delete).
//!
//! The trait is coarse (one call per push, one per page) so that each backend runs each as
//! one transaction. Two backends: [`SqliteRecords`] (a file per tenant, one process) and
//! [`PostgresRecords`] (PostgreSQL holds the truth; several instances, each with a read model
//! of its own). What a push does to a record ([`push`], [`review`]: core's rule code over
//! core's facts), what the server writes itself ([`admin`]) and how a pull judges each row
//! ([`page`]) are written once, storage-neutral; a backend supplies the transaction, the
//! change sequence ([`ledger`]) and the scan.

mod admin;
mod ledger;
mod page;
mod postgres;
mod push;
mod review;
mod sqlite;

use async_trait::async_trait;
use fieldsales_core::fieldwork::ClockOffset;
use fieldsales_core::me::Me;
use fieldsales_core::record::AnyRecord;
use fieldsales_core::sync::protocol::{Ack, PulledRecord, PushRecord, RejectedRecord};
use fieldsales_core::{RecordId, Timestamp};

pub use admin::{Console, HandedOver};
pub use fieldsales_core::dashboard::{Dashboard, DashboardQuery, Focus};
pub use postgres::{PostgresRecords, renew_epochs as postgres_renew_epochs};
pub use sqlite::{SqliteRecords, epoch_of as sqlite_epoch_of, renew_epoch as renew_sqlite_epoch};

use crate::audit::{Actor, AuditLog};
use crate::jobs::{JobParams, JobReport};
use crate::model::{AccountId, DeviceId, TenantId};
use crate::store::StoreError;

/// A new random epoch for a change sequence (63 bits, so that it fits SQLite's and
/// PostgreSQL's signed integers). See [`crate::backup`].
pub(crate) fn random_epoch() -> Result<u64, getrandom::Error> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)?;
    Ok(u64::from_le_bytes(bytes) & (i64::MAX as u64))
}

/// A device's push, with what the server knows of the device.
#[derive(Debug, Clone)]
pub struct Push {
    /// The pushing device.
    pub device: DeviceId,
    /// The account signed in on it (who the audit log names).
    pub account: AccountId,
    /// Every actor registered to the device: the only authors its changes may have.
    pub actors: Vec<automerge::ActorId>,
    /// The user signed in on it.
    pub author: Me,
    /// The device's clock offset as the server measured it on this push (the request's send
    /// time against the server's receive time); `None` when the request carried no send time.
    pub clock_offset: Option<ClockOffset>,
    /// The records.
    pub records: Vec<PushRecord>,
    /// Now, on the server's clock.
    pub now: Timestamp,
}

/// The server's verdict on one pushed record.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Held (as pushed or amended).
    Accepted(Ack),
    /// Refused, with the server's version.
    Rejected(RejectedRecord),
}

/// A request for the next page.
#[derive(Debug, Clone)]
pub struct Pull {
    /// The pulling device.
    pub device: DeviceId,
    /// Whose view.
    pub viewer: Me,
    /// The device's committed cursor.
    pub cursor: u64,
    /// Records at most.
    pub limit: usize,
    /// Document bytes at most (one record larger than this still goes, alone).
    pub max_bytes: usize,
    /// Sequence entries examined at most (a user who sees little of a large tenant gets
    /// empty pages that still advance the cursor instead of one endless scan).
    pub max_scan: usize,
    /// The epoch the device's cursor belongs to, when it knows one. When the sequence has
    /// another (the server was restored from a backup), the page starts from the beginning
    /// and every record the user may see is sent whole (see [`crate::backup`]).
    pub epoch: Option<u64>,
}

impl Pull {
    /// Whether a sequence of epoch `current` must start this device over: its cursor
    /// belongs to another epoch. A device that names none (never told, or older than
    /// epochs) keeps its cursor.
    pub fn restarts_at(&self, current: Option<u64>) -> bool {
        matches!((self.epoch, current), (Some(theirs), Some(ours)) if theirs != ours)
    }
}

/// One page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// Records to merge.
    pub records: Vec<PulledRecord>,
    /// Records the device must delete.
    pub removed: Vec<RecordId>,
    /// The cursor after this page.
    pub cursor: u64,
    /// Whether more entries wait beyond the cursor.
    pub has_more: bool,
    /// The epoch of the sequence the cursor belongs to (`None`: the tenant has no sequence
    /// yet).
    pub epoch: Option<u64>,
    /// The device's cursor belonged to another epoch: this page starts from the beginning.
    pub restarted: bool,
}

/// Why an admin write was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminWriteError {
    /// The record is invalid.
    #[error("{0}")]
    Invalid(String),
    /// A record with this id exists with another kind.
    #[error("record {id} is a {found}")]
    WrongKind {
        /// The id.
        id: RecordId,
        /// Its stored kind.
        found: String,
    },
    /// The configuration changed since the admin read it (a write must carry a revision
    /// above the stored one).
    #[error(
        "the process configuration is at revision {stored} now: read it again and redo the change"
    )]
    Stale {
        /// The stored revision.
        stored: i64,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Tenants' records. See the module documentation.
///
/// Every write appends its audit entries to the tenant's records chain in the same
/// transaction ([`crate::audit`]); [`AuditLog`] reads them.
#[async_trait]
pub trait RecordStore: AuditLog + Send + Sync + std::fmt::Debug + 'static {
    /// The user whose profile record is `profile`, with the widest data scope of their roles;
    /// `None` when the tenant has no such (live) profile.
    async fn me(&self, tenant: TenantId, profile: RecordId) -> Result<Option<Me>, StoreError>;

    /// Merges, reviews and stores each pushed record; one verdict per record, in order.
    /// Pushing the same changes again changes nothing and is acknowledged again.
    async fn push(&self, tenant: TenantId, push: Push) -> Result<Vec<Verdict>, StoreError>;

    /// The next page of what `pull.viewer` may see, and what the device must delete.
    async fn pull(&self, tenant: TenantId, pull: Pull) -> Result<Page, StoreError>;

    /// One sync call: the push (if any), then the page after it, so the page holds what the
    /// push stored. A backend may run both in one transaction (one disk sync per call); the
    /// default runs them one after the other.
    ///
    /// A device whose cursor belongs to another epoch than the sequence's (the server was
    /// restored from a backup) has its push ignored: its changes may build on changes the
    /// restored server lacks, and it offers them again once its pull has caught up.
    async fn push_and_pull(
        &self,
        tenant: TenantId,
        push: Option<Push>,
        pull: Pull,
    ) -> Result<(Vec<Verdict>, Page), StoreError> {
        let push = match push {
            Some(_) if pull.restarts_at(self.epoch(tenant).await?) => None,
            push => push,
        };
        let verdicts = match push {
            Some(push) => self.push(tenant, push).await?,
            None => Vec::new(),
        };
        Ok((verdicts, self.pull(tenant, pull).await?))
    }

    /// The epoch of the tenant's change sequence (`None`: it has none yet).
    async fn epoch(&self, tenant: TenantId) -> Result<Option<u64>, StoreError>;

    /// One dashboard of `viewer`'s scope, computed by core's dashboard code over the tenant's
    /// records, as of `now` (also its `data_as_of`: the server's data is always current).
    /// `focus` narrows it to a unit or a person of the scope (drilling down).
    async fn dashboard(
        &self,
        tenant: TenantId,
        viewer: Me,
        focus: Option<Focus>,
        query: DashboardQuery,
        now: Timestamp,
    ) -> Result<Dashboard, StoreError>;

    /// Writes a record as the server (admin: org units, profiles, roles, configuration),
    /// replacing the fields of an existing one; `by` is the admin the audit log names.
    async fn put(
        &self,
        tenant: TenantId,
        record: AnyRecord,
        now: Timestamp,
        by: Actor,
    ) -> Result<RecordId, AdminWriteError>;

    /// The org tree, people, roles and process configuration, for the admin console.
    async fn console(&self, tenant: TenantId) -> Result<Console, StoreError>;

    /// Hands a leaving person's customers, contacts, open leads and open deals over to a
    /// colleague (see `admin::hand_over_in`); `by` is the admin the audit log names.
    async fn hand_over(
        &self,
        tenant: TenantId,
        from: RecordId,
        to: RecordId,
        now: Timestamp,
        by: Actor,
    ) -> Result<HandedOver, AdminWriteError>;

    /// Gives a role of the process configuration another permission matrix, when the
    /// configuration is still at `revision`; returns the new revision.
    async fn set_matrix(
        &self,
        tenant: TenantId,
        role: String,
        permissions: fieldsales_core::process::permissions::RolePermissions,
        revision: i64,
        now: Timestamp,
        by: Actor,
    ) -> Result<i64, AdminWriteError>;

    /// An admin's import of `table` (read from `file`): see `admin::import_in`. The outer
    /// error is storage's; the inner one refuses the file as a whole, with nothing written.
    #[allow(clippy::too_many_arguments)]
    async fn import(
        &self,
        tenant: TenantId,
        entity: crate::transfer::Entity,
        table: crate::transfer::Table,
        file: std::path::PathBuf,
        options: crate::transfer::ImportOptions,
        now: Timestamp,
        by: Actor,
    ) -> Result<Result<crate::transfer::ImportReport, crate::transfer::TransferError>, StoreError>;

    /// The duplicate check of `customer` over the whole tenant, as `viewer` may see it: hits
    /// outside their scope redacted to the configured fields.
    async fn duplicates(
        &self,
        tenant: TenantId,
        viewer: Me,
        customer: fieldsales_core::record::Customer,
    ) -> Result<fieldsales_core::authority::customer::DuplicateCheck, StoreError>;

    /// Every tenant that has records.
    async fn tenants(&self) -> Result<Vec<TenantId>, StoreError>;

    /// Moves the sensitive fields of records written before they had companion documents
    /// out of those records' own documents, re-creating each such record with a fresh
    /// history (see `admin::move_private_out_in`); returns how many were re-created. Run by
    /// `fieldsales-server move-hidden-fields`, which then renews the epochs.
    async fn move_private_out(&self, tenant: TenantId, now: Timestamp)
    -> Result<usize, StoreError>;

    /// Runs the scheduled jobs over one tenant's records (see [`crate::jobs`]).
    async fn run_jobs(&self, tenant: TenantId, params: JobParams) -> Result<JobReport, StoreError>;

    /// Whether this instance takes the tenant's next scheduled run of the jobs, due every
    /// `every`: with several instances only one of them runs each (a lease); with one, it
    /// always does.
    async fn claim_scheduled_run(
        &self,
        tenant: TenantId,
        every: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let _ = (tenant, every);
        Ok(true)
    }
}
