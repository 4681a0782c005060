//! The dashboards on the server: a manager's phone after a sync and the server's JSON show the
//! same numbers for the same scope, each viewer sees only their own scope, and the web page a
//! manager opens in a real (headless) browser shows what the API says.
//!
//! The browser is Debian's chromium driven through chromedriver by a small WebDriver client
//! over `reqwest`; `scripts/install-test-tools.sh` installs both. When they are missing or
//! chromium cannot start, the test fails and says so: a skipped browser test proves nothing.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fieldsales_core::dashboard::{
    AttentionList, DashboardRequest, DateRange, Funnel, Granularity, GroupBy, MapPoints,
    ReportCompliance, TargetBoard, VisitsDashboard,
};
use fieldsales_core::engine::Engine;
use fieldsales_core::store::Store;
use fieldsales_core::sync::{SignIn, sign_in};
use fieldsales_core::testing::{
    customer, morning, opportunity, position_near_shanghai, visit, yuan,
};
use fieldsales_core::time::Clock;
use fieldsales_core::{RecordId, Timestamp, Zone};
use fieldsales_tests::{PASSWORD, Person, TENANT, World, sync};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A rep's day on their own phone: a customer, a deal, a check-in `metres_away` from the
/// customer's office, and the day's report filed an hour after the deadline.
async fn field_week(rep: &mut Engine, company: &str, metres_away: f64) {
    let me = rep.me().user_id;
    let c = rep
        .store_mut()
        .create(customer(me, company))
        .expect("customer")
        .header
        .id;
    rep.store_mut()
        .create(opportunity(
            me,
            c,
            &format!("{company} 年度采购"),
            yuan(120_000),
        ))
        .expect("deal");
    let mut v = visit(me, c);
    v.check_in.position = position_near_shanghai(metres_away, 8.0);
    rep.store_mut().create(v).expect("visit");
    let today = rep.now().local_date(&Zone::SHANGHAI);
    let draft = rep.report_draft(today).expect("draft");
    rep.submit_report(draft.header.id).expect("submitted late");
    let report = sync(rep).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
}

/// The days every comparison covers: the day of the visits, with a day either side.
fn range() -> DateRange {
    let day = morning().local_date(&Zone::SHANGHAI);
    DateRange::new(day.pred(), day.succ()).expect("range")
}

async fn get_json<T: DeserializeOwned>(world: &World, token: &str, path: &str) -> T {
    let response = world
        .http
        .get(format!("{}{path}", world.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("dashboard call");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_value(body).expect("a core dashboard")
}

async fn login(world: &World, person: &Person) -> String {
    let answer: Value = world
        .http
        .post(format!("{}/v1/auth/login", world.base))
        .json(
            &json!({"tenant": TENANT, "login": person.login, "password": PASSWORD,
                      "device_name": "browser"}),
        )
        .send()
        .await
        .expect("sign-in")
        .json()
        .await
        .expect("sign-in answer");
    answer["token"].as_str().expect("token").to_owned()
}

/// The server's five dashboards and the map's points for `token`, by rep, over [`range`].
struct ServerDashboards {
    funnel: Funnel,
    visits: VisitsDashboard,
    map: MapPoints,
    reports: ReportCompliance,
    targets: TargetBoard,
    attention: AttentionList,
}

async fn server_dashboards(world: &World, token: &str) -> ServerDashboards {
    let r = range();
    let q = format!("from={}&to={}&group_by=rep", r.from, r.to);
    ServerDashboards {
        funnel: get_json(world, token, &format!("/v1/dashboards/funnel?{q}")).await,
        visits: get_json(
            world,
            token,
            &format!("/v1/dashboards/visits?{q}&granularity=day"),
        )
        .await,
        map: get_json(
            world,
            token,
            &format!("/v1/dashboards/visits/points?from={}&to={}", r.from, r.to),
        )
        .await,
        reports: get_json(world, token, &format!("/v1/dashboards/reports?{q}")).await,
        targets: get_json(world, token, &format!("/v1/dashboards/targets?{q}")).await,
        attention: get_json(world, token, &format!("/v1/dashboards/attention?{q}")).await,
    }
}

/// The names a dashboard shows, from every section.
fn names(d: &ServerDashboards) -> Vec<String> {
    let mut names: Vec<String> = d
        .funnel
        .groups
        .iter()
        .map(|g| g.group.name.clone())
        .chain(d.reports.groups.iter().map(|g| g.group.name.clone()))
        .chain(d.visits.rows.iter().map(|r| r.group.name.clone()))
        .chain(d.map.points.iter().map(|p| p.rep.name.clone()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The evening the scenarios happen in: 19:00 in Shanghai, an hour after the report deadline.
fn evening() -> Timestamp {
    Timestamp::parse_rfc3339("2026-03-10T19:00:00+08:00").expect("instant")
}

/// `person`'s phone, on the server's clock: both sides judge deadlines, count missing
/// reports and measure "overdue by" at one instant, so their answers can be equal.
async fn phone(world: &mut World, person: &Person) -> Engine {
    let path = world.store_path(&person.login);
    let phone = sign_in(
        &SignIn {
            server_url: world.base.clone(),
            tenant: TENANT.into(),
            login: person.login.clone(),
            password: PASSWORD.into(),
            device_name: format!("{}'s phone", person.login),
        },
        &path,
    )
    .await
    .expect("sign-in");
    drop(phone.into_store());
    let clock: Arc<dyn Clock> = Arc::new(world.clock.clone());
    let store = Store::open_with_clock(&path, clock).expect("reopened");
    let mut phone = Engine::resume(store)
        .expect("resumed")
        .expect("still signed in");
    sync(&mut phone).await;
    phone
}

/// Signs `person`'s phone in, syncs it, and checks each of its dashboards equals the
/// server's JSON for the same scope and days, field for field (`data_as_of` aside: the phone
/// states its last sync, the server the moment it answered).
async fn phone_equals_server(world: &mut World, person: &Person) -> ServerDashboards {
    let mut phone = phone(world, person).await;
    sync(&mut phone).await;
    let token = login(world, person).await;
    let server = server_dashboards(world, &token).await;
    let req = DashboardRequest {
        range: range(),
        group_by: GroupBy::Rep,
    };
    let synced = phone.data_as_of().expect("meta");
    assert!(synced.is_some(), "the phone states when it last synced");

    let mut funnel = phone.funnel_dashboard(&req).expect("phone funnel");
    assert_eq!(funnel.data_as_of, synced);
    funnel.data_as_of = server.funnel.data_as_of;
    assert_eq!(funnel, server.funnel, "funnel of {}", person.login);

    let mut visits = phone
        .visits_dashboard(&req, Granularity::Day)
        .expect("phone visits");
    visits.data_as_of = server.visits.data_as_of;
    assert_eq!(visits, server.visits, "visits of {}", person.login);

    let mut map = phone
        .visit_map_points(req.range, 5_000, None)
        .expect("phone map");
    map.data_as_of = server.map.data_as_of;
    assert_eq!(map, server.map, "map of {}", person.login);

    let mut reports = phone.report_dashboard(&req).expect("phone reports");
    reports.data_as_of = server.reports.data_as_of;
    assert_eq!(reports, server.reports, "reports of {}", person.login);

    let mut targets = phone.target_dashboard(&req).expect("phone targets");
    targets.data_as_of = server.targets.data_as_of;
    assert_eq!(targets, server.targets, "targets of {}", person.login);

    let mut attention = phone.attention_list(req.range).expect("phone attention");
    attention.data_as_of = server.attention.data_as_of;
    assert_eq!(attention, server.attention, "attention of {}", person.login);
    server
}

/// Two regions: East with teams 上海一组 and 臺北一組, North with 北京一组.
struct Seeded {
    world: World,
    manager: Person,
    director: Person,
    rep: Person,
    north_rep: Person,
}

const EAST_NAMES: [&str; 4] = ["張偉", "张伟", "李娜", "陳建國"];

async fn seeded() -> Seeded {
    let mut world = World::start().await;
    world.clock.set(evening());
    let org = world.org().await;
    let taipei = world
        .put(
            json!({"kind": "org_unit", "name": "臺北一組", "level": "team",
                    "parent_id": org.east.to_string(), "zone": "Asia/Shanghai"}),
        )
        .await;
    let rep = world
        .named_person("zhang.wei", "張偉", org.east_team, "sales_rep")
        .await;
    let taipei_rep = world
        .named_person("zhang.wei.tp", "张伟", taipei, "sales_rep")
        .await;
    let manager = world
        .named_person("li.na", "李娜", org.east_team, "sales_manager")
        .await;
    let director = world
        .named_person("chen.jianguo", "陳建國", org.east, "regional_director")
        .await;
    let north_rep = world
        .named_person("wang.fang", "王芳", org.north_team, "sales_rep")
        .await;

    let mut p = phone(&mut world, &rep).await;
    field_week(&mut p, "上海浦東精密機械有限公司", 20.0).await;
    let mut p = phone(&mut world, &taipei_rep).await;
    field_week(&mut p, "臺北新光電子股份有限公司", 900.0).await;
    let mut p = phone(&mut world, &north_rep).await;
    field_week(&mut p, "北京中关村科技有限公司", 20.0).await;
    Seeded {
        world,
        manager,
        director,
        rep,
        north_rep,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_viewer_sees_the_same_numbers_on_phone_and_server_within_their_own_scope() {
    let Seeded {
        mut world,
        manager,
        director,
        rep,
        north_rep,
    } = seeded().await;

    let m = phone_equals_server(&mut world, &manager).await;
    assert_eq!(
        names(&m),
        vec!["張偉".to_string()],
        "a team manager sees their own team"
    );
    let open: u64 = m.funnel.total.stages.iter().map(|s| s.open).sum();
    assert_eq!(open, 1, "the team's one open deal");
    assert_eq!(
        m.reports.total.late, 1,
        "the team's one late report: {:?}",
        m.reports
    );
    assert_eq!(m.map.points.len(), 1);
    assert_eq!(m.map.next, None);

    let d = phone_equals_server(&mut world, &director).await;
    assert_eq!(
        names(&d),
        vec!["张伟".to_string(), "張偉".to_string()],
        "a director sees both of the region's teams and no other region"
    );
    assert_eq!(d.reports.total.late, 2);

    let r = phone_equals_server(&mut world, &rep).await;
    assert_eq!(
        names(&r),
        vec!["張偉".to_string()],
        "a rep sees only their own"
    );
    assert_eq!(
        r.funnel.total, m.funnel.total,
        "the team's figures are the rep's"
    );

    let n = phone_equals_server(&mut world, &north_rep).await;
    assert_eq!(names(&n), vec!["王芳".to_string()]);
    for east in EAST_NAMES {
        assert!(!names(&n).iter().any(|x| x == east));
    }
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_dashboard_parameters_are_answered_400_naming_the_parameter() {
    let mut world = World::start().await;
    let org = world.org().await;
    let manager = world
        .named_person("li.na", "李娜", org.east_team, "sales_manager")
        .await;
    let _phone = world.device(&manager).await;
    let token = login(&world, &manager).await;
    let march = "from=2026-03-01&to=2026-03-31";
    let id = RecordId::new();
    for (path, query, field) in [
        ("funnel", "to=2026-03-31".to_owned(), "from"),
        ("funnel", "from=March&to=2026-03-31".to_owned(), "from"),
        ("funnel", "from=2026-02-30&to=2026-03-31".to_owned(), "from"),
        ("funnel", "from=2026-03-31&to=2026-03-01".to_owned(), "to"),
        ("funnel", "from=2000-01-01&to=2026-03-01".to_owned(), "to"),
        ("funnel", format!("{march}&group_by=planet"), "group_by"),
        ("visits/points", "to=2026-03-31".to_owned(), "from"),
        ("visits/points", format!("{march}&limit=0"), "limit"),
        ("visits/points", format!("{march}&limit=5001"), "limit"),
        ("visits/points", format!("{march}&limit=ten"), "limit"),
        (
            "visits/points",
            format!("{march}&after_at=1773100000000"),
            "after_id",
        ),
        (
            "visits/points",
            format!("{march}&after_id={id}"),
            "after_at",
        ),
        (
            "visits/points",
            format!("{march}&after_at=noon&after_id={id}"),
            "after_at",
        ),
        (
            "visits/points",
            format!("{march}&after_at=1773100000000&after_id=v1"),
            "after_id",
        ),
    ] {
        let response = world
            .http
            .get(format!("{}/v1/dashboards/{path}?{query}", world.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("call");
        assert_eq!(response.status(), 400, "{path}?{query}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["code"], "invalid_field", "{path}?{query}: {body}");
        assert_eq!(body["field"], field, "{path}?{query}: {body}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let anonymous = world
        .http
        .get(format!(
            "{}/v1/dashboards/funnel?from=2026-03-01&to=2026-03-31",
            world.base
        ))
        .send()
        .await
        .expect("call");
    assert_eq!(anonymous.status(), 401);
    world.stop().await;
}

// ---------------------------------------------------------------------------------------------
// A small WebDriver client: just what the scenario needs.

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Chromedriver {
    child: Child,
    base: String,
    http: reqwest::Client,
    session: Option<String>,
    _profile: tempfile::TempDir,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

impl Chromedriver {
    /// Starts chromedriver and a headless chromium session with a fresh profile.
    async fn start() -> Chromedriver {
        let driver = which("chromedriver").unwrap_or_else(|| {
            panic!("chromedriver is not installed: run scripts/install-test-tools.sh (Debian chromium-driver)")
        });
        let browser = which("chromium").unwrap_or_else(|| {
            panic!("chromium is not installed: run scripts/install-test-tools.sh (Debian chromium)")
        });
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir");
        let mut this = Chromedriver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            session: None,
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = this
                .http
                .get(format!("{}/status", this.base))
                .send()
                .await
                .ok()
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not come up within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-quic",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1800",
            &format!("--user-data-dir={}", this._profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": browser.display().to_string(), "args": args}
        }}});
        let answer = this.call(reqwest::Method::POST, "/session", caps).await;
        let session = answer["sessionId"].as_str().map(str::to_owned).unwrap_or_else(|| {
            panic!("chromium did not start a WebDriver session (is it installed and runnable?): {answer}")
        });
        this.session = Some(session);
        this
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if method != reqwest::Method::GET {
            request = request.json(&body);
        }
        let response = request.send().await.expect("WebDriver call");
        let status = response.status();
        let answer: Value = response.json().await.expect("WebDriver JSON");
        assert!(
            status.is_success(),
            "WebDriver {method} {path}: {status} {answer}"
        );
        answer["value"].clone()
    }

    fn at(&self, path: &str) -> String {
        format!(
            "/session/{}{path}",
            self.session.as_deref().unwrap_or_default()
        )
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, &self.at("/url"), json!({"url": url}))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                &self.at("/element"),
                json!({"using": "css selector", "value": css}),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element `{css}`: {found}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &self.at(&format!("/element/{e}/clear")),
            json!({}),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &self.at(&format!("/element/{e}/value")),
            json!({"text": text}),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &self.at(&format!("/element/{e}/click")),
            json!({}),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        let v = self
            .call(
                reqwest::Method::GET,
                &self.at(&format!("/element/{e}/text")),
                Value::Null,
            )
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            &self.at("/execute/sync"),
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Waits until the dashboard has drawn (or failed, which fails the test).
    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let state = self
                .script("return document.getElementById('dashboard').dataset.state")
                .await;
            match state.as_str() {
                Some("ready") => return,
                Some("error") => panic!("the dashboard failed: {}", self.text("#status").await),
                _ => {}
            }
            assert!(
                Instant::now() < deadline,
                "the dashboard did not draw within 20 s (state {state}, sign-in error `{}`)",
                self.text("#sign-in-error").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, to: &Path) {
        let png = self
            .call(reqwest::Method::GET, &self.at("/screenshot"), Value::Null)
            .await;
        let bytes = base64_decode(png.as_str().expect("base64 PNG"));
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::create_dir_all(to.parent().expect("parent")).expect("artifact dir");
        std::fs::write(to, bytes).expect("screenshot written");
    }

    async fn quit(mut self) {
        if let Some(id) = self.session.take() {
            let _ = self
                .http
                .delete(format!("{}/session/{id}", self.base))
                .send()
                .await;
        }
    }
}

/// Standard base64, as WebDriver sends screenshots.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let clean: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    for chunk in clean.chunks(4) {
        let data: Vec<u8> = chunk.iter().copied().filter(|&c| c != b'=').collect();
        let mut n = 0u32;
        for (i, &c) in data.iter().enumerate() {
            n |= value(c) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..data.len()]);
    }
    out
}

async fn sign_in_on_page(browser: &Chromedriver, person: &Person) {
    browser.type_into("#tenant", TENANT).await;
    browser.type_into("#login", &person.login).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#sign-in").await;
    browser.wait_ready().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_reads_the_dashboard_in_a_browser_and_a_rep_of_another_region_sees_none_of_it() {
    let Seeded {
        world,
        manager,
        north_rep,
        director,
        ..
    } = seeded().await;
    let r = range();
    let token = login(&world, &director).await;
    let api = server_dashboards(&world, &token).await;

    let browser = Chromedriver::start().await;
    let page = format!("{}/dashboard?from={}&to={}", world.base, r.from, r.to);
    browser.go(&page).await;
    sign_in_on_page(&browser, &director).await;

    let open: u64 = api.funnel.total.stages.iter().map(|s| s.open).sum();
    assert_eq!(open, 2, "the region's two open deals");
    assert_eq!(browser.text("#funnel-total").await, open.to_string());
    assert_eq!(api.reports.total.late, 2);
    assert_eq!(
        browser.text("#late-count").await,
        api.reports.total.late.to_string()
    );
    assert_eq!(
        browser.text("#visits-total").await,
        api.visits.total.check_ins.to_string()
    );
    let dots = browser
        .script("return [...document.querySelectorAll('#map circle.point')].map(c => c.dataset.verdict)")
        .await;
    let mut expected: Vec<String> = api
        .map
        .points
        .iter()
        .map(|p| {
            p.fence
                .as_ref()
                .map_or("unjudged".to_owned(), |f| f.as_str().to_owned())
        })
        .collect();
    let mut drawn: Vec<String> = serde_json::from_value(dots).expect("verdicts");
    expected.sort();
    drawn.sort();
    assert_eq!(
        drawn, expected,
        "one dot per check-in, in its verdict's colour"
    );
    assert!(
        drawn.iter().any(|v| v == "outside"),
        "the 900 m check-in is outside: {drawn:?}"
    );
    let reps = browser.text("#reps").await;
    for name in ["張偉", "张伟"] {
        assert!(reps.contains(name), "{name} in the reps table: {reps}");
    }
    assert!(
        !reps.contains("王芳"),
        "North's rep is not the director's: {reps}"
    );
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/dashboard.png");
    browser.screenshot(&shot).await;

    // The manager's team only, in the same browser after signing out.
    browser.click("#sign-out").await;
    sign_in_on_page(&browser, &manager).await;
    let token = login(&world, &manager).await;
    let team = server_dashboards(&world, &token).await;
    let open: u64 = team.funnel.total.stages.iter().map(|s| s.open).sum();
    assert_eq!(open, 1, "the team's one open deal");
    assert_eq!(browser.text("#funnel-total").await, open.to_string());
    assert_eq!(team.reports.total.late, 1);
    assert_eq!(
        browser.text("#late-count").await,
        team.reports.total.late.to_string()
    );
    let reps = browser.text("#reps").await;
    assert!(reps.contains("張偉") && !reps.contains("张伟"), "{reps}");

    // A rep of North: none of East's names anywhere on the page.
    browser.click("#sign-out").await;
    sign_in_on_page(&browser, &north_rep).await;
    let source = browser
        .call(reqwest::Method::GET, &browser.at("/source"), Value::Null)
        .await;
    let source = source.as_str().expect("page source").to_owned();
    assert!(source.contains("王芳"), "North's rep sees their own name");
    for east in EAST_NAMES
        .iter()
        .chain(["上海一组", "臺北一組", "华东大区"].iter())
    {
        assert!(!source.contains(east), "{east} leaked to North's rep");
    }
    assert_eq!(browser.text("#funnel-total").await, "1");
    browser.quit().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_page_is_served_by_the_server_under_a_strict_policy() {
    let world = World::start().await;
    for (path, kind) in [
        ("/dashboard", "text/html"),
        ("/dashboard/dashboard.js", "text/javascript"),
        ("/dashboard/dashboard.css", "text/css"),
    ] {
        let response = world
            .http
            .get(format!("{}{path}", world.base))
            .send()
            .await
            .expect("asset");
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(header("content-type").starts_with(kind), "{path}");
        let csp = header("content-security-policy");
        assert!(
            csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert!(!csp.contains("http"), "no outside host is allowed: {csp}");
        let body = response.text().await.expect("body");
        let own = body.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !own.contains("http://") && !own.contains("https://"),
            "{path} names no outside host"
        );
    }
    world.stop().await;
}

on_postgres!(each_viewer_sees_the_same_numbers_on_phone_and_server_within_their_own_scope);
