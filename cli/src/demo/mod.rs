//! A whole sales org on one machine: a real sync server on loopback, a phone store per
//! person, and one working day every rep spends offline, synced and read back through the
//! managers' dashboards.
//!
//! The demo goes through the same doors a real tenant does: the admin API for the org,
//! `sign_in` and `sync_now` for every device, engine operations for every action. Nothing is
//! written behind the server's back, so the dashboards it prints are what a manager's phone
//! would show, and the `simulated` tally beside them is the demo's own record of what it did:
//! the two agreeing is the point.
//!
//! The day simulated is the last working day before today in the reps' zone (yesterday, or
//! Friday on a weekend or a Monday: nobody owes a report for a weekend). The reps' phones run
//! on a manual clock set to that day and sync today on the right time, so "late" (after the
//! deadline, before the day closed) and "missing" (no report once the day closed) are judged
//! by the server as they would be for a real working day. The server's clock follows the
//! phones (it reads the days before when they first sync, today when they sync the simulated
//! day), since it measures every phone's clock and would find a day recorded after its syncs
//! backdated. The people joined a week earlier (the profile's `created_at`, which the admin
//! API accepts): a rep owes reports only from the day they joined, and a rep who joined today
//! would owe none for yesterday.
//!
//! This module runs the steps in order ([`run`]); each step is a module of its own:
//! [`server`] (the server's lifecycle), [`org`] (seeding the org through the admin API),
//! `catalogue` (HQ's products), `phones` (signing in, opening and syncing a phone), `day`
//! (one rep's simulated day) with `pipeline` (their deals), `dashboards` (the managers'
//! approvals and dashboards) and [`report`] (what the demo shows). The command line prints
//! the report.

mod catalogue;
mod dashboards;
pub mod data;
mod day;
mod error;
pub mod org;
mod phones;
mod pipeline;
pub mod report;
pub mod server;

use std::collections::BTreeMap;
use std::path::PathBuf;

use fieldsales_core::dashboard::GroupBy;
use fieldsales_core::fieldwork::{Employment, WorkCalendar};
use fieldsales_core::time::ManualClock;
use fieldsales_core::{Clock, LocalDate, Timestamp, Zone};

pub use error::DemoError;
pub use org::Admin;
pub use report::{DemoReport, ManagerDashboard, RefusedMove, Simulated, Tally};
pub use server::DemoServer;

use crate::transfer::Progress;
use dashboards::Manager;
use day::{HOUR_MS, RepDay};
use org::Person;
use pipeline::PIPELINE_DAYS_BEFORE;

/// The demo tenant.
pub const TENANT: &str = "demo";
/// The demo admin's login.
pub const ADMIN_LOGIN: &str = "admin";
/// The admin's password (a demo on loopback; printed with the URL).
pub const ADMIN_PASSWORD: &str = "demo-admin-password";
/// Every other demo person's password.
pub const PASSWORD: &str = "demo-password-2026";
/// The default seed: the same day every run.
pub const DEFAULT_SEED: u64 = 20_260_101;
/// Customers in the org.
pub const CUSTOMERS: usize = 300;
/// Reps per team.
pub const REPS_PER_TEAM: usize = 3;
/// The HQ admin who keeps the product catalogue.
pub const HQ_LOGIN: &str = "hq01";

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The folder for the server's database and every device store (emptied first).
    pub data_dir: PathBuf,
    /// The seed of names, places and the day.
    pub seed: u64,
}

/// A running demo: the report, and the server still serving.
pub struct Demo {
    /// What it did.
    pub report: DemoReport,
    server: DemoServer,
}

impl Demo {
    /// Stops the server gracefully.
    pub async fn stop(self) -> Result<(), DemoError> {
        self.server.stop().await
    }
}

/// The working day before `today` by the default work calendar (Monday to Friday): the demo's
/// day must be one the reps owed a report for, whatever day the demo runs.
fn last_working_day_before(today: LocalDate) -> LocalDate {
    let calendar = WorkCalendar::default();
    let mut day = today.pred();
    while calendar
        .day_off(
            day,
            &Employment {
                started_on: day,
                left_on: None,
                leave: &[],
            },
        )
        .is_some()
    {
        day = day.pred();
    }
    day
}

/// Starts the server, seeds the org, simulates the day, syncs, and reads the dashboards.
pub async fn run(options: &DemoOptions, progress: &dyn Progress) -> Result<Demo, DemoError> {
    let zone = Zone::SHANGHAI;
    let date = last_working_day_before(Timestamp::now().local_date(&zone));
    let mut rng = fastrand::Rng::with_seed(options.seed);

    progress.start("server", None);
    let server = DemoServer::start(
        &options.data_dir,
        date.start(&zone)
            .plus_millis(8 * HOUR_MS - 24 * PIPELINE_DAYS_BEFORE * HOUR_MS),
    )
    .await?;
    let base = server.base.clone();
    let admin = Admin::sign_in(&base, TENANT, ADMIN_LOGIN, ADMIN_PASSWORD).await?;
    progress.finish();

    progress.start("org", None);
    let (regions, teams) = org::seed(&admin, &mut rng, &options.data_dir).await?;
    progress.finish();

    let people: Vec<&Person> = teams
        .iter()
        .flat_map(|t| std::iter::once(&t.manager).chain(&t.reps))
        .chain(regions.iter().map(|r| &r.director))
        .collect();
    progress.start("catalogue", None);
    catalogue::add(&base, &options.data_dir).await?;
    progress.finish();

    progress.start("sign in", Some(people.len() as u64));
    for person in &people {
        phones::sign_in(&base, person, ManualClock::new(server.clock.now())).await?;
        progress.advance(1);
    }
    progress.finish();

    let reps: Vec<(usize, &org::Team, &Person)> = teams
        .iter()
        .flat_map(|t| t.reps.iter().map(move |r| (t, r)))
        .enumerate()
        .map(|(i, (t, r))| (i, t, r))
        .collect();
    let per_rep = CUSTOMERS / reps.len();
    let mut simulated = Simulated {
        date,
        seed: options.seed,
        total: Tally::default(),
        teams: BTreeMap::new(),
        regions: BTreeMap::new(),
        refused_moves: Vec::new(),
    };
    progress.start("working day", Some(reps.len() as u64));
    for (index, team, rep) in &reps {
        let day = RepDay {
            index: *index,
            reps: reps.len(),
            date,
            zone: zone.clone(),
            customers: per_rep,
            first_customer: index * per_rep,
            seed: options.seed,
        };
        let (tally, refused) = day.simulate(rep, team.city, &mut rng)?;
        simulated.total.add(&tally);
        for (by, name) in [
            (&mut simulated.teams, &team.name),
            (&mut simulated.regions, &team.region),
        ] {
            by.entry(name.clone()).or_default().add(&tally);
        }
        simulated.refused_moves.extend(refused);
        progress.advance(1);
    }
    progress.finish();

    server.clock.set(Timestamp::now());
    progress.start("sync", Some(reps.len() as u64));
    for (_, _, rep) in &reps {
        phones::open_and_sync(rep).await?;
        progress.advance(1);
    }
    progress.finish();

    // Every manager's phone: the team managers approve what waits for them; then the
    // regional directors look at their regions.
    let managers: Vec<Manager<'_>> = teams
        .iter()
        .map(|t| Manager {
            person: &t.manager,
            unit: &t.name,
            level: "team",
            group_by: GroupBy::Rep,
        })
        .chain(regions.iter().map(|r| Manager {
            person: &r.director,
            unit: &r.name,
            level: "region",
            group_by: GroupBy::Team,
        }))
        .collect();
    progress.start("dashboards", Some(managers.len() as u64));
    let mut dashboards = Vec::new();
    for manager in &managers {
        let dashboard = dashboards::review(manager, date).await?;
        // Every approval that waited was approved.
        let by = if manager.level == "team" {
            &mut simulated.teams
        } else {
            &mut simulated.regions
        };
        if let Some(t) = by.get_mut(manager.unit) {
            t.approvals_approved += dashboard.approvals_waiting;
        }
        simulated.total.approvals_approved += dashboard.approvals_waiting;
        dashboards.push(dashboard);
        progress.advance(1);
    }
    progress.finish();

    // The reps' phones pull the managers' decisions.
    progress.start("sync again", Some(reps.len() as u64));
    for (_, _, rep) in &reps {
        phones::open_and_sync(rep).await?;
        progress.advance(1);
    }
    progress.finish();

    let manager_login = teams
        .first()
        .map(|t| t.manager.login.clone())
        .unwrap_or_default();
    Ok(Demo {
        report: DemoReport {
            dashboard_url: format!("{base}/dashboard"),
            admin_url: format!("{base}/admin"),
            admin_login: ADMIN_LOGIN.into(),
            admin_password: ADMIN_PASSWORD.into(),
            server: base,
            tenant: TENANT.into(),
            manager_login,
            manager_password: PASSWORD.into(),
            data_dir: options.data_dir.clone(),
            simulated,
            dashboards,
        },
        server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever day the demo runs, its tenant takes the day it simulates, synced that day:
    /// from the simulated day's first hour to the end of today (a Friday synced on a Monday,
    /// the longest) is within the upload windows of the demo's process. With the standard
    /// follow-up window (72 hours) the Friday's follow-ups were refused on every Monday.
    #[test]
    fn the_simulated_day_is_within_the_tenants_windows_whatever_day_the_demo_runs() {
        let zone = Zone::SHANGHAI;
        let process = org::process();
        let windows = [
            ("follow-ups", process.customers.follow_up_backdate_hours),
            (
                "late uploads",
                process.fieldwork.device_clock.max_upload_delay_hours,
            ),
        ];
        let mut longest = 0;
        let mut today = LocalDate::from_ymd(2026, 12, 7).expect("a Monday");
        for _ in 0..14 {
            let simulated = last_working_day_before(today);
            let hours = today
                .succ()
                .start(&zone)
                .millis_since(simulated.start(&zone))
                / HOUR_MS;
            longest = longest.max(hours);
            for (what, window) in windows {
                assert!(
                    hours <= i64::from(window),
                    "{today}: the day simulated, {simulated}, is up to {hours} hours old; \
                     the window for {what} is {window} hours"
                );
            }
            today = today.succ();
        }
        assert_eq!(longest, 96, "a Friday synced on a Monday");
    }
}
