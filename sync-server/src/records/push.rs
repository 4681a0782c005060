//! A device's push, written once for every backend: each record prepared beside the writer
//! from a read-only connection to the core store (loaded, merged with the pushed changes,
//! checked for foreign actors, hydrated, encoded), then judged and stored inside the write
//! transaction, which only checks that the stored document did not move on meanwhile (else it
//! merges again from what is stored). The sequence and holdings go through a [`Ledger`].

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use fieldsales_core::Error;
use fieldsales_core::authority::permission::{Grants, Vantage};
use fieldsales_core::doc::encode_heads;
use fieldsales_core::process::permissions::Operation;
use fieldsales_core::record::AnyRecord;
use fieldsales_core::store::{Reader, StoreRead, Tx};
use fieldsales_core::sync::protocol::{Bytes, PushRecord, RejectedRecord};
use rayon::prelude::*;

use super::ledger::Ledger;
use super::review::{self, Merged, TenantView};
use super::{Push, Verdict};
use crate::audit::{self, Actor, AuditDraft, Operation as AuditOperation};

/// Read-only connections a store keeps for later.
const MAX_IDLE_READERS: usize = 4;

/// Records prepared per task: few, so that a push's records spread evenly over the pool's
/// threads (each task takes a read connection from the idle ones, which costs little).
const PER_TASK: usize = 4;

/// Read-only connections to a core store file (WAL: they read the last commit while the
/// writer writes).
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Reader>>,
}

impl Readers {
    /// Connections to the store at `path`, opened as needed.
    pub fn new(path: PathBuf) -> Readers {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The store file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Runs `f` with a read-only connection.
    pub fn read<T>(&self, f: impl FnOnce(&Reader) -> Result<T, Error>) -> Result<T, Error> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let reader = match idle {
            Some(reader) => reader,
            None => Reader::open(&self.path)?,
        };
        let out = f(&reader);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(reader);
        }
        out
    }

    /// Prepares each pushed record from a read of its stored document (see
    /// [`review::Prepared`]), the records split among the pool's threads. `actor` is the
    /// server's own. A record whose preparation fails is left to the writer, which prepares
    /// it again and reports what went wrong.
    pub fn prepare_push(
        &self,
        actor: &automerge::ActorId,
        push: &Push,
    ) -> Vec<Option<review::Prepared>> {
        let prepare_chunk = |records: &[PushRecord]| -> Vec<Option<review::Prepared>> {
            self.read(|reader| {
                Ok(records
                    .iter()
                    .map(|pushed| {
                        reader
                            .stored_document(pushed.id)
                            .and_then(|row| review::prepare(actor, &push.actors, pushed, row))
                            .ok()
                    })
                    .collect())
            })
            .unwrap_or_else(|_| records.iter().map(|_| None).collect())
        };
        push.records
            .par_chunks(PER_TASK)
            .flat_map_iter(prepare_chunk)
            .collect()
    }
}

/// Judges and stores a push's records in order, in the caller's transaction; one verdict per
/// record.
pub(crate) fn push_blocking(
    tx: &mut Tx<'_>,
    ledger: &mut impl Ledger,
    push: &Push,
    prepared: Vec<Option<review::Prepared>>,
) -> Result<Vec<Verdict>, Error> {
    let view = TenantView::load(tx)?;
    let grants = Grants::of(&push.author, &view.process);
    let at = Vantage::new(&view.tree, &push.author);
    let can_read =
        |record: &AnyRecord| grants.covers(&at, record.kind(), &Operation::Read, record.header());
    let mut verdicts = Vec::with_capacity(push.records.len());
    let mut entries = Vec::with_capacity(push.records.len());
    let mut prepared = prepared.into_iter();
    for pushed in &push.records {
        let ready = prepared.next().flatten();
        match review::merge(tx, &view, push, pushed, ready)? {
            Merged::Unchanged {
                ack,
                device_current,
                heads,
            } => {
                if device_current {
                    ledger.held(tx, push.device, pushed.id, heads.as_deref())?;
                }
                verdicts.push(Verdict::Accepted(ack));
            }
            Merged::Stored {
                ack,
                before,
                changes,
                record,
                heads,
                device_current,
            } => {
                ledger.stored(tx, &record, &heads, !can_read(&record))?;
                entries.push(stored_entry(push, before.as_deref(), &record, changes));
                // A record moved (reassigned, shared, deleted) takes its sensitive fields'
                // companions along, which the device may not hold.
                for (companion, heads) in tx.align_companions(&record)? {
                    ledger.stored(tx, &companion, &heads, !can_read(&companion))?;
                }
                let encoded = encode_heads(&heads);
                ledger.held(
                    tx,
                    push.device,
                    pushed.id,
                    device_current.then_some(encoded.as_slice()),
                )?;
                verdicts.push(Verdict::Accepted(ack));
            }
            Merged::Rejected(mut rejected) => {
                let kind = tx.kind_of(pushed.id)?;
                entries.push(rejected_entry(push, &rejected, kind));
                if rejected.server_doc.is_some() {
                    // The device adopts the server's version, unless it may not see the
                    // record: then it is sent nothing of it (a device may push to any ID,
                    // a companion's derived one included), and its next pull removes what it
                    // holds.
                    ledger.held(tx, push.device, pushed.id, None)?;
                    if let Some((kind, header)) = ledger.logged(tx, pushed.id)?
                        && !kind
                            .is_some_and(|kind| grants.covers(&at, kind, &Operation::Read, &header))
                    {
                        rejected.server_doc = None;
                        rejected.server_heads = Bytes(Vec::new());
                        ledger.relog_moved(tx, pushed.id)?;
                    }
                }
                verdicts.push(Verdict::Rejected(rejected));
            }
        }
    }
    if !entries.is_empty() {
        ledger.audit(tx, entries)?;
    }
    Ok(verdicts)
}

/// Who pushed, as the audit log names them: from the device's token, never from the push.
fn pusher(push: &Push) -> Actor {
    Actor {
        account: Some(push.account),
        user: Some(push.author.user_id),
        device: Some(push.device),
    }
}

/// The audit entry of a stored record: the key operation it is and what changed.
fn stored_entry(
    push: &Push,
    before: Option<&AnyRecord>,
    after: &AnyRecord,
    changes: Vec<audit::Change>,
) -> AuditDraft {
    let draft = AuditDraft::new(
        push.now,
        pusher(push),
        audit::diff::operation(before, after),
    )
    .about(*after.header().id.as_uuid(), after.kind().as_str())
    .changes(changes);
    match after {
        // The server's own verdict on a check-in is part of what it recorded.
        AnyRecord::Visit(visit) if draft.operation == AuditOperation::CheckIn => {
            match &visit.verdict {
                Some(verdict) if verdict.suspicious() => draft.detail("check-in judged suspicious"),
                Some(_) => draft.detail("check-in judged credible"),
                None => draft,
            }
        }
        _ => draft,
    }
}

/// The audit entry of a refused record, with the rule that refused it.
fn rejected_entry(push: &Push, rejected: &RejectedRecord, kind: Option<String>) -> AuditDraft {
    let mut draft = AuditDraft::new(push.now, pusher(push), AuditOperation::PushRejected);
    draft.record_id = Some(*rejected.id.as_uuid());
    draft.kind = kind;
    draft.rule = Some(rejected.rule.clone());
    let detail = match &rejected.field {
        Some(field) => format!("{field}: {}", rejected.detail),
        None => rejected.detail.clone(),
    };
    draft.detail(detail.chars().take(500).collect::<String>())
}
