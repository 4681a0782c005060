//! Field truth: the journeys, times and days that give a faked visit away, and the honest days
//! that look odd but must not be flagged.

use super::*;

fn flag(v: &CheckInVerdict, kind: FlagKind) -> CheckFlag {
    v.flag(&kind)
        .cloned()
        .unwrap_or_else(|| panic!("expected {kind} among {:?}", v.flags))
}

fn kinds(v: &CheckInVerdict) -> Vec<FlagKind> {
    v.flags.iter().map(|f| f.kind.clone()).collect()
}

// Journeys.

#[test]
fn a_flight_from_shanghai_to_beijing_in_four_hours_door_to_door_is_possible() {
    let v = CheckIn::at_the_customer()
        .left_previous_visit_km_away(1_068.0, 240)
        .verdict();
    assert!(!v.has_flag(&FlagKind::ImpossibleTravel), "{:?}", v.flags);
}

#[test]
fn the_same_journey_in_two_hours_is_impossible_with_the_speeds_to_weigh() {
    let v = CheckIn::at_the_customer()
        .left_previous_visit_km_away(1_068.0, 120)
        .verdict();
    let f = flag(&v, FlagKind::ImpossibleTravel);
    // 1,068 km less 1 km of allowance and two 10 m circles, in 2 h: about 533 km/h needed;
    // the best in 2 h is a train, 300 km/h for the 1.5 h left after the stations: 225 km/h.
    let needed = f.observed.unwrap();
    assert!((needed - 533.5).abs() < 1.0, "{needed}");
    assert!((f.limit.unwrap() - 225.0).abs() < 0.1, "{:?}", f.limit);
}

#[test]
fn a_high_speed_train_between_customers_beside_two_stations_is_possible() {
    // Hangzhou East to Shanghai Hongqiao, 160 km: 45 minutes on the train, half an hour for
    // the stations.
    let v = CheckIn::at_the_customer()
        .left_previous_visit_km_away(160.0, 75)
        .verdict();
    assert!(!v.has_flag(&FlagKind::ImpossibleTravel), "{:?}", v.flags);
}

#[test]
fn forty_km_across_a_city_in_sixteen_minutes_is_impossible() {
    let v = CheckIn::at_the_customer()
        .left_previous_visit_km_away(40.0, 16)
        .verdict();
    let f = flag(&v, FlagKind::ImpossibleTravel);
    assert!(f.observed.unwrap() > 140.0, "{f:?}");
    assert_eq!(FlagKind::ImpossibleTravel.unit(), "km/h");
}

#[test]
fn a_check_in_the_next_held_visit_cannot_be_reached_from_is_flagged() {
    // A visit recorded late and slotted in before one the judge already holds, 80 km away
    // twenty minutes later.
    let v = CheckIn::at_the_customer()
        .next_check_in_km_away(80.0, 20)
        .verdict();
    assert!(v.has_flag(&FlagKind::ImpossibleTravel), "{:?}", v.flags);
    let reachable = CheckIn::at_the_customer()
        .next_check_in_km_away(30.0, 40)
        .verdict();
    assert!(!reachable.has_flag(&FlagKind::ImpossibleTravel));
}

// Times.

#[test]
fn a_fix_stamped_two_minutes_after_the_check_in_was_not_taken_for_it() {
    let v = CheckIn::at_the_customer()
        .fix_taken_secs_earlier(-120)
        .verdict();
    let f = flag(&v, FlagKind::FixAfterCheckIn);
    assert_eq!((f.observed, f.limit), (Some(120.0), Some(30.0)));
    assert!(v.suspicious());
    let gnss_jitter = CheckIn::at_the_customer()
        .fix_taken_secs_earlier(-3)
        .verdict();
    assert_eq!(gnss_jitter.flags, vec![]);
}

#[test]
fn an_indoor_fix_five_minutes_old_is_honest_and_one_from_a_quarter_hour_ago_is_stale() {
    let indoor = CheckIn::at_the_customer()
        .accuracy(350.0)
        .fix_taken_secs_earlier(300)
        .verdict();
    assert_eq!(kinds(&indoor), vec![FlagKind::PoorAccuracy]);
    assert!(!indoor.suspicious(), "a poor fix is a caution");
    let stale = CheckIn::at_the_customer()
        .fix_taken_secs_earlier(900)
        .verdict();
    assert_eq!(
        flag(&stale, FlagKind::StaleFix).limit,
        Some(600.0),
        "{:?}",
        stale.flags
    );
}

#[test]
fn a_whole_day_synced_the_next_morning_raises_nothing() {
    let v = CheckIn::at_the_customer()
        .synced_minutes_before(120)
        .received_minutes_later(22 * 60)
        .verdict();
    assert_eq!(v.flags, vec![]);
}

#[test]
fn a_clock_wound_back_after_the_afternoon_sync_claims_a_time_before_that_sync() {
    // The device synced at 16:00; later the rep winds the clock back and checks in "at 14:00".
    let mut c = CheckIn::at_the_customer()
        .synced_minutes_before(-6 * 60)
        .received_minutes_later(8 * 60);
    c.facts.timeline.recorded_offset_ms = Some(0);
    let v = c.verdict();
    let f = flag(&v, FlagKind::ClaimedBeforeSync);
    assert_eq!((f.observed, f.limit), (Some(360.0), Some(5.0)));
    assert_eq!(FlagKind::ClaimedBeforeSync.unit(), "min");
}

#[test]
fn a_visit_recorded_after_a_later_one_is_out_of_order_on_the_phone_already() {
    let v = CheckIn::at_the_customer()
        .recorded_after_a_visit_minutes_later(150)
        .judge_as(Judge::Device)
        .unwrap()
        .verdict;
    assert_eq!(flag(&v, FlagKind::RecordedOutOfOrder).observed, Some(150.0));
    let same_minute = CheckIn::at_the_customer()
        .recorded_after_a_visit_minutes_later(2)
        .verdict();
    assert!(!same_minute.has_flag(&FlagKind::RecordedOutOfOrder));
}

#[test]
fn a_visit_uploaded_after_a_later_one_had_arrived_is_out_of_order() {
    let v = CheckIn::at_the_customer()
        .received_minutes_later(300)
        .uploaded_after_a_visit_minutes_later(90)
        .verdict();
    assert_eq!(flag(&v, FlagKind::UploadedOutOfOrder).observed, Some(90.0));
}

#[test]
fn a_clock_moved_between_recording_and_the_push_is_a_suspicion() {
    // Recorded with the clock three hours behind (as the last sync measured), delivered with
    // the clock put right.
    let v = CheckIn::at_the_customer()
        .device_clock_ahead_secs(-3 * 3600)
        .synced_minutes_before(60)
        .received_minutes_later(120)
        .push_clock_ahead_secs(0)
        .verdict();
    assert_eq!(flag(&v, FlagKind::ClockChanged).observed, Some(10_800.0));
    assert!(v.suspicious());
}

#[test]
fn a_clock_that_is_simply_wrong_is_a_caution_not_a_suspicion() {
    let v = CheckIn::at_the_customer()
        .device_clock_ahead_secs(20 * 60)
        .synced_minutes_before(60)
        .received_minutes_later(30)
        .verdict();
    assert_eq!(kinds(&v), vec![FlagKind::DeviceClockOff]);
    assert!(!v.suspicious());
}

#[test]
fn a_check_in_dated_after_the_server_received_it_was_stamped_by_a_clock_set_forward() {
    // Forward two hours while checking in, put right before the push.
    let mut c = CheckIn::at_the_customer().received_minutes_later(10);
    c.facts.checked_in_at = c.facts.checked_in_at.plus_secs(2 * 3600);
    c.facts.position.fix_time = c.facts.checked_in_at;
    let v = c.verdict();
    let f = flag(&v, FlagKind::CheckedInAfterReceipt);
    assert_eq!(f.observed, Some(110.0 * 60.0));
}

#[test]
fn a_clock_wound_back_since_an_earlier_visit_disagrees_with_the_phones_uptime() {
    // The phone booted at 07:00 by its clock when it recorded an 08:30 visit; this check-in
    // claims 10:00 with an uptime that puts the boot at 05:30: the clock went back 90 minutes.
    let mut c = CheckIn::at_the_customer();
    let fix = c.facts.position.fix_time;
    let booted = |c: &mut CheckIn, at: &str| {
        c.facts.position.since_boot_ms = Some(fix.millis_since(t(at)));
        c.facts.timeline.booted_at = c.facts.position.booted_at();
    };
    booted(&mut c, "2026-03-10T05:30:00+08:00");
    c.facts.timeline.earlier_boots = vec![BootMark {
        at: t("2026-03-10T08:30:00+08:00"),
        booted_at: t("2026-03-10T07:00:00+08:00"),
    }];
    let v = c.verdict();
    let f = flag(&v, FlagKind::ClockMovedAgainstUptime);
    assert_eq!((f.observed, f.limit), (Some(90.0), Some(5.0)));
    assert!(v.suspicious());

    // Rebooted at 09:10, after the 08:30 visit: a new session, as boots go.
    booted(&mut c, "2026-03-10T09:10:00+08:00");
    assert!(!c.verdict().has_flag(&FlagKind::ClockMovedAgainstUptime));
    // The same session a few seconds apart (the clock corrected by the network): fine.
    booted(&mut c, "2026-03-10T07:00:04+08:00");
    assert!(!c.verdict().has_flag(&FlagKind::ClockMovedAgainstUptime));
}

#[test]
fn a_visit_claiming_an_earlier_slot_than_one_recorded_before_it_disagrees_with_uptime() {
    // Recorded at 19:00 with the clock wound back to 10:00: by the wound clock the phone
    // booted at 01:00, five hours before the boot the 16:10 visit saw. Claiming to come first,
    // it would share that visit's session (it does not) or the visit's session would have
    // begun after it, at 10:00 or later (it began at 06:00): four hours off.
    let mut c = CheckIn::at_the_customer();
    let fix = c.facts.position.fix_time;
    c.facts.position.since_boot_ms = Some(fix.millis_since(t("2026-03-10T01:00:00+08:00")));
    c.facts.timeline.booted_at = c.facts.position.booted_at();
    c.facts.timeline.later_boots = vec![BootMark {
        at: t("2026-03-10T16:10:00+08:00"),
        booted_at: t("2026-03-10T06:00:00+08:00"),
    }];
    let f = flag(&c.verdict(), FlagKind::ClockMovedAgainstUptime);
    assert_eq!(f.observed, Some(240.0));
}

#[test]
fn an_upload_three_days_late_is_a_caution() {
    let v = CheckIn::at_the_customer()
        .received_minutes_later(72 * 60)
        .verdict();
    let f = flag(&v, FlagKind::UploadedLate);
    assert_eq!((f.observed, f.limit), (Some(72.0), Some(48.0)));
    assert!(!v.suspicious());
}

// Days.

#[test]
fn a_fix_exactly_on_the_registered_point_with_a_made_up_accuracy_is_flagged() {
    let v = CheckIn::at_the_customer()
        .on_the_point_within(0.2)
        .accuracy(3.0)
        .verdict();
    let f = flag(&v, FlagKind::FixOnRegisteredPoint);
    assert!(f.observed.unwrap() < 0.3, "{f:?}");
    assert_eq!(f.limit, Some(1.0));
}

#[test]
fn one_indoor_fix_repeating_the_registered_point_is_honest_two_customers_so_are_not() {
    // Wi-Fi positioning gives the same point for the same rooms: a customer registered from an
    // indoor check-in is met there again.
    let once = CheckIn::at_the_customer()
        .on_the_point_within(0.5)
        .accuracy(25.0)
        .verdict();
    assert_eq!(once.flags, vec![]);
    let twice = CheckIn::at_the_customer()
        .on_the_point_within(0.5)
        .accuracy(25.0)
        .also_checked_in_today(8_000.0, 25.0, Some(0.0))
        .verdict();
    assert!(twice.has_flag(&FlagKind::FixOnRegisteredPoint));
    let a_metre_off = CheckIn::at_the_customer()
        .on_the_point_within(4.0)
        .accuracy(3.0)
        .also_checked_in_today(8_000.0, 3.0, Some(0.0))
        .verdict();
    assert!(!a_metre_off.has_flag(&FlagKind::FixOnRegisteredPoint));
}

#[test]
fn the_same_precise_accuracy_at_three_customers_is_a_value_someone_set() {
    let v = CheckIn::at_the_customer()
        .accuracy(5.0)
        .also_checked_in_today(9_000.0, 5.0, Some(12.0))
        .also_checked_in_today(15_000.0, 5.0, Some(40.0))
        .verdict();
    let f = flag(&v, FlagKind::RepeatedAccuracy);
    assert_eq!((f.observed, f.limit), (Some(3.0), Some(3.0)));
    // Two is chance; 65 m (iOS on Wi-Fi) repeats honestly; 5.01 m is another value.
    let two = CheckIn::at_the_customer()
        .accuracy(5.0)
        .also_checked_in_today(9_000.0, 5.0, Some(12.0))
        .verdict();
    assert!(!two.has_flag(&FlagKind::RepeatedAccuracy));
    let coarse = CheckIn::at_the_customer()
        .accuracy(65.0)
        .also_checked_in_today(9_000.0, 65.0, Some(12.0))
        .also_checked_in_today(15_000.0, 65.0, Some(40.0))
        .verdict();
    assert!(!coarse.has_flag(&FlagKind::RepeatedAccuracy));
    let varied = CheckIn::at_the_customer()
        .accuracy(5.01)
        .also_checked_in_today(9_000.0, 5.0, Some(12.0))
        .also_checked_in_today(15_000.0, 5.0, Some(40.0))
        .verdict();
    assert!(!varied.has_flag(&FlagKind::RepeatedAccuracy));
}

#[test]
fn three_customers_checked_in_from_one_spot_far_from_all_of_them_are_flagged() {
    let v = CheckIn::at_the_customer()
        .metres_away(9_000.0)
        .also_checked_in_today(40.0, 20.0, Some(12_000.0))
        .also_checked_in_today(60.0, 15.0, None)
        .verdict();
    let f = flag(&v, FlagKind::ClusteredAwayFromCustomers);
    assert_eq!((f.observed, f.limit), (Some(3.0), Some(2.0)));
    assert_eq!(f.kind.unit(), "customers");
}

#[test]
fn a_customer_with_no_location_checked_in_from_where_another_is_far_away_is_flagged() {
    // From home: a new customer with no registered point, beside one registered 9 km away.
    let v = CheckIn::at_the_customer()
        .customer_without_location()
        .also_checked_in_today(30.0, 20.0, Some(9_000.0))
        .verdict();
    assert_eq!(
        flag(&v, FlagKind::ClusteredAwayFromCustomers).observed,
        Some(2.0)
    );
}

#[test]
fn customers_sharing_a_building_or_new_customers_at_one_park_are_not_a_cluster() {
    // Two customers in one building, minutes apart.
    let two = CheckIn::at_the_customer()
        .also_checked_in_today(30.0, 15.0, Some(40.0))
        .verdict();
    assert_eq!(two.flags, vec![]);
    // Three in one tower, all registered there.
    let tower = CheckIn::at_the_customer()
        .also_checked_in_today(20.0, 15.0, Some(25.0))
        .also_checked_in_today(35.0, 15.0, Some(30.0))
        .verdict();
    assert_eq!(tower.flags, vec![]);
    // Three new customers with no registered location in one business park.
    let park = CheckIn::at_the_customer()
        .customer_without_location()
        .also_checked_in_today(50.0, 15.0, None)
        .also_checked_in_today(90.0, 15.0, None)
        .verdict();
    assert!(!park.has_flag(&FlagKind::ClusteredAwayFromCustomers));
}

// Check-outs.

fn check_out_at(metres_from_customer: f64, mock: bool) -> CheckOutVerdict {
    let visit = CheckIn::at_the_customer();
    let start = visit.facts.checked_in_at;
    let out = DevicePosition {
        point: geofence::destination(pudong_site(), 270.0, metres_from_customer),
        accuracy_m: 15.0,
        fix_time: start.plus_secs(3600),
        mock,
        integrity: None,
        since_boot_ms: None,
    };
    judge_check_out(
        &CheckOutFacts {
            checked_in_at: start,
            checked_out_at: start.plus_secs(3600),
            device_clock: None,
            customer_location: Some(pudong_site()),
            check_in_position: visit.facts.position,
            position: Some(out),
        },
        &FieldworkSettings::default(),
        start.plus_secs(3600),
        Judge::Server,
    )
    .unwrap()
}

#[test]
fn a_check_out_from_the_car_park_is_fine_and_one_from_across_town_is_flagged() {
    assert_eq!(check_out_at(300.0, false).flags, vec![]);
    assert_eq!(check_out_at(1_800.0, false).flags, vec![]);
    let away = check_out_at(12_000.0, false);
    let f = away
        .flags
        .iter()
        .find(|f| f.kind == FlagKind::CheckOutAway)
        .unwrap();
    assert!((f.observed.unwrap() - 12_000.0).abs() < 1.0);
    assert_eq!(f.limit, Some(2_500.0));
    assert!(check_out_at(100.0, true).has_flag(&FlagKind::MockLocation));
}

// Settings.

#[test]
fn the_thresholds_are_configuration() {
    let mut c = CheckIn::at_the_customer().left_previous_visit_km_away(40.0, 30);
    assert!(!c.verdict().has_flag(&FlagKind::ImpossibleTravel));
    c.settings.visit.max_travel_speed_kmh = 60;
    assert!(c.verdict().has_flag(&FlagKind::ImpossibleTravel));

    let mut c = CheckIn::at_the_customer()
        .on_the_point_within(0.2)
        .accuracy(3.0);
    c.settings.day.on_point_m = 0;
    assert!(!c.verdict().has_flag(&FlagKind::FixOnRegisteredPoint));
}
