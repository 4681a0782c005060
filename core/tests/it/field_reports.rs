//! Daily reports written on a rep's phone, judged against the 18:00 deadline in the rep's own
//! zone by the phone and again by the server on receipt.

use fieldsales_core::authority::Outcome;
use fieldsales_core::engine::follow_ups::NewFollowUp;
use fieldsales_core::engine::reports::ReportSections;
use fieldsales_core::engine::tasks::NewTask;
use fieldsales_core::fieldwork::report::ReportDay;
use fieldsales_core::fieldwork::{Judge, ReportState, SubmissionBasis};
use fieldsales_core::record::follow_up::FollowUpMethod;
use fieldsales_core::record::task::TaskKind;
use fieldsales_core::record::{DailyReport, Kind, RecordRef};
use fieldsales_core::testing::{shanghai, yuan};
use fieldsales_core::{Error, LocalDate, Money, RecordId};

use super::field_world::{Field, measured, t};

fn day(s: &str) -> LocalDate {
    s.parse().unwrap()
}

/// The rep drafts and submits the report of `date` at the phone's current time.
fn submit(field: &mut Field, date: &str) -> DailyReport {
    let draft = field.rep.report_draft(day(date)).unwrap();
    field.rep.submit_report(draft.header.id).unwrap()
}

/// The server receives the rep's push now, measuring the phone `offset_s` ahead.
fn receive(field: &Field, report: DailyReport, offset_s: Option<i64>) -> DailyReport {
    let rep = field.rep.me().clone();
    let outcome = field
        .review_as(
            &rep,
            offset_s.map(|o| measured(field.now(), o)),
            None,
            report.clone(),
        )
        .unwrap();
    Field::kept(outcome, report)
}

/// Submits at `local` (an RFC 3339 instant) with a correct clock, received at once.
fn judged_when_submitted_at(tz: &str, date: &str, local: &str) -> DailyReport {
    let mut field = Field::in_zone(local, tz);
    field.rep_clock_measured(0);
    let submitted = submit(&mut field, date);
    receive(&field, submitted, Some(0))
}

fn state(r: &DailyReport) -> ReportState {
    r.verdict.as_ref().unwrap().state.clone()
}

#[test]
fn in_shanghai_a_report_at_17_59_59_is_on_time_and_at_18_00_01_late() {
    let on_time =
        judged_when_submitted_at("Asia/Shanghai", "2026-03-10", "2026-03-10T17:59:59+08:00");
    assert_eq!(state(&on_time), ReportState::OnTime);
    assert_eq!(on_time.verdict.as_ref().unwrap().judged_by, Judge::Server);
    assert_eq!(on_time.verdict.as_ref().unwrap().penalty, yuan(0));

    let late = judged_when_submitted_at("Asia/Shanghai", "2026-03-10", "2026-03-10T18:00:01+08:00");
    assert_eq!(state(&late), ReportState::Late);
    assert_eq!(late.verdict.as_ref().unwrap().penalty, yuan(10));
}

#[test]
fn in_new_york_on_the_day_clocks_spring_forward_the_deadline_is_18_00_edt() {
    // 2026-03-08: 02:00 EST becomes 03:00 EDT; 18:00 that evening is 22:00 UTC.
    let on_time = judged_when_submitted_at(
        "America/New_York",
        "2026-03-08",
        "2026-03-08T17:59:59-04:00",
    );
    assert_eq!(state(&on_time), ReportState::OnTime);
    let late = judged_when_submitted_at(
        "America/New_York",
        "2026-03-08",
        "2026-03-08T18:00:01-04:00",
    );
    assert_eq!(state(&late), ReportState::Late);
    assert_eq!(
        late.verdict.as_ref().unwrap().deadline,
        t("2026-03-08T22:00:00Z")
    );
}

#[test]
fn in_new_york_on_the_day_clocks_fall_back_the_deadline_is_18_00_est() {
    // 2026-11-01: 02:00 EDT becomes 01:00 EST; 18:00 that evening is 23:00 UTC.
    let on_time = judged_when_submitted_at(
        "America/New_York",
        "2026-11-01",
        "2026-11-01T17:59:59-05:00",
    );
    assert_eq!(state(&on_time), ReportState::OnTime);
    let late = judged_when_submitted_at(
        "America/New_York",
        "2026-11-01",
        "2026-11-01T18:00:01-05:00",
    );
    assert_eq!(state(&late), ReportState::Late);
    assert_eq!(
        late.verdict.as_ref().unwrap().deadline,
        t("2026-11-01T23:00:00Z")
    );
}

#[test]
fn written_offline_at_17_55_with_a_credible_clock_and_synced_at_20_00_is_on_time() {
    let mut field = Field::at("2026-03-10T12:00:00+08:00");
    field.rep_clock_measured(1);
    field.set_time("2026-03-10T17:55:00+08:00");
    let submitted = submit(&mut field, "2026-03-10");
    // The phone already knows: its clock was shown right at the last sync.
    assert_eq!(state(&submitted), ReportState::OnTime);
    assert_eq!(submitted.verdict.as_ref().unwrap().judged_by, Judge::Device);

    field.set_time("2026-03-10T20:00:00+08:00");
    let judged = receive(&field, submitted, Some(1));
    let verdict = judged.verdict.clone().unwrap();
    assert_eq!(verdict.state, ReportState::OnTime);
    assert_eq!(verdict.basis, SubmissionBasis::DeviceClock);
    assert_eq!(verdict.judged_by, Judge::Server);
    assert_eq!(judged.received_at, Some(t("2026-03-10T20:00:00+08:00")));
}

#[test]
fn written_offline_on_a_clock_two_hours_off_is_judged_by_its_receipt_and_late() {
    // The phone's clock reads 17:55 when it is really 19:55.
    let mut field = Field::at("2026-03-10T17:55:00+08:00");
    let submitted = submit(&mut field, "2026-03-10");
    assert_eq!(
        state(&submitted),
        ReportState::AwaitingReceipt,
        "a phone that never measured its clock cannot judge itself"
    );
    field.set_time("2026-03-10T20:00:00+08:00");
    let judged = receive(&field, submitted, Some(-2 * 3600));
    let verdict = judged.verdict.clone().unwrap();
    assert_eq!(verdict.state, ReportState::Late);
    assert_eq!(verdict.basis, SubmissionBasis::ServerReceipt);
    assert_eq!(
        verdict.effective_submitted_at,
        Some(t("2026-03-10T20:00:00+08:00"))
    );
    assert_eq!(verdict.penalty, yuan(10));
}

#[test]
fn a_day_without_a_report_is_open_then_overdue_then_missing_with_its_penalty() {
    let mut field = Field::at("2026-03-10T12:00:00+08:00");
    let rep = field.rep.me().user_id;
    let status = |field: &Field| {
        let unfiled = field.manager.unfiled_reports(day("2026-03-10")).unwrap();
        assert_eq!(unfiled.len(), 1, "{unfiled:?}");
        assert_eq!(unfiled[0].user_id, rep);
        unfiled[0].day.clone()
    };
    assert!(matches!(status(&field), ReportDay::Open { .. }));
    field.set_time("2026-03-10T18:30:00+08:00");
    assert!(matches!(status(&field), ReportDay::Overdue { .. }));
    field.set_time("2026-03-11T00:00:01+08:00");
    let ReportDay::Missing(verdict) = status(&field) else {
        panic!("expected missing");
    };
    assert_eq!(verdict.state, ReportState::Missing);
    assert_eq!(verdict.penalty, yuan(30));

    // Filing the next morning does not turn a missing report into a cheaper late one.
    field.set_time("2026-03-11T09:00:00+08:00");
    field.rep_clock_measured(0);
    let submitted = submit(&mut field, "2026-03-10");
    let judged = receive(&field, submitted.clone(), Some(0));
    assert_eq!(state(&judged), ReportState::Missing);
    assert_eq!(judged.verdict.unwrap().penalty, yuan(30));

    // Once the manager's phone has the report, the rep is no longer unfiled.
    crate::send(
        field.rep.store(),
        field.manager.store_mut(),
        submitted.header.id,
    );
    assert!(
        field
            .manager
            .unfiled_reports(day("2026-03-10"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_rep_sees_nobody_elses_missing_reports() {
    let field = Field::at("2026-03-11T09:00:00+08:00");
    assert!(
        field
            .rep
            .unfiled_reports(day("2026-03-10"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_manager_comments_reads_and_marks_a_report_false_and_only_a_manager_can() {
    let mut field = Field::at("2026-03-10T17:30:00+08:00");
    field.rep_clock_measured(0);
    let submitted = submit(&mut field, "2026-03-10");
    let id = submitted.header.id;
    let received = receive(&field, submitted, Some(0));
    // The server's copy, with its amendment, reaches the manager's phone.
    field.upload(id);
    let server_copy = received.clone();
    field
        .server
        .update::<DailyReport>(id, |r| {
            r.received_at = server_copy.received_at;
            r.verdict = server_copy.verdict;
            Ok(())
        })
        .unwrap();
    crate::send(&field.server, field.manager.store_mut(), id);

    field.manager.comment_report(id, "客户名称写错了").unwrap();
    let read = field.manager.mark_report_read(id).unwrap();
    assert!(read.read_by.contains(&field.manager.me().user_id));
    let err = field.manager.mark_report_false(id, "   ").unwrap_err();
    assert!(matches!(&err, Error::RuleViolated { rule, .. } if rule == "report.reason_required"));
    let marked = field
        .manager
        .mark_report_false(id, "the 3 visits listed never happened")
        .unwrap();
    assert_eq!(state(&marked), ReportState::False);

    let manager = field.manager.me().clone();
    let outcome = field
        .review_as(
            &manager,
            None,
            Some(received.clone().into()),
            marked.clone(),
        )
        .unwrap();
    let kept = Field::kept(outcome, marked.clone());
    let verdict = kept.verdict.clone().unwrap();
    assert_eq!(verdict.state, ReportState::False);
    assert_eq!(verdict.penalty, yuan(50));
    assert_eq!(verdict.judged_by, Judge::Server);
    assert_eq!(kept.comments.len(), 1);

    // The rep's phone cannot mark its own report false, nor lift the manager's mark.
    let rep = field.rep.me().clone();
    let mut self_marked = received.clone();
    self_marked.marked_false = marked.marked_false.clone();
    let err = field
        .review_as(&rep, None, Some(received.into()), self_marked)
        .unwrap_err();
    assert_eq!(err.rule, "permission.denied");
    assert_eq!(err.field.as_deref(), Some("mark_report_false"));
    let mut lifted = kept.clone();
    lifted.marked_false = None;
    let err = field
        .review_as(&rep, None, Some(kept.into()), lifted)
        .unwrap_err();
    assert_eq!(err.rule, "permission.denied");
    assert_eq!(err.field.as_deref(), Some("mark_report_false"));

    // A rep cannot comment as a manager either.
    let err = field.rep.comment_report(id, "看起来不错").unwrap_err();
    assert!(matches!(err, Error::NotAllowed(_)), "{err:?}");
}

#[test]
fn a_received_submission_cannot_be_moved_and_received_at_is_the_servers() {
    let mut field = Field::at("2026-03-10T19:00:00+08:00");
    field.rep_clock_measured(0);
    let mut submitted = submit(&mut field, "2026-03-10");
    // A tampered app claims the server received it at noon.
    submitted.received_at = Some(t("2026-03-10T12:00:00+08:00"));
    let judged = receive(&field, submitted, Some(0));
    assert_eq!(judged.received_at, Some(t("2026-03-10T19:00:00+08:00")));
    assert_eq!(state(&judged), ReportState::Late);

    let mut backdated = judged.clone();
    backdated.submitted_at = Some(t("2026-03-10T17:00:00+08:00"));
    let rep = field.rep.me().clone();
    let err = field
        .review_as(
            &rep,
            Some(measured(field.now(), 0)),
            Some(judged.into()),
            backdated,
        )
        .unwrap_err();
    assert_eq!(err.rule, "immutable.report_submission");
}

#[test]
fn the_draft_lists_exactly_the_days_visits_follow_ups_and_tasks_in_the_reps_zone() {
    // A rep in New York: 23:30 on the 9th is already the 10th in UTC and in Shanghai.
    let mut field = Field::in_zone("2026-03-09T23:30:00-04:00", "America/New_York");
    let c = field.customer("Acme Corp", Some(shanghai()));
    let visit_at = |field: &mut Field, at: &str| -> RecordId {
        field.set_time(at);
        let v = field.check_in(c, shanghai(), 10.0, 5.0).unwrap().visit;
        field.clock.advance_millis(20 * 60_000);
        field.rep.check_out(v.header.id, None).unwrap();
        v.header.id
    };
    let day_before = visit_at(&mut field, "2026-03-09T23:30:00-04:00");
    let early = visit_at(&mut field, "2026-03-10T00:30:00-04:00");
    let late = visit_at(&mut field, "2026-03-10T23:30:00-04:00");
    let day_after = visit_at(&mut field, "2026-03-11T00:10:00-04:00");

    field.set_time("2026-03-11T01:00:00-04:00");
    let follow_up_at = |field: &mut Field, at: &str| -> RecordId {
        field
            .rep
            .log_follow_up(NewFollowUp {
                subject: RecordRef {
                    kind: Kind::Customer,
                    id: c,
                },
                method: FollowUpMethod::Call,
                occurred_at: Some(t(at)),
                text: format!("call at {at}"),
                next_step: None,
                visit_id: None,
            })
            .unwrap()
            .header
            .id
    };
    let call_before = follow_up_at(&mut field, "2026-03-09T23:59:00-04:00");
    let call_in = follow_up_at(&mut field, "2026-03-10T12:00:00-04:00");
    let call_after = follow_up_at(&mut field, "2026-03-11T00:00:00-04:00");

    field.set_time("2026-03-10T16:00:00-04:00");
    let rep = field.rep.me().user_id;
    let task = field
        .rep
        .create_task(NewTask {
            assignee: rep,
            kind: TaskKind::Task,
            title: "send the quotation".into(),
            description: String::new(),
            due_at: Some(t("2026-03-10T17:00:00-04:00")),
            start_at: None,
            end_at: None,
            reminder_at: None,
            related: None,
        })
        .unwrap();
    field.rep.complete_task(task.header.id).unwrap();

    field.set_time("2026-03-11T08:00:00-04:00");
    let draft = field.rep.report_draft(day("2026-03-10")).unwrap();
    assert_eq!(draft.zone.name(), "America/New_York");
    assert_eq!(draft.visit_ids, vec![early, late]);
    assert_eq!(draft.follow_up_ids, vec![call_in]);
    assert_eq!(draft.task_ids, vec![task.header.id]);
    for excluded in [day_before, day_after, call_before, call_after] {
        assert!(!draft.visit_ids.contains(&excluded) && !draft.follow_up_ids.contains(&excluded));
    }
    let summary = draft.summary.as_str();
    assert!(summary.contains("Visits (2):"), "{summary}");
    assert!(summary.contains("00:30–00:50 Acme Corp"), "{summary}");
    assert!(summary.contains("send the quotation"), "{summary}");

    // Asking again gives the same draft; the rep edits it and submits it.
    let again = field.rep.report_draft(day("2026-03-10")).unwrap();
    assert_eq!(again.header.id, draft.header.id);
    let edited = field
        .rep
        .edit_report(
            draft.header.id,
            ReportSections {
                problems: Some("交付周期偏长".into()),
                plan_tomorrow: Some("准备报价".into()),
                ..ReportSections::default()
            },
        )
        .unwrap();
    assert_eq!(edited.problems.as_str(), "交付周期偏长");
    assert_eq!(edited.summary.as_str(), summary);
}

#[test]
fn penalties_come_from_the_configuration() {
    let mut settings = fieldsales_core::fieldwork::FieldworkSettings::default();
    settings.daily_report.late_penalty = 25;
    let mut field = Field::with_settings("2026-03-10T18:30:00+08:00", settings);
    field.rep_clock_measured(0);
    let submitted = submit(&mut field, "2026-03-10");
    let judged = receive(&field, submitted, Some(0));
    assert_eq!(
        judged.verdict.unwrap().penalty,
        Money::major(25, yuan(0).currency)
    );
}

#[test]
fn the_server_accepts_a_draft_without_judging_it() {
    let mut field = Field::at("2026-03-10T12:00:00+08:00");
    let draft = field.rep.report_draft(day("2026-03-10")).unwrap();
    let rep = field.rep.me().clone();
    let outcome = field.review_as(&rep, None, None, draft).unwrap();
    assert_eq!(outcome, Outcome::Accept);
}
