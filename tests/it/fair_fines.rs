//! Fair fines through the real server: nobody owes a daily report, or is fined, for a day off
//! (a weekend, a public holiday, a day of leave, the days before they started), and a deal's
//! progress a manager found false (虚假推进) carries the tenant's penalty, which the rep can
//! neither undo nor delete away.

use fieldsales_core::dashboard::{DashboardRequest, DateRange, GroupBy};
use fieldsales_core::engine::{Engine, NewOpportunity};
use fieldsales_core::fieldwork::report::ReportDay;
use fieldsales_core::fieldwork::{DayOff, DaySpan, Employment, WorkCalendar};
use fieldsales_core::process::{FieldValues, SalesProcess};
use fieldsales_core::record::daily_report::ReportState;
use fieldsales_core::record::opportunity::FalseProgress;
use fieldsales_core::record::{DailyReport, DataScope, Opportunity, Tombstone};
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing::{customer, yuan};
use fieldsales_core::time::ManualClock;
use fieldsales_core::{Currency, LocalDate, Money, RecordId, Timestamp, Zone};
use fieldsales_tests::{Org, Person, World, sync};
use serde_json::{Value, json};

const HOUR: i64 = 3_600_000;

/// A working week in the future, Monday to Sunday, whatever day the tests run.
#[derive(Clone, Copy)]
struct Week {
    mon: LocalDate,
}

impl Week {
    fn ahead() -> Week {
        let calendar = WorkCalendar::default();
        let owes = |d: LocalDate| {
            calendar.owes_report(
                d,
                &Employment {
                    started_on: d,
                    left_on: None,
                    leave: &[],
                },
            )
        };
        // A week from now, the first working day after a day off: a Monday.
        let mut d = Timestamp::now().local_date(&Zone::SHANGHAI);
        for _ in 0..7 {
            d = d.succ();
        }
        while !owes(d) || owes(d.pred()) {
            d = d.succ();
        }
        Week { mon: d }
    }

    /// The week's day `n` (0 = Monday … 6 = Sunday; 7 = the next Monday).
    fn day(&self, n: usize) -> LocalDate {
        (0..n).fold(self.mon, |d, _| d.succ())
    }

    fn at(&self, n: usize, hour: i64) -> Timestamp {
        self.day(n).start(&Zone::SHANGHAI).plus_millis(hour * HOUR)
    }

    fn range(&self) -> DateRange {
        DateRange {
            from: self.day(0),
            to: self.day(6),
        }
    }
}

const MON: usize = 0;
const TUE: usize = 1;
const WED: usize = 2;
const THU: usize = 3;
const FRI: usize = 4;
const SAT: usize = 5;
const NEXT_MON: usize = 7;

/// A tenant and its east team, with the standard process changed by `configure`.
async fn tenant(configure: impl FnOnce(&mut SalesProcess)) -> (World, Org) {
    let world = World::start().await;
    let org = world.org().await;
    let mut process = SalesProcess::standard();
    configure(&mut process);
    world
        .put(
            json!({"kind": "process_config", "toml": process.to_toml().expect("toml"),
                    "revision": 1}),
        )
        .await;
    (world, org)
}

/// A rep of the east team whose first working day is `started_on`, with `leave`.
async fn rep(
    world: &World,
    org: &Org,
    login: &str,
    started_on: LocalDate,
    leave: &[LocalDate],
) -> Person {
    let leave: Vec<String> = leave.iter().map(ToString::to_string).collect();
    world
        .person_with(
            login,
            login,
            org.east_team,
            "sales_rep",
            json!({"started_on": started_on.to_string(), "leave": leave}),
        )
        .await
}

/// The days the server's job wrote missing reports for at `at`, by whose they are, sorted.
async fn missing_days(world: &World, at: Timestamp) -> Vec<(RecordId, LocalDate)> {
    world.clock.set(at);
    let run = world.run_jobs().await;
    let server = world.server_records();
    let mut days: Vec<(RecordId, LocalDate)> = ids(&run, "missing_reports")
        .into_iter()
        .map(|id| {
            let missing: DailyReport = server.get(id).expect("written");
            assert_eq!(missing.state, ReportState::Missing);
            (missing.header.owner_id.expect("a rep's"), missing.date)
        })
        .collect();
    days.sort();
    days
}

/// The days in `days` that are `person`'s.
fn of(person: &Person, days: &[(RecordId, LocalDate)]) -> Vec<LocalDate> {
    days.iter()
        .filter(|(owner, _)| *owner == person.profile)
        .map(|(_, d)| *d)
        .collect()
}

fn ids(run: &Value, key: &str) -> Vec<RecordId> {
    run[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str()?.parse().ok())
        .collect()
}

/// The manager's phone, synced at `at`, and their team's report compliance for the week.
async fn managers_view(
    world: &mut World,
    manager: &Person,
    week: Week,
    at: Timestamp,
) -> (
    Engine,
    fieldsales_core::dashboard::reports::ReportCompliance,
) {
    world.clock.set(at);
    let clock = ManualClock::new(at);
    let mut phone = world.device_on_clock(manager, &clock).await;
    sync(&mut phone).await;
    let compliance = phone
        .report_dashboard(&DashboardRequest {
            range: week.range(),
            group_by: GroupBy::Rep,
        })
        .expect("dashboard");
    (phone, compliance)
}

fn cny(units: i64) -> Money {
    Money::major(units, Currency::CNY)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_owes_nothing_for_the_weekend_a_public_holiday_or_a_day_of_leave() {
    let week = Week::ahead();
    let (mut world, org) = tenant(|p| {
        p.fieldwork.calendar.public_holidays = vec![DaySpan::day(week.day(TUE))];
    })
    .await;
    let li = rep(&world, &org, "li.na", week.day(MON), &[week.day(THU)]).await;
    let wang = world
        .person("wang.qiang", org.east_team, "sales_manager")
        .await;

    // Li files nothing all week. Tuesday is a holiday, Thursday her leave, then the weekend.
    let days = missing_days(&world, week.at(NEXT_MON, 1)).await;
    assert_eq!(
        of(&li, &days),
        vec![week.day(MON), week.day(WED), week.day(FRI)]
    );

    let (_, compliance) = managers_view(&mut world, &wang, week, week.at(NEXT_MON, 9)).await;
    assert_eq!(compliance.total.missing, 3);
    assert_eq!(compliance.total.penalties, cny(90));
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_who_joined_on_wednesday_owes_nothing_for_monday() {
    let week = Week::ahead();
    let (mut world, org) = tenant(|_| {}).await;
    let chen = rep(
        &world,
        &org,
        "chen.jie",
        week.day(MON).pred().pred().pred(),
        &[],
    )
    .await;
    let new_rep = rep(&world, &org, "zhou.xin", week.day(WED), &[]).await;
    let wang = world
        .person("wang.qiang", org.east_team, "sales_manager")
        .await;
    let days = missing_days(&world, week.at(NEXT_MON, 1)).await;
    assert_eq!(
        of(&new_rep, &days),
        vec![week.day(WED), week.day(THU), week.day(FRI)]
    );
    assert_eq!(of(&chen, &days).len(), 5, "Chen, there all week, owes five");

    let (_, compliance) = managers_view(&mut world, &wang, week, week.at(NEXT_MON, 9)).await;
    let row = compliance
        .groups
        .iter()
        .find(|g| g.group.id == new_rep.profile)
        .expect("Zhou's row");
    assert_eq!(row.figures.missing, 3, "{row:?}");
    assert_eq!(row.figures.penalties, cny(90));
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reps_phone_reminds_her_only_of_the_days_she_owes_a_report() {
    let week = Week::ahead();
    let (mut world, org) = tenant(|p| {
        p.fieldwork.calendar.public_holidays = vec![DaySpan::day(week.day(THU))];
    })
    .await;
    // Zhou starts on Wednesday and takes Friday off; Thursday is a public holiday.
    let zhou = rep(&world, &org, "zhou.xin", week.day(WED), &[week.day(FRI)]).await;
    world.clock.set(week.at(WED, 9));
    let clock = ManualClock::new(week.at(WED, 9));
    let mut phone = world.device_on_clock(&zhou, &clock).await;
    sync(&mut phone).await;
    let reminder = |n: usize| phone.report_due(week.day(n)).expect("reminder");
    assert_eq!(
        reminder(MON),
        Some(ReportDay::DayOff(DayOff::NotStarted)),
        "before she started"
    );
    assert_eq!(
        reminder(THU),
        Some(ReportDay::DayOff(DayOff::PublicHoliday))
    );
    assert_eq!(reminder(FRI), Some(ReportDay::DayOff(DayOff::Leave)));
    assert_eq!(reminder(SAT), Some(ReportDay::DayOff(DayOff::RestDay)));
    // Her first day is owed, by the deadline of the standard process.
    match reminder(WED) {
        Some(ReportDay::Open { deadline }) => {
            assert_eq!(deadline, week.at(WED, 18));
        }
        other => panic!("Wednesday is owed: {other:?}"),
    }
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_filed_late_on_a_saturday_costs_nothing() {
    let week = Week::ahead();
    let (mut world, org) = tenant(|_| {}).await;
    let li = rep(&world, &org, "li.na", week.day(MON), &[]).await;
    world.clock.set(week.at(SAT, 20));
    let clock = ManualClock::new(week.at(SAT, 20));
    let mut phone = world.device_on_clock(&li, &clock).await;
    sync(&mut phone).await;
    // No reminder is due on a Saturday.
    let due = phone.report_due(week.day(SAT)).expect("reminder");
    assert!(
        matches!(
            due,
            Some(fieldsales_core::fieldwork::report::ReportDay::DayOff(
                DayOff::RestDay
            ))
        ),
        "{due:?}"
    );
    // She writes one anyway, at 21:00, after the deadline.
    clock.set(week.at(SAT, 21));
    world.clock.set(week.at(SAT, 21));
    let draft = phone.report_draft(week.day(SAT)).expect("draft");
    phone.submit_report(draft.header.id).expect("submitted");
    sync(&mut phone).await;
    let judged: DailyReport = world
        .server_records()
        .get(draft.header.id)
        .expect("on the server");
    let verdict = judged.verdict.expect("judged");
    assert_eq!(verdict.state, fieldsales_core::fieldwork::ReportState::Late);
    assert_eq!(verdict.penalty, cny(0));
    assert_eq!(verdict.day_off, Some(DayOff::RestDay));
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_report_of_a_day_declared_a_holiday_afterwards_is_withdrawn() {
    let week = Week::ahead();
    let (world, org) = tenant(|_| {}).await;
    let li = rep(&world, &org, "li.na", week.day(MON), &[]).await;
    let days = missing_days(&world, week.at(NEXT_MON, 1)).await;
    assert_eq!(of(&li, &days).len(), 5, "{days:?}");
    // HQ declares that Friday a holiday after all.
    let mut process = SalesProcess::standard();
    process.fieldwork.calendar.public_holidays = vec![DaySpan::day(week.day(FRI))];
    world
        .put(
            json!({"kind": "process_config", "toml": process.to_toml().expect("toml"),
                    "revision": 2}),
        )
        .await;
    world.clock.set(week.at(NEXT_MON, 2));
    let run = world.run_jobs().await;
    let withdrawn = ids(&run, "withdrawn_missing");
    assert_eq!(withdrawn.len(), 1, "{run}");
    let friday: DailyReport = world.server_records().get(withdrawn[0]).expect("withdrawn");
    assert_eq!(friday.date, week.day(FRI));
    assert!(friday.header.is_deleted());
    world.stop().await;
}

/// A change a rep makes to a deal straight in their store.
type Edit = Box<dyn Fn(&mut Opportunity)>;

/// A deal of `rep`'s with `company`, synced from their phone.
async fn deal_of(phone: &mut Engine, rep: &Person, org: &Org, company: &str) -> Opportunity {
    let mut c = customer(rep.profile, company);
    c.header.org_unit_id = Some(org.east_team);
    let c = phone.store_mut().create(c).expect("customer");
    let deal = phone
        .create_opportunity(NewOpportunity {
            customer_id: c.header.id,
            name: "二期产线自动化".into(),
            amount: yuan(640_000),
            expected_close: None,
            fields: FieldValues::new(),
        })
        .expect("opened");
    let report = sync(phone).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    deal
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_finds_a_deals_progress_false_and_the_rep_can_neither_undo_nor_delete_it() {
    // A tenant fining false progress 250 whose reps may delete their own deals (duplicates).
    let (mut world, org) = tenant(|p| {
        p.deals.false_progress_penalty = 250;
        let rep = p
            .roles
            .iter_mut()
            .find(|r| r.code == "sales_rep")
            .expect("the standard rep role");
        let mut grants = rep.permissions().into_owned();
        grants.kinds.entry("opportunity".into()).or_default().delete = Some(DataScope::Own);
        rep.permissions = Some(grants);
    })
    .await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let wang = world
        .person("wang.qiang", org.east_team, "sales_manager")
        .await;
    let mut rep_phone = world.device(&li).await;
    sync(&mut rep_phone).await;
    let deal = deal_of(&mut rep_phone, &li, &org, "苏州工业园区华芯电子有限公司").await;
    let id = deal.header.id;
    // An unmarked deal of hers she may delete (this tenant lets reps remove duplicates).
    let duplicate = deal_of(&mut rep_phone, &li, &org, "苏州华芯电子科技有限公司").await;
    rep_phone
        .store_mut()
        .delete(
            duplicate.header.id,
            Some(li.profile),
            Some("重复录入".into()),
        )
        .expect("deleted on the phone");
    let report = sync(&mut rep_phone).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let gone: Opportunity = world
        .server_records()
        .get(duplicate.header.id)
        .expect("kept");
    assert!(gone.header.is_deleted());

    // The rep cannot mark their own deal (a mark is a manager's finding, and its fine with
    // it), not through the app and not written straight into their store.
    assert!(rep_phone.mark_progress_false(id, "自查").is_err());
    rep_phone
        .store_mut()
        .update::<Opportunity>(id, |o| {
            o.marked_false = Some(FalseProgress {
                by: li.profile,
                at: Timestamp::now(),
                reason: "自查".into(),
                penalty: cny(0),
            });
            Ok(())
        })
        .expect("written in the rep's own store");
    let report = sync(&mut rep_phone).await;
    assert_eq!(
        report.rejected,
        vec![(id, "permission.denied".to_string())],
        "a rep's role holds no right to mark progress false"
    );

    // The manager finds the progress false; their tampered phone writes a penalty of ¥1.
    let mut manager = world.device(&wang).await;
    sync(&mut manager).await;
    manager
        .mark_progress_false(id, "客户从未收到过报价单，阶段是补填的")
        .expect("marked");
    manager
        .store_mut()
        .update::<Opportunity>(id, |o| {
            if let Some(m) = o.marked_false.as_mut() {
                m.penalty = cny(1);
            }
            Ok(())
        })
        .expect("tampered");
    let report = sync(&mut manager).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let held: Opportunity = world.server_records().get(id).expect("on the server");
    let mark = held.marked_false.clone().expect("marked");
    assert_eq!(mark.by, wang.profile);
    assert_eq!(
        mark.penalty,
        cny(250),
        "the tenant's penalty, not the phone's"
    );
    // The audit log holds the manager's judgment (with what it changed) and the rep's refused
    // attempt to mark her own deal, with its rule.
    let logged = world.audit_of(id).await;
    let judged: Vec<_> = logged
        .iter()
        .filter(|e| e.operation == "record.judgment")
        .collect();
    assert_eq!(judged.len(), 1, "{logged:#?}");
    assert_eq!(judged[0].user_id, Some(*wang.profile.as_uuid()));
    assert!(
        judged[0]
            .changes
            .iter()
            .any(|c| c.field.starts_with("marked_false")),
        "{judged:#?}"
    );
    assert!(
        logged.iter().any(|e| e.operation == "push.rejected"
            && e.rule.as_deref() == Some("permission.denied")
            && e.user_id == Some(*li.profile.as_uuid())),
        "{logged:#?}"
    );

    // The rep's phone receives it.
    sync(&mut rep_phone).await;
    let seen: Opportunity = rep_phone.store().get(id).expect("pulled");
    assert_eq!(seen.marked_false, held.marked_false);
    // Removing the mark, lowering its fine or deleting the deal is refused.
    let edits: [(&str, Option<&str>, Edit); 3] = [
        (
            "unmark",
            Some("permission.denied"),
            Box::new(|o| o.marked_false = None),
        ),
        (
            "lower the fine",
            Some("permission.denied"),
            Box::new(|o| {
                if let Some(m) = o.marked_false.as_mut() {
                    m.penalty = cny(0);
                }
            }),
        ),
        (
            "delete the deal",
            Some("opportunity.false_progress_delete"),
            Box::new(move |o| {
                o.header.deleted = Some(Tombstone {
                    at: Timestamp::now(),
                    by: Some(li.profile),
                    reason: Some("重复录入".into()),
                })
            }),
        ),
    ];
    for (what, rule, edit) in edits {
        rep_phone
            .store_mut()
            .update::<Opportunity>(id, |o| {
                edit(o);
                Ok(())
            })
            .expect("edited in the rep's own store");
        let report = sync(&mut rep_phone).await;
        let refused: Vec<(RecordId, String)> =
            rule.map(|r| (id, r.to_string())).into_iter().collect();
        assert_eq!(report.rejected, refused, "{what}");
        sync(&mut rep_phone).await;
        let kept: Opportunity = rep_phone.store().get(id).expect("the server's version");
        assert_eq!(kept.marked_false, held.marked_false, "{what}");
        assert!(!kept.header.is_deleted(), "{what}");
    }

    // The manager's dashboards show it, with the fine.
    sync(&mut manager).await;
    let today = Timestamp::now().local_date(&Zone::SHANGHAI);
    let range = DateRange {
        from: today.pred(),
        to: today.succ(),
    };
    let funnel = manager
        .funnel_dashboard(&DashboardRequest {
            range,
            group_by: GroupBy::Rep,
        })
        .expect("funnel");
    assert_eq!(funnel.total.false_progress, 1);
    assert_eq!(funnel.total.false_progress_penalties, cny(250));
    let attention = manager.attention_list(range).expect("attention");
    assert_eq!(attention.false_progress_total, 1);
    assert_eq!(attention.false_progress[0].opportunity_id, id);
    assert_eq!(attention.false_progress[0].penalty_minor, cny(250).minor);

    // The manager withdraws it.
    manager.withdraw_false_progress(id).expect("withdrawn");
    sync(&mut manager).await;
    let cleared: Opportunity = world.server_records().get(id).expect("on the server");
    assert_eq!(cleared.marked_false, None);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_whose_role_lacks_the_right_cannot_mark_progress_false() {
    // A tenant whose sales managers do not judge deals: the right is not in their matrix.
    let (mut world, org) = tenant(|p| {
        let manager = p
            .roles
            .iter_mut()
            .find(|r| r.code == "sales_manager")
            .expect("the standard manager role");
        let mut grants = manager.permissions().into_owned();
        assert!(grants.rights.remove("mark_progress_false").is_some());
        manager.permissions = Some(grants);
    })
    .await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let wang = world
        .person("wang.qiang", org.east_team, "sales_manager")
        .await;
    let mut rep_phone = world.device(&li).await;
    sync(&mut rep_phone).await;
    let deal = deal_of(&mut rep_phone, &li, &org, "苏州工业园区华芯电子有限公司").await;
    let id = deal.header.id;

    let mut manager = world.device(&wang).await;
    sync(&mut manager).await;
    let err = manager
        .mark_progress_false(id, "阶段是补填的")
        .expect_err("the phone refuses");
    assert!(err.to_string().contains("mark_progress_false"), "{err}");
    // Written straight into the manager's store, the server refuses it.
    manager
        .store_mut()
        .update::<Opportunity>(id, |o| {
            o.marked_false = Some(FalseProgress {
                by: wang.profile,
                at: Timestamp::now(),
                reason: "阶段是补填的".into(),
                penalty: cny(100),
            });
            Ok(())
        })
        .expect("written in the manager's own store");
    let report = sync(&mut manager).await;
    assert_eq!(report.rejected, vec![(id, "permission.denied".to_string())]);
    let held: Opportunity = world.server_records().get(id).expect("on the server");
    assert_eq!(held.marked_false, None);
    world.stop().await;
}
