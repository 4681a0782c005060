package app.fieldsales

import app.fieldsales.ffi.Customer
import app.fieldsales.ffi.CustomerFilter
import app.fieldsales.ffi.Engine
import app.fieldsales.ffi.Opportunity
import app.fieldsales.ffi.OpportunityFilter
import app.fieldsales.ffi.PageRequest
import app.fieldsales.ffi.RecordKind
import app.fieldsales.ffi.Task
import app.fieldsales.ffi.TaskFilter
import app.fieldsales.ffi.Visit
import app.fieldsales.ffi.VisitFilter
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.channelFlow
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.drop
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

// Live queries: a query as a Flow that answers at once and again whenever a change event (a
// local write of any screen, or a sync page applied) touches what it reads. The events come
// from the store's own journal in Rust; the query is the library's own, so a screen never
// combines events with a re-query itself. A query runs again at most once per burst of
// events (they are conflated while it runs), and an answer equal to the last is not emitted.

/**
 * [query] as a Flow: its answer when collection starts, then again after every change that
 * touches records of [kinds]. Collect it in
 * the screen's lifecycle scope; cancelling the collector stops listening.
 */
fun <T> Engine.live(
    vararg kinds: RecordKind,
    query: suspend Engine.() -> T,
): Flow<T> = liveWhen({ event -> event.kinds.any { it in kinds } }, query)

/**
 * One record as a Flow: [query]'s answer (typically `getCustomer(id)`) when collection starts,
 * then again whenever a change touches the record [id] (its companions included: a hidden
 * field's value is announced as a change of its record).
 */
fun <T> Engine.liveRecord(
    id: String,
    query: suspend Engine.() -> T,
): Flow<T> = liveWhen({ event -> event.records.any { it.id == id } }, query)

private fun <T> Engine.liveWhen(
    touches: (app.fieldsales.ffi.ChangeEvent) -> Boolean,
    query: suspend Engine.() -> T,
): Flow<T> =
    channelFlow {
        val dirty = Channel<Unit>(Channel.CONFLATED)
        launch {
            // The first answer is read once the listener is registered: no change falls between.
            changes(onRegistered = { dirty.trySend(Unit) }).filter(touches).collect { dirty.trySend(Unit) }
        }
        while (true) {
            dirty.receive()
            send(query())
        }
    }.distinctUntilChanged()

/** What a live list shows: the records of the pages loaded so far, and whether there are more. */
data class LiveListState<T>(
    val items: List<T>,
    val endReached: Boolean,
)

/** One page as the library returns it: its records and where the next page starts. */
class Page<T>(
    val items: List<T>,
    val nextOffset: Long?,
)

/**
 * A long list, live and paged: [state] holds the pages loaded so far (one at first), read again
 * after every change that touches the list's kinds; [loadMore] adds the next page (a screen
 * calls it when the user scrolls near the end). Pages are read newest first, [pageSize] records
 * each (at most 500).
 */
class LiveList<T> internal constructor(
    private val engine: Engine,
    private val kinds: Array<out RecordKind>,
    private val pageSize: Int,
    private val readPage: suspend Engine.(PageRequest) -> Page<T>,
) {
    private val pages = MutableStateFlow(1)

    /** The list now, and again after every change or [loadMore]. */
    val state: Flow<LiveListState<T>> =
        channelFlow {
            val dirty = Channel<Unit>(Channel.CONFLATED)
            launch {
                engine.changes(onRegistered = { dirty.trySend(Unit) })
                    .filter { event -> event.kinds.any { it in kinds } }
                    .collect { dirty.trySend(Unit) }
            }
            launch { pages.drop(1).collect { dirty.trySend(Unit) } }
            while (true) {
                dirty.receive()
                send(read(pages.value))
            }
        }.distinctUntilChanged()

    /** Loads one more page into [state]. */
    fun loadMore() {
        pages.update { it + 1 }
    }

    private suspend fun read(count: Int): LiveListState<T> {
        val items = mutableListOf<T>()
        var offset: Long? = 0
        var read = 0
        while (read < count && offset != null) {
            val page = engine.readPage(PageRequest(offset, pageSize))
            items += page.items
            offset = page.nextOffset
            read++
        }
        return LiveListState(items, endReached = offset == null)
    }
}

/** The customers the user may see, live and paged, newest first. */
fun Engine.liveCustomers(
    filter: CustomerFilter = CustomerFilter(),
    pageSize: Int = 50,
): LiveList<Customer> = LiveList(this, arrayOf(RecordKind.CUSTOMER), pageSize) { page -> customerPage(filter, page).let { Page(it.items, it.nextOffset) } }

/** The opportunities the user may see, live and paged, newest first. */
fun Engine.liveOpportunities(
    filter: OpportunityFilter = OpportunityFilter(),
    pageSize: Int = 50,
): LiveList<Opportunity> =
    LiveList(this, arrayOf(RecordKind.OPPORTUNITY), pageSize) { page -> opportunityPage(filter, page).let { Page(it.items, it.nextOffset) } }

/** The visits the user may see, live and paged, latest check-in first. */
fun Engine.liveVisits(
    filter: VisitFilter = VisitFilter(),
    pageSize: Int = 50,
): LiveList<Visit> = LiveList(this, arrayOf(RecordKind.VISIT), pageSize) { page -> visitPage(filter, page).let { Page(it.items, it.nextOffset) } }

/** The signed-in user's own tasks and schedule entries, live and paged, latest first. */
fun Engine.liveMyTasks(
    filter: TaskFilter = TaskFilter(),
    pageSize: Int = 50,
): LiveList<Task> = LiveList(this, arrayOf(RecordKind.TASK), pageSize) { page -> myTaskPage(filter, page).let { Page(it.items, it.nextOffset) } }
