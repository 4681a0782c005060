package app.fieldsales

import app.fieldsales.ffi.Engine
import app.fieldsales.ffi.Reminder
import java.time.Duration
import java.time.Instant

// Reminders become local notifications: the library decides which reminders fall due (a task's
// or schedule entry's own, and a deal's overdue-stage reminder the server recorded for its
// owner and their manager); the app only hands them to the platform's scheduler. The scheduler
// is an interface, so the app plugs in AlarmManager/WorkManager with NotificationManager and a
// test plugs in a list.

/** Where reminders become notifications: implemented by the app over the platform's alarms. */
interface NotificationScheduler {
    /**
     * Shows [reminder] at [at] (now, when [at] has passed). Called again for a reminder already
     * scheduled: replace it, keyed by [Reminder.recordId], so nothing shows twice.
     */
    fun schedule(reminder: Reminder, at: Instant)
}

/**
 * Hands every reminder falling due within [ahead] of [now] to [scheduler], and returns them.
 * Run it after each sync and when the app starts (a background sync worker does both), so a
 * reminder fires with the app closed and no signal.
 *
 * @throws app.fieldsales.ffi.FieldsalesException.InvalidInput when the window is refused.
 */
suspend fun Engine.scheduleReminders(
    scheduler: NotificationScheduler,
    now: Instant = Instant.now(),
    ahead: Duration = Duration.ofDays(2),
): List<Reminder> {
    val due = remindersDue(now, now.plus(ahead))
    for (reminder in due) {
        scheduler.schedule(reminder, reminder.remindAt)
    }
    return due
}
