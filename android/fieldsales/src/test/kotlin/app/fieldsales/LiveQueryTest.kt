package app.fieldsales

import app.fieldsales.ffi.DataScope
import app.fieldsales.ffi.CustomerDraft
import app.fieldsales.ffi.CustomerFilter
import app.fieldsales.ffi.FieldsalesException
import app.fieldsales.ffi.GeoPoint
import app.fieldsales.ffi.PageRequest
import app.fieldsales.ffi.SignedInUser
import app.fieldsales.ffi.newRecordId
import app.fieldsales.ffi.openEngine
import app.fieldsales.ffi.signIn
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.cancelChildren
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull
import org.junit.Test

// Live queries and paging as a screen uses them: collect the list, write or sync, and the list
// follows; scroll, and the next page comes in.

private fun company(name: String): CustomerDraft =
    CustomerDraft(name, null, null, null, "零售", null, null, GeoPoint(SITE_LAT, SITE_LON), "B", null, emptyList())

/** Collects [flow] into a channel the test reads one answer at a time. */
private fun <T> kotlinx.coroutines.CoroutineScope.answers(flow: Flow<T>): Channel<T> {
    val out = Channel<T>(Channel.UNLIMITED)
    launch { flow.collect { out.send(it) } }
    return out
}

/** The next answer, within 10 s; [what] names the wait when it times out. */
private suspend fun <T> Channel<T>.next(what: String = "an answer"): T =
    withTimeoutOrNull(10_000) { receive() } ?: throw AssertionError("no answer within 10 s: $what")

class LiveQueryTest {
    @Test
    fun `a live customer list follows local writes and pages in as the screen scrolls`() =
        runBlocking<Unit> {
            val me = SignedInUser(newRecordId(), newRecordId(), listOf("sales_rep"), DataScope.OWN, "Asia/Shanghai")
            val path = tempFolder("fieldsales-live").resolve("rep.sqlite").toString()
            openEngine(path, me).use { engine ->
                val list = engine.liveCustomers(pageSize = 2)
                val seen = answers(list.state)
                assertEquals(LiveListState(emptyList<app.fieldsales.ffi.Customer>(), endReached = true), seen.next("the empty list"))

                val first = engine.createCustomer(company("杭州一号贸易有限公司")).customer
                assertEquals(listOf(first.id), seen.next("the first customer").items.map { it.id })
                engine.createCustomer(company("杭州二号贸易有限公司"))
                val two = seen.next("the second customer")
                assertEquals(2, two.items.size)
                engine.createCustomer(company("杭州三号贸易有限公司"))
                // One page of two, newest first; more to come.
                var page = seen.next("the third customer")
                while (page.endReached) page = seen.next("the third customer")
                assertEquals(2, page.items.size)
                list.loadMore()
                val all = seen.next("the second page")
                assertEquals(3, all.items.size)
                assertEquals(first.id, all.items.last().id, "newest first")
                assertTrue(all.endReached)

                // A record, live: an edit re-emits it.
                val one = answers(engine.liveRecord(first.id) { getCustomer(first.id) })
                assertNull(one.next("the record").shortName)
                engine.updateCustomer(first.id, company("杭州一号贸易有限公司").copy(shortName = "杭一"))
                assertEquals("杭一", one.next("the edited record").shortName)

                // Pages are bounded.
                val bad = assertFailsWith<FieldsalesException.InvalidInput> { engine.customerPage(CustomerFilter(), PageRequest(0, 501)) }
                assertEquals("page.limit", bad.field)
                coroutineContext.cancelChildren()
            }
        }

    @Test
    fun `a manager's live list shows a rep's new customer after a sync`() =
        runBlocking<Unit> {
            signIn(phoneOf(env("FIELDSALES_TEST_MANAGER")), newStore("live-manager")).use { boss ->
                boss.syncNow(quick)
                val list = boss.liveCustomers(pageSize = 500)
                val seen = answers(list.state)
                val before = seen.next("the manager's list").items.map { it.id }
                val created =
                    signIn(phoneOf(env("FIELDSALES_TEST_REP")), newStore("live-rep")).use { rep ->
                        val c = rep.createCustomer(company("嘉兴新航包装有限公司")).customer
                        rep.syncNow(quick)
                        c
                    }
                assertTrue(created.id !in before)
                boss.syncNow(quick)
                var now = seen.next("the synced customer")
                while (now.items.none { it.id == created.id }) now = seen.next("the synced customer")
                assertTrue(now.items.any { it.id == created.id })
                coroutineContext.cancelChildren()
            }
        }
}
