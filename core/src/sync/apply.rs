//! The device's side of a round trip: committing one response page.
//!
//! Everything in a page lands in one transaction together with the new cursor: a crash
//! between two pages leaves the device at the previous cursor, and the server sends that
//! page again (whole documents merge idempotently).

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
}

/// The device's pull cursor.
pub fn cursor(store: &Store) -> Result<u64> {
    Ok(store
        .meta(META_CURSOR)?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0))
}

fn heads(id: RecordId, bytes: &[u8]) -> Result<Vec<automerge::ChangeHash>> {
    decode_heads(bytes).map_err(|e| Error::document(id, e))
}

/// Commits one response page inside `tx` (acks, refusals, records, removals, cursor).
pub fn apply_page(tx: &mut Tx<'_>, page: &SyncResponse) -> Result<PageOutcome> {
    let mut outcome = PageOutcome::default();
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
    tx.set_meta(META_CURSOR, page.cursor.to_string().as_bytes())?;
    Ok(outcome)
}
