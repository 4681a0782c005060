//! The audit tables in SQLite: in the accounts database (the accounts chains of every
//! tenant) and in each tenant's records file (its records chain), the same tables in both.
//! Written only inside the transaction of the change an entry records.

use fieldsales_core::store::migrate::{Migrations, Step, VersionSlot};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::chain::{self, GENESIS};
use super::{AuditDraft, AuditEntry, AuditQuery, ChainHead, ChainRow, Stream};
use crate::model::TenantId;

/// The tables. A head row per chain holds its last number and hash; the entries refuse to be
/// updated or deleted (a second line behind the chain itself).
pub const TABLES: &str = "
CREATE TABLE IF NOT EXISTS audit_head (
    tenant_id BLOB NOT NULL,
    stream    INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    hash      BLOB NOT NULL,
    PRIMARY KEY (tenant_id, stream)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_entry (
    tenant_id  BLOB NOT NULL,
    stream     INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    account_id BLOB,
    user_id    BLOB,
    device_id  BLOB,
    record_id  BLOB,
    kind       TEXT,
    operation  TEXT NOT NULL,
    rule       TEXT,
    changes    TEXT NOT NULL,
    detail     TEXT,
    prev_hash  BLOB NOT NULL,
    hash       BLOB NOT NULL,
    PRIMARY KEY (tenant_id, stream, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS audit_by_time ON audit_entry (tenant_id, at);
CREATE INDEX IF NOT EXISTS audit_by_record ON audit_entry (tenant_id, record_id, at);
CREATE INDEX IF NOT EXISTS audit_by_account ON audit_entry (tenant_id, account_id, at);
CREATE INDEX IF NOT EXISTS audit_by_user ON audit_entry (tenant_id, user_id, at);
CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_entry
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON audit_entry
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
";

/// The audit schema of a tenant's records file, beside core's and sync's (its version in
/// `schema_versions`).
pub const TENANT_SCHEMA: Migrations = Migrations {
    schema: "audit",
    steps: &[Step::Sql(TABLES)],
    slot: VersionSlot::Named,
};

fn blob(id: Option<Uuid>) -> Option<Vec<u8>> {
    id.map(|id| id.as_bytes().to_vec())
}

/// Appends `drafts`, in order, to the chain `stream` of `tenant`, inside the caller's
/// transaction (`conn` must be in one: the head row and the entries change together).
pub fn append(
    conn: &Connection,
    tenant: TenantId,
    stream: Stream,
    drafts: impl IntoIterator<Item = AuditDraft>,
) -> rusqlite::Result<()> {
    let t = tenant.as_bytes().to_vec();
    let head: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE tenant_id = ?1 AND stream = ?2")?
        .query_row(params![t, stream.code()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (mut seq, mut prev) = match head {
        Some((seq, hash)) => (
            seq as u64,
            <[u8; 32]>::try_from(hash.as_slice()).unwrap_or([0xff; 32]),
        ),
        None => (0, GENESIS),
    };
    let mut insert = conn.prepare_cached(
        "INSERT INTO audit_entry (tenant_id, stream, seq, at, account_id, user_id, device_id,
             record_id, kind, operation, rule, changes, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    let mut wrote = false;
    for draft in drafts {
        seq += 1;
        let (entry, hash) = chain::seal(tenant, stream, seq, &prev, draft);
        insert.execute(params![
            t,
            stream.code(),
            seq as i64,
            entry.at,
            blob(entry.account_id),
            blob(entry.user_id),
            blob(entry.device_id),
            blob(entry.record_id),
            entry.kind,
            entry.operation,
            entry.rule,
            chain::changes_json(&entry.changes),
            entry.detail,
            prev.to_vec(),
            hash.to_vec(),
        ])?;
        prev = hash;
        wrote = true;
    }
    if wrote {
        conn.prepare_cached(
            "INSERT INTO audit_head (tenant_id, stream, seq, hash) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant_id, stream) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )?
        .execute(params![t, stream.code(), seq as i64, prev.to_vec()])?;
    }
    Ok(())
}

const COLUMNS: &str = "stream, seq, at, account_id, user_id, device_id, record_id, kind, \
                       operation, rule, changes, detail, prev_hash, hash";

fn opt_uuid(row: &Row<'_>, i: usize) -> Result<Option<Uuid>, String> {
    match row.get::<_, Option<Vec<u8>>>(i) {
        Ok(None) => Ok(None),
        Ok(Some(bytes)) => Uuid::from_slice(&bytes)
            .map(Some)
            .map_err(|_| format!("column {i} is not an id")),
        Err(e) => Err(e.to_string()),
    }
}

/// Reads a row of [`COLUMNS`]: the entry, or what cannot be read.
fn entry_of(row: &Row<'_>) -> Result<AuditEntry, String> {
    let text = |i: usize| row.get::<_, String>(i).map_err(|e| e.to_string());
    let opt_text = |i: usize| row.get::<_, Option<String>>(i).map_err(|e| e.to_string());
    let bytes = |i: usize| row.get::<_, Vec<u8>>(i).map_err(|e| e.to_string());
    let stream = row
        .get::<_, i64>(0)
        .ok()
        .and_then(Stream::from_code)
        .ok_or("the stream is unknown")?;
    let changes = serde_json::from_str(&text(10)?).map_err(|e| format!("changes: {e}"))?;
    Ok(AuditEntry {
        stream,
        seq: row.get::<_, i64>(1).map_err(|e| e.to_string())? as u64,
        at: row.get(2).map_err(|e| e.to_string())?,
        account_id: opt_uuid(row, 3)?,
        user_id: opt_uuid(row, 4)?,
        device_id: opt_uuid(row, 5)?,
        record_id: opt_uuid(row, 6)?,
        kind: opt_text(7)?,
        operation: text(8)?,
        rule: opt_text(9)?,
        changes,
        detail: opt_text(11)?,
        prev_hash: hex::encode(bytes(12)?),
        hash: hex::encode(bytes(13)?),
    })
}

/// Entries of `tenant` in `streams` matching `query`, in order of (time, stream, number).
pub fn query(
    conn: &Connection,
    tenant: TenantId,
    stream: Stream,
    query: &AuditQuery,
) -> rusqlite::Result<Vec<AuditEntry>> {
    let (a_at, a_stream, a_seq) = match query.after {
        Some(c) => (c.at, c.stream.code(), c.seq as i64),
        None => (i64::MIN, i64::MIN, i64::MIN),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_entry
         WHERE tenant_id = ?1 AND stream = ?2
           AND (?3 IS NULL OR record_id = ?3)
           AND (?4 IS NULL OR account_id = ?4 OR user_id = ?4)
           AND (?5 IS NULL OR operation = ?5)
           AND (?6 IS NULL OR at >= ?6)
           AND (?7 IS NULL OR at < ?7)
           AND (at, stream, seq) > (?8, ?9, ?10)
         ORDER BY at, stream, seq
         LIMIT ?11"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            tenant.as_bytes().to_vec(),
            stream.code(),
            blob(query.record),
            blob(query.user),
            query.operation,
            query.from,
            query.to,
            a_at,
            a_stream,
            a_seq,
            query.limit as i64,
        ],
        |row| Ok(entry_of(row)),
    )?;
    let mut out = Vec::new();
    for row in rows {
        // A damaged row is skipped here; `audit verify` names it.
        if let Ok(entry) = row? {
            out.push(entry);
        }
    }
    Ok(out)
}

/// A head row as stored: tenant, stream, number, hash.
pub type HeadRow = (Vec<u8>, i64, i64, Vec<u8>);

/// The head of every chain in this database.
pub fn heads(conn: &Connection) -> rusqlite::Result<Vec<HeadRow>> {
    let mut stmt = conn.prepare("SELECT tenant_id, stream, seq, hash FROM audit_head")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    rows.collect()
}

/// Reads the heads into [`ChainHead`]s, a damaged row read as a head that cannot verify.
pub fn decode_heads(raw: Vec<HeadRow>) -> Vec<ChainHead> {
    raw.into_iter()
        .filter_map(|(tenant, stream, seq, hash)| {
            Some(ChainHead {
                tenant: TenantId::from_slice(&tenant).ok()?,
                stream: Stream::from_code(stream)?,
                seq: seq.max(0) as u64,
                hash: <[u8; 32]>::try_from(hash.as_slice()).unwrap_or([0xee; 32]),
            })
        })
        .collect()
}

/// Rows of a chain after number `after`, in order.
pub fn chain_rows(
    conn: &Connection,
    tenant: TenantId,
    stream: Stream,
    after: u64,
    limit: usize,
) -> rusqlite::Result<Vec<ChainRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM audit_entry WHERE tenant_id = ?1 AND stream = ?2 AND seq > ?3
         ORDER BY seq LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![
            tenant.as_bytes().to_vec(),
            stream.code(),
            after as i64,
            limit as i64
        ],
        |row| {
            Ok(ChainRow {
                seq: row.get::<_, i64>(1)? as u64,
                entry: entry_of(row),
            })
        },
    )?;
    rows.collect()
}
