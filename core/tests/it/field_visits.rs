//! A rep checking in at customer sites on their phone, and the server judging the same
//! check-ins again on receipt.

use fieldsales_core::Error;
use fieldsales_core::authority::Outcome;
use fieldsales_core::engine::visits::CheckInRequest;
use fieldsales_core::fieldwork::geofence::destination;
use fieldsales_core::fieldwork::{FenceMode, FenceStatus, FieldworkSettings, FlagKind, Judge};
use fieldsales_core::record::Visit;
use fieldsales_core::record::customer::ProposalStatus;
use fieldsales_core::record::visit::AttachmentRef;
use fieldsales_core::testing::shanghai;

use super::field_world::{Field, measured};

const MORNING: &str = "2026-03-10T10:00:00+08:00";

fn fence_at(metres: f64, accuracy_m: f64) -> FenceStatus {
    let mut field = Field::at(MORNING);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let visit = field
        .check_in(c, shanghai(), metres, accuracy_m)
        .unwrap()
        .visit;
    visit.verdict.unwrap().fence
}

#[test]
fn a_rep_499_m_away_with_a_5_m_fix_is_inside_and_501_m_is_outside() {
    assert_eq!(fence_at(499.0, 5.0), FenceStatus::Inside);
    assert_eq!(fence_at(501.0, 5.0), FenceStatus::Outside);
}

#[test]
fn a_rep_450_m_away_with_a_100_m_fix_cannot_be_told() {
    assert_eq!(fence_at(450.0, 100.0), FenceStatus::CannotTell);
}

#[test]
fn the_first_check_in_at_a_customer_without_location_proposes_one_for_a_manager() {
    let mut field = Field::at(MORNING);
    let c = field.customer("新客户有限公司", None);
    let checked = field.check_in(c, shanghai(), 0.0, 8.0).unwrap();
    let verdict = checked.visit.verdict.clone().unwrap();
    assert_eq!(verdict.fence, FenceStatus::UnableToVerify);
    assert_eq!(verdict.distance_m, None);
    assert!(checked.proposed_location);

    let customer = field.customer_record(c);
    assert_eq!(customer.location, None, "a proposal is not a location yet");
    let proposal = customer.location_proposal.clone().unwrap();
    assert_eq!(proposal.status, ProposalStatus::Pending);
    assert_eq!(proposal.visit_id, Some(checked.visit.header.id));

    // The rep cannot approve their own proposal.
    let err = field.rep.approve_location(c).unwrap_err();
    assert!(matches!(err, Error::NotAllowed(_)), "{err:?}");

    // The proposal reaches the manager, who approves it; the next check-in is judged by it.
    crate::send(field.rep.store(), field.manager.store_mut(), c);
    let approved = field.manager.approve_location(c).unwrap();
    assert_eq!(approved.location, Some(proposal.point));
    let again = field.manager.approve_location(c).unwrap_err();
    assert!(
        matches!(&again, Error::RuleViolated { rule, .. } if rule == "location.already_decided"),
        "{again:?}"
    );
    crate::send(field.manager.store(), field.rep.store_mut(), c);
    field.clock.advance_millis(3 * 3600 * 1000);
    let next = field.check_in(c, shanghai(), 30.0, 8.0).unwrap();
    assert_eq!(next.visit.verdict.unwrap().fence, FenceStatus::Inside);
    assert!(!next.proposed_location);
}

#[test]
fn a_manager_rejects_a_proposed_location_with_a_reason() {
    let mut field = Field::at(MORNING);
    let c = field.customer("新客户有限公司", None);
    field.check_in(c, shanghai(), 0.0, 8.0).unwrap();
    crate::send(field.rep.store(), field.manager.store_mut(), c);
    let err = field.manager.reject_location(c, "  ").unwrap_err();
    assert!(matches!(&err, Error::RuleViolated { rule, .. } if rule == "location.reason_required"));
    let rejected = field
        .manager
        .reject_location(c, "the rep stood at the metro station")
        .unwrap();
    assert_eq!(rejected.location, None);
    assert_eq!(
        rejected.location_proposal.unwrap().status,
        ProposalStatus::Rejected
    );
}

#[test]
fn a_mock_location_is_flagged_and_recorded_in_soft_mode() {
    let mut field = Field::at(MORNING);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let mut fix = field.fix(shanghai(), 20.0, 5.0);
    fix.mock = true;
    let visit = field
        .rep
        .check_in(CheckInRequest {
            customer_id: c,
            position: fix,
            note: String::new(),
            photos: Vec::new(),
        })
        .unwrap()
        .visit;
    let verdict = visit.verdict.unwrap();
    assert!(verdict.has_flag(&FlagKind::MockLocation), "{verdict:?}");
    assert_eq!(verdict.judged_by, Judge::Device);
}

#[test]
fn travelling_300_km_in_the_20_minutes_after_checking_out_is_impossible() {
    let mut field = Field::at("2026-03-10T09:00:00+08:00");
    let far_site = destination(shanghai(), 0.0, 300_000.0);
    let far = field.customer("南京客户", Some(far_site));
    let here = field.customer("华为技术有限公司", Some(shanghai()));
    let first = field.check_in(far, far_site, 30.0, 10.0).unwrap().visit;
    field.set_time("2026-03-10T09:40:00+08:00");
    field.rep.check_out(first.header.id, None).unwrap();
    field.set_time("2026-03-10T10:00:00+08:00");
    let second = field.check_in(here, shanghai(), 0.0, 10.0).unwrap().visit;
    let verdict = second.verdict.unwrap();
    // Measured from the check-out (an hour from the check-in would look like a train).
    let flag = verdict.flag(&FlagKind::ImpossibleTravel).unwrap();
    assert!(flag.observed.unwrap() > 850.0, "{flag:?}");
    assert_eq!(flag.limit, Some(120.0));
}

#[test]
fn hard_mode_refuses_a_check_in_outside_the_fence_and_records_nothing() {
    let mut settings = FieldworkSettings::default();
    settings.geofence.mode = FenceMode::Hard;
    let mut field = Field::with_settings(MORNING, settings);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let err = field.check_in(c, shanghai(), 800.0, 10.0).unwrap_err();
    assert!(
        matches!(&err, Error::RuleViolated { rule, .. } if rule == "geofence.outside"),
        "{err:?}"
    );
    assert!(
        field
            .rep
            .visits_on(
                field.rep.me().user_id,
                field.now().local_date(&field.rep.me().zone)
            )
            .unwrap()
            .is_empty()
    );

    // The app can show why before the rep confirms.
    let fix = field.fix(shanghai(), 800.0, 10.0);
    let (verdict, refusal) = field.rep.preview_check_in(c, &fix).unwrap();
    assert_eq!(verdict.fence, FenceStatus::Outside);
    assert!(refusal.is_some());

    // Inside the fence, hard mode records the visit.
    assert!(field.check_in(c, shanghai(), 100.0, 10.0).is_ok());
}

#[test]
fn soft_mode_records_a_check_in_outside_the_fence() {
    let mut field = Field::at(MORNING);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let visit = field.check_in(c, shanghai(), 800.0, 10.0).unwrap().visit;
    assert_eq!(visit.verdict.unwrap().fence, FenceStatus::Outside);
}

#[test]
fn checking_out_after_three_minutes_is_a_short_visit_and_records_the_duration() {
    let mut field = Field::at(MORNING);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let visit = field.check_in(c, shanghai(), 20.0, 5.0).unwrap().visit;
    field.clock.advance_millis(3 * 60_000);
    let closed = field.rep.check_out(visit.header.id, None).unwrap();
    assert_eq!(closed.duration_secs(), Some(180));
    assert!(closed.verdict.unwrap().has_flag(&FlagKind::ShortVisit));
    let twice = field.rep.check_out(visit.header.id, None).unwrap_err();
    assert!(
        matches!(&twice, Error::RuleViolated { rule, .. } if rule == "visit.already_checked_out")
    );
}

#[test]
fn checking_in_again_at_the_same_customer_right_after_checking_out_is_flagged() {
    let mut field = Field::at(MORNING);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let other = field.customer("另一家客户", Some(destination(shanghai(), 180.0, 2_000.0)));
    let first = field.check_in(c, shanghai(), 20.0, 5.0).unwrap().visit;
    field.clock.advance_millis(30 * 60_000);
    field.rep.check_out(first.header.id, None).unwrap();
    // A quick stop at another customer in between does not hide the repeat.
    field.clock.advance_millis(5 * 60_000);
    let between = field
        .check_in(other, destination(shanghai(), 180.0, 2_000.0), 0.0, 5.0)
        .unwrap()
        .visit;
    field.clock.advance_millis(5 * 60_000);
    field.rep.check_out(between.header.id, None).unwrap();
    field.clock.advance_millis(5 * 60_000);
    let again = field.check_in(c, shanghai(), 20.0, 5.0).unwrap().visit;
    let flag = again
        .verdict
        .unwrap()
        .flag(&FlagKind::RepeatCheckIn)
        .cloned()
        .unwrap();
    assert_eq!(flag.observed, Some(15.0));
}

#[test]
fn the_same_photo_on_two_visits_is_flagged() {
    let mut field = Field::at(MORNING);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let other = field.customer("另一家客户", Some(shanghai()));
    let photo = AttachmentRef {
        sha256: "ab".repeat(32),
        size: 2_000_000,
        mime: "image/jpeg".into(),
    };
    let first = field.check_in(c, shanghai(), 20.0, 5.0).unwrap().visit;
    let first = field
        .rep
        .add_visit_photo(first.header.id, photo.clone())
        .unwrap();
    assert!(!first.verdict.unwrap().has_flag(&FlagKind::ReusedPhoto));
    field.clock.advance_millis(2 * 3600 * 1000);
    let second = field
        .rep
        .check_in(CheckInRequest {
            customer_id: other,
            position: field.fix(shanghai(), 20.0, 5.0),
            note: String::new(),
            photos: vec![photo],
        })
        .unwrap()
        .visit;
    assert!(second.verdict.unwrap().has_flag(&FlagKind::ReusedPhoto));
}

#[test]
fn a_photo_over_the_configured_size_is_refused() {
    let mut settings = FieldworkSettings::default();
    settings.visit.max_photo_bytes = 1_000;
    let mut field = Field::with_settings(MORNING, settings);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let visit = field.check_in(c, shanghai(), 20.0, 5.0).unwrap().visit;
    let err = field
        .rep
        .add_visit_photo(
            visit.header.id,
            AttachmentRef {
                sha256: "cd".repeat(32),
                size: 1_001,
                mime: "image/jpeg".into(),
            },
        )
        .unwrap_err();
    assert!(matches!(&err, Error::RuleViolated { rule, .. } if rule == "attachment.too_large"));
}

#[test]
fn the_server_overrules_a_phone_that_claims_inside_3_km_away() {
    let mut field = Field::at(MORNING);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let honest = field.check_in(c, shanghai(), 3_000.0, 10.0).unwrap().visit;
    // A tampered app rewrites its own verdict before pushing.
    let mut forged: Visit = honest.clone();
    if let Some(v) = &mut forged.verdict {
        v.fence = FenceStatus::Inside;
        v.distance_m = Some(12.0);
        v.flags.clear();
    }
    let rep = field.rep.me().clone();
    let outcome = field
        .review_as(&rep, Some(measured(field.now(), 0)), None, forged.clone())
        .unwrap();
    assert!(matches!(outcome, Outcome::Amend(_)), "{outcome:?}");
    let kept = Field::kept(outcome, forged);
    let verdict = kept.verdict.unwrap();
    assert_eq!(verdict.fence, FenceStatus::Outside);
    assert_eq!(verdict.judged_by, Judge::Server);
    assert!((verdict.distance_m.unwrap() - 3_000.0).abs() < 0.5);
}

#[test]
fn the_server_accepts_its_own_verdict_unchanged_on_the_next_push() {
    let mut field = Field::at(MORNING);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let visit = field.check_in(c, shanghai(), 40.0, 5.0).unwrap().visit;
    let rep = field.rep.me().clone();
    let first = field
        .review_as(&rep, Some(measured(field.now(), 0)), None, visit.clone())
        .unwrap();
    let judged = Field::kept(first, visit);
    assert_eq!(judged.verdict.as_ref().unwrap().judged_by, Judge::Server);
    field.clock.advance_millis(60_000);
    let mut noted = judged.clone();
    noted.note.update("见了采购经理，约了下周演示");
    let second = field
        .review_as(&rep, None, Some(judged.into()), noted)
        .unwrap();
    assert_eq!(second, Outcome::Accept);
}

#[test]
fn the_server_rejects_an_edited_check_in_position_or_time() {
    let mut field = Field::at(MORNING);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let visit = field.check_in(c, shanghai(), 800.0, 10.0).unwrap().visit;
    let rep = field.rep.me().clone();

    let mut moved = visit.clone();
    moved.check_in.position.point = shanghai();
    let err = field
        .review_as(&rep, None, Some(visit.clone().into()), moved)
        .unwrap_err();
    assert_eq!(err.rule, "immutable.check_in");
    assert_eq!(err.field.as_deref(), Some("check_in.position"));

    let mut earlier = visit.clone();
    earlier.check_in.at = earlier.check_in.at.plus_secs(-3600);
    let err = field
        .review_as(&rep, None, Some(visit.into()), earlier)
        .unwrap_err();
    assert_eq!(err.rule, "immutable.check_in");
    assert_eq!(err.field.as_deref(), Some("check_in.at"));
}

#[test]
fn in_hard_mode_the_server_rejects_a_check_in_the_phone_should_have_refused() {
    let mut field = Field::at(MORNING);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    // The phone ran in soft mode (an old configuration); the server's is hard.
    let visit = field.check_in(c, shanghai(), 3_000.0, 10.0).unwrap().visit;
    field.settings.geofence.mode = FenceMode::Hard;
    let rep = field.rep.me().clone();
    let err = field.review_as(&rep, None, None, visit).unwrap_err();
    assert_eq!(err.rule, "check_in.refused");
}

#[test]
fn the_server_flags_a_device_clock_it_measured_far_off() {
    let mut field = Field::at(MORNING);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let visit = field.check_in(c, shanghai(), 40.0, 5.0).unwrap().visit;
    assert!(
        !visit
            .verdict
            .as_ref()
            .unwrap()
            .has_flag(&FlagKind::DeviceClockOff)
    );
    let rep = field.rep.me().clone();
    let outcome = field
        .review_as(
            &rep,
            Some(measured(field.now(), -7_200)),
            None,
            visit.clone(),
        )
        .unwrap();
    let kept = Field::kept(outcome, visit);
    assert!(kept.verdict.unwrap().has_flag(&FlagKind::DeviceClockOff));
}

#[test]
fn a_rep_finds_the_customer_moved_and_proposes_the_new_site_for_a_manager() {
    let mut field = Field::at(MORNING);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let new_site = destination(shanghai(), 90.0, 2_000.0);
    let visit = field.check_in(c, new_site, 0.0, 8.0).unwrap().visit;
    assert_eq!(visit.verdict.clone().unwrap().fence, FenceStatus::Outside);

    let proposed = field.rep.propose_location(visit.header.id).unwrap();
    assert_eq!(
        proposed.location,
        Some(shanghai()),
        "nothing moves before approval"
    );
    let p = proposed.location_proposal.clone().unwrap();
    assert_eq!(
        (p.status, p.visit_id, p.proposed_by),
        (
            ProposalStatus::Pending,
            Some(visit.header.id),
            field.rep.me().user_id
        )
    );
    let twice = field.rep.propose_location(visit.header.id).unwrap_err();
    assert!(
        matches!(&twice, Error::RuleViolated { rule, .. } if rule == "location.already_proposed"),
        "{twice:?}"
    );

    crate::send(field.rep.store(), field.manager.store_mut(), c);
    let approved = field.manager.approve_location(c).unwrap();
    assert_eq!(approved.location, Some(p.point));
    crate::send(field.manager.store(), field.rep.store_mut(), c);
    field.clock.advance_millis(3 * 3600 * 1000);
    let next = field.check_in(c, new_site, 30.0, 8.0).unwrap();
    assert_eq!(next.visit.verdict.unwrap().fence, FenceStatus::Inside);
}

#[test]
fn a_fix_too_imprecise_to_place_a_customer_cannot_be_proposed() {
    let mut field = Field::at(MORNING);
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let visit = field
        .check_in(c, destination(shanghai(), 90.0, 2_000.0), 0.0, 150.0)
        .unwrap()
        .visit;
    let err = field.rep.propose_location(visit.header.id).unwrap_err();
    assert!(
        matches!(&err, Error::RuleViolated { rule, .. } if rule == "location.fix_untrustworthy"),
        "{err:?}"
    );
    let err = field.manager.propose_location(visit.header.id).unwrap_err();
    assert!(
        matches!(err, Error::NotAllowed(_) | Error::NotFound { .. }),
        "{err:?}"
    );
}
