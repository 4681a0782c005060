//! The local store as a rep's phone uses it: every kind stored and read back, concurrent
//! edits that converge, crashes that lose nothing half-way, search and the duplicate check.

#![allow(clippy::unwrap_used)]

mod bad_input;
mod concurrent;
mod crash;
mod dashboard_attention;
mod dashboard_funnel;
mod dashboard_reports;
mod dashboard_scope;
mod dashboard_targets;
mod dashboard_visits;
mod dashboard_world;
mod dedup;
#[cfg(feature = "encryption")]
mod encryption;
mod field_reports;
mod field_tasks;
mod field_truth;
mod field_visits;
mod field_world;
mod forward_compat;
mod fuzz;
mod old_documents;
mod private_fields;
mod roundtrip;
mod sales_approvals;
mod sales_commission;
mod sales_config;
mod sales_customers;
mod sales_leads;
mod sales_opportunities;
mod sales_orders;
mod sales_world;
mod search;

use fieldsales_core::RecordId;
use fieldsales_core::store::Store;
use fieldsales_core::store::StoreRead;

/// A store in a fresh temporary folder, kept alive with the folder.
pub struct TempStore {
    pub store: Store,
    pub dir: tempfile::TempDir,
}

impl Default for TempStore {
    fn default() -> Self {
        Self::new()
    }
}

impl TempStore {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("rep.sqlite")).unwrap();
        TempStore { store, dir }
    }

    pub fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("rep.sqlite")
    }

    /// Closes and reopens the file, as an app restart does.
    pub fn reopen(self) -> Self {
        let TempStore { store, dir } = self;
        drop(store);
        let store = Store::open(dir.path().join("rep.sqlite")).unwrap();
        TempStore { store, dir }
    }
}

/// Sends the whole document of `id` from one store to another, as a server that holds
/// everything does.
pub fn send(from: &Store, to: &mut Store, id: RecordId) {
    let doc = from.document_bytes(id).unwrap().unwrap();
    let heads = from.heads(id).unwrap();
    to.apply_remote(id, &doc, &heads).unwrap();
}

/// Sends only the changes `from` has not had acknowledged, as a device's push does.
pub fn send_unacked(from: &Store, to: &mut Store, id: RecordId) {
    let changes = from.unacked_changes(id).unwrap();
    let heads = from.heads(id).unwrap();
    to.apply_remote(id, &changes, &heads).unwrap();
}
