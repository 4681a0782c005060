package app.fieldsales

import app.fieldsales.ffi.FieldsalesException
import app.fieldsales.ffi.Money
import app.fieldsales.ffi.formatMoney
import app.fieldsales.ffi.parseRecordId
import app.fieldsales.ffi.validateCoordinates
import app.fieldsales.ffi.validateZone
import app.fieldsales.ffi.watchLocalTimes
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import org.junit.Test

class InputErrorsTest {
    @Test
    fun `a misspelt zone from the phone settings is refused naming the zone`() {
        val e = assertFailsWith<FieldsalesException.InvalidInput> { validateZone("Asia/Shanghia") }
        assertEquals("zone", e.field)
        assertEquals("expected an IANA time zone name such as Asia/Shanghai", e.detail)
        assertFalse(e.message.orEmpty().contains("Shanghia"), e.message)
    }

    @Test
    fun `a position from a device without a fix is refused without repeating it`() {
        val e = assertFailsWith<FieldsalesException.InvalidInput> { validateCoordinates(Double.NaN, 121.4737) }
        assertEquals("position", e.field)
        assertFalse(e.message.orEmpty().contains("121.4737"), e.message)
    }

    @Test
    fun `an amount in a made-up currency is refused on the amount`() {
        val e = assertFailsWith<FieldsalesException.InvalidInput> { formatMoney(Money(100L, "RMB¥")) }
        assertEquals("amount", e.field)
    }

    @Test
    fun `a watch on a deadline typed as 6pm is refused before anything starts`() {
        val e =
            assertFailsWith<FieldsalesException.InvalidInput> {
                watchLocalTimes("Asia/Shanghai", listOf("6pm"), 0L, RecordingListener())
            }
        assertEquals("times_of_day", e.field)
    }

    @Test
    fun `every failure is one sealed type a screen can branch on exhaustively`() {
        val e: FieldsalesException = assertFailsWith { parseRecordId("customer/42") }
        // `when` without `else` compiles only while it covers every variant: a new variant in
        // Rust breaks this test until the apps decide what to do with it.
        val whatTheScreenDoes =
            when (e) {
                is FieldsalesException.InvalidInput -> "mark field ${e.field}"
                is FieldsalesException.NotFound -> "show gone"
                is FieldsalesException.Duplicate -> "offer ${e.existingId}"
                is FieldsalesException.RuleViolated -> "explain ${e.rule}"
                is FieldsalesException.NotAllowed -> "hide ${e.action}"
                is FieldsalesException.Offline -> "queue and retry"
                is FieldsalesException.AuthExpired -> "sign in again"
                is FieldsalesException.Revoked -> "show sign-in: local data was wiped"
                is FieldsalesException.BadCredentials -> "ask for the password again"
                is FieldsalesException.NotSignedIn -> "show sign-in"
                is FieldsalesException.Cancelled -> "nothing to show"
                is FieldsalesException.ServerRefused -> "show ${e.code}"
                is FieldsalesException.WrongKey -> "unlock the keystore and open again"
                is FieldsalesException.Storage -> "report storage"
                is FieldsalesException.Internal -> "report bug"
            }
        assertEquals("mark field id", whatTheScreenDoes)
    }
}
