//! The same dashboards on a manager's phone after sync and on the server, and the scope each
//! role reads.

use std::sync::Arc;

use fieldsales_core::dashboard::attention::attention;
use fieldsales_core::dashboard::funnel::funnel;
use fieldsales_core::dashboard::reports::reports;
use fieldsales_core::dashboard::targets::targets;
use fieldsales_core::dashboard::visits::{Granularity, visit_map_points, visits};
use fieldsales_core::dashboard::{DashboardRequest, DateRange, GroupBy, META_LAST_SYNC};
use fieldsales_core::engine::Engine;
use fieldsales_core::fieldwork::{FenceStatus, ReportState as Compliance};
use fieldsales_core::record::opportunity::OutcomeKind;
use fieldsales_core::store::Store;
use fieldsales_core::time::ManualClock;
use fieldsales_core::{RecordId, testing};
use serde_json::{Value, json};

use crate::dashboard_world::{Desk, World, ask, cny, march, sh, week};

/// A little of everything for every rep: a deal each (one won), a check-in each, a report
/// each Monday, a target each, a lapsed lead each.
fn world() -> World {
    let mut w = World::new();
    let reps = [(w.alice, 1), (w.bob, 2), (w.carol, 3), (w.dan, 4)];
    for (rep, n) in reps {
        w.deal(
            rep,
            &format!("deal {n}"),
            100_000 * n,
            &[("opportunity", "2026-03-09 09:00")],
            None,
        );
        w.deal(
            rep,
            &format!("won {n}"),
            10_000 * n,
            &[("bidding", "2026-03-02 09:00"), ("won", "2026-03-11 10:00")],
            Some(OutcomeKind::Won),
        );
        let c = w.customer(rep, &format!("客户 {n}"));
        w.plan(rep, march(10), &[c]);
        w.check_in(
            rep,
            c,
            "2026-03-10 10:00",
            Some(FenceStatus::Inside),
            &[],
            Some(30),
        );
        w.report(rep, march(9), Some((Compliance::OnTime, 0)));
        w.put(testing::target(rep, cny(1_000_000)));
        let mut l = testing::lead(rep, &format!("线索 {n}"));
        l.assigned_at = Some(sh("2026-02-01 09:00"));
        w.put(l);
    }
    w
}

/// Every dashboard for `user` over `store`, as the JSON the server's API would send.
fn all_dashboards(w: &World, store: &Store, user: RecordId) -> Value {
    let desk = Desk::new(w, store, user, sh("2026-03-16 10:00"));
    let ctx = desk.ctx(store);
    let mut out = serde_json::Map::new();
    for by in [GroupBy::Rep, GroupBy::Team, GroupBy::Region] {
        let req = ask(week(), by);
        let key = serde_json::to_string(&by).unwrap();
        out.insert(format!("funnel {key}"), json!(funnel(&ctx, &req).unwrap()));
        out.insert(
            format!("visits {key}"),
            json!(visits(&ctx, &req, Granularity::Day).unwrap()),
        );
        out.insert(
            format!("reports {key}"),
            json!(reports(&ctx, &req).unwrap()),
        );
        out.insert(
            format!("targets {key}"),
            json!(targets(&ctx, &req).unwrap()),
        );
    }
    out.insert("attention".into(), json!(attention(&ctx, week()).unwrap()));
    out.insert(
        "map".into(),
        json!(visit_map_points(&ctx, week(), 1_000, None).unwrap()),
    );
    Value::Object(out)
}

fn rep_names(dashboards: &Value) -> Vec<String> {
    dashboards["funnel \"rep\""]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn after_sync_each_users_phone_shows_what_the_server_shows_for_that_user() {
    let w = world();
    let server = w.server();
    for user in [w.alice, w.mia, w.eve, w.hank] {
        let phone = w.phone(user);
        let on_phone = all_dashboards(&w, &phone, user);
        let on_server = all_dashboards(&w, &server, user);
        assert_eq!(on_phone, on_server, "field for field");
        assert!(
            !rep_names(&on_phone).is_empty(),
            "the comparison is over real numbers"
        );
    }
}

#[test]
fn each_role_reads_its_own_scope() {
    let w = world();
    let server = w.server();
    let names = |user| rep_names(&all_dashboards(&w, &server, user));
    assert_eq!(names(w.alice), ["Alice"], "a rep: only her own numbers");
    assert_eq!(
        names(w.mia),
        ["Alice", "Bob"],
        "a team manager: not team A2"
    );
    assert_eq!(
        names(w.eve),
        ["Alice", "Bob", "Carol"],
        "a director: not the South"
    );
    assert_eq!(names(w.hank), ["Alice", "Bob", "Carol", "Dan"]);

    let eve = all_dashboards(&w, &server, w.eve);
    // 100k + 200k + 300k open, Dan's 400k left out.
    assert_eq!(
        eve["funnel \"region\""]["total"]["pipeline"],
        json!({"minor": 60_000_000, "currency": "CNY"})
    );
    let visits_total = &eve["visits \"team\""]["total"];
    assert_eq!(visits_total["check_ins"], json!(3));
    assert_eq!(visits_total["planned_done"], json!(3));
    let leaders: Vec<&str> = eve["targets \"rep\""]["leaderboard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        leaders,
        ["Carol", "Bob", "Alice"],
        "30k, 20k, 10k won of 1M each"
    );
    assert_eq!(
        eve["attention"]["leads_due_for_reclaim_total"],
        json!(3),
        "the South's lapsed lead is not hers"
    );
}

#[test]
fn the_json_is_snake_case_with_minor_units_and_epoch_milliseconds() {
    let w = world();
    let server = w.server();
    let all = all_dashboards(&w, &server, w.mia);
    let funnel = &all["funnel \"team\""];
    assert_eq!(funnel["group_by"], json!("team"));
    assert_eq!(
        funnel["range"],
        json!({"from": "2026-03-09", "to": "2026-03-15"})
    );
    assert_eq!(
        funnel["data_as_of"],
        json!(sh("2026-03-16 09:55").millis()),
        "epoch milliseconds"
    );
    assert_eq!(
        funnel["total"]["won_amount"],
        json!({"minor": 3_000_000, "currency": "CNY"})
    );
    let point = &all["map"]["points"][0];
    assert_eq!(point["fence"], json!("inside"));
    assert_eq!(point["at"], json!(sh("2026-03-10 10:00").millis()));
    // A request as a browser sends it.
    let req: DashboardRequest = serde_json::from_value(
        json!({"range": {"from": "2026-03-09", "to": "2026-03-15"}, "group_by": "region"}),
    )
    .unwrap();
    assert_eq!(req, ask(week(), GroupBy::Region));
}

#[test]
fn a_range_that_ends_before_it_starts_is_refused() {
    assert!(DateRange::new(march(15), march(9)).is_err());
    let bad = serde_json::from_value::<DashboardRequest>(
        json!({"range": {"from": "2026-03-15", "to": "2026-03-09"}, "group_by": "rep"}),
    );
    assert!(bad.is_err());
    assert!(DateRange::new(march(1), march(1).succ()).is_ok());
}

#[test]
fn the_engine_states_the_time_of_the_last_sync() {
    let w = world();
    let clock = Arc::new(ManualClock::new(sh("2026-03-16 10:00")));
    let mut phone = Store::open_in_memory_with_clock(clock).unwrap();
    phone.create_batch(w.visible_to(w.mia)).unwrap();
    let mut engine = Engine::new(phone, w.me(w.mia)).unwrap();
    let req = ask(week(), GroupBy::Rep);

    assert_eq!(
        engine.funnel_dashboard(&req).unwrap().data_as_of,
        None,
        "never synced"
    );

    let synced = sh("2026-03-16 08:30");
    engine
        .store_mut()
        .set_meta(META_LAST_SYNC, &serde_json::to_vec(&synced).unwrap())
        .unwrap();
    let f = engine.funnel_dashboard(&req).unwrap();
    assert_eq!(f.data_as_of, Some(synced));
    assert_eq!(f.total.pipeline, cny(300_000));
    let v = engine.visits_dashboard(&req, Granularity::Week).unwrap();
    assert_eq!((v.data_as_of, v.total.check_ins), (Some(synced), 2));
    let map = engine.visit_map_points(week(), 10, None).unwrap();
    assert_eq!((map.data_as_of, map.points.len()), (Some(synced), 2));
    let r = engine.report_dashboard(&req).unwrap();
    assert_eq!(r.data_as_of, Some(synced));
    // Monday on time; Tuesday to Friday missing for Alice and Bob (the weekend is owed
    // nothing): 4 days × 2 × ¥30.
    assert_eq!(r.total.on_time, 2);
    assert_eq!(r.total.missing_unfiled, 8);
    assert_eq!(r.total.penalties, cny(240));
    let t = engine.target_dashboard(&req).unwrap();
    assert_eq!((t.data_as_of, t.leaderboard.len()), (Some(synced), 2));
    let a = engine.attention_list(week()).unwrap();
    assert_eq!(
        (a.data_as_of, a.leads_due_for_reclaim_total),
        (Some(synced), 2)
    );
}
