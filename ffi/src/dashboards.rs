//! The manager's team dashboard on the phone: the sales funnel of their scope.
//!
//! Computed in core over the local store, from the data of the last sync, with the same
//! functions the server's dashboard API runs; each result says how fresh it is
//! (`data_as_of_ms`) so a manager reading it offline knows.

use std::sync::Arc;

use fieldsales_core::dashboard::funnel::{FunnelFigures as CoreFigures, StageFigures as CoreStage};
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
        let from = crate::time::date("from", &from)?;
        let to = crate::time::date("to", &to)?;
        let group_by = match group_by.as_str() {
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
        self.read(move |e| {
            Ok(e.funnel_dashboard(&DashboardRequest { range, group_by })?
                .into())
        })
        .await
    }
}
