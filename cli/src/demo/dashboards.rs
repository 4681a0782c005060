//! The managers' side once the reps' day has synced: each manager's phone syncs, approves
//! what waits for them, syncs again, and reads the day's funnel, visits, report compliance
//! and attention list, as the manager would on their phone.

use fieldsales_core::LocalDate;
use fieldsales_core::dashboard::visits::Granularity;
use fieldsales_core::dashboard::{DashboardRequest, DateRange, GroupBy};
use fieldsales_core::engine::Engine;
use fieldsales_core::process::approval::Verdict;

use super::DemoError;
use super::error::engine_error;
use super::org::Person;
use super::phones::{open_and_sync, sync_once};
use super::report::ManagerDashboard;

/// Someone who reads dashboards: a team's manager (rows by rep) or a region's director
/// (rows by team).
pub(super) struct Manager<'a> {
    /// Whose phone.
    pub person: &'a Person,
    /// The team or region they manage.
    pub unit: &'a str,
    /// `team` or `region`.
    pub level: &'static str,
    /// How their rows are grouped.
    pub group_by: GroupBy,
}

/// The manager approves every approval waiting for them on their phone (the demo's
/// discounts), syncs the decisions, and reads the dashboards of `date`.
pub(super) async fn review(
    manager: &Manager<'_>,
    date: LocalDate,
) -> Result<ManagerDashboard, DemoError> {
    let login = &manager.person.login;
    let mut engine = open_and_sync(manager.person).await?;
    let waiting = engine
        .approvals_waiting_for_me()
        .map_err(engine_error(login, "list approvals"))?;
    for approval in &waiting {
        engine
            .decide_approval(approval.header.id, Verdict::Approve, Some("同意，下不为例"))
            .map_err(engine_error(login, "approve"))?;
    }
    sync_once(&mut engine, login).await?;
    let waiting_after = engine
        .approvals_waiting_for_me()
        .map_err(engine_error(login, "list approvals"))?
        .len();
    read(
        &engine,
        manager,
        date,
        waiting.len() as u64,
        waiting_after as u64,
    )
}

/// One manager's dashboards of `date`, read on their phone.
fn read(
    engine: &Engine,
    manager: &Manager<'_>,
    date: LocalDate,
    approvals_waiting: u64,
    approvals_waiting_after: u64,
) -> Result<ManagerDashboard, DemoError> {
    let login = &manager.person.login;
    let request = DashboardRequest {
        range: DateRange {
            from: date,
            to: date,
        },
        group_by: manager.group_by,
    };
    Ok(ManagerDashboard {
        login: login.clone(),
        name: manager.person.name.clone(),
        unit: manager.unit.to_owned(),
        level: manager.level.to_owned(),
        group_by: manager.group_by,
        funnel: engine
            .funnel_dashboard(&request)
            .map_err(engine_error(login, "funnel dashboard"))?,
        visits: engine
            .visits_dashboard(&request, Granularity::Day)
            .map_err(engine_error(login, "visits dashboard"))?,
        reports: engine
            .report_dashboard(&request)
            .map_err(engine_error(login, "report dashboard"))?,
        attention: engine
            .attention_list(request.range)
            .map_err(engine_error(login, "attention list"))?,
        approvals_waiting,
        approvals_waiting_after,
    })
}
