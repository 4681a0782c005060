//! `fieldsales device ...` field work: check-in and check-out, follow-ups, the daily report,
//! tasks, approvals, refused edits and the day's dashboard. Text is for people (verdicts in
//! words, times in the user's zone, money as `¥1,234.00`); `--json` gives the values.

use std::path::Path;

use fieldsales_cli::ExitKind;
use fieldsales_core::dashboard::visits::Granularity;
use fieldsales_core::dashboard::{DashboardRequest, DateRange, GroupBy};
use fieldsales_core::engine::Engine;
use fieldsales_core::engine::follow_ups::NewFollowUp;
use fieldsales_core::engine::reports::ReportSections;
use fieldsales_core::engine::tasks::NewTask;
use fieldsales_core::engine::visits::CheckInRequest;
use fieldsales_core::fieldwork::ReportVerdict;
use fieldsales_core::fieldwork::check_in::{CheckFlag, CheckInVerdict, DevicePosition, FlagKind};
use fieldsales_core::process::approval::Verdict;
use fieldsales_core::record::follow_up::FollowUpMethod;
use fieldsales_core::record::task::TaskKind;
use fieldsales_core::record::{Customer, Kind, RecordRef, UserProfile};
use fieldsales_core::store::StoreRead;
use fieldsales_core::{GeoPoint, Money, RecordId, Timestamp, Zone};
use serde::Serialize;

use super::{DeviceCommand, ReportCommand, TaskCommand, engine_failure, resume};
use crate::CommandResult;
use crate::output::text::{Table, local_time, money, or_dash};
use crate::output::{Failure, Output};

/// A code as words: `cannot_tell` → `cannot tell`.
fn words(code: &str) -> String {
    code.replace(['_', '.'], " ")
}

/// One suspicion flag in words, with what was measured against the limit in the flag's unit.
fn flag_text(flag: &CheckFlag) -> String {
    let unit = match flag.kind {
        FlagKind::PoorAccuracy => " m",
        FlagKind::StaleFix | FlagKind::DeviceClockOff => " s",
        FlagKind::ImpossibleTravel => " km/h",
        FlagKind::RepeatCheckIn | FlagKind::ShortVisit => " min",
        _ => "",
    };
    match (flag.observed, flag.limit) {
        (Some(observed), Some(limit)) => format!(
            "{} ({observed:.0}{unit}, limit {limit:.0}{unit})",
            words(flag.kind.as_str())
        ),
        (None, Some(limit)) => format!("{} (limit {limit:.0}{unit})", words(flag.kind.as_str())),
        _ => words(flag.kind.as_str()),
    }
}

/// A check-in verdict in words.
fn verdict_text(v: &CheckInVerdict) -> String {
    let mut text = words(v.fence.as_str());
    match v.distance_m {
        Some(d) => text.push_str(&format!(
            " the fence: {d:.0} m from the customer's location (radius {:.0} m, fix ±{:.0} m)",
            v.radius_m, v.accuracy_m
        )),
        None => text.push_str(&format!(
            ": the customer has no registered location (fix ±{:.0} m)",
            v.accuracy_m
        )),
    }
    if !v.flags.is_empty() {
        text.push_str("; flagged: ");
        text.push_str(&v.flags.iter().map(flag_text).collect::<Vec<_>>().join(", "));
    }
    text
}

/// A report verdict in words.
fn report_text(v: &ReportVerdict, zone: &Zone) -> String {
    let mut text = format!(
        "{} (deadline {}",
        words(v.state.as_str()),
        local_time(v.deadline, zone)
    );
    if let Some(at) = v.effective_submitted_at {
        text.push_str(&format!(
            ", counted as submitted at {}",
            local_time(at, zone)
        ));
    }
    text.push(')');
    if v.penalty.minor != 0 {
        text.push_str(&format!("; penalty {}", money(v.penalty)));
    }
    text
}

fn customer_name(engine: &Engine, id: RecordId) -> String {
    engine
        .customer(id)
        .map(|c: Customer| c.legal_name)
        .unwrap_or_else(|_| id.to_string())
}

fn person_name(engine: &Engine, id: RecordId) -> String {
    engine
        .store()
        .get::<UserProfile>(id)
        .map(|p| p.name)
        .unwrap_or_else(|_| id.to_string())
}

#[derive(Serialize)]
struct CheckedIn {
    visit_id: RecordId,
    customer_id: RecordId,
    at: Timestamp,
    verdict: Option<CheckInVerdict>,
    proposed_location: bool,
}

#[derive(Serialize)]
struct CheckedOut {
    visit_id: RecordId,
    checked_in_at: Timestamp,
    checked_out_at: Option<Timestamp>,
    minutes: Option<i64>,
}

#[derive(Serialize)]
struct Logged {
    follow_up_id: RecordId,
}

#[derive(Serialize)]
struct ReportView {
    report_id: RecordId,
    date: fieldsales_core::LocalDate,
    state: String,
    verdict: Option<ReportVerdict>,
}

#[derive(Serialize)]
struct WaitingApproval {
    id: RecordId,
    title: String,
    subject_kind: String,
    subject: RecordId,
    requester: RecordId,
    requester_name: String,
    amount: Option<Money>,
    asked_at: Timestamp,
}

#[derive(Serialize)]
struct Waiting {
    waiting: Vec<WaitingApproval>,
}

#[derive(Serialize)]
struct Decided {
    id: RecordId,
    status: String,
}

#[derive(Serialize)]
struct Refused {
    record_id: RecordId,
    kind: String,
    rule: String,
    field: Option<String>,
    detail: String,
    rejected_at: Timestamp,
}

#[derive(Serialize)]
struct RefusedList {
    rejected: Vec<Refused>,
}

/// Runs a field-work command on the phone at `path` (not login, sync, customers, tasks or
/// deals, which have their own).
pub fn run(path: &Path, command: DeviceCommand, out: &Output) -> CommandResult {
    let mut engine = resume(path)?;
    let zone = engine.me().zone.clone();
    match command {
        DeviceCommand::CheckIn {
            customer,
            lat,
            lon,
            accuracy,
            mock,
            note,
        } => {
            let point = GeoPoint::new(lat, lon).map_err(|e| {
                Failure::new(ExitKind::Usage, "bad_position", anyhow::anyhow!("{e}"))
            })?;
            let now = engine.now();
            let checked = engine
                .check_in(CheckInRequest {
                    customer_id: customer,
                    position: DevicePosition {
                        point,
                        accuracy_m: accuracy,
                        fix_time: now,
                        mock,
                        integrity: None,
                        since_boot_ms: None,
                    },
                    note,
                    photos: Vec::new(),
                })
                .map_err(engine_failure)?;
            let visit = &checked.visit;
            let view = CheckedIn {
                visit_id: visit.header.id,
                customer_id: visit.customer_id,
                at: visit.check_in.at,
                verdict: visit.verdict.clone(),
                proposed_location: checked.proposed_location,
            };
            let name = customer_name(&engine, visit.customer_id);
            out.result(&view, |w| {
                writeln!(
                    w,
                    "checked in at {name} at {} (visit {})",
                    local_time(view.at, &zone),
                    view.visit_id
                )?;
                match &view.verdict {
                    Some(v) => writeln!(w, "  {}", verdict_text(v))?,
                    None => writeln!(w, "  not judged yet: the server judges it at the next sync")?,
                }
                if view.proposed_location {
                    writeln!(
                        w,
                        "  this fix is proposed as the customer's location, for a manager to approve"
                    )?;
                }
                Ok(())
            });
        }
        DeviceCommand::CheckOut { visit } => {
            let v = engine.check_out(visit, None).map_err(engine_failure)?;
            let out_at = v.check_out.as_ref().map(|c| c.at);
            let view = CheckedOut {
                visit_id: v.header.id,
                checked_in_at: v.check_in.at,
                checked_out_at: out_at,
                minutes: out_at.map(|at| at.millis_since(v.check_in.at) / 60_000),
            };
            let name = customer_name(&engine, v.customer_id);
            out.result(&view, |w| {
                writeln!(
                    w,
                    "checked out of {name} at {}{}",
                    or_dash(view.checked_out_at.map(|at| local_time(at, &zone))),
                    view.minutes
                        .map(|m| format!(" after {m} min"))
                        .unwrap_or_default()
                )
            });
        }
        DeviceCommand::FollowUp {
            customer,
            text,
            method,
        } => {
            let method = match method.as_str() {
                "visit" => FollowUpMethod::Visit,
                "call" => FollowUpMethod::Call,
                "message" => FollowUpMethod::Message,
                "meeting" => FollowUpMethod::Meeting,
                other => {
                    return Err(Failure::new(
                        ExitKind::Usage,
                        "bad_method",
                        anyhow::anyhow!("unknown method {other}: visit, call, message or meeting"),
                    ));
                }
            };
            let f = engine
                .log_follow_up(NewFollowUp {
                    subject: RecordRef {
                        kind: Kind::Customer,
                        id: customer,
                    },
                    method,
                    occurred_at: None,
                    text,
                    next_step: None,
                    visit_id: None,
                })
                .map_err(engine_failure)?;
            let name = customer_name(&engine, customer);
            out.result(
                &Logged {
                    follow_up_id: f.header.id,
                },
                |w| writeln!(w, "follow-up with {name} logged (id {})", f.header.id),
            );
        }
        DeviceCommand::Report(ReportCommand::Draft { date, summary }) => {
            let date = date.unwrap_or_else(|| engine.now().local_date(&zone));
            let mut report = engine.report_draft(date).map_err(engine_failure)?;
            if summary.is_some() {
                report = engine
                    .edit_report(
                        report.header.id,
                        ReportSections {
                            summary,
                            ..ReportSections::default()
                        },
                    )
                    .map_err(engine_failure)?;
            }
            let view = ReportView {
                report_id: report.header.id,
                date: report.date,
                state: report.state.to_string(),
                verdict: report.verdict.clone(),
            };
            out.result(&view, |w| {
                writeln!(
                    w,
                    "report for {} ({}; id {})",
                    view.date,
                    words(&view.state),
                    view.report_id
                )
            });
        }
        DeviceCommand::Report(ReportCommand::Submit { id }) => {
            let report = engine.submit_report(id).map_err(engine_failure)?;
            let view = ReportView {
                report_id: report.header.id,
                date: report.date,
                state: report.state.to_string(),
                verdict: report.verdict.clone(),
            };
            out.result(&view, |w| match &view.verdict {
                Some(v) => writeln!(
                    w,
                    "report for {} submitted: {}",
                    view.date,
                    report_text(v, &zone)
                ),
                None => writeln!(
                    w,
                    "report for {} submitted; the server judges it at the next sync",
                    view.date
                ),
            });
        }
        DeviceCommand::Approve {
            id,
            reject,
            comment,
        } => match id {
            None => {
                let waiting = engine.approvals_waiting_for_me().map_err(engine_failure)?;
                let list = Waiting {
                    waiting: waiting
                        .iter()
                        .map(|a| WaitingApproval {
                            id: a.header.id,
                            title: a.title.clone(),
                            subject_kind: a.subject.kind.as_str().to_owned(),
                            subject: a.subject.id,
                            requester: a.requester(),
                            requester_name: person_name(&engine, a.requester()),
                            amount: a.amount,
                            asked_at: a.header.created_at,
                        })
                        .collect(),
                };
                out.result(&list, |w| {
                    if list.waiting.is_empty() {
                        return writeln!(w, "no approval waits for you");
                    }
                    let mut table =
                        Table::new(&["approval", "asked by", "asked at", "amount", "id"])
                            .left(&[1, 2, 4]);
                    for a in &list.waiting {
                        table.row(vec![
                            a.title.clone(),
                            a.requester_name.clone(),
                            local_time(a.asked_at, &zone),
                            or_dash(a.amount.map(money)),
                            a.id.to_string(),
                        ]);
                    }
                    table.write(w)
                });
            }
            Some(id) => {
                let verdict = if reject {
                    Verdict::Reject
                } else {
                    Verdict::Approve
                };
                let a = engine
                    .decide_approval(id, verdict, comment.as_deref())
                    .map_err(engine_failure)?;
                let view = Decided {
                    id: a.header.id,
                    status: a.status.to_string(),
                };
                out.result(&view, |w| {
                    writeln!(w, "{}: {}", a.title, words(&view.status))
                });
            }
        },
        DeviceCommand::Rejected => {
            let list = RefusedList {
                rejected: engine
                    .store()
                    .rejected_changes()
                    .map_err(engine_failure)?
                    .into_iter()
                    .map(|r| Refused {
                        record_id: r.record_id,
                        kind: r.kind,
                        rule: r.rule,
                        field: r.field,
                        detail: r.detail,
                        rejected_at: r.rejected_at,
                    })
                    .collect(),
            };
            out.result(&list, |w| {
                if list.rejected.is_empty() {
                    return writeln!(w, "the server refused none of this phone's edits");
                }
                let mut table =
                    Table::new(&["refused at", "record", "rule", "why"]).left(&[1, 2, 3]);
                for r in &list.rejected {
                    table.row(vec![
                        local_time(r.rejected_at, &zone),
                        format!("{} {}", words(&r.kind), r.record_id),
                        r.rule.clone(),
                        r.detail.clone(),
                    ]);
                }
                table.write(w)
            });
        }
        DeviceCommand::Dashboard { date } => {
            let date = date.unwrap_or_else(|| engine.now().local_date(&zone));
            let request = DashboardRequest {
                range: DateRange {
                    from: date,
                    to: date,
                },
                group_by: GroupBy::Rep,
            };
            let visits = engine
                .visits_dashboard(&request, Granularity::Day)
                .map_err(engine_failure)?;
            let reports = engine.report_dashboard(&request).map_err(engine_failure)?;
            let funnel = engine.funnel_dashboard(&request).map_err(engine_failure)?;
            #[derive(Serialize)]
            struct Dashboards<'a> {
                visits: &'a fieldsales_core::dashboard::visits::VisitsDashboard,
                reports: &'a fieldsales_core::dashboard::reports::ReportCompliance,
                funnel: &'a fieldsales_core::dashboard::funnel::Funnel,
            }
            let view = Dashboards {
                visits: &visits,
                reports: &reports,
                funnel: &funnel,
            };
            out.result(&view, |w| {
                let t = &visits.total;
                let r = &reports.total;
                let f = &funnel.total;
                writeln!(
                    w,
                    "{date}: {} check-ins ({} outside the fence, {} flagged); reports {} on \
                     time, {} late, {} missing (penalties {})",
                    t.check_ins,
                    t.outside,
                    t.flagged,
                    r.on_time,
                    r.late,
                    r.missing,
                    money(r.penalties)
                )?;
                writeln!(
                    w,
                    "pipeline {} open over {} stages; {} won ({}), {} lost",
                    money(f.pipeline),
                    f.stages.iter().filter(|s| s.open > 0).count(),
                    f.won,
                    money(f.won_amount),
                    f.lost
                )
            });
        }
        DeviceCommand::Login { .. }
        | DeviceCommand::Sync
        | DeviceCommand::Customer(_)
        | DeviceCommand::Task(_)
        | DeviceCommand::Opportunity(_) => {
            return Err(Failure::new(
                ExitKind::Other,
                "internal",
                anyhow::anyhow!("this command is not field work"),
            ));
        }
    }
    Ok(ExitKind::Ok)
}

#[derive(Serialize)]
struct TaskRow {
    id: RecordId,
    title: String,
    status: String,
    due_at: Option<Timestamp>,
}

#[derive(Serialize)]
struct Tasks {
    tasks: Vec<TaskRow>,
}

#[derive(Serialize)]
struct TaskDone {
    id: RecordId,
    status: String,
}

/// Runs a task command on the phone at `path`.
pub fn task(path: &Path, command: TaskCommand, out: &Output) -> CommandResult {
    let mut engine = resume(path)?;
    let zone = engine.me().zone.clone();
    match command {
        TaskCommand::Add { title, due } => {
            let due_at = due
                .map(|d| {
                    Timestamp::parse_rfc3339(&d).map_err(|e| {
                        Failure::new(ExitKind::Usage, "bad_time", anyhow::anyhow!("--due: {e}"))
                    })
                })
                .transpose()?;
            let me = engine.me().user_id;
            let t = engine
                .create_task(NewTask {
                    assignee: me,
                    kind: TaskKind::Task,
                    title,
                    description: String::new(),
                    due_at,
                    start_at: None,
                    end_at: None,
                    reminder_at: None,
                    related: None,
                })
                .map_err(engine_failure)?;
            let view = TaskDone {
                id: t.header.id,
                status: t.status.to_string(),
            };
            out.result(&view, |w| {
                writeln!(
                    w,
                    "task “{}” added{} (id {})",
                    t.title,
                    t.due_at
                        .map(|at| format!(", due {}", local_time(at, &zone)))
                        .unwrap_or_default(),
                    t.header.id
                )
            });
        }
        TaskCommand::List => {
            let agenda = engine.today().map_err(engine_failure)?;
            let list = Tasks {
                tasks: agenda
                    .tasks_due
                    .iter()
                    .chain(&agenda.overdue)
                    .chain(&agenda.schedule)
                    .map(|t| TaskRow {
                        id: t.header.id,
                        title: t.title.clone(),
                        status: t.status.to_string(),
                        due_at: t.due_at,
                    })
                    .collect(),
            };
            out.result(&list, |w| {
                if list.tasks.is_empty() {
                    return writeln!(w, "nothing on the agenda for {}", agenda.date);
                }
                let mut table = Table::new(&["task", "due", "status", "id"]).left(&[1, 2, 3]);
                for t in &list.tasks {
                    table.row(vec![
                        t.title.clone(),
                        or_dash(t.due_at.map(|at| local_time(at, &zone))),
                        words(&t.status),
                        t.id.to_string(),
                    ]);
                }
                table.write(w)
            });
        }
        TaskCommand::Done { id } => {
            let t = engine.complete_task(id).map_err(engine_failure)?;
            let view = TaskDone {
                id: t.header.id,
                status: t.status.to_string(),
            };
            out.result(&view, |w| writeln!(w, "task “{}” done", t.title));
        }
    }
    Ok(ExitKind::Ok)
}
