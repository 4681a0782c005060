//! `fieldsales demo`: a sales org's working day on this machine, then its dashboards.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use fieldsales_cli::ExitKind;
use fieldsales_cli::demo::{self, DemoError, DemoOptions, DemoReport, ManagerDashboard};
use fieldsales_core::dashboard::GroupBy;
use fieldsales_core::{Currency, Money};
use fieldsales_server::shutdown_signal;

use crate::CommandResult;
use crate::output::text::{Table, money};
use crate::output::{Failure, Output};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The folder for the server's database and the phones' stores (its demo contents are
    /// replaced).
    #[arg(long, value_name = "DIR", default_value = "fieldsales-demo")]
    data: PathBuf,
    /// Stop once the dashboards are printed instead of serving until Ctrl-C.
    #[arg(long)]
    exit: bool,
    /// The seed of names, places and the day's events.
    #[arg(long, value_name = "N", default_value_t = demo::DEFAULT_SEED)]
    seed: u64,
}

fn failure(e: DemoError) -> Failure {
    let kind = match &e {
        DemoError::Listen(_) => ExitKind::Network,
        _ => ExitKind::Other,
    };
    Failure::new(kind, "demo_failed", e)
}

pub fn run(args: DemoArgs, out: &Output) -> CommandResult {
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let progress = out.progress();
        let options = DemoOptions {
            data_dir: args.data,
            seed: args.seed,
        };
        let started = std::time::Instant::now();
        let running = demo::run(&options, &progress).await.map_err(failure)?;
        let elapsed = started.elapsed();
        out.result(&running.report, |w| {
            print(w, &running.report, elapsed, args.exit)
        });
        if !args.exit {
            shutdown_signal().await;
        }
        running.stop().await.map_err(failure)?;
        Ok(ExitKind::Ok)
    })
}

fn print(
    w: &mut dyn Write,
    report: &DemoReport,
    elapsed: std::time::Duration,
    exiting: bool,
) -> std::io::Result<()> {
    let s = &report.simulated;
    let t = &s.total;
    writeln!(
        w,
        "Simulated {} (seed {}) in {:.1} s: {} customers, {} check-ins ({} outside the fence, \
         {} mock location, {} poor accuracy), {} follow-ups; reports: {} on time, {} late, {} missing.",
        s.date,
        s.seed,
        elapsed.as_secs_f64(),
        t.customers,
        t.check_ins,
        t.outside,
        t.mock_location,
        t.poor_accuracy,
        t.follow_ups,
        t.reports_on_time,
        t.reports_late,
        t.reports_missing,
    )?;
    writeln!(
        w,
        "{} discount(s) over a rep's limit went for approval; the managers approved {} on their phones.",
        t.approvals_requested, t.approvals_approved
    )?;
    writeln!(
        w,
        "Pipeline: {} deals; {} stage moves on the day, {} won ({}), {} lost; the phones refused {} move(s):",
        t.opportunities,
        t.stage_moves,
        t.won,
        money(Money::new(t.won_amount_minor, Currency::CNY)),
        t.lost,
        t.stage_moves_refused,
    )?;
    for m in &s.refused_moves {
        writeln!(
            w,
            "  {} 「{}」 {} → {}: {} ({})",
            m.login, m.opportunity, m.from, m.to, m.detail, m.rule
        )?;
    }
    for d in &report.dashboards {
        writeln!(w)?;
        dashboard(w, d)?;
    }
    writeln!(w)?;
    writeln!(w, "Sync server:   {}", report.server)?;
    writeln!(
        w,
        "Web dashboard: {}  (tenant {}, login {}, password {})",
        report.dashboard_url, report.tenant, report.manager_login, report.manager_password
    )?;
    writeln!(
        w,
        "Admin console: {}  (tenant {}, login {}, password {})",
        report.admin_url, report.tenant, report.admin_login, report.admin_password
    )?;
    writeln!(w, "Data:          {}", report.data_dir.display())?;
    if !exiting {
        writeln!(w, "Serving until Ctrl-C.")?;
    }
    Ok(())
}

fn dashboard(w: &mut dyn Write, d: &ManagerDashboard) -> std::io::Result<()> {
    let level = if d.level == "region" {
        "regional director"
    } else {
        "team manager"
    };
    writeln!(w, "{} — {} ({}), {level}", d.unit, d.name, d.login)?;
    funnel(w, d)?;
    visits_and_reports(w, d)?;
    let a = &d.attention;
    writeln!(
        w,
        "  attention: {} deal(s) overdue in their stage, {} lead(s) about to be reclaimed, \
         {} approval(s) waiting",
        a.overdue_opportunities_total,
        a.leads_due_for_reclaim_total,
        a.approvals_waiting.len()
    )?;
    writeln!(
        w,
        "  approvals: {} waiting at sync, {} after deciding",
        d.approvals_waiting, d.approvals_waiting_after
    )
}

fn funnel(w: &mut dyn Write, d: &ManagerDashboard) -> std::io::Result<()> {
    let f = &d.funnel;
    let t = &f.total;
    let mut table =
        Table::new(&["stage", "open", "amount", "weighted", "entered", "advanced"]).indent(2);
    for (info, figures) in f.stages.iter().zip(&t.stages) {
        table.row(vec![
            info.name.clone(),
            figures.open.to_string(),
            money(figures.open_amount),
            money(figures.weighted_amount),
            figures.entered.to_string(),
            figures.advanced.to_string(),
        ]);
    }
    table.row(vec![
        "total".into(),
        t.stages.iter().map(|s| s.open).sum::<u64>().to_string(),
        money(t.pipeline),
        money(t.weighted_forecast),
        t.stages.iter().map(|s| s.entered).sum::<u64>().to_string(),
        t.stages.iter().map(|s| s.advanced).sum::<u64>().to_string(),
    ]);
    table.write(w)?;
    writeln!(
        w,
        "  closed on the day: {} won ({}), {} lost; win rate {}",
        t.won,
        money(t.won_amount),
        t.lost,
        t.win_rate.map_or("-".into(), |r| r.to_string())
    )
}

fn visits_and_reports(w: &mut dyn Write, d: &ManagerDashboard) -> std::io::Result<()> {
    let first = match d.group_by {
        GroupBy::Rep => "rep",
        GroupBy::Team => "team",
        GroupBy::Region => "region",
    };
    let header = [
        first,
        "check-ins",
        "inside",
        "outside",
        "flagged",
        "out",
        "avg min",
        "reports",
    ];
    let mut table = Table::new(&header).left(&[7]).indent(2);
    let report_of = |id| {
        d.reports
            .groups
            .iter()
            .find(|g| g.group.id == id)
            .map(|g| {
                let f = &g.figures;
                match (d.group_by, f.on_time, f.late, f.missing) {
                    (GroupBy::Rep, 1.., _, _) => "on time".to_owned(),
                    (GroupBy::Rep, _, 1.., _) => "late".to_owned(),
                    (GroupBy::Rep, _, _, 1..) => "missing".to_owned(),
                    (GroupBy::Rep, ..) if f.awaiting_receipt > 0 => "awaiting".to_owned(),
                    (GroupBy::Rep, ..) => "-".to_owned(),
                    _ => format!(
                        "{} on time, {} late, {} missing",
                        f.on_time, f.late, f.missing
                    ),
                }
            })
            .unwrap_or_else(|| "-".to_owned())
    };
    for row in &d.visits.rows {
        let f = &row.figures;
        table.row(vec![
            row.group.name.clone(),
            f.check_ins.to_string(),
            f.inside.to_string(),
            f.outside.to_string(),
            f.flagged.to_string(),
            f.checked_out.to_string(),
            f.average_duration_s
                .map_or("-".into(), |s| (s / 60).to_string()),
            report_of(row.group.id),
        ]);
    }
    // Reps with no visit still owe a report.
    for g in &d.reports.groups {
        if !d.visits.rows.iter().any(|r| r.group.id == g.group.id) {
            let mut row = vec!["0".to_owned(); header.len()];
            row[0] = g.group.name.clone();
            row[6] = "-".into();
            row[7] = report_of(g.group.id);
            table.row(row);
        }
    }
    let t = &d.visits.total;
    let r = &d.reports.total;
    table.row(vec![
        "total".into(),
        t.check_ins.to_string(),
        t.inside.to_string(),
        t.outside.to_string(),
        t.flagged.to_string(),
        t.checked_out.to_string(),
        t.average_duration_s
            .map_or("-".into(), |s| (s / 60).to_string()),
        format!(
            "{} on time, {} late, {} missing",
            r.on_time, r.late, r.missing
        ),
    ]);
    table.write(w)
}
