//! Logs and metrics.
//!
//! Logs are structured (`tracing`); a request's span carries its method, route template,
//! request id and, once authenticated, the device, never a header, a body, a password or a
//! token. Lines are coloured only when they go to a terminal: a file or a log collector gets
//! plain text.
//!
//! Metrics are served in the OpenMetrics text format: the build, counters and latency
//! histograms per route template (never per raw path, so ids in paths cannot explode the
//! number of series), the sync endpoint's records (pushed, accepted, refused by rule,
//! pulled), the scheduled jobs' runs and what they wrote, and the size of the database files.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogConfig, LogFormat};
use crate::jobs::JobReport;

/// Installs the global log subscriber, writing to standard output, in colour only when that
/// is a terminal. Fails if one is installed already.
pub fn init_logging(config: &LogConfig) -> Result<(), tracing_subscriber::util::TryInitError> {
    let filter = EnvFilter::builder()
        .parse(&config.level)
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    match config.format {
        LogFormat::Text => builder.finish().try_init(),
        LogFormat::Json => builder.json().flatten_event(true).finish().try_init(),
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: String,
}

/// How a run of the scheduled jobs over a tenant ended.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
enum RunResult {
    ok,
    failed,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    result: RunResult,
}

/// What a job wrote.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
enum JobOutput {
    /// Leads taken back into the pool.
    reclaimed_lead,
    /// Missing daily reports written.
    missing_report,
    /// Missing reports withdrawn because the report arrived after all.
    withdrawn_missing_report,
    /// Deals reminded of their stage's time running out.
    stage_reminder,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobOutputLabels {
    record: JobOutput,
}

/// The database files.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
enum DatabaseFile {
    /// Tenants, accounts, devices and tokens (`server.sqlite3`).
    accounts,
    /// Every tenant's records (`tenants/`).
    records,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DatabaseLabels {
    database: DatabaseFile,
}

/// The bytes the database files take on disk, WAL included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatabaseSizes {
    /// Tenants, accounts, devices and tokens.
    pub accounts: u64,
    /// Every tenant's records.
    pub records: u64,
}

/// Measures the database files under `data_dir` (missing files count as empty).
pub fn database_sizes(data_dir: &Path) -> DatabaseSizes {
    let accounts = ["server.sqlite3", "server.sqlite3-wal", "server.sqlite3-shm"]
        .iter()
        .filter_map(|name| std::fs::metadata(data_dir.join(name)).ok())
        .map(|m| m.len())
        .sum();
    DatabaseSizes {
        accounts,
        records: tree_size(&data_dir.join("tenants")),
    }
}

fn tree_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.metadata() {
            Ok(m) if m.is_dir() => tree_size(&entry.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s: sign-in (argon2) sits near 50 ms, a large sync page near seconds.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.001, 2.0, 15,
    ))
}

fn group_commit_histogram() -> Histogram {
    // A group commit holds 1 to 32 sync calls.
    Histogram::new([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
}

/// The server's metrics.
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    in_flight: Gauge,
    pushed: Counter,
    accepted: Counter,
    rejected: Family<RuleLabels, Counter>,
    pulled: Counter,
    shed: Counter,
    group_commit: Histogram,
    job_runs: Family<RunLabels, Counter>,
    job_output: Family<JobOutputLabels, Counter>,
    database: Family<DatabaseLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Fresh counters.
    pub fn new() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let in_flight = Gauge::default();
        let mut registry = Registry::with_prefix("fieldsales");
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route",
            latency.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being answered now",
            in_flight.clone(),
        );
        registry.register(
            "build",
            "The server's build",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        let pushed = Counter::default();
        registry.register(
            "sync_records_pushed",
            "Records devices pushed to the sync endpoint",
            pushed.clone(),
        );
        let accepted = Counter::default();
        registry.register(
            "sync_records_accepted",
            "Pushed records the server accepted (perhaps amended)",
            accepted.clone(),
        );
        let rejected = Family::<RuleLabels, Counter>::default();
        registry.register(
            "sync_records_rejected",
            "Pushed records the server refused, by the rule that refused them",
            rejected.clone(),
        );
        let pulled = Counter::default();
        registry.register(
            "sync_records_pulled",
            "Records sent to devices in sync pages",
            pulled.clone(),
        );
        let shed = Counter::default();
        registry.register(
            "sync_shed",
            "Syncs answered 503 overloaded because no turn came within limits.sync_wait",
            shed.clone(),
        );
        let group_commit = group_commit_histogram();
        registry.register(
            "sync_group_commit_calls",
            "Sync calls of one tenant committed together in one transaction",
            group_commit.clone(),
        );
        let job_runs = Family::<RunLabels, Counter>::default();
        registry.register(
            "job_runs",
            "Runs of the scheduled jobs over a tenant, by result",
            job_runs.clone(),
        );
        let job_output = Family::<JobOutputLabels, Counter>::default();
        registry.register(
            "job_records",
            "Records the scheduled jobs wrote, by what they are",
            job_output.clone(),
        );
        let database = Family::<DatabaseLabels, Gauge>::default();
        registry.register_with_unit(
            "database_size",
            "Size of the database files on disk, WAL included, measured at scrape",
            Unit::Bytes,
            database.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
            in_flight,
            pushed,
            accepted,
            rejected,
            pulled,
            shed,
            group_commit,
            job_runs,
            job_output,
            database,
        }
    }

    /// One sync call: how many records were pushed, the rule of each refused one, how many
    /// were accepted, and how many records its page carried.
    pub fn observe_sync<'a>(
        &self,
        pushed: usize,
        accepted: usize,
        refused_by: impl IntoIterator<Item = &'a str>,
        pulled: usize,
    ) {
        self.pushed.inc_by(pushed as u64);
        self.accepted.inc_by(accepted as u64);
        for rule in refused_by {
            self.rejected
                .get_or_create(&RuleLabels {
                    rule: rule.to_owned(),
                })
                .inc();
        }
        self.pulled.inc_by(pulled as u64);
    }

    /// A sync shed because every turn was taken.
    pub fn observe_shed(&self) {
        self.shed.inc();
    }

    /// How many sync calls of a tenant one transaction committed: the record store's group
    /// commit calls this once per committed group.
    pub fn observe_group_commit(&self, calls: usize) {
        self.group_commit.observe(calls as f64);
    }

    /// One run of the scheduled jobs over a tenant, and what it wrote.
    pub fn observe_job_run<E>(&self, run: Result<&JobReport, E>) {
        let result = match run {
            Ok(report) => {
                for (record, n) in [
                    (JobOutput::reclaimed_lead, report.reclaimed_leads.len()),
                    (JobOutput::missing_report, report.missing_reports.len()),
                    (
                        JobOutput::withdrawn_missing_report,
                        report.withdrawn_missing.len(),
                    ),
                    (JobOutput::stage_reminder, report.stage_reminders.len()),
                ] {
                    self.job_output
                        .get_or_create(&JobOutputLabels { record })
                        .inc_by(n as u64);
                }
                RunResult::ok
            }
            Err(_) => RunResult::failed,
        };
        self.job_runs.get_or_create(&RunLabels { result }).inc();
    }

    /// The database files' sizes, measured now.
    pub fn set_database_sizes(&self, sizes: &DatabaseSizes) {
        for (database, bytes) in [
            (DatabaseFile::accounts, sizes.accounts),
            (DatabaseFile::records, sizes.records),
        ] {
            self.database
                .get_or_create(&DatabaseLabels { database })
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        prometheus_client::encoding::text::encode(&mut out, &registry)?;
        Ok(out)
    }
}

/// Counts a request in flight until dropped, so a request abandoned by its client (its
/// future dropped mid-way) is not counted forever.
struct InFlight<'a>(&'a Gauge);

impl<'a> InFlight<'a> {
    fn enter(gauge: &'a Gauge) -> Self {
        gauge.inc();
        InFlight(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Middleware counting and timing every request.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let in_flight = InFlight::enter(&metrics.in_flight);
    let response = next.run(request).await;
    drop(in_flight);
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
