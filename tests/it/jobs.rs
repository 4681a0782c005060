//! The server's scheduled jobs through the real server: a lead nobody followed up goes back
//! to the pool, a day without a report becomes a missing report with its penalty, and a deal
//! past its stage's time reminds its owner and their manager. All are written by the server
//! and reach the devices by pull.

use fieldsales_core::engine::tasks::ReminderKind;
use fieldsales_core::engine::{Engine, NewLead};
use fieldsales_core::fieldwork::{Judge, ReportState as Compliance};
use fieldsales_core::process::ReleaseCause;
use fieldsales_core::record::daily_report::ReportState;
use fieldsales_core::record::follow_up::FollowUpMethod;
use fieldsales_core::record::lead::LeadStatus;
use fieldsales_core::record::{DailyReport, Lead};
use fieldsales_core::store::StoreRead;
use fieldsales_core::time::ManualClock;
use fieldsales_core::{Clock, Currency, LocalDate, Money, RecordId, Timestamp};
use fieldsales_tests::{World, records, sync, token_of, working_day_from};
use serde_json::Value;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn ids(answer: &Value, key: &str) -> Vec<RecordId> {
    answer[key]
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().expect("an id").parse().expect("a record id"))
        .collect()
}

/// Sets the server's clock and the phone's to the same instant (a phone with the right time).
fn at(world: &World, phone: &ManualClock, t: Timestamp) {
    world.clock.set(t);
    phone.set(t);
}

fn new_lead(company: &str) -> NewLead {
    NewLead {
        company_name: company.into(),
        contact_name: Some("周经理".into()),
        ..NewLead::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_idle_13_days_23_hours_stays_and_at_14_days_it_is_back_in_the_pool_on_the_reps_phone()
 {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let clock = ManualClock::new(world.clock.now());
    let mut phone = world.device_on_clock(&li, &clock).await;
    let lead = phone
        .create_lead(new_lead("苏州恒达机械有限公司"), None)
        .expect("lead created");
    let taken = lead.assigned_at.expect("held since it was created");
    sync(&mut phone).await;

    at(&world, &clock, taken.plus_millis(14 * DAY - HOUR));
    let run = world.run_jobs().await;
    assert!(ids(&run, "reclaimed_leads").is_empty(), "{run}");
    sync(&mut phone).await;
    let held: Lead = phone.store().get(lead.header.id).expect("on the phone");
    assert_eq!(held.header.owner_id, Some(li.profile));

    at(&world, &clock, taken.plus_millis(14 * DAY));
    let run = world.run_jobs().await;
    assert_eq!(ids(&run, "reclaimed_leads"), vec![lead.header.id], "{run}");
    let on_server: Lead = world.server_records().get(lead.header.id).expect("stored");
    assert_eq!(on_server.status, LeadStatus::Pooled);

    sync(&mut phone).await;
    let pooled: Lead = phone
        .store()
        .get(lead.header.id)
        .expect("still visible: team pool");
    assert_eq!(pooled.header.owner_id, None);
    assert_eq!(pooled.status, LeadStatus::Pooled);
    let release = pooled.releases.last().expect("the release is remembered");
    assert_eq!(release.rep, li.profile);
    assert_eq!(release.cause, ReleaseCause::Reclaimed);
    assert_eq!(release.at, taken.plus_millis(14 * DAY));

    // Running again takes nothing more.
    assert!(ids(&world.run_jobs().await, "reclaimed_leads").is_empty());
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_on_day_10_restarts_the_reclaim_timer() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let clock = ManualClock::new(world.clock.now());
    let mut phone = world.device_on_clock(&li, &clock).await;
    let lead = phone
        .create_lead(new_lead("昆山精工模具有限公司"), None)
        .expect("lead created");
    let taken = lead.assigned_at.expect("held");
    sync(&mut phone).await;

    let called = taken.plus_millis(10 * DAY);
    at(&world, &clock, called);
    phone
        .follow_up_lead(
            lead.header.id,
            FollowUpMethod::Call,
            "约了下周三去工厂看设备",
        )
        .expect("followed up");
    sync(&mut phone).await;

    at(&world, &clock, taken.plus_millis(14 * DAY));
    assert!(ids(&world.run_jobs().await, "reclaimed_leads").is_empty());
    at(&world, &clock, called.plus_millis(14 * DAY - HOUR));
    assert!(ids(&world.run_jobs().await, "reclaimed_leads").is_empty());
    sync(&mut phone).await;
    let held: Lead = phone.store().get(lead.header.id).expect("on the phone");
    assert_eq!(held.header.owner_id, Some(li.profile));
    assert_eq!(held.status, LeadStatus::Following);

    at(&world, &clock, called.plus_millis(14 * DAY));
    assert_eq!(
        ids(&world.run_jobs().await, "reclaimed_leads"),
        vec![lead.header.id]
    );
    world.stop().await;
}

fn reports_of(engine: &Engine, rep: RecordId) -> Vec<DailyReport> {
    records(engine.store())
        .into_values()
        .filter_map(|r| match r {
            fieldsales_core::record::AnyRecord::DailyReport(d)
                if d.header.owner_id == Some(rep) =>
            {
                Some(d)
            }
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_without_a_report_gets_a_missing_report_with_the_penalty_that_the_manager_sees() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let zhang = world.person("zhang.wei", org.east_team, "sales_rep").await;
    let chen = world.person("chen.jie", org.east_team, "sales_rep").await;
    let wang = world
        .person("wang.qiang", org.east_team, "sales_manager")
        .await;
    let zone = "Asia/Shanghai".parse().expect("zone");
    // A working day (today, or the next one when the tests run on a weekend), from 10:00.
    let day: LocalDate = working_day_from(world.clock.now().local_date(&zone));
    world.clock.set(
        world
            .clock
            .now()
            .max(day.start(&zone).plus_millis(10 * HOUR)),
    );
    let clock = ManualClock::new(world.clock.now());
    let mut li_phone = world.device_on_clock(&li, &clock).await;
    let mut manager = world.device(&wang).await;

    // Li files the day's report; Chen starts one and never submits it; Zhang files nothing.
    let draft = li_phone.report_draft(day).expect("draft");
    li_phone.submit_report(draft.header.id).expect("submitted");
    sync(&mut li_phone).await;
    let mut chen_phone = world.device_on_clock(&chen, &clock).await;
    sync(&mut chen_phone).await;
    chen_phone
        .report_draft(day)
        .expect("a draft, never submitted");
    sync(&mut chen_phone).await;

    // Late in the evening the day is overdue, not missing yet.
    world
        .clock
        .set(day.succ().start(&zone).plus_millis(-60_000));
    let run = world.run_jobs().await;
    assert!(ids(&run, "missing_reports").is_empty(), "{run}");

    // After midnight (the configured cut-off) Zhang's day is missing.
    let cut_off = day.succ().start(&zone);
    world.clock.set(cut_off.plus_millis(30 * 60_000));
    let run = world.run_jobs().await;
    let missing = ids(&run, "missing_reports");
    assert_eq!(missing.len(), 2, "Zhang's day and Chen's: {run}");
    assert!(
        ids(&world.run_jobs().await, "missing_reports").is_empty(),
        "a day gets one missing report"
    );

    sync(&mut manager).await;
    let seen = reports_of(&manager, zhang.profile);
    assert_eq!(seen.len(), 1);
    let report = &seen[0];
    assert!(missing.contains(&report.header.id));
    assert_eq!(report.date, day);
    assert_eq!(report.state, ReportState::Missing);
    let verdict = report.verdict.as_ref().expect("judged");
    assert_eq!(verdict.state, Compliance::Missing);
    assert_eq!(verdict.judged_by, Judge::Server);
    assert_eq!(verdict.penalty, Money::major(30, Currency::CNY));
    assert_eq!(
        manager
            .unfiled_reports(day)
            .expect("who has not filed")
            .iter()
            .map(|u| u.user_id)
            .collect::<Vec<_>>(),
        vec![chen.profile, zhang.profile],
        "Li filed; Chen (a draft only) and Zhang are listed"
    );
    let chen_reports = reports_of(&manager, chen.profile);
    assert_eq!(chen_reports.len(), 2, "the draft and the missing report");
    assert!(
        chen_reports
            .iter()
            .any(|r| r.state == ReportState::Missing && r.date == day)
    );
    // Li's own day has her report only.
    let li_reports = reports_of(&manager, li.profile);
    assert_eq!(li_reports.len(), 1);
    assert_eq!(li_reports[0].state, ReportState::Submitted);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_reclaims_on_its_own_schedule_without_anyone_asking() {
    let mut world = World::start_with_jobs(std::time::Duration::from_millis(50)).await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let clock = ManualClock::new(world.clock.now());
    let mut phone = world.device_on_clock(&li, &clock).await;
    let lead = phone
        .create_lead(new_lead("舟山远洋渔业有限公司"), None)
        .expect("lead created");
    let taken = lead.assigned_at.expect("held");
    sync(&mut phone).await;

    at(&world, &clock, taken.plus_millis(14 * DAY));
    let mut pooled = false;
    for _ in 0..200 {
        sync(&mut phone).await;
        let held: Lead = phone.store().get(lead.header.id).expect("visible");
        if held.status == LeadStatus::Pooled {
            assert_eq!(held.header.owner_id, None);
            pooled = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(pooled, "the scheduled run took the lead back within 10 s");
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_admin_runs_the_jobs_on_demand() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let phone = world.device(&li).await;
    let response = world
        .http
        .post(format!("{}/v1/admin/jobs/run", world.base))
        .bearer_auth(token_of(&phone))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 403);
    let body: Value = response.json().await.expect("error body");
    assert_eq!(body["code"], "admin_required");
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_written_before_the_deadline_but_synced_after_the_cut_off_withdraws_the_missing_one()
 {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let zone = "Asia/Shanghai".parse().expect("zone");
    let day: LocalDate = working_day_from(world.clock.now().local_date(&zone).succ());
    let at_local = |d: LocalDate, hour: i64, minute: i64| {
        d.start(&zone).plus_millis(hour * HOUR + minute * 60_000)
    };
    let clock = ManualClock::new(at_local(day, 9, 0));
    world.clock.set(at_local(day, 9, 0));
    let mut phone = world.device_on_clock(&li, &clock).await;
    sync(&mut phone).await; // the phone's clock is measured: right

    // Offline: the report is submitted at 17:55; signal only returns the next morning.
    clock.set(at_local(day, 17, 55));
    let draft = phone.report_draft(day).expect("draft");
    phone.submit_report(draft.header.id).expect("submitted");
    at(&world, &clock, at_local(day.succ(), 9, 0));
    let run = world.run_jobs().await;
    let mut marked = Vec::new();
    for id in ids(&run, "missing_reports") {
        let r: DailyReport = world.server_records().get(id).expect("written");
        if r.date == day {
            marked.push(id);
        }
    }
    assert_eq!(marked.len(), 1, "the day looked missing: {run}");

    sync(&mut phone).await;
    let filed: DailyReport = phone.store().get(draft.header.id).expect("judged");
    let verdict = filed.verdict.expect("the server's verdict");
    assert_eq!(verdict.judged_by, Judge::Server);
    assert_eq!(verdict.state, Compliance::OnTime);

    let run = world.run_jobs().await;
    assert_eq!(ids(&run, "withdrawn_missing"), marked, "{run}");
    sync(&mut phone).await;
    let withdrawn: DailyReport = phone.store().get(marked[0]).expect("tombstone");
    assert!(withdrawn.header.is_deleted());
    assert!(ids(&world.run_jobs().await, "missing_reports").is_empty());
    world.stop().await;
}

on_postgres!(
    a_lead_idle_13_days_23_hours_stays_and_at_14_days_it_is_back_in_the_pool_on_the_reps_phone,
    the_server_reclaims_on_its_own_schedule_without_anyone_asking,
    a_rep_without_a_report_gets_a_missing_report_with_the_penalty_that_the_manager_sees,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deal_past_its_stages_time_reminds_its_owner_and_manager_on_their_phones_once_a_day() {
    use fieldsales_core::record::Opportunity;
    use fieldsales_core::testing::{customer, opportunity, yuan};
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let boss = world
        .person("zhou.jie", org.east_team, "sales_manager")
        .await;
    world
        .put(
            serde_json::json!({"kind": "org_unit", "id": org.east_team.to_string(),
            "name": "上海一组", "level": "team", "parent_id": org.east.to_string(),
            "manager_id": boss.profile.to_string(), "zone": "Asia/Shanghai"}),
        )
        .await;
    let clock = ManualClock::new(world.clock.now());
    let mut phone = world.device_on_clock(&li, &clock).await;
    let entered = clock.now();
    let mut c = customer(li.profile, "宁波海通物流有限公司");
    c.header.org_unit_id = Some(org.east_team);
    let c = phone.store_mut().create(c).expect("customer").header.id;
    // In the standard process's first stage, whose longest time is 14 days, reminded every 24 h.
    let mut deal = opportunity(li.profile, c, "海通 仓储系统", yuan(90_000));
    deal.header.org_unit_id = Some(org.east_team);
    deal.stage_history[0].at = entered;
    let deal = phone.store_mut().create(deal).expect("deal").header.id;
    let report = sync(&mut phone).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let mut bosses = world.device_on_clock(&boss, &clock).await;

    at(&world, &clock, entered.plus_millis(14 * DAY - HOUR));
    let run = world.run_jobs().await;
    assert!(ids(&run, "stage_reminders").is_empty(), "not yet: {run}");

    let due = entered.plus_millis(14 * DAY);
    at(&world, &clock, due);
    let run = world.run_jobs().await;
    assert_eq!(ids(&run, "stage_reminders"), vec![deal], "{run}");
    for device in [&mut phone, &mut bosses] {
        sync(device).await;
        let held: Opportunity = device.store().get(deal).expect("the deal is on the phone");
        assert_eq!(held.overdue_reminded_at, Some(due));
    }
    // Both phones hand the reminder to the notification scheduler.
    for device in [&phone, &bosses] {
        let reminders = device
            .reminders_due(due.plus_millis(-HOUR), due.plus_millis(HOUR))
            .expect("reminders");
        assert_eq!(reminders.len(), 1, "{reminders:?}");
        assert_eq!(reminders[0].kind, ReminderKind::OverdueStage);
        assert_eq!(reminders[0].record_id, deal);
        assert_eq!(reminders[0].remind_at, due);
        assert_eq!(reminders[0].due_at, Some(due));
        assert!(
            reminders[0].title.starts_with("海通 仓储系统"),
            "{reminders:?}"
        );
    }
    assert!(
        phone.overdue_opportunities().expect("reminders").is_empty(),
        "recorded: not due again yet"
    );

    // Not again within the stage's interval; again once it has passed.
    at(&world, &clock, due.plus_millis(HOUR));
    assert!(ids(&world.run_jobs().await, "stage_reminders").is_empty());
    at(&world, &clock, due.plus_millis(24 * HOUR));
    assert_eq!(ids(&world.run_jobs().await, "stage_reminders"), vec![deal]);

    // A modified phone dates the reminder a year ahead to silence the next ones: the server
    // does not take a reminder from the future for one sent.
    sync(&mut phone).await;
    phone
        .store_mut()
        .update::<Opportunity>(deal, |o| {
            o.overdue_reminded_at = Some(due.plus_millis(365 * DAY));
            Ok(())
        })
        .expect("written on the phone");
    sync(&mut phone).await;
    at(&world, &clock, due.plus_millis(26 * HOUR));
    assert_eq!(ids(&world.run_jobs().await, "stage_reminders"), vec![deal]);
    world.stop().await;
}
