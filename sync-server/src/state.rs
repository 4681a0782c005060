//! What every handler shares. Cheap to clone: everything inside is behind an `Arc`.

use std::sync::Arc;

use fieldsales_core::Clock;

use crate::auth::{PasswordError, Passwords, Throttle};
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
    /// Wrong passwords slowing further sign-ins.
    pub throttle: Arc<Throttle>,
    /// Turns to work on a sync (`limits.sync_concurrent`): a flood of syncs waits here
    /// before any body is read, and is shed with 503 when no turn comes in time.
    pub sync_turns: Arc<tokio::sync::Semaphore>,
    /// Inflated sync bytes all syncs may hold together (`limits.inflate_bytes_in_flight`), in
    /// KiB permits.
    pub inflate_budget: Arc<tokio::sync::Semaphore>,
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
        let throttle = Arc::new(Throttle::new(
            config.auth.lockout_after,
            config.auth.address_lockout_after,
            config.auth.lockout_max,
        ));
        let records = Arc::new(SqliteRecords::with_metrics(
            config.data_dir.join("tenants"),
            Arc::clone(&metrics),
        ));
        let sync_turns = Arc::new(tokio::sync::Semaphore::new(config.limits.sync_concurrent));
        let inflate_budget = Arc::new(tokio::sync::Semaphore::new(
            config.limits.inflate_bytes_in_flight.div_ceil(1024),
        ));
        Ok(AppState {
            sync_turns,
            inflate_budget,
            store,
            records,
            clock,
            config: Arc::new(config),
            throttle,
            passwords,
            metrics,
        })
    }
}
