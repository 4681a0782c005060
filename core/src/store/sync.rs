//! What sync needs of the store beyond ordinary writes: whole documents in and out within a
//! transaction (the server merges and reviews pushed changes this way), the edits the server
//! refused, and wiping everything when the device is revoked.
//!
//! A refused edit cannot be undone by merging (a CRDT only grows), so the device keeps the
//! user's version in `rejected_changes` and replaces its document with the server's whole;
//! the user's work stays listable instead of silently lost.

use automerge::ChangeHash;
use rusqlite::{OptionalExtension, params};

use super::{Applied, Store, Tx, load_doc, load_doc_with_acked, meta_set, projection};
use crate::doc::{DocError, RecordDoc, decode_heads, encode_heads};
use crate::error::{Error, Result};
use crate::record::AnyRecord;
use crate::{RecordId, Timestamp};

/// An edit the server refused, as the device keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedChange {
    /// Its number on this device.
    pub seq: i64,
    /// The record.
    pub record_id: RecordId,
    /// The record's kind code.
    pub kind: String,
    /// The server's stable reason code (`immutable.check_in`, ...).
    pub rule: String,
    /// The field concerned, if any.
    pub field: Option<String>,
    /// What to tell the user.
    pub detail: String,
    /// When the device learnt of the refusal.
    pub rejected_at: Timestamp,
    /// The refused Automerge changes.
    pub changes: Vec<u8>,
    /// The record as the user had it (saved document), if it could be kept.
    pub attempted: Option<Vec<u8>>,
    /// When the user dismissed it.
    pub resolved_at: Option<Timestamp>,
}

impl RejectedChange {
    /// The record as the user had edited it.
    pub fn attempted_record(&self) -> Option<AnyRecord> {
        let bytes = self.attempted.as_ref()?;
        let doc = RecordDoc::load(bytes, &automerge::ActorId::random()).ok()?;
        doc.hydrate().ok()
    }
}

/// Why a local copy is set aside.
pub struct SetAside<'a> {
    /// Stable reason code.
    pub rule: &'a str,
    /// The field concerned.
    pub field: Option<&'a str>,
    /// What to tell the user.
    pub detail: &'a str,
}

impl Store {
    /// The edits the server refused that the user has not dismissed, newest first.
    pub fn rejected_changes(&self) -> Result<Vec<RejectedChange>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, record_id, kind, reason_code, field, detail, rejected_at, changes,
                    attempted, resolved_at
             FROM rejected_changes WHERE resolved_at IS NULL ORDER BY seq DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RejectedChange {
                seq: r.get(0)?,
                record_id: r.get(1)?,
                kind: r.get(2)?,
                rule: r.get(3)?,
                field: r.get(4)?,
                detail: r.get(5)?,
                rejected_at: r.get(6)?,
                changes: r.get(7)?,
                attempted: r.get(8)?,
                resolved_at: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Marks a refused edit as seen and dealt with; it leaves [`Store::rejected_changes`].
    pub fn dismiss_rejected_change(&mut self, seq: i64) -> Result<bool> {
        let now = self.clock.now();
        let n = self.conn.execute(
            "UPDATE rejected_changes SET resolved_at = ?2 WHERE seq = ?1 AND resolved_at IS NULL",
            params![seq, now],
        )?;
        Ok(n == 1)
    }

    /// Erases every record, setting and refused edit (a revoked device, a sign-out), then
    /// compacts the file so the erased pages do not linger on disk, and deletes the photos
    /// beside it (on an encrypted store their key went with the settings first, so a copy
    /// that survives on the disk cannot be read).
    pub fn wipe(&mut self) -> Result<()> {
        self.transaction(|tx| {
            let ids: Vec<RecordId> = {
                let mut stmt = tx.tx.prepare("SELECT id FROM documents")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            for id in ids {
                tx.forget(id)?;
            }
            tx.tx.execute_batch(
                "DELETE FROM rejected_changes; DELETE FROM outbox; DELETE FROM meta;",
            )?;
            Ok(())
        })?;
        // The actor goes too; a fresh one is written so the store stays usable.
        let actor = automerge::ActorId::random();
        meta_set(&self.conn, super::META_ACTOR, actor.to_bytes().to_vec())?;
        self.actor = actor;
        self.conn.execute_batch("VACUUM")?;
        if let Some(path) = &self.path {
            match std::fs::remove_dir_all(crate::attachments::folder_beside(path)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.ensure_attachment_key()
    }
}

impl Tx<'_> {
    /// The actor this transaction writes changes as.
    pub fn actor(&self) -> &automerge::ActorId {
        self.actor
    }

    /// The document of `id` as stored, loaded to write as this store's actor.
    pub fn load_document(&self, id: RecordId) -> Result<Option<RecordDoc>> {
        load_doc(&self.tx, id, self.actor)
    }

    /// Stores a document the caller merged or changed itself, with its projections.
    /// `acked` are the heads to record as acknowledged (the server passes the document's own
    /// heads: it is the authority, it has no outbox). Returns the record stored.
    pub fn save_document(
        &mut self,
        id: RecordId,
        doc: &mut RecordDoc,
        acked: Option<&[ChangeHash]>,
    ) -> Result<Applied> {
        match doc.hydrate() {
            Ok(record) => {
                if record.header().id != id {
                    return Err(Error::InvalidInput {
                        field: "record id",
                        detail: format!("document for {id} holds {}", record.header().id),
                    });
                }
                self.store_doc(id, doc, &record, acked)?;
                Ok(Applied::Record {
                    record: Box::new(record),
                    pending: false,
                })
            }
            Err(DocError::UnknownKind(code)) => {
                self.store_raw(id, &code, doc, acked)?;
                Ok(Applied::UnknownKind(code))
            }
            Err(e) => Err(Error::document(id, e)),
        }
    }

    /// Stores `record` whose document was saved as `bytes` at `heads` (the server encodes it
    /// off its writing thread), with its projections; the heads count as acknowledged. The
    /// caller vouches that `record` is what the document holds.
    pub fn save_encoded(
        &mut self,
        id: RecordId,
        bytes: &[u8],
        heads: &[ChangeHash],
        record: &AnyRecord,
    ) -> Result<()> {
        if record.header().id != id {
            return Err(Error::InvalidInput {
                field: "record id",
                detail: format!("document for {id} holds {}", record.header().id),
            });
        }
        self.store_bytes(
            id,
            record.kind().as_str(),
            bytes,
            &encode_heads(heads),
            Some(heads),
        )?;
        projection::write(&self.tx, record)?;
        Ok(())
    }

    /// Sets the local copy of `id` aside as a refused edit (changes not acknowledged and the
    /// whole document as the user had it), then removes it. Does nothing when the record is
    /// not here. Returns whether a copy was kept.
    pub fn set_aside(&mut self, id: RecordId, why: SetAside<'_>) -> Result<bool> {
        let Some((mut doc, acked)) = load_doc_with_acked(&self.tx, id, self.actor)? else {
            return Ok(false);
        };
        let kind: String = self
            .tx
            .prepare_cached("SELECT kind FROM documents WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .unwrap_or_default();
        let changes = doc.changes_since(&acked);
        let attempted = doc.save();
        self.tx
            .prepare_cached(
                "INSERT INTO rejected_changes
                    (record_id, kind, reason_code, field, detail, rejected_at, changes, attempted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                id, kind, why.rule, why.field, why.detail, self.now, changes, attempted
            ])?;
        self.forget(id)?;
        Ok(true)
    }

    /// Forgets every acknowledgement: the server this store syncs with was restored from a
    /// backup and holds none of them for certain. Each record the server sends again records
    /// its heads anew; the outbox is left as it is.
    pub fn forget_acknowledgements(&mut self) -> Result<usize> {
        Ok(self.tx.execute(
            "UPDATE documents SET acked_heads = NULL WHERE acked_heads IS NOT NULL",
            [],
        )?)
    }

    /// Queues for upload every record the server has not acknowledged since
    /// [`Tx::forget_acknowledgements`] that holds a change by one of `own` (this device's
    /// actors): after a restored server sent everything it holds for the user, these are the
    /// records it lacks, which the device offers again. A record holding only other actors'
    /// changes is theirs to offer. Returns how many were queued.
    pub fn queue_unacknowledged(&mut self, own: &[automerge::ActorId]) -> Result<usize> {
        let ids: Vec<RecordId> = {
            let mut stmt = self.tx.prepare(
                "SELECT id FROM documents WHERE acked_heads IS NULL
                     AND id NOT IN (SELECT id FROM outbox)",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut queued = 0;
        for id in ids {
            let Some(mut doc) = load_doc(&self.tx, id, self.actor)? else {
                continue;
            };
            if doc.actors_since(&[]).iter().any(|a| own.contains(a)) {
                self.tx
                    .prepare_cached("INSERT OR IGNORE INTO outbox (id, queued_at) VALUES (?1, ?2)")?
                    .execute(params![id, self.now])?;
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Marks every attachment the server was known to hold as not uploaded: a restored
    /// server may lack those uploaded after its backup. The next upload run asks the server
    /// first (`HEAD`) and sends only what it lacks. Returns how many were marked.
    pub fn forget_uploads(&mut self) -> Result<usize> {
        Ok(self.tx.execute(
            "UPDATE attachments SET uploaded_bytes = 0, uploaded_at = NULL
             WHERE uploaded_at IS NOT NULL",
            [],
        )?)
    }

    /// The actors whose changes are this device's own (see [`Store::own_actors`]).
    pub fn own_actors(&self) -> Result<Vec<automerge::ActorId>> {
        super::own_actors_of(&self.tx, self.actor)
    }

    /// Whether `id` has local changes the server has not acknowledged.
    pub fn is_pending(&self, id: RecordId) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM outbox WHERE id = ?1")?
            .query_row([id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Removes a value of the store's own settings within the transaction.
    pub fn delete_meta(&mut self, key: &str) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM meta WHERE key = ?1")?
            .execute([key])?;
        Ok(())
    }

    /// Sets a value of the store's own settings within the transaction.
    pub fn set_meta(&mut self, key: &str, value: &[u8]) -> Result<()> {
        meta_set(&self.tx, key, value.to_vec())
    }

    /// The acknowledged heads of `id`, if the server ever acknowledged it.
    pub fn acked_heads(&self, id: RecordId) -> Result<Option<Vec<ChangeHash>>> {
        let row: Option<Option<Vec<u8>>> = self
            .tx
            .prepare_cached("SELECT acked_heads FROM documents WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        row.flatten()
            .map(|b| decode_heads(&b).map_err(|e| Error::document(id, e)))
            .transpose()
    }
}
