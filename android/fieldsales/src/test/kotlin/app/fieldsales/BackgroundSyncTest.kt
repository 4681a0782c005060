package app.fieldsales

import app.fieldsales.ffi.FieldsalesException
import app.fieldsales.ffi.Reminder
import app.fieldsales.ffi.resumeEngine
import app.fieldsales.ffi.signIn
import java.time.Duration
import java.time.Instant
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.Test

// The background run a WorkManager worker or a BGAppRefreshTask makes, against the harness's
// servers: a reachable one, one that never answers, and a session that has ended.

class BackgroundSyncTest {
    @Test
    fun `a background run syncs, hands the due reminders on and says it is done`() =
        runBlocking<Unit> {
            val engine = assertNotNull(resumeEngine(env("FIELDSALES_TEST_REMINDER_STORE")), "the harness signed this store in")
            engine.use {
                val due = Instant.ofEpochMilli(env("FIELDSALES_TEST_REMINDER_AT_MS").toLong())
                val scheduled = mutableListOf<Reminder>()
                val scheduler =
                    object : NotificationScheduler {
                        override fun schedule(reminder: Reminder, at: Instant) {
                            scheduled += reminder
                        }
                    }
                // The server's clock stands at the reminder: ask for the days around it.
                val outcome = engine.syncInBackground(scheduler, quick, remindAhead = Duration.between(Instant.now(), due).plusHours(1))
                assertEquals(BackgroundOutcome.DONE, outcome)
                assertTrue(scheduled.any { it.recordId == env("FIELDSALES_TEST_REMINDER_DEAL") }, "$scheduled")
                assertEquals(0L, engine.pendingCount())
            }
        }

    @Test
    fun `a server that never answers means try again later, within the time the system gave`() =
        runBlocking<Unit> {
            val engine = assertNotNull(resumeEngine(env("FIELDSALES_TEST_SILENT_STORE")), "the harness signed this store in")
            engine.use {
                val started = System.nanoTime()
                val outcome = engine.syncInBackground(options = quick.copy(requestTimeoutMs = 60_000L), budget = Duration.ofSeconds(2))
                assertEquals(BackgroundOutcome.RETRY_LATER, outcome)
                assertTrue(System.nanoTime() - started < 20_000_000_000L, "the budget is kept")
            }
        }

    @Test
    fun `a signed-out store needs its user, and an offline phone tries later`() =
        runBlocking<Unit> {
            signIn(phoneOf(env("FIELDSALES_TEST_OTHER_REP")), newStore("background-signed-out")).use { rep ->
                rep.signOut()
                assertEquals(BackgroundOutcome.NEEDS_USER, rep.syncInBackground(options = quick))
            }
            assertEquals(BackgroundOutcome.RETRY_LATER, outcomeOf(FieldsalesException.Offline()))
            assertEquals(BackgroundOutcome.NEEDS_USER, outcomeOf(FieldsalesException.Revoked("device_revoked")))
        }
}
