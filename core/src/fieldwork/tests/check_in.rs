use super::*;

fn flag(v: &CheckInVerdict, kind: FlagKind) -> CheckFlag {
    v.flag(&kind)
        .cloned()
        .unwrap_or_else(|| panic!("expected a {kind} flag, got {:?}", v.flags))
}

#[test]
fn a_rep_499_m_away_with_5_m_accuracy_is_inside_a_500_m_fence() {
    // A 5 m fix is decisive (10 m by default): its measured distance decides on its own.
    let v = CheckIn::at_the_customer()
        .metres_away(499.0)
        .accuracy(5.0)
        .verdict();
    assert_eq!(v.fence, FenceStatus::Inside);
    assert!((v.distance_m.unwrap() - 499.0).abs() < 0.01);
    assert_eq!(v.radius_m, 500.0);
    assert_eq!(v.accuracy_m, 5.0);
}

#[test]
fn a_rep_501_m_away_with_5_m_accuracy_is_outside_a_500_m_fence() {
    let v = CheckIn::at_the_customer()
        .metres_away(501.0)
        .accuracy(5.0)
        .verdict();
    assert_eq!(v.fence, FenceStatus::Outside);
    assert!((v.distance_m.unwrap() - 501.0).abs() < 0.01);
}

#[test]
fn without_a_decisive_accuracy_499_m_and_501_m_with_5_m_straddle_the_fence() {
    // An admin who sets decisive_accuracy_m = 0 asks for the literal accuracy-circle rule:
    // 499 + 5 > 500 and 501 − 5 ≤ 500, so neither can be told.
    for metres in [499.0, 501.0] {
        let mut c = CheckIn::at_the_customer().metres_away(metres).accuracy(5.0);
        c.settings.geofence.decisive_accuracy_m = 0;
        assert_eq!(c.verdict().fence, FenceStatus::CannotTell, "{metres} m");
    }
}

#[test]
fn a_fix_just_poorer_than_decisive_is_judged_by_its_circle() {
    let v = CheckIn::at_the_customer()
        .metres_away(495.0)
        .accuracy(10.5)
        .verdict();
    assert_eq!(v.fence, FenceStatus::CannotTell);
}

#[test]
fn with_a_precise_fix_499_m_is_inside_and_501_m_outside() {
    let inside = CheckIn::at_the_customer()
        .metres_away(499.0)
        .accuracy(0.5)
        .verdict();
    let outside = CheckIn::at_the_customer()
        .metres_away(501.0)
        .accuracy(0.5)
        .verdict();
    assert_eq!(inside.fence, FenceStatus::Inside);
    assert_eq!(outside.fence, FenceStatus::Outside);
}

#[test]
fn with_5_m_accuracy_the_fence_is_clear_beyond_5_m_of_its_edge() {
    let v = |m| {
        CheckIn::at_the_customer()
            .metres_away(m)
            .accuracy(5.0)
            .verdict()
            .fence
    };
    assert_eq!(v(494.9), FenceStatus::Inside);
    assert_eq!(v(505.1), FenceStatus::Outside);
}

#[test]
fn a_rep_450_m_away_with_100_m_accuracy_cannot_be_told_apart() {
    let v = CheckIn::at_the_customer()
        .metres_away(450.0)
        .accuracy(100.0)
        .verdict();
    assert_eq!(v.fence, FenceStatus::CannotTell);
    assert!(
        !v.has_flag(&FlagKind::PoorAccuracy),
        "100 m is the limit itself, not worse than it"
    );
}

#[test]
fn a_fix_worse_than_the_accuracy_limit_is_flagged_with_its_numbers() {
    let v = CheckIn::at_the_customer().accuracy(150.0).verdict();
    let f = flag(&v, FlagKind::PoorAccuracy);
    assert_eq!((f.observed, f.limit), (Some(150.0), Some(100.0)));
    assert_eq!(FlagKind::PoorAccuracy.unit(), "m");
}

#[test]
fn a_customer_with_no_location_is_unable_to_verify_and_the_fix_is_proposed() {
    let c = CheckIn::at_the_customer()
        .customer_without_location()
        .accuracy(12.0);
    let judged = c.judge().unwrap();
    assert_eq!(judged.verdict.fence, FenceStatus::UnableToVerify);
    assert_eq!(judged.verdict.distance_m, None);
    let proposal = judged.proposal.expect("a location is proposed");
    assert_eq!(proposal.customer_id, c.facts.customer_id);
    assert_eq!(proposal.point, c.facts.position.point);
    assert_eq!(proposal.accuracy_m, 12.0);
    assert_eq!(proposal.status, ProposalStatus::Pending);
}

#[test]
fn a_doubtful_fix_is_never_proposed_as_a_customer_location() {
    for c in [
        CheckIn::at_the_customer().mock_location(),
        CheckIn::at_the_customer().accuracy(250.0),
        CheckIn::at_the_customer().rooted(),
        CheckIn::at_the_customer().fix_taken_secs_earlier(900),
    ] {
        let judged = c.customer_without_location().judge().unwrap();
        assert_eq!(judged.verdict.fence, FenceStatus::UnableToVerify);
        assert_eq!(judged.proposal, None, "{:?}", judged.verdict.flags);
    }
}

#[test]
fn a_customer_with_a_location_gets_no_proposal() {
    assert_eq!(CheckIn::at_the_customer().judge().unwrap().proposal, None);
}

#[test]
fn a_manager_approves_a_proposal_once() {
    let mut p = CheckIn::at_the_customer()
        .customer_without_location()
        .judge()
        .unwrap()
        .proposal
        .unwrap();
    let manager = RecordId::new();
    let at = t("2026-03-11T09:00:00+08:00");
    let fix = CheckIn::at_the_customer().facts.position.point;
    assert_eq!(p.approve(manager, at), Ok(fix));
    assert_eq!(p.status, ProposalStatus::Approved);
    assert_eq!((p.decided_by, p.decided_at), (Some(manager), Some(at)));
    assert_eq!(
        p.reject(manager, at, "wrong building"),
        Err(ProposalError::AlreadyDecided {
            status: ProposalStatus::Approved
        })
    );
}

#[test]
fn a_manager_rejects_a_proposal_with_a_reason() {
    let mut p = CheckIn::at_the_customer()
        .customer_without_location()
        .judge()
        .unwrap()
        .proposal
        .unwrap();
    let manager = RecordId::new();
    let at = t("2026-03-11T09:00:00+08:00");
    assert_eq!(
        p.reject(manager, at, "   "),
        Err(ProposalError::EmptyReason)
    );
    assert_eq!(p.status, ProposalStatus::Pending);
    let long = "x".repeat(proposal::MAX_REASON_CHARS + 1);
    assert!(matches!(
        p.reject(manager, at, &long),
        Err(ProposalError::ReasonTooLong { .. })
    ));
    p.reject(manager, at, " that is the warehouse, not the office ")
        .unwrap();
    assert_eq!(p.status, ProposalStatus::Rejected);
    assert_eq!(
        p.rejection_reason.as_deref(),
        Some("that is the warehouse, not the office")
    );
    assert!(p.approve(manager, at).is_err());
}

#[test]
fn a_mock_location_is_flagged_in_soft_mode() {
    let v = CheckIn::at_the_customer().mock_location().verdict();
    assert_eq!(v.fence, FenceStatus::Inside);
    assert_eq!(flag(&v, FlagKind::MockLocation).observed, None);
}

#[test]
fn a_rooted_phone_and_an_emulator_are_flagged_but_not_refused() {
    let mut c = CheckIn::at_the_customer().hard_mode();
    c.facts.position.integrity = Some(DeviceIntegrity {
        rooted: true,
        emulator: true,
    });
    let v = c.verdict();
    assert!(v.has_flag(&FlagKind::RootedDevice));
    assert!(v.has_flag(&FlagKind::Emulator));
}

#[test]
fn an_honest_check_in_raises_no_flag() {
    let v = CheckIn::at_the_customer()
        .left_previous_visit_km_away(20.0, 60)
        .checked_out_here_minutes_ago(24 * 60)
        .device_clock_ahead_secs(2)
        .verdict();
    assert_eq!(v.fence, FenceStatus::Inside);
    assert_eq!(v.flags, vec![]);
}

#[test]
fn travelling_300_km_in_an_hour_is_impossible() {
    let v = CheckIn::at_the_customer()
        .left_previous_visit_km_away(300.0, 60)
        .verdict();
    let f = flag(&v, FlagKind::ImpossibleTravel);
    // Only the distance beyond both 10 m accuracy circles and the 1 km allowance counts; the
    // best within the hour is a train (300 km/h after half an hour at the stations).
    let speed = f.observed.unwrap();
    assert!((speed - 298.98).abs() < 0.01, "{speed}");
    assert_eq!(f.limit, Some(150.0));
}

#[test]
fn travelling_100_km_in_an_hour_is_a_motorway_not_a_flag() {
    let v = CheckIn::at_the_customer()
        .left_previous_visit_km_away(100.0, 60)
        .verdict();
    assert!(!v.has_flag(&FlagKind::ImpossibleTravel));
}

#[test]
fn moving_with_no_time_passing_is_impossible_travel_without_a_speed() {
    for minutes in [0, -30] {
        let v = CheckIn::at_the_customer()
            .left_previous_visit_km_away(2.0, minutes)
            .verdict();
        let f = flag(&v, FlagKind::ImpossibleTravel);
        assert_eq!((f.observed, f.limit), (None, Some(120.0)));
    }
}

#[test]
fn two_check_ins_within_each_others_accuracy_are_not_travel_at_all() {
    // 15 m apart with 10 m accuracy each, in the same second: no distance to speak of.
    let v = CheckIn::at_the_customer()
        .left_previous_visit_km_away(0.015, 0)
        .verdict();
    assert!(!v.has_flag(&FlagKind::ImpossibleTravel));
}

#[test]
fn checking_in_again_20_minutes_after_checking_out_is_flagged() {
    let v = CheckIn::at_the_customer()
        .checked_out_here_minutes_ago(20)
        .verdict();
    let f = flag(&v, FlagKind::RepeatCheckIn);
    assert_eq!((f.observed, f.limit), (Some(20.0), Some(60.0)));
}

#[test]
fn coming_back_in_the_afternoon_is_not_a_repeat() {
    let v = CheckIn::at_the_customer()
        .checked_out_here_minutes_ago(180)
        .verdict();
    assert!(!v.has_flag(&FlagKind::RepeatCheckIn));
}

#[test]
fn checking_in_while_the_last_visit_here_is_still_open_is_flagged() {
    let mut c = CheckIn::at_the_customer();
    c.facts.last_visit_here = Some(EarlierVisit {
        checked_in_at: c.facts.checked_in_at.plus_secs(-600),
        checked_out_at: None,
    });
    assert_eq!(flag(&c.verdict(), FlagKind::RepeatCheckIn).observed, None);
}

#[test]
fn a_zero_cooldown_turns_the_repeat_flag_off() {
    let mut c = CheckIn::at_the_customer().checked_out_here_minutes_ago(1);
    c.settings.visit.repeat_cooldown_minutes = 0;
    assert!(!c.verdict().has_flag(&FlagKind::RepeatCheckIn));
}

#[test]
fn a_device_clock_ten_minutes_ahead_is_flagged_once_known() {
    let v = CheckIn::at_the_customer()
        .device_clock_ahead_secs(600)
        .verdict();
    let f = flag(&v, FlagKind::DeviceClockOff);
    assert_eq!((f.observed, f.limit), (Some(600.0), Some(300.0)));

    let behind = CheckIn::at_the_customer()
        .device_clock_ahead_secs(-600)
        .verdict();
    assert_eq!(
        flag(&behind, FlagKind::DeviceClockOff).observed,
        Some(-600.0)
    );
    let unknown = CheckIn::at_the_customer().verdict();
    assert!(!unknown.has_flag(&FlagKind::DeviceClockOff));
}

#[test]
fn a_cached_fix_from_a_quarter_hour_ago_is_stale() {
    let v = CheckIn::at_the_customer()
        .fix_taken_secs_earlier(900)
        .verdict();
    let f = flag(&v, FlagKind::StaleFix);
    assert_eq!((f.observed, f.limit), (Some(900.0), Some(600.0)));
    let fresh = CheckIn::at_the_customer()
        .fix_taken_secs_earlier(30)
        .verdict();
    assert!(!fresh.has_flag(&FlagKind::StaleFix));
}

#[test]
fn hard_mode_refuses_a_rep_800_m_away_and_soft_mode_records_it() {
    let soft = CheckIn::at_the_customer()
        .metres_away(800.0)
        .judge()
        .unwrap();
    assert_eq!(soft.verdict.fence, FenceStatus::Outside);
    assert!(soft.verdict.distance_m.unwrap() > 799.9);

    let hard = CheckIn::at_the_customer()
        .metres_away(800.0)
        .hard_mode()
        .judge();
    let Err(CheckInError::Refused { reason, verdict }) = hard else {
        panic!("expected a refusal, got {hard:?}");
    };
    let RefusalReason::OutsideGeofence {
        distance_m,
        accuracy_m,
        radius_m,
    } = reason
    else {
        panic!("expected outside the geofence, got {reason:?}");
    };
    assert!((distance_m - 800.0).abs() < 0.01);
    assert_eq!((accuracy_m, radius_m), (10.0, 500.0));
    assert_eq!(verdict.fence, FenceStatus::Outside);
    let err = CheckIn::at_the_customer()
        .metres_away(800.0)
        .hard_mode()
        .judge()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "check-in refused: 800 m from the customer (accuracy 10 m) is outside the 500 m geofence"
    );
}

#[test]
fn hard_mode_refuses_a_mock_location_and_a_poor_fix() {
    let mock = CheckIn::at_the_customer()
        .mock_location()
        .hard_mode()
        .judge();
    assert!(matches!(
        mock,
        Err(CheckInError::Refused {
            reason: RefusalReason::MockLocation,
            ..
        })
    ));
    let poor = CheckIn::at_the_customer()
        .accuracy(180.0)
        .hard_mode()
        .judge();
    assert!(matches!(
        poor,
        Err(CheckInError::Refused {
            reason: RefusalReason::AccuracyTooPoor { accuracy_m, limit_m },
            ..
        }) if accuracy_m == 180.0 && limit_m == 100.0
    ));
}

#[test]
fn hard_mode_accepts_the_benefit_of_the_doubt_and_customers_without_location() {
    let edge = CheckIn::at_the_customer()
        .metres_away(530.0)
        .accuracy(50.0)
        .hard_mode()
        .verdict();
    assert_eq!(edge.fence, FenceStatus::CannotTell);
    let new_customer = CheckIn::at_the_customer()
        .customer_without_location()
        .hard_mode()
        .judge()
        .unwrap();
    assert!(new_customer.proposal.is_some());
}

#[test]
fn the_server_reaches_the_same_verdict_as_the_phone() {
    let c = CheckIn::at_the_customer()
        .metres_away(700.0)
        .accuracy(120.0)
        .left_previous_visit_km_away(300.0, 60);
    let phone = c.judge_as(Judge::Device).unwrap().verdict;
    let server = c.judge_as(Judge::Server).unwrap().verdict;
    assert_eq!(phone.judged_by, Judge::Device);
    assert_eq!(server.judged_by, Judge::Server);
    assert_eq!(
        CheckInVerdict {
            judged_by: Judge::Server,
            ..phone
        },
        server
    );
}

#[test]
fn positions_off_the_earth_are_typed_errors() {
    let mut c = CheckIn::at_the_customer();
    c.facts.position.point.lat = 91.0;
    assert!(matches!(c.judge(), Err(CheckInError::InvalidPosition(_))));

    let mut c = CheckIn::at_the_customer();
    c.facts.customer_location = Some(GeoPoint {
        lat: 0.0,
        lon: f64::NAN,
    });
    assert!(matches!(
        c.judge(),
        Err(CheckInError::InvalidCustomerLocation(_))
    ));

    let mut c = CheckIn::at_the_customer().left_previous_visit_km_away(1.0, 10);
    if let Some(p) = &mut c.facts.departure {
        p.point.lon = 200.0;
    }
    assert!(matches!(
        c.judge(),
        Err(CheckInError::InvalidPreviousPosition(_))
    ));

    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let r = CheckIn::at_the_customer().accuracy(bad).judge();
        assert!(
            matches!(r, Err(CheckInError::InvalidAccuracy { .. })),
            "{bad}"
        );
    }
}

fn check_out_after(minutes: i64) -> Result<CheckOutVerdict, CheckOutError> {
    let start = t("2026-03-10T10:00:00+08:00");
    let s = FieldworkSettings::default();
    judge_check_out(
        &CheckOutFacts {
            checked_in_at: start,
            checked_out_at: start.plus_secs(minutes * 60),
            device_clock: None,
            customer_location: Some(pudong_site()),
            check_in_position: CheckIn::at_the_customer().facts.position,
            position: None,
        },
        &s,
        start.plus_secs(minutes * 60),
        Judge::Device,
    )
}

#[test]
fn a_visit_closed_after_three_minutes_is_short() {
    let v = check_out_after(3).unwrap();
    assert_eq!(v.duration_seconds, 180);
    let f = v
        .flags
        .iter()
        .find(|f| f.kind == FlagKind::ShortVisit)
        .unwrap();
    assert_eq!((f.observed, f.limit), (Some(3.0), Some(5.0)));
}

#[test]
fn a_45_minute_visit_is_fine() {
    let v = check_out_after(45).unwrap();
    assert_eq!(v.duration_seconds, 45 * 60);
    assert_eq!(v.flags, vec![]);
    assert_eq!(v.judged_by, Judge::Device);
}

#[test]
fn a_check_out_before_the_check_in_is_refused() {
    assert!(matches!(
        check_out_after(-1),
        Err(CheckOutError::BeforeCheckIn { .. })
    ));
}
