//! Photos and files on the phone: queued offline under their content hash, uploaded after a
//! record sync or when the app asks (on Wi-Fi, say), each with a state a screen can show.
//!
//! The upload resumes each file where the server stopped and stops at once when its
//! [`SyncCancel`] is cancelled or its future dropped. Unlike a record sync it does not hold the
//! engine while bytes travel: a photo takes long on a poor connection, and the rep keeps
//! working meanwhile.

use std::path::PathBuf;
use std::sync::Arc;

use fieldsales_core::attachments::AttachmentStatus;
use fieldsales_core::attachments::session::{self, UploadReport};
use fieldsales_core::sync::SyncError;

use crate::engine::{Engine, blocking, lock};
use crate::error::FieldsalesError;
use crate::sync::{CancelOnDrop, SyncCancel, cancelled};

/// One attachment on this device and how far its upload got.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AttachmentState {
    /// SHA-256 of the content, lower-case hex: its name everywhere.
    pub sha256: String,
    /// Bytes.
    pub size: i64,
    /// MIME type.
    pub mime: String,
    /// Nothing sent, partly sent (the next upload continues), or uploaded.
    pub upload: crate::codes::UploadState,
    /// Bytes the server is known to hold.
    pub uploaded_bytes: i64,
    /// When this device stored it.
    pub stored_at: fieldsales_core::Timestamp,
    /// When the server confirmed the whole content.
    pub uploaded_at: Option<fieldsales_core::Timestamp>,
}

impl From<AttachmentStatus> for AttachmentState {
    fn from(s: AttachmentStatus) -> Self {
        AttachmentState {
            sha256: s.attachment.sha256,
            size: s.attachment.size,
            mime: s.attachment.mime,
            upload: s.upload.into(),
            uploaded_bytes: crate::signed(s.uploaded_bytes),
            stored_at: s.stored_at,
            uploaded_at: s.uploaded_at,
        }
    }
}

/// An attachment the server would not take; it stays on the phone, pending.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RefusedAttachment {
    /// The attachment.
    pub sha256: String,
    /// The HTTP status.
    pub status: i32,
    /// The server's stable code (`too_large`...), empty when it gave none.
    pub code: String,
}

/// What an upload run did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AttachmentUploads {
    /// Attachments the server now holds whole.
    pub uploaded: i32,
    /// Attachments still to upload (refused ones included).
    pub still_pending: i32,
    /// Attachments the server refused.
    pub refused: Vec<RefusedAttachment>,
}

impl From<UploadReport> for AttachmentUploads {
    fn from(r: UploadReport) -> Self {
        AttachmentUploads {
            uploaded: crate::signed32(r.uploaded),
            still_pending: crate::signed32(r.still_pending),
            refused: r
                .refused
                .into_iter()
                .map(|x| RefusedAttachment {
                    sha256: x.sha256,
                    status: crate::signed32(x.status),
                    code: x.code,
                })
                .collect(),
        }
    }
}

/// Uploads the pending attachments on this (blocking-pool) thread through `runtime`. The
/// engine is held only to read the plan and to record each file's progress, never while bytes
/// travel, so screens keep working during a long upload.
pub(crate) fn upload_here(
    engine: &Engine,
    runtime: &tokio::runtime::Handle,
    cancel: &SyncCancel,
) -> Result<UploadReport, FieldsalesError> {
    let plan = {
        let guard = lock(&engine.core);
        session::plan(guard.as_ref().ok_or(FieldsalesError::NotSignedIn)?)?
    };
    let mut report = UploadReport::default();
    for pending in &plan.pending {
        if cancel.is_cancelled() {
            return Err(FieldsalesError::Cancelled);
        }
        let sent = runtime.block_on(async {
            tokio::select! {
                r = plan.send(pending) => r,
                () = cancelled(cancel) => Err(SyncError::Cancelled),
            }
        })?;
        engine.write_now(|core| Ok(plan.record(core, pending, sent, &mut report)?))?;
    }
    let guard = lock(&engine.core);
    let core = guard.as_ref().ok_or(FieldsalesError::NotSignedIn)?;
    Ok(plan.finish(core, report)?)
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// Queues a photo or file the app wrote (the camera's output, a scanned contract): it is
    /// copied into the device's attachment store under its content hash and uploaded by a
    /// later sync or `upload_attachments`. Files over the configured `visit.max_photo_bytes`
    /// are refused (`attachment.too_large`).
    pub async fn queue_attachment(
        self: Arc<Self>,
        file_path: String,
        mime: String,
    ) -> Result<AttachmentState, FieldsalesError> {
        let source = PathBuf::from(file_path);
        self.write(move |e| {
            let a = e.queue_attachment(&source, &mime)?;
            e.attachment_status(&a.sha256)?
                .map(AttachmentState::from)
                .ok_or_else(|| FieldsalesError::Internal {
                    detail: "a queued attachment was not recorded".into(),
                })
        })
        .await
    }

    /// Every attachment on this device with its upload state, oldest first.
    pub async fn attachment_states(
        self: Arc<Self>,
    ) -> Result<Vec<AttachmentState>, FieldsalesError> {
        self.read(|e| {
            Ok(e.attachment_statuses()?
                .into_iter()
                .map(AttachmentState::from)
                .collect())
        })
        .await
    }

    /// Where one attachment stands; `None` when this device does not hold it.
    pub async fn attachment_state(
        self: Arc<Self>,
        sha256: String,
    ) -> Result<Option<AttachmentState>, FieldsalesError> {
        self.read(move |e| Ok(e.attachment_status(&sha256)?.map(AttachmentState::from)))
            .await
    }

    /// Uploads every pending attachment now (the app calls it on Wi-Fi, or from a "send
    /// photos" button), resuming each where the server stopped. Offline it fails with
    /// `Offline` and the attachments stay pending; `cancel` stops it.
    pub async fn upload_attachments(
        self: Arc<Self>,
        cancel: Arc<SyncCancel>,
    ) -> Result<AttachmentUploads, FieldsalesError> {
        let runtime = tokio::runtime::Handle::current();
        let mut on_drop = CancelOnDrop(Some(Arc::clone(&cancel)));
        let this = Arc::clone(&self);
        let out = blocking(move || Ok(upload_here(&this, &runtime, &cancel)?.into())).await;
        on_drop.0 = None;
        out
    }
}
