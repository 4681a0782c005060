//! The device's side of a round trip: committing one response page.
//!
//! Everything in a page lands in one transaction together with the new cursor: a crash
//! between two pages leaves the device at the previous cursor, and the server sends that
//! page again (whole documents merge idempotently).
//!
//! **A restored server.** The cursor belongs to the server's epoch ([`META_EPOCH`]). A page
//! of another epoch than the one the device kept means the server was restored from a
//! backup: it is older than the device, it ignored the request's push, and it starts its
//! sequence from the beginning, sending every record the user may see whole. In that page's
//! transaction the device forgets every acknowledgement (the restored server holds none of
//! them for certain) and any upload of an attachment, and marks itself *recovering*
//! ([`META_RECOVERING`]). Each record the server sends records the server's heads again and is
//! queued when the device holds changes beyond them; the client pushes nothing while
//! recovering. With the last page, every record the server did not send and that holds a
//! change of this device's own is queued too (the server lacks it: created or pulled after the
//! backup). The client then pushes what it may offer as its own ([`crate::store::Store::offerable_changes`]):
//! its unpushed changes and those the server acknowledged after the backup and lost. Changes
//! by other actors are their authors' to offer again, and an own change built on one of them
//! waits until the server has it.

use crate::RecordId;
use crate::doc::decode_heads;
use crate::error::{Error, Result};
use crate::rule::RuleCode;
use crate::store::Store;
use crate::store::StoreRead;
use crate::store::{Received, SetAside, Tx};
use crate::sync::protocol::SyncResponse;

/// Meta key of the pull cursor (decimal text).
pub const META_CURSOR: &str = "sync.cursor";
/// Meta key of the server time of the last successful sync (JSON of a `Timestamp`).
pub const META_LAST_SUCCESS: &str = "sync.last_success_at";
/// Meta key of the server epoch the cursor belongs to (decimal text).
pub const META_EPOCH: &str = "sync.epoch";
/// Meta key present while the device follows a restored server's sequence from its start
/// (see the module documentation); its pushes wait until the last page.
pub const META_RECOVERING: &str = "sync.recovering";

/// What committing a page did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageOutcome {
    /// Pushed records the server acknowledged.
    pub acked: usize,
    /// Pushed records refused: (record, rule).
    pub rejected: Vec<(RecordId, String)>,
    /// Records merged from the server.
    pub received: usize,
    /// Records deleted because they left the user's view.
    pub removed: usize,
    /// This page came from a server restored from a backup (another epoch): the device now
    /// recovers.
    pub server_restored: bool,
    /// This page was the last of a recovery: what the server lacks is queued to push.
    pub recovered: bool,
    /// Records queued at the end of a recovery because the server did not send them.
    pub reoffered: usize,
}

/// The device's pull cursor.
pub fn cursor(store: &Store) -> Result<u64> {
    Ok(store
        .meta(META_CURSOR)?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0))
}

/// The server epoch the device's cursor belongs to, when a server has told it one.
pub fn epoch(store: &impl StoreRead) -> Result<Option<u64>> {
    Ok(store
        .meta(META_EPOCH)?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok()))
}

/// Whether the device is following a restored server's sequence from its start.
pub fn recovering(store: &impl StoreRead) -> Result<bool> {
    Ok(store.meta(META_RECOVERING)?.is_some())
}

fn heads(id: RecordId, bytes: &[u8]) -> Result<Vec<automerge::ChangeHash>> {
    decode_heads(bytes).map_err(|e| Error::document(id, e))
}

/// Commits one response page inside `tx` (acks, refusals, records, removals, cursor).
pub fn apply_page(tx: &mut Tx<'_>, page: &SyncResponse) -> Result<PageOutcome> {
    let mut outcome = PageOutcome::default();
    if let Some(now) = page.epoch {
        let kept = epoch(&*tx)?;
        if kept.is_some_and(|kept| kept != now) {
            tracing::warn!(
                was = kept.unwrap_or_default(),
                now,
                "the server was restored from a backup: syncing everything again"
            );
            tx.forget_acknowledgements()?;
            tx.forget_uploads()?;
            tx.set_meta(META_RECOVERING, b"1")?;
            outcome.server_restored = true;
        }
        if kept != Some(now) {
            tx.set_meta(META_EPOCH, now.to_string().as_bytes())?;
        }
    }
    for ack in &page.acks {
        tx.mark_acked(ack.id, &heads(ack.id, &ack.heads.0)?)?;
        outcome.acked += 1;
    }
    for refused in &page.rejected {
        tx.set_aside(
            refused.id,
            SetAside {
                rule: &refused.rule,
                field: refused.field.as_deref(),
                detail: &refused.detail,
            },
        )?;
        if let Some(doc) = &refused.server_doc {
            tx.apply_remote(
                refused.id,
                &doc.0,
                &heads(refused.id, &refused.server_heads.0)?,
            )?;
        }
        outcome.rejected.push((refused.id, refused.rule.clone()));
    }
    let server_heads = page
        .records
        .iter()
        .map(|r| heads(r.id, &r.heads.0))
        .collect::<Result<Vec<_>>>()?;
    let received: Vec<Received<'_>> = page
        .records
        .iter()
        .zip(&server_heads)
        .map(|(r, h)| Received {
            id: r.id,
            bytes: &r.doc.0,
            heads: h,
        })
        .collect();
    outcome.received += tx.apply_remote_all(&received)?;
    for &id in &page.removed {
        if tx.is_pending(id)? {
            // The user's unsent edit of a record they may no longer see: kept, listed.
            tx.set_aside(
                id,
                SetAside {
                    rule: RuleCode::ScopeRemoved.as_str(),
                    field: None,
                    detail: "the record left your data scope before your edit was sent",
                },
            )?;
        } else {
            tx.forget(id)?;
        }
        outcome.removed += 1;
    }
    if !page.has_more && recovering(&*tx)? {
        let own = tx.own_actors()?;
        outcome.reoffered = tx.queue_unacknowledged(&own)?;
        tx.delete_meta(META_RECOVERING)?;
        outcome.recovered = true;
        tracing::info!(
            reoffered = outcome.reoffered,
            "caught up with the restored server"
        );
    }
    tx.set_meta(META_CURSOR, page.cursor.to_string().as_bytes())?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{RecordDoc, encode_heads};
    use crate::record::{AnyRecord, Customer};
    use crate::sync::protocol::{Bytes, PulledRecord};
    use crate::testing::customer;
    use crate::{RecordId, Timestamp};

    fn page(epoch: u64, records: Vec<PulledRecord>, has_more: bool) -> SyncResponse {
        SyncResponse {
            server_time: Timestamp::from_millis(1_773_018_000_000),
            acks: Vec::new(),
            rejected: Vec::new(),
            records,
            removed: Vec::new(),
            cursor: 9,
            has_more,
            me: None,
            epoch: Some(epoch),
        }
    }

    fn apply(store: &mut Store, page: &SyncResponse) -> PageOutcome {
        store.transaction(|tx| apply_page(tx, page)).unwrap()
    }

    fn acked_now(store: &mut Store, id: RecordId) {
        let heads = store.heads(id).unwrap();
        store.mark_acked(id, &heads).unwrap();
    }

    /// A device meets a restored server: it forgets what the old one acknowledged, takes
    /// what the restored one sends (queueing a record it holds more of), pushes nothing while
    /// the pages run, and at the last page queues its own records the server did not send —
    /// not a record only others wrote.
    #[test]
    fn a_page_of_another_epoch_makes_the_device_offer_again_what_the_server_lacks() {
        let mut store = Store::open_in_memory().unwrap();
        let rep = RecordId::new();
        let first = apply(&mut store, &page(41, Vec::new(), false));
        assert!(!first.server_restored, "a first epoch is only kept");
        assert_eq!(epoch(&store).unwrap(), Some(41));

        // Backed up by the server: the first version of `edited`.
        let edited = store.create(customer(rep, "上海申通电子有限公司")).unwrap();
        let edited = edited.header.id;
        acked_now(&mut store, edited);
        let backed_up = store.document_bytes(edited).unwrap().unwrap();
        let backed_up_heads = store.heads(edited).unwrap();
        // Acknowledged after the backup, lost by the restore: an edit, a new record.
        store
            .update::<Customer>(edited, |c| {
                c.tier = Some("B".into());
                Ok(())
            })
            .unwrap();
        acked_now(&mut store, edited);
        let created = store.create(customer(rep, "杭州新叶茶业有限公司")).unwrap();
        let created = created.header.id;
        acked_now(&mut store, created);
        // Another device's record, pulled after the backup: not this device's to offer.
        let theirs = customer(RecordId::new(), "宁波海港物流有限公司");
        let theirs_id = theirs.header.id;
        let mut doc = RecordDoc::create(
            &AnyRecord::Customer(theirs),
            &automerge::ActorId::random(),
            Timestamp::now(),
        )
        .unwrap();
        store
            .apply_remote(theirs_id, &doc.save(), &doc.heads())
            .unwrap();
        // Never pushed.
        let unpushed = store.create(customer(rep, "苏州园区精工有限公司")).unwrap();
        let unpushed = unpushed.header.id;
        assert_eq!(store.pending().unwrap(), vec![unpushed]);

        let restored = page(
            77,
            vec![PulledRecord {
                id: edited,
                doc: Bytes(backed_up),
                heads: Bytes(encode_heads(&backed_up_heads)),
            }],
            true,
        );
        let outcome = apply(&mut store, &restored);
        assert!(outcome.server_restored && !outcome.recovered);
        assert_eq!(epoch(&store).unwrap(), Some(77));
        assert!(recovering(&store).unwrap());
        let mut pending = store.pending().unwrap();
        pending.sort();
        let mut expected = vec![edited, unpushed];
        expected.sort();
        assert_eq!(pending, expected, "the edit the server lacks is queued");
        let own = store.own_actors().unwrap();
        let offer = store.offerable_changes(edited, &own).unwrap();
        assert_eq!((offer.offered, offer.waiting), (1, 0), "only the lost edit");

        let last = page(77, Vec::new(), false);
        let outcome = apply(&mut store, &last);
        assert!(outcome.recovered && !outcome.server_restored);
        assert_eq!(outcome.reoffered, 1, "the record created after the backup");
        assert!(!recovering(&store).unwrap());
        let pending = store.pending().unwrap();
        assert!(pending.contains(&created) && pending.contains(&unpushed));
        assert!(
            !pending.contains(&theirs_id),
            "others' records are theirs to offer"
        );
        let whole = store.offerable_changes(created, &own).unwrap();
        assert_eq!(whole.waiting, 0);
        assert!(whole.offered >= 1, "its whole history: {whole:?}");

        // The same epoch again is an ordinary page.
        let again = apply(&mut store, &page(77, Vec::new(), false));
        assert!(!again.server_restored && !again.recovered);
    }

    /// A sign-in again gives the store a fresh actor; changes made as the one before stay
    /// its own (the server keeps it registered to the device), until the store is wiped.
    #[test]
    fn the_actors_a_store_wrote_as_stay_its_own_until_wiped() {
        let mut store = Store::open_in_memory().unwrap();
        let first = store.actor().clone();
        let second = automerge::ActorId::random();
        store.set_actor(second.clone()).unwrap();
        store.set_actor(second.clone()).unwrap();
        assert_eq!(store.own_actors().unwrap(), vec![second.clone(), first]);
        store.wipe().unwrap();
        assert_eq!(store.own_actors().unwrap(), vec![store.actor().clone()]);
    }
}
