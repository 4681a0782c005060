package app.fieldsales

import app.fieldsales.ffi.LocalTimeEvent
import app.fieldsales.ffi.LocalTimeListener
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.time.Instant
import java.time.LocalDate
import java.time.ZoneId
import java.util.concurrent.CopyOnWriteArrayList

// Builders for the field scenarios of the tests. The local-clock tests do not wait for a real
// midnight: they give the library a clock offset (as sync would after meeting a server whose
// clock is ahead) that puts the phone's corrected "now" just before the moment under test.

/**
 * A new folder for one test's files (store, keys, photos), removed with everything in it when
 * the test run ends, so runs leave nothing behind in the machine's temporary folder.
 */
internal fun tempFolder(prefix: String): Path =
    Files.createTempDirectory(prefix).also { dir ->
        Runtime.getRuntime().addShutdownHook(Thread { dir.toFile().deleteRecursively() })
    }

internal val SHANGHAI: ZoneId = ZoneId.of("Asia/Shanghai")
internal val NEW_YORK: ZoneId = ZoneId.of("America/New_York")

/** The phone's local day in [zone] by the library's reckoning. */
internal fun today(zone: ZoneId): LocalDate = localDateOf(Instant.now(), zone)

/** The next local midnight in [zone]. */
internal fun nextMidnight(zone: ZoneId): Instant = startOfLocalDay(today(zone).plusDays(1), zone)

/** The clock offset that makes the phone's corrected clock read [lead] before [moment]. */
internal fun offsetPutting(
    moment: Instant,
    lead: Duration,
): Duration = Duration.between(Instant.now(), moment.minus(lead))

/** A listener that writes down what it hears, optionally failing on some events like a buggy screen. */
internal class RecordingListener(
    private val throwOn: (LocalTimeEvent) -> Boolean = { false },
) : LocalTimeListener {
    val heard = CopyOnWriteArrayList<LocalTimeEvent>()

    override fun onLocalTime(event: LocalTimeEvent) {
        if (throwOn(event)) throw IllegalStateException("a screen's bug")
        heard += event
    }

    /** Waits up to [timeoutMs] until something matching [what] was heard. */
    fun awaitHeard(
        timeoutMs: Long,
        what: (LocalTimeEvent) -> Boolean,
    ): Boolean {
        val deadline = System.nanoTime() + timeoutMs * 1_000_000
        while (System.nanoTime() < deadline) {
            if (heard.any(what)) return true
            Thread.sleep(20)
        }
        return heard.any(what)
    }
}
