//! What the server writes itself, with its own actor: an admin's records (org units,
//! profiles, roles, the process configuration) and the results of the scheduled jobs. Each
//! is renumbered in the change sequence so every device in scope pulls it.

use fieldsales_core::doc::RecordDoc;
use fieldsales_core::record::AnyRecord;
use fieldsales_core::store::{Store as CoreStore, StoreRead, Tx};
use fieldsales_core::{Error, RecordId, Timestamp};

use super::sequence::{bump, relog_all};
use crate::jobs::{JobParams, JobReport};
use crate::records::AdminWriteError;

/// Writes `record` as the server, over the fields of the stored one, and renumbers it.
fn write_as_server(tx: &mut Tx<'_>, record: &AnyRecord, now: Timestamp) -> Result<RecordId, Error> {
    let id = record.header().id;
    let mut doc = match tx.load_document(id)? {
        Some(doc) => doc,
        None => RecordDoc::empty(tx.actor()),
    };
    doc.write(record, now).map_err(|e| Error::document(id, e))?;
    let heads = doc.heads();
    tx.save_document(id, &mut doc, Some(&heads))?;
    bump(tx, record, &heads, false)?;
    Ok(id)
}

/// An admin's write of an org unit, a profile, a role or the configuration. A change of who
/// sees what (the tree, a person's unit or roles, a role's scope) renumbers every record.
pub(super) fn put_blocking(
    store: &mut CoreStore,
    record: AnyRecord,
    now: Timestamp,
) -> Result<Result<RecordId, AdminWriteError>, Error> {
    if let Err(invalid) = record.validate() {
        return Ok(Err(AdminWriteError::Invalid(invalid.to_string())));
    }
    let id = record.header().id;
    store.transaction(|tx| {
        let before = tx.find_any(id)?;
        if let Some(found) = tx.kind_of(id)?
            && found != record.kind().as_str()
        {
            return Ok(Err(AdminWriteError::WrongKind { id, found }));
        }
        if before.is_some_and(|before| changes_visibility(&before, &record)) {
            relog_all(tx)?;
        }
        write_as_server(tx, &record, now)?;
        Ok(Ok(id))
    })
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
        (AnyRecord::Role(b), AnyRecord::Role(a)) => b.data_scope != a.data_scope,
        // The permission matrix decides who reads which kind.
        (AnyRecord::ProcessConfig(b), AnyRecord::ProcessConfig(a)) => {
            b.process.roles != a.process.roles
        }
        _ => false,
    }
}

/// One run of the scheduled jobs over a tenant (see [`fieldsales_core::jobs`]), written in
/// one transaction.
pub(super) fn run_jobs_blocking(
    store: &mut CoreStore,
    params: JobParams,
) -> Result<JobReport, Error> {
    store.transaction(|tx| {
        let due = fieldsales_core::jobs::due(tx, params.now, params.report_lookback_days)?;
        let mut report = JobReport::default();
        for lead in due.reclaimed_leads {
            let id = write_as_server(tx, &AnyRecord::Lead(lead), params.now)?;
            report.reclaimed_leads.push(id);
        }
        for missing in due.missing_reports {
            let id = write_as_server(tx, &AnyRecord::DailyReport(missing), params.now)?;
            report.missing_reports.push(id);
        }
        for withdrawn in due.withdrawn_missing {
            let id = write_as_server(tx, &AnyRecord::DailyReport(withdrawn), params.now)?;
            report.withdrawn_missing.push(id);
        }
        Ok(report)
    })
}
