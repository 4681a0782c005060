// Foundation faces of the library's day arithmetic. The library decides which day an instant
// belongs to (with its own zone rules, the same on every phone and on the server); these only
// convert types, so a view never formats a date string by hand.
//
// Zones must have IANA identifiers (`TimeZone(identifier: "Asia/Shanghai")`, what
// `TimeZone.current` gives on a phone). A fixed-offset zone such as `TimeZone(secondsFromGMT:)`
// has no daylight-saving rules and is refused with `FieldsalesError.InvalidInput`.

import Foundation
import FieldsalesBindings

/// The local day (year, month, day) of `instant` in `zone`: the day a visit counts on.
public func localDate(of instant: Date, in zone: TimeZone) throws -> DateComponents {
    let text = try localDateOf(atMs: milliseconds(instant.timeIntervalSince1970), zone: zone.identifier)
    return try parseDay(text)
}

/// The first instant of `day` in `zone`.
public func startOfLocalDay(_ day: DateComponents, in zone: TimeZone) throws -> Date {
    instant(fromMilliseconds: try FieldsalesBindings.startOfLocalDay(date: isoDay(day), zone: zone.identifier))
}

/// When the wall-clock `time` happens on `day` in `zone`, such as that day's report deadline.
/// A repeated time is its first occurrence, a skipped one the first instant after the gap.
public func localTime(_ time: DateComponents, on day: DateComponents, in zone: TimeZone) throws -> Date {
    let ms = try localTimeOn(date: isoDay(day), timeOfDay: wallTime(time), zone: zone.identifier)
    return instant(fromMilliseconds: ms)
}

extension LocalTimeEvent {
    /// The local day the event happened on.
    public var localDay: DateComponents? {
        switch self {
        case let .dayChanged(date), let .timeReached(date, _, _):
            return try? parseDay(date)
        }
    }
}

func instant(fromMilliseconds ms: Int64) -> Date {
    Date(timeIntervalSince1970: TimeInterval(ms) / 1000)
}

/// `YYYY-MM-DD`, or an empty string for the library to refuse when a component is missing.
func isoDay(_ day: DateComponents) -> String {
    guard let year = day.year, let month = day.month, let dayOfMonth = day.day else { return "" }
    return String(format: "%04d-%02d-%02d", year, month, dayOfMonth)
}

/// Reads the library's `YYYY-MM-DD`.
func parseDay(_ text: String) throws -> DateComponents {
    let parts = text.split(separator: "-").compactMap { Int($0) }
    guard parts.count == 3 else {
        throw FieldsalesError.Internal(detail: "the library returned a malformed date")
    }
    return DateComponents(year: parts[0], month: parts[1], day: parts[2])
}
