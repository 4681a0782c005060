//! What every handler shares. Cheap to clone: everything inside is behind an `Arc`.

use std::sync::Arc;

use fieldsales_core::Clock;

use crate::auth::{PasswordError, Passwords};
use crate::config::Config;
use crate::records::{RecordStore, SqliteRecords};
use crate::store::Store;
use crate::telemetry::Metrics;

/// The server's shared state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// The tenants' records.
    pub records: Arc<dyn RecordStore>,
    /// Where "now" comes from; tests stand it still.
    pub clock: Arc<dyn Clock>,
    /// The checked configuration.
    pub config: Arc<Config>,
    /// The password hasher.
    pub passwords: Passwords,
    /// Request counters.
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// Assembles the state (computes the decoy password hash, which takes a moment).
    pub async fn new(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, PasswordError> {
        let passwords = Passwords::new(config.auth.max_concurrent_hashes).await?;
        let metrics = Arc::new(Metrics::new());
        let records = Arc::new(SqliteRecords::with_metrics(
            config.data_dir.join("tenants"),
            Arc::clone(&metrics),
        ));
        Ok(AppState {
            store,
            records,
            clock,
            config: Arc::new(config),
            passwords,
            metrics,
        })
    }
}
