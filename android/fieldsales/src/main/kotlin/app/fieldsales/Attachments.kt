package app.fieldsales

import app.fieldsales.ffi.AttachmentUploads
import app.fieldsales.ffi.Engine
import app.fieldsales.ffi.SyncCancel

// Photos and files go up after the records of a sync (SyncOptions.uploadAttachments), or when
// the app asks: on Wi-Fi, or from a "send photos" button. Which files are pending, how far each
// got and the size limit are decided in Rust; this only ties the upload to a coroutine.

/**
 * Uploads every pending photo and file now, resuming each where the server stopped; cancelling
 * the coroutine stops it at once (what the server already holds stays). Offline it throws
 * [app.fieldsales.ffi.FieldsalesException.Offline] and the files stay pending.
 */
suspend fun Engine.uploadAttachmentsNow(): AttachmentUploads = SyncCancel().use { cancel -> uploadAttachments(cancel) }
