//! Seeding the demo's org through the admin API, as an admin console would: the standard
//! process, the roles, HQ with its admin, and two regions of two teams, each with a
//! director, a manager and three reps.

use std::path::{Path, PathBuf};

use fieldsales_core::process::SalesProcess;
use fieldsales_core::record::{DataScope, OrgLevel};
use fieldsales_core::{RecordId, Timestamp};
use fieldsales_server::api::{AdminRecord, CreateAccountRequest};
use fieldsales_server::model::Password;

use super::{DemoError, HQ_LOGIN, PASSWORD, REPS_PER_TEAM, data};
use crate::admin_api::AdminClient;

/// How many days before now the demo's people joined the company.
const JOINED_DAYS_BEFORE: i64 = 7;
const DAY_MS: i64 = 24 * 3_600_000;
/// The zone of every unit and person.
const ZONE: &str = "Asia/Shanghai";

/// Someone with a phone: their login, name and the phone's store file.
pub(super) struct Person {
    pub login: String,
    pub name: String,
    pub store: PathBuf,
}

/// A team: its manager, its reps and the city their customers are in.
pub(super) struct Team {
    pub name: String,
    pub region: String,
    pub city: &'static data::City,
    pub manager: Person,
    pub reps: Vec<Person>,
}

/// A region and its director.
pub(super) struct Region {
    pub name: String,
    pub director: Person,
}

/// An admin signed in to the admin API: how the demo (and tests) shape a tenant the way an
/// admin console would.
pub struct Admin {
    client: AdminClient,
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
            client: AdminClient::sign_in(base, tenant, login, password).await?,
        })
    }

    /// Writes a record through `/v1/admin/records`; its id.
    pub async fn record(&self, record: &AdminRecord) -> Result<RecordId, DemoError> {
        Ok(self.client.write_record(record).await?.id)
    }

    /// A role whose people see `scope`.
    pub async fn role(
        &self,
        code: &str,
        name: &str,
        scope: DataScope,
    ) -> Result<RecordId, DemoError> {
        self.record(&AdminRecord::Role {
            id: None,
            code: code.to_owned(),
            name: name.to_owned(),
            data_scope: scope,
            permissions: Vec::new(),
            hidden_fields: Vec::new(),
        })
        .await
    }

    /// An org unit under `parent`, in Shanghai's zone.
    pub async fn unit(
        &self,
        name: &str,
        level: OrgLevel,
        parent: Option<RecordId>,
    ) -> Result<RecordId, DemoError> {
        self.record(&unit(None, name, level, parent, None)).await
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
            .record(&AdminRecord::UserProfile {
                id: None,
                name: name.to_owned(),
                employee_no: login.to_owned(),
                unit_id: unit,
                roles: vec![role.to_owned()],
                zone: ZONE.to_owned(),
                phone: None,
                email: None,
                title: None,
                active: true,
                created_at: joined,
                started_on: None,
                left_on: None,
                leave: Vec::new(),
            })
            .await?;
        self.client
            .create_account(&CreateAccountRequest {
                login: login.to_owned(),
                password: Password::new(PASSWORD),
                profile_id: Some(profile.to_string()),
                is_admin: false,
            })
            .await?;
        Ok(profile)
    }
}

fn unit(
    id: Option<RecordId>,
    name: &str,
    level: OrgLevel,
    parent: Option<RecordId>,
    manager: Option<RecordId>,
) -> AdminRecord {
    AdminRecord::OrgUnit {
        id,
        name: name.to_owned(),
        level,
        parent_id: parent,
        manager_id: manager,
        zone: Some(ZONE.to_owned()),
    }
}

/// The hours the demo's tenant allows between a record and its upload: the day simulated may
/// be a Friday synced on a Monday (up to four days later, the Monday's evening), and the
/// demo's phones upload the day only when the demo runs.
pub(super) const UPLOAD_WINDOW_HOURS: u32 = 96;

/// The demo tenant's process: the standard one, but for the two windows a day synced days
/// later would pass — a visit uploaded late (flagged after the default 48 hours) and a
/// follow-up older than its receipt allows (refused after the default 72 hours, so a Friday's
/// follow-ups synced on a Monday morning were refused) — both [`UPLOAD_WINDOW_HOURS`].
pub(super) fn process() -> SalesProcess {
    let mut standard = SalesProcess::standard();
    standard.fieldwork.device_clock.max_upload_delay_hours = UPLOAD_WINDOW_HOURS;
    standard.customers.follow_up_backdate_hours = UPLOAD_WINDOW_HOURS;
    standard
}

/// The org: the standard process, the four roles, HQ and its catalogue keeper, then each
/// region with its director and teams; people's names drawn from `rng`, their phones' stores
/// under `dir/devices`.
pub(super) async fn seed(
    admin: &Admin,
    rng: &mut fastrand::Rng,
    dir: &Path,
) -> Result<(Vec<Region>, Vec<Team>), DemoError> {
    // The demo's process, loaded as an admin loads a process file: every phone pulls it.
    let process = process()
        .to_toml()
        .map_err(|e| DemoError::Server(format!("the standard process: {e}")))?;
    admin
        .record(&AdminRecord::ProcessConfig {
            toml: process,
            revision: 1,
        })
        .await?;
    for (code, name, scope) in [
        ("sales_rep", "销售代表", DataScope::Own),
        ("sales_manager", "销售经理", DataScope::Subtree),
        ("regional_director", "大区总监", DataScope::Region),
        ("admin", "总部管理员", DataScope::All),
    ] {
        admin.role(code, name, scope).await?;
    }
    let hq = admin.unit("总部", OrgLevel::Hq, None).await?;
    let joined = Some(Timestamp::now().plus_millis(-JOINED_DAYS_BEFORE * DAY_MS));
    let store = |login: &str| dir.join("devices").join(format!("{login}.sqlite3"));
    let hq_name = data::person_name(rng);
    admin
        .person_since(HQ_LOGIN, &hq_name, hq, "admin", joined)
        .await?;
    let mut teams = Vec::new();
    let mut regions = Vec::new();
    let mut rep_no = 0;
    for (r, (region_name, region_teams)) in data::REGIONS.iter().enumerate() {
        let region = admin.unit(region_name, OrgLevel::Region, Some(hq)).await?;
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
            let team_id = admin.unit(team_name, OrgLevel::Team, Some(region)).await?;
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
                .record(&unit(
                    Some(team_id),
                    team_name,
                    OrgLevel::Team,
                    Some(region),
                    Some(manager_id),
                ))
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
