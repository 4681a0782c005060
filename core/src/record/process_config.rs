//! The tenant's sales-process configuration as a synced record.
//!
//! One record per tenant, with the derived ID [`ProcessConfig::id_for`], so every device and
//! the server address the same document without a lookup. The whole [`SalesProcess`] sits in
//! the document: phones run the rules offline from exactly what the server will enforce.

use autosurgeon::{Hydrate, Reconcile};

use super::{Header, Index, InvalidRecord, Kind, check, impl_record};
use crate::RecordId;
use crate::process::SalesProcess;

/// The process configuration; one per tenant, synced to every phone.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ProcessConfig {
    /// Common fields.
    pub header: Header,
    /// Raised on every import, so devices and logs can say which one they ran.
    pub revision: i64,
    /// The process itself: stages, leads, approvals, prices, commissions, field work.
    pub process: SalesProcess,
}

impl ProcessConfig {
    /// The ID of a tenant's configuration record.
    pub fn id_for(tenant: &str) -> RecordId {
        RecordId::derived("process-config", tenant)
    }

    fn check(&self) -> Result<(), InvalidRecord> {
        check::required(Kind::ProcessConfig, "process.name", &self.process.name)?;
        if self.revision < 0 {
            return Err(InvalidRecord::Negative {
                kind: Kind::ProcessConfig,
                field: "revision",
            });
        }
        if let Some(problem) = self.process.problems().into_iter().next() {
            return Err(InvalidRecord::Invalid {
                kind: Kind::ProcessConfig,
                field: "process",
                detail: problem.to_string(),
            });
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: self.process.name.clone(),
            status: Some(self.revision.to_string()),
            ..Index::default()
        }
    }
}
impl_record!(ProcessConfig, ProcessConfig);
