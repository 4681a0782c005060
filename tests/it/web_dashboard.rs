//! The dashboards on the server: a manager's phone after a sync and the server's JSON show the
//! same numbers for the same scope, each viewer sees only their own scope (drilling down and
//! exporting included), and the web page a manager opens in a real (headless) browser shows
//! what the API says: a manager drills from the team to a rep's flagged check-in, a director
//! compares two periods, the page fits a 390 px phone, a zh-Hans page draws Simplified glyphs,
//! and the header names the person, not their login. Screenshots at 390 px and 1440 px are
//! saved under the target directory (`web-artifacts/`).
//!
//! The browser is Debian's chromium driven through chromedriver (see `browser`).

use std::sync::Arc;

use fieldsales_core::GeoPoint;
use fieldsales_core::dashboard::people::{OrgChart, RepRecords};
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

use super::browser::{Chromedriver, fits_a_phone, sign_in_on_page};

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

/// A check-in of `rep` from a mock location in Beijing, two hours after the morning's in
/// Shanghai: flagged, and far from every other point of the map. Returns the visit.
async fn mock_check_in_in_beijing(rep: &mut Engine) -> RecordId {
    let me = rep.me().user_id;
    let c = rep
        .store_mut()
        .create(customer(me, "上海外高桥物流有限公司"))
        .expect("customer")
        .header
        .id;
    let mut v = visit(me, c);
    let at = morning().plus_millis(2 * 3_600_000);
    v.check_in.at = at;
    v.check_in.position.point = GeoPoint {
        lat: 39.9042,
        lon: 116.4074,
    };
    v.check_in.position.fix_time = at;
    v.check_in.position.mock = true;
    let id = rep.store_mut().create(v).expect("visit").header.id;
    let report = sync(rep).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    id
}

/// A check-in of `rep` three days before the morning: the previous period's.
async fn check_in_days_before(rep: &mut Engine, days: i64) {
    let me = rep.me().user_id;
    let c = rep
        .store_mut()
        .create(customer(me, "臺北內湖科技園區管理局"))
        .expect("customer")
        .header
        .id;
    let mut v = visit(me, c);
    let at = morning().plus_millis(-days * 86_400_000);
    v.check_in.at = at;
    v.check_in.position.fix_time = at;
    rep.store_mut().create(v).expect("visit");
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
    taipei_rep: Person,
    north_rep: Person,
    taipei: RecordId,
    org: fieldsales_tests::Org,
    /// 張偉's mock check-in in Beijing.
    flagged_visit: RecordId,
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
    let flagged_visit = mock_check_in_in_beijing(&mut p).await;
    let mut p = phone(&mut world, &taipei_rep).await;
    field_week(&mut p, "臺北新光電子股份有限公司", 900.0).await;
    check_in_days_before(&mut p, 3).await;
    let mut p = phone(&mut world, &north_rep).await;
    field_week(&mut p, "北京中关村科技有限公司", 20.0).await;
    Seeded {
        world,
        manager,
        director,
        rep,
        taipei_rep,
        north_rep,
        taipei,
        org,
        flagged_visit,
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
        ..
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
    assert_eq!(
        m.map.points.len(),
        2,
        "the morning's check-in and the one from Beijing"
    );
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

/// Signs `person` in as a browser does: a session on no device.
async fn browser_login(world: &World, person: &Person) -> Value {
    let response = world
        .http
        .post(format!("{}/v1/auth/browser", world.base))
        .json(&json!({"tenant": TENANT, "login": person.login, "password": PASSWORD}))
        .send()
        .await
        .expect("sign-in");
    assert_eq!(response.status(), 200);
    response.json().await.expect("sign-in answer")
}

/// A call's status and JSON body (`Null` when the body is not JSON).
async fn get_status(world: &World, token: &str, path: &str) -> (u16, Value) {
    let response = world
        .http
        .get(format!("{}{path}", world.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("call");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drilling_down_and_exporting_never_reach_outside_the_callers_scope() {
    let Seeded {
        world,
        manager,
        director,
        rep,
        taipei_rep,
        north_rep,
        taipei,
        org,
        flagged_visit,
    } = seeded().await;
    let r = range();
    let days = format!("from={}&to={}", r.from, r.to);
    let manager_token = login(&world, &manager).await;

    // The manager's tree: their team and its people, nothing of the rest of the company.
    let chart: OrgChart = get_json(&world, &manager_token, "/v1/dashboards/org").await;
    assert_eq!(chart.viewer.name, "李娜", "the viewer by name");
    let units: Vec<&str> = chart.units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(units, vec!["上海一组"]);
    let people: Vec<&str> = chart.people.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(people, vec!["張偉", "李娜"]);

    // Their rep's own records: the Beijing check-in with its verdict, flags and numbers.
    let records: RepRecords = get_json(
        &world,
        &manager_token,
        &format!("/v1/dashboards/people/{}?{days}", rep.profile),
    )
    .await;
    assert_eq!(records.person.name, "張偉");
    assert_eq!(records.visits.len(), 2);
    let beijing = records
        .visits
        .iter()
        .find(|v| v.visit_id == flagged_visit)
        .expect("the Beijing check-in");
    assert!(beijing.mock);
    assert!(
        beijing.flags.iter().any(|f| f == "mock_location"),
        "{:?}",
        beijing.flags
    );
    assert!(beijing.distance_m.is_some_and(|d| d > 1_000_000.0));
    assert_eq!(records.deals.len(), 1);
    assert_eq!(records.reports.len(), 1);

    // Everyone and every unit outside the team is "not in scope", whatever the call.
    for path in [
        format!("/v1/dashboards/people/{}?{days}", north_rep.profile),
        format!("/v1/dashboards/people/{}?{days}", taipei_rep.profile),
        format!("/v1/dashboards/people/{}?{days}", RecordId::new()),
        format!("/v1/dashboards/funnel?{days}&unit={}", org.north_team),
        format!("/v1/dashboards/funnel?{days}&unit={taipei}"),
        format!("/v1/dashboards/funnel?{days}&unit={}", org.east),
        format!(
            "/v1/dashboards/visits/points?{days}&rep={}",
            taipei_rep.profile
        ),
        format!("/v1/dashboards/reports?{days}&rep={}", north_rep.profile),
        format!("/v1/dashboards/export?{days}&rep={}", north_rep.profile),
        format!("/v1/dashboards/export?{days}&unit={}", org.north_team),
    ] {
        let (status, body) = get_status(&world, &manager_token, &path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["code"], "not_in_scope", "{path}: {body}");
        let text = body.to_string();
        for name in ["王芳", "张伟", "北京一组", "臺北一組"] {
            assert!(!text.contains(name), "{path} told {name}: {text}");
        }
    }

    // Narrowed to their own team, the figures are their whole scope's.
    let whole: Funnel = get_json(
        &world,
        &manager_token,
        &format!("/v1/dashboards/funnel?{days}"),
    )
    .await;
    let team: Funnel = get_json(
        &world,
        &manager_token,
        &format!("/v1/dashboards/funnel?{days}&unit={}", org.east_team),
    )
    .await;
    assert_eq!(team.total, whole.total);

    // A director narrows to one team, then to one rep of it.
    let director_token = login(&world, &director).await;
    let chart: OrgChart = get_json(&world, &director_token, "/v1/dashboards/org").await;
    let mut units: Vec<&str> = chart.units.iter().map(|u| u.name.as_str()).collect();
    units.sort();
    assert_eq!(units, vec!["上海一组", "华东大区", "臺北一組"]);
    let region = chart
        .units
        .iter()
        .find(|u| u.name == "华东大区")
        .expect("region");
    assert_eq!(region.parent_id, None, "the director's root");
    assert!(
        chart
            .units
            .iter()
            .filter(|u| u.name != "华东大区")
            .all(|u| u.parent_id == Some(org.east))
    );
    let visits: VisitsDashboard = get_json(
        &world,
        &director_token,
        &format!("/v1/dashboards/visits?{days}&unit={taipei}"),
    )
    .await;
    let names: Vec<&str> = visits.rows.iter().map(|r| r.group.name.as_str()).collect();
    assert_eq!(names, vec!["张伟"], "only the Taipei team");
    let points: MapPoints = get_json(
        &world,
        &director_token,
        &format!("/v1/dashboards/visits/points?{days}&rep={}", rep.profile),
    )
    .await;
    assert_eq!(points.points.len(), 2);
    assert!(points.points.iter().all(|p| p.rep.name == "張偉"));

    // The workbook of what the director sees, with the previous period beside it.
    let response = world
        .http
        .get(format!(
            "{}/v1/dashboards/export?{days}&compare=true&lang=en",
            world.base
        ))
        .bearer_auth(&director_token)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        fieldsales_server::api::XLSX
    );
    let bytes = response.bytes().await.expect("workbook");
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx");
    use calamine::Reader as _;
    let sheets = book.sheet_names();
    for sheet in [
        "Summary",
        "Funnel",
        "Breakdown",
        "Targets",
        "Attention",
        "Check-ins",
    ] {
        assert!(sheets.iter().any(|s| s == sheet), "{sheet} in {sheets:?}");
    }
    let summary = book.worksheet_range("Summary").expect("summary");
    let row = |label: &str| -> Vec<String> {
        summary
            .rows()
            .find(|r| r.first().map(ToString::to_string).as_deref() == Some(label))
            .unwrap_or_else(|| panic!("no row {label}"))
            .iter()
            .map(|c| c.to_string())
            .collect()
    };
    let api = server_dashboards(&world, &director_token).await;
    assert_eq!(row("Check-ins")[1], api.visits.total.check_ins.to_string());
    assert_eq!(
        row("Check-ins")[2],
        "1",
        "the previous period's one check-in"
    );
    assert_eq!(row("Late")[1], api.reports.total.late.to_string());
    let open: u64 = api.funnel.total.stages.iter().map(|s| s.open).sum();
    assert_eq!(row("Open deals")[1], open.to_string());
    let check_ins = book.worksheet_range("Check-ins").expect("check-ins");
    assert_eq!(check_ins.rows().count(), 1 + api.map.points.len());
    let breakdown = book.worksheet_range("Breakdown").expect("breakdown");
    let text: Vec<String> = breakdown.rows().map(|r| r[0].to_string()).collect();
    assert!(text.iter().any(|n| n == "张伟") && !text.iter().any(|n| n == "王芳"));

    // Narrowed to a rep, the workbook carries their visits with the flags.
    let response = world
        .http
        .get(format!(
            "{}/v1/dashboards/export?{days}&rep={}",
            world.base, rep.profile
        ))
        .bearer_auth(&manager_token)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.expect("workbook");
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx");
    let visits = book.worksheet_range("拜访 張偉").expect("the rep's visits");
    assert!(
        visits
            .rows()
            .any(|r| r.iter().any(|c| c.to_string().contains("mock_location"))),
        "the flagged check-in is in the workbook"
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_drill_down_and_export_parameters_are_answered_400_naming_the_parameter() {
    let mut world = World::start().await;
    let org = world.org().await;
    let manager = world
        .named_person("li.na", "李娜", org.east_team, "sales_manager")
        .await;
    let _phone = world.device(&manager).await;
    let token = login(&world, &manager).await;
    let march = "from=2026-03-01&to=2026-03-31";
    let id = RecordId::new();
    for (path, field, code) in [
        (
            format!("/v1/dashboards/funnel?{march}&unit=team-1"),
            "unit",
            "invalid_field",
        ),
        (
            format!("/v1/dashboards/visits?{march}&rep=zhang"),
            "rep",
            "invalid_field",
        ),
        (
            format!("/v1/dashboards/reports?{march}&unit={id}&rep={id}"),
            "rep",
            "invalid_field",
        ),
        (
            format!("/v1/dashboards/visits/points?{march}&unit=1"),
            "unit",
            "invalid_field",
        ),
        (
            format!("/v1/dashboards/people/{id}?to=2026-03-31"),
            "from",
            "invalid_field",
        ),
        (
            format!("/v1/dashboards/people/{id}?from=2026-03-31&to=2026-03-01"),
            "to",
            "invalid_field",
        ),
        (
            format!("/v1/dashboards/export?{march}&lang=fr"),
            "lang",
            "invalid_field",
        ),
        (
            format!("/v1/dashboards/export?{march}&compare=maybe"),
            "compare",
            "invalid_field",
        ),
        (
            format!("/v1/dashboards/export?{march}&group_by=planet"),
            "group_by",
            "invalid_field",
        ),
        (
            "/v1/dashboards/export?to=2026-03-31".to_owned(),
            "from",
            "invalid_field",
        ),
    ] {
        let (status, body) = get_status(&world, &token, &path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["code"], code, "{path}: {body}");
        assert_eq!(body["field"], field, "{path}: {body}");
    }
    let (status, body) = get_status(
        &world,
        &token,
        &format!("/v1/dashboards/people/zhang?{march}"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_path");
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_session_is_no_device_cannot_sync_and_is_revocable() {
    let mut world = World::start().await;
    let org = world.org().await;
    let manager = world
        .named_person("li.na", "李娜", org.east_team, "sales_manager")
        .await;
    let phone = world.device(&manager).await;
    let first = browser_login(&world, &manager).await;
    let second = browser_login(&world, &manager).await;
    let account = first["account_id"].as_str().expect("account").to_owned();
    assert!(first.get("device_id").is_none() && first.get("actor_id").is_none());

    // The account's devices are its one phone, however often the browser signs in.
    let devices = world
        .http
        .get(format!(
            "{}/v1/admin/accounts/{account}/devices",
            world.base
        ))
        .bearer_auth(&world.admin_token)
        .send()
        .await
        .expect("devices")
        .json::<Value>()
        .await
        .expect("JSON");
    assert_eq!(devices.as_array().map(Vec::len), Some(1), "{devices}");

    let token = first["token"].as_str().expect("token").to_owned();
    let (status, session) = get_status(&world, &token, "/v1/auth/session").await;
    assert_eq!(status, 200);
    assert!(session.get("device_id").is_none(), "{session}");
    let (status, _) = get_status(&world, &token, "/v1/dashboards/org").await;
    assert_eq!(status, 200, "a browser reads the dashboards");

    // It cannot sync: refused before the body is read.
    let refused = world
        .http
        .post(format!("{}/v1/sync", world.base))
        .bearer_auth(&token)
        .header("content-type", "application/vnd.fieldsales.sync+cbor")
        .body(vec![0u8; 16])
        .send()
        .await
        .expect("sync");
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(body["code"], "device_required");

    // Signing out ends this session only.
    let out = world
        .http
        .post(format!("{}/v1/auth/logout", world.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), 204);
    let (status, body) = get_status(&world, &token, "/v1/dashboards/org").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_revoked"))
    );
    let other = second["token"].as_str().expect("token").to_owned();
    assert_eq!(
        get_status(&world, &other, "/v1/dashboards/org").await.0,
        200
    );

    // An admin signs the account out of every browser; the phone keeps working.
    let (status, body) = world
        .admin(
            &format!("/v1/admin/accounts/{account}/browser-sessions/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revoked"], 1);
    assert_eq!(
        get_status(&world, &other, "/v1/dashboards/org").await.0,
        401
    );
    let phone_token = fieldsales_tests::token_of(&phone);
    assert_eq!(
        get_status(&world, &phone_token, "/v1/dashboards/org")
            .await
            .0,
        200
    );
    let (status, body) = world
        .admin(
            &format!(
                "/v1/admin/accounts/{}/browser-sessions/revoke",
                RecordId::new()
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("account_not_found"))
    );
    world.stop().await;
}

// ---------------------------------------------------------------------------------------------
// In the browser.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_drills_from_the_team_to_a_reps_flagged_check_in() {
    let Seeded {
        world,
        manager,
        rep,
        north_rep,
        flagged_visit,
        ..
    } = seeded().await;
    let r = range();
    let browser = Chromedriver::start().await;
    browser.viewport(1440, 900, false).await;
    browser
        .go(&format!(
            "{}/dashboard?from={}&to={}",
            world.base, r.from, r.to
        ))
        .await;
    sign_in_on_page(&browser, &manager).await;

    // The header names the person, not their login.
    let header = browser.text("header").await;
    assert_eq!(browser.text("#signed-in-as").await, "李娜");
    assert!(!header.contains("li.na"), "{header}");

    // The team's rows: its rep (and the manager), with the rep's flagged check-in counted.
    let row = format!("#reps tr[data-rep-id='{}']", rep.profile);
    let cells = browser.text(&row).await;
    assert!(cells.starts_with("張偉"), "{cells}");
    let flagged = browser
        .script(&format!(
            "return document.querySelector(\"{row}\").classList.contains('flagged')"
        ))
        .await;
    assert_eq!(
        flagged,
        Value::Bool(true),
        "the rep's row is marked flagged"
    );
    assert!(
        browser.text("#flagged-list").await.contains("張偉"),
        "the flagged check-ins list the rep"
    );
    fits_a_phone(&browser, "manager-team").await;

    // Down to the rep, then to the flagged check-in.
    browser.click(&format!("{row} a.drill")).await;
    browser
        .wait_url_contains(&format!("rep={}", rep.profile))
        .await;
    browser.wait_ready().await;
    assert!(browser.text("#crumbs").await.contains("張偉"));
    let title = browser.text("#person-title").await;
    assert!(
        title.contains("張偉") && title.contains("上海一组"),
        "{title}"
    );
    // The rep's map: their one trusted fix in Shanghai, the mock one in Beijing listed aside.
    let outliers = browser
        .script("return [...document.querySelectorAll('#map-outliers li.outlier')].map(l => l.dataset.visitId)")
        .await;
    assert_eq!(outliers, json!([flagged_visit.to_string()]));
    assert_eq!(
        browser
            .script("return document.querySelector('#map svg').dataset.bulk")
            .await,
        json!("1")
    );
    let flagged_row = format!("#person-visits tr.visit.flagged[data-visit-id='{flagged_visit}']");
    browser.click(&flagged_row).await;
    let detail = browser
        .script("return document.getElementById('visit-detail').dataset.visitId")
        .await;
    assert_eq!(detail, Value::String(flagged_visit.to_string()));
    let flags = browser
        .script("return [...document.querySelectorAll('#visit-detail [data-flag]')].map(e => e.dataset.flag)")
        .await;
    let flags: Vec<String> = serde_json::from_value(flags).expect("flags");
    assert!(flags.iter().any(|f| f == "mock_location"), "{flags:?}");
    let detail = browser.text("#visit-detail").await;
    assert!(
        detail.contains("模拟定位"),
        "the flag in Simplified Chinese: {detail}"
    );
    assert!(
        browser
            .current_url()
            .await
            .contains(&format!("visit={flagged_visit}")),
        "the check-in is kept in the URL"
    );
    fits_a_phone(&browser, "manager-rep").await;

    // A rep of North: none of East's names anywhere on the page.
    browser.click("#sign-out").await;
    browser
        .go(&format!(
            "{}/dashboard?from={}&to={}",
            world.base, r.from, r.to
        ))
        .await;
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
async fn a_director_compares_two_periods_drills_into_a_team_and_exports() {
    let Seeded {
        world,
        director,
        taipei,
        flagged_visit,
        ..
    } = seeded().await;
    let r = range();
    let before = DateRange::new(r.from.pred().pred().pred(), r.from.pred()).expect("previous");
    let token = login(&world, &director).await;
    let now = server_dashboards(&world, &token).await;
    let q = format!("from={}&to={}&group_by=rep", before.from, before.to);
    let then: VisitsDashboard =
        get_json(&world, &token, &format!("/v1/dashboards/visits?{q}")).await;
    assert_eq!(
        then.total.check_ins, 1,
        "the Taipei rep's check-in three days before"
    );

    let browser = Chromedriver::start().await;
    browser.viewport(1440, 900, false).await;
    browser
        .go(&format!(
            "{}/dashboard?from={}&to={}&compare=1",
            world.base, r.from, r.to
        ))
        .await;
    sign_in_on_page(&browser, &director).await;
    assert_eq!(browser.text("#signed-in-as").await, "陳建國");

    // This period beside the previous one.
    assert_eq!(
        browser.text("#visits-total").await,
        now.visits.total.check_ins.to_string()
    );
    let previous = browser
        .script("return document.getElementById('visits-total-prev').dataset.previous")
        .await;
    assert_eq!(previous, Value::String("1".to_owned()));
    let compared = browser
        .script("return document.getElementById('dashboard').dataset.compare")
        .await;
    assert_eq!(
        compared,
        Value::String(format!("{}/{}", before.from, before.to))
    );
    let late_before = browser
        .script("return document.getElementById('late-count-prev').dataset.previous")
        .await;
    assert_eq!(late_before, Value::String("0".to_owned()));

    // Teams, not a flat list of reps.
    let rows = browser
        .script("return [...document.querySelectorAll('#reps tbody tr')].map(r => [r.dataset.kind, r.querySelector('a').textContent])")
        .await;
    let rows: Vec<(String, String)> = serde_json::from_value(rows).expect("rows");
    assert!(
        rows.contains(&("unit".to_owned(), "上海一组".to_owned())),
        "{rows:?}"
    );
    assert!(
        rows.contains(&("unit".to_owned(), "臺北一組".to_owned())),
        "{rows:?}"
    );
    assert!(
        !rows.iter().any(|(_, n)| n == "張偉" || n == "张伟"),
        "{rows:?}"
    );

    // The map: the Beijing check-in is listed as an outlier, the bulk is not a dot.
    let outliers = browser
        .script("return [...document.querySelectorAll('#map-outliers li.outlier')].map(l => l.dataset.visitId)")
        .await;
    assert_eq!(outliers, json!([flagged_visit.to_string()]));
    let spread = browser
        .script(
            "const c = [...document.querySelectorAll('#map circle.point, #map circle.cluster')]\
               .map(e => [Number(e.getAttribute('cx')), Number(e.getAttribute('cy'))]);\
             let most = 0;\
             for (const a of c) for (const b of c) most = Math.max(most, Math.hypot(a[0] - b[0], a[1] - b[1]));\
             return [c.length, most];",
        )
        .await;
    assert_eq!(spread[0], json!(2), "the two Shanghai check-ins: {spread}");
    assert!(
        spread[1].as_f64().unwrap_or(0.0) > 150.0,
        "900 m apart, drawn far apart: {spread}"
    );

    // The days and the comparison survive a reload.
    let url = browser.current_url().await;
    assert!(
        url.contains("compare=1") && url.contains(&format!("from={}", r.from)),
        "{url}"
    );
    browser.reload().await;
    assert_eq!(
        browser
            .script("return document.getElementById('compare').checked")
            .await,
        Value::Bool(true)
    );
    assert_eq!(
        browser
            .script("return document.getElementById('from').value")
            .await,
        Value::String(r.from.to_string())
    );
    fits_a_phone(&browser, "director-compare").await;

    // Export what is shown.
    browser.click("#export").await;
    browser
        .wait_for("return document.getElementById('export').dataset.exported || ''")
        .await;

    // Into the Taipei team: its rep, with the region in the breadcrumbs.
    browser
        .click(&format!("#reps tr[data-unit-id='{taipei}'] a.drill"))
        .await;
    browser.wait_url_contains(&format!("unit={taipei}")).await;
    browser.wait_ready().await;
    let crumbs = browser.text("#crumbs").await;
    assert!(
        crumbs.contains("华东大区") && crumbs.contains("臺北一組"),
        "{crumbs}"
    );
    let reps = browser.text("#reps").await;
    assert!(reps.contains("张伟") && !reps.contains("張偉"), "{reps}");
    assert_eq!(browser.text("#visits-total").await, "1");

    // A preset replaces the days, and the URL says so.
    browser.click("[data-preset='week']").await;
    browser.wait_url_contains("preset=week").await;
    browser.wait_ready().await;
    browser.quit().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simplified_chinese_page_draws_simplified_glyphs_and_english_is_english() {
    let world = World::start().await;
    let browser = Chromedriver::start().await;
    browser.go(&format!("{}/dashboard", world.base)).await;
    assert_eq!(
        browser.script("return document.documentElement.lang").await,
        Value::String("zh-Hans".to_owned())
    );
    let stack = browser
        .script("return getComputedStyle(document.body).fontFamily")
        .await;
    let stack = stack.as_str().expect("font stack").to_owned();
    let families: Vec<String> = stack
        .split(',')
        .map(|f| f.trim().trim_matches('"').to_owned())
        .collect();
    assert!(families[0].ends_with(" SC"), "Simplified first: {stack}");
    let cjk = |f: &String| {
        [
            "SC", "TC", "HK", "GB", "JP", "KR", "YaHei", "JhengHei", "CN", "Hei",
        ]
        .iter()
        .any(|m| f.contains(m))
    };
    let first_cjk = families.iter().find(|f| cjk(f)).expect("a CJK font");
    assert!(first_cjk.ends_with(" SC"), "{stack}");
    for f in &families {
        assert!(
            !f.contains("TC") && !f.contains("HK") && !f.contains("JhengHei"),
            "no Traditional font in a zh-Hans page: {stack}"
        );
    }
    // The font the heading is really drawn in, as the browser reports it: one of the stack's
    // Simplified fonts (on the test machines, WenQuanYi Micro Hei), never a Traditional one.
    let fonts = browser.platform_fonts("h1").await;
    assert!(!fonts.is_empty(), "chromium reports the heading's font");
    for font in &fonts {
        assert!(
            families.iter().any(|f| f == font),
            "{font} is not of the page's stack: {stack}"
        );
        assert!(!font.contains("TC") && !font.contains("HK"), "{fonts:?}");
    }
    assert_eq!(browser.text("h1").await, "销售看板");

    browser
        .go(&format!("{}/dashboard?lang=en", world.base))
        .await;
    assert_eq!(browser.text("h1").await, "Sales dashboard");
    assert_eq!(browser.text("#sign-in").await, "Sign in");
    assert_eq!(
        browser.script("return document.documentElement.lang").await,
        Value::String("en".to_owned())
    );
    browser.quit().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_the_admin_console_are_served_by_the_server_under_a_strict_policy() {
    let world = World::start().await;
    for (path, kind) in [
        ("/dashboard", "text/html"),
        ("/dashboard/dashboard.js", "text/javascript"),
        ("/dashboard/dashboard.css", "text/css"),
        ("/admin", "text/html"),
        ("/admin/admin.js", "text/javascript"),
        ("/admin/admin.css", "text/css"),
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
