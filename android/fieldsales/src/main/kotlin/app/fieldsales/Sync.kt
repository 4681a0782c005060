package app.fieldsales

import app.fieldsales.ffi.Engine
import app.fieldsales.ffi.SyncCancel
import app.fieldsales.ffi.SyncConnection
import app.fieldsales.ffi.SyncOptions
import app.fieldsales.ffi.SyncProgress
import app.fieldsales.ffi.SyncProgressListener
import app.fieldsales.ffi.SyncSchedule
import app.fieldsales.ffi.SyncStatus
import app.fieldsales.ffi.SyncStatusListener
import app.fieldsales.ffi.SyncSummary
import app.fieldsales.ffi.defaultSyncOptions
import app.fieldsales.ffi.defaultSyncSchedule
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
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

/**
 * Continuous sync as a service: syncs now, after local changes (once they settle), every
 * [SyncSchedule.everyMs], and at once on [syncSoon] (call it when the network comes back);
 * failures are retried after a growing wait. [status] is the latest [SyncStatus] as a
 * [StateFlow] for the sync banner: what it is doing, whether the last sync reached the server,
 * when it last finished, the last error, the changes waiting to go up.
 *
 * The loop runs in the library, not in a coroutine of the app: it goes on while no screen
 * collects [status]. [close] stops it (a running sync is cancelled; committed pages stay).
 * When the session can no longer sync (expired, revoked), it stops by itself with
 * [SyncStatus.needsUser] set: sign in again.
 *
 * @throws app.fieldsales.ffi.FieldsalesException.InvalidInput when the options or the schedule
 *   are refused.
 */
class SyncService(
    engine: Engine,
    options: SyncOptions = defaultSyncOptions(),
    schedule: SyncSchedule = defaultSyncSchedule(),
) : AutoCloseable {
    private val latest = MutableStateFlow<SyncStatus?>(null)

    /** The latest status; `null` until the first one arrives. */
    val status: StateFlow<SyncStatus?> = latest.asStateFlow()

    private val connection: SyncConnection =
        engine.connect(
            options,
            schedule,
            object : SyncStatusListener {
                override fun onStatus(status: SyncStatus) {
                    latest.value = status
                }
            },
        )

    /** Syncs at once (the network came back, pull-to-refresh); the retry wait starts over. */
    fun syncSoon() = connection.syncSoon()

    /** Whether the loop has ended: closed, or the session can no longer sync. */
    val isStopped: Boolean get() = connection.isStopped()

    /** Stops continuous sync. */
    override fun close() {
        connection.disconnect()
        connection.close()
    }
}
