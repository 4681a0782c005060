//! One pushed record: merge into the server's copy, check who wrote it, hydrate, run core's
//! review, store. Storage-neutral apart from the core store transaction it runs in.

use std::cell::RefCell;
use std::collections::HashMap;

use automerge::ChangeHash;
use fieldsales_core::authority::{self, Context, Known, Lookup, Outcome};
use fieldsales_core::doc::{RecordDoc, decode_heads, encode_heads};
use fieldsales_core::process::SalesProcess;
use fieldsales_core::record::{AnyRecord, Kind, Product, Visit};
use fieldsales_core::scope::OrgTree;
use fieldsales_core::store::Tx;
use fieldsales_core::sync::protocol::{Ack, Bytes, PushRecord, RejectedRecord};
use fieldsales_core::{Error, RecordId, Timestamp};
use rusqlite::OptionalExtension;

use super::Push;

/// What the tenant looks like to the rules: its org tree and process configuration.
pub(super) struct TenantView {
    pub tree: OrgTree,
    pub process: SalesProcess,
    /// People's profiles read during this push (admin-only records: a push cannot change
    /// them, so they stay valid for the whole push).
    profiles: RefCell<HashMap<RecordId, Option<AnyRecord>>>,
}

impl TenantView {
    pub fn load(tx: &Tx<'_>) -> Result<TenantView, Error> {
        Ok(TenantView {
            tree: OrgTree::load(tx.connection())?,
            process: process(tx)?,
            profiles: RefCell::new(HashMap::new()),
        })
    }
}

/// The tenant's sales process: its stored configuration, or the standard one.
pub(crate) fn process(tx: &Tx<'_>) -> Result<SalesProcess, Error> {
    tx.sales_process()
}

/// The review's window on other records, inside the push's transaction.
struct TxLookup<'t, 'c> {
    tx: &'t Tx<'c>,
    view: &'t TenantView,
}

impl Lookup for TxLookup<'_, '_> {
    fn record(&self, id: RecordId) -> fieldsales_core::Result<Option<AnyRecord>> {
        if let Some(found) = self.view.profiles.borrow().get(&id) {
            return Ok(found.clone());
        }
        let found = match self.tx.get_any(id) {
            Ok(record) => Some(record),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        if let Some(AnyRecord::UserProfile(_)) = &found {
            self.view.profiles.borrow_mut().insert(id, found.clone());
        }
        Ok(found)
    }

    fn visits_near(
        &self,
        rep: RecordId,
        at: Timestamp,
        window_ms: i64,
        except: RecordId,
        per_side: usize,
    ) -> fieldsales_core::Result<Vec<Visit>> {
        authority::fieldwork::visit_ids_near(
            self.tx.connection(),
            rep,
            at,
            window_ms,
            except,
            per_side,
        )?
        .into_iter()
        .map(|id| self.tx.get::<Visit>(id))
        .collect()
    }

    fn visits_with_photo(&self, sha256: &str) -> fieldsales_core::Result<Option<Vec<RecordId>>> {
        let mut stmt = self.tx.connection().prepare_cached(
            "SELECT p.visit_id FROM visit_photos p JOIN visits v ON v.id = p.visit_id
             WHERE p.sha256 = ?1 AND v.deleted = 0",
        )?;
        let ids = stmt
            .query_map([sha256], |r| r.get::<_, RecordId>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(ids))
    }

    fn opportunity_named(
        &self,
        customer: RecordId,
        name: &str,
        except: RecordId,
    ) -> fieldsales_core::Result<Option<RecordId>> {
        let wanted = fieldsales_core::dedup::fold_width_and_case(name.trim());
        let mut stmt = self.tx.connection().prepare_cached(
            "SELECT id, name FROM opportunities WHERE customer_id = ?1 AND id <> ?2 AND deleted = 0",
        )?;
        let rows = stmt
            .query_map(rusqlite::params![customer, except], |r| {
                Ok((r.get::<_, RecordId>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .find(|(_, n)| fieldsales_core::dedup::fold_width_and_case(n.trim()) == wanted)
            .map(|(id, _)| id))
    }

    fn product_by_code(&self, code: &str) -> fieldsales_core::Result<Known<Product>> {
        Ok(
            match authority::product_id_by_code(self.tx.connection(), code)? {
                Some(id) => Known::Found(self.tx.get(id)?),
                None => Known::Missing,
            },
        )
    }
}

/// What happened to one pushed record.
pub(super) enum Merged {
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
        record: Box<AnyRecord>,
        heads: Vec<ChangeHash>,
        device_current: bool,
    },
    /// Refused.
    Rejected(RejectedRecord),
}

fn reject(
    id: RecordId,
    rule: &str,
    field: Option<String>,
    detail: String,
    before: Option<(Vec<u8>, Vec<u8>)>,
) -> Merged {
    let (server_doc, server_heads) = match before {
        Some((doc, heads)) => (Some(Bytes(doc)), Bytes(heads)),
        None => (None, Bytes(Vec::new())),
    };
    Merged::Rejected(RejectedRecord {
        id,
        rule: rule.to_owned(),
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
pub(super) struct Prepared {
    /// The stored document and heads it started from (`None`: none stored).
    before_row: Option<StoredRow>,
    stage: Stage,
}

impl Prepared {
    /// The stored heads it started from.
    fn base(&self) -> Option<&[u8]> {
        self.before_row.as_ref().map(|(_, heads)| heads.as_slice())
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
    heads: Vec<ChangeHash>,
    before: Option<AnyRecord>,
    after: AnyRecord,
    ack: Ack,
    sorted_device: Vec<ChangeHash>,
}

/// A stored document and its encoded heads.
pub(super) type StoredRow = (Vec<u8>, Vec<u8>);

/// The stored document and heads of `id`, if any.
pub(super) fn stored(
    conn: &rusqlite::Connection,
    id: RecordId,
) -> Result<Option<StoredRow>, Error> {
    Ok(conn
        .prepare_cached("SELECT doc, heads FROM documents WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Loads the stored document (`before_row`, as read), applies the pushed changes, checks who
/// made them and hydrates the record before and after. `actor` is the server's own actor;
/// `actors` the pushing device's.
pub(super) fn prepare(
    actor: &automerge::ActorId,
    actors: &[automerge::ActorId],
    pushed: &PushRecord,
    before_row: Option<StoredRow>,
) -> Result<Prepared, Error> {
    let stage = stage_of(actor, actors, pushed, &before_row)?;
    Ok(Prepared { before_row, stage })
}

fn stage_of(
    actor: &automerge::ActorId,
    actors: &[automerge::ActorId],
    pushed: &PushRecord,
    before_row: &Option<StoredRow>,
) -> Result<Stage, Error> {
    let id = pushed.id;
    let done = |merged: Merged| Ok(Stage::Done(merged));
    let rejected = |rule: &str, field: Option<String>, detail: String| {
        done(reject(id, rule, field, detail, before_row.clone()))
    };
    let device_heads = match decode_heads(&pushed.heads.0) {
        Ok(h) => h,
        Err(e) => return rejected("sync.malformed", Some("heads".into()), e.to_string()),
    };
    let mut doc = match before_row {
        Some((bytes, _)) => RecordDoc::load(bytes, actor).map_err(|e| Error::document(id, e))?,
        None => RecordDoc::empty(actor),
    };
    let before_heads = doc.heads();
    let before = match before_row {
        Some(_) => Some(doc.hydrate().map_err(|e| Error::document(id, e))?),
        None => None,
    };
    if let Err(e) = doc.apply_or_discard(&pushed.changes.0) {
        return rejected("sync.unusable_changes", None, e.to_string());
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
            heads: before_row.as_ref().map(|(_, heads)| heads.clone()),
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
            "sync.foreign_actor",
            None,
            format!(
                "changes by actors not registered to this device: {}",
                foreign.join(", ")
            ),
        );
    }
    let hydrated = doc.hydrate();
    if doc.record_id_given(hydrated.as_ref().ok()) != Some(id) {
        return rejected(
            "sync.wrong_record",
            Some("header.id".into()),
            format!("the changes do not hold record {id}"),
        );
    }
    let after = match hydrated {
        Ok(r) => r,
        Err(e) => return rejected("record.invalid", None, e.to_string()),
    };
    if ADMIN_KINDS.contains(&after.kind()) {
        return rejected(
            "scope.admin_only",
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
        heads,
        before,
        after,
        ack,
        sorted_device,
    })))
}

/// Merges, checks and (when accepted) stores one pushed record, starting from `prepared`
/// when it was prepared from the document stored now.
pub(super) fn merge(
    tx: &mut Tx<'_>,
    view: &TenantView,
    push: &Push,
    pushed: &PushRecord,
    prepared: Option<Prepared>,
) -> Result<Merged, Error> {
    let id = pushed.id;
    let stored_heads: Option<Vec<u8>> = tx
        .connection()
        .prepare_cached("SELECT heads FROM documents WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let prepared = match prepared {
        Some(p) if p.base() == stored_heads.as_deref() => p,
        _ => prepare(
            tx.actor(),
            &push.actors,
            pushed,
            stored(tx.connection(), id)?,
        )?,
    };
    let before_row = prepared.before_row;
    let r = match prepared.stage {
        Stage::Done(merged) => return Ok(merged),
        Stage::Review(r) => *r,
    };
    let Reviewing {
        saved,
        heads,
        before,
        after,
        ack,
        sorted_device,
    } = r;
    let outcome = {
        let lookup = TxLookup { tx, view };
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
    let (record, heads, amended) = match outcome {
        Err(rejection) => {
            return Ok(reject(
                id,
                &rejection.rule,
                rejection.field,
                rejection.detail,
                before_row,
            ));
        }
        Ok(Outcome::Accept) => {
            tx.save_encoded(id, &saved, &heads, &after)?;
            (after, heads, false)
        }
        Ok(Outcome::Amend(record)) => {
            let mut doc =
                RecordDoc::load(&saved, tx.actor()).map_err(|e| Error::document(id, e))?;
            doc.write(&record, push.now)
                .map_err(|e| Error::document(id, e))?;
            let heads = doc.heads();
            tx.save_encoded(id, &doc.save(), &heads, &record)?;
            (*record, heads, true)
        }
    };
    let mut sorted = heads.clone();
    sorted.sort();
    Ok(Merged::Stored {
        ack,
        record: Box::new(record),
        device_current: !amended && sorted == sorted_device,
        heads,
    })
}
