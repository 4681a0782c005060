//! A rep's day in the field: check-in and check-out at a customer, photos, follow-ups, the
//! daily report, tasks and today's agenda.
//!
//! The phone judges a check-in at once and offline with the same rules the server re-runs on
//! receipt, so the rep sees the verdict and its reasons before any sync. Positions cross the
//! boundary exactly as the OS reported them (accuracy, fix time, mock flag, integrity signal):
//! judging them is core's work, not the app's.

use std::path::PathBuf;
use std::sync::Arc;

use fieldsales_core::engine::follow_ups::NewFollowUp;
use fieldsales_core::engine::reports::ReportSections;
use fieldsales_core::engine::tasks::{NewTask, ReminderKind as CoreReminderKind};
use fieldsales_core::engine::visits::CheckInRequest;
use fieldsales_core::fieldwork::PlanOutcome as CoreOutcome;
use fieldsales_core::fieldwork::report::ReportDay;
use fieldsales_core::fieldwork::{CheckInVerdict, DeviceIntegrity, DevicePosition as CorePosition};
use fieldsales_core::record::daily_report::DailyReport as CoreReport;
use fieldsales_core::record::task::Task as CoreTask;
use fieldsales_core::record::visit::Visit as CoreVisit;
use fieldsales_core::record::visit_plan::PlannedVisit as CorePlanned;
use fieldsales_core::record::{Kind, RecordRef};

use crate::engine::{Engine, optional_id, record_id};
use crate::error::FieldsalesError;
use crate::place::GeoPoint;
use crate::sales::FollowUp;

/// A position exactly as the phone's OS gave it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DevicePosition {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Horizontal accuracy, metres.
    pub accuracy_m: f64,
    /// When the OS took the fix, by the device clock (derived from the fix's
    /// elapsed-realtime stamp, so a cached fix shows its true age).
    pub fix_time: fieldsales_core::Timestamp,
    /// The OS marked the fix as mock or simulated.
    pub is_mock: bool,
    /// The app's integrity check: `None` when none ran.
    pub integrity: Option<DeviceIntegritySignal>,
    /// The phone's monotonic clock at the fix, ms since boot, counting sleep (Android: the
    /// fix's `elapsedRealtimeNanos`; iOS: `CLOCK_MONOTONIC` less the fix's age). Setting the
    /// wall clock does not move it, so the server can tell a clock wound back between two
    /// visits. `None` when the platform cannot give it.
    pub since_boot_ms: Option<i64>,
}

/// What the app's integrity check said about the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct DeviceIntegritySignal {
    /// Rooted or jailbroken.
    pub rooted: bool,
    /// Running in an emulator.
    pub emulator: bool,
}

impl DevicePosition {
    fn checked(&self, field: &str) -> Result<CorePosition, FieldsalesError> {
        let point = GeoPoint {
            lat: self.lat,
            lon: self.lon,
        }
        .checked(field)?;
        if !self.accuracy_m.is_finite() || self.accuracy_m < 0.0 {
            return Err(FieldsalesError::InvalidInput {
                field: format!("{field}.accuracy_m"),
                detail: "expected a finite number of metres, at least 0".into(),
            });
        }
        if self.since_boot_ms.is_some_and(|ms| ms < 0) {
            return Err(FieldsalesError::InvalidInput {
                field: format!("{field}.since_boot_ms"),
                detail: "expected milliseconds since boot, at least 0".into(),
            });
        }
        Ok(CorePosition {
            point,
            accuracy_m: self.accuracy_m,
            fix_time: self.fix_time,
            mock: self.is_mock,
            integrity: self.integrity.map(|i| DeviceIntegrity {
                rooted: i.rooted,
                emulator: i.emulator,
            }),
            since_boot_ms: self.since_boot_ms,
        })
    }
}

/// One reason a check-in looks suspicious.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VerdictFlag {
    /// Which rule raised it.
    pub kind: crate::codes::CheckInFlag,
    /// What was measured, in the rule's unit.
    pub observed: Option<f64>,
    /// The configured limit.
    pub limit: Option<f64>,
}

/// How a check-in was judged.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VisitVerdict {
    /// Where the check-in stands against the fence.
    pub fence: crate::codes::FenceStatus,
    /// Metres from the customer's location, when it has one.
    pub distance_m: Option<f64>,
    /// The fix's accuracy, metres.
    pub accuracy_m: f64,
    /// The fence radius applied, metres.
    pub radius_m: f64,
    /// Every reason for suspicion.
    pub flags: Vec<VerdictFlag>,
    /// This phone (offline, provisional) or the server (the judgement that counts).
    pub judged_by: crate::codes::Judge,
    /// When.
    pub judged_at: fieldsales_core::Timestamp,
}

impl From<CheckInVerdict> for VisitVerdict {
    fn from(v: CheckInVerdict) -> Self {
        VisitVerdict {
            fence: v.fence.into(),
            distance_m: v.distance_m,
            accuracy_m: v.accuracy_m,
            radius_m: v.radius_m,
            flags: v
                .flags
                .into_iter()
                .map(|f| VerdictFlag {
                    kind: f.kind.into(),
                    observed: f.observed,
                    limit: f.limit,
                })
                .collect(),
            judged_by: v.judged_by.into(),
            judged_at: v.judged_at,
        }
    }
}

/// A photo kept by content hash.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Attachment {
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// Bytes.
    pub size: i64,
    /// MIME type.
    pub mime: String,
}

/// A customer visit.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Visit {
    /// The visit.
    pub id: String,
    /// The rep.
    pub owner_id: Option<String>,
    /// The customer.
    pub customer_id: String,
    /// When the rep checked in.
    pub checked_in_at: fieldsales_core::Timestamp,
    /// Where, as reported.
    pub lat: f64,
    /// Where, as reported.
    pub lon: f64,
    /// When the rep checked out.
    pub checked_out_at: Option<fieldsales_core::Timestamp>,
    /// The note.
    pub note: String,
    /// Photos.
    pub photos: Vec<Attachment>,
    /// The verdict, from the phone until the server's arrives by sync.
    pub verdict: Option<VisitVerdict>,
}

impl From<CoreVisit> for Visit {
    fn from(v: CoreVisit) -> Self {
        Visit {
            id: v.header.id.to_string(),
            owner_id: v.header.owner_id.map(|o| o.to_string()),
            customer_id: v.customer_id.to_string(),
            checked_in_at: v.check_in.at,
            lat: v.check_in.position.point.lat,
            lon: v.check_in.position.point.lon,
            checked_out_at: v.check_out.as_ref().map(|c| c.at),
            note: v.note.as_str().to_string(),
            photos: v
                .photos
                .into_iter()
                .map(|p| Attachment {
                    sha256: p.sha256,
                    size: p.size,
                    mime: p.mime,
                })
                .collect(),
            verdict: v.verdict.map(VisitVerdict::from),
        }
    }
}

/// A recorded check-in.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CheckedIn {
    /// The new visit, with the phone's verdict.
    pub visit: Visit,
    /// The fix was proposed as the customer's location, for a manager to approve.
    pub proposed_location: bool,
}

/// A daily report.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DailyReport {
    /// The report.
    pub id: String,
    /// Its author.
    pub owner_id: Option<String>,
    /// The local day, `YYYY-MM-DD`.
    pub date: fieldsales_core::LocalDate,
    /// Draft, submitted, or missing (recorded by the server after the deadline).
    pub state: crate::codes::ReportState,
    /// Today's work.
    pub summary: String,
    /// Results.
    pub results: String,
    /// Problems met.
    pub problems: String,
    /// Tomorrow's plan.
    pub plan_tomorrow: String,
    /// Visits of the day, gathered automatically.
    pub visit_ids: Vec<String>,
    /// Follow-ups of the day.
    pub follow_up_ids: Vec<String>,
    /// When submitted.
    pub submitted_at: Option<fieldsales_core::Timestamp>,
    /// Comments by managers, oldest first.
    pub comments: Vec<ReportComment>,
    /// A manager's finding that the report is false (who, when, what was false), if any.
    #[uniffi(default = None)]
    pub marked_false: Option<ReportComment>,
}

/// Where the signed-in rep's report of a day stands, for the app's reminder. A day off by the
/// work calendar (a weekend, a public holiday, leave, before starting or after leaving) owes
/// nothing: the app reminds no one and nobody is fined.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReportDue {
    /// Submitted (nothing to remind), open, overdue, missing, or a day off.
    pub status: ReportDueStatus,
    /// The deadline, when open or overdue.
    pub deadline: Option<fieldsales_core::Timestamp>,
    /// When the day becomes missing, when overdue.
    pub missing_at: Option<fieldsales_core::Timestamp>,
    /// The penalty owed, in minor units of `currency`, when missing.
    pub penalty_minor: Option<i64>,
    /// The penalty's currency, when missing.
    pub currency: Option<String>,
    /// Why nothing is owed on a day off.
    pub day_off: Option<crate::codes::DayOff>,
}

/// Where a rep's report of a day stands, for the reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ReportDueStatus {
    /// Submitted: nothing to remind.
    Submitted,
    /// Open, before its deadline.
    Open,
    /// Past its deadline, not yet missing.
    Overdue,
    /// Missing: the penalty applies.
    Missing,
    /// A day off: nothing is owed.
    DayOff,
}

impl ReportDue {
    fn of(day: Option<ReportDay>) -> Self {
        let none = ReportDue {
            status: ReportDueStatus::Submitted,
            deadline: None,
            missing_at: None,
            penalty_minor: None,
            currency: None,
            day_off: None,
        };
        match day {
            None => none,
            Some(ReportDay::Open { deadline }) => ReportDue {
                status: ReportDueStatus::Open,
                deadline: Some(deadline),
                ..none
            },
            Some(ReportDay::Overdue {
                deadline,
                missing_at,
            }) => ReportDue {
                status: ReportDueStatus::Overdue,
                deadline: Some(deadline),
                missing_at: Some(missing_at),
                ..none
            },
            Some(ReportDay::Missing(verdict)) => ReportDue {
                status: ReportDueStatus::Missing,
                penalty_minor: Some(verdict.penalty.minor),
                currency: Some(verdict.penalty.currency.code().to_string()),
                ..none
            },
            Some(ReportDay::DayOff(why)) => ReportDue {
                status: ReportDueStatus::DayOff,
                day_off: Some(why.into()),
                ..none
            },
        }
    }
}

/// A manager's comment on a daily report.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReportComment {
    /// The manager.
    pub by_id: String,
    /// When.
    pub at: fieldsales_core::Timestamp,
    /// What they said.
    pub text: String,
}

impl From<CoreReport> for DailyReport {
    fn from(r: CoreReport) -> Self {
        let ids = |v: Vec<fieldsales_core::RecordId>| v.iter().map(ToString::to_string).collect();
        DailyReport {
            id: r.header.id.to_string(),
            owner_id: r.header.owner_id.map(|o| o.to_string()),
            date: r.date,
            state: r.state.into(),
            summary: r.summary.as_str().to_string(),
            results: r.results.as_str().to_string(),
            problems: r.problems.as_str().to_string(),
            plan_tomorrow: r.plan_tomorrow.as_str().to_string(),
            visit_ids: ids(r.visit_ids),
            follow_up_ids: ids(r.follow_up_ids),
            submitted_at: r.submitted_at,
            comments: r
                .comments
                .into_iter()
                .map(|c| ReportComment {
                    by_id: c.by.to_string(),
                    at: c.at,
                    text: c.text,
                })
                .collect(),
            marked_false: r.marked_false.map(|c| ReportComment {
                by_id: c.by.to_string(),
                at: c.at,
                text: c.text,
            }),
        }
    }
}

/// The sections of a report to change; `None` leaves a section as it is.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReportEdit {
    /// Today's work.
    pub summary: Option<String>,
    /// Results.
    pub results: Option<String>,
    /// Problems met.
    pub problems: Option<String>,
    /// Tomorrow's plan.
    pub plan_tomorrow: Option<String>,
}

/// A task or a calendar entry.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Task {
    /// The task.
    pub id: String,
    /// Who does it.
    pub owner_id: Option<String>,
    /// A task or a calendar entry.
    pub kind: crate::codes::TaskKind,
    /// Title.
    pub title: String,
    /// Who gave it (the owner for one's own tasks).
    pub assigner_id: String,
    /// Where it stands.
    pub status: crate::codes::TaskStatus,
    /// Why the assignee rejected it.
    pub reject_reason: Option<String>,
    /// Due.
    pub due_at: Option<fieldsales_core::Timestamp>,
    /// A schedule entry's start.
    pub start_at: Option<fieldsales_core::Timestamp>,
    /// A schedule entry's end.
    pub end_at: Option<fieldsales_core::Timestamp>,
    /// When to remind.
    pub reminder_at: Option<fieldsales_core::Timestamp>,
}

impl From<CoreTask> for Task {
    fn from(t: CoreTask) -> Self {
        Task {
            id: t.header.id.to_string(),
            owner_id: t.header.owner_id.map(|o| o.to_string()),
            kind: t.kind.into(),
            title: t.title,
            assigner_id: t.assigner_id.to_string(),
            status: t.status.into(),
            reject_reason: t.reject_reason,
            due_at: t.due_at,
            start_at: t.start_at,
            end_at: t.end_at,
            reminder_at: t.reminder_at,
        }
    }
}

/// A new task for oneself or, for a manager, for a rep.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TaskDraft {
    /// Who does it.
    pub assignee_id: String,
    /// A task or a calendar entry.
    pub kind: crate::codes::TaskKind,
    /// Title.
    pub title: String,
    /// Details.
    pub description: String,
    /// Due.
    pub due_at: Option<fieldsales_core::Timestamp>,
    /// A schedule entry's start.
    pub start_at: Option<fieldsales_core::Timestamp>,
    /// A schedule entry's end.
    pub end_at: Option<fieldsales_core::Timestamp>,
    /// When to remind.
    pub reminder_at: Option<fieldsales_core::Timestamp>,
}

/// A visit planned for the day.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PlannedVisit {
    /// The customer.
    pub customer_id: String,
    /// When.
    pub planned_at: Option<fieldsales_core::Timestamp>,
    /// Why.
    pub purpose: Option<String>,
}

/// A rep's visit plan for one day.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitPlan {
    /// Record ID.
    pub id: String,
    /// The rep whose day it is.
    pub rep_id: String,
    /// The local day, `YYYY-MM-DD`.
    pub date: fieldsales_core::LocalDate,
    /// Who wrote the list last: the rep, or their manager.
    pub planned_by_id: String,
    /// The planned visits, in order.
    pub visits: Vec<PlannedVisit>,
}

impl From<fieldsales_core::record::VisitPlan> for VisitPlan {
    fn from(p: fieldsales_core::record::VisitPlan) -> Self {
        VisitPlan {
            id: p.header.id.to_string(),
            rep_id: p.header.owner_id.unwrap_or(p.planned_by).to_string(),
            date: p.date,
            planned_by_id: p.planned_by.to_string(),
            visits: p.items.into_iter().map(PlannedVisit::from).collect(),
        }
    }
}

impl From<CorePlanned> for PlannedVisit {
    fn from(p: CorePlanned) -> Self {
        PlannedVisit {
            customer_id: p.customer_id.to_string(),
            planned_at: p.planned_at,
            purpose: p.purpose,
        }
    }
}

/// How one planned customer, or one unplanned visit, came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PlanOutcome {
    /// Planned and visited.
    PlannedDone,
    /// Planned, not visited.
    PlannedNotDone,
    /// Visited without a plan.
    Unplanned,
}

/// One line of plan versus actual.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PlanLine {
    /// The customer.
    pub customer_id: String,
    /// How it came out.
    pub outcome: PlanOutcome,
    /// The visit, when there was one.
    pub visit_id: Option<String>,
}

/// A day's plan against its visits.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PlanVsActual {
    /// Planned customers in plan order, then unplanned visits in check-in order.
    pub lines: Vec<PlanLine>,
    /// Planned visits done over planned visits, in basis points; `None` when nothing was
    /// planned.
    pub completion_bp: Option<i64>,
}

fn agenda(a: fieldsales_core::engine::tasks::Agenda) -> Agenda {
    Agenda {
        date: a.date,
        schedule: tasks(a.schedule),
        tasks_due: tasks(a.tasks_due),
        overdue: tasks(a.overdue),
        planned_visits: a
            .planned_visits
            .into_iter()
            .map(PlannedVisit::from)
            .collect(),
    }
}

/// The home screen's day.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Agenda {
    /// The local day, `YYYY-MM-DD`.
    pub date: fieldsales_core::LocalDate,
    /// Calendar entries of the day.
    pub schedule: Vec<Task>,
    /// Tasks due that day.
    pub tasks_due: Vec<Task>,
    /// Open tasks already overdue.
    pub overdue: Vec<Task>,
    /// Planned visits.
    pub planned_visits: Vec<PlannedVisit>,
}

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReminderKind {
    /// A task or schedule entry of the user's.
    Task,
    /// A deal past its stage's longest time: to its owner and their manager, as the server's
    /// job recorded it (once per stage entry, again at the stage's interval).
    OverdueStage,
}

/// A reminder that falls due.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reminder {
    /// What it is about.
    pub kind: ReminderKind,
    /// The task, schedule entry or deal.
    pub record_id: String,
    /// Its title: the task's, or the deal's name and its stage.
    pub title: String,
    /// When to remind.
    pub remind_at: fieldsales_core::Timestamp,
    /// When it is due (a deal: when its stage's time ran out).
    pub due_at: Option<fieldsales_core::Timestamp>,
}

fn tasks(v: Vec<CoreTask>) -> Vec<Task> {
    v.into_iter().map(Task::from).collect()
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// Checks in at a customer, offline: the visit is recorded with the phone's verdict. In
    /// hard-fence mode a refused check-in fails with `RuleViolated` (`geofence.outside`,
    /// `geofence.poor_accuracy`, `geofence.mock_location`).
    pub async fn check_in(
        self: Arc<Self>,
        customer_id: String,
        position: DevicePosition,
        note: String,
    ) -> Result<CheckedIn, FieldsalesError> {
        let request = CheckInRequest {
            customer_id: record_id("customer_id", &customer_id)?,
            position: position.checked("position")?,
            note,
            photos: Vec::new(),
        };
        self.write(move |e| {
            let done = e.check_in(request)?;
            Ok(CheckedIn {
                visit: done.visit.into(),
                proposed_location: done.proposed_location,
            })
        })
        .await
    }

    /// Closes the rep's open visit; `position` is `None` when no fix is available.
    pub async fn check_out(
        self: Arc<Self>,
        visit_id: String,
        position: Option<DevicePosition>,
    ) -> Result<Visit, FieldsalesError> {
        let id = record_id("visit_id", &visit_id)?;
        let position = position.map(|p| p.checked("position")).transpose()?;
        self.write(move |e| Ok(e.check_out(id, position)?.into()))
            .await
    }

    /// Adds a photo from a file the camera wrote: it is queued like `queue_attachment` (kept
    /// once under its content hash, refused over the configured `visit.max_photo_bytes`) and
    /// uploaded by a later sync.
    pub async fn add_visit_photo(
        self: Arc<Self>,
        visit_id: String,
        file_path: String,
        mime: String,
    ) -> Result<Visit, FieldsalesError> {
        let id = record_id("visit_id", &visit_id)?;
        let source = PathBuf::from(file_path);
        self.write(move |e| {
            let photo = e.queue_attachment(&source, &mime)?;
            Ok(e.add_visit_photo(id, photo)?.into())
        })
        .await
    }

    /// A rep's visits on a local day (`YYYY-MM-DD`), as far as this user may see them.
    pub async fn visits_on(
        self: Arc<Self>,
        rep_id: String,
        date: fieldsales_core::LocalDate,
    ) -> Result<Vec<Visit>, FieldsalesError> {
        let rep = record_id("rep_id", &rep_id)?;
        self.read(move |e| {
            Ok(e.visits_on(rep, date)?
                .into_iter()
                .map(Visit::from)
                .collect())
        })
        .await
    }

    /// Logs a follow-up (call, visit, message...) about a customer, lead or opportunity.
    pub async fn log_follow_up(
        self: Arc<Self>,
        subject_kind: crate::codes::RecordKind,
        subject_id: String,
        method: crate::codes::FollowUpMethod,
        text: String,
        next_step: Option<String>,
        visit_id: Option<String>,
    ) -> Result<FollowUp, FieldsalesError> {
        let kind = match subject_kind.core("subject_kind")? {
            kind @ (Kind::Customer | Kind::Lead | Kind::Opportunity) => kind,
            _ => {
                return Err(FieldsalesError::InvalidInput {
                    field: "subject_kind".into(),
                    detail: "a follow-up is about a customer, a lead or an opportunity".into(),
                });
            }
        };
        let new = NewFollowUp {
            subject: RecordRef {
                kind,
                id: record_id("subject_id", &subject_id)?,
            },
            method: method.core("method")?,
            occurred_at: None,
            text,
            next_step,
            visit_id: optional_id("visit_id", visit_id.as_deref())?,
        };
        self.write(move |e| Ok(e.log_follow_up(new)?.into())).await
    }

    /// The user's report of a local day (`YYYY-MM-DD`), created as a draft gathering the
    /// day's visits and follow-ups when there is none yet.
    pub async fn report_draft(
        self: Arc<Self>,
        date: fieldsales_core::LocalDate,
    ) -> Result<DailyReport, FieldsalesError> {
        self.write(move |e| Ok(e.report_draft(date)?.into())).await
    }

    /// Changes sections of a report not yet submitted.
    pub async fn edit_report(
        self: Arc<Self>,
        report_id: String,
        edit: ReportEdit,
    ) -> Result<DailyReport, FieldsalesError> {
        let id = record_id("report_id", &report_id)?;
        let sections = ReportSections {
            summary: edit.summary,
            results: edit.results,
            problems: edit.problems,
            plan_tomorrow: edit.plan_tomorrow,
        };
        self.write(move |e| Ok(e.edit_report(id, sections)?.into()))
            .await
    }

    /// Submits a report; its on-time judgement follows the user's zone and deadline.
    pub async fn submit_report(
        self: Arc<Self>,
        report_id: String,
    ) -> Result<DailyReport, FieldsalesError> {
        let id = record_id("report_id", &report_id)?;
        self.write(move |e| Ok(e.submit_report(id)?.into())).await
    }

    /// The signed-in rep's own report of a local day (`YYYY-MM-DD`), for the reminder: open,
    /// overdue, missing, submitted, or a day off when nothing is owed.
    pub async fn report_due(
        self: Arc<Self>,
        date: fieldsales_core::LocalDate,
    ) -> Result<ReportDue, FieldsalesError> {
        self.read(move |e| Ok(ReportDue::of(e.report_due(date)?)))
            .await
    }

    /// A rep's report of a local day (`YYYY-MM-DD`), if one is on this device: a manager
    /// opens it from the team's list to read and comment.
    pub async fn report_of(
        self: Arc<Self>,
        rep_id: String,
        date: fieldsales_core::LocalDate,
    ) -> Result<Option<DailyReport>, FieldsalesError> {
        let rep = record_id("rep_id", &rep_id)?;
        self.read(move |e| Ok(e.report_of(rep, date)?.map(DailyReport::from)))
            .await
    }

    /// A manager comments on a report of a rep they manage; the report counts as read by
    /// them.
    pub async fn comment_report(
        self: Arc<Self>,
        report_id: String,
        text: String,
    ) -> Result<DailyReport, FieldsalesError> {
        let id = record_id("report_id", &report_id)?;
        self.write(move |e| Ok(e.comment_report(id, &text)?.into()))
            .await
    }

    /// A manager finds a submitted report of a rep they manage false, saying what was false
    /// (`report.reason_required` when blank); the false-report penalty applies to the rep.
    pub async fn mark_report_false(
        self: Arc<Self>,
        report_id: String,
        reason: String,
    ) -> Result<DailyReport, FieldsalesError> {
        let id = record_id("report_id", &report_id)?;
        self.write(move |e| Ok(e.mark_report_false(id, &reason)?.into()))
            .await
    }

    /// A manager marks a report of a rep they manage as read.
    pub async fn mark_report_read(
        self: Arc<Self>,
        report_id: String,
    ) -> Result<DailyReport, FieldsalesError> {
        let id = record_id("report_id", &report_id)?;
        self.write(move |e| Ok(e.mark_report_read(id)?.into()))
            .await
    }

    /// Creates a task or calendar entry.
    pub async fn create_task(self: Arc<Self>, draft: TaskDraft) -> Result<Task, FieldsalesError> {
        let new = NewTask {
            assignee: record_id("draft.assignee_id", &draft.assignee_id)?,
            kind: draft.kind.core("draft.kind")?,
            title: draft.title,
            description: draft.description,
            due_at: draft.due_at,
            start_at: draft.start_at,
            end_at: draft.end_at,
            reminder_at: draft.reminder_at,
            related: None,
        };
        self.write(move |e| Ok(e.create_task(new)?.into())).await
    }

    /// The assignee accepts a task someone gave them: it becomes `open`.
    pub async fn accept_task(self: Arc<Self>, task_id: String) -> Result<Task, FieldsalesError> {
        let id = record_id("task_id", &task_id)?;
        self.write(move |e| Ok(e.accept_task(id)?.into())).await
    }

    /// The assignee rejects a task someone gave them, saying why (`task.reason_required`
    /// when the reason is blank).
    pub async fn reject_task(
        self: Arc<Self>,
        task_id: String,
        reason: String,
    ) -> Result<Task, FieldsalesError> {
        let id = record_id("task_id", &task_id)?;
        self.write(move |e| Ok(e.reject_task(id, &reason)?.into()))
            .await
    }

    /// The assignee moves an open task or schedule entry to a later time, ms; its reminder
    /// moves with it (`task.postpone_to_past` when the time is not in the future).
    pub async fn postpone_task(
        self: Arc<Self>,
        task_id: String,
        to: fieldsales_core::Timestamp,
    ) -> Result<Task, FieldsalesError> {
        let id = record_id("task_id", &task_id)?;
        self.write(move |e| Ok(e.postpone_task(id, to)?.into()))
            .await
    }

    /// Deletes a task the user created (for themselves or someone else); an assignee rejects
    /// instead (`NotAllowed`).
    pub async fn delete_task(self: Arc<Self>, task_id: String) -> Result<(), FieldsalesError> {
        let id = record_id("task_id", &task_id)?;
        self.write(move |e| Ok(e.delete_task(id)?)).await
    }

    /// Marks a task done.
    pub async fn complete_task(self: Arc<Self>, task_id: String) -> Result<Task, FieldsalesError> {
        let id = record_id("task_id", &task_id)?;
        self.write(move |e| Ok(e.complete_task(id)?.into())).await
    }

    /// Today's agenda in the user's zone.
    pub async fn today(self: Arc<Self>) -> Result<Agenda, FieldsalesError> {
        self.read(|e| Ok(agenda(e.today()?))).await
    }

    /// A user's day (`YYYY-MM-DD` in that user's zone): the signed-in user's own, or, for a
    /// manager, the day of someone their scope covers (schedule, tasks, planned visits they
    /// may see). Refused for a colleague outside the user's scope (not allowed).
    pub async fn agenda_of(
        self: Arc<Self>,
        user_id: String,
        date: fieldsales_core::LocalDate,
    ) -> Result<Agenda, FieldsalesError> {
        let user = record_id("user_id", &user_id)?;
        self.read(move |e| Ok(agenda(e.agenda_of(user, date)?)))
            .await
    }

    /// Plans a rep's visits for a local day (`YYYY-MM-DD`), replacing that day's list (at
    /// most 100): a rep plans their own day, a manager the day of a rep in their scope.
    pub async fn plan_visits(
        self: Arc<Self>,
        rep_id: String,
        date: fieldsales_core::LocalDate,
        visits: Vec<PlannedVisit>,
    ) -> Result<VisitPlan, FieldsalesError> {
        let rep = record_id("rep_id", &rep_id)?;
        if visits.len() > fieldsales_core::engine::plans::MAX_PLANNED_VISITS {
            return Err(FieldsalesError::InvalidInput {
                field: "visits".into(),
                detail: format!(
                    "{} visits planned; at most {}",
                    visits.len(),
                    fieldsales_core::engine::plans::MAX_PLANNED_VISITS
                ),
            });
        }
        let items = visits
            .into_iter()
            .map(|v| {
                Ok(CorePlanned {
                    customer_id: record_id("visits.customer_id", &v.customer_id)?,
                    planned_at: v.planned_at,
                    purpose: v.purpose,
                })
            })
            .collect::<Result<Vec<_>, FieldsalesError>>()?;
        self.write(move |e| Ok(e.plan_visits(rep, date, items)?.into()))
            .await
    }

    /// A rep's visit plan for a local day, if one is on this device.
    pub async fn plan_for(
        self: Arc<Self>,
        rep_id: String,
        date: fieldsales_core::LocalDate,
    ) -> Result<Option<VisitPlan>, FieldsalesError> {
        let rep = record_id("rep_id", &rep_id)?;
        self.read(move |e| {
            Ok(match e.plan_for(rep, date)? {
                Some(plan) if e.can_see(&plan.header)? => Some(plan.into()),
                _ => None,
            })
        })
        .await
    }

    /// A rep's day planned against their visits: each planned customer done or not done, then
    /// the visits nobody planned, with the share of planned visits done.
    pub async fn plan_vs_actual(
        self: Arc<Self>,
        rep_id: String,
        date: fieldsales_core::LocalDate,
    ) -> Result<PlanVsActual, FieldsalesError> {
        let rep = record_id("rep_id", &rep_id)?;
        self.read(move |e| {
            let result = e.plan_vs_actual(rep, date)?;
            Ok(PlanVsActual {
                completion_bp: result.completion().map(|b| i64::from(b.0)),
                lines: result
                    .lines
                    .into_iter()
                    .map(|l| PlanLine {
                        customer_id: l.customer_id.to_string(),
                        outcome: match l.outcome {
                            CoreOutcome::PlannedDone => PlanOutcome::PlannedDone,
                            CoreOutcome::PlannedNotDone => PlanOutcome::PlannedNotDone,
                            _ => PlanOutcome::Unplanned,
                        },
                        visit_id: l.visit_id.map(|v| v.to_string()),
                    })
                    .collect(),
            })
        })
        .await
    }

    /// Reminders falling due in `[from, until)`, for the app to schedule notifications:
    /// the user's tasks and schedule entries, and the overdue-stage reminders of deals they
    /// own or whose owner they manage.
    pub async fn reminders_due(
        self: Arc<Self>,
        from: fieldsales_core::Timestamp,
        until: fieldsales_core::Timestamp,
    ) -> Result<Vec<Reminder>, FieldsalesError> {
        self.read(move |e| {
            Ok(e.reminders_due(from, until)?
                .into_iter()
                .map(|r| Reminder {
                    kind: match r.kind {
                        CoreReminderKind::OverdueStage => ReminderKind::OverdueStage,
                        _ => ReminderKind::Task,
                    },
                    record_id: r.record_id.to_string(),
                    title: r.title,
                    remind_at: r.remind_at,
                    due_at: r.due_at,
                })
                .collect())
        })
        .await
    }
}
