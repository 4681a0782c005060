//! Orders and their approvals: amount thresholds at the boundary, discount limits per role,
//! and the server refusing a confirmation the approval does not cover.

use fieldsales_core::engine::{ConfirmOutcome, Engine, NewOrder, NewOrderLine};
use fieldsales_core::process::{ApprovalStep, Verdict};
use fieldsales_core::record::order::OrderStatus;
use fieldsales_core::record::{Customer, Order, Product};
use fieldsales_core::store::StoreRead;
use fieldsales_core::{BasisPoints, Error, RecordId, testing};

use crate::sales_world::{Server, Who, World, sync};

/// A phone with a customer and a product of `price` yuan in its catalogue.
fn phone_with_catalogue(world: &World, who: Who, price: i64) -> (Engine, RecordId) {
    let mut phone = world.phone(who);
    phone
        .store_mut()
        .create(testing::product(
            "CRM-STD",
            "CRM 标准版",
            testing::yuan(price),
        ))
        .unwrap();
    let (customer, _) = phone
        .create_customer(Customer::new(
            testing::header(world.id(who)),
            "上海某制造有限公司",
        ))
        .unwrap();
    (phone, customer.header.id)
}

fn order_of(phone: &mut Engine, customer: RecordId, quantity: u32, discount: u32) -> Order {
    phone
        .create_order(NewOrder {
            customer_id: customer,
            opportunity_id: None,
            number: format!("SO-{quantity}-{discount}"),
            lines: vec![NewOrderLine {
                product_code: "CRM-STD".into(),
                quantity,
                manual_discount: BasisPoints::percent(discount),
            }],
            on: testing::morning().local_date(&fieldsales_core::Zone::SHANGHAI),
        })
        .unwrap()
}

fn chain_roles(outcome: &ConfirmOutcome) -> Vec<Vec<String>> {
    match outcome {
        ConfirmOutcome::Confirmed(_) => Vec::new(),
        ConfirmOutcome::AwaitingApproval(a) => {
            a.chain.steps.iter().map(|s| s.roles.clone()).collect()
        }
    }
}

#[test]
fn a_contract_of_exactly_50000_is_confirmed_without_approval() {
    let world = World::new();
    let (mut li, customer) = phone_with_catalogue(&world, Who::RepLi, 50_000);
    let order = order_of(&mut li, customer, 1, 0);
    let outcome = li.confirm_order(order.header.id).unwrap();
    assert!(
        matches!(outcome, ConfirmOutcome::Confirmed(ref o) if o.status == OrderStatus::Confirmed)
    );
}

#[test]
fn a_contract_of_50001_waits_for_the_sales_manager() {
    let world = World::new();
    let (mut li, customer) = phone_with_catalogue(&world, Who::RepLi, 50_001);
    let order = order_of(&mut li, customer, 1, 0);
    let outcome = li.confirm_order(order.header.id).unwrap();
    assert_eq!(
        chain_roles(&outcome),
        vec![vec!["sales_manager".to_string()]]
    );
    let stored: Order = li.store().get(order.header.id).unwrap();
    assert_eq!(stored.status, OrderStatus::PendingApproval);
}

#[test]
fn a_contract_of_100001_waits_for_the_manager_then_the_director() {
    let world = World::new();
    let (mut li, customer) = phone_with_catalogue(&world, Who::RepLi, 100_001);
    let order = order_of(&mut li, customer, 1, 0);
    let outcome = li.confirm_order(order.header.id).unwrap();
    assert_eq!(
        chain_roles(&outcome),
        vec![
            vec!["sales_manager".to_string()],
            vec!["regional_director".to_string()]
        ]
    );
}

#[test]
fn a_rep_gives_10_percent_freely_but_11_percent_needs_the_manager() {
    let world = World::new();
    let (mut li, customer) = phone_with_catalogue(&world, Who::RepLi, 10_000);
    let ten = order_of(&mut li, customer, 1, 10);
    assert!(matches!(
        li.confirm_order(ten.header.id).unwrap(),
        ConfirmOutcome::Confirmed(_)
    ));
    let eleven = order_of(&mut li, customer, 1, 11);
    let outcome = li.confirm_order(eleven.header.id).unwrap();
    assert_eq!(
        chain_roles(&outcome),
        vec![vec!["sales_manager".to_string()]]
    );
}

#[test]
fn a_manager_gives_20_percent_without_approval() {
    let world = World::new();
    let (mut wang, customer) = phone_with_catalogue(&world, Who::ManagerWang, 10_000);
    let twenty = order_of(&mut wang, customer, 1, 20);
    assert!(matches!(
        wang.confirm_order(twenty.header.id).unwrap(),
        ConfirmOutcome::Confirmed(_)
    ));
    let twenty_one = order_of(&mut wang, customer, 1, 21);
    let outcome = wang.confirm_order(twenty_one.header.id).unwrap();
    assert_eq!(
        chain_roles(&outcome),
        vec![
            vec!["sales_manager".to_string()],
            vec!["regional_director".to_string()]
        ],
        "beyond the manager's own limit, and over 20%: the director too"
    );
}

#[test]
fn the_order_is_confirmed_once_the_manager_approves_it() {
    let world = World::new();
    let (mut li, customer) = phone_with_catalogue(&world, Who::RepLi, 60_000);
    let order = order_of(&mut li, customer, 1, 0);
    let ConfirmOutcome::AwaitingApproval(approval) = li.confirm_order(order.header.id).unwrap()
    else {
        panic!("60,000 needs approval");
    };
    let mut wang = world.phone(Who::ManagerWang);
    sync(&li, &mut wang, approval.header.id);
    wang.decide_approval(approval.header.id, Verdict::Approve, Some("同意"))
        .unwrap();
    sync(&wang, &mut li, approval.header.id);
    let outcome = li.confirm_order(order.header.id).unwrap();
    assert!(matches!(outcome, ConfirmOutcome::Confirmed(_)));
}

#[test]
fn a_rejected_approval_keeps_the_order_unconfirmed() {
    let world = World::new();
    let (mut li, customer) = phone_with_catalogue(&world, Who::RepLi, 60_000);
    let order = order_of(&mut li, customer, 1, 0);
    let ConfirmOutcome::AwaitingApproval(approval) = li.confirm_order(order.header.id).unwrap()
    else {
        panic!("60,000 needs approval");
    };
    let mut wang = world.phone(Who::ManagerWang);
    sync(&li, &mut wang, approval.header.id);
    wang.decide_approval(approval.header.id, Verdict::Reject, Some("价格太低"))
        .unwrap();
    sync(&wang, &mut li, approval.header.id);
    let refused = li.confirm_order(order.header.id).unwrap_err();
    assert!(
        matches!(refused, Error::RuleViolated { ref rule, .. } if rule == "order.approval_rejected")
    );
}

#[test]
fn the_server_refuses_a_confirmed_order_whose_discount_was_never_approved() {
    let world = World::new();
    let (mut li, customer) = phone_with_catalogue(&world, Who::RepLi, 10_000);
    let mut order = order_of(&mut li, customer, 1, 11);
    // The phone's own check bypassed: the order claims to be confirmed.
    order.status = OrderStatus::Confirmed;
    order.confirmed_at = Some(world.now());
    let mut server = server_with_catalogue_of(&world, &li);
    let rejection = server.push(&world, Who::RepLi, &order).unwrap_err();
    assert_eq!(rejection.rule, "order.approval_required");
    assert_eq!(rejection.field.as_deref(), Some("approval_id"));
}

#[test]
fn the_server_refuses_an_order_confirmed_on_a_pending_approval() {
    let world = World::new();
    let (mut li, customer) = phone_with_catalogue(&world, Who::RepLi, 60_000);
    let order = order_of(&mut li, customer, 1, 0);
    let ConfirmOutcome::AwaitingApproval(approval) = li.confirm_order(order.header.id).unwrap()
    else {
        panic!("60,000 needs approval");
    };
    let mut server = server_with_catalogue_of(&world, &li);
    server.store.create(approval.as_ref().clone()).unwrap();
    let mut forged: Order = li.store().get(order.header.id).unwrap();
    forged.status = OrderStatus::Confirmed;
    let rejection = server.push(&world, Who::RepLi, &forged).unwrap_err();
    assert_eq!(rejection.rule, "order.approval_not_approved");
}

#[test]
fn the_server_accepts_an_order_confirmed_on_its_approved_approval() {
    let world = World::new();
    let (mut li, customer) = phone_with_catalogue(&world, Who::RepLi, 60_000);
    let order = order_of(&mut li, customer, 1, 0);
    let ConfirmOutcome::AwaitingApproval(approval) = li.confirm_order(order.header.id).unwrap()
    else {
        panic!("60,000 needs approval");
    };
    assert_eq!(
        approval.chain.steps,
        vec![ApprovalStep::single("sales_manager")]
    );
    let mut wang = world.phone(Who::ManagerWang);
    sync(&li, &mut wang, approval.header.id);
    let approved = wang
        .decide_approval(approval.header.id, Verdict::Approve, None)
        .unwrap();
    sync(&wang, &mut li, approval.header.id);
    let ConfirmOutcome::Confirmed(confirmed) = li.confirm_order(order.header.id).unwrap() else {
        panic!("approved");
    };
    let mut server = server_with_catalogue_of(&world, &li);
    server.store.create(approved).unwrap();
    assert!(server.push(&world, Who::RepLi, confirmed.as_ref()).is_ok());
}

/// The server's copy holding the same catalogue as `phone`.
fn server_with_catalogue_of(world: &World, phone: &Engine) -> Server {
    let mut server = Server::new(world);
    let product = phone.product_by_code("CRM-STD").unwrap().unwrap();
    server.store.create(product).unwrap();
    server
}

#[test]
fn the_server_refuses_a_confirmed_order_whose_list_price_was_lowered_on_the_phone() {
    let world = World::new();
    let (mut li, customer) = phone_with_catalogue(&world, Who::RepLi, 10_000);
    let server = server_with_catalogue_of(&world, &li);
    // The phone's catalogue edited behind the rules: 10,000 becomes 1,000, so a 10% order
    // needs no approval.
    let product = li.product_by_code("CRM-STD").unwrap().unwrap();
    li.store_mut()
        .update::<Product>(product.header.id, |p| {
            p.list_price = testing::yuan(1_000);
            Ok(())
        })
        .unwrap();
    let order = order_of(&mut li, customer, 1, 10);
    let ConfirmOutcome::Confirmed(confirmed) = li.confirm_order(order.header.id).unwrap() else {
        panic!("10% is within a rep's allowance");
    };
    let mut server = server;
    let rejection = server
        .push(&world, Who::RepLi, confirmed.as_ref())
        .unwrap_err();
    assert_eq!(rejection.rule, "order.price_mismatch");
    assert_eq!(rejection.field.as_deref(), Some("lines[0]"));
    assert!(
        rejection.detail.contains("10000.00"),
        "{}",
        rejection.detail
    );
}

#[test]
fn the_server_refuses_an_order_for_a_product_not_in_its_catalogue() {
    let world = World::new();
    let (mut li, customer) = phone_with_catalogue(&world, Who::RepLi, 10_000);
    let mut server = Server::new(&world);
    let order = order_of(&mut li, customer, 1, 0);
    let ConfirmOutcome::Confirmed(confirmed) = li.confirm_order(order.header.id).unwrap() else {
        panic!("10,000 needs no approval");
    };
    let rejection = server
        .push(&world, Who::RepLi, confirmed.as_ref())
        .unwrap_err();
    assert_eq!(rejection.rule, "product.unknown");
    assert_eq!(rejection.field.as_deref(), Some("lines[0].product_code"));
}

#[test]
fn only_an_admin_pushes_a_product() {
    let world = World::new();
    let mut server = Server::new(&world);
    let product = testing::product("CRM-PRO", "CRM 专业版", testing::yuan(90_000));
    let rejection = server.push(&world, Who::RepLi, &product).unwrap_err();
    assert_eq!(rejection.rule, "permission.denied");
    assert_eq!(rejection.field.as_deref(), Some("manage_catalogue"));
    assert!(server.push(&world, Who::Admin, &product).is_ok());
}

#[test]
fn payments_and_delivery_are_recorded_on_a_confirmed_order() {
    let world = World::new();
    let (mut li, customer) = phone_with_catalogue(&world, Who::RepLi, 20_000);
    let order = order_of(&mut li, customer, 1, 0);
    assert!(
        li.record_payment(order.header.id, testing::yuan(5_000), world.now(), None)
            .is_err(),
        "a draft collects nothing"
    );
    li.confirm_order(order.header.id).unwrap();
    let refused = li
        .record_payment(order.header.id, testing::yuan(5_000), world.now(), None)
        .unwrap_err();
    assert!(
        matches!(&refused, Error::NotAllowed(p) if p.starts_with("record_payments")),
        "a rep does not record payments: {refused:?}"
    );
    // The admin's phone, holding the order, records the payment and the delivery.
    let mut admin = world.phone(Who::Admin);
    for id in [customer, order.header.id] {
        sync(&li, &mut admin, id);
    }
    admin
        .record_payment(
            order.header.id,
            testing::yuan(5_000),
            world.now(),
            Some("bank".into()),
        )
        .unwrap();
    let o = admin
        .set_delivery(
            order.header.id,
            fieldsales_core::record::order::DeliveryStatus::Partial,
        )
        .unwrap();
    assert_eq!(o.collected(), testing::yuan(5_000));
    assert_eq!(
        o.delivery,
        fieldsales_core::record::order::DeliveryStatus::Partial
    );
    assert!(o.new_customer, "the customer's first confirmed order");
}
