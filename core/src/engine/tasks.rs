//! Tasks and schedule entries (任务 / 日程), the day's agenda, and the reminders the app
//! hands to the phone's notification scheduler.
//!
//! A task given to someone else is owned by the assignee and shared with the assigner, so it
//! reaches both through sync; the assignee's acceptance or refusal travels back the same way.
//! The phone schedules OS notifications from [`Engine::reminders_due`] because a reminder must
//! fire with the app closed and no signal: a task's or schedule entry's own reminder, and a
//! deal's overdue-stage reminder the server's job recorded (`overdue_reminded_at`) for its
//! owner and their manager.

use autosurgeon::Text;
use rusqlite::params;

use crate::record::task::{Postponement, TaskKind, TaskStatus};
use crate::record::visit_plan::PlannedVisit;
use crate::record::{Header, Kind, RecordRef, Task, UserProfile};
use crate::store::StoreRead;
use crate::{Error, LocalDate, RecordId, Result, Timestamp};

use super::Engine;
use crate::rule::RuleCode;

/// The longest rejection reason kept, in characters.
pub const MAX_REJECT_REASON_CHARS: usize = 500;

/// A task or schedule entry to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    /// Who does it: the signed-in user or someone else.
    pub assignee: RecordId,
    /// A to-do or a calendar entry.
    pub kind: TaskKind,
    /// Title.
    pub title: String,
    /// Details.
    pub description: String,
    /// Due time (tasks).
    pub due_at: Option<Timestamp>,
    /// Start (schedule entries).
    pub start_at: Option<Timestamp>,
    /// End (schedule entries).
    pub end_at: Option<Timestamp>,
    /// When to remind the assignee.
    pub reminder_at: Option<Timestamp>,
    /// The record it is about.
    pub related: Option<RecordRef>,
}

/// A user's day, in their own zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Agenda {
    /// The local day.
    pub date: LocalDate,
    /// Calendar entries touching the day, by start.
    pub schedule: Vec<Task>,
    /// Open or proposed tasks due during the day, by due time.
    pub tasks_due: Vec<Task>,
    /// Open or proposed tasks due before the day and not done, by due time.
    pub overdue: Vec<Task>,
    /// The visits planned for the day.
    pub planned_visits: Vec<PlannedVisit>,
}

/// A reminder the phone should raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// What it is about.
    pub kind: ReminderKind,
    /// The task, schedule entry or deal.
    pub record_id: RecordId,
    /// Its title, for the notification: the task's, or the deal's name and its stage.
    pub title: String,
    /// When to raise it.
    pub remind_at: Timestamp,
    /// When the task is due (or the entry starts); when the deal's stage time ran out.
    pub due_at: Option<Timestamp>,
}

crate::string_enum! {
    /// What a reminder is about.
    pub enum ReminderKind {
        /// A task or schedule entry.
        Task = "task",
        /// A deal past its stage's longest time (to its owner and their manager).
        OverdueStage = "overdue_stage",
    }
}

fn is_active(status: &TaskStatus) -> bool {
    matches!(status, TaskStatus::Open | TaskStatus::Proposed)
}

impl Engine {
    /// Creates a task or schedule entry for oneself (open at once) or for someone else
    /// (proposed, until the assignee accepts or rejects it).
    pub fn create_task(&mut self, new: NewTask) -> Result<Task> {
        let me = self.me().clone();
        let now = self.now();
        let unit = if new.assignee == me.user_id {
            me.unit_id
        } else {
            self.store().get::<UserProfile>(new.assignee)?.unit_id
        };
        let mut header = Header::new(me.user_id, now);
        header.owner_id = Some(new.assignee);
        header.org_unit_id = Some(unit);
        if new.assignee != me.user_id {
            header.shared_with.insert(me.user_id);
        }
        let task = Task {
            header,
            kind: new.kind,
            title: new.title.trim().to_string(),
            description: Text::with_value(new.description),
            assigner_id: me.user_id,
            due_at: new.due_at,
            start_at: new.start_at,
            end_at: new.end_at,
            reminder_at: new.reminder_at,
            status: if new.assignee == me.user_id {
                TaskStatus::Open
            } else {
                TaskStatus::Proposed
            },
            reject_reason: None,
            completed_at: None,
            postponements: Vec::new(),
            related: new.related,
        };
        self.guarded()?.create(task)
    }

    /// The assignee accepts a task someone gave them.
    pub fn accept_task(&mut self, id: RecordId) -> Result<Task> {
        let me = self.me().user_id;
        self.guarded()?.update::<Task>(id, |t| {
            answerable(t, me)?;
            t.status = TaskStatus::Open;
            Ok(())
        })
    }

    /// The assignee refuses a task someone gave them, saying why.
    pub fn reject_task(&mut self, id: RecordId, reason: &str) -> Result<Task> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::rule(
                RuleCode::TaskReasonRequired,
                "a rejection needs a reason",
            ));
        }
        let chars = reason.chars().count();
        if chars > MAX_REJECT_REASON_CHARS {
            return Err(Error::InvalidInput {
                field: "reason",
                detail: format!("{chars} characters; at most {MAX_REJECT_REASON_CHARS} are kept"),
            });
        }
        let me = self.me().user_id;
        self.guarded()?.update::<Task>(id, |t| {
            answerable(t, me)?;
            t.status = TaskStatus::Rejected;
            t.reject_reason = Some(reason.to_string());
            Ok(())
        })
    }

    /// The assignee completes an open task.
    pub fn complete_task(&mut self, id: RecordId) -> Result<Task> {
        let (me, now) = (self.me().user_id, self.now());
        self.guarded()?.update::<Task>(id, |t| {
            assignee_only(t, me)?;
            if t.status != TaskStatus::Open {
                return Err(Error::rule(
                    RuleCode::TaskNotOpen,
                    format!("a {} task cannot be completed; accept it first", t.status),
                ));
            }
            t.status = TaskStatus::Completed;
            t.completed_at = Some(now);
            Ok(())
        })
    }

    /// The assignee moves an open task (or a schedule entry) to a later time; its reminder
    /// moves by the same amount.
    pub fn postpone_task(&mut self, id: RecordId, to: Timestamp) -> Result<Task> {
        let (me, now) = (self.me().user_id, self.now());
        if to <= now {
            return Err(Error::rule(
                RuleCode::TaskPostponeToPast,
                format!("{to} is not in the future"),
            ));
        }
        self.guarded()?.update::<Task>(id, |t| {
            assignee_only(t, me)?;
            if !is_active(&t.status) {
                return Err(Error::rule(
                    RuleCode::TaskNotOpen,
                    format!("a {} task cannot be postponed", t.status),
                ));
            }
            let from = t.when();
            let shift = from.map(|f| to.millis_since(f));
            match t.kind {
                TaskKind::Schedule => {
                    t.start_at = Some(to);
                    if let (Some(end), Some(shift)) = (t.end_at, shift) {
                        t.end_at = Some(end.plus_millis(shift));
                    }
                }
                _ => t.due_at = Some(to),
            }
            if let (Some(r), Some(shift)) = (t.reminder_at, shift) {
                t.reminder_at = Some(r.plus_millis(shift));
            }
            t.postponements.push(Postponement { from, to, at: now });
            Ok(())
        })
    }

    /// Deletes a task: one's own, or one the signed-in user gave someone else (an assignee
    /// rejects a task instead of deleting it).
    pub fn delete_task(&mut self, id: RecordId) -> Result<()> {
        let me = self.me().user_id;
        let t: Task = self.store().get(id)?;
        if t.assigner_id != me {
            return Err(Error::NotAllowed(
                "only who gave a task deletes it; the assignee rejects it".into(),
            ));
        }
        self.guarded()?.delete(id, Some(me), None)
    }

    /// The signed-in user's day (`date` in their own zone): schedule entries, tasks due and
    /// overdue, and planned visits.
    pub fn agenda(&self, date: LocalDate) -> Result<Agenda> {
        self.agenda_of(self.me().user_id, date)
    }

    /// A user's day (`date` in that user's zone): the signed-in user's own, or, for a manager,
    /// that of someone in a unit their scope covers (as [`Engine::plan_visits`] allows).
    /// Only entries the signed-in user may see are listed.
    pub fn agenda_of(&self, user: RecordId, date: LocalDate) -> Result<Agenda> {
        let me = self.me().clone();
        let tree = self.org_tree()?;
        let zone = if user == me.user_id {
            me.zone.clone()
        } else {
            let profile = self
                .user_profile(user)?
                .ok_or_else(|| Error::not_found(Kind::UserProfile, user))?;
            if !me.manages_others() || !tree.visible_units(&me).covers(profile.unit_id) {
                return Err(Error::NotAllowed(
                    "a colleague's day is open to the managers whose scope covers them".into(),
                ));
            }
            profile.zone
        };
        let (from, until) = super::reports::day_window(date, &zone);
        let ids: Vec<RecordId> = {
            let mut stmt = self.store().connection().prepare_cached(
                "SELECT id FROM tasks
                 WHERE owner_id = ?1 AND deleted = 0 AND status IN ('open', 'proposed')
                   AND ((kind = 'schedule' AND start_at < ?3
                             AND COALESCE(end_at, start_at) >= ?2)
                        OR (kind <> 'schedule' AND due_at < ?3))",
            )?;
            let rows = stmt.query_map(params![user, from, until], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut agenda = Agenda {
            date,
            schedule: Vec::new(),
            tasks_due: Vec::new(),
            overdue: Vec::new(),
            planned_visits: self
                .plan_for(user, date)?
                .filter(|p| tree.can_see(&me, &p.header))
                .map(|p| p.items)
                .unwrap_or_default(),
        };
        for id in ids {
            let t: Task = self.store().get(id)?;
            if !tree.can_see(&me, &t.header) {
                continue;
            }
            match (&t.kind, t.when()) {
                (TaskKind::Schedule, _) => agenda.schedule.push(t),
                (_, Some(due)) if due >= from => agenda.tasks_due.push(t),
                _ => agenda.overdue.push(t),
            }
        }
        for list in [
            &mut agenda.schedule,
            &mut agenda.tasks_due,
            &mut agenda.overdue,
        ] {
            list.sort_by_key(|t| (t.when(), t.header.id));
        }
        Ok(agenda)
    }

    /// Today's agenda, "today" being the signed-in user's local day now.
    pub fn today(&self) -> Result<Agenda> {
        self.agenda(self.now().local_date(&self.me().zone))
    }

    /// The reminders of the signed-in user's open and proposed tasks that fall in
    /// `[from, until)`, earliest first.
    pub fn reminders_due(&self, from: Timestamp, until: Timestamp) -> Result<Vec<Reminder>> {
        let me = self.me().user_id;
        let ids: Vec<RecordId> = {
            let mut stmt = self.store().connection().prepare_cached(
                "SELECT id FROM tasks
                 WHERE owner_id = ?1 AND deleted = 0 AND status IN ('open', 'proposed')
                   AND reminder_at >= ?2 AND reminder_at < ?3
                 ORDER BY reminder_at, id",
            )?;
            let rows = stmt.query_map(params![me, from, until], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut due = ids
            .into_iter()
            .map(|id| {
                let t: Task = self.store().get(id)?;
                Ok(Reminder {
                    kind: ReminderKind::Task,
                    record_id: t.header.id,
                    title: t.title.clone(),
                    remind_at: t.reminder_at.unwrap_or(from),
                    due_at: t.when(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        due.extend(self.stage_reminders_recorded(from, until)?);
        due.sort_by_key(|r| (r.remind_at, r.record_id));
        Ok(due)
    }

    /// The overdue-stage reminders the server recorded in `[from, until)` on open deals this
    /// device holds, for the signed-in user when they own the deal or manage its owner.
    fn stage_reminders_recorded(&self, from: Timestamp, until: Timestamp) -> Result<Vec<Reminder>> {
        let me = self.me().user_id;
        let process = self.process()?;
        let limits = crate::jobs::stage_limits(&process.stages);
        // Read once, and only when a deal of someone else's needs it.
        let mut tree: Option<crate::scope::OrgTree> = None;
        let mut due = Vec::new();
        // A reminder is recorded only once the stage's time has run out.
        for id in self.store().stages_run_out(&limits, until)? {
            let deal: crate::record::Opportunity = self.store().get(id)?;
            let Some(at) = deal
                .overdue_reminded_at
                .filter(|t| *t >= from && *t < until)
            else {
                continue;
            };
            let Some(owner) = deal.header.owner_id else {
                continue;
            };
            if owner != me {
                let tree = match &tree {
                    Some(tree) => tree,
                    None => tree.insert(self.org_tree()?),
                };
                let unit = match self.user_profile(owner)? {
                    Some(profile) => profile.unit_id,
                    None => continue,
                };
                if tree.manager_of(owner, unit) != Some(me) {
                    continue;
                }
            }
            let stage = process.stages.iter().find(|s| s.key == deal.stage);
            let stage_name = stage.map_or(deal.stage.as_str(), |s| s.name.as_str());
            let due_at = match (limits.get(&deal.stage), deal.stage_entered_at()) {
                (Some(limit), Some(entered)) => Some(entered.plus_millis(*limit)),
                _ => None,
            };
            due.push(Reminder {
                kind: ReminderKind::OverdueStage,
                record_id: deal.header.id,
                title: format!("{}: {stage_name}", deal.name),
                remind_at: at,
                due_at,
            });
        }
        Ok(due)
    }
}

fn assignee_only(t: &Task, me: RecordId) -> Result<()> {
    if t.header.owner_id != Some(me) {
        return Err(Error::NotAllowed("only the assignee acts on a task".into()));
    }
    if t.header.is_deleted() {
        return Err(Error::rule(RuleCode::TaskDeleted, "the task was deleted"));
    }
    Ok(())
}

fn answerable(t: &Task, me: RecordId) -> Result<()> {
    assignee_only(t, me)?;
    if t.status != TaskStatus::Proposed {
        return Err(Error::rule(
            RuleCode::TaskNotProposed,
            format!("the task is {} already", t.status),
        ));
    }
    Ok(())
}
