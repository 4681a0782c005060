// Foundation faces of the library's day arithmetic. The library decides which day an instant
// belongs to (with its own zone rules, the same on every phone and on the server); these only
// convert types, so a view never formats a date string by hand.
//
// Zones must have IANA identifiers (`TimeZone(identifier: "Asia/Shanghai")`, what
// `TimeZone.current` gives on a phone). A fixed-offset zone such as `TimeZone(secondsFromGMT:)`
// has no daylight-saving rules and is refused with `FieldsalesError.invalidInput`.

import Foundation
import FieldsalesBindings

/// The local day (year, month, day) of `instant` in `zone`: the day a visit counts on.
public func localDate(of instant: Date, in zone: TimeZone) throws -> DateComponents {
    try localDateOf(at: instant, zone: zone.identifier)
}

/// The first instant of `day` in `zone`.
public func startOfLocalDay(_ day: DateComponents, in zone: TimeZone) throws -> Date {
    try FieldsalesBindings.startOfLocalDay(date: day, zone: zone.identifier)
}

/// When the wall-clock `time` happens on `day` in `zone`, such as that day's report deadline.
/// A repeated time is its first occurrence, a skipped one the first instant after the gap.
public func localTime(_ time: DateComponents, on day: DateComponents, in zone: TimeZone) throws -> Date {
    try localTimeOn(date: day, timeOfDay: wallTime(time), zone: zone.identifier)
}

extension LocalTimeEvent {
    /// The local day the event happened on.
    public var localDay: DateComponents {
        switch self {
        case let .dayChanged(date), let .timeReached(date, _, _):
            return date
        }
    }
}
