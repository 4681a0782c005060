//! The sync server: the authority over every record a device pushes.
//!
//! This first layer knows who is calling: tenants, accounts, devices and their tokens, the
//! Automerge actors registered to each device, and the admin API over them; with the
//! operations a real deployment needs (layered configuration checked at start, structured
//! logs without secrets, health, metrics, request limits, graceful shutdown, TLS).
//!
//! Entry points: [`run`] serves a [`Config`] on a bound listener; tests assemble the parts
//! themselves ([`AppState::new`], [`app`], [`serve()`]) to stand the clock still or add
//! routes. Storage sits behind [`store::Store`] (accounts), [`records::RecordStore`] (the
//! tenants' records) and [`attachments::AttachmentStore`], each with a SQLite (or file)
//! implementation and a PostgreSQL one, chosen by `storage.engine`.

pub mod api;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod error;
pub mod exit;
pub mod jobs;
pub mod model;
pub mod postgres;
pub mod records;
pub mod serve;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod transfer;

use std::future::Future;
use std::sync::Arc;

use fieldsales_core::time::SystemClock;
use tokio::net::TcpListener;

pub use api::{app, openapi};
pub use config::{Config, ConfigError};
pub use error::{ApiError, ErrorBody, ErrorCode};
pub use exit::ExitKind;
pub use serve::{ServeError, ServeOptions, serve, shutdown_signal, tls_acceptor};
pub use state::AppState;
pub use store::{PostgresStore, SqliteOptions, SqliteStore, Store, StoreError};

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Storage could not be opened.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The password hasher could not start.
    #[error(transparent)]
    Passwords(#[from] auth::PasswordError),
    /// Serving failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// Creates the data directory (owner-only on Unix: it holds password hashes).
pub fn create_data_dir(path: &std::path::Path) -> Result<(), RunError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(|source| RunError::DataDir {
        path: path.to_owned(),
        source,
    })
}

/// Makes the file at `path` the owner's only (0600), creating it empty when missing: called
/// before SQLite opens a database there, whose `-wal` and `-shm` files SQLite then creates
/// with the same mode. The server's files hold password hashes and customers' data.
pub(crate) fn private_file(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        let mut permissions = file.metadata()?.permissions();
        if permissions.mode() & 0o077 != 0 {
            permissions.set_mode(0o600);
            file.set_permissions(permissions)?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    options.open(path).map(drop)
}

/// Warns when other users of the machine may read the data directory (created 0700, it may
/// have been loosened by hand or made by someone else).
pub fn warn_if_world_readable(dir: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = std::fs::metadata(dir) {
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o004 != 0 {
                tracing::warn!(
                    data_dir = %dir.display(),
                    mode = format!("{mode:o}"),
                    "the data directory is readable by every user of this machine; it holds \
                     password hashes and customers' data: chmod 700 it"
                );
            }
        }
    }
}

/// Opens the accounts store the configuration names (`storage.engine`), creating the data
/// directory and the database on first start and migrating it.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, RunError> {
    create_data_dir(&config.data_dir)?;
    match (config.storage.engine, &config.storage.postgres) {
        (config::StorageEngine::Postgres, Some(pg)) => Ok(Arc::new(PostgresStore::open(pg).await?)),
        (config::StorageEngine::Postgres, None) => Err(RunError::Store(StoreError::Backend(
            Box::new(std::io::Error::other(
                "storage.engine is postgres but no storage.postgres_url is set",
            )),
        ))),
        (config::StorageEngine::Sqlite, _) => {
            let options = SqliteOptions {
                readers: config.storage.sqlite_readers,
                ..SqliteOptions::default()
            };
            Ok(Arc::new(
                SqliteStore::open(config.database_path(), options).await?,
            ))
        }
    }
}

/// Runs the server on `listener` until `shutdown` completes.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let tls = config.tls.as_ref().map(tls_acceptor).transpose()?;
    let store = open_store(&config).await?;
    warn_if_world_readable(&config.data_dir);
    let options = ServeOptions::from_config(&config);
    let state = AppState::new(config, store, Arc::new(SystemClock)).await?;
    let jobs = state
        .config
        .jobs
        .enabled
        .then(|| jobs::spawn(state.clone(), state.config.jobs.interval));
    let served = serve(app(state), listener, tls, options, shutdown).await;
    if let Some(jobs) = jobs {
        jobs.abort();
    }
    served?;
    Ok(())
}
