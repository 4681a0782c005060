//! A page of what a user may see, from the tenant's file: the change sequence read along
//! indexes of who may see each record, each row judged by the shared [`PageBuilder`] (core's
//! one permission rule), the device's holdings consulted to send a record whole only when new
//! to the device and to tell it what to delete.

use fieldsales_core::store::{StoreRead, Tx};
use fieldsales_core::sync::protocol::{Bytes, PulledRecord};
use fieldsales_core::{Error, RecordId};

use super::sequence::{self, LOG_COLUMNS, Logged};
use crate::records::page::{PageBuilder, RowVerdict, Scan};
use crate::records::{Page, Pull};

/// The SQL of the next rows of the change sequence a pull must judge, after `?1`, at most
/// `?2`, in order: the whole sequence, or the rows `scan` narrows it to (`?3` is the user,
/// `?4`… the units). Each part is read along its own index and stops at `?2` rows; the first
/// `?2` of their union are the first `?2` of the sequence one filter over the whole sequence
/// would give.
fn scan_sql(scan: &Scan) -> String {
    let Scan::Narrowed { units, kinds } = scan else {
        return format!("SELECT {LOG_COLUMNS} FROM sync_log WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    };
    // Each part names its index: ordered by `seq` with a limit, the planner would otherwise
    // rather walk the whole sequence in order than sort a few rows found by an index.
    let part = |index: &str, filter: &str| {
        format!(
            "SELECT * FROM (SELECT {LOG_COLUMNS} FROM sync_log INDEXED BY {index}
                 WHERE {filter} ORDER BY seq LIMIT ?2)"
        )
    };
    let mut parts = vec![
        part("sync_log_owner", "owner_id = ?3 AND seq > ?1"),
        part("sync_log_owner", "owner_id IS NULL AND seq > ?1"),
        part("sync_log_shared", "length(shared_with) > 0 AND seq > ?1"),
        part("sync_log_moved", "moved_at > 0 AND moved_at > ?1"),
    ];
    for u in 0..units.len() {
        parts.push(part(
            "sync_log_unit",
            &format!("org_unit_id = ?{} AND seq > ?1", u + 4),
        ));
    }
    if !kinds.is_empty() {
        // Kind codes are the product's own identifiers, never user input.
        for kind in kinds {
            parts.push(part(
                "sync_log_kind",
                &format!("kind = '{}' AND seq > ?1", kind.as_str()),
            ));
        }
        parts.push(part("sync_log_kind", "kind IS NULL AND seq > ?1"));
    }
    format!("{} ORDER BY seq LIMIT ?2", parts.join(" UNION "))
}

/// The next page of `pull`, its holdings recorded.
pub(super) fn pull_blocking(tx: &mut Tx<'_>, pull: &Pull) -> Result<Page, Error> {
    const BATCH: i64 = 1024;
    let epoch = sequence::epoch(tx)?;
    let restarted = pull.restarts_at(Some(epoch));
    let restart;
    let pull = if restarted {
        // The server was restored from a backup: the device starts over, and is sent every
        // record it may see whole, whatever the (restored) holdings say it has.
        sequence::forget_held_heads(tx, pull.device)?;
        restart = Pull {
            cursor: 0,
            ..pull.clone()
        };
        &restart
    } else {
        pull
    };
    let tree = tx.org_tree()?;
    let process = tx.sales_process()?;
    let mut builder = PageBuilder::new(pull, &tree, &process);
    // SQL narrows the scan to rows the user might see or the device might hold; the rule
    // itself is applied by the page builder, in Rust, by the one permission check.
    let scan = builder.scan(sequence::relogged_at(tx)?);
    let sql = scan_sql(&scan);
    let mut sent: Vec<(RecordId, Vec<u8>)> = Vec::new();
    let mut reached_end = false;
    'scan: loop {
        let rows: Vec<Logged> = {
            let mut stmt = tx.extension_sql().prepare_cached(&sql)?;
            let mut values: Vec<rusqlite::types::Value> =
                vec![(builder.cursor() as i64).into(), BATCH.into()];
            if let Scan::Narrowed { units, .. } = &scan {
                values.push(pull.viewer.user_id.as_bytes().to_vec().into());
                values.extend(units.iter().map(|u| u.as_bytes().to_vec().into()));
            }
            let rows = stmt.query_map(rusqlite::params_from_iter(values), Logged::read)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let full = rows.len() as i64 == BATCH;
        for logged in rows {
            if builder.full() {
                break 'scan;
            }
            let held = sequence::held_row(tx, pull.device, logged.row.id)?;
            let kind = logged.kind(tx)?;
            let row = logged.row;
            if builder.judge(&row, kind, held.as_ref()) == RowVerdict::Send {
                let Some(doc) = tx.document_bytes(row.id)? else {
                    continue;
                };
                let size = doc.len();
                sent.push((row.id, row.heads.clone()));
                builder.send(
                    PulledRecord {
                        id: row.id,
                        doc: Bytes(doc),
                        heads: Bytes(row.heads),
                    },
                    size,
                );
            }
        }
        if !full {
            reached_end = true;
            break;
        }
    }
    let end = if reached_end {
        Some(sequence::last_seq(tx)?)
    } else {
        None
    };
    let mut page = builder.finish(end);
    page.epoch = Some(epoch);
    page.restarted = restarted;
    for (id, heads) in &sent {
        sequence::mark_held(tx, pull.device, *id, Some(heads), page.cursor)?;
    }
    for id in &page.removed {
        sequence::mark_removed(tx, pull.device, *id, page.cursor)?;
    }
    Ok(page)
}
