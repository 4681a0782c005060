package app.fieldsales

import app.fieldsales.ffi.DataScope
import app.fieldsales.ffi.DecisionRole
import app.fieldsales.ffi.RecordKind
import app.fieldsales.ffi.ContactDraft
import app.fieldsales.ffi.CustomerDraft
import app.fieldsales.ffi.Engine
import app.fieldsales.ffi.FieldsalesException
import app.fieldsales.ffi.GeoPoint
import app.fieldsales.ffi.SignedInUser
import app.fieldsales.ffi.newRecordId
import app.fieldsales.ffi.openEngine
import app.fieldsales.ffi.resumeEngine
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Test

// The engine as an app holds it: a store in the app's files folder, suspend calls, a Flow of
// changes. The same JUnit tests run on a plain JVM against the host build of the library.

private val teamUnit = newRecordId()

private fun rep(): SignedInUser = SignedInUser(newRecordId(), teamUnit, listOf("sales_rep"), DataScope.OWN, "Asia/Shanghai")

private fun storePath(): String = tempFolder("fieldsales").resolve("rep.sqlite").toString()

private fun customer(legalName: String) =
    CustomerDraft(
        legalName = legalName,
        shortName = null,
        englishName = null,
        customerType = null,
        industry = "制造业",
        scale = null,
        address = "上海市黄浦区人民大道200号",
        location = GeoPoint(31.2304, 121.4737),
        tier = "A",
        source = null,
        tags = emptyList(),
    )

private fun <T> withEngine(block: suspend CoroutineScope.(Engine) -> T): T =
    runBlocking {
        openEngine(storePath(), rep()).use { engine -> block(engine) }
    }

class EngineTest {
    @Test
    fun `a rep creates a customer offline and the second try names the existing one`() =
        withEngine { engine ->
            val created = engine.createCustomer(customer("上海明远贸易有限公司"))
            assertEquals(engine.me().userId, created.customer.ownerId)
            val e = assertFailsWith<FieldsalesException.Duplicate> { engine.createCustomer(customer("上海明远贸易有限公司")) }
            assertEquals(created.customer.id, e.existingId)
            assertTrue(e.score >= 0.99, "score ${e.score}")
            assertEquals(created.customer, engine.getCustomer(e.existingId))
            assertEquals(1L, engine.pendingCount())
        }

    @Test
    fun `a customer screen hears about a contact added on another screen`() =
        withEngine { engine ->
            val customerId = engine.createCustomer(customer("杭州云栖科技有限公司")).customer.id
            val listening = CompletableDeferred<Unit>()
            val heard = async { engine.changesOf(RecordKind.CONTACT, onRegistered = { listening.complete(Unit) }).first() }
            withTimeout(5_000) { listening.await() }
            val contact =
                engine.createContact(customerId, ContactDraft("李娜", "采购经理", "0571-8888 6666", null, DecisionRole.DECISION_MAKER))
            val event = withTimeout(5_000) { heard.await() }
            assertEquals(listOf(RecordKind.CONTACT), event.kinds)
            assertEquals(contact.id, event.records.single().id)
        }

    @Test
    fun `a refused write is one typed exception naming the field`() =
        withEngine { engine ->
            val e = assertFailsWith<FieldsalesException.InvalidInput> { engine.createCustomer(customer("  ")) }
            assertEquals("customer.legal_name", e.field)
            val missing = newRecordId()
            val nf = assertFailsWith<FieldsalesException.NotFound> { engine.getCustomer(missing) }
            assertEquals("customer", nf.kind)
            assertEquals(missing, nf.id)
            // `OTHER` names a value a newer version wrote: shown when read, refused when sent.
            val kind = assertFailsWith<FieldsalesException.InvalidInput> { engine.search("锦江", listOf(RecordKind.OTHER), 5) }
            assertEquals("kinds", kind.field)
            val customerId = engine.createCustomer(customer("成都锦江宾馆有限公司")).customer.id
            val role =
                assertFailsWith<FieldsalesException.InvalidInput> {
                    engine.createContact(customerId, ContactDraft("王芳", null, null, null, DecisionRole.OTHER))
                }
            assertEquals("contact.decision_role", role.field)
        }

    @Test
    fun `an app restarted offline resumes as the user it had`() =
        runBlocking {
            val path = storePath()
            val user = rep()
            openEngine(path, user).use { it.createCustomer(customer("成都锦江酒店管理有限公司")) }
            val resumed = assertNotNull(resumeEngine(path))
            resumed.use { assertEquals(user, it.me()) }
        }
}
