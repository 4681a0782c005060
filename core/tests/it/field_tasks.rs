//! Tasks a manager gives a rep on another phone, the rep's answer travelling back, the day's
//! agenda, reminders, visit plans and follow-ups.

use fieldsales_core::engine::follow_ups::NewFollowUp;
use fieldsales_core::engine::tasks::NewTask;
use fieldsales_core::fieldwork::PlanOutcome;
use fieldsales_core::record::follow_up::FollowUpMethod;
use fieldsales_core::record::task::{TaskKind, TaskStatus};
use fieldsales_core::record::visit_plan::PlannedVisit;
use fieldsales_core::record::{Kind, Lead, RecordRef, Task};
use fieldsales_core::store::StoreRead;
use fieldsales_core::testing::{self, shanghai};
use fieldsales_core::{Error, LocalDate, RecordId, Timestamp};

use super::field_world::{Field, t};

fn day(s: &str) -> LocalDate {
    s.parse().unwrap()
}

fn task_for(assignee: RecordId, title: &str, due: Timestamp, reminder: Timestamp) -> NewTask {
    NewTask {
        assignee,
        kind: TaskKind::Task,
        title: title.into(),
        description: "客户要求本周内回复".into(),
        due_at: Some(due),
        start_at: None,
        end_at: None,
        reminder_at: Some(reminder),
        related: None,
    }
}

/// The manager gives the rep a task; it reaches the rep's phone.
fn manager_assigns(field: &mut Field, title: &str) -> RecordId {
    let rep = field.rep.me().user_id;
    let task = field
        .manager
        .create_task(task_for(
            rep,
            title,
            t("2026-03-10T17:00:00+08:00"),
            t("2026-03-10T16:30:00+08:00"),
        ))
        .unwrap();
    assert_eq!(task.status, TaskStatus::Proposed);
    assert_eq!(task.header.owner_id, Some(rep));
    assert!(
        task.header
            .shared_with
            .contains(&field.manager.me().user_id)
    );
    crate::send(field.manager.store(), field.rep.store_mut(), task.header.id);
    task.header.id
}

#[test]
fn a_task_a_manager_assigns_is_accepted_on_the_reps_phone_and_the_manager_sees_it() {
    let mut field = Field::at("2026-03-10T09:00:00+08:00");
    let id = manager_assigns(&mut field, "准备报价单");
    let accepted = field.rep.accept_task(id).unwrap();
    assert_eq!(accepted.status, TaskStatus::Open);
    crate::send_unacked(field.rep.store(), field.manager.store_mut(), id);
    let seen: Task = field.manager.store().get(id).unwrap();
    assert_eq!(seen.status, TaskStatus::Open);
}

#[test]
fn a_task_a_manager_assigns_is_rejected_with_a_reason_that_reaches_the_manager() {
    let mut field = Field::at("2026-03-10T09:00:00+08:00");
    let id = manager_assigns(&mut field, "拜访南京客户");
    let err = field.rep.reject_task(id, "  ").unwrap_err();
    assert!(matches!(&err, Error::RuleViolated { rule, .. } if rule == "task.reason_required"));
    field.rep.reject_task(id, "那天在北京出差").unwrap();
    crate::send_unacked(field.rep.store(), field.manager.store_mut(), id);
    let seen: Task = field.manager.store().get(id).unwrap();
    assert_eq!(seen.status, TaskStatus::Rejected);
    assert_eq!(seen.reject_reason.as_deref(), Some("那天在北京出差"));
    // Answered once; not again.
    let again = field.rep.accept_task(id).unwrap_err();
    assert!(matches!(&again, Error::RuleViolated { rule, .. } if rule == "task.not_proposed"));
}

#[test]
fn only_the_assignee_answers_and_only_the_assigner_deletes() {
    let mut field = Field::at("2026-03-10T09:00:00+08:00");
    let id = manager_assigns(&mut field, "准备报价单");
    assert!(matches!(
        field.manager.accept_task(id).unwrap_err(),
        Error::NotAllowed(_)
    ));
    assert!(matches!(
        field.rep.delete_task(id).unwrap_err(),
        Error::NotAllowed(_)
    ));
    let err = field.rep.complete_task(id).unwrap_err();
    assert!(matches!(&err, Error::RuleViolated { rule, .. } if rule == "task.not_open"));
    field.manager.delete_task(id).unwrap();
    crate::send_unacked(field.manager.store(), field.rep.store_mut(), id);
    assert!(field.rep.today().unwrap().tasks_due.is_empty());
}

#[test]
fn postponing_moves_the_due_time_and_the_reminder_together() {
    let mut field = Field::at("2026-03-10T09:00:00+08:00");
    let rep = field.rep.me().user_id;
    let task = field
        .rep
        .create_task(task_for(
            rep,
            "回访客户",
            t("2026-03-10T17:00:00+08:00"),
            t("2026-03-10T16:30:00+08:00"),
        ))
        .unwrap();
    assert_eq!(task.status, TaskStatus::Open);
    let moved = field
        .rep
        .postpone_task(task.header.id, t("2026-03-11T10:00:00+08:00"))
        .unwrap();
    assert_eq!(moved.due_at, Some(t("2026-03-11T10:00:00+08:00")));
    assert_eq!(moved.reminder_at, Some(t("2026-03-11T09:30:00+08:00")));
    assert_eq!(moved.postponements.len(), 1);
    assert_eq!(
        moved.postponements[0].from,
        Some(t("2026-03-10T17:00:00+08:00"))
    );
    let err = field
        .rep
        .postpone_task(task.header.id, t("2026-03-10T08:00:00+08:00"))
        .unwrap_err();
    assert!(matches!(&err, Error::RuleViolated { rule, .. } if rule == "task.postpone_to_past"));
    let done = field.rep.complete_task(task.header.id).unwrap();
    assert_eq!(done.completed_at, Some(t("2026-03-10T09:00:00+08:00")));
}

#[test]
fn today_is_the_reps_own_day_in_their_zone() {
    let mut field = Field::in_zone("2026-03-10T07:00:00-04:00", "America/New_York");
    let rep = field.rep.me().user_id;
    let c = field.customer("Acme Corp", Some(shanghai()));
    let schedule = |start: &str, title: &str| NewTask {
        assignee: rep,
        kind: TaskKind::Schedule,
        title: title.into(),
        description: String::new(),
        due_at: None,
        start_at: Some(t(start)),
        end_at: Some(t(start).plus_secs(3600)),
        reminder_at: None,
        related: None,
    };
    let morning = field
        .rep
        .create_task(schedule("2026-03-10T09:00:00-04:00", "team meeting"))
        .unwrap();
    let night = field
        .rep
        .create_task(schedule("2026-03-10T22:30:00-04:00", "call with Shanghai"))
        .unwrap();
    field
        .rep
        .create_task(schedule("2026-03-11T00:30:00-04:00", "tomorrow"))
        .unwrap();
    let due = field
        .rep
        .create_task(task_for(
            rep,
            "send quotation",
            t("2026-03-10T17:00:00-04:00"),
            t("2026-03-10T16:00:00-04:00"),
        ))
        .unwrap();
    let overdue = field
        .rep
        .create_task(task_for(
            rep,
            "expense claim",
            t("2026-03-09T17:00:00-04:00"),
            t("2026-03-09T16:00:00-04:00"),
        ))
        .unwrap();
    field
        .rep
        .plan_visits(
            rep,
            day("2026-03-10"),
            vec![PlannedVisit {
                customer_id: c,
                planned_at: None,
                purpose: Some("demo".into()),
            }],
        )
        .unwrap();

    let today = field.rep.today().unwrap();
    assert_eq!(today.date, day("2026-03-10"));
    let ids = |tasks: &[Task]| tasks.iter().map(|t| t.header.id).collect::<Vec<_>>();
    assert_eq!(
        ids(&today.schedule),
        vec![morning.header.id, night.header.id]
    );
    assert_eq!(ids(&today.tasks_due), vec![due.header.id]);
    assert_eq!(ids(&today.overdue), vec![overdue.header.id]);
    assert_eq!(today.planned_visits.len(), 1);
    assert_eq!(today.planned_visits[0].customer_id, c);
}

#[test]
fn reminders_due_in_a_window_are_listed_for_the_phone_to_schedule() {
    let mut field = Field::at("2026-03-10T09:00:00+08:00");
    let id = manager_assigns(&mut field, "准备报价单");
    let rep = field.rep.me().user_id;
    let own = field
        .rep
        .create_task(task_for(
            rep,
            "回访客户",
            t("2026-03-10T20:00:00+08:00"),
            t("2026-03-10T19:00:00+08:00"),
        ))
        .unwrap();
    let window = field
        .rep
        .reminders_due(
            t("2026-03-10T16:00:00+08:00"),
            t("2026-03-10T19:00:00+08:00"),
        )
        .unwrap();
    assert_eq!(
        window.len(),
        1,
        "the 19:00 reminder lies outside [16:00, 19:00)"
    );
    assert_eq!(window[0].record_id, id);
    assert_eq!(window[0].remind_at, t("2026-03-10T16:30:00+08:00"));
    field.rep.reject_task(id, "已转给同事").unwrap();
    let later = field
        .rep
        .reminders_due(
            t("2026-03-10T00:00:00+08:00"),
            t("2026-03-11T00:00:00+08:00"),
        )
        .unwrap();
    assert_eq!(
        later.iter().map(|r| r.record_id).collect::<Vec<_>>(),
        vec![own.header.id],
        "a rejected task reminds no one"
    );
}

#[test]
fn a_manager_plans_the_reps_day_and_the_plan_shows_done_not_done_and_unplanned() {
    let mut field = Field::at("2026-03-10T08:00:00+08:00");
    let rep = field.rep.me().user_id;
    let a = field.customer("华为技术有限公司", Some(shanghai()));
    let b = field.customer("腾讯科技", Some(shanghai()));
    let c = field.customer("阿里巴巴", Some(shanghai()));
    let plan = field
        .manager
        .plan_visits(
            rep,
            day("2026-03-10"),
            [a, b]
                .into_iter()
                .map(|customer_id| PlannedVisit {
                    customer_id,
                    planned_at: None,
                    purpose: None,
                })
                .collect(),
        )
        .unwrap();
    assert_eq!(plan.header.owner_id, Some(rep));
    assert_eq!(plan.planned_by, field.manager.me().user_id);
    crate::send(field.manager.store(), field.rep.store_mut(), plan.header.id);

    field.set_time("2026-03-10T10:00:00+08:00");
    let visit_a = field.check_in(a, shanghai(), 20.0, 5.0).unwrap().visit;
    assert_eq!(visit_a.plan_id, Some(plan.header.id));
    field.set_time("2026-03-10T14:00:00+08:00");
    let visit_c = field.check_in(c, shanghai(), 20.0, 5.0).unwrap().visit;
    assert_eq!(visit_c.plan_id, None);

    let result = field.rep.plan_vs_actual(rep, day("2026-03-10")).unwrap();
    assert_eq!(result.count(&PlanOutcome::PlannedDone), 1);
    assert_eq!(result.count(&PlanOutcome::PlannedNotDone), 1);
    assert_eq!(result.count(&PlanOutcome::Unplanned), 1);
    assert_eq!(result.lines[0].visit_id, Some(visit_a.header.id));
    assert_eq!(result.lines[1].customer_id, b);
    assert_eq!(result.lines[2].visit_id, Some(visit_c.header.id));

    // A rep cannot plan a colleague's day.
    let manager_id = field.manager.me().user_id;
    let err = field
        .rep
        .plan_visits(manager_id, day("2026-03-10"), Vec::new())
        .unwrap_err();
    assert!(matches!(err, Error::NotAllowed(_)), "{err:?}");
}

#[test]
fn a_manager_opens_a_reps_day_and_a_rep_cannot_open_the_managers() {
    let mut field = Field::at("2026-03-10T08:00:00+08:00");
    let rep = field.rep.me().user_id;
    let a = field.customer("华为技术有限公司", Some(shanghai()));
    let plan = field
        .manager
        .plan_visits(
            rep,
            day("2026-03-10"),
            vec![PlannedVisit {
                customer_id: a,
                planned_at: None,
                purpose: Some("签约".into()),
            }],
        )
        .unwrap();
    let task = manager_assigns(&mut field, "准备报价单");
    crate::send(field.manager.store(), field.rep.store_mut(), plan.header.id);

    // The same day, from the rep's phone and from the manager's.
    let own = field.rep.agenda(day("2026-03-10")).unwrap();
    let seen = field.manager.agenda_of(rep, day("2026-03-10")).unwrap();
    assert_eq!(own, seen);
    assert_eq!(seen.tasks_due.len(), 1);
    assert_eq!(seen.tasks_due[0].header.id, task);
    assert_eq!(seen.planned_visits.len(), 1);

    // Not the other way round, and not someone unknown.
    let manager = field.manager.me().user_id;
    let err = field.rep.agenda_of(manager, day("2026-03-10")).unwrap_err();
    assert!(matches!(err, Error::NotAllowed(_)), "{err:?}");
    let err = field
        .manager
        .agenda_of(RecordId::new(), day("2026-03-10"))
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[test]
fn a_follow_up_on_a_lead_restarts_its_reclaim_timer() {
    let mut field = Field::at("2026-03-12T15:00:00+08:00");
    let rep = field.rep.me().user_id;
    let lead = testing::lead(rep, "深圳某科技公司");
    let lead_id = lead.header.id;
    field.rep.store_mut().create(lead).unwrap();
    let f = field
        .rep
        .log_follow_up(NewFollowUp {
            subject: RecordRef {
                kind: Kind::Lead,
                id: lead_id,
            },
            method: FollowUpMethod::Message,
            occurred_at: Some(t("2026-03-12T14:30:00+08:00")),
            text: "微信沟通了预算".into(),
            next_step: Some("下周拜访".into()),
            visit_id: None,
        })
        .unwrap();
    assert_eq!(f.customer_id, None);
    let lead: Lead = field.rep.store().get(lead_id).unwrap();
    assert_eq!(lead.last_follow_up_at, Some(t("2026-03-12T14:30:00+08:00")));

    // A follow-up dated next week is refused, not logged.
    let err = field
        .rep
        .log_follow_up(NewFollowUp {
            subject: RecordRef {
                kind: Kind::Lead,
                id: lead_id,
            },
            method: FollowUpMethod::Call,
            occurred_at: Some(t("2026-03-19T14:30:00+08:00")),
            text: "电话".into(),
            next_step: None,
            visit_id: None,
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "occurred_at",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn follow_ups_about_a_customer_and_its_opportunities_form_its_history() {
    let mut field = Field::at("2026-03-10T15:00:00+08:00");
    let rep = field.rep.me().user_id;
    let c = field.customer("华为技术有限公司", Some(shanghai()));
    let opp = testing::opportunity(rep, c, "华为 CRM 项目", testing::yuan(800_000));
    let opp_id = opp.header.id;
    field.rep.store_mut().create(opp).unwrap();
    for (kind, id, text) in [
        (Kind::Customer, c, "上门拜访"),
        (Kind::Opportunity, opp_id, "演示方案"),
    ] {
        field
            .rep
            .log_follow_up(NewFollowUp {
                subject: RecordRef { kind, id },
                method: FollowUpMethod::Meeting,
                occurred_at: None,
                text: text.into(),
                next_step: None,
                visit_id: None,
            })
            .unwrap();
        field.clock.advance_millis(60_000);
    }
    let history = field.rep.follow_ups_of_customer(c).unwrap();
    let texts: Vec<&str> = history.iter().map(|f| f.text.as_str()).collect();
    assert_eq!(texts, vec!["演示方案", "上门拜访"]);
}

/// A rep gives a task to a colleague of the team (the rep's right to create tasks there):
/// the phone makes it, shared with the rep alone so the rep keeps seeing it, and the server
/// accepts it; sharing it with a third person is a share, which a rep may not make.
#[test]
fn a_rep_gives_a_colleague_a_task_and_keeps_seeing_it() {
    let mut field = Field::at("2026-03-10T09:00:00+08:00");
    let rep = field.rep.me().clone();
    let colleague = field.manager.me().user_id;
    let task = field
        .rep
        .create_task(task_for(
            colleague,
            "帮我核对报价单",
            t("2026-03-10T17:00:00+08:00"),
            t("2026-03-10T16:30:00+08:00"),
        ))
        .expect("a rep gives a colleague a task");
    assert_eq!(task.header.owner_id, Some(colleague));
    assert!(task.header.shared_with.contains(&rep.user_id));
    field
        .review_as(&rep, None, None, task.clone())
        .expect("the server accepts it");
    let mut shared = task;
    shared.header.id = RecordId::new();
    shared.header.shared_with.insert(RecordId::new());
    let refused = field
        .review_as(&rep, None, None, shared)
        .expect_err("a share with someone else is refused");
    assert_eq!(refused.rule.as_str(), "permission.denied", "{refused}");
    assert!(refused.to_string().contains("share"), "{refused}");
}
