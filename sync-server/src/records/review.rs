//! One pushed record: merge into the server's copy, check who wrote it, hydrate, run core's
//! review over core's facts, store. Storage-neutral apart from the core store transaction it
//! runs in.

use automerge::ChangeHash;
use fieldsales_core::authority::{self, Context, Outcome};
use fieldsales_core::doc::{RecordDoc, decode_heads, encode_heads};
use fieldsales_core::process::SalesProcess;
use fieldsales_core::record::{AnyRecord, Kind, SensitiveField};
use fieldsales_core::rule::RuleCode;
use fieldsales_core::scope::OrgTree;
use fieldsales_core::store::{FactCache, Facts, StoreRead, StoredDocument, Tx};
use fieldsales_core::sync::protocol::{Ack, Bytes, PushRecord, RejectedRecord};
use fieldsales_core::{Error, RecordId};

use super::Push;
use crate::audit::Change;
use crate::audit::diff::{Fields, changes};

/// What the tenant looks like to the rules during one push: its org tree, its process
/// configuration and what the rules' facts have read so far (see [`FactCache`]).
pub(crate) struct TenantView {
    pub tree: OrgTree,
    pub process: SalesProcess,
    facts: FactCache,
}

impl TenantView {
    pub fn load(tx: &Tx<'_>) -> Result<TenantView, Error> {
        Ok(TenantView {
            tree: tx.org_tree()?,
            process: tx.sales_process()?,
            facts: FactCache::default(),
        })
    }
}

/// What happened to one pushed record.
pub(crate) enum Merged {
    /// Nothing new (a replay): acknowledged again, nothing written.
    Unchanged {
        ack: Ack,
        device_current: bool,
        /// The stored heads, encoded (`None`: nothing stored).
        heads: Option<Vec<u8>>,
    },
    /// Stored; the sequence must be bumped.
    Stored {
        ack: Ack,
        /// The record before the push (`None`: new), for the audit log.
        before: Option<Box<AnyRecord>>,
        /// What changed, field by field, for the audit log.
        changes: Vec<Change>,
        record: Box<AnyRecord>,
        heads: Vec<ChangeHash>,
        device_current: bool,
    },
    /// Refused.
    Rejected(RejectedRecord),
}

fn reject(
    id: RecordId,
    rule: RuleCode,
    field: Option<String>,
    detail: String,
    before: Option<StoredDocument>,
) -> Merged {
    let (server_doc, server_heads) = match before {
        Some(stored) => (
            Some(Bytes(stored.bytes)),
            Bytes(encode_heads(&stored.heads)),
        ),
        None => (None, Bytes(Vec::new())),
    };
    Merged::Rejected(RejectedRecord {
        id,
        rule: rule.to_string(),
        field,
        detail,
        server_doc,
        server_heads,
    })
}

/// Kinds only an admin writes, through the admin API: a device may never change the org
/// tree, people's roles or the process configuration.
const ADMIN_KINDS: &[Kind] = &[
    Kind::OrgUnit,
    Kind::UserProfile,
    Kind::Role,
    Kind::ProcessConfig,
];

/// The part of a merge that reads nothing but the stored document and the pushed changes:
/// loading, applying, checking who wrote the changes, hydrating before and after. It may run
/// before the push takes the tenant's writer, on another thread, from a read of the stored
/// document; [`merge`] uses it only when the stored document is still the one it started
/// from (same heads), and does it again itself otherwise. The outcome depends on nothing
/// else, so either way the result is the same.
pub(crate) struct Prepared {
    /// The stored document and heads it started from (`None`: none stored).
    before_row: Option<StoredDocument>,
    stage: Stage,
}

impl Prepared {
    /// The stored heads it started from.
    fn base(&self) -> Option<&[ChangeHash]> {
        self.before_row
            .as_ref()
            .map(|stored| stored.heads.as_slice())
    }
}

enum Stage {
    /// Decided without the rules: a replay or a refusal.
    Done(Merged),
    /// For the rules to judge.
    Review(Box<Reviewing>),
}

struct Reviewing {
    /// The merged document, saved (encoding it is the writer's biggest cost otherwise).
    saved: Vec<u8>,
    /// The record's fields before and after, read from the document (for the audit log).
    before_fields: Fields,
    after_fields: Fields,
    heads: Vec<ChangeHash>,
    before: Option<AnyRecord>,
    after: AnyRecord,
    ack: Ack,
    sorted_device: Vec<ChangeHash>,
}

/// Loads the stored document (`before_row`, as read), applies the pushed changes, checks who
/// made them and hydrates the record before and after. `actor` is the server's own actor;
/// `actors` the pushing device's.
pub(crate) fn prepare(
    actor: &automerge::ActorId,
    actors: &[automerge::ActorId],
    pushed: &PushRecord,
    before_row: Option<StoredDocument>,
) -> Result<Prepared, Error> {
    let stage = stage_of(actor, actors, pushed, &before_row)?;
    Ok(Prepared { before_row, stage })
}

fn stage_of(
    actor: &automerge::ActorId,
    actors: &[automerge::ActorId],
    pushed: &PushRecord,
    before_row: &Option<StoredDocument>,
) -> Result<Stage, Error> {
    let id = pushed.id;
    let done = |merged: Merged| Ok(Stage::Done(merged));
    let rejected = |rule: RuleCode, field: Option<String>, detail: String| {
        done(reject(id, rule, field, detail, before_row.clone()))
    };
    let device_heads = match decode_heads(&pushed.heads.0) {
        Ok(h) => h,
        Err(e) => return rejected(RuleCode::SyncMalformed, Some("heads".into()), e.to_string()),
    };
    let mut doc = match before_row {
        Some(stored) => {
            RecordDoc::load(&stored.bytes, actor).map_err(|e| Error::document(id, e))?
        }
        None => RecordDoc::empty(actor),
    };
    let before_heads = doc.heads();
    // Hydrated and flattened (for the audit entry) together, from the document as stored:
    // one read of each object for both, instead of reading the old heads again after the
    // merge.
    let (before, before_fields) = match before_row {
        Some(_) => {
            let (record, fields) = doc
                .hydrate_with_fields()
                .map_err(|e| Error::document(id, e))?;
            (Some(record), fields)
        }
        None => (None, Fields::new()),
    };
    if let Err(e) = doc.apply_or_discard(&pushed.changes.0) {
        return rejected(RuleCode::SyncUnusableChanges, None, e.to_string());
    }
    let ack_heads: Vec<ChangeHash> = device_heads
        .iter()
        .copied()
        .filter(|h| doc.has_change(h))
        .collect();
    let ack = Ack {
        id,
        heads: Bytes(encode_heads(&ack_heads)),
    };
    let mut after_heads = doc.heads();
    after_heads.sort();
    let mut sorted_device = device_heads.clone();
    sorted_device.sort();
    if after_heads == {
        let mut b = before_heads.clone();
        b.sort();
        b
    } {
        return done(Merged::Unchanged {
            device_current: after_heads == sorted_device,
            ack,
            heads: before_row
                .as_ref()
                .map(|stored| encode_heads(&stored.heads)),
        });
    }
    let foreign: Vec<String> = doc
        .actors_since(&before_heads)
        .into_iter()
        .filter(|a| !actors.contains(a))
        .map(|a| a.to_hex_string())
        .collect();
    if !foreign.is_empty() {
        return rejected(
            RuleCode::SyncForeignActor,
            None,
            format!(
                "changes by actors not registered to this device: {}",
                foreign.join(", ")
            ),
        );
    }
    let hydrated = doc.hydrate_with_fields();
    if doc.record_id_given(hydrated.as_ref().ok().map(|(record, _)| record)) != Some(id) {
        return rejected(
            RuleCode::SyncWrongRecord,
            Some("header.id".into()),
            format!("the changes do not hold record {id}"),
        );
    }
    let (after, after_fields) = match hydrated {
        Ok(both) => both,
        Err(e) => return rejected(RuleCode::RecordInvalid, None, e.to_string()),
    };
    // A sensitive field lives in its companion: a value written into the record's own
    // document would reach every reader of the record, in its history even once cleared.
    let sensitive: Vec<&str> = SensitiveField::of_kind(after.kind())
        .map(SensitiveField::field)
        .collect();
    if !sensitive.is_empty()
        && let Some(field) = doc
            .root_values_since(&before_heads, &sensitive)
            .into_iter()
            .next()
    {
        return rejected(
            RuleCode::FieldInDocument,
            Some(format!("{}.{field}", after.kind())),
            format!(
                "a {}'s {field} is kept in its own document, never in the {}'s",
                after.kind(),
                after.kind()
            ),
        );
    }
    if ADMIN_KINDS.contains(&after.kind()) {
        return rejected(
            RuleCode::ScopeAdminOnly,
            None,
            format!(
                "a {} is written by an admin, not synced from a device",
                after.kind()
            ),
        );
    }
    let heads = doc.heads();
    let saved = doc.save();
    Ok(Stage::Review(Box::new(Reviewing {
        saved,
        before_fields,
        after_fields,
        heads,
        before,
        after,
        ack,
        sorted_device,
    })))
}

/// Merges, checks and (when accepted) stores one pushed record, starting from `prepared`
/// when it was prepared from the document stored now.
pub(crate) fn merge(
    tx: &mut Tx<'_>,
    view: &TenantView,
    push: &Push,
    pushed: &PushRecord,
    prepared: Option<Prepared>,
) -> Result<Merged, Error> {
    let id = pushed.id;
    let stored_heads = tx.stored_heads(id)?;
    let prepared = match prepared {
        Some(p) if p.base() == stored_heads.as_deref() => p,
        _ => prepare(tx.actor(), &push.actors, pushed, tx.stored_document(id)?)?,
    };
    let before_row = prepared.before_row;
    let r = match prepared.stage {
        Stage::Done(merged) => return Ok(merged),
        Stage::Review(r) => *r,
    };
    let Reviewing {
        saved,
        before_fields,
        after_fields,
        heads,
        before,
        after,
        ack,
        sorted_device,
    } = r;
    let outcome = {
        let lookup = Facts::sharing(&*tx, &view.facts);
        let ctx = Context {
            author: &push.author,
            tree: &view.tree,
            process: &view.process,
            now: push.now,
            clock_offset: push.clock_offset,
            lookup: &lookup,
        };
        authority::review(&ctx, before.as_ref(), &after)
    };
    let (record, heads, amended, after_fields) = match outcome {
        Err(rejection) => {
            return Ok(reject(
                id,
                rejection.rule,
                rejection.field,
                rejection.detail,
                before_row,
            ));
        }
        Ok(Outcome::Accept) => {
            tx.save_encoded(id, &saved, &heads, &after)?;
            (after, heads, false, after_fields)
        }
        Ok(Outcome::Amend(record)) => {
            let mut doc =
                RecordDoc::load(&saved, tx.actor()).map_err(|e| Error::document(id, e))?;
            // Usually the header's unit and a visit's judgement: those keys alone.
            doc.amend(&after, &record, push.now)
                .map_err(|e| Error::document(id, e))?;
            let heads = doc.heads();
            let amended_fields = doc.fields();
            tx.save_encoded(id, &doc.save(), &heads, &record)?;
            (*record, heads, true, amended_fields)
        }
    };
    let mut sorted = heads.clone();
    sorted.sort();
    Ok(Merged::Stored {
        ack,
        before: before.map(Box::new),
        changes: changes(&before_fields, &after_fields),
        record: Box::new(record),
        device_current: !amended && sorted == sorted_device,
        heads,
    })
}
