// One background sync, as iOS runs it while the app is closed (a BGAppRefreshTask), and what
// the task should report. The decision ("try later" against "only the user can mend this") is
// made here from the library's typed errors; the sample app's BackgroundSync.swift registers
// the task and calls it.

import Foundation
@_exported import FieldsalesBindings

/// What one background run came to, for the platform scheduler.
public enum BackgroundOutcome: Sendable {
    /// Records went both ways, pending photos went up, reminders were handed on.
    case done
    /// Offline, a server that did not answer, or the task's time ran out: try again later.
    case retryLater
    /// Only the user can mend it (signed out, session expired or revoked, a wrong store key).
    case needsUser
}

extension Engine {
    /// Syncs once, then hands the reminders due in the next `remindAhead` seconds to
    /// `scheduler` when one is given. Cancelling the calling task (the background task's
    /// expiration handler) cancels the sync; committed pages stay and the next run resumes
    /// after them.
    public func syncInBackground(
        scheduler: NotificationScheduler? = nil,
        options: SyncOptions = defaultSyncOptions(),
        remindAhead: TimeInterval = 2 * 24 * 3600
    ) async -> BackgroundOutcome {
        do {
            _ = try await syncNow(options: options)
            if let scheduler {
                try await scheduleReminders(scheduler, ahead: remindAhead)
            }
            return .done
        } catch let error as FieldsalesError {
            return backgroundOutcome(of: error)
        } catch {
            return .retryLater
        }
    }
}

/// The scheduler's answer to a failed background sync.
public func backgroundOutcome(of error: FieldsalesError) -> BackgroundOutcome {
    switch error {
    case .notSignedIn, .authExpired, .revoked, .badCredentials, .wrongKey:
        return .needsUser
    default:
        return .retryLater
    }
}
