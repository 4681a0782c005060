// A sync as an AsyncThrowingStream, so the sync banner iterates it in its `.task`: progress
// after every committed page, then the summary. Cancelling the iterating task cancels the sync
// in Rust at once (pages already committed stay; the next sync resumes after them).

import Foundation
@_exported import FieldsalesBindings

/// Where a running sync is.
public enum SyncState: Sendable {
    /// A page was committed.
    case running(SyncProgress)
    /// The sync finished.
    case done(SyncSummary)
}

extension Engine {
    /// Runs one sync and yields its progress, then `.done`. Failures (offline, session
    /// expired, revoked...) end the stream with a `FieldsalesError`.
    public func syncing(options: SyncOptions = defaultSyncOptions()) -> AsyncThrowingStream<SyncState, Error> {
        let (stream, continuation) = AsyncThrowingStream<SyncState, Error>.makeStream(bufferingPolicy: .unbounded)
        let cancel = SyncCancel()
        let work = _Concurrency.Task {
            do {
                let summary = try await self.sync(
                    options: options,
                    listener: SyncStreamListener(continuation),
                    cancel: cancel
                )
                continuation.yield(.done(summary))
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in
            cancel.cancel()
            work.cancel()
        }
        return stream
    }

    /// Runs one sync to its end; cancelling the task cancels the sync.
    public func syncNow(options: SyncOptions = defaultSyncOptions()) async throws -> SyncSummary {
        let cancel = SyncCancel()
        return try await withTaskCancellationHandler {
            try await sync(options: options, listener: nil, cancel: cancel)
        } onCancel: {
            cancel.cancel()
        }
    }
}

private final class SyncStreamListener: SyncProgressListener, @unchecked Sendable {
    private let continuation: AsyncThrowingStream<SyncState, Error>.Continuation

    init(_ continuation: AsyncThrowingStream<SyncState, Error>.Continuation) {
        self.continuation = continuation
    }

    func onProgress(progress: SyncProgress) {
        continuation.yield(.running(progress))
    }
}
