package app.fieldsales

import app.fieldsales.ffi.FieldsalesException
import java.time.Instant
import java.time.LocalDate
import java.time.LocalTime
import java.time.ZoneId
import java.time.ZoneOffset
import java.time.ZonedDateTime
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import org.junit.Test

class LocalDaysTest {
    @Test
    fun `a visit at half past midnight in Shanghai counts on the Shanghai day`() {
        val visit = ZonedDateTime.of(2026, 3, 11, 0, 30, 0, 0, SHANGHAI).toInstant()
        assertEquals(LocalDate.of(2026, 3, 11), localDateOf(visit, SHANGHAI))
        assertEquals(LocalDate.of(2026, 3, 10), localDateOf(visit, ZoneId.of("UTC")))
    }

    @Test
    fun `the report deadline in New York moves with daylight saving as java time says`() {
        // Cross-check the library's zone rules against the JVM's own time-zone database.
        for (day in 1..14) {
            val date = LocalDate.of(2026, 3, day)
            val expected = ZonedDateTime.of(date, LocalTime.of(18, 0), NEW_YORK).toInstant()
            assertEquals(expected, localTimeOn(date, LocalTime.of(18, 0), NEW_YORK), "deadline on $date")
        }
    }

    @Test
    fun `a reminder set in the hour skipped by spring forward falls due when the gap ends`() {
        // 02:30 does not exist in New York on 2026-03-08: the library takes 03:00 EDT.
        val due = localTimeOn(LocalDate.of(2026, 3, 8), LocalTime.of(2, 30), NEW_YORK)
        assertEquals(Instant.parse("2026-03-08T07:00:00Z"), due)
    }

    @Test
    fun `a fixed offset is not a zone the library knows`() {
        // A fixed offset has no daylight-saving rules; the library only takes IANA names.
        val e = assertFailsWith<FieldsalesException.InvalidInput> { localDateOf(Instant.EPOCH, ZoneOffset.ofHours(8)) }
        assertEquals("zone", e.field)
    }

    @Test
    fun `a Shanghai day starts at 16h UTC the day before`() {
        assertEquals(Instant.parse("2026-03-09T16:00:00Z"), startOfLocalDay(LocalDate.of(2026, 3, 10), SHANGHAI))
    }

    @Test
    fun `an instant beyond the calendar is refused rather than clamped`() {
        val e = assertFailsWith<FieldsalesException.InvalidInput> { app.fieldsales.ffi.localDateOf(Instant.ofEpochMilli(Long.MAX_VALUE), "UTC") }
        assertEquals("instant", e.field)
    }
}
