//! The manager's team dashboards on the phone: the funnel, visits, report compliance, target
//! attainment and what needs attention, over their scope.
//!
//! Computed in core over the local store, from the data of the last sync, with the same
//! functions the server's dashboard API runs; each result says how fresh it is
//! (`data_as_of`) so a manager reading it offline knows.

use std::sync::Arc;

use fieldsales_core::dashboard::attention::AttentionList;
use fieldsales_core::dashboard::funnel::{FunnelFigures as CoreFigures, StageFigures as CoreStage};
use fieldsales_core::dashboard::reports::{ReportCompliance, ReportFigures as CoreReportFigures};
use fieldsales_core::dashboard::targets::TargetBoard;
use fieldsales_core::dashboard::visits::{
    CheckInPoint as CorePoint, MapPoints as CoreMapPoints, PointCursor,
    VisitFigures as CoreVisitFigures, VisitsDashboard as CoreVisits,
};
use fieldsales_core::dashboard::{DashboardRequest, DateRange, Funnel, GroupBy};

use crate::engine::Engine;
use crate::error::FieldsalesError;
use crate::money::Money;

/// One stage of the funnel, for one group or the total.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StageFigures {
    /// The stage's code.
    pub stage: String,
    /// Open deals in the stage now.
    pub open: i64,
    /// Their amount.
    pub open_amount: Money,
    /// Their amount times the stage's win probability.
    pub weighted_amount: Money,
    /// Entries into the stage within the range.
    pub entered: i64,
    /// Of those, how many moved on to a later stage or were won.
    pub advanced: i64,
    /// Advanced over entered, in basis points (25% is 2500); none when nothing entered.
    pub conversion_bp: Option<i32>,
}

/// The funnel figures of one group, or of the whole scope.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FunnelFigures {
    /// Per stage, in the process's order.
    pub stages: Vec<StageFigures>,
    /// Open amount over all stages.
    pub pipeline: Money,
    /// Weighted forecast.
    pub weighted_forecast: Money,
    /// Deals won within the range.
    pub won: i64,
    /// Their amount.
    pub won_amount: Money,
    /// Deals lost within the range.
    pub lost: i64,
    /// Won over closed, in basis points; none when nothing closed.
    pub win_rate_bp: Option<i32>,
    /// Deals whose progress a manager marked false (虚假推进) within the range.
    pub false_progress: i64,
    /// The fines of those marks.
    pub false_progress_penalties: Money,
}

impl From<CoreFigures> for FunnelFigures {
    fn from(f: CoreFigures) -> Self {
        FunnelFigures {
            stages: f
                .stages
                .into_iter()
                .map(|s: CoreStage| StageFigures {
                    stage: s.stage,
                    open: crate::signed(s.open),
                    open_amount: s.open_amount.into(),
                    weighted_amount: s.weighted_amount.into(),
                    entered: crate::signed(s.entered),
                    advanced: crate::signed(s.advanced),
                    conversion_bp: s.conversion.map(|b| b.0).map(crate::signed32),
                })
                .collect(),
            pipeline: f.pipeline.into(),
            weighted_forecast: f.weighted_forecast.into(),
            won: crate::signed(f.won),
            won_amount: f.won_amount.into(),
            lost: crate::signed(f.lost),
            win_rate_bp: f.win_rate.map(|b| b.0).map(crate::signed32),
            false_progress: crate::signed(f.false_progress),
            false_progress_penalties: f.false_progress_penalties.into(),
        }
    }
}

/// One row of the funnel: a rep, a team or a region.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FunnelRow {
    /// The rep's, team's or region's ID.
    pub group_id: String,
    /// Its name.
    pub group_name: String,
    /// Its figures.
    pub figures: FunnelFigures,
}

/// The sales funnel of the user's scope.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FunnelDashboard {
    /// When the data was last brought up to date by a sync; none if never.
    pub data_as_of: Option<fieldsales_core::Timestamp>,
    /// The currency of the amounts; deals in another are left out and counted below.
    pub currency: String,
    /// The stages as configured: code and name.
    pub stage_names: Vec<StageName>,
    /// One row per group.
    pub rows: Vec<FunnelRow>,
    /// The whole scope.
    pub total: FunnelFigures,
    /// Deals left out because their currency differs.
    pub excluded_other_currency: i64,
}

/// A stage's code and display name.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StageName {
    /// Code.
    pub key: String,
    /// Name to show.
    pub name: String,
    /// Configured win probability, basis points.
    pub win_probability_bp: i32,
}

impl From<Funnel> for FunnelDashboard {
    fn from(f: Funnel) -> Self {
        FunnelDashboard {
            data_as_of: f.data_as_of,
            currency: f.currency.code().to_string(),
            stage_names: f
                .stages
                .into_iter()
                .map(|s| StageName {
                    key: s.key,
                    name: s.name,
                    win_probability_bp: crate::signed32(s.win_probability.0),
                })
                .collect(),
            rows: f
                .groups
                .into_iter()
                .map(|r| FunnelRow {
                    group_id: r.group.id.to_string(),
                    group_name: r.group.name,
                    figures: r.figures.into(),
                })
                .collect(),
            total: f.total.into(),
            excluded_other_currency: crate::signed(f.excluded_other_currency),
        }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// The sales funnel of the user's scope between two local days (`YYYY-MM-DD`, inclusive),
    /// one row per rep, team or region.
    pub async fn funnel_dashboard(
        self: Arc<Self>,
        from: fieldsales_core::LocalDate,
        to: fieldsales_core::LocalDate,
        group_by: crate::codes::GroupBy,
    ) -> Result<FunnelDashboard, FieldsalesError> {
        let req = request(from, to, group_by)?;
        self.read(move |e| Ok(e.funnel_dashboard(&req)?.into()))
            .await
    }

    /// The visits of the user's scope between two local days, one row per group and day or
    /// week; the check-ins for a map come page by page from
    /// [`Engine::visit_map_points`].
    pub async fn visits_dashboard(
        self: Arc<Self>,
        from: fieldsales_core::LocalDate,
        to: fieldsales_core::LocalDate,
        group_by: crate::codes::GroupBy,
        granularity: crate::codes::Granularity,
    ) -> Result<VisitsDashboard, FieldsalesError> {
        let req = request(from, to, group_by)?;
        let granularity = granularity.into();
        self.read(move |e| Ok(e.visits_dashboard(&req, granularity)?.into()))
            .await
    }

    /// One page of the check-ins between two local days for the team map, newest first, at
    /// most `limit` (1 to the configured page size); pass the previous page's `next` to read
    /// on.
    pub async fn visit_map_points(
        self: Arc<Self>,
        from: fieldsales_core::LocalDate,
        to: fieldsales_core::LocalDate,
        limit: i32,
        after: Option<MapPointsCursor>,
    ) -> Result<MapPointsPage, FieldsalesError> {
        let limit = u32::try_from(limit).map_err(|_| FieldsalesError::InvalidInput {
            field: "limit".into(),
            detail: format!("{limit} points; 1 to the configured page size"),
        })?;
        let range = DateRange::new(from, to)?;
        let after = after
            .map(|c| -> Result<PointCursor, FieldsalesError> {
                Ok(PointCursor {
                    at: c.at,
                    visit_id: crate::engine::record_id("after.visit_id", &c.visit_id)?,
                })
            })
            .transpose()?;
        self.read(move |e| Ok(e.visit_map_points(range, limit, after)?.into()))
            .await
    }

    /// Daily-report compliance of the user's scope between two local days.
    pub async fn report_dashboard(
        self: Arc<Self>,
        from: fieldsales_core::LocalDate,
        to: fieldsales_core::LocalDate,
        group_by: crate::codes::GroupBy,
    ) -> Result<ReportDashboard, FieldsalesError> {
        let req = request(from, to, group_by)?;
        self.read(move |e| Ok(e.report_dashboard(&req)?.into()))
            .await
    }
}

/// A dashboard request from the app's strings.
fn request(
    from: fieldsales_core::LocalDate,
    to: fieldsales_core::LocalDate,
    group_by: crate::codes::GroupBy,
) -> Result<DashboardRequest, FieldsalesError> {
    let group_by: GroupBy = group_by.into();
    let range = DateRange::new(from, to)?;
    Ok(DashboardRequest { range, group_by })
}

/// Visit counts of one group and period, or of the whole scope.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitFigures {
    /// Planned visits.
    pub planned: i64,
    /// Planned visits that happened.
    pub planned_done: i64,
    /// Visits without a plan.
    pub unplanned: i64,
    /// Check-ins.
    pub check_ins: i64,
    /// Check-ins inside the fence.
    pub inside: i64,
    /// Check-ins outside the fence.
    pub outside: i64,
    /// Check-ins whose accuracy straddled the fence.
    pub cannot_tell: i64,
    /// Check-ins at customers with no location.
    pub unable_to_verify: i64,
    /// Check-ins not judged yet.
    pub unjudged: i64,
    /// Check-ins with at least one flag.
    pub flagged: i64,
    /// Visits checked out.
    pub checked_out: i64,
    /// Time at customers, seconds.
    pub total_duration_s: i64,
    /// Average visit, seconds.
    pub average_duration_s: Option<i64>,
}

impl From<CoreVisitFigures> for VisitFigures {
    fn from(f: CoreVisitFigures) -> Self {
        VisitFigures {
            planned: crate::signed(f.planned),
            planned_done: crate::signed(f.planned_done),
            unplanned: crate::signed(f.unplanned),
            check_ins: crate::signed(f.check_ins),
            inside: crate::signed(f.inside),
            outside: crate::signed(f.outside),
            cannot_tell: crate::signed(f.cannot_tell),
            unable_to_verify: crate::signed(f.unable_to_verify),
            unjudged: crate::signed(f.unjudged),
            flagged: crate::signed(f.flagged),
            checked_out: crate::signed(f.checked_out),
            total_duration_s: crate::signed(f.total_duration_s),
            average_duration_s: f.average_duration_s.map(crate::signed),
        }
    }
}

/// One group's visits in one period.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitRow {
    /// The rep, team or region.
    pub group_id: String,
    /// Its name.
    pub group_name: String,
    /// The first day of the period, `YYYY-MM-DD`.
    pub period: fieldsales_core::LocalDate,
    /// The counts.
    pub figures: VisitFigures,
}

/// A check-in on the team map.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CheckInPoint {
    /// The visit.
    pub visit_id: String,
    /// The rep.
    pub rep_id: String,
    /// The rep's name.
    pub rep_name: String,
    /// The customer.
    pub customer_id: String,
    /// When.
    pub at: fieldsales_core::Timestamp,
    /// Where.
    pub lat: f64,
    /// Where.
    pub lon: f64,
    /// The fence verdict, when judged.
    pub fence: Option<crate::codes::FenceStatus>,
    /// Flag codes.
    pub flags: Vec<String>,
}

/// The team's visits.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VisitsDashboard {
    /// When the data was last synced.
    pub data_as_of: Option<fieldsales_core::Timestamp>,
    /// Rows per group and period.
    pub rows: Vec<VisitRow>,
    /// The whole scope.
    pub total: VisitFigures,
}

/// One page of check-ins for the team map, newest first.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MapPointsPage {
    /// When the data was last synced.
    pub data_as_of: Option<fieldsales_core::Timestamp>,
    /// The check-ins of this page.
    pub points: Vec<CheckInPoint>,
    /// Where the next page starts (pass both to the next call); none on the last page.
    pub next: Option<MapPointsCursor>,
}

/// Where a page of map points ends.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MapPointsCursor {
    /// The check-in time of the page's last point.
    pub at: fieldsales_core::Timestamp,
    /// Its visit.
    pub visit_id: String,
}

impl From<CorePoint> for CheckInPoint {
    fn from(p: CorePoint) -> Self {
        CheckInPoint {
            visit_id: p.visit_id.to_string(),
            rep_id: p.rep.id.to_string(),
            rep_name: p.rep.name,
            customer_id: p.customer_id.to_string(),
            at: p.at,
            lat: p.lat,
            lon: p.lon,
            fence: p.fence.map(Into::into),
            flags: p.flags,
        }
    }
}

impl From<CoreMapPoints> for MapPointsPage {
    fn from(m: CoreMapPoints) -> Self {
        MapPointsPage {
            data_as_of: m.data_as_of,
            points: m.points.into_iter().map(CheckInPoint::from).collect(),
            next: m.next.map(|c| MapPointsCursor {
                at: c.at,
                visit_id: c.visit_id.to_string(),
            }),
        }
    }
}

impl From<CoreVisits> for VisitsDashboard {
    fn from(v: CoreVisits) -> Self {
        VisitsDashboard {
            data_as_of: v.data_as_of,
            rows: v
                .rows
                .into_iter()
                .map(|r| VisitRow {
                    group_id: r.group.id.to_string(),
                    group_name: r.group.name,
                    period: r.period,
                    figures: r.figures.into(),
                })
                .collect(),
            total: v.total.into(),
        }
    }
}

/// Report compliance of one group, or of the whole scope.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReportFigures {
    /// Reports submitted on time.
    pub on_time: i64,
    /// Reports submitted late.
    pub late: i64,
    /// Days without a report.
    pub missing: i64,
    /// Of those, days where not even a draft exists.
    pub missing_unfiled: i64,
    /// Reports a manager marked false.
    pub false_reports: i64,
    /// Submitted reports the server has not received yet.
    pub awaiting_receipt: i64,
    /// Days not judged yet.
    pub unjudged: i64,
    /// Penalties under the configured rules.
    pub penalties: Money,
}

impl From<CoreReportFigures> for ReportFigures {
    fn from(f: CoreReportFigures) -> Self {
        ReportFigures {
            on_time: crate::signed(f.on_time),
            late: crate::signed(f.late),
            missing: crate::signed(f.missing),
            missing_unfiled: crate::signed(f.missing_unfiled),
            false_reports: crate::signed(f.false_reports),
            awaiting_receipt: crate::signed(f.awaiting_receipt),
            unjudged: crate::signed(f.unjudged),
            penalties: f.penalties.into(),
        }
    }
}

/// One group's report compliance.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReportRow {
    /// The rep, team or region.
    pub group_id: String,
    /// Its name.
    pub group_name: String,
    /// The counts.
    pub figures: ReportFigures,
}

/// The team's daily-report compliance.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReportDashboard {
    /// When the data was last synced.
    pub data_as_of: Option<fieldsales_core::Timestamp>,
    /// One row per group.
    pub rows: Vec<ReportRow>,
    /// The whole scope.
    pub total: ReportFigures,
}

impl From<ReportCompliance> for ReportDashboard {
    fn from(r: ReportCompliance) -> Self {
        ReportDashboard {
            data_as_of: r.data_as_of,
            rows: r
                .groups
                .into_iter()
                .map(|g| ReportRow {
                    group_id: g.group.id.to_string(),
                    group_name: g.group.name,
                    figures: g.figures.into(),
                })
                .collect(),
            total: r.total.into(),
        }
    }
}

/// One target on the leaderboard.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TargetRow {
    /// Place on the board, 1 first.
    pub rank: i32,
    /// The target record.
    pub target_id: String,
    /// The rep, team or region it is for.
    pub subject_id: String,
    /// Its name.
    pub subject_name: String,
    /// Month, quarter or year.
    pub period: crate::targets::PeriodKind,
    /// The period's first day, `YYYY-MM-DD`.
    pub period_start: fieldsales_core::LocalDate,
    /// The period's last day, `YYYY-MM-DD`.
    pub period_end: fieldsales_core::LocalDate,
    /// What it counts.
    pub metric: crate::targets::TargetMetric,
    /// The goal.
    pub target: Money,
    /// What was achieved so far.
    pub achieved: Money,
    /// Achieved over the goal, basis points (85% is 8500); none for a zero goal.
    pub attainment_bp: Option<i32>,
}

/// Target attainment of the user's scope, as a leaderboard.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TargetDashboard {
    /// When the data was last synced.
    pub data_as_of: Option<fieldsales_core::Timestamp>,
    /// The currency of the amounts; targets in another are left out and counted below.
    pub currency: String,
    /// Best first.
    pub leaderboard: Vec<TargetRow>,
    /// Targets left out because their currency differs.
    pub excluded_other_currency: i64,
}

impl From<TargetBoard> for TargetDashboard {
    fn from(b: TargetBoard) -> Self {
        TargetDashboard {
            data_as_of: b.data_as_of,
            currency: b.currency.code().to_string(),
            leaderboard: b
                .leaderboard
                .into_iter()
                .map(|r| TargetRow {
                    rank: crate::signed32(r.rank),
                    target_id: r.target_id.to_string(),
                    subject_id: r.subject.id.to_string(),
                    subject_name: r.subject.name,
                    period: r.period.into(),
                    period_start: r.period_start,
                    period_end: r.period_end,
                    metric: r.metric.into(),
                    target: r.target.into(),
                    achieved: r.achieved.into(),
                    attainment_bp: r.attainment.map(|b| b.0).map(crate::signed32),
                })
                .collect(),
            excluded_other_currency: crate::signed(b.excluded_other_currency),
        }
    }
}

/// A deal past its stage's allowed time.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OverdueDeal {
    /// The opportunity.
    pub opportunity_id: String,
    /// Its name.
    pub name: String,
    /// The owning rep.
    pub owner_id: String,
    /// The rep's name.
    pub owner_name: String,
    /// Its stage's code.
    pub stage: String,
    /// When it was due to move on.
    pub due_at: fieldsales_core::Timestamp,
    /// How long overdue, ms.
    pub overdue_ms: i64,
    /// Its amount.
    pub amount: Money,
}

/// A lead about to go back to the pool for lack of follow-up.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LeadAtRisk {
    /// The lead.
    pub lead_id: String,
    /// Its company.
    pub company_name: String,
    /// The rep holding it.
    pub owner_id: String,
    /// The rep's name.
    pub owner_name: String,
    /// Last followed up.
    pub idle_since: fieldsales_core::Timestamp,
    /// When it goes back to the pool.
    pub due_at: fieldsales_core::Timestamp,
    /// Whether it is due already (the next reclaim run takes it).
    pub due_now: bool,
}

/// A lead that went back to the pool within the range.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReclaimedLead {
    /// The lead.
    pub lead_id: String,
    /// Its company.
    pub company_name: String,
    /// The rep it was taken from.
    pub from_id: String,
    /// The rep's name.
    pub from_name: String,
    /// When.
    pub at: fieldsales_core::Timestamp,
    /// Its status now.
    pub status: crate::codes::LeadStatus,
}

/// An approval waiting for the user's decision.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WaitingApproval {
    /// The approval.
    pub approval_id: String,
    /// What it is about, in words.
    pub title: String,
    /// Who asked.
    pub requester_id: String,
    /// Their name.
    pub requester_name: String,
    /// The kind of record it is about.
    pub subject_kind: crate::codes::RecordKind,
    /// The record.
    pub subject_id: String,
    /// The rule that asked for it.
    pub rule: String,
    /// The amount at stake, if any.
    pub amount: Option<Money>,
    /// The roles of its steps, in order.
    pub step_roles: Vec<String>,
    /// When it was asked for.
    pub created_at: fieldsales_core::Timestamp,
}

/// One of the user's own changes the server refused.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RefusedChange {
    /// The record.
    pub record_id: String,
    /// Its kind.
    pub kind: crate::codes::RecordKind,
    /// The rule's stable code.
    pub reason_code: String,
    /// Why, in words.
    pub detail: String,
    /// When.
    pub rejected_at: fieldsales_core::Timestamp,
}

/// What needs the manager's attention now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AttentionDashboard {
    /// When the data was last synced.
    pub data_as_of: Option<fieldsales_core::Timestamp>,
    /// Deals stuck past their stage's time, most overdue first (cut at the configured limit).
    pub overdue_opportunities: Vec<OverdueDeal>,
    /// How many there are in all.
    pub overdue_opportunities_total: i64,
    /// Leads about to go back to the pool.
    pub leads_due_for_reclaim: Vec<LeadAtRisk>,
    /// How many there are in all.
    pub leads_due_for_reclaim_total: i64,
    /// Leads that went back to the pool within the range.
    pub reclaimed_leads: Vec<ReclaimedLead>,
    /// How many there are in all.
    pub reclaimed_leads_total: i64,
    /// Approvals waiting for the user.
    pub approvals_waiting: Vec<WaitingApproval>,
    /// The user's own changes the server refused.
    pub rejected_changes: Vec<RefusedChange>,
    /// Deals whose progress a manager marked false (虚假推进) within the range, in the order
    /// they were marked (cut at the configured limit).
    pub false_progress: Vec<FalselyProgressedDeal>,
    /// How many there are in all.
    pub false_progress_total: i64,
}

/// A deal whose progress a manager marked false.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FalselyProgressedDeal {
    /// The deal.
    pub opportunity_id: String,
    /// Its name.
    pub name: String,
    /// The rep's ID.
    pub owner_id: String,
    /// The rep's name.
    pub owner_name: String,
    /// Its stage.
    pub stage: String,
    /// When the manager marked it.
    pub marked_at: fieldsales_core::Timestamp,
    /// The fine, in minor units of the deal's currency.
    pub penalty_minor: i64,
}

impl From<AttentionList> for AttentionDashboard {
    fn from(a: AttentionList) -> Self {
        AttentionDashboard {
            data_as_of: a.data_as_of,
            overdue_opportunities: a
                .overdue_opportunities
                .into_iter()
                .map(|o| OverdueDeal {
                    opportunity_id: o.opportunity_id.to_string(),
                    name: o.name,
                    owner_id: o.owner.id.to_string(),
                    owner_name: o.owner.name,
                    stage: o.stage,
                    due_at: o.due_at,
                    overdue_ms: o.overdue_ms,
                    amount: o.amount.into(),
                })
                .collect(),
            overdue_opportunities_total: crate::signed(a.overdue_opportunities_total),
            leads_due_for_reclaim: a
                .leads_due_for_reclaim
                .into_iter()
                .map(|l| LeadAtRisk {
                    lead_id: l.lead_id.to_string(),
                    company_name: l.company_name,
                    owner_id: l.owner.id.to_string(),
                    owner_name: l.owner.name,
                    idle_since: l.idle_since,
                    due_at: l.due_at,
                    due_now: l.due_now,
                })
                .collect(),
            leads_due_for_reclaim_total: crate::signed(a.leads_due_for_reclaim_total),
            reclaimed_leads: a
                .reclaimed_leads
                .into_iter()
                .map(|l| ReclaimedLead {
                    lead_id: l.lead_id.to_string(),
                    company_name: l.company_name,
                    from_id: l.from.id.to_string(),
                    from_name: l.from.name,
                    at: l.at,
                    status: l
                        .status
                        .parse::<fieldsales_core::record::lead::LeadStatus>()
                        .map(Into::into)
                        .unwrap_or(crate::codes::LeadStatus::Other),
                })
                .collect(),
            reclaimed_leads_total: crate::signed(a.reclaimed_leads_total),
            approvals_waiting: a
                .approvals_waiting
                .into_iter()
                .map(|w| WaitingApproval {
                    approval_id: w.approval_id.to_string(),
                    title: w.title,
                    requester_id: w.requester.id.to_string(),
                    requester_name: w.requester.name,
                    subject_kind: crate::codes::RecordKind::of_code(&w.subject_kind),
                    subject_id: w.subject_id.to_string(),
                    rule: w.rule,
                    amount: w.amount.map(Money::from),
                    step_roles: w.step_roles,
                    created_at: w.created_at,
                })
                .collect(),
            rejected_changes: a
                .rejected_changes
                .into_iter()
                .map(|r| RefusedChange {
                    record_id: r.record_id.to_string(),
                    kind: crate::codes::RecordKind::of_code(&r.kind),
                    reason_code: r.reason_code,
                    detail: r.detail,
                    rejected_at: r.rejected_at,
                })
                .collect(),
            false_progress: a
                .false_progress
                .into_iter()
                .map(|f| FalselyProgressedDeal {
                    opportunity_id: f.opportunity_id.to_string(),
                    name: f.name,
                    owner_id: f.owner.id.to_string(),
                    owner_name: f.owner.name,
                    stage: f.stage,
                    marked_at: f.marked_at,
                    penalty_minor: f.penalty_minor,
                })
                .collect(),
            false_progress_total: crate::signed(a.false_progress_total),
        }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// Target attainment of the user's scope between two local days (`YYYY-MM-DD`), as a
    /// leaderboard of the targets whose period overlaps them, one per rep, team or region.
    pub async fn target_dashboard(
        self: Arc<Self>,
        from: fieldsales_core::LocalDate,
        to: fieldsales_core::LocalDate,
        group_by: crate::codes::GroupBy,
    ) -> Result<TargetDashboard, FieldsalesError> {
        let req = request(from, to, group_by)?;
        self.read(move |e| Ok(e.target_dashboard(&req)?.into()))
            .await
    }

    /// What needs the user's attention now; `from`..`to` (local days) selects the leads
    /// that went back to the pool.
    pub async fn attention_dashboard(
        self: Arc<Self>,
        from: fieldsales_core::LocalDate,
        to: fieldsales_core::LocalDate,
    ) -> Result<AttentionDashboard, FieldsalesError> {
        let range = DateRange::new(from, to)?;
        self.read(move |e| Ok(e.attention_list(range)?.into()))
            .await
    }
}
