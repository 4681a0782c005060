package app.fieldsales

import app.fieldsales.ffi.CustomerDraft
import app.fieldsales.ffi.DeviceIntegritySignal
import app.fieldsales.ffi.DevicePosition
import app.fieldsales.ffi.FenceStatus
import app.fieldsales.ffi.FieldsalesException
import app.fieldsales.ffi.GeoPoint
import app.fieldsales.ffi.Granularity
import app.fieldsales.ffi.GroupBy
import app.fieldsales.ffi.RecordKind
import app.fieldsales.ffi.ReportEdit
import app.fieldsales.ffi.ReportState
import app.fieldsales.ffi.SignInRequest
import app.fieldsales.ffi.SyncCancel
import app.fieldsales.ffi.SyncActivity
import app.fieldsales.ffi.SyncOptions
import app.fieldsales.ffi.SyncSchedule
import app.fieldsales.ffi.resumeEngine
import app.fieldsales.ffi.signIn
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Test

// Sync against a real server the Rust test harness started on loopback for this JVM: it seeded
// an org with a rep and a manager of one team, and left a store signed in to a server that now
// accepts connections and never answers. Their coordinates come in environment variables.

internal fun env(name: String): String =
    assertNotNull(System.getenv(name), "$name is set by the Rust harness (ffi/tests/mobile/kotlin.rs)")

internal val quick =
    SyncOptions(maxAttempts = 2, initialBackoffMs = 20L, maxBackoffMs = 100L, requestTimeoutMs = 30_000L)

// People's Square, Shanghai.
internal const val SITE_LAT = 31.2304
internal const val SITE_LON = 121.4737

internal fun phoneOf(login: String): SignInRequest =
    SignInRequest(env("FIELDSALES_TEST_SERVER_URL"), env("FIELDSALES_TEST_TENANT"), login, env("FIELDSALES_TEST_PASSWORD"), "$login's phone")

internal fun newStore(name: String): String = tempFolder("fieldsales-sync").resolve("$name.sqlite").toString()

class SyncTest {
    @Test
    fun `a rep checks in offline and reports, and the manager's dashboard shows the visit once both sync`() =
        runBlocking<Unit> {
            signIn(phoneOf(env("FIELDSALES_TEST_REP")), newStore("rep")).use { rep ->
                val customer =
                    rep.createCustomer(
                        CustomerDraft(
                            "上海华通电子有限公司", null, null, null, "制造业", null, "上海市黄浦区人民大道200号",
                            GeoPoint(SITE_LAT, SITE_LON), "A", null, emptyList(),
                        ),
                    ).customer
                // 40 m north of the gate, 8 m accuracy, a fix taken 5 s ago on a clean phone.
                val fix =
                    DevicePosition(
                        SITE_LAT + 40.0 / 111_320.0, SITE_LON, 8.0, java.time.Instant.now().minusSeconds(5), false,
                        DeviceIntegritySignal(rooted = false, emulator = false),
                        sinceBootMs = null,
                    )
                val visit = rep.checkIn(customer.id, fix, "初次拜访").visit
                assertEquals(FenceStatus.INSIDE, visit.verdict?.fence)
                val today = rep.today().date
                val draft = rep.reportDraft(today)
                assertTrue(visit.id in draft.visitIds)
                rep.editReport(draft.id, ReportEdit("拜访上海华通", null, null, "发送报价"))
                assertEquals(ReportState.SUBMITTED, rep.submitReport(draft.id).state)

                val states = rep.syncing(quick).toList()
                val done = states.last() as SyncState.Done
                assertTrue(done.summary.refused.isEmpty(), "${done.summary}")
                assertTrue(states.any { it is SyncState.Running }, "progress was reported")
                assertEquals(0L, rep.pendingCount())

                signIn(phoneOf(env("FIELDSALES_TEST_MANAGER")), newStore("manager")).use { manager ->
                    val listening = CompletableDeferred<Unit>()
                    val heard = async { manager.changesOf(RecordKind.VISIT, onRegistered = { listening.complete(Unit) }).first() }
                    withTimeout(5_000) { listening.await() }
                    manager.syncNow(quick)
                    val event = withTimeout(10_000) { heard.await() }
                    assertTrue(event.records.any { it.id == visit.id }, "$event")

                    val board = manager.visitsDashboard(today, today, GroupBy.REP, Granularity.DAY)
                    // Other tests of this run check the same rep in on the same server.
                    assertTrue(board.total.checkIns >= 1L, "$board")
                    val map = manager.visitMapPoints(today, today, 500, null)
                    assertTrue(map.points.any { it.visitId == visit.id && it.repId == rep.me().userId }, "$map")
                    val reports = manager.reportDashboard(today, today, GroupBy.REP)
                    assertTrue(reports.total.onTime + reports.total.late >= 1L, "$reports")
                }
            }
        }

    @Test
    fun `a sync waiting on a server that never answers stops when its collector is cancelled`() =
        runBlocking<Unit> {
            val engine = assertNotNull(resumeEngine(env("FIELDSALES_TEST_SILENT_STORE")), "the harness signed this store in")
            engine.use {
                val running = async { engine.syncNow(quick.copy(requestTimeoutMs = 120_000L)) }
                delay(300)
                assertTrue(running.isActive, "the sync waits on the server")
                withTimeout(10_000) { running.cancel(); running.join() }
                assertTrue(running.isCancelled)

                // A handle cancelled from another screen stops the sync the same way.
                val cancel = SyncCancel()
                val second = async { assertFailsWith<FieldsalesException.Cancelled> { engine.sync(quick, null, cancel) } }
                delay(300)
                cancel.cancel()
                withTimeout(10_000) { second.await() }
                // The engine still answers after a cancelled sync.
                assertNotNull(engine.me().userId)
            }
        }

    @Test
    fun `a wrong password is refused as bad credentials`() =
        runBlocking<Unit> {
            val request = phoneOf(env("FIELDSALES_TEST_REP")).copy(password = "not-the-password")
            assertFailsWith<FieldsalesException.BadCredentials> { signIn(request, newStore("wrong")) }
        }

    @Test
    fun `continuous sync sends a change by itself, stops when closed and resumes when started again`() =
        runBlocking<Unit> {
            signIn(phoneOf(env("FIELDSALES_TEST_REP")), newStore("rep-connected")).use { rep ->
                // The timer is an hour away: what syncs below was started by the change itself.
                val schedule = SyncSchedule(everyMs = 3_600_000, settleMs = 50, retryFirstMs = 100, retryLongestMs = 400)
                val first = SyncService(rep, quick, schedule)
                val synced =
                    withTimeout(20_000) {
                        first.status.first { it != null && it.connected && it.activity is SyncActivity.Waiting }
                    }!!
                val before = assertNotNull(synced.lastSyncedAt)
                rep.createCustomer(
                    CustomerDraft("宁波港联物流有限公司", null, null, null, "物流", null, null, null, "B", null, emptyList()),
                )
                val after =
                    withTimeout(20_000) {
                        first.status.first { s ->
                            s != null && s.pendingChanges == 0L && (s.lastSyncedAt ?: java.time.Instant.EPOCH) > before && s.activity is SyncActivity.Waiting
                        }
                    }!!
                assertEquals(null, after.lastError)

                // Interrupted: closed, it stops; a new service resumes where the store stands.
                first.close()
                withTimeout(20_000) { first.status.first { it?.activity == SyncActivity.Stopped } }
                SyncService(rep, quick, schedule).use { again ->
                    val resumed = withTimeout(20_000) { again.status.first { it != null && it.connected } }!!
                    assertEquals(0L, resumed.pendingChanges)
                    assertEquals(0, resumed.failures)
                }
                val wrong = assertFailsWith<FieldsalesException.InvalidInput> { SyncService(rep, quick, schedule.copy(everyMs = 0)) }
                assertEquals("schedule.every_ms", wrong.field)
            }
        }
}
