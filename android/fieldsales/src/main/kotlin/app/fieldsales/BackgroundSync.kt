package app.fieldsales

import app.fieldsales.ffi.Engine
import app.fieldsales.ffi.FieldsalesException
import app.fieldsales.ffi.SyncOptions
import app.fieldsales.ffi.defaultSyncOptions
import java.time.Duration
import java.time.Instant
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.withTimeout

// One background sync, as the platform's scheduler runs it while the app is closed: Android's
// WorkManager (a CoroutineWorker's doWork, with a network constraint and exponential backoff)
// or iOS's BGAppRefreshTask. What the scheduler needs back is one of three answers, decided
// here from the library's typed errors, so the worker itself is three lines (the sample app's
// SyncWorker shows them).

/** What one background run came to, for the platform scheduler. */
enum class BackgroundOutcome {
    /** Records went both ways, pending photos went up, reminders were handed on. */
    DONE,

    /** Offline, a server that did not answer, or the time ran out: try again later (WorkManager's `Result.retry()`). */
    RETRY_LATER,

    /** Only the user can mend it (signed out, session expired or revoked, a wrong store key): stop until they open the app. */
    NEEDS_USER,
}

/**
 * Syncs once within [budget] (WorkManager gives a worker up to ten minutes, iOS a refresh task
 * about thirty seconds), then hands the reminders due in the next [remindAhead] to [scheduler]
 * when one is given, and says what the scheduler should do next. Committed pages stay when the
 * time runs out; the next run resumes after them.
 */
suspend fun Engine.syncInBackground(
    scheduler: NotificationScheduler? = null,
    options: SyncOptions = defaultSyncOptions(),
    budget: Duration = Duration.ofMinutes(9),
    remindAhead: Duration = Duration.ofDays(2),
): BackgroundOutcome =
    try {
        withTimeout(budget.toMillis()) { syncNow(options) }
        scheduler?.let { scheduleReminders(it, Instant.now(), remindAhead) }
        BackgroundOutcome.DONE
    } catch (e: TimeoutCancellationException) {
        BackgroundOutcome.RETRY_LATER
    } catch (e: FieldsalesException) {
        outcomeOf(e)
    }

/** The scheduler's answer to a failed background sync. */
fun outcomeOf(e: FieldsalesException): BackgroundOutcome =
    when (e) {
        is FieldsalesException.NotSignedIn,
        is FieldsalesException.AuthExpired,
        is FieldsalesException.Revoked,
        is FieldsalesException.BadCredentials,
        is FieldsalesException.WrongKey,
        -> BackgroundOutcome.NEEDS_USER
        else -> BackgroundOutcome.RETRY_LATER
    }
