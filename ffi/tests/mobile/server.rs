//! The servers the Kotlin sync tests talk to, started by this test process: a real server on
//! loopback with a team (two reps and their manager), finance at headquarters and a catalogue
//! of one product (¥10,000, ¥9,500 for tier-A customers, added by an admin); a second server
//! whose clock stands 14 days after a rep's deal entered its stage, its job having recorded the
//! overdue-stage reminder, with a store signed in to it; and a store signed in to a second server that
//! was then replaced by a listener that accepts connections and never answers. The JVM learns
//! where they are from environment variables.

use std::net::TcpListener;

use fieldsales_core::Clock;
use fieldsales_core::sync::{SignIn, sign_in};
use fieldsales_core::testing;
use fieldsales_core::time::ManualClock;
use fieldsales_tests::{PASSWORD, TENANT, World};

/// Keeps the servers up while the JVM runs.
pub struct Servers {
    _runtime: tokio::runtime::Runtime,
    _world: World,
    _reminders: World,
    _silent: TcpListener,
    _stores: tempfile::TempDir,
    /// `FIELDSALES_TEST_*` variables for the JVM.
    pub env: Vec<(String, String)>,
}

/// Starts both and seeds the team.
pub fn start() -> Servers {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the test servers");
    let stores = tempfile::tempdir().expect("temp dir");
    let silent_store = stores.path().join("silent.sqlite");
    let reminder_store = stores.path().join("reminders.sqlite");
    let (world, reminders, deal, due, silent) = runtime.block_on(async {
        let mut world = World::start().await;
        let org = world.org().await;
        world.person("li.na", org.east_team, "sales_rep").await;
        world.person("zhao.lei", org.east_team, "sales_rep").await;
        let manager = world
            .person("zhou.min", org.east_team, "sales_manager")
            .await;
        world
            .put(
                serde_json::json!({"kind": "org_unit", "id": org.east_team.to_string(),
                "name": "上海一组", "level": "team", "parent_id": org.east.to_string(),
                "manager_id": manager.profile.to_string(), "zone": "Asia/Shanghai"}),
            )
            .await;
        world
            .put(
                serde_json::json!({"kind": "role", "code": "finance", "name": "财务",
                "data_scope": "all"}),
            )
            .await;
        world.person("qian.li", org.hq, "finance").await;
        let admin = world.person("admin.hq", org.hq, "admin").await;
        let mut desk = world.device(&admin).await;
        fieldsales_tests::sync(&mut desk).await;
        desk.create_product(fieldsales_core::testing::product(
            "P-100",
            "销售云专业版",
            fieldsales_core::testing::yuan(10_000),
        ))
        .expect("the catalogue's product");
        let added = fieldsales_tests::sync(&mut desk).await;
        assert!(added.rejected.is_empty(), "{:?}", added.rejected);
        drop(desk);

        // A server whose clock stands 14 days after a rep's deal entered its first stage (the
        // standard process's longest time there): its job recorded the overdue-stage
        // reminder. The store signed in to it is left for the JVM to sync.
        let mut reminders = World::start().await;
        let org = reminders.org().await;
        let sun = reminders.person("sun.li", org.east_team, "sales_rep").await;
        let clock = ManualClock::new(reminders.clock.now());
        let mut phone = reminders.device_on_clock(&sun, &clock).await;
        let mut c = testing::customer(sun.profile, "宁波海通物流有限公司");
        c.header.org_unit_id = Some(org.east_team);
        let c = phone.store_mut().create(c).expect("customer").header.id;
        let mut deal = testing::opportunity(sun.profile, c, "海通 仓储系统", testing::yuan(90_000));
        deal.header.org_unit_id = Some(org.east_team);
        deal.stage_history[0].at = clock.now();
        let deal = phone.store_mut().create(deal).expect("deal").header.id;
        let pushed = fieldsales_tests::sync(&mut phone).await;
        assert!(pushed.rejected.is_empty(), "{:?}", pushed.rejected);
        drop(phone);
        let due = clock.now().plus_millis(14 * 24 * 3_600_000);
        reminders.clock.set(due);
        let run = reminders.run_jobs().await;
        assert_eq!(
            run["stage_reminders"].as_array().map(Vec::len),
            Some(1),
            "the job recorded the reminder: {run}"
        );
        let engine = sign_in(
            &SignIn {
                server_url: reminders.base.clone(),
                tenant: TENANT.into(),
                login: sun.login.clone(),
                password: PASSWORD.into(),
                device_name: "sun.li's phone".into(),
            },
            &reminder_store,
        )
        .await
        .expect("sign-in of the store left for the reminders' server");
        drop(engine);

        let gone = World::start().await;
        let org = gone.org().await;
        gone.person("wang.wei", org.east_team, "sales_rep").await;
        let engine = sign_in(
            &SignIn {
                server_url: gone.base.clone(),
                tenant: TENANT.into(),
                login: "wang.wei".into(),
                password: PASSWORD.into(),
                device_name: "wang.wei's phone".into(),
            },
            &silent_store,
        )
        .await
        .expect("sign-in of the store left for the silent server");
        drop(engine);
        let addr = gone.addr;
        gone.stop().await;
        let silent = TcpListener::bind(addr).expect("the stopped server's port is free");
        (world, reminders, deal, due, silent)
    });
    let env = vec![
        ("FIELDSALES_TEST_SERVER_URL".into(), world.base.clone()),
        ("FIELDSALES_TEST_TENANT".into(), TENANT.into()),
        ("FIELDSALES_TEST_PASSWORD".into(), PASSWORD.into()),
        ("FIELDSALES_TEST_REP".into(), "li.na".into()),
        ("FIELDSALES_TEST_MANAGER".into(), "zhou.min".into()),
        ("FIELDSALES_TEST_OTHER_REP".into(), "zhao.lei".into()),
        ("FIELDSALES_TEST_FINANCE".into(), "qian.li".into()),
        (
            "FIELDSALES_TEST_REMINDER_STORE".into(),
            reminder_store.display().to_string(),
        ),
        ("FIELDSALES_TEST_REMINDER_DEAL".into(), deal.to_string()),
        (
            "FIELDSALES_TEST_REMINDER_AT_MS".into(),
            due.millis().to_string(),
        ),
        (
            "FIELDSALES_TEST_SILENT_STORE".into(),
            silent_store.display().to_string(),
        ),
    ];
    Servers {
        _runtime: runtime,
        _world: world,
        _reminders: reminders,
        _silent: silent,
        _stores: stores,
        env,
    }
}
