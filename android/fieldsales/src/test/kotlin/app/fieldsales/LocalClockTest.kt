package app.fieldsales

import app.fieldsales.ffi.FieldsalesException
import app.fieldsales.ffi.LocalTimeEvent
import app.fieldsales.ffi.watchLocalTimes
import java.time.Duration
import java.time.LocalTime
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull
import org.junit.Test

class LocalClockTest {
    private val justBefore = Duration.ofMillis(400)

    @Test
    fun `the home screen sees the new day arrive at midnight in Shanghai`() =
        runBlocking {
            val midnight = nextMidnight(SHANGHAI)
            val event =
                withTimeout(5_000) {
                    localTimeEvents(SHANGHAI, clockOffset = offsetPutting(midnight, justBefore)).first()
                }
            assertEquals(LocalTimeEvent.DayChanged(localDateOf(midnight, SHANGHAI)), event)
        }

    @Test
    fun `the report screen hears the 18h deadline pass with the instant it was due`() =
        runBlocking {
            val date = today(SHANGHAI).plusDays(1)
            val deadline = localTimeOn(date, LocalTime.of(18, 0), SHANGHAI)
            val events =
                withTimeout(5_000) {
                    localTimeEvents(
                        SHANGHAI,
                        timesOfDay = listOf(LocalTime.of(18, 0), LocalTime.of(17, 30)),
                        clockOffset = offsetPutting(deadline, justBefore),
                    ).take(1).toList()
                }
            assertEquals(listOf(LocalTimeEvent.TimeReached(date, "18:00", deadline)), events)
            assertEquals(date, events.single().localDate)
        }

    @Test
    fun `a coroutine waiting for the next day gets it as a suspend call`() =
        runBlocking {
            val midnight = nextMidnight(SHANGHAI)
            val events =
                withTimeout(5_000) {
                    nextLocalTimeEvents(SHANGHAI, clockOffset = offsetPutting(midnight, justBefore))
                }
            assertEquals(listOf(LocalTimeEvent.DayChanged(localDateOf(midnight, SHANGHAI))), events)
        }

    @Test
    fun `leaving a screen at noon cancels its wait at once`() =
        runBlocking {
            val noon = localTimeOn(today(SHANGHAI).plusDays(1), LocalTime.NOON, SHANGHAI)
            val started = System.nanoTime()
            val result =
                withTimeoutOrNull(200) {
                    nextLocalTimeEvents(SHANGHAI, clockOffset = offsetPutting(noon, Duration.ZERO))
                }
            val tookMs = (System.nanoTime() - started) / 1_000_000
            assertNull(result)
            assertTrue(tookMs < 2_000, "cancellation took $tookMs ms")
        }

    @Test
    fun `a flow on a clock a year off fails when collected`() =
        runBlocking {
            val e =
                assertFailsWith<FieldsalesException.InvalidInput> {
                    localTimeEvents(SHANGHAI, listOf(LocalTime.of(18, 0)), Duration.ofDays(400)).first()
                }
            assertEquals("clock_offset_ms", e.field)
        }

    @Test
    fun `a watch left running reports midnight to its listener`() {
        val listener = RecordingListener()
        val watch = watchLocalTimes(SHANGHAI.id, emptyList(), offsetMs(nextMidnight(SHANGHAI)), listener)
        try {
            assertTrue(listener.awaitHeard(3_000) { it is LocalTimeEvent.DayChanged }, "heard ${listener.heard}")
        } finally {
            watch.close()
        }
    }

    @Test
    fun `a cancelled watch stays silent through midnight`() {
        val listener = RecordingListener()
        val watch = watchLocalTimes(SHANGHAI.id, emptyList(), offsetMs(nextMidnight(SHANGHAI)), listener)
        watch.cancel()
        Thread.sleep(1_000)
        assertTrue(watch.isFinished())
        assertEquals(emptyList(), listener.heard.toList())
        watch.close()
    }

    @Test
    fun `closing the handle of a watch stops it`() {
        val listener = RecordingListener()
        watchLocalTimes(SHANGHAI.id, emptyList(), offsetMs(nextMidnight(SHANGHAI)), listener).close()
        Thread.sleep(1_000)
        assertEquals(emptyList(), listener.heard.toList())
    }

    @Test
    fun `a listener that throws loses that event and keeps hearing the next`() {
        val listener = RecordingListener(throwOn = { it is LocalTimeEvent.DayChanged })
        // A watched midnight: the day change and the 00:00 time fall due together.
        val watch = watchLocalTimes(SHANGHAI.id, listOf("00:00"), offsetMs(nextMidnight(SHANGHAI)), listener)
        try {
            assertTrue(listener.awaitHeard(3_000) { it is LocalTimeEvent.TimeReached }, "heard ${listener.heard}")
            assertTrue(listener.heard.none { it is LocalTimeEvent.DayChanged })
        } finally {
            watch.close()
        }
    }

    private fun offsetMs(moment: java.time.Instant): Long = offsetPutting(moment, justBefore).toMillis()
}
