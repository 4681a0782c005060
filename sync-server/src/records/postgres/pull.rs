//! A page of what a user may see, read from PostgreSQL in one snapshot and judged row by row
//! by the shared page builder.
//!
//! The page's transaction is `REPEATABLE READ`: the counter, the sequence rows and the
//! documents come from one snapshot. The org tree, the roles and the viewer come from the read
//! model, caught up through that same snapshot before the first row is judged, so they are
//! the snapshot's or newer — never older:
//! a page judged with an org tree older than its rows could move a device's cursor past a
//! renumbering without judging the renumbered rows again. (Newer is harmless: whatever
//! changed after the snapshot is after the page's cursor, and the next page judges it.)

use std::collections::HashMap;

use fieldsales_core::record::Kind;
use fieldsales_core::store::StoreRead;
use fieldsales_core::sync::protocol::{Bytes, PulledRecord};
use fieldsales_core::{RecordId, me};
use tokio_postgres::IsolationLevel;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use std::sync::PoisonError;

use super::model::catch_up_with;
use super::{PostgresRecords, backend, client, uuid};
use crate::model::TenantId;
use crate::postgres::retryable;
use crate::records::page::{HeldRow, LogRow, PageBuilder, RowVerdict, Scan};
use crate::records::{Page, Pull};
use crate::store::StoreError;

/// Rows read from the sequence per query.
const BATCH: i64 = 1024;

/// Times a page is tried again when its transaction raced another one on the same holdings.
const RETRIES: usize = 5;

const COLUMNS: &str = "id, seq, heads, owner_id, org_unit_id, created_by, shared_with, kind, \
                       octet_length(doc)";

/// The SQL of the next rows of the sequence a pull must judge, after `$2`, at most `$3`: the
/// whole sequence, or the rows `scan` narrows it to (`$4` the user, `$5`… the units), each
/// part along its own index (as the SQLite backend reads its own).
fn scan_sql(scan: &Scan) -> String {
    let Scan::Narrowed { units, kinds } = scan else {
        return format!(
            "SELECT {COLUMNS} FROM record WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
    };
    let part = |filter: &str| {
        format!(
            "(SELECT {COLUMNS} FROM record WHERE tenant_id = $1 AND {filter}
              ORDER BY seq LIMIT $3)"
        )
    };
    let mut parts = vec![
        part("owner_id = $4 AND seq > $2"),
        part("owner_id IS NULL AND seq > $2"),
        part("shared_with <> '\\x' AND seq > $2"),
        part("moved_at > 0 AND moved_at > $2"),
    ];
    for u in 0..units.len() {
        parts.push(part(&format!("org_unit_id = ${} AND seq > $2", u + 5)));
    }
    // Kind codes are the product's own identifiers, never user input.
    for kind in kinds {
        parts.push(part(&format!("kind = '{}' AND seq > $2", kind.as_str())));
    }
    format!("{} ORDER BY seq LIMIT $3", parts.join(" UNION "))
}

/// One row read: the row, its kind and its document's size.
struct Scanned {
    row: LogRow,
    kind: Option<Kind>,
    size: usize,
}

fn pg(e: tokio_postgres::Error) -> StoreError {
    backend(e)
}

impl PostgresRecords {
    /// The next page of `pull`, its holdings recorded; tried again when its transaction
    /// raced another on the device's holdings.
    pub(super) async fn pull_page(&self, tenant: TenantId, pull: Pull) -> Result<Page, StoreError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.pull_blocking(tenant, &pull))
            .await
            .map_err(backend)?
    }

    fn pull_blocking(&self, tenant: TenantId, pull: &Pull) -> Result<Page, StoreError> {
        let mut attempt = 0;
        loop {
            match self.pull_once(tenant, pull) {
                Err(Retry::Again(e)) if attempt < RETRIES => {
                    attempt += 1;
                    tracing::debug!(error = %e, attempt, "a pull raced another; again");
                }
                Err(Retry::Again(e)) => return Err(pg(e)),
                Err(Retry::Failed(e)) => return Err(e),
                Ok(page) => return Ok(page),
            }
        }
    }

    fn pull_once(&self, tenant: TenantId, pull: &Pull) -> Result<Page, Retry> {
        let handle = &self.inner.handle;
        let tenant_id = uuid(tenant.as_bytes());
        let found = self.tenant(tenant)?;
        let mut conn = handle.block_on(client(&self.inner.pool))?;
        let tx = handle.block_on(
            conn.build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .start(),
        )?;
        // The snapshot starts with this statement.
        let counter = handle.block_on(crate::postgres::query_opt(
            &tx,
            "SELECT seq, relogged_at, epoch FROM tenant_counter WHERE tenant_id = $1",
            &[&tenant_id],
        ))?;
        let Some(counter) = counter else {
            // Nothing was ever written for this tenant.
            return Ok(Page {
                cursor: pull.cursor,
                ..Page::default()
            });
        };
        let (last, relogged_at): (i64, i64) = (counter.get(0), counter.get(1));
        let epoch = counter.get::<_, i64>(2) as u64;
        let device = uuid(pull.device.as_bytes());
        let restarted = pull.restarts_at(Some(epoch));
        if restarted {
            // The database was restored from a backup: the device starts over, and is sent
            // every record it may see whole, whatever the (restored) holdings say it has.
            handle.block_on(crate::postgres::execute(
                &tx,
                "UPDATE device_record SET heads = NULL, heads_cursor = 0
                 WHERE tenant_id = $1 AND device_id = $2 AND heads IS NOT NULL",
                &[&tenant_id, &device],
            ))?;
        }
        // The read model at least as new as the snapshot: the tree, the permissions and who
        // the viewer is now.
        let (tree, process, me) = {
            let mut store = found.model.lock().unwrap_or_else(PoisonError::into_inner);
            catch_up_with(&mut store, &tx, handle, tenant_id)?;
            let read = || -> Result<_, fieldsales_core::Error> {
                Ok((
                    store.org_tree()?,
                    store.sales_process()?,
                    me::resolve(&*store, pull.viewer.user_id)?,
                ))
            };
            read().map_err(|e| Retry::Failed(backend(e)))?
        };
        let Some(me) = me else {
            // The user lost their profile since the call began: nothing to send.
            return Ok(Page {
                cursor: pull.cursor,
                ..Page::default()
            });
        };
        let pull = Pull {
            viewer: me,
            cursor: if restarted { 0 } else { pull.cursor },
            ..pull.clone()
        };
        let mut builder = PageBuilder::new(&pull, &tree, &process);
        let scan = builder.scan(relogged_at);
        let units: Vec<Uuid> = match &scan {
            Scan::Narrowed { units, .. } => units.iter().map(|u| *u.as_uuid()).collect(),
            Scan::Everything => Vec::new(),
        };
        let sql = scan_sql(&scan);
        let stmt = handle.block_on(tx.prepare_cached(&sql))?;
        let user = *pull.viewer.user_id.as_uuid();
        let mut sent: Vec<(RecordId, Vec<u8>)> = Vec::new();
        let mut reached_end = false;
        'scan: loop {
            let cursor = builder.cursor() as i64;
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&tenant_id, &cursor, &BATCH];
            if matches!(scan, Scan::Narrowed { .. }) {
                params.push(&user);
                params.extend(units.iter().map(|u| u as &(dyn ToSql + Sync)));
            }
            let rows = handle.block_on(tx.query(&stmt, &params))?;
            let full = rows.len() as i64 == BATCH;
            let scanned: Vec<Scanned> = rows
                .iter()
                .map(|r| {
                    let kind: String = r.get(7);
                    Scanned {
                        row: LogRow {
                            id: RecordId::from_uuid(r.get(0)),
                            seq: r.get::<_, i64>(1) as u64,
                            heads: r.get(2),
                            owner: r.get::<_, Option<Uuid>>(3).map(RecordId::from_uuid),
                            unit: r.get::<_, Option<Uuid>>(4).map(RecordId::from_uuid),
                            created_by: r.get::<_, Option<Uuid>>(5).map(RecordId::from_uuid),
                            shared: Some(r.get(6)),
                        },
                        kind: kind.parse().ok(),
                        size: r.get::<_, i32>(8).max(0) as usize,
                    }
                })
                .collect();
            let held = handle.block_on(holdings(&tx, tenant_id, device, &scanned))?;
            for s in scanned {
                if builder.full() {
                    break 'scan;
                }
                let verdict = builder.judge(&s.row, s.kind, held.get(&s.row.id));
                if verdict == RowVerdict::Send {
                    sent.push((s.row.id, s.row.heads.clone()));
                    // The document is read once the page is known.
                    builder.send(
                        PulledRecord {
                            id: s.row.id,
                            doc: Bytes(Vec::new()),
                            heads: Bytes(s.row.heads),
                        },
                        s.size,
                    );
                }
            }
            if !full {
                reached_end = true;
                break;
            }
        }
        if !sent.is_empty() {
            let ids: Vec<Uuid> = sent.iter().map(|(id, _)| *id.as_uuid()).collect();
            let docs: HashMap<Uuid, Vec<u8>> = handle
                .block_on(crate::postgres::query(
                    &tx,
                    "SELECT id, doc FROM record WHERE tenant_id = $1 AND id = ANY($2)",
                    &[&tenant_id, &ids],
                ))?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            for record in builder.records_mut() {
                match docs.get(record.id.as_uuid()) {
                    Some(doc) => record.doc = Bytes(doc.clone()),
                    None => {
                        return Err(Retry::Failed(StoreError::Corrupt {
                            detail: format!("record {} vanished from its own snapshot", record.id),
                        }));
                    }
                }
            }
        }
        let mut page = builder.finish(reached_end.then_some(last as u64));
        page.epoch = Some(epoch);
        page.restarted = restarted;
        let page_cursor = page.cursor as i64;
        if !sent.is_empty() {
            let records: Vec<Uuid> = sent.iter().map(|(id, _)| *id.as_uuid()).collect();
            let heads: Vec<Vec<u8>> = sent.into_iter().map(|(_, h)| h).collect();
            handle.block_on(crate::postgres::execute(
                &tx,
                "INSERT INTO device_record (tenant_id, device_id, record_id, held, heads,
                     heads_cursor)
                 SELECT $1, $2, u.record, true, u.heads, $5
                 FROM unnest($3::uuid[], $4::bytea[]) AS u(record, heads)
                 ON CONFLICT (tenant_id, device_id, record_id) DO UPDATE SET
                     held = true, heads = excluded.heads, heads_cursor = excluded.heads_cursor",
                &[&tenant_id, &device, &records, &heads, &page_cursor],
            ))?;
        }
        if !page.removed.is_empty() {
            let removed: Vec<Uuid> = page.removed.iter().map(|id| *id.as_uuid()).collect();
            handle.block_on(crate::postgres::execute(
                &tx,
                "UPDATE device_record SET held = false, heads = NULL, removed_cursor = $4
                 WHERE tenant_id = $1 AND device_id = $2 AND record_id = ANY($3)",
                &[&tenant_id, &device, &removed, &page_cursor],
            ))?;
        }
        handle.block_on(tx.commit())?;
        Ok(page)
    }
}

/// What the device holds of the scanned rows.
async fn holdings(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant: Uuid,
    device: Uuid,
    scanned: &[Scanned],
) -> Result<HashMap<RecordId, HeldRow>, tokio_postgres::Error> {
    let ids: Vec<Uuid> = scanned.iter().map(|s| *s.row.id.as_uuid()).collect();
    let rows = crate::postgres::query(
        tx,
        "SELECT record_id, held, heads, heads_cursor, removed_cursor FROM device_record
             WHERE tenant_id = $1 AND device_id = $2 AND record_id = ANY($3)",
        &[&tenant, &device, &ids],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                RecordId::from_uuid(r.get(0)),
                HeldRow {
                    held: r.get(1),
                    heads: r.get(2),
                    heads_cursor: r.get::<_, i64>(3) as u64,
                    removed_cursor: r.get::<_, i64>(4) as u64,
                },
            )
        })
        .collect())
}

/// Why a page failed: a race to run again, or anything else.
enum Retry {
    Again(tokio_postgres::Error),
    Failed(StoreError),
}

impl From<tokio_postgres::Error> for Retry {
    fn from(e: tokio_postgres::Error) -> Self {
        if retryable(&e) {
            Retry::Again(e)
        } else {
            Retry::Failed(backend(e))
        }
    }
}

impl From<StoreError> for Retry {
    fn from(e: StoreError) -> Self {
        Retry::Failed(e)
    }
}
