//! Field work through the real server: the server's verdict on a check-in overrules the
//! phone's and reaches every device, a check-in cannot be moved or retimed, a report's
//! deadline is judged on a clock the server trusts, and a task's answer travels back to the
//! manager who gave it.

use fieldsales_core::engine::tasks::NewTask;
use fieldsales_core::fieldwork::{
    CheckInVerdict, FenceStatus, Judge, ReportState as Compliance, SubmissionBasis,
};
use fieldsales_core::record::daily_report::ReportState;
use fieldsales_core::record::task::{TaskKind, TaskStatus};
use fieldsales_core::record::{Customer, DailyReport, Task, Visit};
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing::{customer, morning, position_near_shanghai, visit};
use fieldsales_core::time::ManualClock;
use fieldsales_core::{Currency, LocalDate, Money, Timestamp, Zone};
use fieldsales_tests::{Org, Person, World, sync};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// A customer of `rep`'s at People's Square, attributed to the rep's team.
fn customer_of(rep: &Person, org: &Org, name: &str) -> Customer {
    let mut c = customer(rep.profile, name);
    c.header.org_unit_id = Some(org.east_team);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_claiming_inside_for_a_check_in_3_km_away_is_overruled_on_every_device() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let wang = world
        .person("wang.qiang", org.east_team, "sales_manager")
        .await;
    let mut phone = world.device(&li).await;
    let mut manager = world.device(&wang).await;
    let c = phone
        .store_mut()
        .create(customer_of(&li, &org, "嘉兴华美服饰有限公司"))
        .expect("customer");
    sync(&mut phone).await;

    // A tampered phone checks in 3 km north of the customer and writes "inside, 20 m".
    let mut forged = visit(li.profile, c.header.id);
    forged.header.org_unit_id = Some(org.east_team);
    forged.check_in.position = position_near_shanghai(3_000.0, 5.0);
    forged.verdict = Some(CheckInVerdict {
        fence: FenceStatus::Inside,
        distance_m: Some(20.0),
        accuracy_m: 5.0,
        radius_m: 200.0,
        flags: Vec::new(),
        judged_by: Judge::Device,
        judged_at: morning(),
    });
    let id = phone.store_mut().create(forged).expect("written").header.id;
    let report = sync(&mut phone).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);

    let judged = |v: &Visit| {
        let verdict = v.verdict.clone().expect("a verdict");
        assert_eq!(verdict.fence, FenceStatus::Outside);
        assert_eq!(verdict.judged_by, Judge::Server);
        let distance = verdict.distance_m.expect("a distance");
        assert!((2_900.0..3_100.0).contains(&distance), "{distance}");
    };
    judged(
        &world
            .server_records()
            .get::<Visit>(id)
            .expect("on the server"),
    );
    judged(&phone.store().get::<Visit>(id).expect("on the rep's phone"));
    sync(&mut manager).await;
    judged(
        &manager
            .store()
            .get::<Visit>(id)
            .expect("on the manager's phone"),
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retiming_a_check_in_after_the_visit_is_refused_at_the_endpoint() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let mut phone = world.device(&li).await;
    let c = phone
        .store_mut()
        .create(customer_of(&li, &org, "湖州太湖建材有限公司"))
        .expect("customer");
    sync(&mut phone).await;
    let recorded = phone
        .store_mut()
        .create(visit(li.profile, c.header.id))
        .expect("checked in");
    let id = recorded.header.id;
    sync(&mut phone).await;

    // An hour earlier, to cover a late arrival.
    phone
        .store_mut()
        .update::<Visit>(id, |v| {
            v.check_in.at = v.check_in.at.plus_millis(-HOUR);
            Ok(())
        })
        .expect("edited locally");
    let report = sync(&mut phone).await;

    assert_eq!(
        report.rejected,
        vec![(id, "immutable.check_in".to_string())]
    );
    let rejected = phone.store().rejected_changes().expect("listed");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].field.as_deref(), Some("check_in.at"));
    let kept: Visit = phone.store().get(id).expect("the server's version");
    assert_eq!(kept.check_in.at, recorded.check_in.at);
    let server: Visit = world.server_records().get(id).expect("on the server");
    assert_eq!(server.check_in.at, recorded.check_in.at);
    world.stop().await;
}

/// A working day after today, in Shanghai, and a local time on it.
fn shanghai_day() -> (LocalDate, Zone) {
    let zone = Zone::SHANGHAI;
    (
        fieldsales_tests::working_day_from(Timestamp::now().local_date(&zone).succ()),
        zone,
    )
}

fn local(day: LocalDate, zone: &Zone, hour: u32, minute: u32) -> Timestamp {
    day.start(zone)
        .plus_millis(i64::from(hour) * HOUR + i64::from(minute) * MINUTE)
}

/// A rep writes the day's report offline at 17:55 on the phone's clock and syncs at 20:00
/// server time; the phone's clock is `skew_ms` off. Returns the server's copy, as the phone
/// holds it after the sync.
async fn report_written_offline_at_1755(skew_ms: i64) -> DailyReport {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let (day, zone) = shanghai_day();
    let phone_clock = ManualClock::new(local(day, &zone, 9, 0).plus_millis(skew_ms));
    world.clock.set(local(day, &zone, 9, 0));
    let mut phone = world.device_on_clock(&li, &phone_clock).await;
    // A real sync in the morning measures the phone's clock.
    sync(&mut phone).await;
    let offset = phone.clock_offset().expect("read").expect("measured");
    assert_eq!(offset.offset_ms, skew_ms);

    // Offline from here. At 17:55 on the phone the rep submits.
    phone_clock.set(local(day, &zone, 17, 55));
    let draft = phone.report_draft(day).expect("draft");
    let submitted = phone.submit_report(draft.header.id).expect("submitted");
    assert_eq!(submitted.state, ReportState::Submitted);

    // Signal at 20:00 server time.
    world.clock.set(local(day, &zone, 20, 0));
    phone_clock.set(local(day, &zone, 20, 0).plus_millis(skew_ms));
    let report = sync(&mut phone).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let on_phone: DailyReport = phone.store().get(draft.header.id).expect("on the phone");
    let on_server: DailyReport = world
        .server_records()
        .get(draft.header.id)
        .expect("on the server");
    assert_eq!(on_phone.verdict, on_server.verdict);
    assert_eq!(on_server.received_at, Some(local(day, &zone, 20, 0)));
    world.stop().await;
    on_phone
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_written_offline_at_1755_on_a_credible_clock_and_synced_at_2000_is_on_time() {
    let report = report_written_offline_at_1755(0).await;
    let verdict = report.verdict.expect("judged");
    assert_eq!(verdict.judged_by, Judge::Server);
    assert_eq!(verdict.state, Compliance::OnTime);
    assert_eq!(verdict.basis, SubmissionBasis::DeviceClock);
    assert_eq!(verdict.penalty, Money::major(0, Currency::CNY));
    let (day, zone) = shanghai_day();
    assert_eq!(
        verdict.effective_submitted_at,
        Some(local(day, &zone, 17, 55))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_stamped_1755_by_a_clock_two_hours_behind_is_judged_by_receipt_and_late() {
    // The phone's clock is two hours behind: it says 17:55 when it is 19:55.
    let report = report_written_offline_at_1755(-2 * HOUR).await;
    let verdict = report.verdict.expect("judged");
    assert_eq!(verdict.judged_by, Judge::Server);
    assert_eq!(verdict.basis, SubmissionBasis::ServerReceipt);
    assert_eq!(verdict.state, Compliance::Late);
    assert_eq!(verdict.penalty, Money::major(10, Currency::CNY));
}

fn task_for(rep: &Person, title: &str) -> NewTask {
    NewTask {
        assignee: rep.profile,
        kind: TaskKind::Task,
        title: title.into(),
        description: "带上新报价单".into(),
        due_at: Some(Timestamp::now().plus_millis(48 * HOUR)),
        start_at: None,
        end_at: None,
        reminder_at: None,
        related: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_a_manager_gives_is_accepted_or_rejected_on_the_reps_phone_and_the_manager_hears() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let wang = world
        .person("wang.qiang", org.east_team, "sales_manager")
        .await;
    let mut phone = world.device(&li).await;
    let mut manager = world.device(&wang).await;
    sync(&mut manager).await; // the team's profiles

    let visit_task = manager
        .create_task(task_for(&li, "拜访无锡新纪元电子"))
        .expect("given");
    let call_task = manager
        .create_task(task_for(&li, "电话回访常州天宁纺织"))
        .expect("given");
    assert_eq!(visit_task.status, TaskStatus::Proposed);
    sync(&mut manager).await;

    sync(&mut phone).await;
    let proposed: Task = phone.store().get(visit_task.header.id).expect("arrived");
    assert_eq!(proposed.status, TaskStatus::Proposed);
    assert_eq!(proposed.assigner_id, wang.profile);
    phone.accept_task(visit_task.header.id).expect("accepted");
    phone
        .reject_task(call_task.header.id, "客户本周出差，下周再约")
        .expect("rejected");
    let report = sync(&mut phone).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);

    sync(&mut manager).await;
    let accepted: Task = manager.store().get(visit_task.header.id).expect("held");
    assert_eq!(accepted.status, TaskStatus::Open);
    let refused: Task = manager.store().get(call_task.header.id).expect("held");
    assert_eq!(refused.status, TaskStatus::Rejected);
    assert_eq!(
        refused.reject_reason.as_deref(),
        Some("客户本周出差，下周再约")
    );
    world.stop().await;
}

on_postgres!(
    a_phone_claiming_inside_for_a_check_in_3_km_away_is_overruled_on_every_device,
    retiming_a_check_in_after_the_visit_is_refused_at_the_endpoint,
    a_report_stamped_1755_by_a_clock_two_hours_behind_is_judged_by_receipt_and_late,
);
