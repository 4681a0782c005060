//! What every handler shares. Cheap to clone: everything inside is behind an `Arc`.

use std::sync::Arc;

use fieldsales_core::Clock;

use crate::RunError;
use crate::attachments::{AttachmentStore, FileAttachments, PostgresAttachments};
use crate::auth::{Passwords, Throttle};
use crate::config::{Config, StorageEngine};
use crate::records::{PostgresRecords, RecordStore, SqliteRecords};
use crate::store::{Store, StoreError};
use crate::telemetry::Metrics;

/// The server's shared state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// The tenants' records.
    pub records: Arc<dyn RecordStore>,
    /// Attachment bytes.
    pub attachments: Arc<dyn AttachmentStore>,
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
    /// Assembles the state around the accounts store `store`, opening the records and the
    /// attachments where `config.storage` says (computes the decoy password hash, which takes
    /// a moment).
    pub async fn new(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RunError> {
        let passwords = Passwords::new(config.auth.max_concurrent_hashes).await?;
        let metrics = Arc::new(Metrics::new());
        let (records, attachments): (Arc<dyn RecordStore>, Arc<dyn AttachmentStore>) =
            match (config.storage.engine, &config.storage.postgres) {
                (StorageEngine::Sqlite, _) => (
                    Arc::new(SqliteRecords::with_metrics(
                        config.data_dir.join("tenants"),
                        Arc::clone(&metrics),
                    )),
                    Arc::new(FileAttachments::new(config.data_dir.join("attachments"))),
                ),
                (StorageEngine::Postgres, Some(pg)) => {
                    let pool = crate::postgres::pool(pg)?;
                    (
                        Arc::new(
                            PostgresRecords::with_pool(
                                pool.clone(),
                                config.data_dir.join("read-models"),
                                Some(Arc::clone(&metrics)),
                            )
                            .await?,
                        ),
                        Arc::new(PostgresAttachments::open(pool).await?),
                    )
                }
                (StorageEngine::Postgres, None) => {
                    return Err(RunError::Store(StoreError::Backend(Box::new(
                        std::io::Error::other(
                            "storage.engine is postgres but no storage.postgres_url is set",
                        ),
                    ))));
                }
            };
        let throttle = Arc::new(Throttle::new(
            config.auth.lockout_after,
            config.auth.address_lockout_after,
            config.auth.lockout_max,
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
            attachments,
            clock,
            config: Arc::new(config),
            throttle,
            passwords,
            metrics,
        })
    }
}
