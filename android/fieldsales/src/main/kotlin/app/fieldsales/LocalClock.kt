package app.fieldsales

import app.fieldsales.ffi.FieldsalesException
import app.fieldsales.ffi.LocalTimeEvent
import app.fieldsales.ffi.LocalTimeListener
import app.fieldsales.ffi.watchLocalTimes
import java.time.Duration
import java.time.LocalTime
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import app.fieldsales.ffi.nextLocalTimeEvents as ffiNextLocalTimeEvents

// The local clock, as Kotlin wants it: a Flow for a screen that follows the day and its
// deadlines, a suspend call for one wait. The zone rules, the clock correction and the
// handling of a phone that slept all live in Rust; nothing here computes a time.

/**
 * The local day changes and watched wall-clock times of [zone], as a cold [Flow].
 *
 * Collecting starts a watch in the library; cancelling the collector stops it. The watch
 * reports on a library thread and the events are buffered without limit, so none is lost
 * while the collector is busy (they come at most a few times a day).
 *
 * Collection fails with [FieldsalesException.InvalidInput] when the zone, a time of day or the
 * offset is refused.
 *
 * @param timesOfDay wall-clock times such as the 18:00 report deadline.
 * @param clockOffset server time minus device time, as sync measured it.
 */
fun localTimeEvents(
    zone: ZoneId,
    timesOfDay: List<LocalTime> = emptyList(),
    clockOffset: Duration = Duration.ZERO,
): Flow<LocalTimeEvent> =
    callbackFlow {
        val listener =
            object : LocalTimeListener {
                override fun onLocalTime(event: LocalTimeEvent) {
                    // Never fails: the channel is unbounded, and a closed one means nobody listens.
                    trySend(event)
                }
            }
        val watch = watchLocalTimes(zone.id, timesOfDay.map(::wallTime), clockOffset.toMillis(), listener)
        awaitClose {
            watch.cancel()
            watch.close()
        }
    }.buffer(Channel.UNLIMITED)

/**
 * Suspends until the local day of [zone] changes or one of [timesOfDay] passes, and returns
 * what fell due. Cancelling the coroutine stops the wait in the library at once.
 *
 * @throws FieldsalesException.InvalidInput when the zone, a time of day or the offset is refused.
 */
suspend fun nextLocalTimeEvents(
    zone: ZoneId,
    timesOfDay: List<LocalTime> = emptyList(),
    clockOffset: Duration = Duration.ZERO,
): List<LocalTimeEvent> = ffiNextLocalTimeEvents(zone.id, timesOfDay.map(::wallTime), clockOffset.toMillis())

private val HOURS_MINUTES = DateTimeFormatter.ofPattern("HH:mm")
private val HOURS_MINUTES_SECONDS = DateTimeFormatter.ofPattern("HH:mm:ss")

/** The `HH:MM` (or `HH:MM:SS`) form the library reads; fractions of a second are dropped. */
internal fun wallTime(time: LocalTime): String =
    if (time.second == 0) time.format(HOURS_MINUTES) else time.format(HOURS_MINUTES_SECONDS)
