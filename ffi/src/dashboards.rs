//! The manager's team dashboard on the phone: the sales funnel of their scope.
//!
//! Computed in core over the local store, from the data of the last sync, with the same
//! functions the server's dashboard API runs; each result says how fresh it is
//! (`data_as_of_ms`) so a manager reading it offline knows.

use std::sync::Arc;

use fieldsales_core::dashboard::funnel::{FunnelFigures as CoreFigures, StageFigures as CoreStage};
use fieldsales_core::dashboard::reports::{ReportCompliance, ReportFigures as CoreReportFigures};
use fieldsales_core::dashboard::visits::{
    Granularity, VisitFigures as CoreVisitFigures, VisitsDashboard as CoreVisits,
};
use fieldsales_core::dashboard::{DashboardRequest, DateRange, Funnel, GroupBy};

use crate::engine::{Engine, ms};
use crate::error::FieldsalesError;
use crate::money::Money;

/// One stage of the funnel, for one group or the total.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StageFigures {
    /// The stage's code.
    pub stage: String,
    /// Open deals in the stage now.
    pub open: u64,
    /// Their amount.
    pub open_amount: Money,
    /// Their amount times the stage's win probability.
    pub weighted_amount: Money,
    /// Entries into the stage within the range.
    pub entered: u64,
    /// Of those, how many moved on to a later stage or were won.
    pub advanced: u64,
    /// Advanced over entered, in basis points (25% is 2500); none when nothing entered.
    pub conversion_bp: Option<u32>,
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
    pub won: u64,
    /// Their amount.
    pub won_amount: Money,
    /// Deals lost within the range.
    pub lost: u64,
    /// Won over closed, in basis points; none when nothing closed.
    pub win_rate_bp: Option<u32>,
}

impl From<CoreFigures> for FunnelFigures {
    fn from(f: CoreFigures) -> Self {
        FunnelFigures {
            stages: f
                .stages
                .into_iter()
                .map(|s: CoreStage| StageFigures {
                    stage: s.stage,
                    open: s.open,
                    open_amount: s.open_amount.into(),
                    weighted_amount: s.weighted_amount.into(),
                    entered: s.entered,
                    advanced: s.advanced,
                    conversion_bp: s.conversion.map(|b| b.0),
                })
                .collect(),
            pipeline: f.pipeline.into(),
            weighted_forecast: f.weighted_forecast.into(),
            won: f.won,
            won_amount: f.won_amount.into(),
            lost: f.lost,
            win_rate_bp: f.win_rate.map(|b| b.0),
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
    /// When the data was last brought up to date by a sync, epoch ms; none if never.
    pub data_as_of_ms: Option<i64>,
    /// The currency of the amounts; deals in another are left out and counted below.
    pub currency: String,
    /// The stages as configured: code and name.
    pub stage_names: Vec<StageName>,
    /// One row per group.
    pub rows: Vec<FunnelRow>,
    /// The whole scope.
    pub total: FunnelFigures,
    /// Deals left out because their currency differs.
    pub excluded_other_currency: u64,
}

/// A stage's code and display name.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StageName {
    /// Code.
    pub key: String,
    /// Name to show.
    pub name: String,
    /// Configured win probability, basis points.
    pub win_probability_bp: u32,
}

impl From<Funnel> for FunnelDashboard {
    fn from(f: Funnel) -> Self {
        FunnelDashboard {
            data_as_of_ms: ms(f.data_as_of),
            currency: f.currency.code().to_string(),
            stage_names: f
                .stages
                .into_iter()
                .map(|s| StageName {
                    key: s.key,
                    name: s.name,
                    win_probability_bp: s.win_probability.0,
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
            excluded_other_currency: f.excluded_other_currency,
        }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// The sales funnel of the user's scope between two local days (`YYYY-MM-DD`, inclusive),
    /// one row per `rep`, `team` or `region`.
    pub async fn funnel_dashboard(
        self: Arc<Self>,
        from: String,
        to: String,
        group_by: String,
    ) -> Result<FunnelDashboard, FieldsalesError> {
        let req = request(&from, &to, &group_by)?;
        self.read(move |e| Ok(e.funnel_dashboard(&req)?.into()))
            .await
    }

    /// The visits of the user's scope between two local days, one row per group and
    /// `day` or `week`, with the check-in points for a map.
    pub async fn visits_dashboard(
        self: Arc<Self>,
        from: String,
        to: String,
        group_by: String,
        granularity: String,
    ) -> Result<VisitsDashboard, FieldsalesError> {
        let req = request(&from, &to, &group_by)?;
        let granularity = match granularity.as_str() {
            "day" => Granularity::Day,
            "week" => Granularity::Week,
            _ => {
                return Err(FieldsalesError::InvalidInput {
                    field: "granularity".into(),
                    detail: "expected one of: day, week".into(),
                });
            }
        };
        self.read(move |e| Ok(e.visits_dashboard(&req, granularity)?.into()))
            .await
    }

    /// Daily-report compliance of the user's scope between two local days.
    pub async fn report_dashboard(
        self: Arc<Self>,
        from: String,
        to: String,
        group_by: String,
    ) -> Result<ReportDashboard, FieldsalesError> {
        let req = request(&from, &to, &group_by)?;
        self.read(move |e| Ok(e.report_dashboard(&req)?.into()))
            .await
    }
}

/// A dashboard request from the app's strings.
fn request(from: &str, to: &str, group_by: &str) -> Result<DashboardRequest, FieldsalesError> {
    let from = crate::time::date("from", from)?;
    let to = crate::time::date("to", to)?;
    let group_by = match group_by {
        "rep" => GroupBy::Rep,
        "team" => GroupBy::Team,
        "region" => GroupBy::Region,
        _ => {
            return Err(FieldsalesError::InvalidInput {
                field: "group_by".into(),
                detail: "expected one of: rep, team, region".into(),
            });
        }
    };
    let range = DateRange::new(from, to)?;
    Ok(DashboardRequest { range, group_by })
}

/// Visit counts of one group and period, or of the whole scope.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitFigures {
    /// Planned visits.
    pub planned: u64,
    /// Planned visits that happened.
    pub planned_done: u64,
    /// Visits without a plan.
    pub unplanned: u64,
    /// Check-ins.
    pub check_ins: u64,
    /// Check-ins inside the fence.
    pub inside: u64,
    /// Check-ins outside the fence.
    pub outside: u64,
    /// Check-ins whose accuracy straddled the fence.
    pub cannot_tell: u64,
    /// Check-ins at customers with no location.
    pub unable_to_verify: u64,
    /// Check-ins not judged yet.
    pub unjudged: u64,
    /// Check-ins with at least one flag.
    pub flagged: u64,
    /// Visits checked out.
    pub checked_out: u64,
    /// Time at customers, seconds.
    pub total_duration_s: u64,
    /// Average visit, seconds.
    pub average_duration_s: Option<u64>,
}

impl From<CoreVisitFigures> for VisitFigures {
    fn from(f: CoreVisitFigures) -> Self {
        VisitFigures {
            planned: f.planned,
            planned_done: f.planned_done,
            unplanned: f.unplanned,
            check_ins: f.check_ins,
            inside: f.inside,
            outside: f.outside,
            cannot_tell: f.cannot_tell,
            unable_to_verify: f.unable_to_verify,
            unjudged: f.unjudged,
            flagged: f.flagged,
            checked_out: f.checked_out,
            total_duration_s: f.total_duration_s,
            average_duration_s: f.average_duration_s,
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
    pub period: String,
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
    /// When, ms.
    pub at_ms: i64,
    /// Where.
    pub lat: f64,
    /// Where.
    pub lon: f64,
    /// The fence verdict, when judged.
    pub fence: Option<String>,
    /// Flag codes.
    pub flags: Vec<String>,
}

/// The team's visits.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VisitsDashboard {
    /// When the data was last synced, ms.
    pub data_as_of_ms: Option<i64>,
    /// Rows per group and period.
    pub rows: Vec<VisitRow>,
    /// The whole scope.
    pub total: VisitFigures,
    /// Check-ins for the map.
    pub points: Vec<CheckInPoint>,
    /// Whether points were left out to keep the map readable.
    pub points_truncated: bool,
}

impl From<CoreVisits> for VisitsDashboard {
    fn from(v: CoreVisits) -> Self {
        VisitsDashboard {
            data_as_of_ms: ms(v.data_as_of),
            rows: v
                .rows
                .into_iter()
                .map(|r| VisitRow {
                    group_id: r.group.id.to_string(),
                    group_name: r.group.name,
                    period: r.period.to_string(),
                    figures: r.figures.into(),
                })
                .collect(),
            total: v.total.into(),
            points: v
                .points
                .into_iter()
                .map(|p| CheckInPoint {
                    visit_id: p.visit_id.to_string(),
                    rep_id: p.rep.id.to_string(),
                    rep_name: p.rep.name,
                    customer_id: p.customer_id.to_string(),
                    at_ms: p.at.millis(),
                    lat: p.lat,
                    lon: p.lon,
                    fence: p.fence.map(|f| f.as_str().to_string()),
                    flags: p.flags,
                })
                .collect(),
            points_truncated: v.points_truncated,
        }
    }
}

/// Report compliance of one group, or of the whole scope.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReportFigures {
    /// Reports submitted on time.
    pub on_time: u64,
    /// Reports submitted late.
    pub late: u64,
    /// Days without a report.
    pub missing: u64,
    /// Of those, days where not even a draft exists.
    pub missing_unfiled: u64,
    /// Reports a manager marked false.
    pub false_reports: u64,
    /// Submitted reports the server has not received yet.
    pub awaiting_receipt: u64,
    /// Days not judged yet.
    pub unjudged: u64,
    /// Penalties under the configured rules.
    pub penalties: Money,
}

impl From<CoreReportFigures> for ReportFigures {
    fn from(f: CoreReportFigures) -> Self {
        ReportFigures {
            on_time: f.on_time,
            late: f.late,
            missing: f.missing,
            missing_unfiled: f.missing_unfiled,
            false_reports: f.false_reports,
            awaiting_receipt: f.awaiting_receipt,
            unjudged: f.unjudged,
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
    /// When the data was last synced, ms.
    pub data_as_of_ms: Option<i64>,
    /// One row per group.
    pub rows: Vec<ReportRow>,
    /// The whole scope.
    pub total: ReportFigures,
}

impl From<ReportCompliance> for ReportDashboard {
    fn from(r: ReportCompliance) -> Self {
        ReportDashboard {
            data_as_of_ms: ms(r.data_as_of),
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
