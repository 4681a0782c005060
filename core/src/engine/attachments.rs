//! Photos and files a user attaches, as engine operations: the app hands over a file the
//! camera wrote and asks where each upload stands; the folder, the size limit and the upload
//! bookkeeping stay in core. The upload itself needs the network and the saved session, so it
//! lives in [`crate::attachments::session`].

use std::path::Path;

use super::Engine;
use crate::Result;
use crate::attachments::AttachmentStatus;
use crate::attachments::session::files_of;
use crate::record::visit::AttachmentRef;

impl Engine {
    /// Copies the file at `source` into this store's attachment folder under its content
    /// hash and queues it for upload; the same content queued twice is kept once. Files over
    /// the configured `visit.max_photo_bytes` are refused (`attachment.too_large`).
    pub fn queue_attachment(&mut self, source: &Path, mime: &str) -> Result<AttachmentRef> {
        let files = files_of(self)?;
        files.put_file(self.store_mut(), source, mime)
    }

    /// Every attachment on this device with its upload state, oldest first.
    pub fn attachment_statuses(&self) -> Result<Vec<AttachmentStatus>> {
        files_of(self)?.statuses(self.store())
    }

    /// Where the attachment `sha256` stands; `None` when this device does not hold it.
    pub fn attachment_status(&self, sha256: &str) -> Result<Option<AttachmentStatus>> {
        files_of(self)?.status(self.store(), sha256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::attachments::UploadState;
    use crate::store::Store;

    fn rep_in(dir: &Path) -> Engine {
        Engine::new(
            Store::open(dir.join("rep.sqlite")).unwrap(),
            crate::testing::rep(),
        )
        .unwrap()
    }

    #[test]
    fn a_rep_queues_a_shelf_photo_and_sees_it_waiting_for_upload() {
        let dir = tempfile::tempdir().unwrap();
        let mut rep = rep_in(dir.path());
        let photo = dir.path().join("IMG_0001.jpg");
        std::fs::write(&photo, b"shelf at the customer").unwrap();
        let queued = rep.queue_attachment(&photo, "image/jpeg").unwrap();
        assert_eq!(queued.size, 21);
        let again = rep.queue_attachment(&photo, "image/jpeg").unwrap();
        assert_eq!(again, queued);
        let all = rep.attachment_statuses().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].attachment, queued);
        assert_eq!(all[0].upload, UploadState::Pending);
        assert_eq!(
            rep.attachment_status(&queued.sha256)
                .unwrap()
                .map(|s| s.upload),
            Some(UploadState::Pending)
        );
    }

    #[test]
    fn a_missing_file_or_a_file_over_the_limit_is_not_queued() {
        let dir = tempfile::tempdir().unwrap();
        let mut rep = rep_in(dir.path());
        let err = rep
            .queue_attachment(&dir.path().join("gone.jpg"), "image/jpeg")
            .unwrap_err();
        assert!(matches!(err, Error::Io(_)), "{err:?}");
        let video = dir.path().join("walkthrough.mp4");
        let file = std::fs::File::create(&video).unwrap();
        let limit = rep.fieldwork_settings().unwrap().visit.max_photo_bytes;
        file.set_len(limit + 1).unwrap();
        let err = rep.queue_attachment(&video, "video/mp4").unwrap_err();
        assert!(
            matches!(&err, Error::RuleViolated { rule, .. } if rule == "attachment.too_large"),
            "{err:?}"
        );
        assert!(rep.attachment_statuses().unwrap().is_empty());
    }
}
