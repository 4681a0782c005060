//! What the server writes itself, with its own actor: an admin's records (org units,
//! profiles, roles, the process configuration) and the results of the scheduled jobs. Each
//! is renumbered in the change sequence so every device in scope pulls it. Written once for
//! every backend: the records through core's store transaction, the sequence through a
//! [`Ledger`].

use fieldsales_core::doc::RecordDoc;
use fieldsales_core::record::private::{self, PrivateField, SensitiveField};
use fieldsales_core::record::{AnyRecord, Kind};
use fieldsales_core::store::{StoreRead, Tx};
use fieldsales_core::{Error, RecordId, Timestamp};

use super::AdminWriteError;
use super::ledger::Ledger;
use crate::audit::{self, Actor, AuditDraft, Operation};
use crate::jobs::{JobParams, JobReport};

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
    let own = private::strip(record);
    let id = write_one(tx, ledger, &own, now, operation, by)?;
    for field in SensitiveField::of_kind(record.kind()) {
        let value = field.read(record);
        let companion_id = field.companion_id(id);
        let held = tx.kind_of(companion_id)?.is_some();
        if held || !value.is_empty() {
            let companion = PrivateField::new(field, own.header(), value);
            write_one(tx, ledger, &companion.into(), now, operation, by)?;
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
        let draft = match (operation, before) {
            (Operation::JobWrite, before) => {
                draft.detail(audit::diff::operation(before.as_ref(), record).as_str())
            }
            (_, None) => draft.detail("created"),
            (_, Some(_)) => draft,
        };
        ledger.audit(tx, draft)?;
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
            ledger.audit(tx, draft)?;
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
    Ok(report)
}
