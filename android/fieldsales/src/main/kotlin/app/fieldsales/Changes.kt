package app.fieldsales

import app.fieldsales.ffi.ChangeEvent
import app.fieldsales.ffi.ChangeListener
import app.fieldsales.ffi.Engine
import app.fieldsales.ffi.RecordKind
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.filter

// Change events as a Flow, so a screen collects them in its lifecycle scope and refreshes.
// Which records a write or a sync page changed is decided in Rust, from the store's own
// journal; nothing here guesses.

/**
 * Every change made through this engine from the moment collection starts: each write of any
 * screen, each applied sync page. Cancelling the collector unregisters the listener.
 *
 * Events are buffered without limit so none is lost while the collector is busy; a screen that
 * only redraws should `conflate()` it.
 *
 * @param onRegistered called once the listener is registered, on the collecting coroutine: a
 *   screen loads its first snapshot from here, so no change falls between the load and the
 *   listening.
 */
fun Engine.changes(onRegistered: () -> Unit = {}): Flow<ChangeEvent> =
    callbackFlow {
        val subscription =
            observeChanges(
                object : ChangeListener {
                    override fun onChange(event: ChangeEvent) {
                        // Never fails: the channel is unbounded; a closed one means nobody listens.
                        trySend(event)
                    }
                },
            )
        onRegistered()
        awaitClose {
            subscription.cancel()
            subscription.close()
        }
    }.buffer(Channel.UNLIMITED)

/** The changes that touch records of [kinds]: what a list screen refreshes on. */
fun Engine.changesOf(
    vararg kinds: RecordKind,
    onRegistered: () -> Unit = {},
): Flow<ChangeEvent> = changes(onRegistered).filter { event -> event.kinds.any { it in kinds } }
