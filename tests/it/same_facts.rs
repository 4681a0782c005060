//! The phone and the server read the same facts: given the same history, the verdict a rep
//! sees on the spot is the one the server writes after sync — same ties broken the same
//! way, same missing data treated the same way.

use fieldsales_core::engine::visits::CheckInRequest;
use fieldsales_core::fieldwork::{CheckInVerdict, DevicePosition};
use fieldsales_core::record::{Customer, Visit};
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing::{customer, morning, position_near_shanghai, visit};
use fieldsales_core::time::ManualClock;
use fieldsales_core::{Clock, RecordId};
use fieldsales_tests::{Org, Person, World, sync};

const MINUTE: i64 = 60_000;

/// A customer of `rep`'s `metres_north` of People's Square, attributed to the rep's team.
fn customer_at(rep: &Person, org: &Org, name: &str, metres_north: f64) -> Customer {
    let mut c = customer(rep.profile, name);
    c.header.org_unit_id = Some(org.east_team);
    c.location = Some(position_near_shanghai(metres_north, 5.0).point);
    c
}

/// A visit of `rep`'s at `customer`, checked in at `metres_north` of People's Square in the
/// morning, under the given id.
fn visit_at(
    rep: &Person,
    org: &Org,
    customer: &Customer,
    metres_north: f64,
    id: RecordId,
) -> Visit {
    let mut v = visit(rep.profile, customer.header.id);
    v.header.id = id;
    v.header.org_unit_id = Some(org.east_team);
    v.check_in.position = position_near_shanghai(metres_north, 8.0);
    v
}

/// The parts of a verdict both sides compute (who judged and when differ by design).
fn judged(v: &CheckInVerdict) -> String {
    let mut flags: Vec<String> = v.flags.iter().map(|f| f.kind.to_string()).collect();
    flags.sort();
    format!("{:?} flags {flags:?}", v.fence)
}

/// Two earlier check-ins stamped with the same instant — one at a customer 300 km away, one
/// next door — then a check-in in Shanghai ten minutes later. Whichever earlier visit counts
/// as "previous" decides whether the travel was possible; the phone and the server must pick
/// the same one, so the rep's phone shows the verdict the manager will see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tie_between_two_earlier_check_ins_is_broken_the_same_way_on_phone_and_server() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    // The server's clock moves with the phone's: it measures the phone's clock on every push.
    let clock = ManualClock::new(morning());
    world.clock.set(morning());
    let mut phone = world.device_on_clock(&li, &clock).await;

    let far = customer_at(&li, &org, "徐州远方机械有限公司", 300_000.0);
    let near = customer_at(&li, &org, "上海近邻贸易有限公司", 0.0);
    let here = customer_at(&li, &org, "上海人民广场百货有限公司", 100.0);
    for c in [&far, &near, &here] {
        phone.store_mut().create(c.clone()).expect("customer");
    }
    // The ids order the two earlier visits one way; the order they are written and pushed in
    // is the other.
    let (low, high) = {
        let (a, b) = (RecordId::new(), RecordId::new());
        if a < b { (a, b) } else { (b, a) }
    };
    phone
        .store_mut()
        .create(visit_at(&li, &org, &near, 0.0, high))
        .expect("the visit next door");
    clock.advance_millis(1);
    phone
        .store_mut()
        .create(visit_at(&li, &org, &far, 300_000.0, low))
        .expect("the visit far away, stamped with the same instant");
    sync(&mut phone).await;

    clock.set(morning().plus_millis(10 * MINUTE));
    world.clock.set(morning().plus_millis(10 * MINUTE));
    let fix = position_near_shanghai(100.0, 8.0);
    let checked_in = phone
        .check_in(CheckInRequest {
            customer_id: here.header.id,
            position: DevicePosition {
                fix_time: Clock::now(&clock),
                ..fix
            },
            note: String::new(),
            photos: Vec::new(),
        })
        .expect("checked in");
    let on_the_phone = judged(
        checked_in
            .visit
            .verdict
            .as_ref()
            .expect("judged on the phone"),
    );
    sync(&mut phone).await;

    let on_the_server = world
        .server_records()
        .get::<Visit>(checked_in.visit.header.id)
        .expect("on the server");
    let on_the_server = judged(
        on_the_server
            .verdict
            .as_ref()
            .expect("judged by the server"),
    );
    assert_eq!(
        on_the_phone, on_the_server,
        "the phone and the server judged the same check-in on the same history differently"
    );
    world.stop().await;
}

on_postgres!(a_tie_between_two_earlier_check_ins_is_broken_the_same_way_on_phone_and_server,);
