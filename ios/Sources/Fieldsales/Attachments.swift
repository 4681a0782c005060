// Photos and files go up after the records of a sync (`SyncOptions.uploadAttachments`), or when
// the app asks: on Wi-Fi, or from a "send photos" button. Which files are pending, how far each
// got and the size limit are decided in Rust; this only ties the upload to a Swift task.

import Foundation
@_exported import FieldsalesBindings

extension Engine {
    /// Uploads every pending photo and file now, resuming each where the server stopped;
    /// cancelling the task stops it at once (what the server already holds stays). Offline it
    /// throws `FieldsalesError.offline` and the files stay pending.
    public func uploadAttachmentsNow() async throws -> AttachmentUploads {
        let cancel = SyncCancel()
        return try await withTaskCancellationHandler {
            try await uploadAttachments(cancel: cancel)
        } onCancel: {
            cancel.cancel()
        }
    }
}
