//! Server configuration: defaults, then a TOML file, then `FIELDSALES_*` environment
//! variables, each layer overriding the one before; checked whole at start.
//!
//! A server that starts with a bad setting fails later, at the worst moment; so every value
//! is parsed and checked here, and a refusal names the key, where it came from (file or
//! variable) and why. Unknown keys are refused too: a typo must not silently fall back to a
//! default. Loading is a pure function of a file and a list of variables, so tests never
//! touch the process environment.
//!
//! Environment variables name keys with `__` between sections:
//! `FIELDSALES_LISTEN=0.0.0.0:8443`, `FIELDSALES_AUTH__TOKEN_LIFETIME=14d`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

/// The prefix of every environment variable read.
pub const ENV_PREFIX: &str = "FIELDSALES_";

/// Variables with the prefix that are not settings (read elsewhere, or by the command line).
const NOT_SETTINGS: &[&str] = &["CONFIG", "BOOTSTRAP_PASSWORD"];

/// The server's configuration, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where the database lives; created on first start.
    pub data_dir: PathBuf,
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Certificate and key for HTTPS; plain HTTP when absent (behind a TLS-terminating proxy).
    pub tls: Option<TlsFiles>,
    /// Sign-in settings.
    pub auth: AuthConfig,
    /// Request limits.
    pub limits: Limits,
    /// Logging.
    pub log: LogConfig,
    /// Storage tuning.
    pub storage: StorageConfig,
    /// Whether `/metrics` is served.
    pub metrics_enabled: bool,
    /// How long shutdown waits for in-flight requests before dropping them.
    pub shutdown_grace: Duration,
    /// The server's scheduled jobs.
    pub jobs: JobsConfig,
    /// The browser pages.
    pub web: WebConfig,
}

/// The browser pages' settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebConfig {
    /// A base-map tile server for the check-in map, as a URL template with `{z}`, `{x}` and
    /// `{y}` (`https://tiles.example.com/{z}/{x}/{y}.png`); without one the map draws the
    /// points on a plain background (a closed network has no tile server).
    pub tile_url: Option<TileUrl>,
}

/// A checked tile URL template: `http` or `https`, a host, `{z}`, `{x}` and `{y}`, and no
/// character that could break out of the page's content security policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileUrl {
    template: String,
    origin: String,
}

impl TileUrl {
    /// Checks a template.
    pub fn parse(text: &str) -> Result<TileUrl, String> {
        let template = text.trim();
        let rest = template
            .strip_prefix("https://")
            .map(|r| ("https", r))
            .or_else(|| template.strip_prefix("http://").map(|r| ("http", r)));
        let Some((scheme, rest)) = rest else {
            return Err(format!(
                "`{template}` does not start with https:// or http://"
            ));
        };
        let host = rest.split('/').next().unwrap_or_default();
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
        if !host_ok {
            return Err(format!(
                "`{template}` has no plain host name after the scheme"
            ));
        }
        let path_ok = template
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"';,<>`\\ ".contains(&b));
        if !path_ok {
            return Err(format!(
                "`{template}` holds a space, quote, comma or semicolon"
            ));
        }
        for part in ["{z}", "{x}", "{y}"] {
            if !template.contains(part) {
                return Err(format!("`{template}` lacks {part}"));
            }
        }
        Ok(TileUrl {
            template: template.to_owned(),
            origin: format!("{scheme}://{host}"),
        })
    }

    /// The template, as configured.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// Its scheme and host, for the content security policy.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// The scheduled jobs over every tenant's records (lead reclaim, missing daily reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobsConfig {
    /// Whether the server runs them on its own schedule (the admin endpoint runs them anyway).
    pub enabled: bool,
    /// How often they run.
    pub interval: Duration,
    /// How many past days are checked for a missing daily report.
    pub report_lookback_days: u32,
}

/// PEM files for TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Sign-in settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// How long a device token is accepted after sign-in.
    pub token_lifetime: Duration,
    /// Shortest password an admin may set.
    pub min_password_length: usize,
    /// Password hashes computed at once; argon2 is deliberately costly in memory and CPU.
    pub max_concurrent_hashes: usize,
    /// Wrong passwords in a row for one login before its sign-ins are slowed (429).
    pub lockout_after: u32,
    /// Wrong passwords in a row from one address before its sign-ins are slowed (429).
    pub address_lockout_after: u32,
    /// The longest wait a slowed login or address is given; waits double from one second.
    pub lockout_max: Duration,
}

/// Request limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest JSON body of the auth and admin API, in bytes.
    pub json_body_bytes: usize,
    /// Largest sync body, in bytes (for the sync endpoint).
    pub sync_body_bytes: usize,
    /// Largest attachment (a visit photo, a file), in bytes.
    pub attachment_bytes: usize,
    /// Most records one sync page carries, whatever the device asks for.
    pub sync_page_records: usize,
    /// Document bytes one sync page carries at most (a larger single record still goes,
    /// alone).
    pub sync_page_bytes: usize,
    /// Change-sequence entries one sync page examines at most (a user who sees little of a
    /// large tenant gets empty pages that advance the cursor instead of one endless scan).
    pub sync_page_scan: usize,
    /// Longest a request may take before it is answered with a timeout.
    pub request_timeout: Duration,
    /// Connections open at once; beyond it new ones wait in the listen backlog.
    pub connections: usize,
    /// Longest a client may take to send a request's headers (and an idle keep-alive
    /// connection stays open).
    pub header_read_timeout: Duration,
    /// Syncs worked on at once; more wait up to `sync_wait`, then get 503 `overloaded`. It
    /// bounds the memory of syncs: each holds at most its body and the body inflated, both
    /// at most `sync_body_bytes`.
    pub sync_concurrent: usize,
    /// Longest a sync waits for its turn before it is shed with 503 `overloaded`.
    pub sync_wait: Duration,
    /// Inflated sync bytes held by all syncs together; a sync whose body would pass it is
    /// shed with 503 `overloaded` (each body alone is bounded by `sync_body_bytes`).
    pub inflate_bytes_in_flight: usize,
    /// Most records one push may carry (the phone sends 500 at most by default).
    pub push_records: usize,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// Line format.
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `info,fieldsales_server=debug`.
    pub level: String,
}

/// Where the server keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageEngine {
    /// SQLite files in the data directory: one process, zero setup (the default).
    Sqlite,
    /// One PostgreSQL database shared by several stateless server instances; the data
    /// directory then holds only each instance's read model, a cache rebuilt from PostgreSQL.
    Postgres,
}

/// Storage: which engine, and its tuning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    /// The engine.
    pub engine: StorageEngine,
    /// Read-only SQLite connections.
    pub sqlite_readers: usize,
    /// PostgreSQL: where (required when the engine is `postgres`) and how many connections.
    pub postgres: Option<crate::postgres::PgOptions>,
}

impl Config {
    /// The defaults alone (no file, no environment).
    pub fn defaults() -> Config {
        // `Config::load` with no layers only runs the checks over the defaults, which the
        // `defaults_are_valid` test proves pass.
        match Config::load(None, Vec::new()) {
            Ok(config) => config,
            Err(e) => panic!("built-in defaults are invalid: {e}"),
        }
    }

    /// The database file inside the data directory.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("server.sqlite3")
    }

    /// The configuration in effect, as a TOML file with the keys of the configuration file:
    /// every setting, whichever layer it came from, so loading the text gives this same
    /// configuration back. It holds no secret to mask: passwords are never settings (the
    /// bootstrap and admin passwords come from standard input or their own variables) and
    /// the TLS key is named by its path, never its content.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let duration = |d: Duration| humantime::format_duration(d).to_string();
        toml::to_string(&Effective {
            data_dir: &self.data_dir,
            listen: self.listen.to_string(),
            shutdown_grace: duration(self.shutdown_grace),
            tls: self.tls.as_ref().map(|t| EffectiveTls {
                cert: &t.cert,
                key: &t.key,
            }),
            auth: EffectiveAuth {
                token_lifetime: duration(self.auth.token_lifetime),
                min_password_length: self.auth.min_password_length,
                max_concurrent_hashes: self.auth.max_concurrent_hashes,
                lockout_after: self.auth.lockout_after,
                address_lockout_after: self.auth.address_lockout_after,
                lockout_max: duration(self.auth.lockout_max),
            },
            limits: EffectiveLimits {
                json_body_bytes: self.limits.json_body_bytes,
                sync_body_bytes: self.limits.sync_body_bytes,
                attachment_bytes: self.limits.attachment_bytes,
                sync_page_records: self.limits.sync_page_records,
                sync_page_bytes: self.limits.sync_page_bytes,
                sync_page_scan: self.limits.sync_page_scan,
                request_timeout: duration(self.limits.request_timeout),
                connections: self.limits.connections,
                header_read_timeout: duration(self.limits.header_read_timeout),
                sync_concurrent: self.limits.sync_concurrent,
                sync_wait: duration(self.limits.sync_wait),
                inflate_bytes_in_flight: self.limits.inflate_bytes_in_flight,
                push_records: self.limits.push_records,
            },
            log: EffectiveLog {
                format: self.log.format,
                level: &self.log.level,
            },
            storage: EffectiveStorage {
                engine: self.storage.engine,
                sqlite_readers: self.storage.sqlite_readers,
                postgres_url: self
                    .storage
                    .postgres
                    .as_ref()
                    .map(|pg| masked_password(&pg.url)),
                postgres_pool: self
                    .storage
                    .postgres
                    .as_ref()
                    .map_or(DEFAULT_POSTGRES_POOL, |pg| pg.pool_size),
            },
            metrics: EffectiveMetrics {
                enabled: self.metrics_enabled,
            },
            jobs: EffectiveJobs {
                enabled: self.jobs.enabled,
                interval: duration(self.jobs.interval),
                report_lookback_days: self.jobs.report_lookback_days,
            },
            web: EffectiveWeb {
                tile_url: self.web.tile_url.as_ref().map(TileUrl::template),
            },
        })
    }
}

// ---- the effective configuration, written back ------------------------------------------------

#[derive(Serialize)]
struct Effective<'a> {
    data_dir: &'a Path,
    listen: String,
    shutdown_grace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<EffectiveTls<'a>>,
    auth: EffectiveAuth,
    limits: EffectiveLimits,
    log: EffectiveLog<'a>,
    storage: EffectiveStorage,
    metrics: EffectiveMetrics,
    jobs: EffectiveJobs,
    web: EffectiveWeb<'a>,
}

#[derive(Serialize)]
struct EffectiveWeb<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    tile_url: Option<&'a str>,
}

#[derive(Serialize)]
struct EffectiveTls<'a> {
    cert: &'a Path,
    key: &'a Path,
}

#[derive(Serialize)]
struct EffectiveAuth {
    token_lifetime: String,
    min_password_length: usize,
    max_concurrent_hashes: usize,
    lockout_after: u32,
    address_lockout_after: u32,
    lockout_max: String,
}

#[derive(Serialize)]
struct EffectiveLimits {
    json_body_bytes: usize,
    sync_body_bytes: usize,
    attachment_bytes: usize,
    sync_page_records: usize,
    sync_page_bytes: usize,
    sync_page_scan: usize,
    request_timeout: String,
    connections: usize,
    header_read_timeout: String,
    sync_concurrent: usize,
    sync_wait: String,
    inflate_bytes_in_flight: usize,
    push_records: usize,
}

#[derive(Serialize)]
struct EffectiveLog<'a> {
    format: LogFormat,
    level: &'a str,
}

#[derive(Serialize)]
struct EffectiveStorage {
    engine: StorageEngine,
    sqlite_readers: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    postgres_url: Option<String>,
    postgres_pool: usize,
}

/// PostgreSQL connections an instance keeps at most, by default.
const DEFAULT_POSTGRES_POOL: usize = 16;

/// A connection string with its password (if it carries one) replaced by `***`, for the
/// configuration printed back: the one setting that may hold a secret.
fn masked_password(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, tail) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if let Some((userinfo, host)) = authority.rsplit_once('@')
            && let Some((user, _)) = userinfo.split_once(':')
        {
            return format!("{scheme}://{user}:***@{host}{tail}");
        }
        return url.to_owned();
    }
    url.split_whitespace()
        .map(|pair| match pair.split_once('=') {
            Some(("password", _)) => "password=***".to_owned(),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Serialize)]
struct EffectiveMetrics {
    enabled: bool,
}

#[derive(Serialize)]
struct EffectiveJobs {
    enabled: bool,
    interval: String,
    report_lookback_days: u32,
}

// ---- the raw layers --------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Raw {
    data_dir: PathBuf,
    listen: String,
    tls: RawTls,
    auth: RawAuth,
    limits: RawLimits,
    log: RawLog,
    storage: RawStorage,
    metrics: RawMetrics,
    shutdown_grace: String,
    jobs: RawJobs,
    web: RawWeb,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawWeb {
    tile_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawJobs {
    enabled: bool,
    interval: String,
    report_lookback_days: i64,
}

impl Default for RawJobs {
    fn default() -> Self {
        RawJobs {
            enabled: true,
            interval: "1m".to_owned(),
            report_lookback_days: 7,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawTls {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawAuth {
    token_lifetime: String,
    min_password_length: i64,
    max_concurrent_hashes: i64,
    lockout_after: i64,
    address_lockout_after: i64,
    lockout_max: String,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawLimits {
    json_body_bytes: i64,
    sync_body_bytes: i64,
    attachment_bytes: i64,
    sync_page_records: i64,
    sync_page_bytes: i64,
    sync_page_scan: i64,
    request_timeout: String,
    connections: i64,
    header_read_timeout: String,
    sync_concurrent: i64,
    sync_wait: String,
    inflate_bytes_in_flight: i64,
    push_records: i64,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawLog {
    format: LogFormat,
    level: String,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawStorage {
    engine: StorageEngine,
    sqlite_readers: i64,
    postgres_url: Option<String>,
    postgres_pool: i64,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawMetrics {
    enabled: bool,
}

impl Default for Raw {
    fn default() -> Self {
        Raw {
            data_dir: PathBuf::from("data"),
            listen: "127.0.0.1:8080".to_owned(),
            tls: RawTls::default(),
            auth: RawAuth::default(),
            limits: RawLimits::default(),
            log: RawLog::default(),
            storage: RawStorage::default(),
            metrics: RawMetrics::default(),
            shutdown_grace: "30s".to_owned(),
            jobs: RawJobs::default(),
            web: RawWeb::default(),
        }
    }
}

impl Default for RawAuth {
    fn default() -> Self {
        RawAuth {
            token_lifetime: "30d".to_owned(),
            min_password_length: 10,
            max_concurrent_hashes: 2,
            lockout_after: 5,
            address_lockout_after: 30,
            lockout_max: "15m".to_owned(),
        }
    }
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            json_body_bytes: 64 * 1024,
            sync_body_bytes: 32 * 1024 * 1024,
            attachment_bytes: 20 * 1024 * 1024,
            sync_page_records: 5_000,
            sync_page_bytes: 8 * 1024 * 1024,
            sync_page_scan: 50_000,
            request_timeout: "60s".to_owned(),
            connections: 4_096,
            header_read_timeout: "10s".to_owned(),
            sync_concurrent: 16,
            sync_wait: "5s".to_owned(),
            inflate_bytes_in_flight: 256 * 1024 * 1024,
            push_records: 2_000,
        }
    }
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

impl Default for RawStorage {
    fn default() -> Self {
        RawStorage {
            engine: StorageEngine::Sqlite,
            sqlite_readers: 4,
            postgres_url: None,
            postgres_pool: DEFAULT_POSTGRES_POOL as i64,
        }
    }
}

impl Default for RawMetrics {
    fn default() -> Self {
        RawMetrics { enabled: true }
    }
}

// ---- errors ----------------------------------------------------------------------------------

/// One setting refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The key, dotted (`auth.token_lifetime`).
    pub key: String,
    /// Where the value came from (`default`, a file, an environment variable).
    pub origin: String,
    /// Why it was refused.
    pub reason: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` (from {}): {}", self.key, self.origin, self.reason)
    }
}

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A layer could not be parsed into settings (bad TOML, unknown key, wrong type).
    #[error("configuration refused: {0}")]
    Parse(Box<figment::Error>),
    /// Settings parsed but some values are not acceptable; all of them are listed.
    #[error("configuration refused:\n{}", list(.0))]
    Invalid(Vec<Invalid>),
}

fn list(items: &[Invalid]) -> String {
    items
        .iter()
        .map(|i| format!("  - {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- loading ---------------------------------------------------------------------------------

/// An environment layer built from given variables, so loading is testable without touching
/// the process environment.
struct EnvLayer {
    /// Dotted key → (variable name, value).
    vars: BTreeMap<String, (String, String)>,
}

impl EnvLayer {
    fn new(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let vars = vars
            .into_iter()
            .filter_map(|(name, value)| {
                let rest = name.strip_prefix(ENV_PREFIX)?;
                if rest.is_empty() || NOT_SETTINGS.contains(&rest) {
                    return None;
                }
                let key = rest.to_ascii_lowercase().replace("__", ".");
                Some((key, (name, value)))
            })
            .collect();
        EnvLayer { vars }
    }
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        let names: BTreeMap<String, String> = self
            .vars
            .iter()
            .map(|(key, (name, _))| (key.clone(), name.clone()))
            .collect();
        Metadata::named("environment variable").interpolater(move |_: &Profile, k: &[&str]| {
            let key = k.join(".");
            names.get(&key).cloned().unwrap_or(key)
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut root = Dict::new();
        for (key, (_, value)) in &self.vars {
            let parsed: Value = value.parse().unwrap_or_else(|_| Value::from(value.clone()));
            insert(
                &mut root,
                key.split('.').collect::<Vec<_>>().as_slice(),
                parsed,
            );
        }
        Ok(Profile::Default.collect(root))
    }
}

fn insert(dict: &mut Dict, path: &[&str], value: Value) {
    match path {
        [] => {}
        [last] => {
            dict.insert((*last).to_owned(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry((*first).to_owned())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, inner) = entry {
                insert(inner, rest, value);
            } else {
                let mut inner = Dict::new();
                insert(&mut inner, rest, value);
                *entry = Value::from(inner);
            }
        }
    }
}

impl Config {
    /// Loads defaults, then `file` if given, then the `FIELDSALES_*` variables among `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            // Figment treats a missing file as empty; a named file that is missing is an error.
            std::fs::metadata(path).map_err(|source| ConfigError::Unreadable {
                path: path.to_owned(),
                source,
            })?;
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(EnvLayer::new(env));
        let raw: Raw = figment
            .extract()
            .map_err(|e| ConfigError::Parse(Box::new(e)))?;
        let origin = |key: &str| {
            figment.find_metadata(key).map(|m| {
                let place = m
                    .source
                    .as_ref()
                    .map(|s| format!(" {s}"))
                    .unwrap_or_default();
                let var = if m.name == "environment variable" {
                    let parts: Vec<&str> = key.split('.').collect();
                    format!(" {}", m.interpolate(&Profile::Default, &parts))
                } else {
                    String::new()
                };
                format!("{}{place}{var}", m.name)
            })
        };
        check(raw, &origin).map_err(ConfigError::Invalid)
    }

    /// Loads from the process: the file named by `--config` or `FIELDSALES_CONFIG`, then the
    /// process environment.
    pub fn load_from_process(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env_file = std::env::var_os(format!("{ENV_PREFIX}CONFIG")).map(PathBuf::from);
        let file = file.map(Path::to_path_buf).or(env_file);
        // `vars_os`: `vars` panics on any variable that is not UTF-8, even one of another
        // program's; ours that are not UTF-8 arrive mangled and fail their checks.
        let env = std::env::vars_os().filter_map(|(name, value)| {
            let name = name.into_string().ok()?;
            name.starts_with(ENV_PREFIX)
                .then(|| (name, value.to_string_lossy().into_owned()))
        });
        Config::load(file.as_deref(), env)
    }
}

fn check(raw: Raw, origin: &dyn Fn(&str) -> Option<String>) -> Result<Config, Vec<Invalid>> {
    let mut errors = Vec::new();
    let mut refuse = |key: &str, reason: String| {
        errors.push(Invalid {
            key: key.to_owned(),
            origin: origin(key).unwrap_or_else(|| "default".to_owned()),
            reason,
        });
    };

    if raw.data_dir.as_os_str().is_empty() {
        refuse("data_dir", "must name a directory".to_owned());
    }
    let listen = raw.listen.trim().parse::<SocketAddr>().map_err(|_| {
        format!(
            "`{}` is not an address and port such as 0.0.0.0:8443 or [::]:8443",
            raw.listen
        )
    });
    let listen = listen.unwrap_or_else(|reason| {
        refuse("listen", reason);
        SocketAddr::from(([127, 0, 0, 1], 0))
    });

    let tls = match (raw.tls.cert, raw.tls.key) {
        (None, None) => None,
        (Some(cert), Some(key)) => {
            for (k, path) in [("tls.cert", &cert), ("tls.key", &key)] {
                if !path.is_file() {
                    refuse(k, format!("{} is not a readable file", path.display()));
                }
            }
            Some(TlsFiles { cert, key })
        }
        (Some(_), None) => {
            refuse("tls.key", "is required when tls.cert is set".to_owned());
            None
        }
        (None, Some(_)) => {
            refuse("tls.cert", "is required when tls.key is set".to_owned());
            None
        }
    };

    let mut duration =
        |key: &str, text: &str, min: Duration, max: Duration| match humantime::parse_duration(
            text.trim(),
        ) {
            Ok(d) if d >= min && d <= max => d,
            Ok(_) => {
                refuse(
                    key,
                    format!(
                        "`{text}` is outside {} to {}",
                        humantime::format_duration(min),
                        humantime::format_duration(max)
                    ),
                );
                min
            }
            Err(_) => {
                refuse(
                    key,
                    format!("`{text}` is not a duration such as \"30s\", \"12h\" or \"30d\""),
                );
                min
            }
        };
    let day = Duration::from_secs(86_400);
    let token_lifetime = duration(
        "auth.token_lifetime",
        &raw.auth.token_lifetime,
        Duration::from_secs(60),
        365 * day,
    );
    let lockout_max = duration(
        "auth.lockout_max",
        &raw.auth.lockout_max,
        Duration::from_secs(1),
        day,
    );
    let request_timeout = duration(
        "limits.request_timeout",
        &raw.limits.request_timeout,
        Duration::from_secs(1),
        Duration::from_secs(3600),
    );
    let header_read_timeout = duration(
        "limits.header_read_timeout",
        &raw.limits.header_read_timeout,
        Duration::from_secs(1),
        Duration::from_secs(600),
    );
    let sync_wait = duration(
        "limits.sync_wait",
        &raw.limits.sync_wait,
        Duration::ZERO,
        Duration::from_secs(600),
    );
    let shutdown_grace = duration(
        "shutdown_grace",
        &raw.shutdown_grace,
        Duration::ZERO,
        Duration::from_secs(3600),
    );
    let jobs_interval = duration(
        "jobs.interval",
        &raw.jobs.interval,
        Duration::from_secs(1),
        day,
    );

    let mut count = |key: &str, value: i64, min: i64, max: i64| -> usize {
        if value < min || value > max {
            refuse(key, format!("{value} is outside {min} to {max}"));
        }
        usize::try_from(value.clamp(min, max)).unwrap_or(1)
    };
    let min_password_length = count(
        "auth.min_password_length",
        raw.auth.min_password_length,
        8,
        128,
    );
    let max_concurrent_hashes = count(
        "auth.max_concurrent_hashes",
        raw.auth.max_concurrent_hashes,
        1,
        256,
    );
    let lockout_after = count("auth.lockout_after", raw.auth.lockout_after, 1, 1_000) as u32;
    let address_lockout_after = count(
        "auth.address_lockout_after",
        raw.auth.address_lockout_after,
        1,
        100_000,
    ) as u32;
    let json_body_bytes = count(
        "limits.json_body_bytes",
        raw.limits.json_body_bytes,
        1024,
        16 * 1024 * 1024,
    );
    let sync_body_bytes = count(
        "limits.sync_body_bytes",
        raw.limits.sync_body_bytes,
        64 * 1024,
        1024 * 1024 * 1024,
    );
    let attachment_bytes = count(
        "limits.attachment_bytes",
        raw.limits.attachment_bytes,
        1024,
        1024 * 1024 * 1024,
    );
    let sync_page_records = count(
        "limits.sync_page_records",
        raw.limits.sync_page_records,
        1,
        100_000,
    );
    let sync_page_bytes = count(
        "limits.sync_page_bytes",
        raw.limits.sync_page_bytes,
        64 * 1024,
        1024 * 1024 * 1024,
    );
    let sync_page_scan = count(
        "limits.sync_page_scan",
        raw.limits.sync_page_scan,
        1,
        10_000_000,
    );
    let connections = count("limits.connections", raw.limits.connections, 1, 1_000_000);
    let sync_concurrent = count(
        "limits.sync_concurrent",
        raw.limits.sync_concurrent,
        1,
        10_000,
    );
    let inflate_bytes_in_flight = count(
        "limits.inflate_bytes_in_flight",
        raw.limits.inflate_bytes_in_flight,
        64 * 1024,
        1 << 40,
    );
    let push_records = count("limits.push_records", raw.limits.push_records, 1, 100_000);
    let sqlite_readers = count("storage.sqlite_readers", raw.storage.sqlite_readers, 1, 64);
    let postgres_pool = count("storage.postgres_pool", raw.storage.postgres_pool, 1, 1024);
    let report_lookback_days = count(
        "jobs.report_lookback_days",
        raw.jobs.report_lookback_days,
        1,
        366,
    );

    let postgres = match (raw.storage.engine, raw.storage.postgres_url) {
        (StorageEngine::Postgres, None) => {
            refuse(
                "storage.postgres_url",
                "is required when storage.engine is \"postgres\"".to_owned(),
            );
            None
        }
        (_, Some(url)) => {
            if let Err(e) = crate::postgres::parse_url(&url) {
                refuse("storage.postgres_url", e.to_string());
            }
            Some(crate::postgres::PgOptions {
                url,
                pool_size: postgres_pool,
            })
        }
        (StorageEngine::Sqlite, None) => None,
    };

    if inflate_bytes_in_flight < sync_body_bytes {
        refuse(
            "limits.inflate_bytes_in_flight",
            format!(
                "{inflate_bytes_in_flight} is below limits.sync_body_bytes ({sync_body_bytes}): \
                 the largest sync body could never be read"
            ),
        );
    }
    if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(&raw.log.level) {
        refuse(
            "log.level",
            format!("`{}` is not a log filter: {e}", raw.log.level),
        );
    }

    let tile_url = match raw.web.tile_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match TileUrl::parse(text) {
            Ok(url) => Some(url),
            Err(reason) => {
                refuse("web.tile_url", reason);
                None
            }
        },
    };

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Config {
        data_dir: raw.data_dir,
        listen,
        tls,
        auth: AuthConfig {
            token_lifetime,
            min_password_length,
            max_concurrent_hashes,
            lockout_after,
            address_lockout_after,
            lockout_max,
        },
        limits: Limits {
            json_body_bytes,
            sync_body_bytes,
            attachment_bytes,
            sync_page_records,
            sync_page_bytes,
            sync_page_scan,
            request_timeout,
            connections,
            header_read_timeout,
            sync_concurrent,
            sync_wait,
            inflate_bytes_in_flight,
            push_records,
        },
        log: LogConfig {
            format: raw.log.format,
            level: raw.log.level,
        },
        storage: StorageConfig {
            engine: raw.storage.engine,
            sqlite_readers,
            postgres,
        },
        metrics_enabled: raw.metrics.enabled,
        shutdown_grace,
        jobs: JobsConfig {
            enabled: raw.jobs.enabled,
            interval: jobs_interval,
            report_lookback_days: u32::try_from(report_lookback_days).unwrap_or(7),
        },
        web: WebConfig { tile_url },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_password_never_appears_in_the_printed_configuration() {
        assert_eq!(
            masked_password("postgresql://fs:s3cret@db.internal:5432/fieldsales?sslmode=disable"),
            "postgresql://fs:***@db.internal:5432/fieldsales?sslmode=disable"
        );
        assert_eq!(
            masked_password("host=/run/postgresql user=fs password=s3cret dbname=fs"),
            "host=/run/postgresql user=fs password=*** dbname=fs"
        );
        assert_eq!(
            masked_password("postgresql://fs@db/fieldsales"),
            "postgresql://fs@db/fieldsales"
        );
    }

    #[test]
    fn the_postgres_engine_needs_a_url_it_can_read() {
        let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let Err(ConfigError::Invalid(refused)) =
            Config::load(None, env(&[("FIELDSALES_STORAGE__ENGINE", "postgres")]))
        else {
            panic!("a postgres engine without a URL must be refused");
        };
        assert_eq!(refused[0].key, "storage.postgres_url");
        let Err(ConfigError::Invalid(refused)) = Config::load(
            None,
            env(&[
                ("FIELDSALES_STORAGE__ENGINE", "postgres"),
                (
                    "FIELDSALES_STORAGE__POSTGRES_URL",
                    "postgresql://a:b:c@/x?port=nope",
                ),
            ]),
        ) else {
            panic!("an unreadable URL must be refused");
        };
        assert_eq!(refused[0].key, "storage.postgres_url");
        let config = Config::load(
            None,
            env(&[
                ("FIELDSALES_STORAGE__ENGINE", "postgres"),
                (
                    "FIELDSALES_STORAGE__POSTGRES_URL",
                    "host=/run/postgresql dbname=fs",
                ),
                ("FIELDSALES_STORAGE__POSTGRES_POOL", "8"),
            ]),
        )
        .unwrap();
        assert_eq!(config.storage.engine, StorageEngine::Postgres);
        assert_eq!(config.storage.postgres.as_ref().unwrap().pool_size, 8);
        let text = config.to_toml().unwrap();
        let raw: Raw = Figment::new().merge(Toml::string(&text)).extract().unwrap();
        let back = check(raw, &|_| None).unwrap();
        assert_eq!(
            back, config,
            "the printed configuration loads back the same:\n{text}"
        );
    }

    #[test]
    fn defaults_are_valid() {
        let config = check(Raw::default(), &|_| None).expect("defaults must pass their own checks");
        assert_eq!(config.auth.token_lifetime, Duration::from_secs(30 * 86_400));
        assert_eq!(config, Config::defaults());
    }

    #[test]
    fn a_tile_url_needs_a_host_and_its_three_placeholders_and_cannot_break_the_policy() {
        let url = TileUrl::parse("https://tiles.example.com:8443/base/{z}/{x}/{y}.png")
            .expect("a plain template");
        assert_eq!(url.origin(), "https://tiles.example.com:8443");
        for bad in [
            "ftp://tiles.example.com/{z}/{x}/{y}.png",
            "https:///{z}/{x}/{y}.png",
            "https://tiles.example.com/{z}/{x}.png",
            "https://tiles.example.com/{z}/{x}/{y}.png; script-src *",
            "https://tiles.example.com/{z}/{x}/{y}.png'",
            "https://a.example.com,https://b.example.com/{z}/{x}/{y}",
        ] {
            assert!(TileUrl::parse(bad).is_err(), "{bad}");
        }
        let raw = Raw {
            web: RawWeb {
                tile_url: Some("tiles/{z}".to_owned()),
            },
            ..Raw::default()
        };
        let refused = check(raw, &|_| None).expect_err("refused");
        assert_eq!(refused[0].key, "web.tile_url");
    }
}
