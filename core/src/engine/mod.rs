//! The engine: one signed-in user's view of their local store.
//!
//! A phone app, the command-line device simulator and the tests all act through an [`Engine`]:
//! it knows who is acting ([`Me`]), reads the tenant's process configuration from the synced
//! record, and runs every operation's rules before it writes. Domain operations live in their
//! own modules as `impl Engine` blocks, so the engine stays one type the FFI can wrap whole.
//!
//! Rules are pure functions elsewhere in `core` (`process`, `fieldwork`); the engine's job is
//! to gather their inputs from the store, call them with `now`, and write the result in one
//! transaction. The server calls the same rule functions on what devices push.

mod approvals;
mod attachments;
mod catalogue;
mod changes;
mod config;
mod customers;
mod guard;
mod leads;
mod opportunities;
mod orders;
mod people;
mod targets;

pub use crate::authority::customer::{DuplicateCheck, DuplicateHit};
pub use catalogue::PriceQuote;
pub use changes::ChangedRecord;
pub use leads::{ConvertedLead, LeadConversionRequest, NewLead};
pub use opportunities::{NewOpportunity, StageMoveResult};
pub use orders::{ConfirmOutcome, NewOrder, NewOrderLine};
pub use targets::Attainment;
pub mod follow_ups;
pub mod plans;
pub mod reports;
pub mod tasks;
pub mod visits;

mod dashboards;

use crate::fieldwork::{ClockOffset, FieldworkSettings};
use crate::me::Me;
use crate::process::SalesProcess;
use crate::record::ProcessConfig;
use crate::store::Store;
use crate::store::StoreRead;
use crate::{Error, Result, Timestamp};

/// Meta key under which the signed-in user is kept (JSON of [`Me`]).
pub const META_ME: &str = "engine.me";
/// Meta key of the last measured device clock offset (JSON of [`ClockOffset`]).
pub const META_CLOCK_OFFSET: &str = "engine.clock_offset";

/// One signed-in user's engine over their local store.
pub struct Engine {
    store: Store,
    me: Me,
}

impl Engine {
    /// An engine acting as `me` over `store`; `me` is remembered in the store.
    pub fn new(mut store: Store, me: Me) -> Result<Engine> {
        let json = serde_json::to_vec(&me).map_err(|e| Error::InvalidInput {
            field: "me",
            detail: e.to_string(),
        })?;
        store.set_meta(META_ME, &json)?;
        Ok(Engine { store, me })
    }

    /// Reopens the engine of the user last signed in on this store, if any.
    pub fn resume(store: Store) -> Result<Option<Engine>> {
        let Some(bytes) = store.meta(META_ME)? else {
            return Ok(None);
        };
        let me: Me = serde_json::from_slice(&bytes).map_err(|e| Error::InvalidInput {
            field: "stored user",
            detail: e.to_string(),
        })?;
        Ok(Some(Engine { store, me }))
    }

    /// The signed-in user.
    pub fn me(&self) -> &Me {
        &self.me
    }

    /// Takes who the user now is, as the server resolved them at a sync (another unit,
    /// other roles), and remembers it in the store.
    pub(crate) fn set_me(&mut self, me: Me) -> Result<()> {
        let json = serde_json::to_vec(&me).map_err(|e| Error::InvalidInput {
            field: "me",
            detail: e.to_string(),
        })?;
        self.store.set_meta(META_ME, &json)?;
        self.me = me;
        Ok(())
    }

    /// The local store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The local store, for writes.
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Gives the store back (sign-out wipes it; tests inspect it).
    pub fn into_store(self) -> Store {
        self.store
    }

    /// Now, on the store's clock.
    pub fn now(&self) -> Timestamp {
        self.store.clock().now()
    }

    /// The tenant's process configuration: the synced record if this device has one, else
    /// the standard preset (a device that never synced still works offline by the defaults).
    pub fn process(&self) -> Result<SalesProcess> {
        self.store.sales_process()
    }

    /// The field-work settings of the process configuration.
    pub fn fieldwork_settings(&self) -> Result<FieldworkSettings> {
        Ok(self.process()?.fieldwork)
    }

    /// The synced process configuration record, if any.
    pub fn process_record(&self) -> Result<Option<ProcessConfig>> {
        self.store.process_config()
    }

    /// The device clock offset measured at the last sync, if any.
    pub fn clock_offset(&self) -> Result<Option<ClockOffset>> {
        match self.store.meta(META_CLOCK_OFFSET)? {
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| Error::InvalidInput {
                        field: "stored clock offset",
                        detail: e.to_string(),
                    })
            }
            None => Ok(None),
        }
    }
}
