package app.fieldsales

import app.fieldsales.ffi.Money
import app.fieldsales.ffi.applyRate
import app.fieldsales.ffi.formatMoney
import app.fieldsales.ffi.libraryVersion
import app.fieldsales.ffi.newRecordId
import app.fieldsales.ffi.parseRecordId
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.junit.Test

class MoneyAndIdsTest {
    private fun yuan(fen: Long) = Money(fen, "CNY")

    @Test
    fun `a ten percent discount on 999_99 yuan rounds once to the fen`() {
        assertEquals(yuan(10_000), applyRate(yuan(99_999), 1_000))
    }

    @Test
    fun `a refund prints with its sign two decimals and its code`() {
        assertEquals("-10.50 CNY", formatMoney(yuan(-1_050)))
        assertEquals("0.01 USD", formatMoney(Money(1L, "usd")))
    }

    @Test
    fun `records created offline one after another sort in creation order`() {
        val first = newRecordId()
        Thread.sleep(2)
        val second = newRecordId()
        assertTrue(first < second, "$first should sort before $second")
        assertEquals(first, parseRecordId(first.uppercase()))
    }

    @Test
    fun `the library reports the version it was built as`() {
        assertTrue(Regex("""\d+\.\d+\.\d+.*""").matches(libraryVersion()), libraryVersion())
    }
}
