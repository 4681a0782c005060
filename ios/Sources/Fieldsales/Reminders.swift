// Reminders that fire: the library lists what falls due (a task's or schedule entry's
// reminder, a deal's overdue-stage reminder the server's job recorded for its owner and their
// manager), and the app hands each to the system's notifications. Run it after every sync.

import Foundation
@_exported import FieldsalesBindings

/// Where the app raises a notification: `UNUserNotificationCenter` with a calendar or time
/// trigger on a phone, a recording double in a test.
public protocol NotificationScheduler {
    /// Raise `reminder` at `at` (at once when it is already past); scheduling the same
    /// reminder again replaces it (use `reminder.recordId` as the request identifier).
    func schedule(_ reminder: Reminder, at: Date)
}

extension Engine {
    /// Hands every reminder due from `now` for `ahead` to `scheduler`, and returns them.
    @discardableResult
    public func scheduleReminders(
        _ scheduler: NotificationScheduler,
        now: Date = Date(),
        ahead: TimeInterval = 2 * 24 * 3600
    ) async throws -> [Reminder] {
        let due = try await remindersDue(from: now, until: now.addingTimeInterval(ahead))
        for reminder in due {
            scheduler.schedule(reminder, at: reminder.remindAt)
        }
        return due
    }
}
