//! The server's scheduled jobs: what must happen when nobody does anything.
//!
//! A lead nobody followed up goes back to the pool, and a day that passed without a daily
//! report becomes a missing report with its penalty. Neither can run on a phone: a rep who
//! stays offline must not keep a lead, or escape a penalty, by never learning it is due. So
//! the server runs them over its own copy of each tenant's records, on its own clock: core
//! decides what is due ([`fieldsales_core::jobs::due`], the rules and who owes a report),
//! the records store writes it with the server's actor like any other change, and every
//! device in scope gets it by pull.
//!
//! The jobs run on a schedule ([`spawn`], interval from `[jobs]` in the configuration) and on
//! demand (`POST /v1/admin/jobs/run`, for tests and the command line). Both are idempotent.

use std::time::Duration;

use fieldsales_core::{RecordId, Timestamp};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use utoipa::ToSchema;

use crate::model::TenantId;
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
    /// Deals past their stage's longest time reminded now (the owner and their manager get
    /// the deal with `overdue_reminded_at` at their next pull).
    #[schema(value_type = Vec<String>)]
    #[serde(default)]
    pub stage_reminders: Vec<RecordId>,
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

/// The scheduled run of the jobs, due every `every`, over every tenant whose run this
/// instance takes (with several instances over one database, one of them takes each run: see
/// [`crate::records::RecordStore::claim_scheduled_run`]); a tenant that fails is logged and the
/// others still run.
pub async fn run_all(state: &AppState, every: Duration) -> Result<(), StoreError> {
    for tenant in state.records.tenants().await? {
        match state.records.claim_scheduled_run(tenant, every).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::error!(%tenant, error = %e, "the scheduled jobs' lease failed");
                continue;
            }
        }
        if let Err(e) = run_tenant(state, tenant).await {
            tracing::error!(%tenant, error = %e, "scheduled jobs failed");
        }
    }
    Ok(())
}

/// Runs the jobs every `interval` until the task is aborted. The first run is one interval
/// after the start, so a restart loop does not hammer the store. Idempotent: even two runs
/// over the same records write nothing twice (a run reads what the last one wrote).
pub fn spawn(state: AppState, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = run_all(&state, interval).await {
                tracing::error!(error = %e, "scheduled jobs could not list the tenants");
            }
        }
    })
}
