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
//! The day simulated is yesterday in the reps' zone: the reps' phones run on a manual clock
//! set to that day, and sync today on the right time, so "late" (after the deadline, before
//! the day closed) and "missing" (no report once the day closed) are judged by the server as
//! they would be for a real yesterday. The server's clock follows the phones (it reads the
//! days before when they first sync, today when they sync the simulated day), since it
//! measures every phone's clock and would find a day recorded after its syncs backdated.
//! The people joined a week earlier (the profile's `created_at`, which the admin API
//! accepts): a rep owes reports only from the day they joined, and a rep who joined today
//! would owe none for yesterday.

pub mod data;
mod pipeline;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fieldsales_core::dashboard::attention::AttentionList;
use fieldsales_core::dashboard::funnel::Funnel;
use fieldsales_core::dashboard::reports::ReportCompliance;
use fieldsales_core::dashboard::visits::{Granularity, VisitsDashboard};
use fieldsales_core::dashboard::{DashboardRequest, DateRange, GroupBy};
use fieldsales_core::engine::follow_ups::NewFollowUp;
use fieldsales_core::engine::reports::ReportSections;
use fieldsales_core::engine::tasks::NewTask;
use fieldsales_core::engine::visits::CheckInRequest;
use fieldsales_core::engine::{ConfirmOutcome, Engine, NewOrder, NewOrderLine};
use fieldsales_core::fieldwork::check_in::DevicePosition;
use fieldsales_core::fieldwork::geofence::destination;
use fieldsales_core::process::approval::Verdict;
use fieldsales_core::process::stage::ordered_open_stages;
use fieldsales_core::process::{SalesProcess, StageOutcome};
use fieldsales_core::record::Product;
use fieldsales_core::record::contact::{Contact, DecisionRole};
use fieldsales_core::record::follow_up::FollowUpMethod;
use fieldsales_core::record::task::TaskKind;
use fieldsales_core::record::visit_plan::PlannedVisit;
use fieldsales_core::record::{Customer, Header, Kind, RecordRef};
use fieldsales_core::store::Store;
use fieldsales_core::sync::{self, CancelToken, SignIn, SyncError, SyncOptions};
use fieldsales_core::time::ManualClock;
use fieldsales_core::{BasisPoints, Currency, Money};
use fieldsales_core::{Clock, GeoPoint, LocalDate, RecordId, Timestamp, Zone};
use fieldsales_server::auth::Passwords;
use fieldsales_server::bootstrap::{BootstrapTenant, bootstrap_tenant};
use fieldsales_server::model::{DisplayName, Login, Password, TenantSlug};
use fieldsales_server::{AppState, Config, ServeError};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::admin_api::{AdminApiError, AdminClient};
use crate::transfer::Progress;

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
/// The catalogue: code, name, list price in yuan.
const PRODUCTS: [(&str, &str, i64); 4] = [
    ("P-100", "工业传感器 S1", 1_200),
    ("P-200", "智能网关 G2", 4_800),
    ("P-300", "控制模块 C3", 2_600),
    ("P-400", "年度维保服务", 9_900),
];
/// A rep's manual discount on the orders that need approval (above the default 10% limit).
const BIG_DISCOUNT_PERCENT: u32 = 15;

const HOUR_MS: i64 = 3_600_000;
/// How many days before now the demo's people joined the company.
const JOINED_DAYS_BEFORE: i64 = 7;

const MINUTE_MS: i64 = 60_000;

/// What went wrong; each says which step.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The data folder could not be prepared.
    #[error("data folder {path}: {source}")]
    DataFolder {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No loopback port could be listened on.
    #[error("cannot listen on loopback: {0}")]
    Listen(std::io::Error),
    /// The server configuration or storage refused to start.
    #[error("server: {0}")]
    Server(String),
    /// The admin API answered something unexpected.
    #[error("admin API {path}: {detail}")]
    Admin {
        /// The endpoint.
        path: String,
        /// Status and body.
        detail: String,
    },
    /// A device could not sign in or sync.
    #[error("{login}'s device: {source}")]
    Sync {
        /// Whose device.
        login: String,
        /// Why.
        source: SyncError,
    },
    /// An engine operation failed on a device.
    #[error("{login}'s device, {step}: {source}")]
    Engine {
        /// Whose device.
        login: String,
        /// What it was doing.
        step: &'static str,
        /// Why.
        source: fieldsales_core::Error,
    },
}

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The folder for the server's database and every device store (emptied first).
    pub data_dir: PathBuf,
    /// The seed of names, places and the day.
    pub seed: u64,
}

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
    fn add(&mut self, o: &Tally) {
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
    /// Where the data is.
    pub data_dir: PathBuf,
    /// What the simulation did.
    pub simulated: Simulated,
    /// Every team manager's dashboards, then every regional director's.
    pub dashboards: Vec<ManagerDashboard>,
}

/// A running demo: the report, and the server still serving.
pub struct Demo {
    /// What it did.
    pub report: DemoReport,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), ServeError>>,
}

impl Demo {
    /// Stops the server gracefully.
    pub async fn stop(self) -> Result<(), DemoError> {
        let _ = self.stop.send(());
        match self.server.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(DemoError::Server(e.to_string())),
            Err(e) => Err(DemoError::Server(e.to_string())),
        }
    }
}

struct Person {
    login: String,
    name: String,
    store: PathBuf,
}

struct Team {
    name: String,
    region: String,
    city: &'static data::City,
    manager: Person,
    reps: Vec<Person>,
}

struct Region {
    name: String,
    director: Person,
}

/// An admin signed in to the admin API: how the demo (and tests) shape a tenant the way an
/// admin console would.
pub struct Admin {
    client: AdminClient,
}

fn admin_error(e: AdminApiError) -> DemoError {
    let path = match &e {
        AdminApiError::Unreachable { url, .. } => url.clone(),
        AdminApiError::Auth { path, .. }
        | AdminApiError::Refused { path, .. }
        | AdminApiError::BadAnswer { path, .. } => path.clone(),
    };
    DemoError::Admin {
        path,
        detail: e.to_string(),
    }
}

impl Admin {
    /// Signs in as an admin of `tenant` at `base`.
    pub async fn sign_in(
        base: &str,
        tenant: &str,
        login: &str,
        password: &str,
    ) -> Result<Admin, DemoError> {
        Ok(Admin {
            client: AdminClient::sign_in(base, tenant, login, password)
                .await
                .map_err(admin_error)?,
        })
    }

    /// Posts `body` to an admin endpoint; the answer's JSON.
    pub async fn post(&self, path: &str, body: Value) -> Result<Value, DemoError> {
        self.client.post(path, body).await.map_err(admin_error)
    }

    /// Writes a record through `/v1/admin/records`; its id.
    pub async fn record(&self, record: Value) -> Result<RecordId, DemoError> {
        self.client.record(record).await.map_err(admin_error)
    }

    /// A person in `unit` with `role`: a profile and an account with the demo password.
    pub async fn person(
        &self,
        login: &str,
        name: &str,
        unit: RecordId,
        role: &str,
    ) -> Result<RecordId, DemoError> {
        self.person_since(login, name, unit, role, None).await
    }

    /// A person who joined at `joined` (now when `None`): a rep owes daily reports from the
    /// day they joined, so the demo's people join before the day it simulates.
    pub async fn person_since(
        &self,
        login: &str,
        name: &str,
        unit: RecordId,
        role: &str,
        joined: Option<Timestamp>,
    ) -> Result<RecordId, DemoError> {
        let profile = self
            .record(
                json!({"kind": "user_profile", "name": name, "employee_no": login,
                           "unit_id": unit.to_string(), "roles": [role], "zone": "Asia/Shanghai",
                           "created_at": joined}),
            )
            .await?;
        self.post(
            "/v1/admin/accounts",
            json!({"login": login, "password": PASSWORD, "profile_id": profile.to_string()}),
        )
        .await?;
        Ok(profile)
    }
}

fn engine_error(login: &str, step: &'static str) -> impl Fn(fieldsales_core::Error) -> DemoError {
    let login = login.to_owned();
    move |source| DemoError::Engine {
        login: login.clone(),
        step,
        source,
    }
}

fn sync_error(login: &str) -> impl Fn(SyncError) -> DemoError {
    let login = login.to_owned();
    move |source| DemoError::Sync {
        login: login.clone(),
        source,
    }
}

fn prepare(dir: &Path) -> Result<(), DemoError> {
    let io = |source| DemoError::DataFolder {
        path: dir.to_owned(),
        source,
    };
    for sub in ["server", "devices"] {
        let path = dir.join(sub);
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(io)?;
        }
        std::fs::create_dir_all(&path).map_err(io)?;
    }
    Ok(())
}

/// Starts the server, seeds the org, simulates the day, syncs, and reads the dashboards.
pub async fn run(options: &DemoOptions, progress: &dyn Progress) -> Result<Demo, DemoError> {
    let zone = Zone::SHANGHAI;
    let date = Timestamp::now().local_date(&zone).pred();
    let mut rng = fastrand::Rng::with_seed(options.seed);
    prepare(&options.data_dir)?;

    progress.start("server", None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(DemoError::Listen)?;
    let addr: SocketAddr = listener.local_addr().map_err(DemoError::Listen)?;
    let server_dir = options.data_dir.join("server");
    let config = Config::load(
        None,
        vec![
            (
                "FIELDSALES_DATA_DIR".to_owned(),
                server_dir.display().to_string(),
            ),
            ("FIELDSALES_LISTEN".to_owned(), addr.to_string()),
            ("FIELDSALES_LOG__LEVEL".to_owned(), "warn".to_owned()),
            ("FIELDSALES_SHUTDOWN_GRACE".to_owned(), "2s".to_owned()),
        ],
    )
    .map_err(|e| DemoError::Server(e.to_string()))?;
    // The server's clock follows the phones: it reads the morning the reps' pipeline starts
    // while they sign in and sync, and today when they sync the simulated day. A server that
    // received its first syncs today would see visits dated before them: backdated.
    let clock = Arc::new(ManualClock::new(
        date.start(&zone)
            .plus_millis(8 * HOUR_MS - 24 * PIPELINE_DAYS_BEFORE * HOUR_MS),
    ));
    bootstrap(&config, clock.now()).await?;
    let store = fieldsales_server::open_store(&config)
        .await
        .map_err(|e| DemoError::Server(e.to_string()))?;
    let grace = config.shutdown_grace;
    let state = AppState::new(config, Arc::new(store), clock.clone())
        .await
        .map_err(|e| DemoError::Server(e.to_string()))?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(fieldsales_server::serve(
        fieldsales_server::app(state),
        listener,
        None,
        grace,
        async move {
            let _ = stopped.await;
        },
    ));
    let base = format!("http://{addr}");
    let admin = Admin::sign_in(&base, TENANT, ADMIN_LOGIN, ADMIN_PASSWORD).await?;
    progress.finish();

    progress.start("org", None);
    let (regions, teams) = seed_org(&admin, &mut rng, &options.data_dir).await?;
    progress.finish();

    let people: Vec<&Person> = teams
        .iter()
        .flat_map(|t| std::iter::once(&t.manager).chain(&t.reps))
        .chain(regions.iter().map(|r| &r.director))
        .collect();
    progress.start("catalogue", None);
    catalogue(&base, &options.data_dir).await?;
    progress.finish();

    progress.start("sign in", Some(people.len() as u64));
    for person in &people {
        let engine = sync::sign_in(
            &SignIn {
                server_url: base.clone(),
                tenant: TENANT.into(),
                login: person.login.clone(),
                password: PASSWORD.into(),
                device_name: format!("{}的手机", person.name),
            },
            &person.store,
        )
        .await
        .map_err(sync_error(&person.login))?;
        drop(engine);
        let mut engine = open(
            &person.store,
            &person.login,
            Some(ManualClock::new(clock.now())),
        )?;
        sync_once(&mut engine, &person.login).await?;
        progress.advance(1);
    }
    progress.finish();

    let reps: Vec<(usize, &Team, &Person)> = teams
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

    clock.set(Timestamp::now());
    progress.start("sync", Some(reps.len() as u64));
    for (_, _, rep) in &reps {
        let mut engine = open(&rep.store, &rep.login, None)?;
        sync_once(&mut engine, &rep.login).await?;
        progress.advance(1);
    }
    progress.finish();

    // Every manager's phone: the team managers approve what waits for them; then the
    // regional directors look at their regions.
    let managers: Vec<(&Person, &str, &str, GroupBy)> = teams
        .iter()
        .map(|t| (&t.manager, t.name.as_str(), "team", GroupBy::Rep))
        .chain(
            regions
                .iter()
                .map(|r| (&r.director, r.name.as_str(), "region", GroupBy::Team)),
        )
        .collect();
    progress.start("dashboards", Some(managers.len() as u64));
    let mut dashboards = Vec::new();
    for (person, unit, level, group_by) in managers {
        let mut engine = open(&person.store, &person.login, None)?;
        sync_once(&mut engine, &person.login).await?;
        let waiting = engine
            .approvals_waiting_for_me()
            .map_err(engine_error(&person.login, "list approvals"))?;
        for approval in &waiting {
            engine
                .decide_approval(approval.header.id, Verdict::Approve, Some("同意，下不为例"))
                .map_err(engine_error(&person.login, "approve"))?;
            let by = if level == "team" {
                &mut simulated.teams
            } else {
                &mut simulated.regions
            };
            if let Some(t) = by.get_mut(unit) {
                t.approvals_approved += 1;
            }
            simulated.total.approvals_approved += 1;
        }
        sync_once(&mut engine, &person.login).await?;
        let waiting_after = engine
            .approvals_waiting_for_me()
            .map_err(engine_error(&person.login, "list approvals"))?
            .len();
        dashboards.push(ManagerDashboard {
            login: person.login.clone(),
            name: person.name.clone(),
            unit: unit.to_owned(),
            level: level.to_owned(),
            group_by,
            approvals_waiting: waiting.len() as u64,
            approvals_waiting_after: waiting_after as u64,
            ..read_dashboards(&engine, &person.login, date, group_by)?
        });
        progress.advance(1);
    }
    progress.finish();

    // The reps' phones pull the managers' decisions.
    progress.start("sync again", Some(reps.len() as u64));
    for (_, _, rep) in &reps {
        let mut engine = open(&rep.store, &rep.login, None)?;
        sync_once(&mut engine, &rep.login).await?;
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
            server: base,
            tenant: TENANT.into(),
            manager_login,
            manager_password: PASSWORD.into(),
            data_dir: options.data_dir.clone(),
            simulated,
            dashboards,
        },
        stop,
        server,
    })
}

/// One manager's dashboards of `date`, read on their phone.
fn read_dashboards(
    engine: &Engine,
    login: &str,
    date: LocalDate,
    group_by: GroupBy,
) -> Result<ManagerDashboard, DemoError> {
    let request = DashboardRequest {
        range: DateRange {
            from: date,
            to: date,
        },
        group_by,
    };
    Ok(ManagerDashboard {
        login: login.to_owned(),
        name: String::new(),
        unit: String::new(),
        level: String::new(),
        group_by,
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
        approvals_waiting: 0,
        approvals_waiting_after: 0,
    })
}

/// The HQ admin signs in and adds the product catalogue, which every phone then pulls.
async fn catalogue(base: &str, dir: &Path) -> Result<(), DemoError> {
    let mut engine = sync::sign_in(
        &SignIn {
            server_url: base.to_owned(),
            tenant: TENANT.into(),
            login: HQ_LOGIN.into(),
            password: PASSWORD.into(),
            device_name: "总部电脑".into(),
        },
        &dir.join("devices").join(format!("{HQ_LOGIN}.sqlite3")),
    )
    .await
    .map_err(sync_error(HQ_LOGIN))?;
    sync_once(&mut engine, HQ_LOGIN).await?;
    let me = engine.me().user_id;
    for (code, name, price) in PRODUCTS {
        // The catalogue is attributed to nobody, so every member of the tenant pulls it.
        let mut header = Header::new(me, engine.now());
        header.owner_id = None;
        header.org_unit_id = None;
        let product = Product {
            header,
            code: code.into(),
            name: name.into(),
            spec: None,
            unit: Some("台".into()),
            list_price: Money::major(price, Currency::CNY),
            cost: None,
            category: Some("工业自动化".into()),
            product_line: None,
            tier_prices: BTreeMap::new(),
            volume_breaks: Vec::new(),
            promotions: Vec::new(),
            active: true,
        };
        engine
            .create_product(product)
            .map_err(engine_error(HQ_LOGIN, "add a product"))?;
    }
    sync_once(&mut engine, HQ_LOGIN).await
}

async fn bootstrap(config: &Config, now: Timestamp) -> Result<(), DemoError> {
    let server = |e: &dyn std::fmt::Display| DemoError::Server(e.to_string());
    let store = fieldsales_server::open_store(config)
        .await
        .map_err(|e| server(&e))?;
    let passwords = Passwords::new(1).await.map_err(|e| server(&e))?;
    let parse = |e: &dyn std::fmt::Display| DemoError::Server(format!("demo tenant: {e}"));
    bootstrap_tenant(
        &store,
        &passwords,
        config.auth.min_password_length,
        BootstrapTenant {
            slug: TenantSlug::parse(TENANT).map_err(|e| parse(&e))?,
            name: DisplayName::parse("示范销售公司").map_err(|e| parse(&e))?,
            admin_login: Login::parse(ADMIN_LOGIN).map_err(|e| parse(&e))?,
            admin_password: Password::new(ADMIN_PASSWORD),
            admin_profile_id: None,
        },
        now,
    )
    .await
    .map_err(|e| server(&e))?;
    Ok(())
}

async fn seed_org(
    admin: &Admin,
    rng: &mut fastrand::Rng,
    dir: &Path,
) -> Result<(Vec<Region>, Vec<Team>), DemoError> {
    // The standard process, loaded as an admin loads a process file: every phone pulls it.
    let process = SalesProcess::standard()
        .to_toml()
        .map_err(|e| DemoError::Server(format!("the standard process: {e}")))?;
    admin
        .record(json!({"kind": "process_config", "toml": process, "revision": 1}))
        .await?;
    for (code, name, scope) in [
        ("sales_rep", "销售代表", "own"),
        ("sales_manager", "销售经理", "subtree"),
        ("regional_director", "大区总监", "region"),
        ("hq_admin", "总部管理员", "all"),
    ] {
        admin
            .record(json!({"kind": "role", "code": code, "name": name, "data_scope": scope}))
            .await?;
    }
    let unit = |name: &str, level: &str, parent: Option<RecordId>| {
        json!({"kind": "org_unit", "name": name, "level": level,
               "parent_id": parent.map(|p| p.to_string()), "zone": "Asia/Shanghai"})
    };
    let hq = admin.record(unit("总部", "hq", None)).await?;
    let joined = Some(Timestamp::now().plus_millis(-JOINED_DAYS_BEFORE * 24 * HOUR_MS));
    let store = |login: &str| dir.join("devices").join(format!("{login}.sqlite3"));
    let hq_name = data::person_name(rng);
    admin
        .person_since(HQ_LOGIN, &hq_name, hq, "hq_admin", joined)
        .await?;
    let mut teams = Vec::new();
    let mut regions = Vec::new();
    let mut rep_no = 0;
    for (r, (region_name, region_teams)) in data::REGIONS.iter().enumerate() {
        let region = admin.record(unit(region_name, "region", Some(hq))).await?;
        let director = format!("director{}", r + 1);
        let director_name = data::person_name(rng);
        admin
            .person_since(
                &director,
                &director_name,
                region,
                "regional_director",
                joined,
            )
            .await?;
        regions.push(Region {
            name: (*region_name).to_owned(),
            director: Person {
                store: store(&director),
                login: director,
                name: director_name,
            },
        });
        for (team_name, city) in region_teams {
            let team_id = admin.record(unit(team_name, "team", Some(region))).await?;
            let manager_login = format!("manager{}", teams.len() + 1);
            let manager_name = data::person_name(rng);
            let manager_id = admin
                .person_since(
                    &manager_login,
                    &manager_name,
                    team_id,
                    "sales_manager",
                    joined,
                )
                .await?;
            // The team names its manager, so approvals route to them.
            admin
                .record(
                    json!({"kind": "org_unit", "id": team_id.to_string(), "name": team_name,
                               "level": "team", "parent_id": region.to_string(),
                               "manager_id": manager_id.to_string(), "zone": "Asia/Shanghai"}),
                )
                .await?;
            let mut reps = Vec::new();
            for _ in 0..REPS_PER_TEAM {
                rep_no += 1;
                let login = format!("rep{rep_no:02}");
                let name = data::person_name(rng);
                admin
                    .person_since(&login, &name, team_id, "sales_rep", joined)
                    .await?;
                reps.push(Person {
                    store: store(&login),
                    login,
                    name,
                });
            }
            teams.push(Team {
                name: (*team_name).to_owned(),
                region: (*region_name).to_owned(),
                city,
                manager: Person {
                    store: store(&manager_login),
                    login: manager_login,
                    name: manager_name,
                },
                reps,
            });
        }
    }
    Ok((regions, teams))
}

/// Opens a signed-in device store; on `clock` when given (the simulated day), else on
/// the system clock.
fn open(path: &Path, login: &str, clock: Option<ManualClock>) -> Result<Engine, DemoError> {
    let store = match clock {
        Some(c) => Store::open_with_clock(path, Arc::new(c)),
        None => Store::open(path),
    }
    .map_err(engine_error(login, "open the store"))?;
    Engine::resume(store)
        .map_err(engine_error(login, "resume the session"))?
        .ok_or_else(|| DemoError::Sync {
            login: login.to_owned(),
            source: SyncError::NotSignedIn,
        })
}

async fn sync_once(engine: &mut Engine, login: &str) -> Result<(), DemoError> {
    let report = sync::sync_now(
        engine,
        &SyncOptions::default(),
        &|_| {},
        &CancelToken::new(),
    )
    .await
    .map_err(sync_error(login))?;
    if let Some(first) = report.rejected.first() {
        return Err(DemoError::Sync {
            login: login.to_owned(),
            source: SyncError::Protocol(format!(
                "the server rejected {} record(s), first: {first:?}",
                report.rejected.len()
            )),
        });
    }
    Ok(())
}

/// One rep's day: which special cases fall on them is fixed by their index, so the whole
/// org always shows each case once or twice whatever the seed.
struct RepDay {
    index: usize,
    reps: usize,
    date: LocalDate,
    zone: Zone,
    customers: usize,
    first_customer: usize,
    /// The run's seed: the pipeline draws from its own generator derived from it, so adding
    /// deals does not change the visits a seed gives.
    seed: u64,
}

#[derive(Clone, Copy, PartialEq)]
enum Stand {
    Inside,
    Outside,
    Mock,
    PoorAccuracy,
}

impl RepDay {
    fn at(&self, hour: i64, minute: i64) -> Timestamp {
        self.date
            .start(&self.zone)
            .plus_millis(hour * HOUR_MS + minute * MINUTE_MS)
    }

    fn stand(&self, visit: usize) -> Stand {
        match (self.index, visit) {
            (0 | 4 | 8, 1) => Stand::Outside,
            (6, 2) => Stand::Mock,
            (9, 0) => Stand::PoorAccuracy,
            _ => Stand::Inside,
        }
    }

    fn simulate(
        &self,
        rep: &Person,
        city: &data::City,
        rng: &mut fastrand::Rng,
    ) -> Result<(Tally, Vec<RefusedMove>), DemoError> {
        // The customers and the pipeline the rep carries into the day date from a few days
        // before it.
        let clock = ManualClock::new(self.at(9 - 24 * PIPELINE_DAYS_BEFORE, 0));
        let mut engine = open(&rep.store, &rep.login, Some(clock.clone()))?;
        let login = rep.login.as_str();
        let mut tally = Tally::default();
        let mut refused = Vec::new();
        let mut names = Vec::new();

        let mut customers = Vec::new();
        for n in 0..self.customers {
            let seed = data::customer(rng, city, self.first_customer + n + 1);
            let mut c = Customer::new(
                Header::new(engine.me().user_id, clock.now()),
                seed.legal_name,
            );
            c.english_name = seed.english_name;
            c.industry = Some(seed.industry.into());
            c.tier = Some(seed.tier.into());
            c.address = Some(seed.address);
            c.location = Some(seed.location);
            c.source = Some("demo".into());
            let (created, _) = engine
                .create_customer(c)
                .map_err(engine_error(login, "create a customer"))?;
            customers.push((created.header.id, seed.location));
            names.push(created.legal_name.clone());
            tally.customers += 1;
            let contact = Contact {
                header: Header::new(engine.me().user_id, clock.now()),
                customer_id: created.header.id,
                name: data::person_name(rng),
                title: Some(["采购经理", "总经理", "技术总监", "设备主管"][rng.usize(..4)].into()),
                phone: Some(format!("+86 13{:09}", rng.u32(..1_000_000_000))),
                email: None,
                decision_role: DecisionRole::DecisionMaker,
            };
            engine
                .add_contact(contact)
                .map_err(engine_error(login, "add a contact"))?;
            tally.contacts += 1;
            clock.advance_millis(1_000);
        }

        let mut deals =
            self.seed_pipeline(&mut engine, login, &clock, &customers, &names, &mut tally)?;
        clock.set(self.at(8, 0));

        // The morning's plan: every visit but the last, which comes up during the day.
        let visits = 4 + rng.usize(..3);
        let day: Vec<(RecordId, GeoPoint)> = (0..visits)
            // Distinct customers: one in each run of four.
            .map(|v| customers[(v * 4 + rng.usize(..4)) % customers.len()])
            .collect();
        let planned: Vec<PlannedVisit> = day[..visits - 1]
            .iter()
            .enumerate()
            .map(|(v, (customer_id, _))| PlannedVisit {
                customer_id: *customer_id,
                planned_at: Some(self.at(9 + (v as i64 * 8) / 5, 0)),
                purpose: Some("拜访".into()),
            })
            .collect();
        tally.planned = planned.len() as u64;
        tally.unplanned = 1;
        let me = engine.me().user_id;
        engine
            .plan_visits(me, self.date, planned)
            .map_err(engine_error(login, "plan the day"))?;
        // Where and when the rep left the last customer: the next check-in comes after the
        // drive (the server judges the journey from the check-out).
        let mut left: Option<(Timestamp, GeoPoint)> = None;
        for (v, &(customer_id, location)) in day.iter().enumerate() {
            let slot = self.at(9 + (v as i64 * 8) / 5, rng.i64(0..20));
            clock.set(left.map_or(slot, |(at, from)| {
                slot.max(at.plus_millis(drive_ms(from, location)))
            }));
            let stand = self.stand(v);
            let position = position(location, stand, clock.now(), rng);
            let checked = engine.check_in(CheckInRequest {
                customer_id,
                position,
                note: String::new(),
                photos: Vec::new(),
            });
            let visit = match checked {
                Ok(c) => c.visit,
                Err(fieldsales_core::Error::RuleViolated { .. }) => {
                    tally.refused += 1;
                    continue;
                }
                Err(e) => return Err(engine_error(login, "check in")(e)),
            };
            tally.check_ins += 1;
            match stand {
                Stand::Inside => tally.inside += 1,
                Stand::Outside => tally.outside += 1,
                Stand::Mock => tally.mock_location += 1,
                Stand::PoorAccuracy => tally.poor_accuracy += 1,
            }
            clock.advance_millis((30 + rng.i64(0..40)) * MINUTE_MS);
            let out = position_near(location, clock.now(), rng);
            engine
                .check_out(visit.header.id, Some(out))
                .map_err(engine_error(login, "check out"))?;
            left = Some((clock.now(), location));
            tally.checked_out += 1;
            clock.advance_millis(5 * MINUTE_MS);
            engine
                .log_follow_up(NewFollowUp {
                    subject: RecordRef {
                        kind: Kind::Customer,
                        id: customer_id,
                    },
                    method: FollowUpMethod::Visit,
                    occurred_at: None,
                    text: FOLLOW_UPS[rng.usize(..FOLLOW_UPS.len())].into(),
                    next_step: Some("下周电话确认报价".into()),
                    visit_id: Some(visit.header.id),
                })
                .map_err(engine_error(login, "log a follow-up"))?;
            tally.follow_ups += 1;
        }

        if let Some(&(last, _)) = day.last() {
            let name = names
                .iter()
                .zip(&customers)
                .find(|(_, (id, _))| *id == last)
                .map_or("", |(n, _)| n.as_str());
            self.work_pipeline(
                &mut engine,
                login,
                &clock,
                &mut deals,
                (last, name),
                &mut tally,
                &mut refused,
            )?;
        }

        // A task for tomorrow morning from the day's last visit.
        let me = engine.me().user_id;
        engine
            .create_task(NewTask {
                assignee: me,
                kind: TaskKind::Task,
                title: "把报价单发给客户".into(),
                description: String::new(),
                due_at: Some(self.date.succ().start(&self.zone).plus_millis(10 * HOUR_MS)),
                start_at: None,
                end_at: None,
                reminder_at: None,
                related: day.last().map(|&(id, _)| RecordRef {
                    kind: Kind::Customer,
                    id,
                }),
            })
            .map_err(engine_error(login, "add a task"))?;
        tally.tasks += 1;

        // Two reps offer a discount over their limit: the order waits for the manager.
        if matches!(self.index, 1 | 5)
            && let Some(&(customer_id, _)) = customers.first()
        {
            clock.set(self.at(16, 30));
            let order = engine
                .create_order(NewOrder {
                    customer_id,
                    opportunity_id: None,
                    number: format!("SO-{}-{:03}", self.date, self.index + 1),
                    lines: vec![NewOrderLine {
                        product_code: PRODUCTS[1].0.into(),
                        quantity: 20,
                        manual_discount: BasisPoints::percent(BIG_DISCOUNT_PERCENT),
                    }],
                    on: self.date,
                })
                .map_err(engine_error(login, "create an order"))?;
            match engine
                .confirm_order(order.header.id)
                .map_err(engine_error(login, "confirm the order"))?
            {
                ConfirmOutcome::AwaitingApproval(_) => tally.approvals_requested += 1,
                ConfirmOutcome::Confirmed(_) => {}
            }
        }

        // The last rep files nothing; two file after the deadline; the rest before it.
        if self.index + 1 == self.reps {
            tally.reports_missing += 1;
            return Ok((tally, refused));
        }
        let late = matches!(self.index, 2 | 7);
        clock.set(if late {
            self.at(21, 10 + rng.i64(0..30))
        } else {
            self.at(17, 20 + rng.i64(0..30))
        });
        let draft = engine
            .report_draft(self.date)
            .map_err(engine_error(login, "draft the report"))?;
        engine
            .edit_report(
                draft.header.id,
                ReportSections {
                    summary: Some(format!("今日拜访{}家客户。", tally.check_ins)),
                    results: Some("两家客户同意试用新品。".into()),
                    problems: Some("一家客户对交期有顾虑。".into()),
                    plan_tomorrow: Some("整理报价，回访重点客户。".into()),
                },
            )
            .map_err(engine_error(login, "write the report"))?;
        engine
            .submit_report(draft.header.id)
            .map_err(engine_error(login, "submit the report"))?;
        if late {
            tally.reports_late += 1;
        } else {
            tally.reports_on_time += 1;
        }
        Ok((tally, refused))
    }

    /// The deals the rep carries into the day: one in each open stage, each moved there
    /// stage by stage with the forms filled, over the days before.
    fn seed_pipeline(
        &self,
        engine: &mut Engine,
        login: &str,
        clock: &ManualClock,
        customers: &[(RecordId, GeoPoint)],
        names: &[String],
        tally: &mut Tally,
    ) -> Result<Vec<pipeline::Deal>, DemoError> {
        let mut rng = fastrand::Rng::with_seed(
            self.seed ^ (self.index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let mut catalogue = Vec::new();
        for (code, _, _) in PRODUCTS {
            if let Some(p) = engine
                .product_by_code(code)
                .map_err(engine_error(login, "read the catalogue"))?
            {
                catalogue.push((p.header.id, p.list_price));
            }
        }
        let chain = open_chain(engine, login)?;
        let on = clock.now().local_date(&self.zone);
        let mut deals = Vec::new();
        for (k, deal_name) in DEALS.iter().enumerate().take(chain.len()) {
            // The deals sit on the rep's last customers; the day's visits are spread over all.
            let c = customers.len().saturating_sub(DEALS.len()) + k;
            let (Some(&(customer, _)), Some(name)) = (customers.get(c), names.get(c)) else {
                continue;
            };
            let products: Vec<(RecordId, i64, Money)> = catalogue
                .get(k % catalogue.len().max(1))
                .map(|&(id, price)| (id, 5 + rng.i64(0..40), price))
                .into_iter()
                .collect();
            let mut deal =
                pipeline::open(engine, login, (customer, name), deal_name, &products, on)?;
            tally.opportunities += 1;
            for to in &chain[1..=k] {
                clock.advance_millis(20 * MINUTE_MS);
                match pipeline::move_to(engine, login, &mut deal, to, None, true, on)? {
                    pipeline::Moved::Done => {}
                    // A process whose stage waits for an approver: the deal stays here.
                    pipeline::Moved::AwaitingApproval => break,
                    pipeline::Moved::Refused { rule, detail } => {
                        return Err(DemoError::Engine {
                            login: login.to_owned(),
                            step: "build the pipeline",
                            source: fieldsales_core::Error::RuleViolated { rule, detail },
                        });
                    }
                }
            }
            deals.push(deal);
        }
        Ok(deals)
    }

    /// The day's work on the pipeline, after the visits: deals move on, one is won or lost,
    /// a new one is opened at the last customer visited, and a rep or two tries a move the
    /// stage rules refuse.
    #[allow(clippy::too_many_arguments)]
    fn work_pipeline(
        &self,
        engine: &mut Engine,
        login: &str,
        clock: &ManualClock,
        deals: &mut Vec<pipeline::Deal>,
        last_visited: (RecordId, &str),
        tally: &mut Tally,
        refused: &mut Vec<RefusedMove>,
    ) -> Result<(), DemoError> {
        let chain = open_chain(engine, login)?;
        let process = engine
            .process()
            .map_err(engine_error(login, "read the process"))?;
        let outcome = |o: StageOutcome| {
            process
                .stages
                .iter()
                .find(|s| s.outcome.as_ref() == Some(&o))
                .map(|s| s.key.clone())
        };
        let (won, lost) = (outcome(StageOutcome::Won), outcome(StageOutcome::Lost));
        clock.set(self.at(16, 0));
        let on = self.date;
        let third = self.index % 3;
        // (deal, target, reason, forms filled first)
        let mut plan: Vec<(usize, Option<String>, Option<&str>, bool)> = vec![
            (0, chain.get(1).cloned(), None, true),
            (1, chain.get(2).cloned(), None, self.index.is_multiple_of(2)),
            (2, chain.get(3).cloned(), None, third != 2),
        ];
        match third {
            0 => plan.push((3, won.clone(), Some("技术评分第一，客户发来中标通知"), true)),
            1 => plan.push((3, lost.clone(), Some("客户选择了报价更低的竞争对手"), true)),
            _ => {}
        }
        for (d, to, reason, prepared) in plan {
            let (Some(deal), Some(to)) = (deals.get_mut(d), to) else {
                continue;
            };
            // A rep who has not filled the next stage's form leaves the deal where it is,
            // except one who presses on and hears why not.
            if !prepared && self.index != MISSING_FIELDS_REP {
                continue;
            }
            clock.advance_millis(7 * MINUTE_MS);
            let from = deal.stage.clone();
            match pipeline::move_to(engine, login, deal, &to, reason, prepared, on)? {
                pipeline::Moved::Done => {
                    tally.stage_moves += 1;
                    if Some(&to) == won.as_ref() {
                        tally.won += 1;
                        tally.won_amount_minor += deal.amount.minor;
                    } else if Some(&to) == lost.as_ref() {
                        tally.lost += 1;
                    } else {
                        *tally.entered_by_stage.entry(to.clone()).or_default() += 1;
                    }
                }
                pipeline::Moved::AwaitingApproval => {}
                pipeline::Moved::Refused { rule, detail } => {
                    tally.stage_moves_refused += 1;
                    refused.push(RefusedMove {
                        login: login.to_owned(),
                        opportunity: deal.name.clone(),
                        from,
                        to,
                        rule,
                        detail,
                    });
                }
            }
        }

        // A new deal from the last visit of the day.
        clock.advance_millis(7 * MINUTE_MS);
        let catalogue = engine
            .product_by_code(PRODUCTS[3].0)
            .map_err(engine_error(login, "read the catalogue"))?;
        let products: Vec<(RecordId, i64, Money)> = catalogue
            .map(|p| (p.header.id, 1 + (self.index as i64 % 3), p.list_price))
            .into_iter()
            .collect();
        let mut fresh = pipeline::open(engine, login, last_visited, NEW_DEAL, &products, on)?;
        tally.opportunities += 1;
        *tally
            .entered_by_stage
            .entry(fresh.stage.clone())
            .or_default() += 1;
        // One rep wants the new deal in the last open stage at once: a skip, refused.
        if self.index == SKIPPING_REP
            && let Some(last) = chain.last()
        {
            clock.advance_millis(3 * MINUTE_MS);
            let from = fresh.stage.clone();
            if let pipeline::Moved::Refused { rule, detail } =
                pipeline::move_to(engine, login, &mut fresh, last, None, false, on)?
            {
                tally.stage_moves_refused += 1;
                refused.push(RefusedMove {
                    login: login.to_owned(),
                    opportunity: fresh.name.clone(),
                    from,
                    to: last.clone(),
                    rule,
                    detail,
                });
            }
        }
        deals.push(fresh);

        let terminal = |key: &str| {
            process
                .stages
                .iter()
                .any(|s| s.key == key && s.is_terminal())
        };
        for deal in deals.iter().filter(|d| !terminal(&d.stage)) {
            *tally.open_by_stage.entry(deal.stage.clone()).or_default() += 1;
            *tally
                .open_amount_by_stage
                .entry(deal.stage.clone())
                .or_default() += deal.amount.minor;
        }
        Ok(())
    }
}

/// The open stages an opportunity moves along, in order (the lead stage left out).
fn open_chain(engine: &Engine, login: &str) -> Result<Vec<String>, DemoError> {
    let process = engine
        .process()
        .map_err(engine_error(login, "read the process"))?;
    Ok(ordered_open_stages(&process.stages)
        .into_iter()
        .filter(|s| !s.lead_stage)
        .map(|s| s.key.clone())
        .collect())
}

/// The deals a rep carries into the day, the first in the opening stage, each next one a
/// stage further.
const DEALS: [&str; 4] = [
    "产线传感器改造",
    "智能网关升级",
    "控制系统扩容",
    "新厂区自动化项目",
];
/// The deal a rep opens after the day's last visit.
const NEW_DEAL: &str = "年度维保合同";
/// The rep who tries to move a deal on without filling the next stage's form.
const MISSING_FIELDS_REP: usize = 3;
/// The rep who tries to take a new deal straight to the last open stage.
const SKIPPING_REP: usize = 10;
/// How many days before the simulated day the pipeline was opened.
const PIPELINE_DAYS_BEFORE: i64 = 3;

const FOLLOW_UPS: [&str; 5] = [
    "介绍了新一代产品，客户对价格敏感。",
    "与采购经理确认了下季度需求。",
    "技术交流，客户希望安排样品测试。",
    "拜访老板，讨论年度框架协议。",
    "处理上批货的售后问题，客户满意。",
];

fn position(
    location: GeoPoint,
    stand: Stand,
    now: Timestamp,
    rng: &mut fastrand::Rng,
) -> DevicePosition {
    let bearing = rng.f64() * 360.0;
    let (distance, accuracy, mock) = match stand {
        Stand::Inside => (20.0 + rng.f64() * 150.0, 5.0 + rng.f64() * 20.0, false),
        Stand::Outside => (1_500.0 + rng.f64() * 1_500.0, 8.0, false),
        Stand::Mock => (10.0, 3.0, true),
        Stand::PoorAccuracy => (150.0, 900.0, false),
    };
    DevicePosition {
        point: destination(location, bearing, distance),
        accuracy_m: accuracy,
        fix_time: now.plus_millis(-4_000),
        mock,
        integrity: None,
        since_boot_ms: None,
    }
}

/// Driving across a city: 30 km/h door to door, and ten minutes to park and walk in.
fn drive_ms(from: GeoPoint, to: GeoPoint) -> i64 {
    let km = fieldsales_core::fieldwork::geofence::distance_m(from, to) / 1000.0;
    (km / 30.0 * HOUR_MS as f64) as i64 + 10 * MINUTE_MS
}

fn position_near(location: GeoPoint, now: Timestamp, rng: &mut fastrand::Rng) -> DevicePosition {
    position(location, Stand::Inside, now, rng)
}
