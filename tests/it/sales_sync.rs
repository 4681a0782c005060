//! The sales process through the real server: a phone that skips its own checks (writing the
//! record straight into its store) is refused, a requester cannot approve their own request,
//! the first approver the server hears from wins, and a discount over the rep's limit keeps
//! the order from being confirmed until it is approved.

use fieldsales_core::engine::{ConfirmOutcome, Engine, NewOpportunity, NewOrder, NewOrderLine};
use fieldsales_core::process::{ApprovalDecision, FieldValues, MoveKind, StageChange, Verdict};
use fieldsales_core::record::approval::ApprovalStatus;
use fieldsales_core::record::order::OrderStatus;
use fieldsales_core::record::{Approval, Customer, Opportunity, Order};
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing::{customer, product, yuan};
use fieldsales_core::{BasisPoints, LocalDate, RecordId, Timestamp, Zone};
use fieldsales_tests::{Org, Person, World, sync};

/// A customer of `rep`'s, attributed to the rep's team, synced.
async fn customer_of(phone: &mut Engine, rep: &Person, org: &Org, name: &str) -> Customer {
    let mut c = customer(rep.profile, name);
    c.header.org_unit_id = Some(org.east_team);
    let c = phone.store_mut().create(c).expect("customer");
    sync(phone).await;
    c
}

async fn opportunity_of(phone: &mut Engine, customer: RecordId, name: &str) -> Opportunity {
    let o = phone
        .create_opportunity(NewOpportunity {
            customer_id: customer,
            name: name.into(),
            amount: yuan(380_000),
            expected_close: None,
            fields: FieldValues::new(),
        })
        .expect("opened");
    let report = sync(phone).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    o
}

/// Writes a stage move straight into the store, as a phone that skips its own checks would.
fn forced_move(phone: &mut Engine, id: RecordId, to: &str, by: RecordId) {
    phone
        .store_mut()
        .update::<Opportunity>(id, |o| {
            o.stage_history.push(StageChange {
                from: Some(o.stage.clone()),
                to: to.into(),
                kind: MoveKind::Forward,
                at: Timestamp::now(),
                by,
                reason: None,
            });
            o.stage = to.into();
            Ok(())
        })
        .expect("written locally");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_that_skips_a_stage_or_leaves_its_required_fields_empty_is_refused() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let mut phone = world.device(&li).await;
    sync(&mut phone).await;
    let c = customer_of(&mut phone, &li, &org, "南通海洋工程装备有限公司").await;
    let deal = opportunity_of(&mut phone, c.header.id, "二期厂房智能化改造").await;
    assert_eq!(deal.stage, "opportunity");

    // The app refuses the skip itself...
    assert!(
        phone
            .move_opportunity(deal.header.id, "formal_communication", None)
            .is_err()
    );
    // ...so a tampered app writes it straight into its store: 商机 → 正式沟通, skipping 立项.
    forced_move(
        &mut phone,
        deal.header.id,
        "formal_communication",
        li.profile,
    );
    let report = sync(&mut phone).await;
    assert_eq!(
        report.rejected,
        vec![(deal.header.id, "stage.skip".to_string())]
    );
    let kept: Opportunity = phone.store().get(deal.header.id).expect("held");
    assert_eq!(kept.stage, "opportunity", "the server's version is back");

    // 立项 is the next stage, but its required fields (budget, amounts, units...) are empty.
    forced_move(&mut phone, deal.header.id, "initiation", li.profile);
    let report = sync(&mut phone).await;
    assert_eq!(
        report.rejected,
        vec![(deal.header.id, "stage.required_fields".to_string())]
    );
    let server: Opportunity = world
        .server_records()
        .get(deal.header.id)
        .expect("on the server");
    assert_eq!(server.stage, "opportunity");
    assert_eq!(server.stage_history.len(), 1);
    let mut rules: Vec<String> = phone
        .store()
        .rejected_changes()
        .expect("listed")
        .into_iter()
        .map(|r| r.rule)
        .collect();
    rules.sort();
    assert_eq!(rules, vec!["stage.required_fields", "stage.skip"]);
    world.stop().await;
}

fn today() -> LocalDate {
    Timestamp::now().local_date(&Zone::SHANGHAI)
}

/// The catalogue: one product at ¥10,000, added by an HQ admin on their own device (the
/// server refuses products from anyone else) and pulled by the rep's phone.
async fn catalogue(world: &mut World, org: &Org, phone: &mut Engine) {
    let admin = world.person("admin.hq", org.hq, "admin").await;
    let mut desk = world.device(&admin).await;
    sync(&mut desk).await;
    desk.create_product(product("CRM-PRO", "销售云专业版", yuan(10_000)))
        .expect("product");
    let report = sync(&mut desk).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    sync(phone).await;
}

/// A draft order for `quantity` of the product at `discount` off.
fn draft_order(phone: &mut Engine, customer: RecordId, quantity: u32, discount: u32) -> Order {
    phone
        .create_order(NewOrder {
            customer_id: customer,
            opportunity_id: None,
            number: format!("HT-2026-{quantity:04}-{discount}"),
            lines: vec![NewOrderLine {
                product_code: "CRM-PRO".into(),
                quantity,
                manual_discount: BasisPoints::percent(discount),
            }],
            on: today(),
        })
        .expect("draft order")
}

/// Confirms the order on the phone, which asks for the approval it needs.
fn request_approval(phone: &mut Engine, order: RecordId) -> Approval {
    match phone.confirm_order(order).expect("asked") {
        ConfirmOutcome::AwaitingApproval(a) => *a,
        other => panic!("an approval was needed: {other:?}"),
    }
}

/// Writes "confirmed" straight into the store, as a phone that skips its own checks would.
fn force_confirm(phone: &mut Engine, order: RecordId) {
    phone
        .store_mut()
        .update::<Order>(order, |o| {
            o.status = OrderStatus::Confirmed;
            o.confirmed_at = Some(Timestamp::now());
            Ok(())
        })
        .expect("written locally");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_with_15_percent_off_is_not_confirmed_until_a_manager_approves() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let wang = world
        .person("wang.qiang", org.east_team, "sales_manager")
        .await;
    let mut phone = world.device(&li).await;
    let mut manager = world.device(&wang).await;
    sync(&mut phone).await;
    catalogue(&mut world, &org, &mut phone).await;
    let c = customer_of(&mut phone, &li, &org, "宁波东海港口物流有限公司").await;

    // 15% off: over the rep's 10%. A phone that confirms anyway, without any approval.
    let order = draft_order(&mut phone, c.header.id, 2, 15);
    assert!(
        phone
            .order_approval_needed(&order)
            .expect("rules")
            .is_some()
    );
    sync(&mut phone).await;
    force_confirm(&mut phone, order.header.id);
    let report = sync(&mut phone).await;
    assert_eq!(
        report.rejected,
        vec![(order.header.id, "order.approval_required".to_string())]
    );
    let held: Order = phone.store().get(order.header.id).expect("held");
    assert_eq!(held.status, OrderStatus::Draft);

    // Asked properly, the approval is pending; confirming before the answer is refused too.
    let approval = request_approval(&mut phone, order.header.id);
    sync(&mut phone).await;
    force_confirm(&mut phone, order.header.id);
    let report = sync(&mut phone).await;
    assert_eq!(
        report.rejected,
        vec![(order.header.id, "order.approval_not_approved".to_string())]
    );
    let server: Order = world.server_records().get(order.header.id).expect("stored");
    assert_eq!(server.status, OrderStatus::PendingApproval);

    // The manager approves; then the order is confirmed and the server takes it.
    sync(&mut manager).await;
    manager
        .decide_approval(approval.header.id, Verdict::Approve, Some("老客户，同意"))
        .expect("approved");
    let report = sync(&mut manager).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    // The audit log: the rep's request, then the manager's decision.
    let logged = world.audit_of(approval.header.id).await;
    let requested: Vec<_> = logged
        .iter()
        .filter(|e| e.operation == "approval.request")
        .collect();
    let decided: Vec<_> = logged
        .iter()
        .filter(|e| e.operation == "approval.decision")
        .collect();
    assert_eq!((requested.len(), decided.len()), (1, 1), "{logged:#?}");
    assert_eq!(requested[0].user_id, Some(*li.profile.as_uuid()));
    assert_eq!(decided[0].user_id, Some(*wang.profile.as_uuid()));
    assert!(requested[0].seq < decided[0].seq);
    sync(&mut phone).await;
    match phone.confirm_order(order.header.id).expect("confirmed") {
        ConfirmOutcome::Confirmed(o) => assert_eq!(o.status, OrderStatus::Confirmed),
        other => panic!("the approval covers it: {other:?}"),
    }
    let report = sync(&mut phone).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let server: Order = world.server_records().get(order.header.id).expect("stored");
    assert_eq!(server.status, OrderStatus::Confirmed);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_approving_their_own_request_is_refused() {
    let mut world = World::start().await;
    let org = world.org().await;
    let wang = world
        .person("wang.qiang", org.east_team, "sales_manager")
        .await;
    let mut phone = world.device(&wang).await;
    sync(&mut phone).await;
    catalogue(&mut world, &org, &mut phone).await;
    let c = customer_of(&mut phone, &wang, &org, "绍兴柯桥纺织城有限公司").await;

    // ¥60,000 with no discount: over 50,000, so a sales manager approves; the manager
    // asked for it himself.
    let order = draft_order(&mut phone, c.header.id, 6, 0);
    let approval = request_approval(&mut phone, order.header.id);
    sync(&mut phone).await;
    assert!(
        phone
            .decide_approval(approval.header.id, Verdict::Approve, None)
            .is_err(),
        "the app refuses it itself"
    );
    phone
        .store_mut()
        .update::<Approval>(approval.header.id, |a| {
            a.decisions.push(ApprovalDecision {
                step: 0,
                by: wang.profile,
                role: "sales_manager".into(),
                verdict: Verdict::Approve,
                at: Timestamp::now(),
                comment: None,
            });
            a.status = ApprovalStatus::Approved;
            Ok(())
        })
        .expect("written locally");
    let report = sync(&mut phone).await;
    assert_eq!(
        report.rejected,
        vec![(approval.header.id, "approval.own_request".to_string())]
    );
    let server: Approval = world
        .server_records()
        .get(approval.header.id)
        .expect("stored");
    assert_eq!(server.status, ApprovalStatus::Pending);
    assert!(server.decisions.is_empty());
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_managers_deciding_offline_the_first_the_server_hears_wins_and_the_other_is_told() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let wang = world
        .person("wang.qiang", org.east_team, "sales_manager")
        .await;
    let zhao = world
        .person("zhao.min", org.east_team, "sales_manager")
        .await;
    let mut phone = world.device(&li).await;
    let mut wang_phone = world.device(&wang).await;
    let mut zhao_phone = world.device(&zhao).await;
    sync(&mut phone).await;
    catalogue(&mut world, &org, &mut phone).await;
    let c = customer_of(&mut phone, &li, &org, "台州黄岩模塑有限公司").await;
    let order = draft_order(&mut phone, c.header.id, 1, 15);
    let approval = request_approval(&mut phone, order.header.id);
    sync(&mut phone).await;
    sync(&mut wang_phone).await;
    sync(&mut zhao_phone).await;

    // Both are offline; Wang approves, Zhao rejects.
    wang_phone
        .decide_approval(approval.header.id, Verdict::Approve, Some("可以"))
        .expect("approved offline");
    let zhao_view = zhao_phone
        .decide_approval(approval.header.id, Verdict::Reject, Some("折扣太大"))
        .expect("rejected offline");
    assert_eq!(zhao_view.status, ApprovalStatus::Rejected);

    // Wang reaches the server first.
    let report = sync(&mut wang_phone).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let report = sync(&mut zhao_phone).await;
    assert_eq!(
        report.rejected,
        vec![(approval.header.id, "approval.already_decided".to_string())]
    );
    let told = zhao_phone.store().rejected_changes().expect("listed");
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].record_id, approval.header.id);
    let now_on_zhao: Approval = zhao_phone.store().get(approval.header.id).expect("held");
    assert_eq!(now_on_zhao.status, ApprovalStatus::Approved);
    assert_eq!(now_on_zhao.decisions.len(), 1);
    assert_eq!(now_on_zhao.decisions[0].by, wang.profile);

    sync(&mut phone).await;
    let on_rep: Approval = phone.store().get(approval.header.id).expect("held");
    assert_eq!(on_rep.status, ApprovalStatus::Approved);
    assert!(matches!(
        phone.confirm_order(order.header.id).expect("confirmed"),
        ConfirmOutcome::Confirmed(_)
    ));
    let server: Approval = world
        .server_records()
        .get(approval.header.id)
        .expect("stored");
    assert_eq!(server.decisions.len(), 1);
    assert_eq!(server.decisions[0].verdict, Verdict::Approve);
    world.stop().await;
}

on_postgres!(
    a_phone_that_skips_a_stage_or_leaves_its_required_fields_empty_is_refused,
    an_order_with_15_percent_off_is_not_confirmed_until_a_manager_approves,
    a_manager_approving_their_own_request_is_refused,
    two_managers_deciding_offline_the_first_the_server_hears_wins_and_the_other_is_told,
);
