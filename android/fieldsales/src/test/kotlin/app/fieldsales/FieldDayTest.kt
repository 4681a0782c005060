package app.fieldsales

import app.fieldsales.ffi.CustomerDraft
import app.fieldsales.ffi.DeviceIntegritySignal
import app.fieldsales.ffi.DevicePosition
import app.fieldsales.ffi.FieldsalesException
import app.fieldsales.ffi.GroupBy
import app.fieldsales.ffi.Reminder
import app.fieldsales.ffi.ReminderKind
import app.fieldsales.ffi.TaskDraft
import app.fieldsales.ffi.TaskKind
import app.fieldsales.ffi.TaskStatus
import app.fieldsales.ffi.UploadState
import app.fieldsales.ffi.resumeEngine
import app.fieldsales.ffi.signIn
import java.nio.file.Files
import java.time.Duration
import java.time.Instant
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.Test

// A rep and their manager answering each other through the real server the Rust harness
// started: a location proposal and its approval, a photo uploaded after the records, tasks given
// and answered. Every rule runs in Rust; these tests only drive the calls an app makes.

/** A clean fix taken 2 s ago, [metresNorth] of the site. */
private fun fixNorth(metresNorth: Double): DevicePosition =
    DevicePosition(
        SITE_LAT + metresNorth / 111_320.0, SITE_LON, 8.0, Instant.now().minusSeconds(2), false,
        DeviceIntegritySignal(rooted = false, emulator = false),
        sinceBootMs = null,
    )

private fun newCompany(name: String): CustomerDraft = CustomerDraft(name, null, null, null, "零售", null, null, null, "B", null, emptyList())

class FieldDayTest {
    @Test
    fun `a first check-in proposes the customer's location, its photo goes up, and the manager approves it`() =
        runBlocking<Unit> {
            signIn(phoneOf(env("FIELDSALES_TEST_REP")), newStore("rep-photo")).use { rep ->
                val customer = rep.createCustomer(newCompany("杭州新远贸易有限公司")).customer
                val checked = rep.checkIn(customer.id, fixNorth(0.0), "初次拜访")
                assertTrue(checked.proposedLocation, "a customer without a location gets a proposal")

                val photo = tempFolder("shop-front").resolve("shop-front.jpg")
                Files.write(photo, "\u00FF\u00D8 the shop front".toByteArray())
                val visit = rep.addVisitPhoto(checked.visit.id, photo.toString(), "image/jpeg")
                val sha = visit.photos.single().sha256
                assertEquals(UploadState.PENDING, rep.attachmentState(sha)?.upload)

                val summary = rep.syncNow(quick)
                assertEquals(1, assertNotNull(summary.attachments, "$summary").uploaded)
                assertEquals(UploadState.UPLOADED, rep.attachmentState(sha)?.upload)
                assertEquals(0, rep.uploadAttachmentsNow().stillPending)

                signIn(phoneOf(env("FIELDSALES_TEST_MANAGER")), newStore("manager-location")).use { manager ->
                    manager.syncNow(quick)
                    val waiting = manager.pendingLocationProposals().single { it.id == customer.id }
                    val proposal = assertNotNull(waiting.locationProposal)
                    assertEquals(checked.visit.id, proposal.visitId)
                    val placed = manager.approveLocation(customer.id)
                    assertEquals(proposal.point, placed.location)
                    val again = assertFailsWith<FieldsalesException.RuleViolated> { manager.rejectLocation(customer.id, "站在地铁站") }
                    assertEquals("location.already_decided", again.rule)
                }
            }
        }

    @Test
    fun `a rep accepts and postpones one task the manager gave and rejects another with a reason`() =
        runBlocking<Unit> {
            signIn(phoneOf(env("FIELDSALES_TEST_REP")), newStore("rep-tasks")).use { rep ->
                val repId = rep.me().userId
                val now = Instant.ofEpochMilli(System.currentTimeMillis())
                val (quoteId, surveyId) =
                    signIn(phoneOf(env("FIELDSALES_TEST_MANAGER")), newStore("manager-tasks")).use { manager ->
                        // The rep's profile reaches the manager's new phone by sync.
                        manager.syncNow(quick)
                        fun given(title: String) = TaskDraft(repId, TaskKind.TASK, title, "", now.plus(Duration.ofHours(24)), null, null, now.plus(Duration.ofHours(23)))
                        val quote = manager.createTask(given("发送报价单"))
                        val survey = manager.createTask(given("做竞品调研"))
                        val stale = manager.createTask(given("旧任务"))
                        assertEquals(TaskStatus.PROPOSED, stale.status)
                        manager.deleteTask(stale.id)
                        manager.syncNow(quick)
                        Pair(quote.id, survey.id)
                    }
                rep.syncNow(quick)
                assertEquals(TaskStatus.OPEN, rep.acceptTask(quoteId).status)
                val later = now.plus(Duration.ofHours(48))
                val moved = rep.postponeTask(quoteId, later)
                assertEquals(later, moved.dueAt)
                assertEquals(now.plus(Duration.ofHours(47)), moved.reminderAt, "the reminder moves with the task")

                // The reminders go to the app's notification scheduler: the accepted task's at its
                // new time, moved with the task.
                val scheduled = mutableListOf<Pair<String, Instant>>()
                val scheduler =
                    object : NotificationScheduler {
                        override fun schedule(reminder: Reminder, at: Instant) {
                            scheduled += reminder.recordId to at
                        }
                    }
                val handed = rep.scheduleReminders(scheduler, now, Duration.ofDays(3))
                assertEquals(listOf(quoteId to now.plus(Duration.ofHours(47))), scheduled.filter { it.first == quoteId })
                assertEquals(ReminderKind.TASK, handed.single { it.recordId == quoteId }.kind)

                val blank = assertFailsWith<FieldsalesException.RuleViolated> { rep.rejectTask(surveyId, " ") }
                assertEquals("task.reason_required", blank.rule)
                val rejected = rep.rejectTask(surveyId, "本周在外地")
                assertEquals("本周在外地", rejected.rejectReason)
                assertFailsWith<FieldsalesException.NotAllowed> { rep.deleteTask(surveyId) }
            }
        }

    @Test
    fun `a deal overdue in its stage reaches the rep's phone by sync and its reminder goes to the scheduler`() =
        runBlocking<Unit> {
            val engine = assertNotNull(resumeEngine(env("FIELDSALES_TEST_REMINDER_STORE")), "the harness signed this store in")
            engine.use {
                val deal = env("FIELDSALES_TEST_REMINDER_DEAL")
                val due = Instant.ofEpochMilli(env("FIELDSALES_TEST_REMINDER_AT_MS").toLong())
                engine.syncNow(quick)
                val scheduled = mutableListOf<Pair<Reminder, Instant>>()
                val scheduler =
                    object : NotificationScheduler {
                        override fun schedule(reminder: Reminder, at: Instant) {
                            scheduled += reminder to at
                        }
                    }
                engine.scheduleReminders(scheduler, due.minus(Duration.ofHours(1)), Duration.ofHours(2))
                val (reminder, at) = scheduled.single { it.first.recordId == deal }
                assertEquals(ReminderKind.OVERDUE_STAGE, reminder.kind)
                assertEquals(due, at, "raised when the server's job recorded it")
                assertTrue(reminder.title.startsWith("海通 仓储系统"), reminder.title)
            }
        }

    @Test
    fun `the manager's target and attention dashboards answer offline from the phone`() =
        runBlocking<Unit> {
            signIn(phoneOf(env("FIELDSALES_TEST_MANAGER")), newStore("manager-boards")).use { manager ->
                manager.syncNow(quick)
                val today = manager.today().date
                val targets = manager.targetDashboard(today, today, GroupBy.REP)
                assertNotNull(targets.dataAsOf, "synced once")
                val attention = manager.attentionDashboard(today, today)
                assertEquals(attention.overdueOpportunities.size.toLong(), attention.overdueOpportunitiesTotal)
                val bad = assertFailsWith<FieldsalesException.InvalidInput> { manager.targetDashboard(today.plusDays(1), today, GroupBy.REP) }
                assertEquals("range", bad.field)
            }
        }
}
