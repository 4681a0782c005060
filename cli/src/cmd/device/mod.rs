//! `fieldsales device --store FILE ...`: a phone without the phone. Each command opens the
//! store, resumes the signed-in session kept in it, does one thing through the engine the
//! apps use, and exits; so a script can play several devices offline and sync them when it
//! likes.

mod customers;
mod fieldwork;
mod opportunity;

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use fieldsales_cli::ExitKind;
use fieldsales_core::engine::Engine;
use fieldsales_core::store::Store;
use fieldsales_core::sync::{self, CancelToken, SignIn, SyncError, SyncOptions};
use fieldsales_core::{LocalDate, RecordId};
use serde::Serialize;

use crate::CommandResult;
use crate::output::{Failure, Output};

#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// The device's store (one SQLite file per signed-in user).
    #[arg(long, value_name = "FILE")]
    store: PathBuf,
    #[command(subcommand)]
    command: DeviceCommand,
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Sign in (password: first line of standard input) and pull what the user may see.
    Login {
        /// The server's base URL.
        #[arg(long)]
        server: String,
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The login.
        #[arg(long)]
        login: String,
    },
    /// Push what this device changed and pull what others did.
    Sync,
    /// Customers.
    #[command(subcommand)]
    Customer(CustomerCommand),
    /// Check in at a customer from a position.
    CheckIn {
        /// The customer.
        #[arg(long)]
        customer: RecordId,
        /// Latitude.
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        /// Longitude.
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        /// The fix's accuracy, metres.
        #[arg(long, default_value_t = 10.0)]
        accuracy: f64,
        /// The position came from a mock-location app.
        #[arg(long)]
        mock: bool,
        /// A note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Check out of an open visit.
    CheckOut {
        /// The visit.
        #[arg(long)]
        visit: RecordId,
    },
    /// Log a follow-up about a customer.
    FollowUp {
        /// The customer.
        #[arg(long)]
        customer: RecordId,
        /// What happened.
        #[arg(long)]
        text: String,
        /// visit, call, message or meeting.
        #[arg(long, default_value = "call")]
        method: String,
    },
    /// The daily report.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Tasks.
    #[command(subcommand)]
    Task(TaskCommand),
    /// Deals and their stage moves.
    #[command(subcommand)]
    Opportunity(opportunity::OpportunityCommand),
    /// Approvals waiting for the signed-in user, or a decision on one.
    Approve {
        /// The approval to decide; lists the waiting ones when absent.
        id: Option<RecordId>,
        /// Reject instead of approving.
        #[arg(long, requires = "id")]
        reject: bool,
        /// A comment.
        #[arg(long, requires = "id")]
        comment: Option<String>,
    },
    /// Edits the server refused, which the user has not dismissed.
    Rejected,
    /// The visits, report and funnel dashboards of the user's scope for a day.
    Dashboard {
        /// The day (YYYY-MM-DD); today in the user's zone when absent.
        #[arg(long)]
        date: Option<LocalDate>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Create a customer owned by the signed-in user.
    Add {
        /// The registered name.
        #[arg(long)]
        name: String,
        /// The address.
        #[arg(long)]
        address: Option<String>,
        /// The tier.
        #[arg(long)]
        tier: Option<String>,
        /// Latitude.
        #[arg(long, allow_hyphen_values = true, requires = "lon")]
        lat: Option<f64>,
        /// Longitude.
        #[arg(long, allow_hyphen_values = true, requires = "lat")]
        lon: Option<f64>,
    },
    /// Every customer this device can see.
    List,
    /// Customers whose names or addresses contain the text.
    Search {
        /// The text.
        text: String,
    },
    /// One customer, whole.
    Show {
        /// The customer.
        id: RecordId,
    },
    /// Change fields of a customer (only those given).
    Edit {
        /// The customer.
        id: RecordId,
        /// The address.
        #[arg(long)]
        address: Option<String>,
        /// The tier.
        #[arg(long)]
        tier: Option<String>,
        /// The industry.
        #[arg(long)]
        industry: Option<String>,
        /// A tag to add.
        #[arg(long)]
        tag: Option<String>,
    },
    /// Share a customer with a colleague (their user profile id).
    Share {
        /// The customer.
        id: RecordId,
        /// The colleague's profile.
        #[arg(long)]
        with: RecordId,
    },
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// A task for the signed-in user.
    Add {
        /// The title.
        #[arg(long)]
        title: String,
        /// Due by (RFC 3339).
        #[arg(long)]
        due: Option<String>,
    },
    /// Today's agenda.
    List,
    /// Mark a task done.
    Done {
        /// The task.
        id: RecordId,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The day's report: the one written, or a new draft filled from the day's work.
    Draft {
        /// The day; today when absent.
        #[arg(long)]
        date: Option<LocalDate>,
        /// The summary.
        #[arg(long)]
        summary: Option<String>,
    },
    /// Submit a report.
    Submit {
        /// The report.
        id: RecordId,
    },
}

pub(super) fn engine_failure(e: fieldsales_core::Error) -> Failure {
    use fieldsales_core::Error as E;
    use fieldsales_core::authority;
    let (kind, code) = match &e {
        E::RuleViolated { rule, detail } => return Failure::rule(rule.as_str(), detail),
        E::StageMove(refused) => {
            return Failure::rule(
                authority::opportunity::refusal_code(refused).as_str(),
                refused,
            );
        }
        E::Decision(refused) => {
            return Failure::rule(authority::approval::refusal_code(refused).as_str(), refused);
        }
        E::ProcessConfig(_) | E::Claim(_) | E::Pricing(_) => (ExitKind::Refused, "rule_violated"),
        E::DuplicateCustomer { .. } => (ExitKind::Refused, "duplicate"),
        E::Invalid(_) | E::InvalidInput { .. } => (ExitKind::Refused, "invalid"),
        E::NotAllowed(_) => (ExitKind::Refused, "not_allowed"),
        E::NotFound { .. } | E::WrongKind { .. } => (ExitKind::Usage, "not_found"),
        _ => (ExitKind::Other, "store"),
    };
    Failure::new(kind, code, e)
}

fn sync_failure(e: SyncError) -> Failure {
    let e = match e {
        SyncError::Store(inner) => return engine_failure(inner),
        other => other,
    };
    let (kind, code) = match &e {
        SyncError::Offline { .. } => (ExitKind::Network, "offline"),
        SyncError::BadCredentials => (ExitKind::Auth, "bad_credentials"),
        SyncError::AuthExpired { .. } => (ExitKind::Auth, "session_ended"),
        SyncError::Revoked { .. } => (ExitKind::Auth, "revoked"),
        SyncError::NotSignedIn => (ExitKind::Auth, "not_signed_in"),
        SyncError::Refused { status, .. } if *status == 401 || *status == 403 => {
            (ExitKind::Auth, "refused")
        }
        SyncError::Refused { .. } => (ExitKind::Refused, "refused"),
        SyncError::Store(_) | SyncError::Protocol(_) | SyncError::Cancelled => {
            (ExitKind::Other, "protocol")
        }
    };
    Failure::new(kind, code, e)
}

pub(super) fn resume(path: &Path) -> Result<Engine, Failure> {
    if !path.exists() {
        return Err(Failure::new(
            ExitKind::Auth,
            "not_signed_in",
            anyhow::anyhow!(
                "{} does not exist: sign in first with `device login`",
                path.display()
            ),
        ));
    }
    let store = Store::open(path).map_err(engine_failure)?;
    Engine::resume(store)
        .map_err(engine_failure)?
        .ok_or_else(|| sync_failure(SyncError::NotSignedIn))
}

fn read_password() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::new(ExitKind::Usage, "no_password", e))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err(Failure::new(
            ExitKind::Usage,
            "no_password",
            anyhow::anyhow!("the password is read from the first line of standard input"),
        ));
    }
    Ok(password)
}

/// A record the server refused in a sync.
#[derive(Serialize)]
struct RefusedRecord {
    record_id: RecordId,
    rule: String,
}

#[derive(Serialize)]
struct Synced {
    records_up: u64,
    records_down: u64,
    rejected: Vec<RefusedRecord>,
}

#[derive(Serialize)]
struct SignedIn {
    user_id: RecordId,
    unit_id: RecordId,
    roles: Vec<String>,
    records_down: u64,
}

pub fn run(args: DeviceArgs, out: &Output) -> CommandResult {
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        match args.command {
            DeviceCommand::Login {
                server,
                tenant,
                login,
            } => {
                let password = read_password()?;
                if let Some(dir) = args.store.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| Failure::new(ExitKind::Other, "store", e))?;
                }
                let mut engine = sync::sign_in(
                    &SignIn {
                        server_url: server,
                        tenant,
                        login: login.clone(),
                        password,
                        device_name: format!("{login}'s simulated device"),
                    },
                    &args.store,
                )
                .await
                .map_err(sync_failure)?;
                let report = sync_now(&mut engine).await?;
                let me = engine.me().clone();
                let view = SignedIn {
                    user_id: me.user_id,
                    unit_id: me.unit_id,
                    roles: me.roles.clone(),
                    records_down: report.progress.records_down,
                };
                out.result(&view, |w| {
                    writeln!(
                        w,
                        "signed in as {login} ({}); {} records pulled",
                        me.roles.join(", "),
                        view.records_down
                    )
                });
                Ok(ExitKind::Ok)
            }
            DeviceCommand::Sync => {
                let mut engine = resume(&args.store)?;
                let report = sync_now(&mut engine).await?;
                let p = &report.progress;
                let view = Synced {
                    records_up: p.records_up,
                    records_down: p.records_down,
                    rejected: report
                        .rejected
                        .iter()
                        .map(|(record_id, rule)| RefusedRecord {
                            record_id: *record_id,
                            rule: rule.clone(),
                        })
                        .collect(),
                };
                out.result(&view, |w| {
                    writeln!(
                        w,
                        "synced: {} up, {} down, {} rejected",
                        view.records_up,
                        view.records_down,
                        view.rejected.len()
                    )?;
                    for r in &view.rejected {
                        writeln!(
                            w,
                            "  the server refused record {} by rule {} (`rejected` shows why)",
                            r.record_id, r.rule
                        )?;
                    }
                    Ok(())
                });
                Ok(if view.rejected.is_empty() {
                    ExitKind::Ok
                } else {
                    ExitKind::Refused
                })
            }
            DeviceCommand::Customer(command) => customers::run(&args.store, command, out),
            DeviceCommand::Task(command) => fieldwork::task(&args.store, command, out),
            DeviceCommand::Opportunity(command) => opportunity::run(&args.store, command, out),
            other => fieldwork::run(&args.store, other, out),
        }
    })
}

async fn sync_now(engine: &mut Engine) -> Result<sync::SyncReport, Failure> {
    sync::sync_now(
        engine,
        &SyncOptions::default(),
        &|_| {},
        &CancelToken::new(),
    )
    .await
    .map_err(sync_failure)
}
