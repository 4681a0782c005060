//! Field truth on the phone and the server: the journey from the last trusted place, the
//! check-in judged once on receipt, a clock wound back, a day uploaded in the evening.

use fieldsales_core::fieldwork::geofence::destination;
use fieldsales_core::fieldwork::{FlagKind, Judge};
use fieldsales_core::record::Visit;
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing::shanghai;

use crate::field_world::{Field, t};

/// The rep checks in at `customer` (`site`, 30 m off, on a fix of `accuracy_m`: a real
/// receiver's estimate changes from fix to fix) at `at` and returns the visit's id.
fn check_in_at(
    field: &mut Field,
    customer: fieldsales_core::RecordId,
    site: fieldsales_core::GeoPoint,
    at: &str,
    accuracy_m: f64,
) -> fieldsales_core::RecordId {
    field.set_time(at);
    field
        .check_in(customer, site, 30.0, accuracy_m)
        .unwrap()
        .visit
        .header
        .id
}

fn check_out_at(
    field: &mut Field,
    visit: fieldsales_core::RecordId,
    site: fieldsales_core::GeoPoint,
    at: &str,
) {
    field.set_time(at);
    let fix = field.fix(site, 60.0, 12.0);
    field.rep.check_out(visit, Some(fix)).unwrap();
}

fn flags(v: &Visit) -> Vec<FlagKind> {
    v.verdict
        .as_ref()
        .unwrap()
        .flags
        .iter()
        .map(|f| f.kind.clone())
        .collect()
}

#[test]
fn a_long_meeting_is_not_travelling_time_the_journey_counts_from_the_check_out() {
    let mut field = Field::at("2026-03-10T09:00:00+08:00");
    let near_site = shanghai();
    let far_site = destination(shanghai(), 90.0, 60_000.0);
    let near = field.customer("上海联华超市股份有限公司", Some(near_site));
    let far = field.customer("苏州昆山精密机械有限公司", Some(far_site));

    let first = check_in_at(
        &mut field,
        near,
        near_site,
        "2026-03-10T09:00:00+08:00",
        7.4,
    );
    field.push_visit(first, 0);
    check_out_at(&mut field, first, near_site, "2026-03-10T11:40:00+08:00");
    field.push_visit(first, 0);
    // Three hours after the first check-in, but twenty minutes after leaving: 60 km.
    let second = check_in_at(&mut field, far, far_site, "2026-03-10T12:00:00+08:00", 11.2);
    let judged = field.push_visit(second, 0);
    let travel = judged
        .verdict
        .as_ref()
        .unwrap()
        .flag(&FlagKind::ImpossibleTravel)
        .cloned()
        .expect("impossible travel");
    assert!(travel.observed.unwrap() > 170.0, "{travel:?}");
}

#[test]
fn a_visit_faked_between_real_ones_is_flagged_and_the_real_one_after_it_is_not() {
    let mut field = Field::at("2026-03-10T09:00:00+08:00");
    let office_park = shanghai();
    let hangzhou = destination(shanghai(), 225.0, 165_000.0);
    let across_town = destination(shanghai(), 0.0, 12_000.0);
    let a = field.customer("上海联华超市股份有限公司", Some(office_park));
    let faked = field.customer("杭州娃哈哈集团有限公司", Some(hangzhou));
    let c = field.customer("上海家化联合股份有限公司", Some(across_town));

    let real = check_in_at(&mut field, a, office_park, "2026-03-10T09:00:00+08:00", 8.9);
    check_out_at(&mut field, real, office_park, "2026-03-10T10:00:00+08:00");
    field.push_visit(real, 0);
    // "In Hangzhou" half an hour after leaving a customer in Shanghai.
    let fake = check_in_at(
        &mut field,
        faked,
        hangzhou,
        "2026-03-10T10:30:00+08:00",
        6.3,
    );
    check_out_at(&mut field, fake, hangzhou, "2026-03-10T11:00:00+08:00");
    let fake = field.push_visit(fake, 0);
    assert!(
        flags(&fake).contains(&FlagKind::ImpossibleTravel),
        "{:?}",
        flags(&fake)
    );
    assert!(fake.verdict.as_ref().unwrap().suspicious());
    // Back in Shanghai at 11:10: measured from the last trusted place (the first customer,
    // 12 km and 70 minutes away), not from the faked one.
    let next = check_in_at(
        &mut field,
        c,
        across_town,
        "2026-03-10T11:10:00+08:00",
        12.7,
    );
    let next = field.push_visit(next, 0);
    assert_eq!(flags(&next), vec![]);
}

#[test]
fn the_server_judges_the_check_in_once_on_receipt_and_the_check_out_when_it_comes() {
    let mut field = Field::at("2026-03-10T09:00:00+08:00");
    let site = shanghai();
    let c = field.customer("上海联华超市股份有限公司", Some(site));
    let id = check_in_at(&mut field, c, site, "2026-03-10T09:00:00+08:00", 9.6);
    field.set_time("2026-03-10T09:02:00+08:00");
    let first = field.push_visit(id, 0);
    assert_eq!(first.received_at, Some(t("2026-03-10T09:02:00+08:00")));
    assert_eq!(first.verdict.as_ref().unwrap().judged_by, Judge::Server);

    // Closed from home, 14 km away, and pushed that evening with a clock now far off: the
    // check-in keeps its judgement (no clock flag appears), the check-out earns its own.
    field.set_time("2026-03-10T10:00:00+08:00");
    let home = destination(site, 180.0, 14_000.0);
    let fix = field.fix(home, 0.0, 15.0);
    field.rep.check_out(id, Some(fix)).unwrap();
    field.set_time("2026-03-10T19:00:00+08:00");
    let second = field.push_visit(id, -5_000);
    assert_eq!(second.received_at, first.received_at);
    assert_eq!(flags(&second), vec![FlagKind::CheckOutAway]);
}

#[test]
fn a_clock_wound_back_to_slot_in_a_visit_is_caught_on_the_phone_and_by_the_server() {
    let mut field = Field::at("2026-03-10T16:00:00+08:00");
    let site = shanghai();
    let c = field.customer("上海联华超市股份有限公司", Some(site));
    let other = field.customer(
        "上海家化联合股份有限公司",
        Some(destination(site, 0.0, 3_000.0)),
    );
    // The phone synced at 16:00 and its clock was right.
    field.rep_clock_measured(0);
    let real = check_in_at(&mut field, c, site, "2026-03-10T16:10:00+08:00", 5.8);
    check_out_at(&mut field, real, site, "2026-03-10T16:50:00+08:00");
    field.push_visit(real, 0);

    // At 19:00 the rep winds the phone back to 14:00 to claim an afternoon visit.
    let slotted = check_in_at(
        &mut field,
        other,
        destination(site, 0.0, 3_000.0),
        "2026-03-10T14:00:00+08:00",
        10.4,
    );
    let on_phone: Visit = field.rep.store().get(slotted).unwrap();
    let phone_flags = flags(&on_phone);
    assert!(
        phone_flags.contains(&FlagKind::ClaimedBeforeSync),
        "{phone_flags:?}"
    );
    assert!(
        phone_flags.contains(&FlagKind::RecordedOutOfOrder),
        "{phone_flags:?}"
    );

    // The clock put right, the phone syncs: the server also sees it arrive after a later visit.
    field.set_time("2026-03-10T19:05:00+08:00");
    let judged = field.push_visit(slotted, 0);
    let server_flags = flags(&judged);
    for kind in [
        FlagKind::ClaimedBeforeSync,
        FlagKind::RecordedOutOfOrder,
        FlagKind::UploadedOutOfOrder,
    ] {
        assert!(server_flags.contains(&kind), "{kind} in {server_flags:?}");
    }
    assert!(judged.verdict.as_ref().unwrap().suspicious());
}

#[test]
fn a_whole_offline_day_uploaded_in_the_evening_raises_nothing() {
    let mut field = Field::at("2026-03-10T08:00:00+08:00");
    field.rep_clock_measured(0);
    let sites = [
        shanghai(),
        destination(shanghai(), 40.0, 6_000.0),
        destination(shanghai(), 130.0, 9_000.0),
    ];
    let mut ids = Vec::new();
    for (i, (site, (arrive, leave))) in sites
        .iter()
        .zip([("09:10", "10:05"), ("10:50", "11:40"), ("14:00", "15:10")])
        .enumerate()
    {
        let c = field.customer(&format!("客户{i}号有限公司"), Some(*site));
        let id = check_in_at(
            &mut field,
            c,
            *site,
            &format!("2026-03-10T{arrive}:00+08:00"),
            6.0 + 2.7 * i as f64,
        );
        check_out_at(
            &mut field,
            id,
            *site,
            &format!("2026-03-10T{leave}:00+08:00"),
        );
        ids.push(id);
    }
    field.set_time("2026-03-10T21:30:00+08:00");
    for id in ids {
        let judged = field.push_visit(id, 0);
        assert_eq!(flags(&judged), vec![], "{:?}", judged.check_in.at);
    }
}
