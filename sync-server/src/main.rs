//! `fieldsales-server`: serve, check a configuration, or bootstrap a tenant's first admin.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use fieldsales_core::RecordId;
use fieldsales_server::auth::Passwords;
use fieldsales_server::bootstrap::{BootstrapTenant, bootstrap_tenant};
use fieldsales_server::config::ENV_PREFIX;
use fieldsales_server::model::{DisplayName, Login, Password, TenantSlug};
use fieldsales_server::{Config, open_store, run, shutdown_signal};

const USAGE: &str = "\
usage:
  fieldsales-server [serve] [--config FILE]
  fieldsales-server check-config [--config FILE]
  fieldsales-server bootstrap --tenant SLUG --name NAME --login LOGIN [--profile-id UUID] [--config FILE]

The configuration is read from FILE (or $FIELDSALES_CONFIG), then FIELDSALES_* variables.
bootstrap reads the first admin's password from $FIELDSALES_BOOTSTRAP_PASSWORD, or else
from the first line of standard input.";

struct Args {
    command: String,
    options: Vec<(String, String)>,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut raw = std::env::args().skip(1).peekable();
        let command = match raw.peek() {
            Some(first) if !first.starts_with("--") => raw.next().unwrap_or_default(),
            _ => "serve".to_owned(),
        };
        let mut options = Vec::new();
        while let Some(flag) = raw.next() {
            let Some(name) = flag.strip_prefix("--") else {
                return Err(format!("unexpected argument `{flag}`"));
            };
            if name == "help" {
                return Err(String::new());
            }
            let value = raw
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            options.push((name.to_owned(), value));
        }
        Ok(Args { command, options })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn require(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("--{name} is required"))
    }

    fn only(&self, allowed: &[&str]) -> Result<(), String> {
        match self
            .options
            .iter()
            .find(|(n, _)| !allowed.contains(&n.as_str()))
        {
            Some((n, _)) => Err(format!("unknown option --{n} for `{}`", self.command)),
            None => Ok(()),
        }
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("fieldsales-server: {message}");
    ExitCode::FAILURE
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(format!("{e}\n{USAGE}")),
    };
    let config_file = args.get("config").map(PathBuf::from);
    let config = match Config::load_from_process(config_file.as_deref()) {
        Ok(config) => config,
        Err(e) => return fail(e),
    };
    match args.command.as_str() {
        "serve" => {
            if let Err(e) = args.only(&["config"]) {
                return fail(e);
            }
            serve(config).await
        }
        "check-config" => {
            if let Err(e) = args.only(&["config"]) {
                return fail(e);
            }
            println!("configuration accepted:\n{config:#?}");
            ExitCode::SUCCESS
        }
        "bootstrap" => match bootstrap(&args, config).await {
            Ok(message) => {
                println!("{message}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        other => fail(format!("unknown command `{other}`\n{USAGE}")),
    }
}

async fn serve(config: Config) -> ExitCode {
    if let Err(e) = fieldsales_server::telemetry::init_logging(&config.log) {
        return fail(format!("cannot start logging: {e}"));
    }
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot listen on {}: {e}", config.listen)),
    };
    match run(config, listener, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server stopped");
            fail(e)
        }
    }
}

async fn bootstrap(args: &Args, config: Config) -> Result<String, String> {
    args.only(&["config", "tenant", "name", "login", "profile-id"])?;
    let slug = TenantSlug::parse(args.require("tenant")?).map_err(|e| format!("--tenant: {e}"))?;
    let name = DisplayName::parse(args.require("name")?).map_err(|e| format!("--name: {e}"))?;
    let login = Login::parse(args.require("login")?).map_err(|e| format!("--login: {e}"))?;
    let profile = args
        .get("profile-id")
        .map(|s| {
            s.parse::<RecordId>()
                .map_err(|e| format!("--profile-id: {e}"))
        })
        .transpose()?;
    let password = match std::env::var(format!("{ENV_PREFIX}BOOTSTRAP_PASSWORD")) {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let store = open_store(&config).await.map_err(|e| e.to_string())?;
    let passwords = Passwords::new(1).await.map_err(|e| e.to_string())?;
    let (tenant, account) = bootstrap_tenant(
        &store,
        &passwords,
        config.auth.min_password_length,
        BootstrapTenant {
            slug,
            name,
            admin_login: login,
            admin_password: Password::new(password),
            admin_profile_id: profile,
        },
        fieldsales_core::Timestamp::now(),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(format!(
        "tenant `{}` ({}) created; admin `{}` account {} profile {}",
        tenant.slug, tenant.id, account.login, account.id, account.profile_id
    ))
}
