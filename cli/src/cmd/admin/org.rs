//! `fieldsales admin unit|role|user create`: the records that shape a tenant, written through
//! the admin API (`POST /v1/admin/records`) so every device pulls them at its next sync.

use clap::Subcommand;
use fieldsales_cli::ExitKind;
use fieldsales_core::RecordId;
use fieldsales_core::record::{DataScope, OrgLevel};
use fieldsales_server::api::{AdminRecord, AdminRecordKind, CreateAccountRequest, WrittenRecord};
use fieldsales_server::model::{Login, Password};
use serde::Serialize;

use super::{ApiAccess, StdinLines, admin_password, api_failure, with_api};
use crate::CommandResult;
use crate::output::{Failure, Output};

#[derive(Debug, Subcommand)]
pub enum UnitCommand {
    /// Create an org unit, or replace the one named by `--id` (to name its manager, say).
    Create {
        /// Its name (`上海一组`).
        #[arg(long)]
        name: String,
        /// `hq`, `region`, `district` or `team`.
        #[arg(long)]
        level: OrgLevel,
        /// The unit above it.
        #[arg(long, value_name = "UUID")]
        parent: Option<RecordId>,
        /// Its manager's user profile (approvals route to them).
        #[arg(long, value_name = "UUID")]
        manager: Option<RecordId>,
        /// Its IANA time zone.
        #[arg(long, default_value = "Asia/Shanghai")]
        zone: String,
        /// The unit to replace; a new one when absent.
        #[arg(long, value_name = "UUID")]
        id: Option<RecordId>,
        #[command(flatten)]
        api: ApiAccess,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Create a role, or replace the one named by `--id`.
    Create {
        /// Its code, as user profiles and the process configuration name it (`sales_rep`).
        #[arg(long)]
        code: String,
        /// What people see (`销售代表`).
        #[arg(long)]
        name: String,
        /// Whose records it sees: `own`, `subtree`, `region` or `all`.
        #[arg(long)]
        scope: DataScope,
        /// A permission code (repeatable).
        #[arg(long = "permission", value_name = "CODE")]
        permissions: Vec<String>,
        /// A field hidden from the role (repeatable).
        #[arg(long = "hidden-field", value_name = "FIELD")]
        hidden_fields: Vec<String>,
        /// The role to replace; a new one when absent.
        #[arg(long, value_name = "UUID")]
        id: Option<RecordId>,
        #[command(flatten)]
        api: ApiAccess,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a person: their profile record, then their account. The new user's password
    /// is the next line of standard input (after the admin's, when that comes from there).
    Create {
        /// What they sign in with.
        #[arg(long, value_name = "LOGIN")]
        login: String,
        /// Their full name.
        #[arg(long)]
        name: String,
        /// Their employee number; the login when absent.
        #[arg(long)]
        employee_no: Option<String>,
        /// Their org unit.
        #[arg(long, value_name = "UUID")]
        unit: RecordId,
        /// A role code (repeatable, at least one).
        #[arg(long = "role", value_name = "CODE", required = true)]
        roles: Vec<String>,
        /// Their IANA time zone.
        #[arg(long, default_value = "Asia/Shanghai")]
        zone: String,
        /// Job title.
        #[arg(long)]
        title: Option<String>,
        /// Phone.
        #[arg(long)]
        phone: Option<String>,
        /// E-mail.
        #[arg(long)]
        email: Option<String>,
        /// The account may use the admin API.
        #[arg(long)]
        admin: bool,
        /// Reuse this profile record (after an earlier run wrote it and the account failed).
        #[arg(long, value_name = "UUID")]
        profile_id: Option<RecordId>,
        #[command(flatten)]
        api: ApiAccess,
    },
}

/// What `unit create` and `role create` print.
#[derive(Serialize)]
struct Written<'a> {
    id: RecordId,
    kind: AdminRecordKind,
    name: &'a str,
}

fn written(out: &Output, record: &WrittenRecord, name: &str) {
    let view = Written {
        id: record.id,
        kind: record.kind,
        name,
    };
    out.result(&view, |w| {
        writeln!(w, "{} `{name}` written as {}", record.kind, record.id)
    });
}

pub fn unit(command: UnitCommand, out: &Output) -> CommandResult {
    let UnitCommand::Create {
        name,
        level,
        parent,
        manager,
        zone,
        id,
        api,
    } = command;
    let password = admin_password(&mut StdinLines::default())?;
    with_api(&api, password, |admin| async move {
        let record = AdminRecord::OrgUnit {
            id,
            name: name.clone(),
            level,
            parent_id: parent,
            manager_id: manager,
            zone: Some(zone),
        };
        let done = admin.write_record(&record).await.map_err(api_failure)?;
        written(out, &done, &name);
        Ok(ExitKind::Ok)
    })
}

pub fn role(command: RoleCommand, out: &Output) -> CommandResult {
    let RoleCommand::Create {
        code,
        name,
        scope,
        permissions,
        hidden_fields,
        id,
        api,
    } = command;
    let password = admin_password(&mut StdinLines::default())?;
    with_api(&api, password, |admin| async move {
        let record = AdminRecord::Role {
            id,
            code: code.clone(),
            name,
            data_scope: scope,
            permissions,
            hidden_fields,
        };
        let done = admin.write_record(&record).await.map_err(api_failure)?;
        written(out, &done, &code);
        Ok(ExitKind::Ok)
    })
}

/// What `user create` prints.
#[derive(Serialize)]
struct CreatedUser {
    profile_id: RecordId,
    account: fieldsales_server::api::AccountView,
}

pub fn user(command: UserCommand, out: &Output) -> CommandResult {
    let UserCommand::Create {
        login,
        name,
        employee_no,
        unit,
        roles,
        zone,
        title,
        phone,
        email,
        admin: is_admin,
        profile_id,
        api,
    } = command;
    Login::parse(&login).map_err(|e| {
        Failure::new(
            ExitKind::Usage,
            "invalid_argument",
            anyhow::anyhow!("--login: {e}"),
        )
    })?;
    let mut stdin = StdinLines::default();
    let admin_password = admin_password(&mut stdin)?;
    let password = stdin.next("the new user's password")?;
    with_api(&api, admin_password, |admin| async move {
        let profile = admin
            .write_record(&AdminRecord::UserProfile {
                id: profile_id,
                name: name.clone(),
                employee_no: employee_no.unwrap_or_else(|| login.clone()),
                unit_id: unit,
                roles,
                zone,
                phone,
                email,
                title,
                active: true,
                created_at: None,
                started_on: None,
                left_on: None,
                leave: Vec::new(),
            })
            .await
            .map_err(api_failure)?
            .id;
        let account = admin
            .create_account(&CreateAccountRequest {
                login: login.clone(),
                password: Password::new(password),
                profile_id: Some(profile.to_string()),
                is_admin,
            })
            .await
            .map_err(|e| {
                let mut failure = api_failure(e);
                failure.error = failure.error.context(format!(
                    "the profile of `{login}` was written as {profile} but the account was \
                     not created; run again with --profile-id {profile} once fixed"
                ));
                failure
            })?;
        let view = CreatedUser {
            profile_id: profile,
            account,
        };
        out.result(&view, |w| {
            writeln!(
                w,
                "user `{login}` ({name}) created: profile {profile}, account {}",
                view.account.id
            )
        });
        Ok(ExitKind::Ok)
    })
}
