//! A test server, a client, and builders for tenants, accounts and sign-ins.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Once};

use axum::Router;
use fieldsales_core::time::ManualClock;
use fieldsales_core::{RecordId, Timestamp};
use fieldsales_server::api::{AccountView, LoginResponse};
use fieldsales_server::bootstrap::{BootstrapTenant, bootstrap_tenant};
use fieldsales_server::model::{DisplayName, Login, Password, TenantSlug};
use fieldsales_server::{
    AppState, Config, ErrorBody, ErrorCode, ServeError, SqliteOptions, SqliteStore, app, serve,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Monday 2026-03-09 09:00 in Shanghai: where every test clock starts.
pub const MONDAY_MORNING: i64 = 1_773_018_000_000;

pub const ADMIN_PASSWORD: &str = "admin-password-42";
pub const REP_PASSWORD: &str = "rep-password-4242";

pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Both the server (explicitly) and reqwest use rustls on ring; reqwest takes the
        // process default.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Builds and starts a test server.
pub struct ServerBuilder {
    env: Vec<(String, String)>,
    extra_routes: Option<Router>,
    tls: Option<(PathBuf, PathBuf)>,
}

impl ServerBuilder {
    /// Sets a configuration variable as the environment would (`FIELDSALES_` is added).
    pub fn setting(mut self, key: &str, value: &str) -> Self {
        self.env
            .push((format!("FIELDSALES_{key}"), value.to_owned()));
        self
    }

    /// Adds routes outside the API (a deliberately slow handler, for example).
    pub fn extra_routes(mut self, routes: Router) -> Self {
        self.extra_routes = Some(routes);
        self
    }

    /// Serves HTTPS with this certificate and key.
    pub fn tls(mut self, cert: PathBuf, key: PathBuf) -> Self {
        self.tls = Some((cert, key));
        self
    }

    pub async fn start(self) -> TestServer {
        install_crypto_provider();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut env = vec![(
            "FIELDSALES_DATA_DIR".to_owned(),
            dir.path().join("data").display().to_string(),
        )];
        if let Some((cert, key)) = &self.tls {
            env.push((
                "FIELDSALES_TLS__CERT".to_owned(),
                cert.display().to_string(),
            ));
            env.push(("FIELDSALES_TLS__KEY".to_owned(), key.display().to_string()));
        }
        env.extend(self.env);
        let config = Config::load(None, env).expect("test configuration");
        fieldsales_server::create_data_dir(&config.data_dir).expect("data dir");
        let store = Arc::new(
            SqliteStore::open(
                config.database_path(),
                SqliteOptions {
                    readers: config.storage.sqlite_readers,
                    ..SqliteOptions::default()
                },
            )
            .await
            .expect("store opens"),
        );
        let clock = ManualClock::new(Timestamp::from_millis(MONDAY_MORNING));
        let tls = config
            .tls
            .as_ref()
            .map(|files| fieldsales_server::tls_acceptor(files).expect("TLS files load"));
        let options = fieldsales_server::ServeOptions::from_config(&config);
        let state = AppState::new(config, store.clone(), Arc::new(clock.clone()))
            .await
            .expect("state");
        let mut router = app(state.clone());
        if let Some(extra) = self.extra_routes {
            router = router.merge(extra);
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(serve(router, listener, tls.clone(), options, async move {
            let _ = stopped.await;
        }));
        let scheme = if tls.is_some() { "https" } else { "http" };
        TestServer {
            base: format!("{scheme}://127.0.0.1:{}", addr.port()),
            addr,
            client: reqwest::Client::new(),
            clock,
            store,
            state,
            stop: Some(stop),
            handle: Some(handle),
            _dir: dir,
        }
    }
}

pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub store: Arc<SqliteStore>,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), ServeError>>>,
    _dir: TempDir,
}

/// An answer: status, headers and JSON body (or `Null`).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The error body; panics with the whole answer if it is not one.
    pub fn error(&self) -> ErrorBody {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("not an error body ({e}): {self:?}"))
    }

    /// Asserts the status and error code.
    pub fn assert_error(&self, status: StatusCode, code: ErrorCode) -> ErrorBody {
        assert_eq!(self.status, status, "{self:?}");
        let body = self.error();
        assert_eq!(body.code, code, "{self:?}");
        assert!(!body.detail.is_empty());
        body
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("unexpected body ({e}): {self:?}"))
    }
}

impl TestServer {
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            env: Vec::new(),
            extra_routes: None,
            tls: None,
        }
    }

    pub async fn start() -> TestServer {
        Self::builder().start().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        Self::answer(response).await
    }

    pub async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body read");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        self.call(Method::POST, path, token, body).await
    }

    /// Creates a tenant with its first admin the way an operator does.
    pub async fn tenant(&self, slug: &str) -> TenantFixture {
        let (tenant, admin) = bootstrap_tenant(
            self.store.as_ref(),
            &self.state.passwords,
            self.state.config.auth.min_password_length,
            BootstrapTenant {
                slug: TenantSlug::parse(slug).expect("slug"),
                name: DisplayName::parse(&format!("{slug} Ltd")).expect("name"),
                admin_login: Login::parse("admin").expect("login"),
                admin_password: Password::new(ADMIN_PASSWORD),
                admin_profile_id: None,
            },
            self.clock_now(),
        )
        .await
        .expect("bootstrap");
        TenantFixture {
            slug: tenant.slug.as_str().to_owned(),
            admin_account: admin.id.to_string(),
        }
    }

    pub fn clock_now(&self) -> Timestamp {
        use fieldsales_core::Clock;
        self.clock.now()
    }

    /// Signs in; panics unless it succeeds.
    pub async fn sign_in(&self, as_: &SignIn) -> LoginResponse {
        let answer = self.post("/v1/auth/login", None, Some(as_.body())).await;
        assert_eq!(answer.status, StatusCode::OK, "sign-in failed: {answer:?}");
        answer.json()
    }

    /// The tenant's admin signed in on a laptop.
    pub async fn admin_token(&self, tenant: &TenantFixture) -> String {
        self.sign_in(&SignIn::new(&tenant.slug, "admin", ADMIN_PASSWORD).on("admin laptop"))
            .await
            .token
    }

    /// An admin creates a rep account; returns it.
    pub async fn create_rep(&self, admin_token: &str, login: &str) -> AccountView {
        let answer = self
            .post(
                "/v1/admin/accounts",
                Some(admin_token),
                Some(json!({ "login": login, "password": REP_PASSWORD })),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
        answer.json()
    }

    /// Signals shutdown and returns the serve task, to await.
    pub fn shut_down(&mut self) -> JoinHandle<Result<(), ServeError>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.handle.take().expect("server still running")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub struct TenantFixture {
    pub slug: String,
    pub admin_account: String,
}

/// A sign-in request, built up.
#[derive(Clone)]
pub struct SignIn {
    tenant: String,
    login: String,
    password: String,
    device_name: String,
    device_id: Option<String>,
}

impl SignIn {
    pub fn new(tenant: &str, login: &str, password: &str) -> Self {
        SignIn {
            tenant: tenant.to_owned(),
            login: login.to_owned(),
            password: password.to_owned(),
            device_name: "phone".to_owned(),
            device_id: None,
        }
    }

    pub fn rep(tenant: &TenantFixture, login: &str) -> Self {
        SignIn::new(&tenant.slug, login, REP_PASSWORD)
    }

    pub fn on(mut self, device_name: &str) -> Self {
        self.device_name = device_name.to_owned();
        self
    }

    pub fn again_on(mut self, device_id: impl ToString) -> Self {
        self.device_id = Some(device_id.to_string());
        self
    }

    pub fn password(mut self, password: &str) -> Self {
        self.password = password.to_owned();
        self
    }

    pub fn body(&self) -> Value {
        let mut body = json!({
            "tenant": self.tenant,
            "login": self.login,
            "password": self.password,
            "device_name": self.device_name,
        });
        if let Some(id) = &self.device_id {
            body["device_id"] = json!(id);
        }
        body
    }
}

/// A profile id for tests that link an account to a given profile record.
pub fn profile() -> RecordId {
    RecordId::new()
}

/// Default options for stores made directly in tests.
pub fn sqlite_options() -> SqliteOptions {
    SqliteOptions::default()
}

/// Runs `script` with the Python of the standard test tools (`openapi-spec-validator`,
/// `prometheus-client`, installed by `scripts/install-test-tools.sh`), with `input` on its
/// standard input; its standard output. Panics with Python's error when the script fails.
pub fn python(script: &str, input: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 cannot run ({e}): run scripts/install-test-tools.sh"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("python reads its input");
    let out = child.wait_with_output().expect("python ran");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "a test tool is missing: run scripts/install-test-tools.sh\n{stderr}"
    );
    assert!(out.status.success(), "python said:\n{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A rep with a user profile in a team of the admin's tenant (as an admin console makes one,
/// through the admin API with the API's own request types), who can sign in and sync.
pub async fn rep_with_profile(server: &TestServer, admin_token: &str, login: &str) -> RecordId {
    use fieldsales_core::record::{DataScope, OrgLevel};
    use fieldsales_server::api::{AdminRecord, CreateAccountRequest, WrittenRecord};

    let write = |record: AdminRecord| async move {
        let answer = server
            .post(
                "/v1/admin/records",
                Some(admin_token),
                Some(serde_json::to_value(&record).expect("a request")),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
        answer.json::<WrittenRecord>().id
    };
    write(AdminRecord::Role {
        id: None,
        code: "sales_rep".into(),
        name: "销售代表".into(),
        data_scope: DataScope::Own,
        permissions: Vec::new(),
        hidden_fields: Vec::new(),
    })
    .await;
    let unit = |name: &str, level, parent| AdminRecord::OrgUnit {
        id: None,
        name: name.into(),
        level,
        parent_id: parent,
        manager_id: None,
        zone: Some("Asia/Shanghai".into()),
    };
    let hq = write(unit("总部", OrgLevel::Hq, None)).await;
    let team = write(unit("上海一组", OrgLevel::Team, Some(hq))).await;
    let profile = write(AdminRecord::UserProfile {
        id: None,
        name: "张伟".into(),
        employee_no: login.into(),
        unit_id: team,
        roles: vec!["sales_rep".into()],
        zone: "Asia/Shanghai".into(),
        phone: None,
        email: None,
        title: None,
        active: true,
        created_at: None,
        started_on: None,
        left_on: None,
        leave: Vec::new(),
    })
    .await;
    let account = server
        .post(
            "/v1/admin/accounts",
            Some(admin_token),
            Some(
                serde_json::to_value(CreateAccountRequest {
                    login: login.into(),
                    password: Password::new(REP_PASSWORD),
                    profile_id: Some(profile.to_string()),
                    is_admin: false,
                })
                .expect("a request"),
            ),
        )
        .await;
    assert_eq!(account.status, StatusCode::CREATED, "{account:?}");
    profile
}
