//! `fieldsales demo`: a sales org's working day on this machine, then its dashboards.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use fieldsales_cli::ExitKind;
use fieldsales_cli::demo::{self, DemoError, DemoOptions, DemoReport, ManagerDashboard};
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
    for d in &report.dashboards {
        writeln!(w)?;
        dashboard(w, d)?;
        writeln!(
            w,
            "  approvals: {} waiting at sync, {} after deciding",
            d.approvals_waiting, d.approvals_waiting_after
        )?;
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
    writeln!(w, "{} — {} ({})", d.team, d.name, d.login)?;
    let header = [
        "rep",
        "check-ins",
        "inside",
        "outside",
        "flagged",
        "out",
        "avg min",
        "report",
    ];
    let mut rows: Vec<[String; 8]> = Vec::new();
    let report_of = |id| {
        d.reports
            .groups
            .iter()
            .find(|g| g.group.id == id)
            .map(|g| {
                let f = &g.figures;
                if f.on_time > 0 {
                    "on time"
                } else if f.late > 0 {
                    "late"
                } else if f.missing > 0 || f.missing_unfiled > 0 {
                    "missing"
                } else if f.awaiting_receipt > 0 {
                    "awaiting"
                } else {
                    "-"
                }
            })
            .unwrap_or("-")
    };
    for row in &d.visits.rows {
        let f = &row.figures;
        rows.push([
            row.group.name.clone(),
            f.check_ins.to_string(),
            f.inside.to_string(),
            f.outside.to_string(),
            f.flagged.to_string(),
            f.checked_out.to_string(),
            f.average_duration_s
                .map_or("-".into(), |s| (s / 60).to_string()),
            report_of(row.group.id).to_owned(),
        ]);
    }
    // Reps with no visit still owe a report.
    for g in &d.reports.groups {
        if !d.visits.rows.iter().any(|r| r.group.id == g.group.id) {
            let mut row: [String; 8] = Default::default();
            row[0] = g.group.name.clone();
            for cell in row.iter_mut().take(7).skip(1) {
                *cell = "0".into();
            }
            row[7] = report_of(g.group.id).to_owned();
            rows.push(row);
        }
    }
    let t = &d.visits.total;
    let r = &d.reports.total;
    rows.push([
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
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|row| width(&row[i]))
                .chain(std::iter::once(width(header[i])))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |w: &mut dyn Write, cells: &[&str]| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(width(cell));
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
    line(w, &header)?;
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(w, &cells)?;
    }
    Ok(())
}

/// Columns on a terminal: a CJK character takes two.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}
