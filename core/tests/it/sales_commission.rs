//! Commissions by the default rules (base 3%, new-customer bonus 5 points, attainment bonus 2
//! points from 120% of the quarter's target), each line with its explanation.

use fieldsales_core::engine::Engine;
use fieldsales_core::process::{
    CommissionComponent, LineRequest, PriceRules, ProductFacts, price_line,
};
use fieldsales_core::record::order::{DeliveryStatus, OrderStatus};
use fieldsales_core::record::target::{TargetMetric, TargetSubject};
use fieldsales_core::record::{Order, Target};
use fieldsales_core::{BasisPoints, LocalDate, RecordId, Zone, testing};

use crate::sales_world::{Who, World};

/// Rep Li's confirmed order of `yuan`, this morning.
fn won(world: &World, phone: &mut Engine, yuan: i64, new_customer: bool) -> Order {
    let line = price_line(
        &PriceRules::default(),
        &LineRequest {
            product: ProductFacts {
                code: "CRM-STD",
                list_price: testing::yuan(yuan),
            },
            quantity: 1,
            customer_tier: None,
            on: world.now().local_date(&Zone::SHANGHAI),
            manual_discount: BasisPoints(0),
        },
    )
    .unwrap();
    let total = line.amount;
    phone
        .store_mut()
        .create(Order {
            header: testing::header(world.id(Who::RepLi)),
            customer_id: RecordId::new(),
            opportunity_id: None,
            number: format!("SO-{yuan}"),
            lines: vec![line],
            total,
            status: OrderStatus::Confirmed,
            approval_id: None,
            confirmed_at: Some(world.now()),
            new_customer,
            payments: Vec::new(),
            delivery: DeliveryStatus::Pending,
        })
        .unwrap()
}

fn quarter_target(world: &World, phone: &mut Engine, yuan: i64) -> Target {
    let li = world.id(Who::RepLi);
    phone
        .store_mut()
        .create(Target {
            header: testing::header(li),
            period: fieldsales_core::process::PeriodKind::Quarter,
            period_start: LocalDate::from_ymd(2026, 1, 1).unwrap(),
            subject: TargetSubject::Rep,
            subject_id: li,
            metric: TargetMetric::WonAmount,
            amount: testing::yuan(yuan),
        })
        .unwrap()
}

fn today(world: &World) -> LocalDate {
    world.now().local_date(&Zone::SHANGHAI)
}

#[test]
fn one_hundred_thousand_from_an_existing_customer_earns_three_thousand() {
    let world = World::new();
    let mut li = world.phone(Who::RepLi);
    won(&world, &mut li, 100_000, false);
    let s = li
        .commission_statement(world.id(Who::RepLi), today(&world))
        .unwrap();
    assert_eq!(s.total, testing::yuan(3_000));
    assert_eq!(s.lines.len(), 1);
    assert_eq!(s.lines[0].component, CommissionComponent::Base);
    assert!(
        s.lines[0].explanation.contains("3%"),
        "{}",
        s.lines[0].explanation
    );
}

#[test]
fn one_hundred_thousand_from_a_new_customer_earns_eight_thousand() {
    let world = World::new();
    let mut li = world.phone(Who::RepLi);
    won(&world, &mut li, 100_000, true);
    let s = li
        .commission_statement(world.id(Who::RepLi), today(&world))
        .unwrap();
    assert_eq!(s.total, testing::yuan(8_000));
    let components: Vec<_> = s
        .lines
        .iter()
        .map(|l| (l.component.clone(), l.amount))
        .collect();
    assert_eq!(
        components,
        vec![
            (CommissionComponent::Base, testing::yuan(3_000)),
            (CommissionComponent::NewCustomerBonus, testing::yuan(5_000)),
        ]
    );
}

#[test]
fn at_125_percent_of_the_quarter_the_same_deal_earns_five_thousand() {
    let world = World::new();
    let mut li = world.phone(Who::RepLi);
    quarter_target(&world, &mut li, 80_000);
    won(&world, &mut li, 100_000, false);
    let s = li
        .commission_statement(world.id(Who::RepLi), today(&world))
        .unwrap();
    assert_eq!(s.attainment, Some(BasisPoints::percent(125)));
    assert_eq!(s.total, testing::yuan(5_000));
    let bonus = s
        .lines
        .iter()
        .find(|l| l.component == CommissionComponent::AttainmentBonus)
        .unwrap();
    assert_eq!(bonus.amount, testing::yuan(2_000));
    assert!(bonus.explanation.contains("125%"), "{}", bonus.explanation);
}

#[test]
fn at_119_percent_there_is_no_attainment_bonus() {
    let world = World::new();
    let mut li = world.phone(Who::RepLi);
    quarter_target(&world, &mut li, 84_034);
    won(&world, &mut li, 100_000, false);
    let s = li
        .commission_statement(world.id(Who::RepLi), today(&world))
        .unwrap();
    let attained = s.attainment.unwrap();
    assert!(attained >= BasisPoints::percent(118) && attained < BasisPoints::percent(120));
    assert_eq!(s.total, testing::yuan(3_000));
}

#[test]
fn attainment_of_a_target_counts_confirmed_orders_of_its_period() {
    let world = World::new();
    let mut li = world.phone(Who::RepLi);
    let target = quarter_target(&world, &mut li, 80_000);
    won(&world, &mut li, 100_000, false);
    let mut draft = won(&world, &mut li, 50_000, false);
    draft.status = OrderStatus::Draft;
    li.store_mut()
        .update::<Order>(draft.header.id, |o| {
            o.status = OrderStatus::Draft;
            o.confirmed_at = None;
            Ok(())
        })
        .unwrap();
    let a = li.target_attainment(target.header.id).unwrap();
    assert_eq!(a.achieved, testing::yuan(100_000));
    assert_eq!(a.attainment, Some(BasisPoints::percent(125)));
}

#[test]
fn a_rep_cannot_read_a_colleagues_commission() {
    let world = World::new();
    let li = world.phone(Who::RepLi);
    assert!(
        li.commission_statement(world.id(Who::RepZhao), today(&world))
            .is_err()
    );
}
