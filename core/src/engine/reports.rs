//! Daily reports (工作日报): a draft filled from the day's work, submitted offline, judged
//! against the deadline in the rep's own zone, and read, commented and found false by
//! managers.
//!
//! The phone judges a submission at once by its own clock when a sync has shown that clock to
//! be right, and otherwise says "awaiting receipt": only the server's receipt time can decide
//! then, and the server's verdict arrives with the next pull.

use std::collections::BTreeSet;

use autosurgeon::Text;
use rusqlite::params;

use crate::authority::fieldwork::{false_mark, manages, report_day_off};
use crate::fieldwork::report::ReportDay;
use crate::fieldwork::{
    DayOff, FalseMark, Judge, ReportError, ReportFacts, ReportSubmission, ReportVerdict,
    WorkCalendar, judge_report, report_day_status,
};
use crate::record::daily_report::{ReportComment, ReportState};
use crate::record::{
    AnyRecord, Customer, DailyReport, FollowUp, Header, IdSet, Kind, Opportunity, Task,
    UserProfile, Visit,
};
use crate::scope::OrgTree;
use crate::store::StoreRead;
use crate::store::{Facts, ListFilter};
use crate::{Error, LocalDate, RecordId, Result, Timestamp, Zone};

use super::Engine;
use crate::rule::RuleCode;

/// The longest comment kept, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// New text for a report's sections; `None` leaves a section as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportSections {
    /// What was done.
    pub summary: Option<String>,
    /// Results obtained.
    pub results: Option<String>,
    /// Problems met.
    pub problems: Option<String>,
    /// The plan for tomorrow.
    pub plan_tomorrow: Option<String>,
}

/// A rep in the viewer's scope who has filed no report for a day.
#[derive(Debug, Clone, PartialEq)]
pub struct UnfiledReport {
    /// The rep.
    pub user_id: RecordId,
    /// Their name.
    pub name: String,
    /// Open, overdue, or missing with the penalty owed.
    pub day: ReportDay,
}

/// The start of `date` and of the day after, in `zone`.
pub(crate) fn day_window(date: LocalDate, zone: &Zone) -> (Timestamp, Timestamp) {
    (date.start(zone), date.succ().start(zone))
}

fn report_rule(e: ReportError) -> Error {
    let rule = match e {
        ReportError::SubmittedBeforeReportDay { .. } => RuleCode::ReportBeforeItsDay,
        ReportError::EmptyFalseReason => RuleCode::ReportReasonRequired,
        ReportError::FalseReasonTooLong { .. } => RuleCode::ReportReasonTooLong,
    };
    Error::rule(rule, e.to_string())
}

impl Engine {
    /// The signed-in rep's report for `date`: the one written already, or a new draft filled
    /// from that day's visits, follow-ups, completed tasks and stage changes, the day taken
    /// in the rep's own zone.
    pub fn report_draft(&mut self, date: LocalDate) -> Result<DailyReport> {
        let me = self.me().clone();
        if let Some(existing) = self.report_of(me.user_id, date)? {
            return Ok(existing);
        }
        let (from, until) = day_window(date, &me.zone);
        let mut visits: Vec<Visit> = self
            .list_full::<Visit>(Kind::Visit, me.user_id, from, until)?
            .into_iter()
            .filter(|v| v.check_in.at >= from && v.check_in.at < until)
            .collect();
        visits.sort_by_key(|v| (v.check_in.at, v.header.id));
        let follow_ups = self.follow_ups_between(me.user_id, from, until)?;
        let tasks = self.tasks_completed_between(me.user_id, from, until)?;
        let stages = self.stage_changes_between(me.user_id, from, until)?;

        let summary = self.draft_summary(&visits, &follow_ups, &tasks, &stages, &me.zone)?;
        let mut header = Header::new(me.user_id, self.now());
        header.org_unit_id = Some(me.unit_id);
        let report = DailyReport {
            header,
            date,
            zone: me.zone.clone(),
            summary: Text::with_value(summary),
            results: Text::default(),
            problems: Text::default(),
            plan_tomorrow: Text::default(),
            visit_ids: visits.iter().map(|v| v.header.id).collect(),
            follow_up_ids: follow_ups.iter().map(|f| f.header.id).collect(),
            task_ids: tasks.iter().map(|t| t.header.id).collect(),
            state: ReportState::Draft,
            submitted_at: None,
            submitted_clock_offset_ms: None,
            received_at: None,
            comments: Vec::new(),
            read_by: IdSet::new(),
            marked_false: None,
            verdict: None,
        };
        self.guarded()?.create(report)
    }

    /// `rep`'s report for `date`, if this device holds one (the earliest, when two devices
    /// each started one offline).
    pub fn report_of(&self, rep: RecordId, date: LocalDate) -> Result<Option<DailyReport>> {
        let rows = self.store().list(&ListFilter {
            kind: Some(Kind::DailyReport),
            owner: Some(rep),
            from_date: Some(date),
            to_date: Some(date),
            limit: Some(16),
            ..ListFilter::default()
        })?;
        let mut reports = rows
            .iter()
            .map(|r| self.store().get::<DailyReport>(r.id))
            .collect::<Result<Vec<_>>>()?;
        reports.sort_by_key(|r| {
            (
                r.state != ReportState::Submitted,
                r.header.created_at,
                r.header.id,
            )
        });
        Ok(reports.into_iter().next())
    }

    /// Edits the sections of the rep's own draft. Each section is collaborative text: an edit
    /// made in the browser at the same time merges with this one.
    pub fn edit_report(&mut self, id: RecordId, sections: ReportSections) -> Result<DailyReport> {
        for (field, value) in [
            ("summary", &sections.summary),
            ("results", &sections.results),
            ("problems", &sections.problems),
            ("plan_tomorrow", &sections.plan_tomorrow),
        ] {
            if let Some(v) = value
                && v.chars().count() > crate::engine::visits::MAX_NOTE_CHARS
            {
                return Err(Error::InvalidInput {
                    field,
                    detail: format!(
                        "at most {} characters are kept",
                        crate::engine::visits::MAX_NOTE_CHARS
                    ),
                });
            }
        }
        let me = self.me().user_id;
        self.guarded()?.update::<DailyReport>(id, |r| {
            if r.header.owner_id != Some(me) {
                return Err(Error::NotAllowed("only the rep edits their report".into()));
            }
            if r.state != ReportState::Draft {
                return Err(Error::rule(
                    RuleCode::ReportNotDraft,
                    "a submitted report is no longer edited",
                ));
            }
            for (text, value) in [
                (&mut r.summary, sections.summary),
                (&mut r.results, sections.results),
                (&mut r.problems, sections.problems),
                (&mut r.plan_tomorrow, sections.plan_tomorrow),
            ] {
                if let Some(v) = value {
                    text.update(v);
                }
            }
            Ok(())
        })
    }

    /// Submits the rep's own draft, offline or not. The submission instant is the device's
    /// with its last measured clock offset; the phone's verdict is on time or late when that
    /// offset is credible, "awaiting receipt" otherwise.
    pub fn submit_report(&mut self, id: RecordId) -> Result<DailyReport> {
        let settings = self.fieldwork_settings()?;
        let now = self.now();
        let clock = self.clock_offset()?;
        let me = self.me().user_id;
        let day_off = self.day_off_of(id, &settings.calendar)?;
        self.guarded()?.update::<DailyReport>(id, |r| {
            if r.header.owner_id != Some(me) {
                return Err(Error::NotAllowed(
                    "only the rep submits their report".into(),
                ));
            }
            if r.state != ReportState::Draft {
                return Err(Error::rule(
                    RuleCode::ReportNotDraft,
                    format!("the report is {} already", r.state),
                ));
            }
            let facts = ReportFacts {
                date: r.date,
                zone: r.zone.clone(),
                submission: ReportSubmission {
                    submitted_at: now,
                    received_at: None,
                    device_clock: clock,
                },
                false_mark: None,
                day_off,
            };
            let verdict = judge_report(
                &facts,
                &settings.daily_report,
                &settings.device_clock,
                now,
                Judge::Device,
            )
            .map_err(report_rule)?;
            r.state = ReportState::Submitted;
            r.submitted_at = Some(now);
            r.submitted_clock_offset_ms = clock.map(|c| c.offset_ms);
            r.verdict = Some(verdict);
            Ok(())
        })
    }

    /// A manager comments on a report of a rep in their scope.
    pub fn comment_report(&mut self, id: RecordId, text: &str) -> Result<DailyReport> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::InvalidInput {
                field: "comment",
                detail: "a comment says something".into(),
            });
        }
        let chars = text.chars().count();
        if chars > MAX_COMMENT_CHARS {
            return Err(Error::InvalidInput {
                field: "comment",
                detail: format!("{chars} characters; at most {MAX_COMMENT_CHARS} are kept"),
            });
        }
        let (me, now) = (self.me().clone(), self.now());
        let tree = OrgTree::load(self.store().connection())?;
        self.guarded()?.update::<DailyReport>(id, |r| {
            if !manages(&tree, &me, &r.header) {
                return Err(Error::NotAllowed(
                    "only a manager of the rep comments on a report".into(),
                ));
            }
            r.comments.push(ReportComment {
                by: me.user_id,
                at: now,
                text: text.to_string(),
            });
            r.read_by.insert(me.user_id);
            Ok(())
        })
    }

    /// A manager marks a report of a rep in their scope as read.
    pub fn mark_report_read(&mut self, id: RecordId) -> Result<DailyReport> {
        let me = self.me().clone();
        let tree = OrgTree::load(self.store().connection())?;
        self.guarded()?.update::<DailyReport>(id, |r| {
            if !manages(&tree, &me, &r.header) {
                return Err(Error::NotAllowed(
                    "only a manager of the rep marks a report read".into(),
                ));
            }
            r.read_by.insert(me.user_id);
            Ok(())
        })
    }

    /// A manager finds a submitted report false, saying why; the false-report penalty applies.
    pub fn mark_report_false(&mut self, id: RecordId, reason: &str) -> Result<DailyReport> {
        let settings = self.fieldwork_settings()?;
        let (me, now) = (self.me().clone(), self.now());
        let mark = FalseMark::new(me.user_id, now, reason).map_err(report_rule)?;
        let tree = OrgTree::load(self.store().connection())?;
        let day_off = self.day_off_of(id, &settings.calendar)?;
        self.guarded()?.update::<DailyReport>(id, |r| {
            if !manages(&tree, &me, &r.header) {
                return Err(Error::NotAllowed(
                    "only a manager of the rep marks a report false".into(),
                ));
            }
            let Some(submitted_at) = r.submitted_at.filter(|_| r.state == ReportState::Submitted)
            else {
                return Err(Error::rule(
                    RuleCode::ReportNotSubmitted,
                    "only a submitted report can be marked false",
                ));
            };
            r.marked_false = Some(ReportComment {
                by: mark.by,
                at: mark.at,
                text: mark.reason.clone(),
            });
            r.read_by.insert(me.user_id);
            let facts = ReportFacts {
                date: r.date,
                zone: r.zone.clone(),
                submission: ReportSubmission {
                    submitted_at: r
                        .verdict
                        .as_ref()
                        .and_then(|v| v.effective_submitted_at)
                        .unwrap_or(submitted_at),
                    received_at: r.received_at,
                    device_clock: None,
                },
                false_mark: false_mark(r),
                day_off,
            };
            let verdict: ReportVerdict = judge_report(
                &facts,
                &settings.daily_report,
                &settings.device_clock,
                now,
                Judge::Device,
            )
            .map_err(report_rule)?;
            r.verdict = Some(verdict);
            Ok(())
        })
    }

    /// The reps in the viewer's scope who have no submitted report for `date` (each in their
    /// own zone): open, overdue, or missing with the penalty owed.
    pub fn unfiled_reports(&self, date: LocalDate) -> Result<Vec<UnfiledReport>> {
        let settings = self.fieldwork_settings()?;
        let now = self.now();
        let me = self.me().clone();
        let tree = OrgTree::load(self.store().connection())?;
        let visible = tree.visible_units(&me);
        let filed: BTreeSet<RecordId> = {
            let mut stmt = self.store().connection().prepare_cached(
                "SELECT owner_id FROM daily_reports
                 WHERE date = ?1 AND state = 'submitted' AND deleted = 0 AND owner_id IS NOT NULL",
            )?;
            let rows = stmt.query_map(params![date], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let users = self.store().list(&ListFilter {
            kind: Some(Kind::UserProfile),
            limit: Some(100_000),
            ..ListFilter::default()
        })?;
        let mut out = Vec::new();
        for row in users {
            let user: UserProfile = self.store().get(row.id)?;
            if user.header.id == me.user_id
                || !user.active
                || !visible.covers(user.unit_id)
                || filed.contains(&user.header.id)
            {
                continue;
            }
            out.push(UnfiledReport {
                user_id: user.header.id,
                name: user.name.clone(),
                day: report_day_status(
                    date,
                    &user.zone,
                    settings.calendar.day_off(
                        date,
                        &user.employment(user.header.created_at.local_date(&user.zone)),
                    ),
                    &settings.daily_report,
                    now,
                    Judge::Device,
                ),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.user_id.cmp(&b.user_id)));
        Ok(out)
    }

    /// The signed-in rep's own report for `date`, as a reminder: `None` once it is submitted;
    /// otherwise open (with its deadline), overdue, missing with the penalty owed, or a day
    /// off by the work calendar, when nothing is owed and no reminder is due.
    pub fn report_due(&self, date: LocalDate) -> Result<Option<ReportDay>> {
        if self
            .report_of(self.me().user_id, date)?
            .is_some_and(|r| r.state == ReportState::Submitted)
        {
            return Ok(None);
        }
        let settings = self.fieldwork_settings()?;
        let me = self.me();
        let day_off = match self.store().find_any(me.user_id)? {
            Some(AnyRecord::UserProfile(p)) => {
                let joined = p.header.created_at.local_date(&p.zone);
                settings.calendar.day_off(date, &p.employment(joined))
            }
            _ => None,
        };
        Ok(Some(report_day_status(
            date,
            &me.zone,
            day_off,
            &settings.daily_report,
            self.now(),
            Judge::Device,
        )))
    }

    /// Why the rep of report `id` owed no report for its day, by `calendar` and their profile.
    fn day_off_of(&self, id: RecordId, calendar: &WorkCalendar) -> Result<Option<DayOff>> {
        let report: DailyReport = self.store().get(id)?;
        report_day_off(&Facts::new(self.store()), &report, calendar)
    }

    fn list_full<R: crate::record::Record>(
        &self,
        kind: Kind,
        owner: RecordId,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<R>> {
        let rows = self.store().list(&ListFilter {
            kind: Some(kind),
            owner: Some(owner),
            from: Some(from),
            until: Some(until),
            limit: Some(10_000),
            ..ListFilter::default()
        })?;
        rows.iter().map(|r| self.store().get::<R>(r.id)).collect()
    }

    fn tasks_completed_between(
        &self,
        rep: RecordId,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Task>> {
        let ids: Vec<RecordId> = {
            let mut stmt = self.store().connection().prepare_cached(
                "SELECT id FROM tasks
                 WHERE owner_id = ?1 AND completed_at >= ?2 AND completed_at < ?3
                     AND status = 'completed' AND deleted = 0
                 ORDER BY completed_at, id",
            )?;
            let rows = stmt.query_map(params![rep, from, until], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        ids.into_iter().map(|id| self.store().get(id)).collect()
    }

    /// Stages the rep moved their opportunities into during the window, oldest first.
    fn stage_changes_between(
        &self,
        rep: RecordId,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(String, String, Timestamp)>> {
        let rows = self.store().list(&ListFilter {
            kind: Some(Kind::Opportunity),
            owner: Some(rep),
            limit: Some(100_000),
            ..ListFilter::default()
        })?;
        let mut out = Vec::new();
        for row in rows {
            let o: Opportunity = self.store().get(row.id)?;
            // The first entry is the stage it was created in, not a change.
            for e in o.stage_history.iter().skip(1) {
                if e.at >= from && e.at < until && e.by == rep {
                    out.push((o.name.clone(), e.to.clone(), e.at));
                }
            }
        }
        out.sort_by_key(|(_, _, at)| *at);
        Ok(out)
    }

    fn draft_summary(
        &self,
        visits: &[Visit],
        follow_ups: &[FollowUp],
        tasks: &[Task],
        stages: &[(String, String, Timestamp)],
        zone: &Zone,
    ) -> Result<String> {
        let hm = |t: Timestamp| {
            t.to_utc()
                .with_timezone(&zone.tz())
                .format("%H:%M")
                .to_string()
        };
        let mut lines = Vec::new();
        if !visits.is_empty() {
            lines.push(format!("Visits ({}):", visits.len()));
            for v in visits {
                let name = match self.store().get::<Customer>(v.customer_id) {
                    Ok(c) => c.short_name.unwrap_or(c.legal_name),
                    Err(Error::NotFound { .. }) => v.customer_id.to_string(),
                    Err(e) => return Err(e),
                };
                let until = v
                    .check_out
                    .as_ref()
                    .map(|c| format!("–{}", hm(c.at)))
                    .unwrap_or_default();
                lines.push(format!("- {} {name}", hm(v.check_in.at) + &until));
            }
        }
        if !follow_ups.is_empty() {
            lines.push(format!("Follow-ups ({}):", follow_ups.len()));
            for f in follow_ups {
                let text: String = f.text.as_str().chars().take(80).collect();
                lines.push(format!("- {} {}: {text}", hm(f.occurred_at), f.method));
            }
        }
        if !tasks.is_empty() {
            lines.push(format!("Tasks completed ({}):", tasks.len()));
            lines.extend(tasks.iter().map(|t| format!("- {}", t.title)));
        }
        if !stages.is_empty() {
            lines.push(format!("Stage changes ({}):", stages.len()));
            lines.extend(
                stages
                    .iter()
                    .map(|(name, stage, at)| format!("- {} {name} → {stage}", hm(*at))),
            );
        }
        Ok(lines.join("\n"))
    }
}
