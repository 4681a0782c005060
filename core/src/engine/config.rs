//! An admin imports the sales process as a TOML file, or exports it to edit.
//!
//! The file is read and checked whole before anything is written: a file with any problem
//! leaves the running configuration exactly as it was, and the admin gets every problem with
//! its line and field. Only a checked process reaches the synced record, so no phone ever
//! runs a half-valid one.

use super::Engine;
use crate::process::SalesProcess;
use crate::record::{Header, ProcessConfig};
use crate::rule::RuleCode;
use crate::store::StoreRead;
use crate::{Error, Result};

impl Engine {
    /// Imports a process file for `tenant`: checked first; on success the configuration record
    /// is created or replaced (its revision raised) and syncs to every phone.
    pub fn import_process_toml(&mut self, tenant: &str, text: &str) -> Result<ProcessConfig> {
        self.require_admin("change the sales process")?;
        let process = SalesProcess::from_toml(text)?;
        self.install_process(tenant, process)
    }

    /// Installs a process value (a preset, or one built by the admin API), checked first.
    pub fn install_process(
        &mut self,
        tenant: &str,
        process: SalesProcess,
    ) -> Result<ProcessConfig> {
        self.require_admin("change the sales process")?;
        if let Err(problems) = process.validate() {
            let detail = problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            return Err(Error::rule(RuleCode::ProcessInvalid, detail));
        }
        let id = ProcessConfig::id_for(tenant);
        let me = self.me().user_id;
        let now = self.now();
        let exists = self.store().kind_of(id)?.is_some();
        let store = self.guarded()?;
        if exists {
            store.update::<ProcessConfig>(id, |c| {
                c.revision += 1;
                c.process = process;
                Ok(())
            })
        } else {
            let mut header = Header::unowned(Some(me), now);
            header.id = id;
            store.create(ProcessConfig {
                header,
                revision: 1,
                process,
            })
        }
    }

    /// The running process as a TOML file that imports back unchanged.
    pub fn export_process_toml(&self) -> Result<String> {
        self.process()?
            .to_toml()
            .map_err(|e| Error::rule(RuleCode::ProcessExport, e.to_string()))
    }
}
