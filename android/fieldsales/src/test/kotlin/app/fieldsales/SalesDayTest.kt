package app.fieldsales

import app.fieldsales.ffi.ApprovalStatus
import app.fieldsales.ffi.ConfirmOutcome
import app.fieldsales.ffi.ContactDraft
import app.fieldsales.ffi.CustomerDraft
import app.fieldsales.ffi.DecisionRole
import app.fieldsales.ffi.DeliveryStatus
import app.fieldsales.ffi.DeviceIntegritySignal
import app.fieldsales.ffi.DevicePosition
import app.fieldsales.ffi.FenceStatus
import app.fieldsales.ffi.FieldsalesException
import app.fieldsales.ffi.FollowUpMethod
import app.fieldsales.ffi.GeoPoint
import app.fieldsales.ffi.Granularity
import app.fieldsales.ffi.GroupBy
import app.fieldsales.ffi.Money
import app.fieldsales.ffi.NewOrder
import app.fieldsales.ffi.NewOrderLine
import app.fieldsales.ffi.NewTarget
import app.fieldsales.ffi.Operation
import app.fieldsales.ffi.OrderStatus
import app.fieldsales.ffi.OwnershipRule
import app.fieldsales.ffi.PeriodKind
import app.fieldsales.ffi.PlanOutcome
import app.fieldsales.ffi.PlannedVisit
import app.fieldsales.ffi.RecordKind
import app.fieldsales.ffi.ReportEdit
import app.fieldsales.ffi.ReportState
import app.fieldsales.ffi.TargetMetric
import app.fieldsales.ffi.TargetSubject
import app.fieldsales.ffi.UnitLevel
import app.fieldsales.ffi.signIn
import java.time.LocalDate
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.Test

// The sales side of the day through the real server the Rust harness started: the catalogue,
// quotes and orders with their approval, payments and delivery by the roles that own them,
// targets and commission, visit plans, the directory, the permission check, reports found
// false, ownership conflicts and deletions. Every rule runs in Rust; these tests drive the
// calls an app makes. Each test uses customers of its own: the server's duplicate check spans
// the whole company and every test of this run shares it.

private fun yuan(units: Long): Money = Money(units * 100, "CNY")

private fun tierA(
    name: String,
    custom: Map<String, String> = emptyMap(),
): CustomerDraft =
    CustomerDraft(name, null, null, null, "制造业", null, "上海市黄浦区人民大道200号", GeoPoint(SITE_LAT, SITE_LON), "A", null, emptyList(), custom)

/** A clean fix taken 3 s ago, 30 m north of the site. */
private fun atTheSite(): DevicePosition =
    DevicePosition(
        SITE_LAT + 30.0 / 111_320.0, SITE_LON, 8.0, java.time.Instant.now().minusSeconds(3), false,
        DeviceIntegritySignal(rooted = false, emulator = false),
        sinceBootMs = null,
    )

private fun quarterStart(day: LocalDate): LocalDate = LocalDate.of(day.year, (day.monthValue - 1) / 3 * 3 + 1, 1)

class SalesDayTest {
    @Test
    fun `a rep's whole day, from the agenda to the report, and the manager approves the order and sees it`() =
        runBlocking<Unit> {
            signIn(phoneOf(env("FIELDSALES_TEST_OTHER_REP")), newStore("day-rep")).use { rep ->
                rep.syncNow(quick)
                val agenda = rep.today()
                val today = agenda.date

                // The morning: who is who, and a new customer with the company's own fields.
                val manager = rep.directory().single { it.isMyManager }
                assertEquals(listOf("sales_manager"), manager.roles)
                assertEquals(UnitLevel.HEADQUARTERS, rep.orgUnits().first().level)
                val customer = rep.createCustomer(tierA("苏州恒远精密机械有限公司", mapOf("erp_code" to "C-7001"))).customer
                assertEquals("C-7001", customer.customFields["erp_code"])

                // At the customer: check in, log what was said, price the quote.
                val visit = rep.checkIn(customer.id, atTheSite(), "上门拜访").visit
                assertEquals(FenceStatus.INSIDE, visit.verdict?.fence)
                rep.logFollowUp(RecordKind.CUSTOMER, customer.id, FollowUpMethod.VISIT, "客户要六套专业版", "下午发报价", visit.id)
                val product = rep.products(false).single { it.code == "P-100" }
                val quote = rep.priceQuote(product.code, customer.id, 6L, 500, today)
                assertEquals(yuan(9_500), quote.line.rulePrice, "the tier-A price")
                assertEquals(yuan(6 * 9_025), quote.line.amount, "then 5% off by hand")
                val zero = assertFailsWith<FieldsalesException.InvalidInput> { rep.priceQuote(product.code, customer.id, 0L, 0, today) }
                assertEquals("quantity", zero.field)

                // The order: ¥54,150 goes to the manager for approval.
                val order =
                    rep.createOrder(
                        NewOrder(customer.id, null, "HT-${System.nanoTime()}", listOf(NewOrderLine(product.code, 6L, 500)), today),
                    )
                assertEquals(OrderStatus.DRAFT, order.status)
                assertEquals(yuan(54_150), order.total)
                val asked = rep.confirmOrder(order.id) as ConfirmOutcome.AwaitingApproval
                assertEquals(listOf("sales_manager"), asked.approval.waitingFor)

                // The evening: the report, submitted.
                val draft = rep.reportDraft(today)
                assertTrue(visit.id in draft.visitIds)
                rep.editReport(draft.id, ReportEdit("拜访苏州恒远", "报价已发", null, "跟进审批"))
                assertEquals(ReportState.SUBMITTED, rep.submitReport(draft.id).state)
                assertTrue(rep.syncNow(quick).refused.isEmpty())

                signIn(phoneOf(env("FIELDSALES_TEST_MANAGER")), newStore("day-manager")).use { boss ->
                    boss.syncNow(quick)
                    val waiting = boss.approvalsWaitingForMe().single { it.subjectId == order.id }
                    assertEquals(ApprovalStatus.APPROVED, boss.decideApproval(waiting.id, true, "同意").status)
                    boss.syncNow(quick)
                    val board = boss.visitsDashboard(today, today, GroupBy.REP, Granularity.DAY)
                    assertTrue(board.rows.any { it.groupId == rep.me().userId && it.figures.checkIns >= 1L }, "$board")
                    val reports = boss.reportDashboard(today, today, GroupBy.REP)
                    assertTrue(reports.total.onTime + reports.total.late >= 1L, "$reports")
                }
                rep.syncNow(quick)
                val confirmed = rep.confirmOrder(order.id) as ConfirmOutcome.Confirmed
                assertEquals(OrderStatus.CONFIRMED, confirmed.order.status)
                assertEquals(order.id, rep.myOrders().first().id)
            }
        }

    @Test
    fun `finance records a payment and the manager the delivery, and the target and commission count the order`() =
        runBlocking<Unit> {
            signIn(phoneOf(env("FIELDSALES_TEST_REP")), newStore("money-rep")).use { rep ->
                rep.syncNow(quick)
                val today = rep.today().date
                val repId = rep.me().userId
                val customer = rep.createCustomer(tierA("无锡新晨仪表有限公司")).customer
                val order =
                    rep.createOrder(
                        NewOrder(customer.id, null, "HT-${System.nanoTime()}", listOf(NewOrderLine("P-100", 2L, 0)), today),
                    )
                // ¥19,000 at no discount needs nobody's approval.
                val confirmed = (rep.confirmOrder(order.id) as ConfirmOutcome.Confirmed).order
                val at = assertNotNull(confirmed.confirmedAt)
                assertFailsWith<FieldsalesException.NotAllowed> { rep.recordPayment(order.id, yuan(5_000), at, "现金") }
                rep.syncNow(quick)

                signIn(phoneOf(env("FIELDSALES_TEST_FINANCE")), newStore("money-finance")).use { finance ->
                    finance.syncNow(quick)
                    val paid = finance.recordPayment(order.id, yuan(10_000), at, "银行转账")
                    assertEquals(yuan(10_000), paid.paid)
                    val wrong = assertFailsWith<FieldsalesException.InvalidInput> { finance.recordPayment(order.id, Money(100, "USD"), at, null) }
                    assertEquals("payment.amount", wrong.field)
                    finance.syncNow(quick)
                }
                signIn(phoneOf(env("FIELDSALES_TEST_MANAGER")), newStore("money-manager")).use { boss ->
                    boss.syncNow(quick)
                    assertEquals(DeliveryStatus.DELIVERED, boss.setDelivery(order.id, DeliveryStatus.DELIVERED).delivery)
                    val target = NewTarget(PeriodKind.QUARTER, quarterStart(today), TargetSubject.REP, repId, TargetMetric.WON_AMOUNT, yuan(100_000))
                    assertFailsWith<FieldsalesException.NotAllowed> { rep.setTarget(target) }
                    val set = boss.setTarget(target)
                    assertEquals(set.id, boss.targetsOf(repId).first().id)
                    val standing = boss.targetAttainment(set.id)
                    assertEquals(yuan(19_000), standing.achieved)
                    assertEquals(1_900L, standing.attainmentBp)
                    boss.syncNow(quick)
                }
                rep.syncNow(quick)
                val seen = rep.getOrder(order.id)
                assertEquals(yuan(10_000), seen.paid)
                assertEquals(DeliveryStatus.DELIVERED, seen.delivery)
                assertEquals(1, rep.ordersOf(customer.id).size)
                val statement = rep.commissionStatement(repId, today)
                assertEquals(yuan(19_000), statement.sales)
                assertEquals(1_900L, statement.attainmentBp)
                assertTrue(statement.lines.isNotEmpty() && statement.lines.all { it.explanation.isNotBlank() }, "$statement")
            }
        }

    @Test
    fun `the manager plans a rep's day, settles who owns a company, finds a report false and deletes a customer`() =
        runBlocking<Unit> {
            signIn(phoneOf(env("FIELDSALES_TEST_REP")), newStore("team-rep")).use { rep ->
                signIn(phoneOf(env("FIELDSALES_TEST_OTHER_REP")), newStore("team-other")).use { other ->
                    signIn(phoneOf(env("FIELDSALES_TEST_MANAGER")), newStore("team-manager")).use { boss ->
                        rep.syncNow(quick)
                        val today = rep.today().date
                        val repId = rep.me().userId
                        val mine = rep.createCustomer(tierA("常州东升电气有限公司")).customer
                        val theirs = other.createCustomer(tierA("东升电气(常州)")).customer
                        val contact = rep.createContact(mine.id, ContactDraft("周杰", "采购", null, null, DecisionRole.DECISION_MAKER))
                        rep.syncNow(quick)
                        other.syncNow(quick)
                        boss.syncNow(quick)

                        // The rep's day, planned and opened by the manager; not the other way round.
                        val first = boss.planVisits(repId, today, listOf(PlannedVisit(theirs.id, null, "拜访")))
                        // Planned again: the day's list is replaced, on the same plan.
                        val plan = boss.planVisits(repId, today, listOf(PlannedVisit(mine.id, null, "送样")))
                        assertEquals(first.id, plan.id)
                        assertEquals(plan, boss.planFor(repId, today))
                        assertEquals(listOf(mine.id), boss.agendaOf(repId, today).plannedVisits.map { it.customerId })
                        assertFailsWith<FieldsalesException.NotAllowed> { rep.agendaOf(boss.me().userId, today) }
                        val against = boss.planVsActual(repId, today)
                        assertEquals(PlanOutcome.PLANNED_NOT_DONE, against.lines.first { it.customerId == mine.id }.outcome)

                        // What each may do with the customer, as the server will judge it.
                        assertTrue(Operation.DELETE !in rep.allowedOperations(mine.id))
                        assertTrue(Operation.DELETE in boss.allowedOperations(mine.id))

                        // Two records of one company: the registered full name wins.
                        val verdict = boss.resolveCustomerOwnership("常州东升电气有限公司", listOf(mine.id, theirs.id))
                        assertEquals(repId, verdict.ownerId)
                        assertEquals(OwnershipRule.REGISTERED_FULL_NAME, verdict.rule)
                        assertFailsWith<FieldsalesException.NotAllowed> { rep.resolveCustomerOwnership(null, listOf(mine.id, theirs.id)) }

                        // The rep's report of the day, found false.
                        val report = rep.reportDraft(today)
                        rep.submitReport(report.id)
                        rep.syncNow(quick)
                        boss.syncNow(quick)
                        val commented = boss.commentReport(report.id, "请补充拜访照片")
                        assertEquals(listOf("请补充拜访照片"), commented.comments.map { it.text })
                        boss.markReportRead(report.id)
                        val found = boss.markReportFalse(report.id, "拜访记录与定位不符")
                        assertEquals("拜访记录与定位不符", found.markedFalse?.text)

                        // A contact the rep deletes; the customer only the manager does, with its contacts.
                        val second = rep.createContact(mine.id, ContactDraft("陈静", null, null, null, DecisionRole.USER))
                        rep.deleteContact(second.id, "已离职")
                        assertFailsWith<FieldsalesException.NotAllowed> { rep.deleteCustomer(mine.id, null) }
                        rep.syncNow(quick)
                        boss.syncNow(quick)
                        boss.deleteCustomer(mine.id, "重复录入")
                        boss.syncNow(quick)
                        rep.syncNow(quick)
                        val voided = rep.getCustomer(mine.id)
                        assertTrue(voided.deleted)
                        assertEquals(OwnershipRule.REGISTERED_FULL_NAME, voided.ownership?.rule)
                        assertTrue(rep.contactsOf(mine.id).none { it.id == contact.id || it.id == second.id })
                    }
                }
            }
        }
}
