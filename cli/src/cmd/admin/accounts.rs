//! `fieldsales admin account ...` and `admin device ...`: sign-in accounts and the devices
//! signed in with them, through the admin API. People are named by their login; the server
//! finds the account (`GET /v1/admin/accounts?login=`).

use clap::Subcommand;
use fieldsales_cli::ExitKind;
use fieldsales_cli::admin_api::AdminClient;
use fieldsales_core::RecordId;
use fieldsales_server::api::{AccountView, CreateAccountRequest, DeviceView};
use fieldsales_server::model::{DeviceId, Password};

use super::{ApiAccess, StdinLines, admin_password, api_failure, with_api};
use crate::CommandResult;
use crate::output::text::{Table, machine_time, or_dash};
use crate::output::{Failure, Output};

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account. Its password is the next line of standard input (after the
    /// admin's, when that comes from there too).
    Create {
        /// The login.
        #[arg(long)]
        login: String,
        /// The person's profile record id; a new one when absent.
        #[arg(long, value_name = "UUID")]
        profile_id: Option<RecordId>,
        /// The account may use the admin API.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        api: ApiAccess,
    },
    /// List the tenant's accounts.
    List {
        #[command(flatten)]
        api: ApiAccess,
    },
    /// Revoke an account and all its devices: they wipe their data at their next contact.
    Revoke {
        /// The account's login.
        #[arg(long)]
        login: String,
        #[command(flatten)]
        api: ApiAccess,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// List an account's devices.
    List {
        /// The account's login.
        #[arg(long)]
        login: String,
        #[command(flatten)]
        api: ApiAccess,
    },
    /// Revoke one device (a lost phone): it wipes its data at its next contact.
    Revoke {
        /// The device id (`admin device list` shows it).
        #[arg(value_name = "DEVICE_ID")]
        device: DeviceId,
        #[command(flatten)]
        api: ApiAccess,
    },
}

pub fn account(command: AccountCommand, out: &Output) -> CommandResult {
    match command {
        AccountCommand::Create {
            login,
            profile_id,
            admin: is_admin,
            api,
        } => {
            let mut stdin = StdinLines::default();
            let admin_password = admin_password(&mut stdin)?;
            let password = stdin.next("the new account's password")?;
            with_api(&api, admin_password, |admin| async move {
                let account = admin
                    .create_account(&CreateAccountRequest {
                        login,
                        password: Password::new(password),
                        profile_id: profile_id.map(|id| id.to_string()),
                        is_admin,
                    })
                    .await
                    .map_err(api_failure)?;
                out.result(&account, |w| {
                    writeln!(
                        w,
                        "account `{}` created (id {}, profile {}){}",
                        account.login,
                        account.id,
                        account.profile_id,
                        if account.is_admin { "; admin" } else { "" }
                    )
                });
                Ok(ExitKind::Ok)
            })
        }
        AccountCommand::List { api } => {
            let password = admin_password(&mut StdinLines::default())?;
            with_api(&api, password, |admin| async move {
                let accounts = admin.accounts().await.map_err(api_failure)?;
                out.result(&accounts, |w| {
                    let mut table =
                        Table::new(&["login", "admin", "created", "revoked", "account", "profile"])
                            .left(&[1, 2, 3, 4, 5]);
                    for a in &accounts {
                        table.row(vec![
                            a.login.clone(),
                            if a.is_admin { "yes" } else { "" }.to_owned(),
                            machine_time(a.created_at),
                            or_dash(a.revoked_at.map(machine_time)),
                            a.id.to_string(),
                            a.profile_id.to_string(),
                        ]);
                    }
                    table.write(w)
                });
                Ok(ExitKind::Ok)
            })
        }
        AccountCommand::Revoke { login, api } => {
            let password = admin_password(&mut StdinLines::default())?;
            let tenant = api.tenant.clone();
            with_api(&api, password, |admin| async move {
                let account = by_login(&admin, &login, &tenant).await?;
                let account = admin
                    .revoke_account(account.id)
                    .await
                    .map_err(api_failure)?;
                out.result(&account, |w| {
                    writeln!(
                        w,
                        "account `{}` and its devices are revoked; they wipe their data at \
                         their next contact",
                        account.login
                    )
                });
                Ok(ExitKind::Ok)
            })
        }
    }
}

pub fn device(command: DeviceCommand, out: &Output) -> CommandResult {
    match command {
        DeviceCommand::List { login, api } => {
            let password = admin_password(&mut StdinLines::default())?;
            let tenant = api.tenant.clone();
            with_api(&api, password, |admin| async move {
                let account = by_login(&admin, &login, &tenant).await?;
                let devices = admin.devices(account.id).await.map_err(api_failure)?;
                out.result(&devices, |w| {
                    if devices.is_empty() {
                        return writeln!(w, "`{}` has not signed in on any device", account.login);
                    }
                    devices_table(&devices).write(w)
                });
                Ok(ExitKind::Ok)
            })
        }
        DeviceCommand::Revoke { device, api } => {
            let password = admin_password(&mut StdinLines::default())?;
            with_api(&api, password, |admin| async move {
                let device = admin.revoke_device(device).await.map_err(api_failure)?;
                out.result(&device, |w| {
                    writeln!(
                        w,
                        "device `{}` ({}) is revoked; it wipes its data at its next contact",
                        device.name, device.id
                    )
                });
                Ok(ExitKind::Ok)
            })
        }
    }
}

fn devices_table(devices: &[DeviceView]) -> Table {
    let mut table = Table::new(&["device", "name", "first sign-in", "last sign-in", "revoked"])
        .left(&[1, 2, 3, 4]);
    for d in devices {
        table.row(vec![
            d.id.to_string(),
            d.name.clone(),
            machine_time(d.registered_at),
            machine_time(d.last_login_at),
            or_dash(d.revoked_at.map(machine_time)),
        ]);
    }
    table
}

/// The account signing in with `login`; refused (exit 3, `account_not_found`) when none does.
async fn by_login(admin: &AdminClient, login: &str, tenant: &str) -> Result<AccountView, Failure> {
    admin
        .account_by_login(login)
        .await
        .map_err(api_failure)?
        .ok_or_else(|| {
            Failure::new(
                ExitKind::Refused,
                "account_not_found",
                anyhow::anyhow!("no account `{login}` in tenant `{tenant}`"),
            )
        })
}
