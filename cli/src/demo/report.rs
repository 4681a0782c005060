//! What the demo reports: its own tally of the simulated day, and each manager's dashboards
//! as their phone shows them after syncing. The two are printed (or written as JSON) side by
//! side; the command line's tests check that they agree.

use std::collections::BTreeMap;
use std::path::PathBuf;

use fieldsales_core::LocalDate;
use fieldsales_core::dashboard::GroupBy;
use fieldsales_core::dashboard::attention::AttentionList;
use fieldsales_core::dashboard::funnel::Funnel;
use fieldsales_core::dashboard::reports::ReportCompliance;
use fieldsales_core::dashboard::visits::VisitsDashboard;
use serde::Serialize;

/// What the simulated day did, counted by the simulation itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Customers created.
    pub customers: u64,
    /// Contacts added (one per customer).
    pub contacts: u64,
    /// Visits planned in the morning.
    pub planned: u64,
    /// Visits made without a plan.
    pub unplanned: u64,
    /// Check-ins recorded.
    pub check_ins: u64,
    /// Check-ins made standing inside the fence with a good fix.
    pub inside: u64,
    /// Check-ins made standing outside the fence with a good fix.
    pub outside: u64,
    /// Check-ins reported with a mock location.
    pub mock_location: u64,
    /// Check-ins with an accuracy worse than the limit.
    pub poor_accuracy: u64,
    /// Check-ins the device refused (hard fence mode).
    pub refused: u64,
    /// Visits checked out.
    pub checked_out: u64,
    /// Follow-ups logged.
    pub follow_ups: u64,
    /// Tasks added for the next day.
    pub tasks: u64,
    /// Reports submitted before the deadline.
    pub reports_on_time: u64,
    /// Reports submitted after the deadline on the same day.
    pub reports_late: u64,
    /// Reps who filed no report.
    pub reports_missing: u64,
    /// Orders whose discount is over the rep's limit, sent for approval.
    pub approvals_requested: u64,
    /// Those approvals the team's manager approved on their phone.
    pub approvals_approved: u64,
    /// Deals opened, the carried-in pipeline and the day's new ones.
    pub opportunities: u64,
    /// Stage moves the phones made on the day (closing a deal included).
    pub stage_moves: u64,
    /// Stage moves the phones refused on the day.
    pub stage_moves_refused: u64,
    /// Deals won on the day.
    pub won: u64,
    /// Their amount, minor units of yuan.
    pub won_amount_minor: i64,
    /// Deals lost on the day.
    pub lost: u64,
    /// Deals open at the end of the day, by stage key.
    pub open_by_stage: BTreeMap<String, u64>,
    /// Their amount, minor units of yuan, by stage key.
    pub open_amount_by_stage: BTreeMap<String, i64>,
    /// Stages entered on the day (a new deal entering its first stage included), by stage key.
    pub entered_by_stage: BTreeMap<String, u64>,
}

impl Tally {
    /// Adds another tally to this one.
    pub(super) fn add(&mut self, o: &Tally) {
        self.customers += o.customers;
        self.contacts += o.contacts;
        self.planned += o.planned;
        self.unplanned += o.unplanned;
        self.check_ins += o.check_ins;
        self.inside += o.inside;
        self.outside += o.outside;
        self.mock_location += o.mock_location;
        self.poor_accuracy += o.poor_accuracy;
        self.refused += o.refused;
        self.checked_out += o.checked_out;
        self.follow_ups += o.follow_ups;
        self.tasks += o.tasks;
        self.reports_on_time += o.reports_on_time;
        self.reports_late += o.reports_late;
        self.reports_missing += o.reports_missing;
        self.approvals_requested += o.approvals_requested;
        self.approvals_approved += o.approvals_approved;
        self.opportunities += o.opportunities;
        self.stage_moves += o.stage_moves;
        self.stage_moves_refused += o.stage_moves_refused;
        self.won += o.won;
        self.won_amount_minor += o.won_amount_minor;
        self.lost += o.lost;
        for (mine, theirs) in [
            (&mut self.open_by_stage, &o.open_by_stage),
            (&mut self.entered_by_stage, &o.entered_by_stage),
        ] {
            for (stage, n) in theirs {
                *mine.entry(stage.clone()).or_default() += n;
            }
        }
        for (stage, n) in &o.open_amount_by_stage {
            *self.open_amount_by_stage.entry(stage.clone()).or_default() += n;
        }
    }
}

/// A stage move the phone refused, as the rep saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusedMove {
    /// The rep.
    pub login: String,
    /// The deal.
    pub opportunity: String,
    /// The stage it is in.
    pub from: String,
    /// The stage asked for.
    pub to: String,
    /// The rule's code (`stage.skip`).
    pub rule: String,
    /// What the phone said.
    pub detail: String,
}

/// The simulation's own record: the day, and the tally per team and in all.
#[derive(Debug, Clone, Serialize)]
pub struct Simulated {
    /// The day simulated, in the reps' zone.
    pub date: LocalDate,
    /// The seed used.
    pub seed: u64,
    /// Every team.
    pub total: Tally,
    /// By team name.
    pub teams: BTreeMap<String, Tally>,
    /// By region name.
    pub regions: BTreeMap<String, Tally>,
    /// The stage moves the phones refused.
    pub refused_moves: Vec<RefusedMove>,
}

/// One manager's dashboards after the day synced.
#[derive(Debug, Clone, Serialize)]
pub struct ManagerDashboard {
    /// The manager's login.
    pub login: String,
    /// Their name.
    pub name: String,
    /// The team or region they manage.
    pub unit: String,
    /// `team` for a team manager, `region` for a regional director.
    pub level: String,
    /// How the rows are grouped: by rep for a team, by team for a region.
    pub group_by: GroupBy,
    /// The pipeline: open deals now, stages entered and deals closed on the day.
    pub funnel: Funnel,
    /// Visits of the day.
    pub visits: VisitsDashboard,
    /// Daily-report compliance of the day.
    pub reports: ReportCompliance,
    /// What needs the manager: overdue deals, leads about to be reclaimed, approvals.
    pub attention: AttentionList,
    /// Approvals that were waiting for the manager when their phone synced.
    pub approvals_waiting: u64,
    /// Approvals still waiting after they decided and synced again.
    pub approvals_waiting_after: u64,
}

/// What the demo shows.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    /// The server's base URL.
    pub server: String,
    /// The web dashboard.
    pub dashboard_url: String,
    /// The tenant.
    pub tenant: String,
    /// A manager's login for the web dashboard.
    pub manager_login: String,
    /// Their password.
    pub manager_password: String,
    /// The admin console.
    pub admin_url: String,
    /// The admin's login for it.
    pub admin_login: String,
    /// Their password.
    pub admin_password: String,
    /// Where the data is.
    pub data_dir: PathBuf,
    /// What the simulation did.
    pub simulated: Simulated,
    /// Every team manager's dashboards, then every regional director's.
    pub dashboards: Vec<ManagerDashboard>,
}
