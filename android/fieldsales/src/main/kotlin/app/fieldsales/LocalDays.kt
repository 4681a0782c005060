package app.fieldsales

import app.fieldsales.ffi.FieldsalesException
import app.fieldsales.ffi.LocalTimeEvent
import java.time.Instant
import java.time.LocalDate
import java.time.LocalTime
import java.time.ZoneId
import app.fieldsales.ffi.localDateOf as ffiLocalDateOf
import app.fieldsales.ffi.localTimeOn as ffiLocalTimeOn
import app.fieldsales.ffi.startOfLocalDay as ffiStartOfLocalDay

// java.time faces of the library's day arithmetic. The library decides which day an instant
// belongs to (with its own zone rules, the same on every phone and on the server); these only
// convert types, so a screen never formats a date string by hand.
//
// Zones must be region zones with IANA names (`ZoneId.of("Asia/Shanghai")`, what
// `ZoneId.systemDefault()` gives on a phone). A fixed `ZoneOffset` such as `+08:00` or `Z` has
// no daylight-saving rules and is refused with `FieldsalesException.InvalidInput`.

/**
 * The local day of [instant] in [zone]: the day a visit counts on, a daily report belongs to.
 *
 * @throws FieldsalesException.InvalidInput when the library does not know the zone.
 */
fun localDateOf(instant: Instant, zone: ZoneId): LocalDate = ffiLocalDateOf(instant, zone.id)

/**
 * The first instant of [date] in [zone].
 *
 * @throws FieldsalesException.InvalidInput when the library does not know the zone.
 */
fun startOfLocalDay(
    date: LocalDate,
    zone: ZoneId,
): Instant = ffiStartOfLocalDay(date, zone.id)

/**
 * When the wall-clock [time] happens on [date] in [zone], such as that day's report deadline.
 * Daylight-saving changes are resolved the library's way: a repeated time is its first
 * occurrence, a skipped one the first instant after the gap.
 *
 * @throws FieldsalesException.InvalidInput when the library does not know the zone.
 */
fun localTimeOn(
    date: LocalDate,
    time: LocalTime,
    zone: ZoneId,
): Instant = ffiLocalTimeOn(date, wallTime(time), zone.id)

/** The local day an event happened on. */
val LocalTimeEvent.localDate: LocalDate
    get() =
        when (this) {
            is LocalTimeEvent.DayChanged -> date
            is LocalTimeEvent.TimeReached -> date
        }
