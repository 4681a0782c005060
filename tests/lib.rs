//! Shared helpers of the end-to-end tests: a real server on a loopback port (in this process,
//! or as its own process to kill), a tenant with an org tree, people and their devices, and
//! a TCP proxy that records or drops what the server answers.
//!
//! A world runs on SQLite (one server, the default) or on PostgreSQL: then several server
//! instances share one database (a fresh one in the tests' own local cluster) behind a
//! round-robin [`balancer::Balancer`], so a device's syncs and the admin's calls land on the
//! instances in turn. A scenario written against [`World::start`] runs on either unchanged:
//! [`on_backend`] runs it with PostgreSQL instances instead.

pub mod balancer;
pub mod proxy;

use std::cell::Cell;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fieldsales_core::engine::Engine;
use fieldsales_core::record::AnyRecord;
use fieldsales_core::store::Store;
use fieldsales_core::store::StoreRead;
use fieldsales_core::sync::{self, SignIn, SyncError, SyncOptions, SyncReport};
use fieldsales_core::time::ManualClock;
use fieldsales_core::{RecordId, Timestamp};
use fieldsales_server::bootstrap::{BootstrapTenant, bootstrap_tenant};
use fieldsales_server::model::{DisplayName, Login, Password, TenantSlug};
use fieldsales_server::postgres::PgOptions;
use fieldsales_server::postgres::testing::LocalCluster;
use fieldsales_server::{AppState, Config, app, serve};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The tenant every scenario runs in.
pub const TENANT: &str = "acme";
/// The admin's password.
pub const ADMIN_PASSWORD: &str = "admin-password-42";
/// Every other person's password.
pub const PASSWORD: &str = "field-password-42";

/// Installs rustls' ring provider once (reqwest is built without one).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Sync options for tests: quick retries.
pub fn quick() -> SyncOptions {
    SyncOptions {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        request_timeout: Duration::from_secs(30),
        ..SyncOptions::default()
    }
}

/// What a world's server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One server over SQLite files: the default.
    Sqlite,
    /// This many server instances over one PostgreSQL database, behind a round-robin
    /// balancer.
    Postgres {
        /// How many.
        instances: usize,
    },
}

thread_local! {
    /// The backend [`World::start`] and its siblings use on this thread.
    static BACKEND: Cell<Backend> = const { Cell::new(Backend::Sqlite) };
    /// Worlds started on PostgreSQL on this thread.
    static ON_POSTGRES: Cell<usize> = const { Cell::new(0) };
}

/// Runs a test function (a `#[tokio::test]`, which builds its runtime and runs the scenario
/// on the calling thread) with every world it starts on `backend`; fails if the scenario
/// started no world there (it would then have proved nothing about `backend`).
pub fn on_backend(backend: Backend, test: impl FnOnce()) {
    struct Reset(Backend);
    impl Drop for Reset {
        fn drop(&mut self) {
            BACKEND.with(|b| b.set(self.0));
        }
    }
    let _reset = Reset(BACKEND.with(|b| b.replace(backend)));
    let before = ON_POSTGRES.with(Cell::get);
    test();
    if matches!(backend, Backend::Postgres { .. }) {
        assert!(
            ON_POSTGRES.with(Cell::get) > before,
            "the scenario started no world on PostgreSQL"
        );
    }
}

/// The backend worlds start on, on this thread.
pub fn backend() -> Backend {
    BACKEND.with(Cell::get)
}

enum Running {
    InProcess {
        stop: oneshot::Sender<()>,
        handle: JoinHandle<()>,
    },
    /// One server in this process on a tokio runtime of its own ([`World::resume`]): shutting
    /// that runtime down drops every task the server runs, its connections' included.
    OwnRuntime {
        stop: oneshot::Sender<()>,
        handle: JoinHandle<()>,
        runtime: tokio::runtime::Runtime,
    },
    /// Several instances in this process, behind a balancer.
    Instances {
        stops: Vec<oneshot::Sender<()>>,
        handles: Vec<JoinHandle<()>>,
        _balancer: balancer::Balancer,
    },
    Process(Child),
    /// Several server processes, behind a balancer.
    Processes {
        children: Vec<Child>,
        _balancer: balancer::Balancer,
    },
    Stopped,
}

/// A server on loopback with one tenant.
pub struct World {
    /// Scratch space: the server's data and every device's store.
    pub dir: TempDir,
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// The port.
    pub addr: SocketAddr,
    /// The server's clock (in-process servers only; a process uses the system clock).
    pub clock: ManualClock,
    /// The admin's bearer token.
    pub admin_token: String,
    /// A plain HTTP client for raw calls.
    pub http: reqwest::Client,
    running: Running,
    devices: u32,
    bin: Option<String>,
    /// The database, when the world runs on PostgreSQL.
    postgres: Option<String>,
    /// Copies of the server's records made so far.
    copies: std::sync::atomic::AtomicUsize,
    /// The instances behind the balancer, when there are several.
    instances: Vec<SocketAddr>,
}

/// An org: HQ, regions East and North, a team in each, and the four roles.
#[derive(Debug, Clone, Copy)]
pub struct Org {
    /// HQ.
    pub hq: RecordId,
    /// Region East.
    pub east: RecordId,
    /// Region North.
    pub north: RecordId,
    /// East's sales team.
    pub east_team: RecordId,
    /// North's sales team.
    pub north_team: RecordId,
}

/// Someone with an account.
#[derive(Debug, Clone)]
pub struct Person {
    /// Their login.
    pub login: String,
    /// Their profile record.
    pub profile: RecordId,
}

fn config_env(data: &Path, listen: SocketAddr, postgres: Option<&str>) -> Vec<(String, String)> {
    let mut env = vec![
        ("FIELDSALES_DATA_DIR".into(), data.display().to_string()),
        ("FIELDSALES_LISTEN".into(), listen.to_string()),
        ("FIELDSALES_LOG__LEVEL".into(), "warn".into()),
        ("FIELDSALES_SHUTDOWN_GRACE".into(), "1s".into()),
    ];
    // A benchmark may try other limits: `FIELDSALES_LIMITS__*` of the environment pass on.
    env.extend(std::env::vars().filter(|(k, _)| k.starts_with("FIELDSALES_LIMITS__")));
    if let Some(url) = postgres {
        env.push(("FIELDSALES_STORAGE__ENGINE".into(), "postgres".into()));
        env.push(("FIELDSALES_STORAGE__POSTGRES_URL".into(), url.to_owned()));
        env.push(("FIELDSALES_STORAGE__POSTGRES_POOL".into(), "8".into()));
    }
    env
}

static DURABLE_POSTGRES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Worlds started from now on use a local PostgreSQL that writes durably (`fsync` and
/// synchronous commits on, as SQLite's `synchronous = FULL`): for benchmarks. Tests use a
/// faster one that does not.
pub fn durable_postgres() {
    DURABLE_POSTGRES.store(true, std::sync::atomic::Ordering::SeqCst);
}

fn cluster() -> &'static LocalCluster {
    static DURABLE: std::sync::OnceLock<LocalCluster> = std::sync::OnceLock::new();
    if DURABLE_POSTGRES.load(std::sync::atomic::Ordering::SeqCst) {
        DURABLE.get_or_init(|| {
            LocalCluster::start(fieldsales_server::postgres::testing::Durability::Durable)
                .expect("a durable local PostgreSQL")
        })
    } else {
        LocalCluster::shared()
    }
}

/// A fresh database in the tests' local PostgreSQL.
pub async fn fresh_database() -> String {
    cluster().database().await.expect("a PostgreSQL database")
}

async fn bootstrap(data: &Path, listen: SocketAddr, postgres: Option<&str>) -> Config {
    let config =
        Config::load(None, config_env(data, listen, postgres)).expect("test configuration");
    let store = fieldsales_server::open_store(&config).await.expect("store");
    let passwords = fieldsales_server::auth::Passwords::new(1)
        .await
        .expect("hasher");
    bootstrap_tenant(
        &*store,
        &passwords,
        config.auth.min_password_length,
        BootstrapTenant {
            slug: TenantSlug::parse(TENANT).expect("slug"),
            name: DisplayName::parse("Acme Ltd").expect("name"),
            admin_login: Login::parse("admin").expect("login"),
            admin_password: Password::new(ADMIN_PASSWORD),
            admin_profile_id: None,
        },
        Timestamp::now(),
    )
    .await
    .expect("bootstrap");
    config
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

impl World {
    /// A server in this process, on a clock the test controls.
    pub async fn start() -> World {
        Self::start_in_process(None).await
    }

    /// A server in this process that also runs its scheduled jobs every `every`, as a
    /// deployed server does.
    pub async fn start_with_jobs(every: Duration) -> World {
        Self::start_in_process(Some(every)).await
    }

    async fn start_in_process(jobs_every: Option<Duration>) -> World {
        if let Backend::Postgres { instances } = backend() {
            return Self::start_instances(instances, jobs_every).await;
        }
        install_crypto_provider();
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = bootstrap(&dir.path().join("data"), addr, None).await;
        let clock = ManualClock::new(Timestamp::now());
        let store = fieldsales_server::open_store(&config).await.expect("store");
        let options = fieldsales_server::ServeOptions::from_config(&config);
        let state = AppState::new(config, store, Arc::new(clock.clone()))
            .await
            .expect("state");
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let jobs = jobs_every.map(|every| fieldsales_server::jobs::spawn(state.clone(), every));
            let _ = serve(app(state), listener, None, options, async move {
                let _ = stopped.await;
            })
            .await;
            if let Some(jobs) = jobs {
                jobs.abort();
            }
        });
        Self::finish(dir, addr, clock, Running::InProcess { stop, handle }, None).await
    }

    /// A server in this process on `backend`, whatever [`backend`] says.
    pub async fn start_on(backend: Backend) -> World {
        match backend {
            Backend::Sqlite => on_sqlite(World::start()).await,
            Backend::Postgres { instances } => Self::start_instances(instances, None).await,
        }
    }

    /// `n` server instances in this process over one fresh PostgreSQL database, behind a
    /// round-robin balancer (whatever [`backend`] says).
    pub async fn start_postgres(n: usize) -> World {
        Self::start_instances(n, None).await
    }

    /// The same, each instance also running the scheduled jobs every `every`.
    pub async fn start_postgres_with_jobs(n: usize, every: Duration) -> World {
        Self::start_instances(n, Some(every)).await
    }

    /// `http://127.0.0.1:port` of each instance behind the balancer (empty for one server).
    pub fn instance_bases(&self) -> Vec<String> {
        self.instances
            .iter()
            .map(|addr| format!("http://{addr}"))
            .collect()
    }

    /// `n` server instances in this process over one fresh PostgreSQL database, each with its
    /// own data directory (its read models), behind a round-robin balancer; one clock.
    async fn start_instances(n: usize, jobs_every: Option<Duration>) -> World {
        install_crypto_provider();
        ON_POSTGRES.with(|n| n.set(n.get() + 1));
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fresh_database().await;
        let clock = ManualClock::new(Timestamp::now());
        let (mut stops, mut handles, mut addrs) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            let data = dir.path().join(format!("instance-{i}"));
            let config = if i == 0 {
                bootstrap(&data, addr, Some(&url)).await
            } else {
                Config::load(None, config_env(&data, addr, Some(&url))).expect("configuration")
            };
            let store = fieldsales_server::open_store(&config).await.expect("store");
            let options = fieldsales_server::ServeOptions::from_config(&config);
            let state = AppState::new(config, store, Arc::new(clock.clone()))
                .await
                .expect("state");
            let (stop, stopped) = oneshot::channel::<()>();
            handles.push(tokio::spawn(async move {
                let jobs =
                    jobs_every.map(|every| fieldsales_server::jobs::spawn(state.clone(), every));
                let _ = serve(app(state), listener, None, options, async move {
                    let _ = stopped.await;
                })
                .await;
                if let Some(jobs) = jobs {
                    jobs.abort();
                }
            }));
            stops.push(stop);
            addrs.push(addr);
        }
        let balancer = balancer::Balancer::start(addrs.clone()).await;
        let addr = balancer.addr;
        let running = Running::Instances {
            stops,
            handles,
            _balancer: balancer,
        };
        let mut world = Self::finish(dir, addr, clock, running, Some(url)).await;
        world.instances = addrs;
        world
    }

    /// `n` server processes over one fresh PostgreSQL database behind a round-robin balancer
    /// (`bin`: the `fieldsales-test-server` binary), to be killed one by one.
    pub async fn start_processes(bin: &str, n: usize) -> World {
        install_crypto_provider();
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fresh_database().await;
        let mut children = Vec::new();
        let mut addrs = Vec::new();
        for i in 0..n {
            let addr = free_port();
            let data = dir.path().join(format!("instance-{i}"));
            if i == 0 {
                bootstrap(&data, addr, Some(&url)).await;
            }
            children.push(spawn_server(bin, &data, addr, Some(&url)));
            addrs.push(addr);
        }
        for addr in &addrs {
            wait_until_up(*addr).await;
        }
        let balancer = balancer::Balancer::start(addrs.clone()).await;
        let addr = balancer.addr;
        let running = Running::Processes {
            children,
            _balancer: balancer,
        };
        let mut world = Self::finish(
            dir,
            addr,
            ManualClock::new(Timestamp::now()),
            running,
            Some(url),
        )
        .await;
        world.bin = Some(bin.to_owned());
        world.instances = addrs;
        world
    }

    /// The balancer in front of the instances, when there are several.
    pub fn balancer(&self) -> Option<&balancer::Balancer> {
        match &self.running {
            Running::Instances { _balancer, .. } | Running::Processes { _balancer, .. } => {
                Some(_balancer)
            }
            _ => None,
        }
    }

    /// The ids of the server processes (empty when the servers run in this process).
    pub fn server_pids(&self) -> Vec<u32> {
        match &self.running {
            Running::Process(child) => vec![child.id()],
            Running::Processes { children, .. } => children.iter().map(Child::id).collect(),
            _ => Vec::new(),
        }
    }

    /// A server as its own process (`bin`: the `fieldsales-test-server` binary, which only
    /// integration tests can name), to be killed and restarted.
    pub async fn start_process(bin: &str) -> World {
        install_crypto_provider();
        let dir = tempfile::tempdir().expect("temp dir");
        let addr = free_port();
        bootstrap(&dir.path().join("data"), addr, None).await;
        let child = spawn_server(bin, &dir.path().join("data"), addr, None);
        wait_until_up(addr).await;
        let mut world = Self::finish(
            dir,
            addr,
            ManualClock::new(Timestamp::now()),
            Running::Process(child),
            None,
        )
        .await;
        world.bin = Some(bin.to_owned());
        world
    }

    async fn finish(
        dir: TempDir,
        addr: SocketAddr,
        clock: ManualClock,
        running: Running,
        postgres: Option<String>,
    ) -> World {
        let http = reqwest::Client::new();
        let base = format!("http://{addr}");
        let answer: Value = http
            .post(format!("{base}/v1/auth/login"))
            .json(
                &json!({"tenant": TENANT, "login": "admin", "password": ADMIN_PASSWORD,
                          "device_name": "admin console"}),
            )
            .send()
            .await
            .expect("admin sign-in")
            .json()
            .await
            .expect("admin sign-in answer");
        let admin_token = answer["token"].as_str().expect("token").to_owned();
        World {
            dir,
            base,
            addr,
            clock,
            admin_token,
            http,
            running,
            devices: 0,
            bin: None,
            postgres,
            copies: std::sync::atomic::AtomicUsize::new(0),
            instances: Vec::new(),
        }
    }

    /// The PostgreSQL database the world runs on, if it does.
    pub fn postgres_url(&self) -> Option<&str> {
        self.postgres.as_deref()
    }

    /// The server process's id (0 when the server runs in this process).
    pub fn server_pid(&self) -> u32 {
        match &self.running {
            Running::Process(child) => child.id(),
            _ => 0,
        }
    }

    /// Kills the server process at once (SIGKILL): no graceful anything. With several
    /// processes (PostgreSQL), kills every one; [`World::restart`] starts them again.
    pub fn kill(&mut self) {
        match &mut self.running {
            Running::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
                self.running = Running::Stopped;
            }
            Running::Processes { children, .. } => {
                for child in children.iter_mut() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
            _ => {}
        }
    }

    /// The data folder of the first server (process or instance), as an operator's command
    /// on the server host is given it.
    pub fn data_dir(&self) -> PathBuf {
        if self.instances.is_empty() {
            self.dir.path().join("data")
        } else {
            self.dir.path().join("instance-0")
        }
    }

    /// Runs the server's command line `cli` (a test binary of it) with `args` over this
    /// world's data, and its PostgreSQL database on PostgreSQL, as an operator would: on
    /// SQLite it listens where the server does, so a command that needs the server stopped
    /// can tell whether it runs.
    pub fn operator(&self, cli: &str, args: &[&str]) -> std::process::Output {
        let mut command = Command::new(cli);
        command
            .args(args)
            .env_clear()
            .env("FIELDSALES_DATA_DIR", self.data_dir())
            .env("FIELDSALES_LOG__LEVEL", "warn");
        match self.postgres_url() {
            Some(url) => command
                .env("FIELDSALES_LISTEN", "127.0.0.1:0")
                .env("FIELDSALES_STORAGE__ENGINE", "postgres")
                .env("FIELDSALES_STORAGE__POSTGRES_URL", url),
            None => command.env("FIELDSALES_LISTEN", self.addr.to_string()),
        };
        command.output().expect("the command line runs")
    }

    /// Starts the server process again on the same port and data; with several processes
    /// (PostgreSQL), kills every one that still runs and starts each again on its port.
    pub async fn restart(&mut self) {
        let bin = self.bin.clone().expect("a server process");
        if let Running::Processes { children, .. } = &mut self.running {
            for child in children.iter_mut() {
                let _ = child.kill();
                let _ = child.wait();
            }
            let url = self.postgres.clone().expect("processes run on PostgreSQL");
            for (i, addr) in self.instances.iter().enumerate() {
                let data = self.dir.path().join(format!("instance-{i}"));
                children[i] = spawn_server(&bin, &data, *addr, Some(&url));
            }
            for addr in &self.instances {
                wait_until_up(*addr).await;
            }
            return;
        }
        self.kill();
        let child = spawn_server(&bin, &self.dir.path().join("data"), self.addr, None);
        wait_until_up(self.addr).await;
        self.running = Running::Process(child);
    }

    /// Stops an in-process server on SQLite, runs `offline` with its configuration (an
    /// operator's command against the stopped server), and starts it again on the same port
    /// and data.
    pub async fn with_server_stopped<F, Fut, T>(&mut self, offline: F) -> T
    where
        F: FnOnce(Config) -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        let running = std::mem::replace(&mut self.running, Running::Stopped);
        if stop_in_process(running).await.is_some() {
            panic!("with_server_stopped needs one server in this process");
        }
        let config = Config::load(
            None,
            config_env(&self.dir.path().join("data"), self.addr, None),
        )
        .expect("the server's configuration");
        let out = offline(config).await;
        self.serve_again_in_process().await;
        out
    }

    /// Stops an in-process server on SQLite and starts it again on the same port and data,
    /// as a restarted server would.
    pub async fn restart_in_process(&mut self) {
        let running = std::mem::replace(&mut self.running, Running::Stopped);
        if stop_in_process(running).await.is_some() {
            panic!("restart_in_process needs one server in this process");
        }
        self.serve_again_in_process().await;
    }

    /// Kills a server started by [`World::resume`] and starts it again on the same port and
    /// data: its task is aborted and its runtime shut down with no graceful stop, so every
    /// task of the server is dropped where it waits — a request in flight is never answered
    /// (a push read but not yet written, a commit whose answer is not yet sent), every
    /// connection is cut. Aborting the server's task alone would not do: each connection runs
    /// in a task of its own, and the aborted accept loop only tells them to finish the request
    /// in flight and close, which is a graceful stop (the property test
    /// `a_kill_cuts_every_connection_of_the_killed_server` tells the two apart). The admin's
    /// HTTP client is replaced, as a restarted browser would reconnect.
    ///
    /// What it does not model: a death in the middle of a SQLite write. Work already handed
    /// to a blocking thread (a group commit under way) runs to its end before the files are
    /// opened again, and the old server's files are closed as an exiting process closes them.
    /// A real SIGKILL of the server binary at any instant, mid-write included, is
    /// `tests/it/crash_loop.rs`.
    pub async fn kill_in_process_and_restart(&mut self) {
        match std::mem::replace(&mut self.running, Running::Stopped) {
            Running::OwnRuntime {
                stop,
                handle,
                runtime,
            } => {
                handle.abort();
                shut_down(runtime).await;
                // Only now: a dropped sender would have been a graceful stop.
                drop(stop);
            }
            _ => panic!("kill_in_process_and_restart needs a server started by World::resume"),
        }
        self.http = reqwest::Client::new();
        self.serve_again_in_process().await;
    }

    /// Starts the in-process server again on its port (free again once the old one is gone)
    /// and its data.
    async fn serve_again_in_process(&mut self) {
        let mut listener = None;
        for _ in 0..100 {
            match TcpListener::bind(self.addr).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        let listener = listener.expect("the port is free again");
        self.running = serve_in_process(&self.dir.path().join("data"), listener, &self.clock).await;
    }

    /// Stops the world and keeps its files (the server's data and every device's store) to
    /// be copied and started again with [`World::resume`].
    pub async fn into_files(mut self) -> TempDir {
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        self.stop().await;
        dir
    }

    /// A server in this process on the data a stopped world left in `dir` (see
    /// [`World::into_files`]), on a fresh port; `admin_token` is the admin's token of that
    /// world, still valid in its data. The server runs on a tokio runtime of its own, so that
    /// it can be killed ([`World::kill_in_process_and_restart`]) as well as restarted.
    pub async fn resume(dir: TempDir, admin_token: String) -> World {
        install_crypto_provider();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let clock = ManualClock::new(Timestamp::now());
        let running = serve_in_process(&dir.path().join("data"), listener, &clock).await;
        World {
            dir,
            base: format!("http://{addr}"),
            addr,
            clock,
            admin_token,
            http: reqwest::Client::new(),
            running,
            devices: 0,
            bin: None,
            postgres: None,
            copies: std::sync::atomic::AtomicUsize::new(0),
            instances: Vec::new(),
        }
    }

    /// Stops an in-process server gracefully.
    pub async fn stop(mut self) {
        let running = std::mem::replace(&mut self.running, Running::Stopped);
        let Some(running) = stop_in_process(running).await else {
            return;
        };
        match running {
            Running::InProcess { .. } | Running::OwnRuntime { .. } => {}
            Running::Process(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Running::Instances { stops, handles, .. } => {
                for stop in stops {
                    let _ = stop.send(());
                }
                for handle in handles {
                    let _ = handle.await;
                }
            }
            Running::Processes { mut children, .. } => {
                for child in &mut children {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
            Running::Stopped => {}
        }
    }

    /// An admin call with a JSON body; returns status and JSON.
    pub async fn admin(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await
            .expect("admin call");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Writes a record through the admin API; returns its id.
    pub async fn put(&self, record: Value) -> RecordId {
        let (status, body) = self.admin("/v1/admin/records", record).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().expect("id").parse().expect("record id")
    }

    /// HQ, two regions, a team each, and the roles rep/manager/director/hq.
    pub async fn org(&self) -> Org {
        let unit = |name: &str, level: &str, parent: Option<RecordId>| {
            json!({"kind": "org_unit", "name": name, "level": level,
                   "parent_id": parent.map(|p| p.to_string()), "zone": "Asia/Shanghai"})
        };
        let hq = self.put(unit("总部", "hq", None)).await;
        let east = self.put(unit("华东大区", "region", Some(hq))).await;
        let north = self.put(unit("华北大区", "region", Some(hq))).await;
        let east_team = self.put(unit("上海一组", "team", Some(east))).await;
        let north_team = self.put(unit("北京一组", "team", Some(north))).await;
        for (code, scope) in [
            ("sales_rep", "own"),
            ("sales_manager", "subtree"),
            ("regional_director", "region"),
            ("admin", "all"),
        ] {
            self.put(json!({"kind": "role", "code": code, "name": code, "data_scope": scope}))
                .await;
        }
        Org {
            hq,
            east,
            north,
            east_team,
            north_team,
        }
    }

    /// Sets the fields a role of [`World::org`] hides (`contact.phone`, …), through the admin
    /// API as an admin would.
    pub async fn hide_fields(&self, role: &str, fields: &[&str]) {
        use fieldsales_core::record::{Kind, Role};
        let store = self.server_records();
        let found = store
            .list(&fieldsales_core::store::ListFilter {
                kind: Some(Kind::Role),
                ..Default::default()
            })
            .expect("roles")
            .into_iter()
            .map(|row| store.get::<Role>(row.id).expect("a role"))
            .find(|r| r.code == role)
            .expect("a role of the org");
        self.put(
            json!({"kind": "role", "id": found.header.id.to_string(), "code": found.code,
                        "name": found.name, "data_scope": found.data_scope.as_str(),
                        "hidden_fields": fields}),
        )
        .await;
    }

    /// A person named by their login: profile record and account.
    pub async fn person(&self, login: &str, unit: RecordId, role: &str) -> Person {
        self.named_person(login, login, unit, role).await
    }

    /// A person who joined at `joined` (their profile's creation): days before it they owed
    /// no daily report.
    pub async fn person_since(
        &self,
        login: &str,
        unit: RecordId,
        role: &str,
        joined: Timestamp,
    ) -> Person {
        let profile = self
            .put(
                json!({"kind": "user_profile", "name": login, "employee_no": login,
                        "unit_id": unit.to_string(), "roles": [role], "zone": "Asia/Shanghai",
                        "created_at": joined.millis()}),
            )
            .await;
        self.account(login, profile).await
    }

    async fn account(&self, login: &str, profile: RecordId) -> Person {
        let (status, body) = self
            .admin(
                "/v1/admin/accounts",
                json!({"login": login, "password": PASSWORD, "profile_id": profile.to_string()}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        Person {
            login: login.to_owned(),
            profile,
        }
    }

    /// A person with a display name of their own: profile record and account.
    pub async fn named_person(
        &self,
        login: &str,
        name: &str,
        unit: RecordId,
        role: &str,
    ) -> Person {
        self.person_with(login, name, unit, role, json!({})).await
    }

    /// A person whose profile carries `more` fields besides the usual ones (their first and
    /// last working day, their leave, …): profile record and account.
    pub async fn person_with(
        &self,
        login: &str,
        name: &str,
        unit: RecordId,
        role: &str,
        more: Value,
    ) -> Person {
        let mut profile = json!({"kind": "user_profile", "name": name, "employee_no": login,
                                 "unit_id": unit.to_string(), "roles": [role],
                                 "zone": "Asia/Shanghai"});
        if let (Some(fields), Some(extra)) = (profile.as_object_mut(), more.as_object()) {
            fields.extend(extra.clone());
        }
        let profile = self.put(profile).await;
        self.account(login, profile).await
    }

    /// A path for a new device store.
    pub fn store_path(&mut self, name: &str) -> PathBuf {
        self.devices += 1;
        self.dir
            .path()
            .join("devices")
            .join(format!("{name}-{}.sqlite3", self.devices))
    }

    /// Signs `person` in on a new device.
    pub async fn device(&mut self, person: &Person) -> Engine {
        let base = self.base.clone();
        self.device_via(person, &base).await
    }

    /// Signs `person` in on a new device that talks to `base` (a proxy).
    pub async fn device_via(&mut self, person: &Person, base: &str) -> Engine {
        let path = self.store_path(&person.login);
        sync::sign_in(
            &SignIn {
                server_url: base.to_owned(),
                tenant: TENANT.into(),
                login: person.login.clone(),
                password: PASSWORD.into(),
                device_name: format!("{}'s phone", person.login),
            },
            &path,
        )
        .await
        .expect("sign-in")
    }

    /// Signs `person` in on a new device whose clock the test sets (it can run wrong).
    pub async fn device_on_clock(&mut self, person: &Person, clock: &ManualClock) -> Engine {
        let signed_in = self.device(person).await;
        let path = signed_in
            .store()
            .path()
            .expect("a store on disk")
            .to_path_buf();
        drop(signed_in);
        let store = Store::open_with_clock(&path, Arc::new(clock.clone())).expect("reopened");
        Engine::resume(store)
            .expect("resumes")
            .expect("the user stays signed in")
    }

    /// The audit entries about `record`, oldest first, as an admin reads them.
    pub async fn audit_of(&self, record: RecordId) -> Vec<fieldsales_server::audit::AuditEntry> {
        let response = self
            .http
            .get(format!("{}/v1/admin/audit?record={record}", self.base))
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .expect("audit call");
        assert_eq!(response.status().as_u16(), 200);
        let page: fieldsales_server::api::AuditPage = response.json().await.expect("a page");
        page.entries
    }

    /// The server's id of the device `engine` is signed in as (a UUID, as text).
    pub async fn device_id_of(&self, engine: &Engine) -> String {
        let session: Value = self
            .http
            .get(format!("{}/v1/auth/session", self.base))
            .bearer_auth(token_of(engine))
            .send()
            .await
            .expect("session call")
            .json()
            .await
            .expect("a session");
        session["device_id"]
            .as_str()
            .expect("a device id")
            .to_owned()
    }

    /// Runs the server's scheduled jobs now, on its clock; returns what they wrote.
    pub async fn run_jobs(&self) -> Value {
        let (status, body) = self.admin("/v1/admin/jobs/run", json!({})).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The server's copy of the tenant's records (read beside the running server). On
    /// PostgreSQL: a fresh copy of what the database holds, made by the server's own read
    /// model code.
    pub fn server_records(&self) -> Store {
        if let Some(url) = &self.postgres {
            let n = self
                .copies
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let dir = self.dir.path().join(format!("copy-{n}"));
            let url = url.clone();
            let file = std::thread::spawn(move || copy_from_postgres(url, dir))
                .join()
                .expect("the copy finished");
            return Store::open(file).expect("open the copy of the tenant's records");
        }
        let dir = self.dir.path().join("data").join("tenants");
        let file = std::fs::read_dir(&dir)
            .expect("tenant records")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "sqlite3"))
            .expect("a tenant file");
        Store::open(file).expect("open the tenant's records")
    }
}

/// The server on the SQLite data in `data`, in this process, on `listener`: on a runtime of
/// its own, where its state is made too, so that nothing of it runs elsewhere once that runtime
/// is shut down ([`World::kill_in_process_and_restart`]). Returns once it serves.
async fn serve_in_process(data: &Path, listener: TcpListener, clock: &ManualClock) -> Running {
    let addr = listener.local_addr().expect("addr");
    let config = Config::load(None, config_env(data, addr, None)).expect("configuration");
    let listener = listener.into_std().expect("the listener");
    let clock = clock.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("in-process-server")
        .enable_all()
        .build()
        .expect("the server's runtime");
    let (stop, stopped) = oneshot::channel::<()>();
    let (up, is_up) = oneshot::channel::<()>();
    let handle = runtime.spawn(async move {
        let listener = TcpListener::from_std(listener).expect("the listener");
        let store = fieldsales_server::open_store(&config).await.expect("store");
        let options = fieldsales_server::ServeOptions::from_config(&config);
        let state = AppState::new(config, store, Arc::new(clock))
            .await
            .expect("state");
        let _ = up.send(());
        let _ = serve(app(state), listener, None, options, async move {
            let _ = stopped.await;
        })
        .await;
    });
    if is_up.await.is_err() {
        match handle.await {
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            other => panic!("the in-process server did not start: {other:?}"),
        }
    }
    Running::OwnRuntime {
        stop,
        handle,
        runtime,
    }
}

/// Stops a server running in this process gracefully (its stop signal, then its end);
/// gives back any other kind of server untouched.
async fn stop_in_process(running: Running) -> Option<Running> {
    match running {
        Running::InProcess { stop, handle } => {
            let _ = stop.send(());
            let _ = handle.await;
            None
        }
        Running::OwnRuntime {
            stop,
            handle,
            runtime,
        } => {
            let _ = stop.send(());
            let _ = handle.await;
            shut_down(runtime).await;
            None
        }
        other => Some(other),
    }
}

/// Shuts an in-process server's runtime down: every task is dropped where it waits, and
/// blocking work already running (a write transaction) ends first.
async fn shut_down(runtime: tokio::runtime::Runtime) {
    tokio::task::spawn_blocking(move || runtime.shutdown_timeout(Duration::from_secs(60)))
        .await
        .expect("the server's runtime shut down");
}

/// Runs `start` with worlds on SQLite.
async fn on_sqlite<F: std::future::Future<Output = World>>(start: F) -> World {
    let before = BACKEND.with(|b| b.replace(Backend::Sqlite));
    let world = start.await;
    BACKEND.with(|b| b.set(before));
    world
}

/// The tenant's records in PostgreSQL, copied into a read model under `dir`; its file.
fn copy_from_postgres(url: String, dir: PathBuf) -> PathBuf {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let options = PgOptions { url, pool_size: 2 };
        let accounts = fieldsales_server::PostgresStore::open(&options)
            .await
            .expect("accounts");
        let tenant = fieldsales_server::Store::tenant_by_slug(
            &accounts,
            &TenantSlug::parse(TENANT).expect("slug"),
        )
        .await
        .expect("tenant lookup")
        .expect("the tenant");
        let records = fieldsales_server::records::PostgresRecords::open(&options, &dir, None)
            .await
            .expect("records");
        records.caught_up_copy(tenant.id).await.expect("caught up")
    })
}

impl Drop for World {
    fn drop(&mut self) {
        if matches!(self.running, Running::OwnRuntime { .. })
            && let Running::OwnRuntime { stop, runtime, .. } =
                std::mem::replace(&mut self.running, Running::Stopped)
        {
            // Dropping a runtime inside another one panics; this one is left to end alone.
            runtime.shutdown_background();
            drop(stop);
            return;
        }
        match &mut self.running {
            Running::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Running::Processes { children, .. } => {
                for child in children {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
            _ => {}
        }
    }
}

fn spawn_server(bin: &str, data: &Path, addr: SocketAddr, postgres: Option<&str>) -> Child {
    let mut command = Command::new(bin);
    for (k, v) in config_env(data, addr, postgres) {
        command.env(k, v);
    }
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server process starts")
}

async fn wait_until_up(addr: SocketAddr) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server did not come up on {addr}");
}

/// Syncs with quick retries; panics on error.
pub async fn sync(engine: &mut Engine) -> SyncReport {
    try_sync(engine).await.expect("sync")
}

/// Syncs with quick retries.
pub async fn try_sync(engine: &mut Engine) -> Result<SyncReport, SyncError> {
    sync::sync_now(engine, &quick(), &|_| {}, &sync::CancelToken::new()).await
}

/// Every live record a store holds, by id.
pub fn records(store: &Store) -> std::collections::BTreeMap<RecordId, AnyRecord> {
    store
        .document_ids()
        .expect("ids")
        .into_iter()
        .map(|id| (id, store.get_any(id).expect("hydrates")))
        .collect()
}

/// The bearer token a signed-in device keeps.
pub fn token_of(engine: &Engine) -> String {
    let bytes = engine
        .store()
        .meta(fieldsales_core::sync::client::META_SESSION)
        .expect("meta")
        .expect("signed in");
    let session: Value = serde_json::from_slice(&bytes).expect("session JSON");
    session["token"].as_str().expect("token").to_owned()
}

/// Posts a raw sync body; returns the status and the body as received.
pub async fn post_sync(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    let response = http
        .post(format!(
            "{base}{}",
            fieldsales_core::sync::protocol::SYNC_PATH
        ))
        .bearer_auth(token)
        .header("content-type", content_type)
        .header("content-encoding", "gzip")
        .body(body)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

/// Posts a sync request as a device would; returns the decoded answer.
pub async fn raw_sync(
    world: &World,
    token: &str,
    request: &fieldsales_core::sync::protocol::SyncRequest,
) -> fieldsales_core::sync::protocol::SyncResponse {
    use fieldsales_core::sync::protocol;
    let body = protocol::encode(request).expect("encodes");
    let (status, bytes) = post_sync(
        &world.http,
        &world.base,
        token,
        protocol::CONTENT_TYPE,
        body,
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    protocol::decode(&bytes, 1 << 26).expect("decodes")
}

/// A device's push of one record, as its client would build it.
pub fn push_of(engine: &Engine, id: RecordId) -> fieldsales_core::sync::protocol::PushRecord {
    use fieldsales_core::sync::protocol::{Bytes, PushRecord};
    PushRecord {
        id,
        changes: Bytes(engine.store().unacked_changes(id).expect("changes")),
        heads: Bytes(fieldsales_core::doc::encode_heads(
            &engine.store().heads(id).expect("heads"),
        )),
    }
}

/// Sends SIGKILL to a process this test started (from inside a progress callback).
pub fn kill_pid(pid: u32) {
    if pid != 0 {
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    }
}

/// The first working day on or after `date` by the default work calendar (Monday to Friday):
/// a scenario about a working day must not land on a weekend because of the day it runs.
pub fn working_day_from(date: fieldsales_core::LocalDate) -> fieldsales_core::LocalDate {
    use fieldsales_core::fieldwork::{Employment, WorkCalendar};
    let calendar = WorkCalendar::default();
    let mut day = date;
    while !calendar.owes_report(
        day,
        &Employment {
            started_on: date,
            left_on: None,
            leave: &[],
        },
    ) {
        day = day.succ();
    }
    day
}
