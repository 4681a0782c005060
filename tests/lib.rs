//! Shared helpers of the end-to-end tests: a real server on a loopback port (in this process,
//! or as its own process to kill), a tenant with an org tree, people and their devices, and
//! a TCP proxy that records or drops what the server answers.

pub mod proxy;

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

enum Running {
    InProcess {
        stop: oneshot::Sender<()>,
        handle: JoinHandle<()>,
    },
    Process(Child),
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

fn config_env(data: &Path, listen: SocketAddr) -> Vec<(String, String)> {
    vec![
        ("FIELDSALES_DATA_DIR".into(), data.display().to_string()),
        ("FIELDSALES_LISTEN".into(), listen.to_string()),
        ("FIELDSALES_LOG__LEVEL".into(), "warn".into()),
        ("FIELDSALES_SHUTDOWN_GRACE".into(), "1s".into()),
    ]
}

async fn bootstrap(data: &Path, listen: SocketAddr) -> Config {
    let config = Config::load(None, config_env(data, listen)).expect("test configuration");
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
        install_crypto_provider();
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = bootstrap(&dir.path().join("data"), addr).await;
        let clock = ManualClock::new(Timestamp::now());
        let store = fieldsales_server::open_store(&config).await.expect("store");
        let grace = config.shutdown_grace;
        let state = AppState::new(config, store, Arc::new(clock.clone()))
            .await
            .expect("state");
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let jobs = jobs_every.map(|every| fieldsales_server::jobs::spawn(state.clone(), every));
            let _ = serve(app(state), listener, None, grace, async move {
                let _ = stopped.await;
            })
            .await;
            if let Some(jobs) = jobs {
                jobs.abort();
            }
        });
        Self::finish(dir, addr, clock, Running::InProcess { stop, handle }).await
    }

    /// A server as its own process (`bin`: the `fieldsales-test-server` binary, which only
    /// integration tests can name), to be killed and restarted.
    pub async fn start_process(bin: &str) -> World {
        install_crypto_provider();
        let dir = tempfile::tempdir().expect("temp dir");
        let addr = free_port();
        bootstrap(&dir.path().join("data"), addr).await;
        let child = spawn_server(bin, &dir.path().join("data"), addr);
        wait_until_up(addr).await;
        let mut world = Self::finish(
            dir,
            addr,
            ManualClock::new(Timestamp::now()),
            Running::Process(child),
        )
        .await;
        world.bin = Some(bin.to_owned());
        world
    }

    async fn finish(dir: TempDir, addr: SocketAddr, clock: ManualClock, running: Running) -> World {
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
        }
    }

    /// The server process's id (0 when the server runs in this process).
    pub fn server_pid(&self) -> u32 {
        match &self.running {
            Running::Process(child) => child.id(),
            _ => 0,
        }
    }

    /// Kills the server process at once (SIGKILL): no graceful anything.
    pub fn kill(&mut self) {
        if let Running::Process(child) = &mut self.running {
            let _ = child.kill();
            let _ = child.wait();
            self.running = Running::Stopped;
        }
    }

    /// Starts the server process again on the same port and data.
    pub async fn restart(&mut self) {
        self.kill();
        let bin = self.bin.clone().expect("a server process");
        let child = spawn_server(&bin, &self.dir.path().join("data"), self.addr);
        wait_until_up(self.addr).await;
        self.running = Running::Process(child);
    }

    /// Stops an in-process server gracefully.
    pub async fn stop(mut self) {
        match std::mem::replace(&mut self.running, Running::Stopped) {
            Running::InProcess { stop, handle } => {
                let _ = stop.send(());
                let _ = handle.await;
            }
            Running::Process(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
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

    /// A person named by their login: profile record and account.
    pub async fn person(&self, login: &str, unit: RecordId, role: &str) -> Person {
        self.named_person(login, login, unit, role).await
    }

    /// A person with a display name of their own: profile record and account.
    pub async fn named_person(
        &self,
        login: &str,
        name: &str,
        unit: RecordId,
        role: &str,
    ) -> Person {
        let profile = self
            .put(
                json!({"kind": "user_profile", "name": name, "employee_no": login,
                        "unit_id": unit.to_string(), "roles": [role], "zone": "Asia/Shanghai"}),
            )
            .await;
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

    /// Runs the server's scheduled jobs now, on its clock; returns what they wrote.
    pub async fn run_jobs(&self) -> Value {
        let (status, body) = self.admin("/v1/admin/jobs/run", json!({})).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The server's copy of the tenant's records (read beside the running server).
    pub fn server_records(&self) -> Store {
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

impl Drop for World {
    fn drop(&mut self) {
        if let Running::Process(child) = &mut self.running {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn_server(bin: &str, data: &Path, addr: SocketAddr) -> Child {
    let mut command = Command::new(bin);
    for (k, v) in config_env(data, addr) {
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
