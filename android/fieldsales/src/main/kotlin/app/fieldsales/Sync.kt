package app.fieldsales

import app.fieldsales.ffi.Engine
import app.fieldsales.ffi.SyncCancel
import app.fieldsales.ffi.SyncOptions
import app.fieldsales.ffi.SyncProgress
import app.fieldsales.ffi.SyncProgressListener
import app.fieldsales.ffi.SyncSummary
import app.fieldsales.ffi.defaultSyncOptions
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.channelFlow

// A sync as a Flow, so the sync banner collects it in a lifecycle scope: progress after every
// committed page, then the summary. Cancelling the collector cancels the sync in Rust at once
// (pages already committed stay; the next sync resumes after them).

/** Where a running sync is. */
sealed interface SyncState {
    /** A page was committed. */
    data class Running(val progress: SyncProgress) : SyncState

    /** The sync finished. */
    data class Done(val summary: SyncSummary) : SyncState
}

/**
 * Runs one sync and emits its progress, then [SyncState.Done]. Failures (offline, session
 * expired, revoked...) are thrown as [app.fieldsales.ffi.FieldsalesException] from the collector.
 */
fun Engine.syncing(options: SyncOptions = defaultSyncOptions()): Flow<SyncState> =
    channelFlow {
        val cancel = SyncCancel()
        try {
            val summary =
                sync(
                    options,
                    object : SyncProgressListener {
                        override fun onProgress(progress: SyncProgress) {
                            // Never fails: the channel is unbounded; a closed one means nobody listens.
                            trySend(SyncState.Running(progress))
                        }
                    },
                    cancel,
                )
            send(SyncState.Done(summary))
        } finally {
            // The handle belongs to this one sync: cancelling it after the end changes nothing.
            cancel.cancel()
            cancel.close()
        }
    }.buffer(Channel.UNLIMITED)

/** Runs one sync to its end and returns its summary; cancelling the coroutine cancels it. */
suspend fun Engine.syncNow(options: SyncOptions = defaultSyncOptions()): SyncSummary =
    SyncCancel().use { cancel -> sync(options, null, cancel) }
