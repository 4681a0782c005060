// Sync while the app is closed (BGTaskScheduler) and at once when the network returns
// (NWPathMonitor). The decisions are the library's (`syncInBackground`); these are the iOS hooks.

import BackgroundTasks
import Fieldsales
import Foundation
import Network

enum BackgroundSync {
    /// The task's identifier, also listed under BGTaskSchedulerPermittedIdentifiers.
    static let identifier = "app.fieldsales.sample.sync"

    /// Registers the handler; call once, before the app finishes launching.
    static func register(storePath: @escaping @Sendable () -> String) {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: identifier, using: nil) { task in
            let work = _Concurrency.Task {
                var outcome = BackgroundOutcome.retryLater
                if let engine = try? await resumeEngine(path: storePath()) {
                    outcome = await engine.syncInBackground()
                }
                if outcome != .needsUser { BackgroundSync.schedule() }
                task.setTaskCompleted(success: outcome == .done)
            }
            task.expirationHandler = { work.cancel() }
        }
    }

    /// Asks for the next run in about fifteen minutes (iOS decides when).
    static func schedule() {
        let request = BGAppRefreshTaskRequest(identifier: identifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(request)
    }
}

/// Calls `onReturn` each time a usable network path appears (a sync service's `syncSoon`).
final class NetworkWatch {
    private let monitor = NWPathMonitor()

    init(onReturn: @escaping @Sendable () -> Void) {
        monitor.pathUpdateHandler = { path in
            if path.status == .satisfied { onReturn() }
        }
        monitor.start(queue: DispatchQueue(label: "app.fieldsales.sample.network"))
    }

    deinit { monitor.cancel() }
}
