// Live queries: a query as an AsyncThrowingStream that answers at once and again whenever a
// change event (a local write of any screen, or a sync page applied) touches what it reads.
// The events come from the store's own journal in Rust; the query is the library's own, so a
// view never combines events with a re-query itself. Events that arrive while a query runs are
// folded into one more run, and an answer equal to the last one is not yielded.

import Foundation
@_exported import FieldsalesBindings

extension Engine {
    /// `query`'s answer now, then again after every change that touches records of `kinds`
    /// (`.customer`, `.opportunity`, `.visit`, `.task`...). Iterate it in the view's `.task`;
    /// cancelling the task stops listening. A failing query ends the stream with its error.
    public func live<T: Equatable & Sendable>(
        kinds: Set<RecordKind>,
        _ query: @escaping @Sendable (Engine) async throws -> T
    ) -> AsyncThrowingStream<T, Error> {
        liveWhen({ event in event.kinds.contains(where: kinds.contains) }, query)
    }

    /// One record (typically `getCustomer(id:)`), now and again whenever a change touches it
    /// (its hidden fields' companions included: they are announced as changes of the record).
    public func liveRecord<T: Equatable & Sendable>(
        id: String,
        _ query: @escaping @Sendable (Engine) async throws -> T
    ) -> AsyncThrowingStream<T, Error> {
        liveWhen({ event in event.records.contains { $0.id == id } }, query)
    }

    fileprivate func liveWhen<T: Equatable & Sendable>(
        _ touches: @escaping @Sendable (ChangeEvent) -> Bool,
        _ query: @escaping @Sendable (Engine) async throws -> T
    ) -> AsyncThrowingStream<T, Error> {
        let (stream, continuation) = AsyncThrowingStream<T, Error>.makeStream(bufferingPolicy: .unbounded)
        // Registered before the first answer is read: no change falls between.
        let events = changes()
        let (dirty, mark) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        mark.yield()
        let listen = _Concurrency.Task {
            for await event in events where touches(event) {
                mark.yield()
            }
        }
        let run = _Concurrency.Task {
            var last: T?
            do {
                for await _ in dirty {
                    let now = try await query(self)
                    if now != last {
                        last = now
                        continuation.yield(now)
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in
            listen.cancel()
            run.cancel()
            mark.finish()
        }
        return stream
    }
}

/// What a live list shows: the records of the pages loaded so far, and whether there are more.
public struct LiveListState<T: Equatable & Sendable>: Equatable, Sendable {
    /// The records, in the list's order.
    public let items: [T]
    /// Whether the last page was read.
    public let endReached: Bool
}

/// A long list, live and paged: `state()` yields the pages loaded so far (one at first), read
/// again after every change that touches the list's kinds; `loadMore()` adds the next page
/// (call it when the user scrolls near the end).
public final class LiveList<T: Equatable & Sendable>: @unchecked Sendable {
    private let engine: Engine
    private let kinds: Set<RecordKind>
    private let pageSize: Int32
    private let readPage: @Sendable (Engine, PageRequest) async throws -> ([T], Int64?)
    private let lock = NSLock()
    private var pages = 1
    private var marks: [UUID: AsyncStream<Void>.Continuation] = [:]

    init(
        engine: Engine,
        kinds: Set<RecordKind>,
        pageSize: Int32,
        readPage: @escaping @Sendable (Engine, PageRequest) async throws -> ([T], Int64?)
    ) {
        self.engine = engine
        self.kinds = kinds
        self.pageSize = pageSize
        self.readPage = readPage
    }

    /// Loads one more page into every `state()` stream.
    public func loadMore() {
        let waiting: [AsyncStream<Void>.Continuation] = locked {
            pages += 1
            return Array(marks.values)
        }
        for mark in waiting {
            mark.yield()
        }
    }

    /// The list now, and again after every change or `loadMore()`.
    public func state() -> AsyncThrowingStream<LiveListState<T>, Error> {
        let (dirty, mark) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let key = UUID()
        locked { marks[key] = mark }
        let kinds = self.kinds
        let listening = engine.liveWhen({ event in event.kinds.contains(where: kinds.contains) }) { _ in
            // A change: a fresh token, so the answer differs from the last and is passed on.
            UUID().uuidString
        }
        let (stream, continuation) = AsyncThrowingStream<LiveListState<T>, Error>.makeStream(bufferingPolicy: .unbounded)
        let listen = _Concurrency.Task {
            do {
                for try await _ in listening {
                    mark.yield()
                }
            } catch {
                continuation.finish(throwing: error)
            }
        }
        let run = _Concurrency.Task {
            var last: LiveListState<T>?
            do {
                for await _ in dirty {
                    let now = try await self.read(count: self.locked { self.pages })
                    if now != last {
                        last = now
                        continuation.yield(now)
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { [weak self] _ in
            listen.cancel()
            run.cancel()
            mark.finish()
            self?.locked { _ = self?.marks.removeValue(forKey: key) }
        }
        return stream
    }

    /// Runs `body` holding the lock (NSLock's `withLock` is not on every OS version served).
    private func locked<R>(_ body: () -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    private func read(count: Int) async throws -> LiveListState<T> {
        var items: [T] = []
        var offset: Int64? = 0
        var read = 0
        while read < count, let at = offset {
            let (page, next) = try await readPage(engine, PageRequest(offset: at, limit: pageSize))
            items += page
            offset = next
            read += 1
        }
        return LiveListState(items: items, endReached: offset == nil)
    }
}

extension Engine {
    /// The customers the user may see, live and paged, newest first.
    public func liveCustomers(filter: CustomerFilter = CustomerFilter(), pageSize: Int32 = 50) -> LiveList<Customer> {
        LiveList(engine: self, kinds: [.customer], pageSize: pageSize) { engine, page in
            let got = try await engine.customerPage(filter: filter, page: page)
            return (got.items, got.nextOffset)
        }
    }

    /// The opportunities the user may see, live and paged, newest first.
    public func liveOpportunities(
        filter: OpportunityFilter = OpportunityFilter(),
        pageSize: Int32 = 50
    ) -> LiveList<Opportunity> {
        LiveList(engine: self, kinds: [.opportunity], pageSize: pageSize) { engine, page in
            let got = try await engine.opportunityPage(filter: filter, page: page)
            return (got.items, got.nextOffset)
        }
    }

    /// The visits the user may see, live and paged, latest check-in first.
    public func liveVisits(filter: VisitFilter = VisitFilter(), pageSize: Int32 = 50) -> LiveList<Visit> {
        LiveList(engine: self, kinds: [.visit], pageSize: pageSize) { engine, page in
            let got = try await engine.visitPage(filter: filter, page: page)
            return (got.items, got.nextOffset)
        }
    }

    /// The signed-in user's own tasks and schedule entries, live and paged, latest first.
    public func liveMyTasks(
        filter: TaskFilter = TaskFilter(),
        pageSize: Int32 = 50
    ) -> LiveList<FieldsalesBindings.Task> {
        LiveList(engine: self, kinds: [.task], pageSize: pageSize) { engine, page in
            let got = try await engine.myTaskPage(filter: filter, page: page)
            return (got.items, got.nextOffset)
        }
    }
}
