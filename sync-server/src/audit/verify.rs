//! `fieldsales-server audit verify`: walks every chain of every tenant, from its first entry
//! to its head, and names each entry that was edited, deleted or replaced.

use std::fmt;

use super::chain::{Finding, Walk};
use super::{AuditLog, ChainHead, Stream};
use crate::model::TenantId;
use crate::store::StoreError;

/// Rows read per page.
const PAGE: usize = 1_000;

/// One chain's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// The tenant.
    pub tenant: TenantId,
    /// The chain.
    pub stream: Stream,
    /// Entries read.
    pub entries: u64,
    /// The head's number and hash (hex): worth keeping elsewhere, since a chain rewritten
    /// whole from its first entry can only be told from one kept outside the database.
    pub head_seq: u64,
    /// The head's hash.
    pub head_hash: String,
    /// What is wrong, entry by entry; empty when the chain holds.
    pub findings: Vec<Finding>,
}

impl ChainReport {
    /// Whether the chain holds.
    pub fn holds(&self) -> bool {
        self.findings.is_empty()
    }
}

impl fmt::Display for ChainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.holds() {
            write!(
                f,
                "tenant {} {} chain: {} entries, head {} {} — intact",
                self.tenant, self.stream, self.entries, self.head_seq, self.head_hash
            )
        } else {
            for (i, finding) in self.findings.iter().enumerate() {
                if i > 0 {
                    writeln!(f)?;
                }
                write!(
                    f,
                    "tenant {} {} chain: entry {} {}",
                    self.tenant, self.stream, finding.seq, finding.problem
                )?;
            }
            Ok(())
        }
    }
}

/// Walks one chain.
pub async fn chain(log: &dyn AuditLog, head: &ChainHead) -> Result<ChainReport, StoreError> {
    let mut walk = Walk::new(head.tenant);
    let mut after = 0;
    loop {
        let rows = log.audit_chain(head.tenant, after, PAGE).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        walk.rows(&rows);
        if rows.len() < PAGE {
            break;
        }
    }
    let walk = walk.finish(head);
    Ok(ChainReport {
        tenant: head.tenant,
        stream: head.stream,
        entries: walk.count,
        head_seq: head.seq,
        head_hash: hex::encode(head.hash),
        findings: walk.findings,
    })
}

/// Walks every chain kept by each of `logs`, in order of tenant and chain.
pub async fn all(logs: &[&dyn AuditLog]) -> Result<Vec<ChainReport>, StoreError> {
    let mut reports = Vec::new();
    for log in logs {
        let mut heads = log.audit_heads().await?;
        heads.sort_by_key(|h| (h.tenant, h.stream));
        for head in heads {
            reports.push(chain(*log, &head).await?);
        }
    }
    reports.sort_by_key(|r| (r.tenant, r.stream));
    Ok(reports)
}

/// Opens the stores the configuration names (as the server would, migrating them) and
/// walks every chain of every tenant.
pub async fn configured(config: &crate::Config) -> Result<Vec<ChainReport>, crate::RunError> {
    use std::sync::Arc;

    use crate::config::StorageEngine;
    use crate::records::{PostgresRecords, RecordStore, SqliteRecords};

    let store = crate::open_store(config).await?;
    let records: Arc<dyn RecordStore> = match (config.storage.engine, &config.storage.postgres) {
        (StorageEngine::Postgres, Some(pg)) => Arc::new(
            PostgresRecords::with_pool(
                crate::postgres::pool(pg)?,
                config.data_dir.join("read-models"),
                None,
            )
            .await?,
        ),
        _ => Arc::new(SqliteRecords::new(config.data_dir.join("tenants"))),
    };
    let logs: [&dyn AuditLog; 2] = [&*store, &*records];
    Ok(all(&logs).await?)
}
