// Change events as an AsyncStream, so a view iterates them in its `.task` and refreshes.
// Which records a write or a sync page changed is decided in Rust, from the store's own
// journal; nothing here guesses.

import Foundation
@_exported import FieldsalesBindings

extension Engine {
    /// Every change made through this engine from now on: each write of any screen, each
    /// applied sync page. The listener is unregistered when the stream ends (the iterating
    /// task is cancelled or the loop exits). Buffered without limit so none is lost.
    public func changes() -> AsyncStream<ChangeEvent> {
        let (stream, continuation) = AsyncStream<ChangeEvent>.makeStream(bufferingPolicy: .unbounded)
        let subscription = observeChanges(listener: ChangeStreamListener(continuation))
        // The closure keeps the subscription alive as long as the stream.
        continuation.onTermination = { _ in subscription.cancel() }
        return stream
    }

    /// The changes that touch records of `kinds` (`.customer`, `.visit`...): what a list view
    /// refreshes on.
    public func changes(of kinds: Set<RecordKind>) -> AsyncFilterSequence<AsyncStream<ChangeEvent>> {
        changes().filter { event in event.kinds.contains(where: kinds.contains) }
    }
}

private final class ChangeStreamListener: ChangeListener, @unchecked Sendable {
    private let continuation: AsyncStream<ChangeEvent>.Continuation

    init(_ continuation: AsyncStream<ChangeEvent>.Continuation) {
        self.continuation = continuation
    }

    func onChange(event: ChangeEvent) {
        continuation.yield(event)
    }
}
