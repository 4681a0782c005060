//! Properties that must hold anywhere on the earth and at any time of day.

use proptest::prelude::*;

use super::*;

fn site() -> impl Strategy<Value = GeoPoint> {
    // Everywhere a customer could be, short of the poles themselves.
    (-85.0..85.0f64, -180.0..180.0f64).prop_map(|(lat, lon)| GeoPoint { lat, lon })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A rep placed at a known distance is judged by that distance, accuracy circle and all.
    #[test]
    fn the_fence_is_judged_by_the_true_distance(
        customer in site(),
        bearing in 0.0..360.0f64,
        distance in 0.0..2_000.0f64,
        accuracy in 0.0..300.0f64,
        radius in 10u32..1_500,
    ) {
        let mut c = CheckIn::at_the_customer();
        c.facts.customer_location = Some(customer);
        c.facts.position.point = geofence::destination(customer, bearing, distance);
        c.facts.position.accuracy_m = accuracy;
        c.settings.geofence.radius_m = radius;
        let v = c.verdict();
        let r = f64::from(radius);
        let measured = v.distance_m.unwrap();
        prop_assert!((measured - distance).abs() < 1e-3, "{} vs {}", measured, distance);
        let margin = 1e-3;
        let decisive = f64::from(c.settings.geofence.decisive_accuracy_m);
        // A fix beyond the accuracy limit must miss by two radii to be outside.
        let circles = if accuracy > f64::from(c.settings.geofence.max_accuracy_m) { 2.0 } else { 1.0 };
        if accuracy <= decisive {
            // A decisive fix: the measured distance alone.
            if (distance - r).abs() > margin {
                let expected = if distance <= r { FenceStatus::Inside } else { FenceStatus::Outside };
                prop_assert_eq!(v.fence, expected);
            }
        } else if distance + accuracy <= r - margin {
            prop_assert_eq!(v.fence, FenceStatus::Inside);
        } else if distance - accuracy * circles > r + margin {
            prop_assert_eq!(v.fence, FenceStatus::Outside);
        } else if (distance + accuracy - r).abs() > margin
            && (distance - accuracy * circles - r).abs() > margin
        {
            prop_assert_eq!(v.fence, FenceStatus::CannotTell);
        }
    }

    /// Soft mode never refuses; hard mode refuses only what the rep can fix on the spot.
    #[test]
    fn soft_mode_never_refuses_and_hard_mode_refuses_only_for_cause(
        distance in 0.0..3_000.0f64,
        accuracy in 0.0..300.0f64,
        mock in any::<bool>(),
    ) {
        let mut c = CheckIn::at_the_customer().metres_away(distance).accuracy(accuracy);
        c.facts.position.mock = mock;
        let soft = c.judge();
        prop_assert!(soft.is_ok());
        let soft = soft.unwrap().verdict;
        let hard = c.hard_mode().judge();
        let should_refuse = mock || accuracy > 100.0 || soft.fence == FenceStatus::Outside;
        prop_assert_eq!(hard.is_err(), should_refuse);
    }

    /// Going no faster than the road's limit never raises the travel flag, however far.
    #[test]
    fn travel_within_the_road_speed_is_never_flagged(
        km in 0.0..2_000.0f64,
        kmh in 1.0..120.0f64,
    ) {
        let minutes = (km / kmh * 60.0).ceil() as i64 + 1;
        let v = CheckIn::at_the_customer().left_previous_visit_km_away(km, minutes).verdict();
        prop_assert!(!v.has_flag(&FlagKind::ImpossibleTravel), "{:?}", v.flags);
    }

    /// A flight (airports' time plus the air speed) or a high-speed train (the stations' time
    /// plus rail speed) is never impossible travel, however far; a journey faster than every
    /// way of travelling always is.
    #[test]
    fn the_envelope_holds_every_way_of_travelling_and_nothing_faster(
        km in 5.0..3_000.0f64,
        air in any::<bool>(),
        spare_minutes in 1i64..240,
    ) {
        let (kmh, overhead) = if air { (800.0, 90.0) } else { (300.0, 30.0) };
        let minutes = (km / kmh * 60.0 + overhead).ceil() as i64 + spare_minutes;
        let v = CheckIn::at_the_customer().left_previous_visit_km_away(km, minutes).verdict();
        prop_assert!(!v.has_flag(&FlagKind::ImpossibleTravel), "{:?}", v.flags);

        // The latest moment no way of travelling reaches 2 km short of the distance (the
        // allowance is 1 km): judged impossible.
        let hours = |m: i64| m as f64 / 60.0;
        let reach_km = |m: i64| (120.0 * hours(m))
            .max(300.0 * (hours(m) - 0.5).max(0.0))
            .max(800.0 * (hours(m) - 1.5).max(0.0));
        if let Some(m) = (1..minutes).rev().find(|m| reach_km(*m) + 2.0 < km) {
            let v = CheckIn::at_the_customer().left_previous_visit_km_away(km, m).verdict();
            prop_assert!(v.has_flag(&FlagKind::ImpossibleTravel), "{} km in {} min", km, m);
        }
    }

    /// With a credible clock, the report is on time exactly when the corrected submission
    /// precedes the local deadline, in any zone and however late it synced.
    #[test]
    fn credible_reports_are_judged_by_their_corrected_time(
        tz in prop::sample::select(vec![
            "Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata",
        ]),
        day in 0i64..730,
        secs_from_deadline in -7_200i64..7_200,
        skew_s in -300i64..=300,
        sync_delay_s in 0i64..20_000,
    ) {
        let day = date("2026-01-01").naive() + chrono::Duration::days(day);
        let mut r = Report::for_day(&day.to_string(), tz);
        let deadline = r.local("18:00:00");
        let true_time = deadline.plus_secs(secs_from_deadline);
        let received = true_time.plus_secs(sync_delay_s);
        r = r
            .submitted_at(true_time.plus_secs(skew_s))
            .received_at(received)
            .device_clock_off_secs(skew_s);
        let v = r.verdict();
        prop_assert_eq!(v.basis, SubmissionBasis::DeviceClock);
        prop_assert_eq!(v.effective_submitted_at, Some(true_time));
        prop_assert_eq!(v.deadline, deadline);
        let expected = if true_time < deadline { ReportState::OnTime } else { ReportState::Late };
        prop_assert_eq!(v.state, expected);
    }

    /// Every planned customer and every visit appears exactly once, whatever the order.
    #[test]
    fn plan_versus_actual_accounts_for_everything(
        planned in prop::collection::vec(0usize..5, 0..8),
        visited in prop::collection::vec((0usize..5, 0i64..600), 0..8),
    ) {
        let customers: Vec<RecordId> = (0..5).map(|_| RecordId::new()).collect();
        let plan: Vec<RecordId> = planned.iter().map(|&i| customers[i]).collect();
        let start = t("2026-03-10T09:00:00+08:00");
        let visits: Vec<ActualVisit> = visited
            .iter()
            .map(|&(i, minute)| ActualVisit {
                visit_id: RecordId::new(),
                customer_id: customers[i],
                checked_in_at: start.plus_secs(minute * 60),
            })
            .collect();
        let result = compare_plan(&plan, &visits);
        let done = result.count(&PlanOutcome::PlannedDone);
        prop_assert_eq!(done + result.count(&PlanOutcome::PlannedNotDone), plan.len());
        prop_assert_eq!(done + result.count(&PlanOutcome::Unplanned), visits.len());
        let mut reversed = visits.clone();
        reversed.reverse();
        prop_assert_eq!(compare_plan(&plan, &reversed), result);
    }
}
