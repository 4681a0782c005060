//! The server is the whole authority: a phone running modified code writes what its own app
//! would refuse straight into its store and syncs, and the server refuses it — creations in
//! someone else's name, header changes, deletions, rights it does not hold, claims, backdated
//! follow-ups, stages entered without their approval, duplicates of a colleague's customer.

use fieldsales_core::authority::customer::DuplicateNotice;
use fieldsales_core::engine::tasks::NewTask;
use fieldsales_core::engine::{Engine, NewLead, NewOpportunity};
use fieldsales_core::process::{FieldValues, MoveKind, SalesProcess, StageChange, StageStep};
use fieldsales_core::record::daily_report::ReportState;
use fieldsales_core::record::lead::LeadStatus;
use fieldsales_core::record::order::{OrderStatus, Payment};
use fieldsales_core::record::task::{TaskKind, TaskStatus};
use fieldsales_core::record::{
    Customer, DailyReport, FollowUp, Header, Lead, Opportunity, Order, Target, Task,
};
use fieldsales_core::store::StoreRead;
use fieldsales_core::sync::SyncReport;
use fieldsales_core::testing::{customer, daily_report, follow_up, opportunity, product, yuan};
use fieldsales_core::{Error, RecordId, Timestamp, Zone};
use fieldsales_tests::{Org, Person, World, sync};
use serde_json::json;

const DAY: i64 = 24 * 3_600_000;

/// Two reps and their manager in East's team, a rep in North.
struct Field {
    world: World,
    org: Org,
    li: Person,
    zhao: Person,
    wang: Person,
    north_rep: Person,
}

impl Field {
    async fn new() -> Field {
        let world = World::start().await;
        let org = world.org().await;
        // Li joined three days ago: the days since owe daily reports.
        let joined = Timestamp::now().plus_millis(-3 * DAY);
        let li = world
            .person_since("li.na", org.east_team, "sales_rep", joined)
            .await;
        let zhao = world.person("zhao.min", org.east_team, "sales_rep").await;
        let wang = world
            .person("wang.qiang", org.east_team, "sales_manager")
            .await;
        let north_rep = world.person("sun.li", org.north_team, "sales_rep").await;
        Field {
            world,
            org,
            li,
            zhao,
            wang,
            north_rep,
        }
    }

    async fn phone(&mut self, who: &Person) -> Engine {
        let mut phone = self.world.device(who).await;
        sync(&mut phone).await;
        phone
    }

    /// A header in `who`'s name, attributed to `unit`, as a forger writes it.
    fn forged_header(who: &Person, unit: RecordId) -> Header {
        let mut h = Header::new(who.profile, Timestamp::now());
        h.org_unit_id = Some(unit);
        h
    }

    /// A customer of `who`'s in East's team, synced from their phone.
    async fn customer_of(&self, phone: &mut Engine, who: &Person, name: &str) -> Customer {
        let mut c = customer(who.profile, name);
        c.header.org_unit_id = Some(self.org.east_team);
        let c = phone.store_mut().create(c).expect("customer");
        let report = sync(phone).await;
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        c
    }

    /// Puts a process configuration through the admin API.
    async fn put_process(&self, process: &SalesProcess) {
        let (status, body) = self
            .world
            .admin(
                "/v1/admin/records",
                json!({"kind": "process_config", "toml": process.to_toml().expect("toml"),
                       "revision": 2}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
}

/// The rules a sync refused for one record.
fn refused(report: &SyncReport, id: RecordId) -> Vec<String> {
    report
        .rejected
        .iter()
        .filter(|(r, _)| *r == id)
        .map(|(_, rule)| rule.clone())
        .collect()
}

/// The field (the permission) a kept refusal names.
fn refused_permission(phone: &Engine, id: RecordId) -> Option<String> {
    phone
        .store()
        .rejected_changes()
        .expect("listed")
        .into_iter()
        .find(|r| r.record_id == id)
        .and_then(|r| r.field)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_report_and_a_deal_planted_in_another_regions_name_are_refused() {
    let mut f = Field::new().await;
    let li_person = f.li.clone();
    let mut li = f.phone(&li_person).await;
    let director = f
        .world
        .person("zhou.hai", f.org.north, "regional_director")
        .await;
    let mut north_director = f.phone(&director).await;
    // A late daily report "by" the North rep, to fine them a second time.
    let mut report = daily_report(f.north_rep.profile);
    report.header = Field::forged_header(&f.north_rep, f.org.north_team);
    report.date = Timestamp::now().local_date(&Zone::SHANGHAI).pred();
    let report = li.store_mut().create(report).expect("written locally");
    // A ¥999,999 deal in the North rep's name, to inflate North's funnel.
    let c = customer(f.north_rep.profile, "北方虚构重工有限公司");
    let mut planted = opportunity(f.north_rep.profile, c.header.id, "虚构项目", yuan(999_999));
    planted.header = Field::forged_header(&f.north_rep, f.org.north_team);
    let planted = li.store_mut().create(planted).expect("written locally");
    let synced = sync(&mut li).await;
    assert_eq!(
        refused(&synced, report.header.id),
        vec!["permission.creator"]
    );
    assert_eq!(
        refused(&synced, planted.header.id),
        vec!["permission.creator"]
    );
    let server = f.world.server_records();
    assert!(server.kind_of(report.header.id).unwrap().is_none());
    assert!(server.kind_of(planted.header.id).unwrap().is_none());
    sync(&mut north_director).await;
    assert!(
        north_director
            .store()
            .kind_of(planted.header.id)
            .unwrap()
            .is_none()
    );
    f.world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_emptied_of_owner_and_unit_stays_in_its_region() {
    let mut f = Field::new().await;
    let li_person = f.li.clone();
    let mut li = f.phone(&li_person).await;
    let c = f
        .customer_of(&mut li, &li_person, "杭州远望仪器有限公司")
        .await;
    li.store_mut()
        .update::<Customer>(c.header.id, |c| {
            c.header.owner_id = None;
            c.header.org_unit_id = None;
            Ok(())
        })
        .expect("written locally");
    let synced = sync(&mut li).await;
    assert_eq!(refused(&synced, c.header.id), vec!["permission.denied"]);
    assert_eq!(
        refused_permission(&li, c.header.id).as_deref(),
        Some("customer.reassign")
    );
    let north = f.north_rep.clone();
    let north_phone = f.phone(&north).await;
    assert!(north_phone.store().kind_of(c.header.id).unwrap().is_none());
    f.world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collaborator_cannot_make_themselves_the_owner() {
    let mut f = Field::new().await;
    let (li_person, zhao_person) = (f.li.clone(), f.zhao.clone());
    let mut li = f.phone(&li_person).await;
    let c = f
        .customer_of(&mut li, &li_person, "宁波海通物流有限公司")
        .await;
    li.share_customer(c.header.id, zhao_person.profile)
        .expect("shared by its owner");
    sync(&mut li).await;
    let mut zhao = f.phone(&zhao_person).await;
    assert!(zhao.store().kind_of(c.header.id).unwrap().is_some());
    zhao.store_mut()
        .update::<Customer>(c.header.id, |c| {
            c.header.owner_id = Some(zhao_person.profile);
            Ok(())
        })
        .expect("written locally");
    let synced = sync(&mut zhao).await;
    assert_eq!(refused(&synced, c.header.id), vec!["permission.denied"]);
    let server: Customer = f.world.server_records().get(c.header.id).unwrap();
    assert_eq!(server.header.owner_id, Some(li_person.profile));
    f.world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_cannot_delete_their_own_missing_report() {
    let mut f = Field::new().await;
    let li_person = f.li.clone();
    f.world.run_jobs().await;
    let mut li = f.phone(&li_person).await;
    let missing = li
        .store()
        .document_ids()
        .unwrap()
        .into_iter()
        .filter_map(|id| li.store().get::<DailyReport>(id).ok())
        .find(|r| r.state == ReportState::Missing)
        .expect("the job found a day without a report");
    li.store_mut()
        .delete(missing.header.id, Some(li_person.profile), None)
        .expect("written locally");
    let synced = sync(&mut li).await;
    assert_eq!(
        refused(&synced, missing.header.id),
        vec!["permission.denied"]
    );
    assert_eq!(
        refused_permission(&li, missing.header.id).as_deref(),
        Some("daily_report.delete")
    );
    let server: DailyReport = f.world.server_records().get(missing.header.id).unwrap();
    assert!(!server.header.is_deleted(), "the penalty stands");
    f.world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_cannot_lower_their_own_target() {
    let mut f = Field::new().await;
    let (li_person, wang_person) = (f.li.clone(), f.wang.clone());
    let mut wang = f.phone(&wang_person).await;
    let mut target = fieldsales_core::testing::target(li_person.profile, yuan(1_000_000));
    target.header.created_by = Some(wang_person.profile);
    target.header.created_at = Timestamp::now();
    target.header.org_unit_id = Some(f.org.east_team);
    let target = wang
        .set_target(target)
        .expect("the manager sets the rep's target");
    let synced = sync(&mut wang).await;
    assert!(synced.rejected.is_empty(), "{:?}", synced.rejected);
    let mut li = f.phone(&li_person).await;
    li.store_mut()
        .update::<Target>(target.header.id, |t| {
            t.amount = yuan(100_000);
            Ok(())
        })
        .expect("written locally");
    let synced = sync(&mut li).await;
    assert_eq!(
        refused(&synced, target.header.id),
        vec!["permission.denied"]
    );
    let server: Target = f.world.server_records().get(target.header.id).unwrap();
    assert_eq!(server.amount, yuan(1_000_000));
    // Nor does a manager set their own.
    let mut own = fieldsales_core::testing::target(wang_person.profile, yuan(10));
    own.header.org_unit_id = Some(f.org.east_team);
    let own = wang.store_mut().create(own).expect("written locally");
    let synced = sync(&mut wang).await;
    assert_eq!(refused(&synced, own.header.id), vec!["target.own"]);
    f.world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_cannot_record_a_payment_on_their_order() {
    let mut f = Field::new().await;
    let li_person = f.li.clone();
    let mut li = f.phone(&li_person).await;
    let c = f
        .customer_of(&mut li, &li_person, "苏州新材料科技有限公司")
        .await;
    let mut order = fieldsales_core::testing::order(
        li_person.profile,
        c.header.id,
        &product("CRM-PRO", "销售云", yuan(10_000)),
        1,
    );
    order.header.org_unit_id = Some(f.org.east_team);
    order.header.created_at = Timestamp::now();
    order.status = OrderStatus::Draft;
    order.confirmed_at = None;
    order.payments.clear();
    let order = li.store_mut().create(order).expect("draft");
    let synced = sync(&mut li).await;
    assert!(synced.rejected.is_empty(), "{:?}", synced.rejected);
    li.store_mut()
        .update::<Order>(order.header.id, |o| {
            o.payments.push(Payment {
                id: RecordId::new(),
                amount: yuan(10_000),
                received_at: Timestamp::now(),
                method: Some("cash".into()),
                note: None,
            });
            Ok(())
        })
        .expect("written locally");
    let synced = sync(&mut li).await;
    assert_eq!(refused(&synced, order.header.id), vec!["permission.denied"]);
    assert_eq!(
        refused_permission(&li, order.header.id).as_deref(),
        Some("record_payments")
    );
    f.world.stop().await;
}

fn new_lead(name: &str) -> NewLead {
    NewLead {
        company_name: name.into(),
        contact_name: None,
        phone: None,
        email: None,
        source: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_offline_claims_of_the_same_lead_the_first_the_server_hears_wins() {
    let mut f = Field::new().await;
    let (li_person, zhao_person, wang_person) = (f.li.clone(), f.zhao.clone(), f.wang.clone());
    let mut wang = f.phone(&wang_person).await;
    let pooled = wang
        .create_lead(new_lead("上海临港智造有限公司"), Some(f.org.east_team))
        .expect("in the team's pool");
    sync(&mut wang).await;
    let mut li = f.phone(&li_person).await;
    let mut zhao = f.phone(&zhao_person).await;
    // Both claim it with no signal.
    li.claim_lead(pooled.header.id)
        .expect("claimed on li's phone");
    zhao.claim_lead(pooled.header.id)
        .expect("claimed on zhao's phone");
    let first = sync(&mut li).await;
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    let second = sync(&mut zhao).await;
    assert_eq!(refused(&second, pooled.header.id), vec!["lead.not_in_pool"]);
    let kept = zhao.store().rejected_changes().unwrap();
    assert_eq!(kept[0].record_id, pooled.header.id, "zhao's claim is kept");
    let server: Lead = f.world.server_records().get(pooled.header.id).unwrap();
    assert_eq!(server.header.owner_id, Some(li_person.profile));
    assert!(
        zhao.store().kind_of(pooled.header.id).unwrap().is_none(),
        "li's lead is not zhao's to see"
    );
    f.world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_past_the_cap_written_by_a_modified_phone_is_refused() {
    let mut f = Field::new().await;
    let (li_person, wang_person) = (f.li.clone(), f.wang.clone());
    let mut process = SalesProcess::standard();
    process.leads.max_open_leads_per_rep = 1;
    f.put_process(&process).await;
    let mut wang = f.phone(&wang_person).await;
    let first = wang
        .create_lead(new_lead("嘉兴甲公司"), Some(f.org.east_team))
        .expect("pooled");
    let second = wang
        .create_lead(new_lead("嘉兴乙公司"), Some(f.org.east_team))
        .expect("pooled");
    sync(&mut wang).await;
    let mut li = f.phone(&li_person).await;
    li.claim_lead(first.header.id).expect("the first");
    assert!(
        matches!(li.claim_lead(second.header.id), Err(Error::Claim(_))),
        "the phone stops the second itself"
    );
    li.store_mut()
        .update::<Lead>(second.header.id, |l| {
            l.header.owner_id = Some(li_person.profile);
            l.status = LeadStatus::Assigned;
            Ok(())
        })
        .expect("written locally");
    let synced = sync(&mut li).await;
    assert!(refused(&synced, first.header.id).is_empty());
    assert_eq!(
        refused(&synced, second.header.id),
        vec!["lead.limit_reached"]
    );
    f.world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_backdated_to_win_an_ownership_dispute_is_refused() {
    let mut f = Field::new().await;
    let li_person = f.li.clone();
    let mut li = f.phone(&li_person).await;
    let c = f
        .customer_of(&mut li, &li_person, "无锡精密机械有限公司")
        .await;
    let mut backdated: FollowUp = follow_up(li_person.profile, c.header.id, "早就拜访过了");
    backdated.header.org_unit_id = Some(f.org.east_team);
    backdated.occurred_at = Timestamp::now().plus_millis(-30 * DAY);
    let backdated = li.store_mut().create(backdated).expect("written locally");
    let mut honest: FollowUp = follow_up(li_person.profile, c.header.id, "昨天电话沟通");
    honest.header.org_unit_id = Some(f.org.east_team);
    honest.occurred_at = Timestamp::now().plus_millis(-DAY);
    let honest = li.store_mut().create(honest).expect("written");
    let synced = sync(&mut li).await;
    assert_eq!(
        refused(&synced, backdated.header.id),
        vec!["follow_up.backdated"]
    );
    assert!(refused(&synced, honest.header.id).is_empty());
    // Nor is an accepted one moved back afterwards.
    li.store_mut()
        .update::<FollowUp>(honest.header.id, |f| {
            f.occurred_at = f.occurred_at.plus_millis(-30 * DAY);
            Ok(())
        })
        .expect("written locally");
    let synced = sync(&mut li).await;
    assert_eq!(
        refused(&synced, honest.header.id),
        vec!["immutable.follow_up"]
    );
    f.world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_entered_without_its_step_approval_is_refused() {
    let mut f = Field::new().await;
    let li_person = f.li.clone();
    // 立项 needs the sales manager's approval (and, for the test, no required fields).
    let mut process = SalesProcess::standard();
    let initiation = process
        .stages
        .iter_mut()
        .find(|s| s.key == "initiation")
        .expect("the standard chain");
    initiation.fields.clear();
    initiation.steps.push(StageStep {
        name: "立项审批".into(),
        actor_role: "sales_rep".into(),
        approver_role: Some("sales_manager".into()),
        fields: Vec::new(),
        overdue_after_hours: None,
    });
    f.put_process(&process).await;
    let mut li = f.phone(&li_person).await;
    let c = f
        .customer_of(&mut li, &li_person, "常州光伏材料有限公司")
        .await;
    let deal = li
        .create_opportunity(NewOpportunity {
            customer_id: c.header.id,
            name: "屋顶光伏二期".into(),
            amount: yuan(500_000),
            expected_close: None,
            fields: FieldValues::new(),
        })
        .expect("opened");
    sync(&mut li).await;
    li.store_mut()
        .update::<Opportunity>(deal.header.id, |o| {
            o.stage_history.push(StageChange {
                from: Some(o.stage.clone()),
                to: "initiation".into(),
                kind: MoveKind::Forward,
                at: Timestamp::now(),
                by: li_person.profile,
                reason: None,
            });
            o.stage = "initiation".into();
            Ok(())
        })
        .expect("written locally");
    let synced = sync(&mut li).await;
    assert_eq!(refused(&synced, deal.header.id), vec!["stage.approval"]);
    f.world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_customer_duplicating_a_colleagues_is_refused_with_the_owner_to_ask() {
    let mut f = Field::new().await;
    let (li_person, north) = (f.li.clone(), f.north_rep.clone());
    let mut north_phone = f.phone(&north).await;
    let mut theirs = customer(north.profile, "华为技术有限公司");
    theirs.header.org_unit_id = Some(f.org.north_team);
    theirs.industry = Some("通信".into());
    let theirs = north_phone.store_mut().create(theirs).unwrap();
    sync(&mut north_phone).await;

    let mut li = f.phone(&li_person).await;
    // Online, the server's check finds it though the rep's phone holds nothing of North.
    let probe = customer(li_person.profile, "华为技术（股份有限公司）");
    assert!(
        li.check_customer_duplicates(&probe)
            .unwrap()
            .exact
            .is_none()
    );
    let online = fieldsales_core::sync::check_duplicates_online(
        &li,
        &probe,
        std::time::Duration::from_secs(10),
    )
    .await
    .expect("asked online");
    let hit = online.exact.expect("the same company");
    assert_eq!(hit.id, theirs.header.id);
    assert!(!hit.visible);
    assert_eq!(hit.owner_id, Some(north.profile));
    assert_eq!(hit.industry, None, "redacted to the configured fields");

    // Offline, the phone creates it under a full-width variant; the server refuses it.
    let mut mine = customer(li_person.profile, "华为技术（有限公司）");
    mine.legal_name = "华为技术 有限公司".into();
    mine.english_name = Some("ＨＵＡＷＥＩ Co., Ltd.".into());
    mine.header.org_unit_id = Some(f.org.east_team);
    let mine = li.store_mut().create(mine).unwrap();
    let synced = sync(&mut li).await;
    assert_eq!(refused(&synced, mine.header.id), vec!["customer.duplicate"]);
    let kept = li.store().rejected_changes().unwrap();
    let notice = DuplicateNotice::from_detail(&kept[0].detail).expect("the hit travels");
    assert_eq!(notice.existing.id, theirs.header.id);
    assert_eq!(notice.existing.owner_id, Some(north.profile));
    assert_eq!(notice.existing.industry, None);
    f.world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_changed_by_its_assigner_and_answered_by_its_assignee_only() {
    let mut f = Field::new().await;
    let (li_person, wang_person) = (f.li.clone(), f.wang.clone());
    let mut wang = f.phone(&wang_person).await;
    let task = wang
        .create_task(NewTask {
            assignee: li_person.profile,
            kind: TaskKind::Task,
            title: "回访上海客户".into(),
            description: String::new(),
            due_at: Some(Timestamp::now().plus_millis(DAY)),
            start_at: None,
            end_at: None,
            reminder_at: None,
            related: None,
        })
        .expect("given");
    sync(&mut wang).await;
    let mut li = f.phone(&li_person).await;
    li.store_mut()
        .update::<Task>(task.header.id, |t| {
            t.title = "不用回访了".into();
            Ok(())
        })
        .expect("written locally");
    let synced = sync(&mut li).await;
    assert_eq!(refused(&synced, task.header.id), vec!["task.assigner_only"]);
    wang.store_mut()
        .update::<Task>(task.header.id, |t| {
            t.status = TaskStatus::Completed;
            t.completed_at = Some(Timestamp::now());
            Ok(())
        })
        .expect("written locally");
    let synced = sync(&mut wang).await;
    assert_eq!(refused(&synced, task.header.id), vec!["task.assignee_only"]);
    f.world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_changes_the_matrix_and_the_next_sync_enforces_it() {
    let mut f = Field::new().await;
    let li_person = f.li.clone();
    let mut li = f.phone(&li_person).await;
    let c = f
        .customer_of(&mut li, &li_person, "合肥智能家电有限公司")
        .await;
    // The admin takes customer edits away from reps.
    let mut process = SalesProcess::standard();
    let rep = process
        .roles
        .iter_mut()
        .find(|r| r.code == "sales_rep")
        .expect("the rep role");
    let mut matrix = rep.permissions().into_owned();
    matrix.kinds.get_mut("customer").expect("customers").edit = None;
    rep.permissions = Some(matrix);
    f.put_process(&process).await;
    sync(&mut li).await;
    // The phone holds the new matrix and says no at once...
    let local = li
        .update_customer(c.header.id, |c| c.industry = Some("家电".into()))
        .unwrap_err();
    assert!(
        matches!(&local, Error::NotAllowed(p) if p.starts_with("customer.edit")),
        "{local:?}"
    );
    // ...and a phone that writes it anyway is refused by the server.
    li.store_mut()
        .update::<Customer>(c.header.id, |c| {
            c.industry = Some("家电".into());
            Ok(())
        })
        .expect("written locally");
    let synced = sync(&mut li).await;
    assert_eq!(refused(&synced, c.header.id), vec!["permission.denied"]);
    f.world.stop().await;
}

on_postgres!(
    a_daily_report_and_a_deal_planted_in_another_regions_name_are_refused,
    a_customer_emptied_of_owner_and_unit_stays_in_its_region,
    a_collaborator_cannot_make_themselves_the_owner,
    a_rep_cannot_delete_their_own_missing_report,
    a_rep_cannot_lower_their_own_target,
    a_rep_cannot_record_a_payment_on_their_order,
    of_two_offline_claims_of_the_same_lead_the_first_the_server_hears_wins,
    a_claim_past_the_cap_written_by_a_modified_phone_is_refused,
    a_follow_up_backdated_to_win_an_ownership_dispute_is_refused,
    a_stage_entered_without_its_step_approval_is_refused,
    a_new_customer_duplicating_a_colleagues_is_refused_with_the_owner_to_ask,
    a_task_is_changed_by_its_assigner_and_answered_by_its_assignee_only,
    an_admin_changes_the_matrix_and_the_next_sync_enforces_it,
);
