//! Dashboards over a tenant's records: the phone's own dashboard code run on the server's copy
//! of the same tables, so a manager's browser and phone show the same numbers for the same
//! scope. The scope is the signed-in viewer's, never anything the request says.

use fieldsales_core::dashboard::{
    self, AttentionList, Context, DashboardRequest, DashboardSettings, DateRange, Funnel,
    Granularity, MapPoints, PointCursor, ReportCompliance, TargetBoard, Viewer, VisitsDashboard,
};
use fieldsales_core::engine::Me;
use fieldsales_core::store::Store as CoreStore;
use fieldsales_core::{Error, Timestamp};

/// Which dashboard, for which days and rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DashboardQuery {
    /// The sales funnel.
    Funnel(DashboardRequest),
    /// Visits, with rows per day or week.
    Visits(DashboardRequest, Granularity),
    /// Daily-report compliance.
    Reports(DashboardRequest),
    /// Target attainment.
    Targets(DashboardRequest),
    /// What needs attention; the range selects reclaimed leads.
    Attention(DateRange),
    /// A page of check-in points for the map: days, page size, where the page starts.
    MapPoints(DateRange, u32, Option<PointCursor>),
}

/// A computed dashboard.
#[derive(Debug, Clone, PartialEq)]
pub enum Dashboard {
    /// The sales funnel.
    Funnel(Funnel),
    /// Visits.
    Visits(VisitsDashboard),
    /// Daily-report compliance.
    Reports(ReportCompliance),
    /// Target attainment.
    Targets(TargetBoard),
    /// What needs attention.
    Attention(AttentionList),
    /// A page of check-in points.
    MapPoints(MapPoints),
}

/// Computes `query` for `me` over `store` at `now`.
pub(super) fn compute(
    store: &CoreStore,
    me: Me,
    query: &DashboardQuery,
    now: Timestamp,
) -> Result<Dashboard, Error> {
    let conn = store.connection();
    let viewer = Viewer::load(conn, me)?;
    let process = store.sales_process()?;
    let settings = DashboardSettings {
        currency: process.fieldwork.daily_report.currency,
        ..DashboardSettings::default()
    };
    let ctx = Context {
        conn,
        viewer: &viewer,
        process: &process,
        settings: &settings,
        now,
        data_as_of: Some(now),
    };
    Ok(match query {
        DashboardQuery::Funnel(req) => Dashboard::Funnel(dashboard::funnel::funnel(&ctx, req)?),
        DashboardQuery::Visits(req, g) => {
            Dashboard::Visits(dashboard::visits::visits(&ctx, req, *g)?)
        }
        DashboardQuery::Reports(req) => Dashboard::Reports(dashboard::reports::reports(&ctx, req)?),
        DashboardQuery::Targets(req) => Dashboard::Targets(dashboard::targets::targets(&ctx, req)?),
        DashboardQuery::Attention(range) => {
            Dashboard::Attention(dashboard::attention::attention(&ctx, *range)?)
        }
        DashboardQuery::MapPoints(range, limit, after) => Dashboard::MapPoints(
            dashboard::visits::visit_map_points(&ctx, *range, *limit, *after)?,
        ),
    })
}
