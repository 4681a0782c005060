use super::*;
use crate::money::{Currency, Money};

fn cny(units: i64) -> Money {
    Money::major(units, Currency::CNY)
}

#[test]
fn a_shanghai_report_at_17_59_59_is_on_time() {
    let v = Report::for_day("2026-03-10", "Asia/Shanghai")
        .submitted_at_local("17:59:59")
        .verdict();
    assert_eq!(v.state, ReportState::OnTime);
    assert_eq!(v.penalty, cny(0));
    assert_eq!(v.deadline, t("2026-03-10T18:00:00+08:00"));
    assert_eq!(v.basis, SubmissionBasis::DeviceClock);
}

#[test]
fn a_shanghai_report_at_18_00_01_is_late_and_costs_10() {
    let v = Report::for_day("2026-03-10", "Asia/Shanghai")
        .submitted_at_local("18:00:01")
        .verdict();
    assert_eq!(v.state, ReportState::Late);
    assert_eq!(v.penalty, cny(10));
}

#[test]
fn a_report_at_exactly_18_00_is_no_longer_before_the_deadline() {
    let v = Report::for_day("2026-03-10", "Asia/Shanghai")
        .submitted_at_local("18:00:00")
        .verdict();
    assert_eq!(v.state, ReportState::Late);
}

#[test]
fn new_york_deadlines_follow_daylight_saving_both_ways() {
    // 2026-03-08 springs forward (18:00 is EDT, UTC−4); 2026-11-01 falls back (EST, UTC−5);
    // an ordinary winter day for comparison.
    for (day, deadline) in [
        ("2026-03-08", "2026-03-08T22:00:00Z"),
        ("2026-11-01", "2026-11-01T23:00:00Z"),
        ("2026-01-15", "2026-01-15T23:00:00Z"),
    ] {
        let r = Report::for_day(day, "America/New_York");
        let on_time = r.submitted_at_local("17:59:59").verdict();
        assert_eq!(on_time.state, ReportState::OnTime, "{day}");
        assert_eq!(on_time.deadline, t(deadline), "{day}");

        let late = Report::for_day(day, "America/New_York")
            .submitted_at_local("18:00:01")
            .verdict();
        assert_eq!(late.state, ReportState::Late, "{day}");
        assert_eq!(late.effective_submitted_at, Some(t(deadline).plus_secs(1)));
    }
}

#[test]
fn written_offline_at_17_55_with_a_credible_clock_and_synced_at_20_00_is_on_time() {
    let r = Report::for_day("2026-03-10", "Asia/Shanghai");
    let written = r.local("17:55:00");
    let synced = r.local("20:00:00");
    let v = r
        .submitted_at(written)
        .received_at(synced)
        .device_clock_off_secs(3)
        .verdict();
    assert_eq!(v.state, ReportState::OnTime);
    assert_eq!(v.basis, SubmissionBasis::DeviceClock);
    // The device ran 3 s ahead, so the true submission was at 17:54:57.
    assert_eq!(v.effective_submitted_at, Some(written.plus_secs(-3)));
    assert_eq!(v.judged_at, synced);
}

#[test]
fn the_same_report_from_a_clock_two_hours_behind_is_judged_by_receipt_and_is_late() {
    // Really 19:55; the phone, set back two hours, says 17:55.
    let r = Report::for_day("2026-03-10", "Asia/Shanghai");
    let phone_says = r.local("17:55:00");
    let synced = r.local("20:00:00");
    let v = r
        .submitted_at(phone_says)
        .received_at(synced)
        .device_clock_off_secs(-2 * 3600)
        .verdict();
    assert_eq!(v.basis, SubmissionBasis::ServerReceipt);
    assert_eq!(v.effective_submitted_at, Some(synced));
    assert_eq!(v.state, ReportState::Late);
    assert_eq!(v.penalty, cny(10));
}

#[test]
fn a_clock_never_measured_is_not_credible() {
    let r = Report::for_day("2026-03-10", "Asia/Shanghai");
    let (written, synced) = (r.local("17:55:00"), r.local("18:30:00"));
    let v = r
        .submitted_at(written)
        .received_at(synced)
        .clock_never_measured()
        .verdict();
    assert_eq!(v.basis, SubmissionBasis::ServerReceipt);
    assert_eq!(v.state, ReportState::Late);
}

#[test]
fn a_device_time_after_the_receipt_is_not_believed() {
    // Offset looks fine, yet the phone claims it submitted an hour after the server got it.
    let r = Report::for_day("2026-03-10", "Asia/Shanghai");
    let (claimed, received) = (r.local("19:00:00"), r.local("17:00:00"));
    let v = r.submitted_at(claimed).received_at(received).verdict();
    assert_eq!(v.basis, SubmissionBasis::ServerReceipt);
    assert_eq!(v.state, ReportState::OnTime);
}

#[test]
fn the_phone_judges_at_once_when_its_clock_is_credible() {
    let r = Report::for_day("2026-03-10", "Asia/Shanghai");
    let written = r.local("17:55:00");
    let v = r.submitted_at(written).not_yet_synced(written).verdict();
    assert_eq!(v.state, ReportState::OnTime);
}

#[test]
fn the_phone_cannot_judge_an_unsynced_report_from_a_doubtful_clock() {
    let r = Report::for_day("2026-03-10", "Asia/Shanghai");
    let written = r.local("17:55:00");
    let v = r
        .submitted_at(written)
        .not_yet_synced(written)
        .device_clock_off_secs(3600)
        .verdict();
    assert_eq!(v.state, ReportState::AwaitingReceipt);
    assert_eq!(v.basis, SubmissionBasis::Unavailable);
    assert_eq!(v.effective_submitted_at, None);
    assert_eq!(v.penalty, cny(0));
}

#[test]
fn no_report_by_the_next_day_is_missing_and_costs_30() {
    let (day, tz) = (date("2026-03-10"), zone("Asia/Shanghai"));
    let s = DailyReportSettings::default();
    let status = |now: &str| report_day_status(day, &tz, None, &s, t(now), Judge::Server);

    assert_eq!(
        status("2026-03-10T17:00:00+08:00"),
        ReportDay::Open {
            deadline: t("2026-03-10T18:00:00+08:00")
        }
    );
    assert_eq!(
        status("2026-03-10T23:59:59+08:00"),
        ReportDay::Overdue {
            deadline: t("2026-03-10T18:00:00+08:00"),
            missing_at: t("2026-03-11T00:00:00+08:00"),
        }
    );
    let ReportDay::Missing(v) = status("2026-03-11T00:00:00+08:00") else {
        panic!("the day has passed");
    };
    assert_eq!(v.state, ReportState::Missing);
    assert_eq!(v.penalty, cny(30));
    assert_eq!(v.basis, SubmissionBasis::Unavailable);
    assert_eq!(v.judged_at, t("2026-03-11T00:00:00+08:00"));
}

#[test]
fn a_day_is_judged_in_the_reps_own_zone() {
    // At 18:30 in Shanghai it is 05:30 in New York: the New York rep's day is wide open.
    let now = t("2026-03-10T18:30:00+08:00");
    let s = DailyReportSettings::default();
    let shanghai = report_day_status(
        date("2026-03-10"),
        &zone("Asia/Shanghai"),
        None,
        &s,
        now,
        Judge::Server,
    );
    let new_york = report_day_status(
        date("2026-03-10"),
        &zone("America/New_York"),
        None,
        &s,
        now,
        Judge::Server,
    );
    assert!(matches!(shanghai, ReportDay::Overdue { .. }));
    assert!(matches!(new_york, ReportDay::Open { .. }));
}

#[test]
fn filing_the_morning_after_does_not_turn_missing_into_late() {
    let r = Report::for_day("2026-03-10", "Asia/Shanghai");
    let next_morning = t("2026-03-11T09:00:00+08:00");
    let v = r
        .submitted_at(next_morning)
        .received_at(next_morning)
        .verdict();
    assert_eq!(v.state, ReportState::Missing);
    assert_eq!(v.penalty, cny(30));
}

#[test]
fn a_company_may_accept_late_reports_until_nine_the_next_morning() {
    let mut r = Report::for_day("2026-03-10", "Asia/Shanghai");
    r.settings.daily_report.deadline = "17:30".parse().unwrap();
    r.settings.daily_report.missing_after_time = "09:00".parse().unwrap();
    let at = t("2026-03-11T08:59:00+08:00");
    let v = r.submitted_at(at).received_at(at).verdict();
    assert_eq!(v.state, ReportState::Late);
    assert_eq!(v.deadline, t("2026-03-10T17:30:00+08:00"));
}

#[test]
fn a_report_a_manager_found_false_costs_50() {
    let v = Report::for_day("2026-03-10", "Asia/Shanghai")
        .submitted_at_local("16:00:00")
        .marked_false("visits listed never happened")
        .verdict();
    assert_eq!(v.state, ReportState::False);
    assert_eq!(v.penalty, cny(50));
}

#[test]
fn marking_a_report_false_needs_a_reason() {
    let by = RecordId::new();
    let at = t("2026-03-11T09:00:00+08:00");
    assert_eq!(
        FalseMark::new(by, at, " \n "),
        Err(ReportError::EmptyFalseReason)
    );
    assert!(matches!(
        FalseMark::new(
            by,
            at,
            &"假".repeat(crate::fieldwork::report::MAX_FALSE_REASON_CHARS + 1)
        ),
        Err(ReportError::FalseReasonTooLong { .. })
    ));
    assert_eq!(
        FalseMark::new(by, at, " 虚报拜访 ").unwrap().reason,
        "虚报拜访"
    );
}

#[test]
fn a_report_submitted_before_its_day_began_is_refused() {
    let r = Report::for_day("2026-03-10", "Asia/Shanghai");
    let eve = t("2026-03-09T22:00:00+08:00");
    assert_eq!(
        r.submitted_at(eve).received_at(eve).judge(),
        Err(ReportError::SubmittedBeforeReportDay {
            date: date("2026-03-10"),
            submitted_at: eve
        })
    );
}

#[test]
fn penalties_follow_the_configured_amounts_and_currency() {
    let mut r = Report::for_day("2026-03-10", "America/New_York");
    r.settings.daily_report.currency = Currency::USD;
    r.settings.daily_report.late_penalty = 5;
    let v = r.submitted_at_local("19:00:00").verdict();
    assert_eq!(v.penalty, Money::major(5, Currency::USD));
}
