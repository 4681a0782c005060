//! What can go wrong in the demo, each failure naming its step and, on a phone, whose.

use std::path::PathBuf;

use fieldsales_core::sync::SyncError;

use crate::admin_api::AdminApiError;

/// What went wrong; each says which step.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The data folder could not be prepared.
    #[error("data folder {path}: {source}")]
    DataFolder {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No loopback port could be listened on.
    #[error("cannot listen on loopback: {0}")]
    Listen(std::io::Error),
    /// The server configuration or storage refused to start.
    #[error("server: {0}")]
    Server(String),
    /// The admin API refused or answered something unexpected.
    #[error("admin API: {0}")]
    Admin(#[from] AdminApiError),
    /// A device could not sign in or sync.
    #[error("{login}'s device: {source}")]
    Sync {
        /// Whose device.
        login: String,
        /// Why.
        source: SyncError,
    },
    /// An engine operation failed on a device.
    #[error("{login}'s device, {step}: {source}")]
    Engine {
        /// Whose device.
        login: String,
        /// What it was doing.
        step: &'static str,
        /// Why.
        source: fieldsales_core::Error,
    },
}

/// The failure of `step` on `login`'s phone.
pub(super) fn engine_error(
    login: &str,
    step: &'static str,
) -> impl Fn(fieldsales_core::Error) -> DemoError {
    let login = login.to_owned();
    move |source| DemoError::Engine {
        login: login.clone(),
        step,
        source,
    }
}

/// A sign-in or sync failure of `login`'s phone.
pub(super) fn sync_error(login: &str) -> impl Fn(SyncError) -> DemoError {
    let login = login.to_owned();
    move |source| DemoError::Sync {
        login: login.clone(),
        source,
    }
}
