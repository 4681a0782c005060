//! Uploading a signed-in user's pending attachments with the session the sync signed in with.
//!
//! A photo is taken offline and its visit syncs in the next round trip, but its bytes are
//! megabytes: they go on their own, after a record sync or when the app asks (on Wi-Fi), so a
//! slow upload never holds back the records. One attachment the server refuses (too large,
//! say) is reported and skipped, so it cannot block the others; a lost connection stops the
//! run, and the next one continues each file where the server stopped.

use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;

use super::client::{self, DEFAULT_CHUNK_BYTES, TransferError};
use super::{Attachments, PendingUpload};
use crate::engine::Engine;
use crate::store::StoreRead;
use crate::sync::client::META_SESSION;
use crate::sync::{CancelToken, SyncError};

/// What an upload run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadReport {
    /// Attachments whose whole content the server now holds.
    pub uploaded: u32,
    /// Attachments still to upload after the run (refused ones included).
    pub still_pending: u32,
    /// Attachments the server refused, with its reason; they stay pending.
    pub refused: Vec<RefusedUpload>,
}

/// An attachment the server would not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedUpload {
    /// The attachment's SHA-256.
    pub sha256: String,
    /// The HTTP status.
    pub status: u16,
    /// The server's stable code (`too_large`...), empty when it gave none.
    pub code: String,
}

/// The part of the saved session an upload needs; the sync owns the rest.
#[derive(Deserialize)]
struct Credentials {
    server_url: String,
    token: String,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    code: String,
}

fn http() -> Result<reqwest::Client, SyncError> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            client::install_crypto_provider();
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(15))
                .build()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(SyncError::Protocol)
}

/// The attachment folder of the engine's store, with the tenant's configured size limit
/// (`visit.max_photo_bytes`).
pub fn files_of(engine: &Engine) -> crate::Result<Attachments> {
    let max_bytes = engine.fieldwork_settings()?.visit.max_photo_bytes;
    Attachments::beside(engine.store(), max_bytes)
}

/// What an upload run needs, read from the engine at its start. The network part then runs
/// without the engine, so an app can let its screens use the store while megabytes travel and
/// take the engine back only to record each file's progress.
pub struct UploadPlan {
    credentials: Credentials,
    files: Attachments,
    http: reqwest::Client,
    /// The attachments to send, oldest first.
    pub pending: Vec<PendingUpload>,
}

/// How sending one attachment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The server holds `bytes` of it; `complete` once it holds the whole, verified content.
    Held {
        /// Bytes the server holds.
        bytes: u64,
        /// Whether that is all of it.
        complete: bool,
    },
    /// The server would not take it (too large, say); it stays pending.
    Refused(RefusedUpload),
}

/// Reads what an upload run needs: the session, the attachment folder and the pending list.
pub fn plan(engine: &Engine) -> Result<UploadPlan, SyncError> {
    let credentials: Credentials = match engine.store().meta(META_SESSION)? {
        None => return Err(SyncError::NotSignedIn),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| SyncError::Protocol(format!("stored session: {e}")))?,
    };
    let files = files_of(engine)?;
    let pending = files.pending_uploads(engine.store())?;
    Ok(UploadPlan {
        credentials,
        files,
        http: http()?,
        pending,
    })
}

impl UploadPlan {
    /// Sends one attachment, resuming where the server stopped. A lost connection is
    /// `Offline`, an ended session `AuthExpired` (the next record sync handles a revoked
    /// device, wiping the store when the server says so).
    pub async fn send(&self, pending: &PendingUpload) -> Result<Sent, SyncError> {
        let a = &pending.attachment;
        let sent = client::upload(
            &self.http,
            &self.credentials.server_url,
            &self.credentials.token,
            &self.files,
            a,
            DEFAULT_CHUNK_BYTES,
        )
        .await;
        match sent {
            Ok(bytes) => Ok(Sent::Held {
                bytes,
                complete: bytes == u64::try_from(a.size).unwrap_or(0),
            }),
            Err(TransferError::Server { status, body }) => {
                let code = serde_json::from_str::<ErrorAnswer>(&body)
                    .map(|a| a.code)
                    .unwrap_or_default();
                if status == 401 || status == 403 {
                    return Err(SyncError::AuthExpired { code });
                }
                tracing::info!(status, %code, "the server refused an attachment");
                Ok(Sent::Refused(RefusedUpload {
                    sha256: a.sha256.clone(),
                    status,
                    code,
                }))
            }
            Err(TransferError::Network(e)) => Err(SyncError::Offline {
                attempts: 1,
                detail: e.to_string(),
            }),
            Err(TransferError::Local(e)) => Err(e.into()),
            Err(TransferError::Io(e)) => Err(crate::Error::Io(e).into()),
            Err(other @ (TransferError::NotOnServer(_) | TransferError::HashMismatch(_))) => {
                Err(SyncError::Protocol(other.to_string()))
            }
        }
    }

    /// Records how sending `pending` ended, in the store and in `report`.
    pub fn record(
        &self,
        engine: &mut Engine,
        pending: &PendingUpload,
        sent: Sent,
        report: &mut UploadReport,
    ) -> Result<(), SyncError> {
        match sent {
            Sent::Held { bytes, complete } => {
                self.files.mark_uploaded(
                    engine.store_mut(),
                    &pending.attachment.sha256,
                    bytes,
                    complete,
                )?;
                report.uploaded += u32::from(complete);
            }
            Sent::Refused(refused) => report.refused.push(refused),
        }
        Ok(())
    }

    /// Completes `report` with what is still pending.
    pub fn finish(
        &self,
        engine: &Engine,
        mut report: UploadReport,
    ) -> Result<UploadReport, SyncError> {
        report.still_pending =
            u32::try_from(self.files.pending_uploads(engine.store())?.len()).unwrap_or(u32::MAX);
        Ok(report)
    }
}

/// Uploads every pending attachment of the signed-in user, recording the progress of each in
/// the store as it goes; `cancel` stops it between files. One the server refuses is reported
/// and skipped; a lost connection stops the run.
pub async fn upload_pending(
    engine: &mut Engine,
    cancel: &CancelToken,
) -> Result<UploadReport, SyncError> {
    let plan = plan(engine)?;
    let mut report = UploadReport::default();
    for pending in &plan.pending {
        if cancel.is_cancelled() {
            return Err(SyncError::Cancelled);
        }
        let sent = plan.send(pending).await?;
        plan.record(engine, pending, sent, &mut report)?;
    }
    plan.finish(engine, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn rep_engine(dir: &std::path::Path) -> Engine {
        let store = Store::open(dir.join("rep.sqlite")).unwrap();
        Engine::new(store, crate::testing::rep()).unwrap()
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_store_nobody_signed_in_through_the_server_cannot_upload() {
        let dir = tempfile::tempdir().unwrap();
        let mut engine = rep_engine(dir.path());
        let err = run(upload_pending(&mut engine, &CancelToken::new())).unwrap_err();
        assert!(matches!(err, SyncError::NotSignedIn), "{err:?}");
    }

    #[test]
    fn an_unreachable_server_leaves_the_photo_pending() {
        let dir = tempfile::tempdir().unwrap();
        let mut engine = rep_engine(dir.path());
        // A port nothing listens on: the connection is refused at once.
        let session = serde_json::json!({
            "server_url": "http://127.0.0.1:9", "tenant": "acme", "login": "li",
            "token": "t", "device_id": "d", "expires_at": 0,
        });
        engine
            .store_mut()
            .set_meta(META_SESSION, session.to_string().as_bytes())
            .unwrap();
        let files = files_of(&engine).unwrap();
        let photo = files
            .put(engine.store_mut(), b"shelf photo", "image/jpeg")
            .unwrap();
        let err = run(upload_pending(&mut engine, &CancelToken::new())).unwrap_err();
        assert!(matches!(err, SyncError::Offline { .. }), "{err:?}");
        let status = files
            .status(engine.store(), &photo.sha256)
            .unwrap()
            .unwrap();
        assert_eq!(status.upload, super::super::UploadState::Pending);
    }
}
