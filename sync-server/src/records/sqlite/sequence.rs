//! The change sequence and the device holdings: the server's own tables, kept in each
//! tenant's file beside core's and written in the same transactions as the records they
//! describe.
//!
//! The sequence has one row per record, renumbered whenever the record's heads change, which
//! makes the pull cursor a plain number; the row also says who may see the record (owner,
//! unit, creator, shared-with) and when it last moved out of someone's view. The holdings say,
//! per device, which heads of a record it was sent or told to delete — what a scoped pull
//! needs to know whether a record is new to the device (send it whole) and whether the device
//! holds one it may no longer see (tell it to delete).

use automerge::ChangeHash;
use fieldsales_core::doc::encode_heads;
use fieldsales_core::record::{AnyRecord, Header, Kind};
use fieldsales_core::store::migrate::{Migrations, Step, VersionSlot};
use fieldsales_core::store::{StoreRead, Tx};
use fieldsales_core::{Error, RecordId};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::model::DeviceId;
use crate::records::ledger::Ledger;
use crate::records::page::{HeldRow, LogRow, Reach};

/// The sync schema, in the tenant's file beside core's (its version in `schema_versions`).
pub(super) const SYNC_SCHEMA: Migrations = Migrations {
    schema: "sync",
    steps: &[
        Step::Code(first_release),
        Step::Sql(PULL_INDEXES),
        // The record's kind: who may read a record depends on its kind (finance reads every
        // order, nothing of visits). Rows written before it are read with the kind core
        // stores.
        Step::Sql("ALTER TABLE sync_log ADD COLUMN kind TEXT"),
        // A pull reads the kinds its user reads company-wide (the catalogue, the org tree)
        // along this, not the whole sequence.
        Step::Sql("CREATE INDEX IF NOT EXISTS sync_log_kind ON sync_log(kind, seq)"),
        // The sequence's epoch: random, new whenever the file is restored from a backup, so a
        // device whose cursor belongs to another epoch pulls from the start (see
        // `crate::backup`). SQLite's `random()` draws from the system's randomness.
        Step::Sql(
            "ALTER TABLE sync_counter ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
             UPDATE sync_counter SET epoch = random() & 9223372036854775807;",
        ),
    ],
    slot: VersionSlot::Named,
};

/// The tables as first released, brought to their current shape: a file written before the
/// sync schema kept a version has them already, with or without `moved_at`.
fn first_release(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(TABLES)?;
    let has_moved_at: bool = tx.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('sync_log') WHERE name = 'moved_at'",
        [],
        |r| r.get(0),
    )?;
    if !has_moved_at {
        tx.execute_batch(UPGRADE_MOVED_AT)?;
    }
    Ok(())
}

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS sync_counter (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    seq         INTEGER NOT NULL,
    -- The sequence number after the last renumbering of every record (an org tree or role
    -- change): a cursor below it is judged against every record again.
    relogged_at INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO sync_counter (id, seq) VALUES (1, 0);
-- One row per record: its place in the change sequence and who may see it.
CREATE TABLE IF NOT EXISTS sync_log (
    record_id   BLOB PRIMARY KEY,
    seq         INTEGER NOT NULL UNIQUE,
    heads       BLOB NOT NULL,
    owner_id    BLOB,
    org_unit_id BLOB,
    created_by  BLOB,
    shared_with BLOB,               -- concatenated 16-byte ids
    -- The sequence number at which the record last changed who may see it (or may have
    -- left a device that cannot see it); 0 when never. A device whose cursor is below it may
    -- hold the record without seeing it any more.
    moved_at    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
-- What each device holds: the heads it was sent (at which page cursor; 0 = it pushed them),
-- or when it was told to delete the record.
CREATE TABLE IF NOT EXISTS device_records (
    device_id      BLOB NOT NULL,
    record_id      BLOB NOT NULL,
    held           INTEGER NOT NULL,
    heads          BLOB,
    heads_cursor   INTEGER NOT NULL DEFAULT 0,
    removed_cursor INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, record_id)
) WITHOUT ROWID;
";

/// A file from before `moved_at`: its records carry none, so every cursor it already handed
/// out is judged against every record once more (`relogged_at`), as before.
const UPGRADE_MOVED_AT: &str = "
ALTER TABLE sync_log ADD COLUMN moved_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_counter ADD COLUMN relogged_at INTEGER NOT NULL DEFAULT 0;
UPDATE sync_counter SET relogged_at = seq;
";

/// A pull reads the sequence along these: a user's own records, the unowned ones, each unit
/// they see, records shared with someone, records that moved.
const PULL_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS sync_log_owner ON sync_log(owner_id, seq);
CREATE INDEX IF NOT EXISTS sync_log_unit ON sync_log(org_unit_id, seq);
CREATE INDEX IF NOT EXISTS sync_log_shared ON sync_log(seq) WHERE length(shared_with) > 0;
CREATE INDEX IF NOT EXISTS sync_log_moved ON sync_log(moved_at) WHERE moved_at > 0;
";

/// The last number of the sequence.
pub(super) fn last_seq(tx: &Tx<'_>) -> Result<u64, Error> {
    let seq: i64 = tx
        .extension_sql()
        .prepare_cached("SELECT seq FROM sync_counter WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    Ok(seq as u64)
}

/// The epoch of the change sequence (see [`crate::backup`]).
pub(super) fn epoch(tx: &Tx<'_>) -> Result<u64, Error> {
    let epoch: i64 = tx
        .extension_sql()
        .prepare_cached("SELECT epoch FROM sync_counter WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    Ok(epoch as u64)
}

/// Gives the change sequence a new epoch, other than the one it had; returns it. Every cursor
/// handed out before then belongs to the old one: the devices pull from the start again.
pub(crate) fn renew_epoch(conn: &rusqlite::Connection) -> Result<u64, Error> {
    let old: i64 = conn.query_row("SELECT epoch FROM sync_counter WHERE id = 1", [], |r| {
        r.get(0)
    })?;
    let new = loop {
        let drawn =
            crate::records::random_epoch().map_err(|e| Error::Io(std::io::Error::other(e)))?;
        if drawn as i64 != old {
            break drawn;
        }
    };
    conn.execute(
        "UPDATE sync_counter SET epoch = ?1 WHERE id = 1",
        [new as i64],
    )?;
    Ok(new)
}

/// Forgets which heads the device holds of every record (it still holds them, and is told
/// to delete those it may no longer see): a device whose cursor belongs to an older epoch is
/// then sent every record it may see whole, and learns from them what the server holds.
pub(super) fn forget_held_heads(tx: &Tx<'_>, device: DeviceId) -> Result<(), Error> {
    tx.extension_sql()
        .prepare_cached(
            "UPDATE device_records SET heads = NULL, heads_cursor = 0
             WHERE device_id = ?1 AND heads IS NOT NULL",
        )?
        .execute([device.as_bytes().as_slice()])?;
    Ok(())
}

/// The sequence number after the last renumbering of every record.
pub(super) fn relogged_at(tx: &Tx<'_>) -> Result<i64, Error> {
    Ok(tx
        .extension_sql()
        .prepare_cached("SELECT relogged_at FROM sync_counter WHERE id = 1")?
        .query_row([], |r| r.get(0))?)
}

/// The next number of the change sequence (read, then written: a statement with
/// `RETURNING` opens a statement journal, which makes the search index flush its pending
/// entries once per record instead of once per call).
fn next_seq(tx: &Tx<'_>) -> Result<i64, Error> {
    let seq = last_seq(tx)? as i64 + 1;
    tx.extension_sql()
        .prepare_cached("UPDATE sync_counter SET seq = ?1 WHERE id = 1")?
        .execute([seq])?;
    Ok(seq)
}

/// Renumbers a record in the change sequence and records who may see it. `left_holder`:
/// a device holds the record that may not see it (a device pushed a record it cannot see).
pub(super) fn bump(
    tx: &Tx<'_>,
    record: &AnyRecord,
    heads: &[ChangeHash],
    left_holder: bool,
) -> Result<u64, Error> {
    let conn = tx.extension_sql();
    let seq = next_seq(tx)?;
    let h = record.header();
    let reach = Reach::of(h);
    let before: Option<(Reach, i64)> = conn
        .prepare_cached(
            "SELECT owner_id, org_unit_id, created_by, shared_with, moved_at FROM sync_log
             WHERE record_id = ?1",
        )?
        .query_row([h.id], |r| {
            Ok((
                Reach {
                    owner: r.get(0)?,
                    unit: r.get(1)?,
                    created_by: r.get(2)?,
                    shared: r.get::<_, Option<Vec<u8>>>(3)?.unwrap_or_default(),
                },
                r.get(4)?,
            ))
        })
        .optional()?;
    let moved_at = match &before {
        _ if left_holder => seq,
        Some((was, _)) if *was != reach => seq,
        Some((_, moved_at)) => *moved_at,
        None => 0,
    };
    conn.prepare_cached(
        "INSERT INTO sync_log
             (record_id, seq, heads, owner_id, org_unit_id, created_by, shared_with, moved_at,
              kind)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(record_id) DO UPDATE SET seq = excluded.seq, heads = excluded.heads,
             owner_id = excluded.owner_id, org_unit_id = excluded.org_unit_id,
             created_by = excluded.created_by, shared_with = excluded.shared_with,
             moved_at = excluded.moved_at, kind = excluded.kind",
    )?
    .execute(params![
        h.id,
        seq,
        encode_heads(heads),
        reach.owner,
        reach.unit,
        reach.created_by,
        reach.shared,
        moved_at,
        record.kind().as_str()
    ])?;
    Ok(seq as u64)
}

/// Moves a record to the end of the change sequence as having left someone's view, though
/// it did not change: a device holds it that may not see it.
pub(super) fn relog_moved(tx: &Tx<'_>, id: RecordId) -> Result<(), Error> {
    let seq = next_seq(tx)?;
    tx.extension_sql()
        .prepare_cached("UPDATE sync_log SET seq = ?2, moved_at = ?2 WHERE record_id = ?1")?
        .execute(params![id, seq])?;
    Ok(())
}

/// Moves every record to the end of the change sequence, in its order, so that every
/// device's next pull judges them all again against the new org tree and roles: records now
/// visible arrive whole, records no longer visible are removed, and those a device already
/// holds at the same heads are skipped (its holdings are kept per device). No record changed,
/// so nothing else would bring them back into a pull.
pub(super) fn relog_all(tx: &Tx<'_>) -> Result<(), Error> {
    let conn = tx.extension_sql();
    let last = last_seq(tx)? as i64;
    // Every new number is above every old one, so the UNIQUE sequence never collides midway.
    conn.execute("UPDATE sync_log SET seq = seq + ?1", [last])?;
    conn.execute(
        "UPDATE sync_counter SET seq = seq + ?1, relogged_at = seq + ?1 WHERE id = 1",
        [last],
    )?;
    tracing::info!(
        sequence = last,
        "org tree or roles changed: every record relogged"
    );
    Ok(())
}

/// A row of the change sequence as this file keeps it: the row, and its kind when logged
/// (rows logged before kinds were carry none).
pub(super) struct Logged {
    pub row: LogRow,
    kind: Option<String>,
}

pub(super) const LOG_COLUMNS: &str =
    "record_id, seq, heads, owner_id, org_unit_id, created_by, shared_with, kind";

impl Logged {
    pub fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Logged> {
        Ok(Logged {
            row: LogRow {
                id: r.get(0)?,
                seq: r.get::<_, i64>(1)? as u64,
                heads: r.get(2)?,
                owner: r.get(3)?,
                unit: r.get(4)?,
                created_by: r.get(5)?,
                shared: r.get(6)?,
            },
            kind: r.get(7)?,
        })
    }

    /// The record's kind: as logged, or as core stores it for a row logged before kinds were.
    pub fn kind(&self, tx: &Tx<'_>) -> Result<Option<Kind>, Error> {
        let code = match &self.kind {
            Some(code) => Some(code.clone()),
            None => tx.kind_of(self.row.id)?,
        };
        Ok(code.and_then(|c| c.parse().ok()))
    }
}

/// The record's row in the change sequence, if it has one.
pub(super) fn logged(tx: &Tx<'_>, id: RecordId) -> Result<Option<Logged>, Error> {
    Ok(tx
        .extension_sql()
        .prepare_cached(&format!(
            "SELECT {LOG_COLUMNS} FROM sync_log WHERE record_id = ?1"
        ))?
        .query_row([id], Logged::read)
        .optional()?)
}

/// What the device holds of a record or was told to delete.
pub(super) fn held_row(
    tx: &Tx<'_>,
    device: DeviceId,
    id: RecordId,
) -> Result<Option<HeldRow>, Error> {
    Ok(tx
        .extension_sql()
        .prepare_cached(
            "SELECT held, heads, heads_cursor, removed_cursor FROM device_records
             WHERE device_id = ?1 AND record_id = ?2",
        )?
        .query_row(params![device.as_bytes().as_slice(), id], |r| {
            Ok(HeldRow {
                held: r.get(0)?,
                heads: r.get(1)?,
                heads_cursor: r.get::<_, i64>(2)? as u64,
                removed_cursor: r.get::<_, i64>(3)? as u64,
            })
        })
        .optional()?)
}

/// Records that the device holds `id` at `heads` (sent at page cursor `heads_cursor`; 0 when
/// it pushed them), or holds it at heads the server does not track (`None`: it adopted the
/// server's version of a refused record).
pub(super) fn mark_held(
    tx: &Tx<'_>,
    device: DeviceId,
    id: RecordId,
    heads: Option<&[u8]>,
    heads_cursor: u64,
) -> Result<(), Error> {
    let conn = tx.extension_sql();
    match heads {
        Some(heads) => conn
            .prepare_cached(
                "INSERT INTO device_records (device_id, record_id, held, heads, heads_cursor)
                 VALUES (?1, ?2, 1, ?3, ?4)
                 ON CONFLICT(device_id, record_id) DO UPDATE SET held = 1,
                     heads = excluded.heads, heads_cursor = excluded.heads_cursor",
            )?
            .execute(params![
                device.as_bytes().as_slice(),
                id,
                heads,
                heads_cursor as i64
            ])?,
        None => conn
            .prepare_cached(
                "INSERT INTO device_records (device_id, record_id, held) VALUES (?1, ?2, 1)
                 ON CONFLICT(device_id, record_id) DO UPDATE SET held = 1",
            )?
            .execute(params![device.as_bytes().as_slice(), id])?,
    };
    Ok(())
}

/// Records that the device was told, at page cursor `cursor`, to delete `id`.
pub(super) fn mark_removed(
    tx: &Tx<'_>,
    device: DeviceId,
    id: RecordId,
    cursor: u64,
) -> Result<(), Error> {
    tx.extension_sql()
        .prepare_cached(
            "UPDATE device_records SET held = 0, heads = NULL, removed_cursor = ?3
             WHERE device_id = ?1 AND record_id = ?2",
        )?
        .execute(params![device.as_bytes().as_slice(), id, cursor as i64])?;
    Ok(())
}

/// The sequence and holdings in the tenant's file, written at once in the caller's
/// transaction.
pub(super) struct SqliteLedger {
    /// The tenant whose file this is (its audit chain is hashed with it).
    pub tenant: crate::model::TenantId,
}

impl Ledger for SqliteLedger {
    fn stored(
        &mut self,
        tx: &Tx<'_>,
        record: &AnyRecord,
        heads: &[ChangeHash],
        left_holder: bool,
    ) -> Result<(), Error> {
        bump(tx, record, heads, left_holder).map(|_| ())
    }

    fn held(
        &mut self,
        tx: &Tx<'_>,
        device: DeviceId,
        id: RecordId,
        heads: Option<&[u8]>,
    ) -> Result<(), Error> {
        mark_held(tx, device, id, heads, 0)
    }

    fn logged(
        &mut self,
        tx: &Tx<'_>,
        id: RecordId,
    ) -> Result<Option<(Option<Kind>, Header)>, Error> {
        match logged(tx, id)? {
            Some(found) => Ok(Some((found.kind(tx)?, found.row.header()))),
            None => Ok(None),
        }
    }

    fn relog_moved(&mut self, tx: &Tx<'_>, id: RecordId) -> Result<(), Error> {
        relog_moved(tx, id)
    }

    fn relog_all(&mut self, tx: &Tx<'_>) -> Result<(), Error> {
        relog_all(tx)
    }

    fn audit(&mut self, tx: &Tx<'_>, entries: Vec<crate::audit::AuditDraft>) -> Result<(), Error> {
        crate::audit::sqlite::append(
            tx.extension_sql(),
            self.tenant,
            crate::audit::Stream::Records,
            entries,
        )?;
        Ok(())
    }
}
