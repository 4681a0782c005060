//! `fieldsales demo`: a sales org's working day on this machine, then its dashboards.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use fieldsales_cli::ExitKind;
use fieldsales_cli::demo::{self, DemoError, DemoOptions, DemoReport, ManagerDashboard};
use fieldsales_core::dashboard::GroupBy;
use fieldsales_server::shutdown_signal;

use crate::CommandResult;
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
        yuan(t.won_amount_minor),
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
    let mut rows = Vec::new();
    for (info, figures) in f.stages.iter().zip(&t.stages) {
        rows.push(vec![
            info.name.clone(),
            figures.open.to_string(),
            yuan(figures.open_amount.minor),
            yuan(figures.weighted_amount.minor),
            figures.entered.to_string(),
            figures.advanced.to_string(),
        ]);
    }
    rows.push(vec![
        "total".into(),
        t.stages.iter().map(|s| s.open).sum::<u64>().to_string(),
        yuan(t.pipeline.minor),
        yuan(t.weighted_forecast.minor),
        t.stages.iter().map(|s| s.entered).sum::<u64>().to_string(),
        t.stages.iter().map(|s| s.advanced).sum::<u64>().to_string(),
    ]);
    table(
        w,
        &["stage", "open", "amount", "weighted", "entered", "advanced"],
        &rows,
    )?;
    writeln!(
        w,
        "  closed on the day: {} won ({}), {} lost; win rate {}",
        t.won,
        yuan(t.won_amount.minor),
        t.lost,
        t.win_rate.map_or("-".into(), |r| format!("{}%", r.0 / 100))
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
    let mut rows: Vec<Vec<String>> = Vec::new();
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
        rows.push(vec![
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
            rows.push(row);
        }
    }
    let t = &d.visits.total;
    let r = &d.reports.total;
    rows.push(vec![
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
    table(w, &header, &rows)
}

/// A table indented under its heading: the first column left-aligned, numbers right-aligned,
/// the last column left as it is.
fn table(w: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .filter_map(|row| row.get(i))
                .map(|c| width(c))
                .chain(std::iter::once(width(header[i])))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |w: &mut dyn Write, cells: &[&str]| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths
                .get(i)
                .copied()
                .unwrap_or(0)
                .saturating_sub(width(cell));
            if i == 0 {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            } else {
                text.push_str("  ");
                text.push_str(&" ".repeat(if i == cells.len() - 1 { 0 } else { pad }));
                text.push_str(cell);
            }
        }
        writeln!(w, "  {}", text.trim_end())
    };
    line(w, header)?;
    for row in rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(w, &cells)?;
    }
    Ok(())
}

/// An amount of yuan, whole, with thousands separated: `¥1,234,500`.
fn yuan(minor: i64) -> String {
    let whole = (minor / 100).unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}¥{grouped}", if minor < 0 { "-" } else { "" })
}

/// Columns on a terminal: a CJK character takes two.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}
