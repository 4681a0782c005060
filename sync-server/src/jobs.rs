//! The server's scheduled jobs: what must happen when nobody does anything.
//!
//! A lead nobody followed up goes back to the pool, and a day that passed without a daily
//! report becomes a missing report with its penalty. Neither can run on a phone: a rep who
//! stays offline must not keep a lead, or escape a penalty, by never learning it is due. So
//! the server runs them over its own copy of each tenant's records, on its own clock, and
//! writes the results with its own actor like any other change: every device in scope gets
//! them by pull.
//!
//! The jobs run on a schedule ([`spawn`], interval from `[jobs]` in the configuration) and on
//! demand (`POST /v1/admin/jobs/run`, for tests and the command line). Both are idempotent: a
//! reclaimed lead is no longer held, and a day with a submitted or missing report gets no
//! second (a draft alone does not settle a day).
//! A report written offline before the cut-off may reach the server after its day was marked
//! missing; the next run withdraws (tombstones) that missing report, and the report that
//! arrived is judged on its own merits by the push review.

use std::collections::BTreeSet;
use std::time::Duration;

use fieldsales_core::dashboard::DashboardSettings;
use fieldsales_core::doc::RecordDoc;
use fieldsales_core::fieldwork::report::ReportDay;
use fieldsales_core::fieldwork::{Judge, report_day_status};
use fieldsales_core::jobs::reclaim_leads;
use fieldsales_core::record::daily_report::ReportState;
use fieldsales_core::record::{
    AnyRecord, DailyReport, Header, IdSet, Kind, Lead, Tombstone, UserProfile,
};
use fieldsales_core::store::{Store as CoreStore, Tx};
use fieldsales_core::{Error, LocalDate, RecordId, Timestamp};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use utoipa::ToSchema;

use crate::model::TenantId;
use crate::records::{bump, tenant_process};
use crate::state::AppState;
use crate::store::StoreError;

/// What one run of the jobs over a tenant wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JobReport {
    /// Leads taken back into the pool.
    #[schema(value_type = Vec<String>)]
    pub reclaimed_leads: Vec<RecordId>,
    /// Missing daily reports written.
    #[schema(value_type = Vec<String>)]
    pub missing_reports: Vec<RecordId>,
    /// Missing reports withdrawn because the rep's report for the day arrived after all
    /// (written offline before the cut-off, synced after it; the report is judged on its own).
    #[schema(value_type = Vec<String>)]
    pub withdrawn_missing: Vec<RecordId>,
}

/// What a run needs besides the tenant's records.
#[derive(Debug, Clone, Copy)]
pub struct JobParams {
    /// Now, on the server's clock.
    pub now: Timestamp,
    /// How many past days are checked for a missing report.
    pub report_lookback_days: u32,
}

impl JobParams {
    /// The parameters the configuration and the clock give now.
    pub fn of(state: &AppState) -> JobParams {
        JobParams {
            now: state.clock.now(),
            report_lookback_days: state.config.jobs.report_lookback_days,
        }
    }
}

/// Runs the jobs over one tenant now.
pub async fn run_tenant(state: &AppState, tenant: TenantId) -> Result<JobReport, StoreError> {
    let run = state.records.run_jobs(tenant, JobParams::of(state)).await;
    state.metrics.observe_job_run(run.as_ref());
    let report = run?;
    if !report.reclaimed_leads.is_empty() || !report.missing_reports.is_empty() {
        tracing::info!(
            %tenant,
            reclaimed = report.reclaimed_leads.len(),
            missing_reports = report.missing_reports.len(),
            "scheduled jobs wrote records"
        );
    }
    Ok(report)
}

/// Runs the jobs over every tenant; a tenant that fails is logged and the others still run.
pub async fn run_all(state: &AppState) -> Result<(), StoreError> {
    for tenant in state.records.tenants().await? {
        if let Err(e) = run_tenant(state, tenant).await {
            tracing::error!(%tenant, error = %e, "scheduled jobs failed");
        }
    }
    Ok(())
}

/// Runs the jobs every `interval` until the task is aborted. The first run is one interval
/// after the start, so a restart loop does not hammer the store.
pub fn spawn(state: AppState, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = run_all(&state).await {
                tracing::error!(error = %e, "scheduled jobs could not list the tenants");
            }
        }
    })
}

/// One run over a tenant's store, in one transaction.
pub(crate) fn run_blocking(store: &mut CoreStore, params: JobParams) -> Result<JobReport, Error> {
    store.transaction(|tx| {
        let process = tenant_process(tx)?;
        let mut report = JobReport::default();
        for reclaimed in reclaim_leads(&held_leads(tx)?, &process.leads, params.now, None) {
            let lead = AnyRecord::Lead(reclaimed.lead);
            report.reclaimed_leads.push(write(tx, &lead, params.now)?);
        }
        let settings = &process.fieldwork.daily_report;
        let reporting_roles = DashboardSettings::default().reporting_roles;
        for user in profiles(tx)? {
            if !user.active
                || user.header.is_deleted()
                || !user.roles.iter().any(|r| reporting_roles.contains(r))
            {
                continue;
            }
            let today = params.now.local_date(&user.zone);
            let joined = user.header.created_at.local_date(&user.zone);
            let filed = report_dates(tx, user.header.id)?;
            let mut date = today;
            for _ in 0..params.report_lookback_days {
                date = date.pred();
                if date < joined {
                    break;
                }
                if filed.contains(&date) {
                    continue;
                }
                let ReportDay::Missing(verdict) =
                    report_day_status(date, &user.zone, settings, params.now, Judge::Server)
                else {
                    continue;
                };
                let mut header = Header::new(user.header.id, params.now);
                header.created_by = None;
                header.org_unit_id = Some(user.unit_id);
                let missing = AnyRecord::DailyReport(DailyReport {
                    header,
                    date,
                    zone: user.zone.clone(),
                    summary: Default::default(),
                    results: Default::default(),
                    problems: Default::default(),
                    plan_tomorrow: Default::default(),
                    visit_ids: Vec::new(),
                    follow_up_ids: Vec::new(),
                    task_ids: Vec::new(),
                    state: ReportState::Missing,
                    submitted_at: None,
                    submitted_clock_offset_ms: None,
                    received_at: None,
                    comments: Vec::new(),
                    read_by: IdSet::new(),
                    marked_false: None,
                    verdict: Some(verdict),
                });
                report
                    .missing_reports
                    .push(write(tx, &missing, params.now)?);
            }
        }
        for id in superseded_missing(tx)? {
            let mut missing: DailyReport = tx.get(id)?;
            missing.header.deleted = Some(Tombstone {
                at: params.now,
                by: None,
                reason: Some("the rep's report for the day arrived".into()),
            });
            report
                .withdrawn_missing
                .push(write(tx, &AnyRecord::DailyReport(missing), params.now)?);
        }
        Ok(report)
    })
}

/// Writes a record as the server: its actor, stored and renumbered for pull.
fn write(tx: &mut Tx<'_>, record: &AnyRecord, now: Timestamp) -> Result<RecordId, Error> {
    let id = record.header().id;
    let mut doc = match tx.load_document(id)? {
        Some(doc) => doc,
        None => RecordDoc::empty(tx.actor()),
    };
    doc.write(record, now).map_err(|e| Error::document(id, e))?;
    let heads = doc.heads();
    tx.save_document(id, &mut doc, Some(&heads))?;
    bump(tx, record, &heads, false)?;
    Ok(id)
}

fn ids(tx: &Tx<'_>, sql: &str) -> Result<Vec<RecordId>, Error> {
    let mut stmt = tx.connection().prepare_cached(sql)?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The live leads a rep holds.
fn held_leads(tx: &Tx<'_>) -> Result<Vec<Lead>, Error> {
    ids(
        tx,
        "SELECT id FROM leads WHERE owner_id IS NOT NULL AND deleted = 0",
    )?
    .into_iter()
    .map(|id| tx.get::<Lead>(id))
    .collect()
}

fn profiles(tx: &Tx<'_>) -> Result<Vec<UserProfile>, Error> {
    let sql = format!(
        "SELECT id FROM documents WHERE kind = '{}'",
        Kind::UserProfile.as_str()
    );
    ids(tx, &sql)?
        .into_iter()
        .map(|id| tx.get::<UserProfile>(id))
        .collect()
}

/// Live missing reports of a day the rep has a live submitted report for.
fn superseded_missing(tx: &Tx<'_>) -> Result<Vec<RecordId>, Error> {
    ids(
        tx,
        "SELECT m.id FROM daily_reports m
         WHERE m.state = 'missing' AND m.deleted = 0 AND EXISTS (
             SELECT 1 FROM daily_reports s
             WHERE s.owner_id = m.owner_id AND s.date = m.date
               AND s.state = 'submitted' AND s.deleted = 0)",
    )
}

/// The days a rep has a live report for that settles the day: submitted, or marked missing
/// already. A draft does not: a day with only a draft past its cut-off is missing, and if the
/// draft is submitted after all the missing report is withdrawn (see the module docs).
fn report_dates(tx: &Tx<'_>, rep: RecordId) -> Result<BTreeSet<LocalDate>, Error> {
    let mut stmt = tx.connection().prepare_cached(
        "SELECT date FROM daily_reports WHERE owner_id = ?1 AND deleted = 0 AND state <> 'draft'",
    )?;
    let rows = stmt.query_map([rep], |r| r.get::<_, String>(0))?;
    let mut dates = BTreeSet::new();
    for row in rows {
        if let Ok(date) = row?.parse::<LocalDate>() {
            dates.insert(date);
        }
    }
    Ok(dates)
}
