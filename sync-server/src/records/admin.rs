//! What the server writes itself, with its own actor: an admin's records (org units,
//! profiles, roles, the process configuration) and the results of the scheduled jobs. Each
//! is renumbered in the change sequence so every device in scope pulls it. Written once for
//! every backend: the records through core's store transaction, the sequence through a
//! [`Ledger`].

use fieldsales_core::doc::RecordDoc;
use fieldsales_core::process::permissions::RolePermissions;
use fieldsales_core::record::lead::{LeadEvent, LeadEventKind, LeadStatus};
use fieldsales_core::record::private::{self, PrivateField, SensitiveField};
use fieldsales_core::record::{AnyRecord, Kind, OrgUnit, ProcessConfig, Record, Role, UserProfile};
use fieldsales_core::store::{ListFilter, StoreRead, Tx};
use fieldsales_core::{Error, RecordId, Timestamp};

use super::AdminWriteError;
use super::ledger::Ledger;
use crate::audit::{self, Actor, AuditDraft, Operation};
use crate::jobs::{JobParams, JobReport};
use crate::transfer::{
    self, Entity, ImportOptions, ImportReport, NoProgress, Table, TransferError,
};

/// Writes `record` as the server, over the fields of the stored one, and renumbers it; the
/// audit log records it as `operation` by `by`. A write that changes nothing is not logged.
/// The record's sensitive fields go to their companions (written after it, with its reach),
/// never into its own document.
fn write_as_server(
    tx: &mut Tx<'_>,
    ledger: &mut impl Ledger,
    record: &AnyRecord,
    now: Timestamp,
    operation: Operation,
    by: &Actor,
) -> Result<RecordId, Error> {
    write_noted(tx, ledger, record, now, operation, by, None)
}

/// [`write_as_server`] with a note for the audit entries of the record and its companions
/// (why it was written: a hand-over).
fn write_noted(
    tx: &mut Tx<'_>,
    ledger: &mut impl Ledger,
    record: &AnyRecord,
    now: Timestamp,
    operation: Operation,
    by: &Actor,
    note: Option<&str>,
) -> Result<RecordId, Error> {
    let own = private::strip(record);
    let id = write_one(tx, ledger, &own, now, operation, by, note)?;
    for field in SensitiveField::of_kind(record.kind()) {
        let value = field.read(record);
        let companion_id = field.companion_id(id);
        let held = tx.kind_of(companion_id)?.is_some();
        if held || !value.is_empty() {
            let companion = PrivateField::new(field, own.header(), value);
            write_one(tx, ledger, &companion.into(), now, operation, by, note)?;
        }
    }
    Ok(id)
}

/// Writes one document as the server; see [`write_as_server`].
fn write_one(
    tx: &mut Tx<'_>,
    ledger: &mut impl Ledger,
    record: &AnyRecord,
    now: Timestamp,
    operation: Operation,
    by: &Actor,
    note: Option<&str>,
) -> Result<RecordId, Error> {
    let id = record.header().id;
    let before = tx.find_any(id)?;
    let mut doc = match tx.load_document(id)? {
        Some(doc) => doc,
        None => RecordDoc::empty(tx.actor()),
    };
    // Flattened as held now, before and after the write (no reads at past heads).
    let before_fields = doc.fields();
    doc.write(record, now).map_err(|e| Error::document(id, e))?;
    let heads = doc.heads();
    let changes = audit::diff::changes(&before_fields, &doc.fields());
    tx.save_document(id, &mut doc, Some(&heads))?;
    ledger.stored(tx, record, &heads, false)?;
    if before.is_none() || !changes.is_empty() {
        let draft = AuditDraft::new(now, *by, operation)
            .about(*id.as_uuid(), record.kind().as_str())
            .changes(changes);
        let draft = match (operation, before, note) {
            (_, _, Some(note)) => draft.detail(note),
            (Operation::JobWrite, before, None) => {
                draft.detail(audit::diff::operation(before.as_ref(), record).as_str())
            }
            (_, None, None) => draft.detail("created"),
            (_, Some(_), None) => draft,
        };
        ledger.audit(tx, vec![draft])?;
    }
    Ok(id)
}

/// An admin's write of an org unit, a profile, a role or the configuration, in the caller's
/// transaction (`record` already validated). A change of who sees what (the tree, a person's
/// unit or roles, a role's scope) renumbers every record.
pub(crate) fn put_in(
    tx: &mut Tx<'_>,
    ledger: &mut impl Ledger,
    record: &AnyRecord,
    now: Timestamp,
    by: &Actor,
) -> Result<Result<RecordId, AdminWriteError>, Error> {
    let id = record.header().id;
    let before = tx.find_any(id)?;
    if let Some(found) = tx.kind_of(id)?
        && found != record.kind().as_str()
    {
        return Ok(Err(AdminWriteError::WrongKind { id, found }));
    }
    // A configuration is loaded over the one it was edited from, never over a later one: a
    // second admin's save in between is not silently undone.
    if let (Some(AnyRecord::ProcessConfig(stored)), AnyRecord::ProcessConfig(new)) =
        (&before, record)
        && new.revision <= stored.revision
    {
        return Ok(Err(AdminWriteError::Stale {
            stored: stored.revision,
        }));
    }
    if before.is_some_and(|before| changes_visibility(&before, record)) {
        ledger.relog_all(tx)?;
    }
    write_as_server(tx, ledger, record, now, Operation::AdminWrite, by)?;
    Ok(Ok(id))
}

/// Whether replacing `before` by `after` can change who sees which records: a unit moved in
/// the tree, a person moved or given other roles, a role given another data scope or the
/// permission matrix changed.
fn changes_visibility(before: &AnyRecord, after: &AnyRecord) -> bool {
    match (before, after) {
        (AnyRecord::OrgUnit(b), AnyRecord::OrgUnit(a)) => {
            b.parent_id != a.parent_id || b.level != a.level
        }
        (AnyRecord::UserProfile(b), AnyRecord::UserProfile(a)) => {
            b.unit_id != a.unit_id || b.roles != a.roles || b.active != a.active
        }
        // A field hidden or shown: its companions leave or reach the role's devices.
        (AnyRecord::Role(b), AnyRecord::Role(a)) => {
            b.data_scope != a.data_scope || b.hidden_fields != a.hidden_fields
        }
        // The permission matrix decides who reads which kind.
        (AnyRecord::ProcessConfig(b), AnyRecord::ProcessConfig(a)) => {
            b.process.roles != a.process.roles
        }
        _ => false,
    }
}

/// The upgrade of a tenant written before sensitive fields had companion documents, in the
/// caller's transaction: each record whose own document ever held a sensitive value (its
/// history included) is re-created without it, the values in companions
/// ([`Tx::move_private_out`]); each document written is renumbered and logged. Returns how
/// many records were re-created; a second run finds none.
pub(crate) fn move_private_out_in(
    tx: &mut Tx<'_>,
    ledger: &mut impl Ledger,
    now: Timestamp,
) -> Result<usize, Error> {
    let mut moved = 0;
    for id in tx.document_ids()? {
        let Some(Ok(kind)) = tx.kind_of(id)?.map(|k| k.parse::<Kind>()) else {
            continue;
        };
        if SensitiveField::of_kind(kind).next().is_none() {
            continue;
        }
        let written = tx.move_private_out(id)?;
        if written.is_empty() {
            continue;
        }
        moved += 1;
        for (record, heads) in &written {
            ledger.stored(tx, record, heads, false)?;
            let draft = AuditDraft::new(now, Actor::SERVER, Operation::AdminWrite)
                .about(*record.header().id.as_uuid(), record.kind().as_str())
                .detail(if record.kind() == Kind::Private {
                    "a sensitive field moved out of its record's document"
                } else {
                    "re-created without its sensitive fields, its history begun anew"
                });
            ledger.audit(tx, vec![draft])?;
        }
    }
    Ok(moved)
}

/// One run of the scheduled jobs over a tenant (see [`fieldsales_core::jobs`]), in the
/// caller's transaction.
pub(crate) fn run_jobs_in(
    tx: &mut Tx<'_>,
    ledger: &mut impl Ledger,
    params: JobParams,
) -> Result<JobReport, Error> {
    let due = fieldsales_core::jobs::due(tx, params.now, params.report_lookback_days)?;
    let mut report = JobReport::default();
    for lead in due.reclaimed_leads {
        let id = write_as_server(
            tx,
            ledger,
            &AnyRecord::Lead(lead),
            params.now,
            Operation::JobWrite,
            &Actor::SERVER,
        )?;
        report.reclaimed_leads.push(id);
    }
    for missing in due.missing_reports {
        let id = write_as_server(
            tx,
            ledger,
            &AnyRecord::DailyReport(missing),
            params.now,
            Operation::JobWrite,
            &Actor::SERVER,
        )?;
        report.missing_reports.push(id);
    }
    for withdrawn in due.withdrawn_missing {
        let id = write_as_server(
            tx,
            ledger,
            &AnyRecord::DailyReport(withdrawn),
            params.now,
            Operation::JobWrite,
            &Actor::SERVER,
        )?;
        report.withdrawn_missing.push(id);
    }
    for reminder in due.stage_reminders {
        let id = write_as_server(
            tx,
            ledger,
            &AnyRecord::Opportunity(reminder.opportunity),
            params.now,
            Operation::JobWrite,
            &Actor::SERVER,
        )?;
        report.stage_reminders.push(id);
    }
    Ok(report)
}

/// What the admin console shows of a tenant's shape: the org tree, the people, the roles and
/// the process configuration, read from the records as every device holds them.
#[derive(Debug, Clone, Default)]
pub struct Console {
    /// Every org unit, by name.
    pub units: Vec<OrgUnit>,
    /// Every person's profile (left ones too), by name.
    pub people: Vec<UserProfile>,
    /// Every role, by code.
    pub roles: Vec<Role>,
    /// The process configuration, once one was loaded.
    pub process: Option<ProcessConfig>,
}

/// Every live record of `kind`, read whole.
fn every<R: Record>(read: &impl StoreRead, kind: Kind) -> Result<Vec<R>, Error> {
    let filter = ListFilter {
        kind: Some(kind),
        limit: Some(usize::MAX),
        ..ListFilter::default()
    };
    read.list(&filter)?
        .into_iter()
        .map(|row| read.get::<R>(row.id))
        .collect()
}

/// The console's view of a tenant (see [`Console`]).
pub(crate) fn console_of(read: &impl StoreRead) -> Result<Console, Error> {
    let mut units: Vec<OrgUnit> = every(read, Kind::OrgUnit)?;
    units.sort_by(|a, b| a.name.cmp(&b.name));
    let mut people: Vec<UserProfile> = every(read, Kind::UserProfile)?;
    people.sort_by(|a, b| a.name.cmp(&b.name));
    let mut roles: Vec<Role> = every(read, Kind::Role)?;
    roles.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(Console {
        units,
        people,
        roles,
        process: read.process_config()?,
    })
}

/// What a hand-over moved, by kind.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
pub struct HandedOver {
    /// Customers.
    pub customers: usize,
    /// Contacts.
    pub contacts: usize,
    /// Open leads (converted and closed ones stay with who worked them).
    pub leads: usize,
    /// Open deals (won and lost ones stay with who closed them: their commission).
    pub opportunities: usize,
}

/// The person `id`, if it is a profile.
fn profile(tx: &Tx<'_>, id: RecordId) -> Result<Option<UserProfile>, Error> {
    Ok(match tx.find_any(id)? {
        Some(AnyRecord::UserProfile(p)) if !p.header.is_deleted() => Some(p),
        _ => None,
    })
}

/// Hands every customer, contact, open lead and open deal that `from` owns over to `to`, in
/// the caller's transaction: each record gets `to` as its owner and `to`'s unit, is
/// renumbered (so it leaves `from`'s devices and reaches `to`'s and their manager's at the
/// next pull) and is logged as a reassignment naming both people. `by` is the admin.
pub(crate) fn hand_over_in(
    tx: &mut Tx<'_>,
    ledger: &mut impl Ledger,
    from: RecordId,
    to: RecordId,
    now: Timestamp,
    by: &Actor,
) -> Result<Result<HandedOver, AdminWriteError>, Error> {
    let invalid = |detail: String| Ok(Err(AdminWriteError::Invalid(detail)));
    if from == to {
        return invalid("a person's records cannot be handed over to themselves".into());
    }
    let Some(leaver) = profile(tx, from)? else {
        return invalid(format!("from: {from} is not a person of this company"));
    };
    let Some(taker) = profile(tx, to)? else {
        return invalid(format!("to: {to} is not a person of this company"));
    };
    if !taker.active {
        return invalid(format!("to: {} has left the company", taker.name));
    }
    let note = format!(
        "handed over from {} ({}) to {} ({})",
        leaver.name, leaver.employee_no, taker.name, taker.employee_no
    );
    let open_deals: std::collections::HashSet<RecordId> =
        tx.open_opportunities()?.into_iter().collect();
    let mut moved = HandedOver::default();
    for kind in [Kind::Customer, Kind::Contact, Kind::Lead, Kind::Opportunity] {
        let filter = ListFilter {
            kind: Some(kind),
            owner: Some(from),
            limit: Some(usize::MAX),
            ..ListFilter::default()
        };
        for row in tx.list(&filter)? {
            let mut record = tx.get_any(row.id)?;
            let take = match &mut record {
                AnyRecord::Customer(_) => {
                    moved.customers += 1;
                    true
                }
                AnyRecord::Contact(_) => {
                    moved.contacts += 1;
                    true
                }
                AnyRecord::Lead(lead) if lead.is_open() => {
                    lead.status = LeadStatus::Assigned;
                    lead.assigned_at = Some(now);
                    lead.events.push(LeadEvent {
                        kind: LeadEventKind::Assigned,
                        rep_id: Some(to),
                        by: by.user,
                        at: now,
                    });
                    moved.leads += 1;
                    true
                }
                AnyRecord::Opportunity(_) if open_deals.contains(&row.id) => {
                    moved.opportunities += 1;
                    true
                }
                _ => false,
            };
            if !take {
                continue;
            }
            let header = record.header_mut();
            header.owner_id = Some(to);
            header.org_unit_id = Some(taker.unit_id);
            write_noted(
                tx,
                ledger,
                &record,
                now,
                Operation::RecordReassign,
                by,
                Some(&note),
            )?;
        }
    }
    Ok(Ok(moved))
}

/// Gives role `role` the permission matrix `permissions` in the process configuration, in
/// the caller's transaction, when the stored configuration is still revision `revision` (the
/// one the admin edited); the result is checked as a loaded file is and stored as the next
/// revision, which it returns.
pub(crate) fn set_matrix_in(
    tx: &mut Tx<'_>,
    ledger: &mut impl Ledger,
    role: &str,
    permissions: RolePermissions,
    revision: i64,
    now: Timestamp,
    by: &Actor,
) -> Result<Result<i64, AdminWriteError>, Error> {
    let Some(mut config) = tx.process_config()? else {
        return Ok(Err(AdminWriteError::Invalid(
            "no process configuration is loaded yet: load one first".into(),
        )));
    };
    if config.revision != revision {
        return Ok(Err(AdminWriteError::Stale {
            stored: config.revision,
        }));
    }
    let Some(def) = config.process.roles.iter_mut().find(|r| r.code == role) else {
        return Ok(Err(AdminWriteError::Invalid(format!(
            "role: the configuration has no role `{role}`"
        ))));
    };
    def.permissions = Some(permissions);
    if let Err(problems) = config.process.validate() {
        let detail = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        return Ok(Err(AdminWriteError::Invalid(detail)));
    }
    config.revision += 1;
    let next = config.revision;
    let record = AnyRecord::ProcessConfig(config);
    if let Err(invalid) = record.validate() {
        return Ok(Err(AdminWriteError::Invalid(invalid.to_string())));
    }
    Ok(put_in(tx, ledger, &record, now, by)?.map(|_| next))
}

/// An admin's import of customers, contacts or products, in the caller's transaction: every
/// row of `table` is checked as the command line's import checks it (over the tenant's
/// records and the rows above it), and the records of the rows that pass are written as the
/// server — all of them, or none on a dry run or a failure — each logged as created, naming
/// the file. Returns the row report; a refusal of the file as a whole (an unknown default
/// owner, missing columns) writes nothing.
#[allow(clippy::too_many_arguments)]
pub(crate) fn import_in(
    tx: &mut Tx<'_>,
    ledger: &mut impl Ledger,
    entity: Entity,
    table: &Table,
    file: &std::path::Path,
    options: &ImportOptions,
    now: Timestamp,
    by: &Actor,
) -> Result<Result<ImportReport, TransferError>, Error> {
    let (report, records) =
        match transfer::check(&*tx, entity, table, file, options, &NoProgress, now) {
            Ok(found) => found,
            Err(TransferError::Store(e)) => return Err(e),
            Err(refused) => return Ok(Err(refused)),
        };
    if !options.dry_run {
        let note = format!("imported from {}", file.display());
        for record in &records {
            write_noted(
                tx,
                ledger,
                record,
                now,
                Operation::RecordCreate,
                by,
                Some(&note),
            )?;
        }
    }
    Ok(Ok(report))
}
