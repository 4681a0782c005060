//! The signed-in user's dashboards over the local store.
//!
//! The numbers are those of the last successful sync: each result says when that was, so a
//! manager reading a dashboard in a lift knows how fresh it is.

use super::Engine;
use crate::Result;
use crate::Timestamp;
use crate::dashboard::{
    self, AttentionList, Context, DashboardRequest, DashboardSettings, DateRange, Funnel,
    Granularity, MapPoints, PointCursor, ReportCompliance, TargetBoard, Viewer, VisitsDashboard,
};

impl Engine {
    /// When the data on this device was last brought up to date by a sync; `None` if never.
    pub fn data_as_of(&self) -> Result<Option<Timestamp>> {
        dashboard::last_sync(self.store())
    }

    /// The dashboard settings: defaults, with amounts and penalties in the currency of the
    /// tenant's daily-report settings.
    pub fn dashboard_settings(&self) -> Result<DashboardSettings> {
        Ok(DashboardSettings {
            currency: self.fieldwork_settings()?.daily_report.currency,
            ..DashboardSettings::default()
        })
    }

    fn with_dashboard<T>(&self, f: impl FnOnce(&Context<'_>) -> Result<T>) -> Result<T> {
        let viewer = Viewer::of(self.store(), self.me().clone())?;
        let process = self.process()?;
        let settings = self.dashboard_settings()?;
        let ctx = Context::new(
            self.store(),
            &viewer,
            &process,
            &settings,
            self.now(),
            self.data_as_of()?,
        );
        f(&ctx)
    }

    /// The sales funnel of my scope.
    pub fn funnel_dashboard(&self, req: &DashboardRequest) -> Result<Funnel> {
        self.with_dashboard(|ctx| dashboard::funnel::funnel(ctx, req))
    }

    /// The visits of my scope.
    pub fn visits_dashboard(
        &self,
        req: &DashboardRequest,
        granularity: Granularity,
    ) -> Result<VisitsDashboard> {
        self.with_dashboard(|ctx| dashboard::visits::visits(ctx, req, granularity))
    }

    /// A page of my scope's check-ins in `range` for a map, newest first: at most `limit`
    /// (1 to [`DashboardSettings::map_point_limit`]), after the previous page's `next`.
    pub fn visit_map_points(
        &self,
        range: DateRange,
        limit: u32,
        after: Option<PointCursor>,
    ) -> Result<MapPoints> {
        self.with_dashboard(|ctx| dashboard::visits::visit_map_points(ctx, range, limit, after))
    }

    /// Daily-report compliance of my scope.
    pub fn report_dashboard(&self, req: &DashboardRequest) -> Result<ReportCompliance> {
        self.with_dashboard(|ctx| dashboard::reports::reports(ctx, req))
    }

    /// Target attainment of my scope, as a leaderboard.
    pub fn target_dashboard(&self, req: &DashboardRequest) -> Result<TargetBoard> {
        self.with_dashboard(|ctx| dashboard::targets::targets(ctx, req))
    }

    /// What needs my attention; `range` selects the reclaimed leads.
    pub fn attention_list(&self, range: DateRange) -> Result<AttentionList> {
        self.with_dashboard(|ctx| dashboard::attention::attention(ctx, range))
    }
}
