//! A rep moves deals along the standard chain.

use super::*;
use crate::process::fields::FieldGap;
use crate::process::stage::{StageStep, step_overdue, weighted_amount};
use crate::process::{
    MoveKind, SalesProcess, StageClock, StageMoveRefused, StageMoveRequest, check_stage_move,
    open_opportunity, stage_overdue,
};

fn move_to<'a>(to: &'a str, reason: Option<&'a str>) -> StageMoveRequest<'a> {
    StageMoveRequest {
        to,
        reason,
        by: user("rep-li"),
        at: at("2026-03-10T10:00:00+08:00"),
    }
}

#[test]
fn a_new_opportunity_opens_after_the_lead_stage() {
    let p = SalesProcess::standard();
    let entry = open_opportunity(
        &p.stages,
        Fields::new().values(),
        user("rep-li"),
        at("2026-03-01T09:00:00+08:00"),
    )
    .unwrap();
    assert_eq!(entry.to, "opportunity");
    assert_eq!(entry.from, None);
    assert_eq!(entry.kind, MoveKind::Open);
    let keys: Vec<&str> = p.open_stages().iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "lead",
            "opportunity",
            "initiation",
            "formal_communication",
            "bidding"
        ]
    );
}

#[test]
fn a_rep_with_every_initiation_field_filled_moves_the_deal_to_initiation() {
    let p = SalesProcess::standard();
    let fields = Fields::initiation_ready();
    let moved = check_stage_move(
        &p.stages,
        "opportunity",
        fields.values(),
        &move_to("initiation", None),
    )
    .unwrap();
    assert_eq!(moved.change.from.as_deref(), Some("opportunity"));
    assert_eq!(moved.change.to, "initiation");
    assert_eq!(moved.change.kind, MoveKind::Forward);
    assert_eq!(moved.change.by, user("rep-li"));
    assert_eq!(moved.change.at, at("2026-03-10T10:00:00+08:00"));
    assert!(moved.approvals.is_empty());
}

#[test]
fn skipping_from_opportunity_straight_to_formal_communication_is_refused() {
    let p = SalesProcess::standard();
    let err = check_stage_move(
        &p.stages,
        "opportunity",
        Fields::formal_ready().values(),
        &move_to("formal_communication", None),
    )
    .unwrap_err();
    assert_eq!(
        err,
        StageMoveRefused::Skips {
            from: "opportunity".into(),
            to: "formal_communication".into(),
            next: Some("initiation".into()),
        }
    );
}

#[test]
fn entering_initiation_with_the_budget_and_the_visits_missing_is_refused_naming_them() {
    let p = SalesProcess::standard();
    let mut fields = Fields::initiation_ready()
        .text("budget", "about two million")
        .list("decision_chain_visits", &["  "]);
    fields.0.remove("user_unit");
    let err = check_stage_move(
        &p.stages,
        "opportunity",
        fields.values(),
        &move_to("initiation", None),
    )
    .unwrap_err();
    let StageMoveRefused::MissingFields { stage, missing } = err else {
        panic!("expected missing fields, got {err:?}");
    };
    assert_eq!(stage, "initiation");
    let got: Vec<(&str, &FieldGap)> = missing.iter().map(|m| (m.key.as_str(), &m.gap)).collect();
    assert_eq!(
        got,
        [
            (
                "budget",
                &FieldGap::WrongType {
                    expected: crate::process::FieldType::Money
                }
            ),
            ("user_unit", &FieldGap::Empty),
            ("decision_chain_visits", &FieldGap::Empty),
        ]
    );
    assert_eq!(missing[0].label, "预算");
}

#[test]
fn moving_a_deal_back_needs_a_reason() {
    let p = SalesProcess::standard();
    let fields = Fields::formal_ready();
    let refused = check_stage_move(
        &p.stages,
        "formal_communication",
        fields.values(),
        &move_to("initiation", Some("   ")),
    )
    .unwrap_err();
    assert_eq!(
        refused,
        StageMoveRefused::ReasonRequired {
            kind: MoveKind::Back
        }
    );
    let moved = check_stage_move(
        &p.stages,
        "formal_communication",
        fields.values(),
        &move_to("initiation", Some("客户预算重新审批")),
    )
    .unwrap();
    assert_eq!(moved.change.kind, MoveKind::Back);
    assert_eq!(moved.change.reason.as_deref(), Some("客户预算重新审批"));
}

#[test]
fn a_deal_is_won_from_bidding_with_the_award_notice_and_a_reason() {
    let p = SalesProcess::standard();
    let without_notice = Fields::bidding_ready();
    let err = check_stage_move(
        &p.stages,
        "bidding",
        without_notice.values(),
        &move_to("won", Some("中标")),
    )
    .unwrap_err();
    assert!(
        matches!(err, StageMoveRefused::MissingFields { ref missing, .. } if missing[0].key == "award_notice"),
        "{err:?}"
    );

    let with_notice = without_notice.files("award_notice", &["doc-award-001"]);
    let no_reason = check_stage_move(
        &p.stages,
        "bidding",
        with_notice.values(),
        &move_to("won", None),
    )
    .unwrap_err();
    assert_eq!(
        no_reason,
        StageMoveRefused::ReasonRequired {
            kind: MoveKind::Close
        }
    );

    let won = check_stage_move(
        &p.stages,
        "bidding",
        with_notice.values(),
        &move_to("won", Some("价格与技术分第一")),
    )
    .unwrap();
    assert_eq!(won.change.kind, MoveKind::Close);
    assert_eq!(won.change.to, "won");
}

#[test]
fn a_win_cannot_be_claimed_from_an_early_stage_but_a_loss_can() {
    let p = SalesProcess::standard();
    let fields = Fields::initiation_ready().files("award_notice", &["doc-award-001"]);
    let err = check_stage_move(
        &p.stages,
        "initiation",
        fields.values(),
        &move_to("won", Some("客户口头确认")),
    )
    .unwrap_err();
    assert_eq!(
        err,
        StageMoveRefused::Skips {
            from: "initiation".into(),
            to: "won".into(),
            next: Some("formal_communication".into()),
        }
    );
    let lost = check_stage_move(
        &p.stages,
        "initiation",
        fields.values(),
        &move_to("lost", Some("项目取消")),
    )
    .unwrap();
    assert_eq!(lost.change.kind, MoveKind::Close);
}

#[test]
fn a_closed_deal_only_reopens_into_an_open_stage_with_a_reason() {
    let p = SalesProcess::standard();
    let fields = Fields::bidding_ready().files("award_notice", &["n"]);
    assert_eq!(
        check_stage_move(
            &p.stages,
            "lost",
            fields.values(),
            &move_to("won", Some("x"))
        )
        .unwrap_err(),
        StageMoveRefused::AlreadyClosed {
            stage: "lost".into()
        }
    );
    assert_eq!(
        check_stage_move(
            &p.stages,
            "lost",
            fields.values(),
            &move_to("bidding", None)
        )
        .unwrap_err(),
        StageMoveRefused::ReasonRequired {
            kind: MoveKind::Back
        }
    );
    let reopened = check_stage_move(
        &p.stages,
        "lost",
        fields.values(),
        &move_to("bidding", Some("招标重新开启")),
    )
    .unwrap();
    assert_eq!(reopened.change.kind, MoveKind::Back);
}

#[test]
fn unknown_stages_the_lead_stage_and_standing_still_are_refused() {
    let p = SalesProcess::standard();
    let v = Fields::new();
    assert_eq!(
        check_stage_move(
            &p.stages,
            "opportunity",
            v.values(),
            &move_to("signed", None)
        )
        .unwrap_err(),
        StageMoveRefused::UnknownStage {
            key: "signed".into()
        }
    );
    assert_eq!(
        check_stage_move(
            &p.stages,
            "opportunity",
            v.values(),
            &move_to("lead", Some("x"))
        )
        .unwrap_err(),
        StageMoveRefused::LeadStage {
            stage: "lead".into()
        }
    );
    assert_eq!(
        check_stage_move(
            &p.stages,
            "opportunity",
            v.values(),
            &move_to("opportunity", None)
        )
        .unwrap_err(),
        StageMoveRefused::AlreadyThere {
            stage: "opportunity".into()
        }
    );
}

#[test]
fn a_stage_step_with_an_approving_role_asks_for_that_approval_on_entry() {
    let mut p = SalesProcess::standard();
    let initiation = p.stages.iter_mut().find(|s| s.key == "initiation").unwrap();
    initiation.steps.push(StageStep {
        name: "立项审批".into(),
        actor_role: "sales_rep".into(),
        approver_role: Some("sales_manager".into()),
        fields: Vec::new(),
        overdue_after_hours: Some(48),
    });
    let moved = check_stage_move(
        &p.stages,
        "opportunity",
        Fields::initiation_ready().values(),
        &move_to("initiation", None),
    )
    .unwrap();
    assert_eq!(moved.approvals.len(), 1);
    assert_eq!(moved.approvals[0].role, "sales_manager");
    assert_eq!(moved.approvals[0].step, "立项审批");
}

fn clock<'a>(stage: &'a str, entered: &str, last: Option<&str>) -> StageClock<'a> {
    StageClock {
        stage,
        entered_at: at(entered),
        owner: user("rep-li"),
        manager: Some(user("manager-wang")),
        last_reminder_at: last.map(at),
    }
}

#[test]
fn a_deal_in_initiation_for_a_month_reminds_the_owner_and_the_manager() {
    let p = SalesProcess::standard();
    let c = clock("initiation", "2026-03-01T09:00:00+08:00", None);
    let entered = at("2026-03-01T09:00:00+08:00");
    assert_eq!(
        stage_overdue(&p.stages, &c, entered.plus_millis(30 * DAY - 1)),
        None,
        "one millisecond before thirty days the deal is on time"
    );
    let overdue = stage_overdue(&p.stages, &c, entered.plus_millis(30 * DAY)).unwrap();
    assert_eq!(overdue.stage, "initiation");
    assert_eq!(overdue.due_at, entered.plus_millis(30 * DAY));
    assert_eq!(overdue.recipients, [user("rep-li"), user("manager-wang")]);
    assert!(overdue.remind_now);

    // Reminded at the due time: the next reminder comes a day later, not before.
    let due = "2026-03-31T09:00:00+08:00";
    let reminded = clock("initiation", "2026-03-01T09:00:00+08:00", Some(due));
    let hour_later = stage_overdue(&p.stages, &reminded, at(due).plus_millis(HOUR)).unwrap();
    assert!(!hour_later.remind_now);
    let day_later = stage_overdue(&p.stages, &reminded, at(due).plus_millis(24 * HOUR)).unwrap();
    assert!(day_later.remind_now);
}

#[test]
fn the_opportunity_stage_is_overdue_after_two_weeks_and_outcomes_never() {
    let p = SalesProcess::standard();
    let c = clock("opportunity", "2026-03-01T09:00:00+08:00", None);
    let entered = at("2026-03-01T09:00:00+08:00");
    assert!(stage_overdue(&p.stages, &c, entered.plus_millis(14 * DAY - HOUR)).is_none());
    assert!(stage_overdue(&p.stages, &c, entered.plus_millis(14 * DAY)).is_some());
    let won = clock("won", "2025-01-01T09:00:00+08:00", None);
    assert!(stage_overdue(&p.stages, &won, entered).is_none());
}

#[test]
fn the_lead_assignment_step_is_overdue_after_two_hours() {
    let p = SalesProcess::standard();
    let step = &p.lead_stage().unwrap().steps[0];
    let entered = at("2026-03-01T09:00:00+08:00");
    assert_eq!(
        step_overdue(step, entered, false, entered.plus_millis(HOUR)),
        None
    );
    assert_eq!(
        step_overdue(step, entered, false, entered.plus_millis(2 * HOUR)),
        Some(entered.plus_millis(2 * HOUR))
    );
    assert_eq!(
        step_overdue(step, entered, true, entered.plus_millis(3 * HOUR)),
        None
    );
}

#[test]
fn the_forecast_weights_a_deal_by_its_stage() {
    let p = SalesProcess::standard();
    assert_eq!(
        weighted_amount(&p.stages, "formal_communication", cny(200_000)),
        Some(cny(100_000))
    );
    assert_eq!(weighted_amount(&p.stages, "nowhere", cny(1)), None);
}

#[test]
fn the_consultative_chain_runs_from_first_contact_to_a_deal() {
    let p = SalesProcess::consultative();
    let names: Vec<&str> = p.open_stages().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["初步接洽", "需求分析", "方案报价", "谈判中"]);
    let start = open_opportunity(
        &p.stages,
        Fields::new().values(),
        user("rep-li"),
        at("2026-03-01T09:00:00Z"),
    )
    .unwrap();
    assert_eq!(start.to, "initial_contact");
    let fields = Fields::new()
        .text("customer_needs", "全院移动护理")
        .list("decision_makers", &["信息科主任"]);
    let moved = check_stage_move(
        &p.stages,
        "initial_contact",
        fields.values(),
        &move_to("needs_analysis", None),
    )
    .unwrap();
    assert_eq!(moved.change.to, "needs_analysis");
    assert_eq!(p.stage("won").map(|s| s.name.as_str()), Some("成交"));
}
