//! Opportunities along the standard chain: one stage at a time, required fields first, back
//! only with a reason, outcomes with a reason, reminders when a stage runs over, and the server
//! refusing what a tampered phone claims.

use fieldsales_core::engine::{Engine, NewOpportunity, StageMoveResult};
use fieldsales_core::process::{FieldValue, FieldValues, MoveKind, StageChange, StageMoveRefused};
use fieldsales_core::record::opportunity::{OpportunityProduct, OutcomeKind};
use fieldsales_core::record::{Customer, Opportunity};
use fieldsales_core::store::StoreRead;
use fieldsales_core::{Error, LocalDate, RecordId, testing};

use crate::sales_world::{Server, Who, World};

fn li_with_deal(world: &World) -> (Engine, RecordId, Opportunity) {
    let mut li = world.phone(Who::RepLi);
    let (customer, _) = li
        .create_customer(Customer::new(
            testing::header(world.id(Who::RepLi)),
            "苏州某电子有限公司",
        ))
        .unwrap();
    let deal = li
        .create_opportunity(NewOpportunity {
            customer_id: customer.header.id,
            name: "产线 MES 项目".into(),
            amount: testing::yuan(800_000),
            expected_close: LocalDate::from_ymd(2026, 9, 30),
            fields: FieldValues::new(),
        })
        .unwrap();
    (li, customer.header.id, deal)
}

fn initiation_fields() -> FieldValues {
    let list = |v: &str| FieldValue::List(vec![v.to_string()]);
    FieldValues::from([
        (
            "budget".to_string(),
            FieldValue::Money(testing::yuan(1_000_000)),
        ),
        (
            "expected_amount".to_string(),
            FieldValue::Money(testing::yuan(800_000)),
        ),
        (
            "latest_bid_date".to_string(),
            FieldValue::Date(LocalDate::from_ymd(2026, 6, 1).unwrap()),
        ),
        ("design_unit".to_string(), list("某设计院")),
        ("decision_unit".to_string(), list("集团信息部")),
        ("user_unit".to_string(), list("一车间")),
        ("decision_chain_visits".to_string(), list("拜访信息部部长")),
    ])
}

fn moved(result: StageMoveResult) -> Opportunity {
    match result {
        StageMoveResult::Moved(o) => *o,
        StageMoveResult::AwaitingApproval(_) => panic!("the standard stages ask no approval"),
    }
}

#[test]
fn a_deal_cannot_skip_a_stage() {
    let world = World::new();
    let (mut li, _, deal) = li_with_deal(&world);
    let refused = li
        .move_opportunity(deal.header.id, "formal_communication", None)
        .unwrap_err();
    assert!(matches!(
        refused,
        Error::StageMove(StageMoveRefused::Skips { .. })
    ));
}

#[test]
fn a_stage_is_entered_only_with_its_required_fields_filled() {
    let world = World::new();
    let (mut li, _, deal) = li_with_deal(&world);
    let refused = li
        .move_opportunity(deal.header.id, "initiation", None)
        .unwrap_err();
    let Error::StageMove(StageMoveRefused::MissingFields { missing, .. }) = refused else {
        panic!("fields are missing");
    };
    assert_eq!(missing.len(), 7);
    li.set_opportunity_fields(deal.header.id, initiation_fields())
        .unwrap();
    world.advance_hours(24);
    let o = moved(
        li.move_opportunity(deal.header.id, "initiation", None)
            .unwrap(),
    );
    assert_eq!(o.stage, "initiation");
    assert_eq!(o.stage_history.len(), 2);
    assert_eq!(o.stage_history[1].kind, MoveKind::Forward);
    assert_eq!(
        o.stage_history[1].at,
        world.now(),
        "the history keeps the time of each move"
    );
}

#[test]
fn moving_back_needs_a_reason() {
    let world = World::new();
    let (mut li, _, deal) = li_with_deal(&world);
    li.set_opportunity_fields(deal.header.id, initiation_fields())
        .unwrap();
    moved(
        li.move_opportunity(deal.header.id, "initiation", None)
            .unwrap(),
    );
    assert!(matches!(
        li.move_opportunity(deal.header.id, "opportunity", None)
            .unwrap_err(),
        Error::StageMove(StageMoveRefused::ReasonRequired {
            kind: MoveKind::Back
        })
    ));
    let o = moved(
        li.move_opportunity(deal.header.id, "opportunity", Some("预算冻结"))
            .unwrap(),
    );
    assert_eq!(
        o.stage_history.last().unwrap().reason.as_deref(),
        Some("预算冻结")
    );
}

#[test]
fn a_deal_is_lost_with_its_reason() {
    let world = World::new();
    let (mut li, _, deal) = li_with_deal(&world);
    assert!(li.move_opportunity(deal.header.id, "lost", None).is_err());
    let o = moved(
        li.move_opportunity(deal.header.id, "lost", Some("客户选择了竞品"))
            .unwrap(),
    );
    let outcome = o.outcome.unwrap();
    assert_eq!(outcome.kind, OutcomeKind::Lost);
    assert_eq!(outcome.reason, "客户选择了竞品");
    assert!(
        li.move_opportunity(deal.header.id, "won", Some("x"))
            .is_err(),
        "no skipping to a win"
    );
}

#[test]
fn the_name_is_required_and_unique_within_the_customer() {
    let world = World::new();
    let (mut li, customer, _) = li_with_deal(&world);
    let again = NewOpportunity {
        customer_id: customer,
        name: " 产线 mes 项目 ".into(),
        amount: testing::yuan(1),
        expected_close: None,
        fields: FieldValues::new(),
    };
    assert!(matches!(
        li.create_opportunity(again.clone()).unwrap_err(),
        Error::RuleViolated { ref rule, .. } if rule == "opportunity.name_taken"
    ));
    assert!(
        li.create_opportunity(NewOpportunity {
            name: "  ".into(),
            ..again
        })
        .is_err()
    );
}

#[test]
fn a_stage_run_over_reminds_the_owner_and_the_manager() {
    let world = World::new();
    let (li, _, _) = li_with_deal(&world);
    world.advance_hours(14 * 24 - 1);
    assert!(li.overdue_opportunities().unwrap().is_empty());
    world.advance_hours(1);
    let due = li.overdue_opportunities().unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        due[0].overdue.recipients,
        vec![world.id(Who::RepLi), world.id(Who::ManagerWang)]
    );
}

#[test]
fn the_server_refuses_a_deal_that_skipped_a_stage() {
    let world = World::new();
    let (li, _, deal) = li_with_deal(&world);
    let mut server = Server::new(&world);
    server
        .push_doc(&world, Who::RepLi, &li, deal.header.id)
        .unwrap();
    let mut forged = deal.clone();
    forged.fields = initiation_fields();
    forged.stage = "formal_communication".into();
    forged.stage_history.push(StageChange {
        from: Some("opportunity".into()),
        to: "formal_communication".into(),
        kind: MoveKind::Forward,
        at: world.now(),
        by: world.id(Who::RepLi),
        reason: None,
    });
    let rejection = server.push(&world, Who::RepLi, &forged).unwrap_err();
    assert_eq!(rejection.rule, "stage.skip");
}

#[test]
fn the_server_refuses_a_stage_entered_with_its_required_fields_empty() {
    let world = World::new();
    let (li, _, deal) = li_with_deal(&world);
    let mut server = Server::new(&world);
    server
        .push_doc(&world, Who::RepLi, &li, deal.header.id)
        .unwrap();
    let mut forged = deal.clone();
    forged.stage = "initiation".into();
    forged.stage_history.push(StageChange {
        from: Some("opportunity".into()),
        to: "initiation".into(),
        kind: MoveKind::Forward,
        at: world.now(),
        by: world.id(Who::RepLi),
        reason: None,
    });
    let rejection = server.push(&world, Who::RepLi, &forged).unwrap_err();
    assert_eq!(rejection.rule, "stage.required_fields");
    // The same move with the fields filled stands.
    forged.fields = initiation_fields();
    assert!(server.push(&world, Who::RepLi, &forged).is_ok());
}

#[test]
fn the_server_refuses_a_rewritten_history_and_a_second_deal_of_the_same_name() {
    let world = World::new();
    let (li, customer, deal) = li_with_deal(&world);
    let mut server = Server::new(&world);
    server
        .push_doc(&world, Who::RepLi, &li, deal.header.id)
        .unwrap();
    let mut rewritten = deal.clone();
    rewritten.stage_history[0].at = world.now().plus_secs(-86_400);
    assert_eq!(
        server
            .push(&world, Who::RepLi, &rewritten)
            .unwrap_err()
            .rule,
        "stage.history_rewritten"
    );
    let mut twin = testing::opportunity(
        world.id(Who::RepLi),
        customer,
        "产线 MES 项目",
        testing::yuan(5),
    );
    twin.fields = FieldValues::new();
    assert_eq!(
        server.push(&world, Who::RepLi, &twin).unwrap_err().rule,
        "opportunity.name_taken"
    );
}

#[test]
fn a_deal_names_the_products_it_is_about_and_only_ones_the_phone_holds() {
    let world = World::new();
    let (mut li, _, deal) = li_with_deal(&world);
    let gateway = li
        .store_mut()
        .create(testing::product(
            "P-200",
            "智能网关 G2",
            testing::yuan(4_800),
        ))
        .unwrap();
    let twenty = vec![OpportunityProduct {
        product_id: gateway.header.id,
        quantity: 20,
    }];
    let o = li
        .set_opportunity_products(deal.header.id, twenty.clone())
        .unwrap();
    assert_eq!(o.products, twenty);

    let unknown = li
        .set_opportunity_products(
            deal.header.id,
            vec![OpportunityProduct {
                product_id: RecordId::new(),
                quantity: 1,
            }],
        )
        .unwrap_err();
    assert!(matches!(unknown, Error::NotFound { .. }), "{unknown:?}");
    let none = li
        .set_opportunity_products(
            deal.header.id,
            vec![OpportunityProduct {
                product_id: gateway.header.id,
                quantity: 0,
            }],
        )
        .unwrap_err();
    assert!(
        matches!(
            none,
            Error::InvalidInput {
                field: "quantity",
                ..
            }
        ),
        "{none:?}"
    );
    let held: Opportunity = li.store().get(deal.header.id).unwrap();
    assert_eq!(held.products, twenty, "a refused list changes nothing");
}
