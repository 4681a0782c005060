//! `fieldsales device --store FILE ...`: a phone without the phone. Each command opens the
//! store, resumes the signed-in session kept in it, does one thing through the engine the
//! apps use, and exits; so a script can play several devices offline and sync them when it
//! likes.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use fieldsales_cli::ExitKind;
use fieldsales_core::dashboard::visits::Granularity;
use fieldsales_core::dashboard::{DashboardRequest, DateRange, GroupBy};
use fieldsales_core::engine::Engine;
use fieldsales_core::engine::follow_ups::NewFollowUp;
use fieldsales_core::engine::reports::ReportSections;
use fieldsales_core::engine::tasks::NewTask;
use fieldsales_core::engine::visits::CheckInRequest;
use fieldsales_core::fieldwork::check_in::DevicePosition;
use fieldsales_core::process::approval::Verdict;
use fieldsales_core::record::follow_up::FollowUpMethod;
use fieldsales_core::record::task::TaskKind;
use fieldsales_core::record::{Customer, Header, Kind, RecordRef};
use fieldsales_core::store::Store;
use fieldsales_core::sync::{self, CancelToken, SignIn, SyncError, SyncOptions};
use fieldsales_core::{GeoPoint, LocalDate, RecordId, Timestamp};
use serde::Serialize;
use serde_json::json;

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
    Opportunity(super::opportunity::OpportunityCommand),
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
        E::RuleViolated { rule, detail } => return Failure::rule(rule, detail),
        E::StageMove(refused) => {
            return Failure::rule(authority::opportunity::refusal_code(refused), refused);
        }
        E::Decision(refused) => {
            return Failure::rule(authority::approval::refusal_code(refused), refused);
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

#[derive(Serialize)]
struct CustomerRow {
    id: RecordId,
    legal_name: String,
    address: Option<String>,
    tier: Option<String>,
    industry: Option<String>,
    tags: Vec<String>,
    owner_id: Option<RecordId>,
}

impl From<&Customer> for CustomerRow {
    fn from(c: &Customer) -> Self {
        CustomerRow {
            id: c.header.id,
            legal_name: c.legal_name.clone(),
            address: c.address.clone(),
            tier: c.tier.clone(),
            industry: c.industry.clone(),
            tags: c.tags.iter().cloned().collect(),
            owner_id: c.header.owner_id,
        }
    }
}

fn print_customers(out: &Output, rows: &[CustomerRow]) {
    out.result(&json!({ "customers": rows }), |w| {
        for c in rows {
            writeln!(
                w,
                "{}  {}  {}  tier {}  {}",
                c.id,
                c.legal_name,
                c.address.as_deref().unwrap_or("-"),
                c.tier.as_deref().unwrap_or("-"),
                c.tags.join(",")
            )?;
        }
        Ok(())
    });
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
                out.result(
                    &json!({"user_id": me.user_id, "unit_id": me.unit_id, "roles": me.roles,
                            "records_down": report.progress.records_down}),
                    |w| {
                        writeln!(
                            w,
                            "signed in as {login} ({}); {} records pulled",
                            me.user_id, report.progress.records_down
                        )
                    },
                );
                Ok(ExitKind::Ok)
            }
            DeviceCommand::Sync => {
                let mut engine = resume(&args.store)?;
                let report = sync_now(&mut engine).await?;
                let p = &report.progress;
                let rejected: Vec<String> =
                    report.rejected.iter().map(|r| format!("{r:?}")).collect();
                out.result(
                    &json!({"records_up": p.records_up, "records_down": p.records_down,
                            "rejected": rejected}),
                    |w| {
                        writeln!(
                            w,
                            "synced: {} up, {} down, {} rejected",
                            p.records_up,
                            p.records_down,
                            rejected.len()
                        )?;
                        for r in &rejected {
                            writeln!(w, "  rejected: {r}")?;
                        }
                        Ok(())
                    },
                );
                Ok(if rejected.is_empty() {
                    ExitKind::Ok
                } else {
                    ExitKind::Refused
                })
            }
            DeviceCommand::Customer(command) => customer(&args.store, command, out),
            DeviceCommand::CheckIn {
                customer,
                lat,
                lon,
                accuracy,
                mock,
                note,
            } => {
                let mut engine = resume(&args.store)?;
                let point = GeoPoint::new(lat, lon).map_err(|e| {
                    Failure::new(ExitKind::Usage, "bad_position", anyhow::anyhow!("{e}"))
                })?;
                let now = engine.now();
                let checked = engine
                    .check_in(CheckInRequest {
                        customer_id: customer,
                        position: DevicePosition {
                            point,
                            accuracy_m: accuracy,
                            fix_time: now,
                            mock,
                            integrity: None,
                            since_boot_ms: None,
                        },
                        note,
                        photos: Vec::new(),
                    })
                    .map_err(engine_failure)?;
                let visit = &checked.visit;
                out.result(
                    &json!({"visit_id": visit.header.id, "verdict": visit.verdict,
                            "proposed_location": checked.proposed_location}),
                    |w| writeln!(w, "checked in: visit {} {:?}", visit.header.id, visit.verdict),
                );
                Ok(ExitKind::Ok)
            }
            DeviceCommand::CheckOut { visit } => {
                let mut engine = resume(&args.store)?;
                let v = engine.check_out(visit, None).map_err(engine_failure)?;
                out.result(&json!({"visit_id": v.header.id}), |w| {
                    writeln!(w, "checked out of visit {}", v.header.id)
                });
                Ok(ExitKind::Ok)
            }
            DeviceCommand::FollowUp {
                customer,
                text,
                method,
            } => {
                let mut engine = resume(&args.store)?;
                let method = match method.as_str() {
                    "visit" => FollowUpMethod::Visit,
                    "call" => FollowUpMethod::Call,
                    "message" => FollowUpMethod::Message,
                    "meeting" => FollowUpMethod::Meeting,
                    other => {
                        return Err(Failure::new(
                            ExitKind::Usage,
                            "bad_method",
                            anyhow::anyhow!("unknown method {other}: visit, call, message or meeting"),
                        ));
                    }
                };
                let f = engine
                    .log_follow_up(NewFollowUp {
                        subject: RecordRef {
                            kind: Kind::Customer,
                            id: customer,
                        },
                        method,
                        occurred_at: None,
                        text,
                        next_step: None,
                        visit_id: None,
                    })
                    .map_err(engine_failure)?;
                out.result(&json!({"follow_up_id": f.header.id}), |w| {
                    writeln!(w, "follow-up {} logged", f.header.id)
                });
                Ok(ExitKind::Ok)
            }
            DeviceCommand::Report(ReportCommand::Draft { date, summary }) => {
                let mut engine = resume(&args.store)?;
                let date = date.unwrap_or_else(|| engine.now().local_date(&engine.me().zone));
                let mut report = engine.report_draft(date).map_err(engine_failure)?;
                if summary.is_some() {
                    report = engine
                        .edit_report(
                            report.header.id,
                            ReportSections {
                                summary,
                                ..ReportSections::default()
                            },
                        )
                        .map_err(engine_failure)?;
                }
                out.result(
                    &json!({"report_id": report.header.id, "date": report.date,
                            "state": report.state}),
                    |w| writeln!(w, "report {} for {}", report.header.id, report.date),
                );
                Ok(ExitKind::Ok)
            }
            DeviceCommand::Report(ReportCommand::Submit { id }) => {
                let mut engine = resume(&args.store)?;
                let report = engine.submit_report(id).map_err(engine_failure)?;
                out.result(
                    &json!({"report_id": report.header.id, "verdict": report.verdict}),
                    |w| writeln!(w, "report {} submitted: {:?}", report.header.id, report.verdict),
                );
                Ok(ExitKind::Ok)
            }
            DeviceCommand::Task(command) => task(&args.store, command, out),
            DeviceCommand::Opportunity(command) => {
                super::opportunity::run(&args.store, command, out)
            }
            DeviceCommand::Approve {
                id,
                reject,
                comment,
            } => {
                let mut engine = resume(&args.store)?;
                match id {
                    None => {
                        let waiting: Vec<_> = engine
                            .approvals_waiting_for_me()
                            .map_err(engine_failure)?
                            .iter()
                            .map(|a| json!({"id": a.header.id, "subject": a.subject.id,
                                            "requester": a.requester()}))
                            .collect();
                        out.result(&json!({ "waiting": waiting }), |w| {
                            for a in &waiting {
                                writeln!(w, "{a}")?;
                            }
                            Ok(())
                        });
                    }
                    Some(id) => {
                        let verdict = if reject {
                            Verdict::Reject
                        } else {
                            Verdict::Approve
                        };
                        let a = engine
                            .decide_approval(id, verdict, comment.as_deref())
                            .map_err(engine_failure)?;
                        out.result(&json!({"id": a.header.id, "status": a.status}), |w| {
                            writeln!(w, "approval {}: {:?}", a.header.id, a.status)
                        });
                    }
                }
                Ok(ExitKind::Ok)
            }
            DeviceCommand::Rejected => {
                let engine = resume(&args.store)?;
                let rejected: Vec<_> = engine
                    .store()
                    .rejected_changes()
                    .map_err(engine_failure)?
                    .iter()
                    .map(|r| json!({"record_id": r.record_id, "kind": r.kind, "rule": r.rule,
                                    "field": r.field, "detail": r.detail,
                                    "rejected_at": r.rejected_at}))
                    .collect();
                out.result(&json!({ "rejected": rejected }), |w| {
                    for r in &rejected {
                        writeln!(w, "{r}")?;
                    }
                    Ok(())
                });
                Ok(ExitKind::Ok)
            }
            DeviceCommand::Dashboard { date } => {
                let engine = resume(&args.store)?;
                let date = date.unwrap_or_else(|| engine.now().local_date(&engine.me().zone));
                let request = DashboardRequest {
                    range: DateRange {
                        from: date,
                        to: date,
                    },
                    group_by: GroupBy::Rep,
                };
                let visits = engine
                    .visits_dashboard(&request, Granularity::Day)
                    .map_err(engine_failure)?;
                let reports = engine.report_dashboard(&request).map_err(engine_failure)?;
                let funnel = engine.funnel_dashboard(&request).map_err(engine_failure)?;
                out.result(
                    &json!({"visits": visits, "reports": reports, "funnel": funnel}),
                    |w| {
                        let t = &visits.total;
                        let r = &reports.total;
                        let f = &funnel.total;
                        writeln!(
                            w,
                            "{date}: {} check-ins ({} outside, {} flagged); reports {} on time, {} late, {} missing",
                            t.check_ins,
                            t.outside,
                            t.flagged,
                            r.on_time,
                            r.late,
                            r.missing
                        )?;
                        writeln!(
                            w,
                            "pipeline {} open over {} stages; {} won ({}), {} lost",
                            f.pipeline,
                            f.stages.iter().filter(|s| s.open > 0).count(),
                            f.won,
                            f.won_amount,
                            f.lost
                        )
                    },
                );
                Ok(ExitKind::Ok)
            }
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

fn task(path: &Path, command: TaskCommand, out: &Output) -> CommandResult {
    let mut engine = resume(path)?;
    match command {
        TaskCommand::Add { title, due } => {
            let due_at = due
                .map(|d| {
                    Timestamp::parse_rfc3339(&d).map_err(|e| {
                        Failure::new(ExitKind::Usage, "bad_time", anyhow::anyhow!("--due: {e}"))
                    })
                })
                .transpose()?;
            let me = engine.me().user_id;
            let t = engine
                .create_task(NewTask {
                    assignee: me,
                    kind: TaskKind::Task,
                    title,
                    description: String::new(),
                    due_at,
                    start_at: None,
                    end_at: None,
                    reminder_at: None,
                    related: None,
                })
                .map_err(engine_failure)?;
            out.result(&json!({"id": t.header.id}), |w| {
                writeln!(w, "task {} added", t.header.id)
            });
        }
        TaskCommand::List => {
            let agenda = engine.today().map_err(engine_failure)?;
            let rows: Vec<_> = agenda
                .tasks_due
                .iter()
                .chain(&agenda.overdue)
                .chain(&agenda.schedule)
                .map(|t| {
                    json!({"id": t.header.id, "title": t.title, "status": t.status,
                                "due_at": t.due_at})
                })
                .collect();
            out.result(&json!({ "tasks": rows }), |w| {
                for r in &rows {
                    writeln!(w, "{r}")?;
                }
                Ok(())
            });
        }
        TaskCommand::Done { id } => {
            let t = engine.complete_task(id).map_err(engine_failure)?;
            out.result(&json!({"id": t.header.id, "status": t.status}), |w| {
                writeln!(w, "task {} done", t.header.id)
            });
        }
    }
    Ok(ExitKind::Ok)
}

fn customer(path: &Path, command: CustomerCommand, out: &Output) -> CommandResult {
    let mut engine = resume(path)?;
    match command {
        CustomerCommand::Add {
            name,
            address,
            tier,
            lat,
            lon,
        } => {
            let me = engine.me().user_id;
            let mut c = Customer::new(Header::new(me, engine.now()), name);
            c.address = address;
            c.tier = tier;
            if let (Some(lat), Some(lon)) = (lat, lon) {
                c.location = Some(GeoPoint::new(lat, lon).map_err(|e| {
                    Failure::new(ExitKind::Usage, "bad_position", anyhow::anyhow!("{e}"))
                })?);
            }
            let (created, near) = engine.create_customer(c).map_err(engine_failure)?;
            out.result(
                &json!({"id": created.header.id, "near_duplicates": near.len()}),
                |w| writeln!(w, "customer {} created", created.header.id),
            );
        }
        CustomerCommand::List => {
            let rows: Vec<CustomerRow> = engine
                .visible_customers()
                .map_err(engine_failure)?
                .iter()
                .map(CustomerRow::from)
                .collect();
            print_customers(out, &rows);
        }
        CustomerCommand::Search { text } => {
            let hits = engine
                .search_visible(&text, &[Kind::Customer], 50)
                .map_err(engine_failure)?;
            let mut rows = Vec::new();
            for hit in hits {
                let c = engine.customer(hit.id).map_err(engine_failure)?;
                rows.push(CustomerRow::from(&c));
            }
            print_customers(out, &rows);
        }
        CustomerCommand::Show { id } => {
            let c = engine.customer(id).map_err(engine_failure)?;
            print_customers(out, &[CustomerRow::from(&c)]);
        }
        CustomerCommand::Edit {
            id,
            address,
            tier,
            industry,
            tag,
        } => {
            if address.is_none() && tier.is_none() && industry.is_none() && tag.is_none() {
                return Err(Failure::new(
                    ExitKind::Usage,
                    "nothing_to_change",
                    anyhow::anyhow!("give at least one of --address, --tier, --industry, --tag"),
                ));
            }
            let c = engine
                .update_customer(id, |c| {
                    if address.is_some() {
                        c.address = address;
                    }
                    if tier.is_some() {
                        c.tier = tier;
                    }
                    if industry.is_some() {
                        c.industry = industry;
                    }
                    if let Some(tag) = tag {
                        c.tags.insert(tag);
                    }
                })
                .map_err(engine_failure)?;
            print_customers(out, &[CustomerRow::from(&c)]);
        }
        CustomerCommand::Share { id, with } => {
            let c = engine.share_customer(id, with).map_err(engine_failure)?;
            print_customers(out, &[CustomerRow::from(&c)]);
        }
    }
    Ok(ExitKind::Ok)
}
