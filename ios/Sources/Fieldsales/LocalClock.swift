// The local clock as Swift concurrency wants it: an AsyncStream for a view that follows the
// day and its deadlines, an async call for one wait. The zone rules, the clock correction and
// the handling of a phone that slept all live in Rust; nothing here computes a time.

import Foundation
@_exported import FieldsalesBindings

/// The local day changes and watched wall-clock times of `zone`, as an `AsyncStream`.
///
/// The watch starts at once and stops when the stream ends: when the task iterating it is
/// cancelled, or the loop over it exits. Events are buffered without limit (they come at most
/// a few times a day), so none is lost while the consumer is busy.
///
/// - Parameters:
///   - zone: a region zone with an IANA identifier, such as `TimeZone.current` on a phone.
///   - timesOfDay: wall-clock times such as the 18:00 report deadline (hour and minute).
///   - clockOffset: server time minus device time, as sync measured it.
/// - Throws: `FieldsalesError.invalidInput` when the zone, a time of day or the offset is
///   refused; nothing is started then.
public func localTimeEvents(
    zone: TimeZone,
    timesOfDay: [DateComponents] = [],
    clockOffset: TimeInterval = 0
) throws -> AsyncStream<LocalTimeEvent> {
    let (stream, continuation) = AsyncStream<LocalTimeEvent>.makeStream(bufferingPolicy: .unbounded)
    let watch = try watchLocalTimes(
        zone: zone.identifier,
        timesOfDay: timesOfDay.map(wallTime),
        clockOffsetMs: milliseconds(clockOffset),
        listener: StreamListener(continuation)
    )
    // The closure keeps the handle alive as long as the stream: releasing it would stop the watch.
    continuation.onTermination = { _ in watch.cancel() }
    return stream
}

/// Suspends until the local day of `zone` changes or one of `timesOfDay` passes, and returns
/// what fell due. Cancelling the task stops the wait in the library at once.
///
/// - Throws: `FieldsalesError.invalidInput` when the zone, a time of day or the offset is refused.
public func nextLocalTimeEvents(
    zone: TimeZone,
    timesOfDay: [DateComponents] = [],
    clockOffset: TimeInterval = 0
) async throws -> [LocalTimeEvent] {
    try await FieldsalesBindings.nextLocalTimeEvents(
        zone: zone.identifier,
        timesOfDay: timesOfDay.map(wallTime),
        clockOffsetMs: milliseconds(clockOffset)
    )
}

/// Feeds the library's callbacks into a stream; called on a library thread.
private final class StreamListener: LocalTimeListener {
    private let continuation: AsyncStream<LocalTimeEvent>.Continuation

    init(_ continuation: AsyncStream<LocalTimeEvent>.Continuation) {
        self.continuation = continuation
    }

    func onLocalTime(event: LocalTimeEvent) {
        continuation.yield(event)
    }
}

/// The `HH:MM` (or `HH:MM:SS`) form the library reads. Missing components are sent as they
/// are (empty), for the library to refuse with a typed error.
func wallTime(_ time: DateComponents) -> String {
    guard let hour = time.hour, let minute = time.minute else { return "" }
    if let second = time.second, second != 0 {
        return String(format: "%02d:%02d:%02d", hour, minute, second)
    }
    return String(format: "%02d:%02d", hour, minute)
}

func milliseconds(_ interval: TimeInterval) -> Int64 {
    Int64((interval * 1000).rounded())
}
