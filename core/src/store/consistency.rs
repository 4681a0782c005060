//! Proof that the projections agree with the documents.
//!
//! [`Store::check_consistency`] runs SQLite's own integrity check, re-projects every document
//! into a fresh in-memory database and compares every projection table row for row with the
//! live one, and checks that the stored heads and the outbox match the documents. It is what a
//! crash test asserts after reopening a store whose writer was killed, and what support can
//! run on a device that behaves oddly.

use std::collections::BTreeSet;

use rusqlite::Connection;
use rusqlite::types::Value;

use super::{Store, load_doc_with_acked, projection, schema};
use crate::RecordId;
use crate::doc::{DocError, encode_heads};
use crate::error::{Error, Result};

/// What [`Store::check_consistency`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsistencyReport {
    /// Documents read.
    pub documents: usize,
    /// What `PRAGMA integrity_check` said (`["ok"]` when healthy).
    pub integrity: Vec<String>,
    /// Every disagreement found, in words; empty when consistent.
    pub problems: Vec<String>,
}

impl ConsistencyReport {
    /// Whether the database is healthy and every projection matches its document.
    pub fn is_consistent(&self) -> bool {
        self.integrity == ["ok"] && self.problems.is_empty()
    }
}

/// Projection tables compared row for row, with the columns to leave out.
const TABLES: &[(&str, &str)] = &[
    ("records", "rid"),
    ("record_shares", ""),
    ("customer_names", ""),
    ("org_units", ""),
    ("users", ""),
    ("roles", ""),
    ("customers", ""),
    ("contacts", ""),
    ("follow_ups", ""),
    ("leads", ""),
    ("opportunities", ""),
    ("stage_history", ""),
    ("visits", ""),
    ("visit_photos", ""),
    ("visit_plan_items", ""),
    ("daily_reports", ""),
    ("tasks", ""),
    ("approvals", ""),
    ("products", ""),
    ("orders", ""),
    ("payments", ""),
    ("targets", ""),
];

fn rows(conn: &Connection, sql: &str) -> Result<BTreeSet<Vec<ValueKey>>> {
    let mut stmt = conn.prepare(sql)?;
    let n = stmt.column_count();
    let rows = stmt.query_map([], |r| {
        (0..n)
            .map(|i| r.get::<_, Value>(i).map(ValueKey::from))
            .collect::<rusqlite::Result<Vec<_>>>()
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A column value that can be ordered (floats compared by bits: projections are
/// deterministic, so equal documents give bit-equal floats).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum ValueKey {
    Null,
    Int(i64),
    Real(u64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<Value> for ValueKey {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => ValueKey::Null,
            Value::Integer(i) => ValueKey::Int(i),
            Value::Real(f) => ValueKey::Real(f.to_bits()),
            Value::Text(s) => ValueKey::Text(s),
            Value::Blob(b) => ValueKey::Blob(b),
        }
    }
}

fn columns(conn: &Connection, table: &str, skip: &str) -> Result<String> {
    let mut stmt = conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names
        .into_iter()
        .filter(|n| n != skip)
        .collect::<Vec<_>>()
        .join(", "))
}

impl Store {
    /// Checks the database and every projection against the documents. Read-only.
    pub fn check_consistency(&self) -> Result<ConsistencyReport> {
        let mut report = ConsistencyReport {
            integrity: {
                let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
                stmt.query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?
            },
            ..Default::default()
        };

        let mut fresh = Connection::open_in_memory()?;
        schema::migrate(&mut fresh, &[])?;
        let docs: Vec<(RecordId, String, Vec<u8>)> = {
            let mut stmt = self.conn.prepare("SELECT id, kind, heads FROM documents")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let outbox: BTreeSet<RecordId> = self.pending()?.into_iter().collect();
        for (id, kind, heads) in &docs {
            report.documents += 1;
            let (mut doc, acked) = match load_doc_with_acked(&self.conn, *id, &self.actor) {
                Ok(Some(loaded)) => loaded,
                Ok(None) => continue,
                Err(e) => {
                    report.problems.push(format!("{id}: {e}"));
                    continue;
                }
            };
            if encode_heads(&doc.heads()) != *heads {
                report
                    .problems
                    .push(format!("{id}: stored heads differ from the document"));
            }
            let unacked = doc.count_changes_since(&acked) > 0;
            if unacked && !outbox.contains(id) {
                report.problems.push(format!(
                    "{id}: has unacknowledged changes but is not in the outbox"
                ));
            }
            match doc.hydrate() {
                Ok(record) => {
                    if record.kind().as_str() != kind {
                        report
                            .problems
                            .push(format!("{id}: stored kind {kind} differs"));
                    }
                    projection::write(&fresh, &record)?;
                }
                Err(DocError::UnknownKind(_)) => {}
                Err(e) => report
                    .problems
                    .push(format!("{id}: {}", Error::document(*id, e))),
            }
        }
        for id in &outbox {
            if !docs.iter().any(|(d, _, _)| d == id) {
                report
                    .problems
                    .push(format!("{id}: in the outbox without a document"));
            }
        }

        for (table, skip) in TABLES {
            let cols = columns(&fresh, table, skip)?;
            let live = rows(&self.conn, &format!("SELECT {cols} FROM {table}"))?;
            let expected = rows(&fresh, &format!("SELECT {cols} FROM {table}"))?;
            if live != expected {
                let extra = live.difference(&expected).count();
                let missing = expected.difference(&live).count();
                report.problems.push(format!(
                    "{table}: {extra} rows not derived from any document, {missing} derived rows missing"
                ));
            }
        }
        let search_sql = "SELECT r.id, s.text FROM search s JOIN records r ON r.rid = s.rowid";
        if rows(&self.conn, search_sql)? != rows(&fresh, search_sql)? {
            report
                .problems
                .push("search: index differs from the documents".into());
        }
        let grams_sql = "SELECT r.id FROM customer_grams g JOIN records r ON r.rid = g.rowid";
        if rows(&self.conn, grams_sql)? != rows(&fresh, grams_sql)? {
            report
                .problems
                .push("customer_grams: index differs from the documents".into());
        }
        let orphans: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM search WHERE rowid NOT IN (SELECT rid FROM records)",
            [],
            |r| r.get(0),
        )?;
        if orphans > 0 {
            report
                .problems
                .push(format!("search: {orphans} entries without a record"));
        }
        Ok(report)
    }
}
