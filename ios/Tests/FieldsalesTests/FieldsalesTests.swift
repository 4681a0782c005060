// The Swift layer against the real library, as the Kotlin JVM tests do on Android. Runs with
// `swift test` on a Mac, or in Xcode on a simulator, once build-xcframework.sh has run.

import XCTest
@testable import Fieldsales

private let shanghai = TimeZone(identifier: "Asia/Shanghai")!
private let newYork = TimeZone(identifier: "America/New_York")!

/// The clock offset that makes the phone's corrected clock read `lead` seconds before `moment`,
/// as sync would after meeting a server whose clock is ahead.
private func offsetPutting(_ moment: Date, lead: TimeInterval = 0.4) -> TimeInterval {
    moment.addingTimeInterval(-lead).timeIntervalSinceNow
}

private func nextMidnight(in zone: TimeZone) throws -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = zone
    let today = try XCTUnwrap(calendar.date(from: try localDate(of: Date(), in: zone)))
    let tomorrow = try XCTUnwrap(calendar.date(byAdding: .day, value: 1, to: today))
    return try startOfLocalDay(calendar.dateComponents([.year, .month, .day], from: tomorrow), in: zone)
}

final class LocalDaysTests: XCTestCase {
    func testAVisitAtHalfPastMidnightInShanghaiCountsOnTheShanghaiDay() throws {
        let visit = Date(timeIntervalSince1970: 1_773_160_200) // 2026-03-11 00:30 in Shanghai
        XCTAssertEqual(try localDate(of: visit, in: shanghai), DateComponents(year: 2026, month: 3, day: 11))
        XCTAssertEqual(
            try localDate(of: visit, in: TimeZone(identifier: "UTC")!),
            DateComponents(year: 2026, month: 3, day: 10)
        )
    }

    func testTheReportDeadlineInNewYorkFollowsDaylightSaving() throws {
        let six = DateComponents(hour: 18, minute: 0)
        let before = try localTime(six, on: DateComponents(year: 2026, month: 3, day: 7), in: newYork)
        let after = try localTime(six, on: DateComponents(year: 2026, month: 3, day: 8), in: newYork)
        XCTAssertEqual(before, Date(timeIntervalSince1970: 1_772_924_400)) // 23:00 UTC
        XCTAssertEqual(after, Date(timeIntervalSince1970: 1_773_007_200)) // 22:00 UTC
    }

    func testAFixedOffsetZoneIsRefusedNamingTheZone() {
        XCTAssertThrowsError(try localDate(of: Date(), in: TimeZone(secondsFromGMT: 8 * 3600)!)) { error in
            guard case let FieldsalesError.invalidInput(field, _) = error else {
                return XCTFail("expected InvalidInput, got \(error)")
            }
            XCTAssertEqual(field, "zone")
        }
    }
}

final class LocalClockTests: XCTestCase {
    func testTheHomeScreenSeesTheNewDayArriveAtMidnight() async throws {
        let midnight = try nextMidnight(in: shanghai)
        let stream = try localTimeEvents(zone: shanghai, clockOffset: offsetPutting(midnight))
        var iterator = stream.makeAsyncIterator()
        let event = await iterator.next()
        XCTAssertEqual(event?.localDay, try localDate(of: midnight, in: shanghai))
        guard case .dayChanged? = event else { return XCTFail("expected a day change, got \(String(describing: event))") }
    }

    func testASingleWaitReturnsTheNewDay() async throws {
        let midnight = try nextMidnight(in: shanghai)
        let events = try await nextLocalTimeEvents(zone: shanghai, clockOffset: offsetPutting(midnight))
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(events.first?.localDay, try localDate(of: midnight, in: shanghai))
    }

    func testLeavingAScreenCancelsItsWaitAtOnce() async throws {
        let midnight = try nextMidnight(in: shanghai)
        // Noon: the next event is twelve hours away.
        let waiting = _Concurrency.Task { try await nextLocalTimeEvents(zone: shanghai, clockOffset: offsetPutting(midnight, lead: 12 * 3600)) }
        try await _Concurrency.Task.sleep(nanoseconds: 200_000_000)
        let started = Date()
        waiting.cancel()
        _ = try? await waiting.value
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
    }

    func testAWatchOnADeadlineTypedWithoutMinutesIsRefused() {
        XCTAssertThrowsError(try localTimeEvents(zone: shanghai, timesOfDay: [DateComponents(hour: 18)])) { error in
            guard case let FieldsalesError.invalidInput(field, _) = error else {
                return XCTFail("expected InvalidInput, got \(error)")
            }
            XCTAssertEqual(field, "times_of_day")
        }
    }
}
