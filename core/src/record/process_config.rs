//! The tenant's sales-process configuration as a synced record.

use autosurgeon::{Hydrate, Reconcile};

use super::{Header, Index, InvalidRecord, Kind, check, impl_record};

/// The process configuration; one per tenant, synced to every phone.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ProcessConfig {
    /// Common fields.
    pub header: Header,
    /// Name of the configuration (the preset it started from, or the tenant's own).
    pub name: String,
    /// Raised on every import, so devices and logs can say which one they ran.
    pub revision: i64,
}

impl ProcessConfig {
    fn check(&self) -> Result<(), InvalidRecord> {
        check::required(Kind::ProcessConfig, "name", &self.name)?;
        if self.revision < 0 {
            return Err(InvalidRecord::Negative {
                kind: Kind::ProcessConfig,
                field: "revision",
            });
        }
        Ok(())
    }

    fn index_row(&self) -> Index {
        Index {
            title: self.name.clone(),
            status: Some(self.revision.to_string()),
            ..Index::default()
        }
    }
}
impl_record!(ProcessConfig, ProcessConfig);
