//! Three reps and a manager work offline, edit the same customer concurrently, and sync in
//! several orders: every device ends with exactly the server's records that it may see.

use fieldsales_core::engine::Engine;
use fieldsales_core::record::{AnyRecord, Customer};
use fieldsales_core::scope::OrgTree;
use fieldsales_core::store::StoreRead;
use fieldsales_core::sync::{CancelToken, SyncError, SyncOptions};
use fieldsales_core::testing::customer;
use fieldsales_tests::{World, quick, records, sync};

fn server_tree(world: &World) -> OrgTree {
    let server = world.server_records();
    let units: Vec<_> = records(&server)
        .into_values()
        .filter_map(|r| match r {
            AnyRecord::OrgUnit(u) => Some(u),
            _ => None,
        })
        .collect();
    OrgTree::from_units(&units)
}

/// Every device holds exactly what the server says it may see, hydrated identically.
pub(crate) fn assert_converged(world: &World, devices: &[&Engine]) {
    let server = records(&world.server_records());
    let tree = server_tree(world);
    for device in devices {
        let me = device.me();
        let held = records(device.store());
        let visible: Vec<_> = server
            .iter()
            .filter(|(_, r)| tree.can_see(me, r.header()))
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(
            held.keys().copied().collect::<Vec<_>>(),
            visible,
            "device of {} holds exactly what it may see",
            me.user_id
        );
        for (id, record) in &held {
            assert_eq!(
                format!("{record:?}"),
                format!("{:?}", server[id]),
                "record {id} on the device of {}",
                me.user_id
            );
        }
        assert!(device.store().pending().expect("outbox").is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_reps_and_a_manager_edit_offline_and_converge_whatever_the_sync_order() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let wang = world.person("wang.wei", org.east_team, "sales_rep").await;
    let zhao = world.person("zhao.lei", org.east_team, "sales_rep").await;
    let chen = world
        .person("chen.jing", org.east_team, "sales_manager")
        .await;
    let mut rep1 = world.device(&li).await;
    let mut rep2 = world.device(&wang).await;
    let mut rep3 = world.device(&zhao).await;
    let mut manager = world.device(&chen).await;

    // Li Na creates a customer shared with Wang Wei; everyone syncs once.
    let mut shared = customer(li.profile, "上海华通电子有限公司");
    shared.header.shared_with.insert(wang.profile);
    let shared_id = rep1.store_mut().create(shared).expect("created").header.id;
    let own = rep3
        .store_mut()
        .create(customer(zhao.profile, "苏州精工机械有限公司"))
        .expect("created")
        .header
        .id;
    for device in [&mut rep1, &mut rep3, &mut rep2, &mut manager] {
        sync(device).await;
    }
    assert!(rep2.store().get::<Customer>(shared_id).is_ok(), "shared");
    assert!(rep1.store().get::<Customer>(own).is_err(), "not Li Na's");

    // Offline: the same field (tier) by the owner and the manager, other fields by the
    // collaborator and the manager, and new records by everyone.
    let edit = |engine: &mut Engine, f: &dyn Fn(&mut Customer)| {
        engine
            .store_mut()
            .update::<Customer>(shared_id, |c| {
                f(c);
                Ok(())
            })
            .expect("edited offline");
    };
    edit(&mut rep1, &|c| c.tier = Some("B".into()));
    edit(&mut manager, &|c| c.tier = Some("A+".into()));
    edit(&mut rep2, &|c| c.industry = Some("半导体".into()));
    edit(&mut manager, &|c| {
        c.address = Some("上海市浦东新区张江路 88 号".into())
    });
    edit(&mut rep1, &|c| c.short_name = Some("华通".into()));
    rep2.store_mut()
        .create(customer(wang.profile, "杭州云图科技有限公司"))
        .expect("created");
    rep3.store_mut()
        .update::<Customer>(own, |c| {
            c.tier = Some("C".into());
            Ok(())
        })
        .expect("edited");

    // Sync in one order, then another, then once more so everyone hears of everyone.
    for device in [&mut rep2, &mut manager, &mut rep1, &mut rep3] {
        sync(device).await;
    }
    for device in [&mut rep3, &mut rep1, &mut manager, &mut rep2] {
        sync(device).await;
    }
    assert_converged(&world, &[&rep1, &rep2, &rep3, &manager]);

    let merged: Customer = manager.store().get(shared_id).expect("held");
    assert_eq!(merged.industry.as_deref(), Some("半导体"));
    assert_eq!(merged.short_name.as_deref(), Some("华通"));
    assert_eq!(
        merged.address.as_deref(),
        Some("上海市浦东新区张江路 88 号")
    );
    assert!(
        matches!(merged.tier.as_deref(), Some("B" | "A+")),
        "one of the concurrent values wins everywhere: {:?}",
        merged.tier
    );
    assert_eq!(
        manager.store().heads(shared_id).expect("heads"),
        rep1.store().heads(shared_id).expect("heads")
    );
    for device in [&rep1, &rep2, &rep3, &manager] {
        let offset = device.clock_offset().expect("stored").expect("measured");
        assert!(offset.uncertainty_ms >= 0);
        let last = device
            .store()
            .meta(fieldsales_core::sync::META_LAST_SUCCESS)
            .expect("meta")
            .expect("the time of the data is known");
        let at: fieldsales_core::Timestamp = serde_json::from_slice(&last).expect("a timestamp");
        assert_eq!(
            at,
            fieldsales_core::Clock::now(&world.clock),
            "the server's time, not the phone's"
        );
    }
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_first_sync_resumes_from_the_last_committed_page() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let chen = world
        .person("chen.jing", org.east_team, "sales_manager")
        .await;
    let mut rep = world.device(&li).await;
    let batch: Vec<AnyRecord> = (0..120)
        .map(|i| customer(li.profile, &format!("嘉兴南湖纺织{i}号有限公司")).into())
        .collect();
    rep.store_mut().create_batch(batch).expect("created");
    sync(&mut rep).await;

    let mut manager = world.device(&chen).await;
    let small_pages = SyncOptions {
        page_limit: 25,
        ..quick()
    };
    let cancel = CancelToken::new();
    let stop = cancel.clone();
    let outcome = fieldsales_core::sync::sync_now(
        &mut manager,
        &small_pages,
        &move |p| {
            if p.pages == 2 {
                stop.cancel();
            }
        },
        &cancel,
    )
    .await;
    assert!(matches!(outcome, Err(SyncError::Cancelled)), "{outcome:?}");
    let committed = fieldsales_core::sync::cursor(manager.store()).expect("cursor");
    assert!(committed > 0, "two pages stay committed");
    let held_before = records(manager.store()).len();
    assert!(held_before >= 50);

    let report =
        fieldsales_core::sync::sync_now(&mut manager, &small_pages, &|_| {}, &CancelToken::new())
            .await
            .expect("resumed");
    let held = records(manager.store()).len();
    assert_eq!(
        report.progress.records_down as usize,
        held - held_before,
        "nothing already committed was sent again"
    );
    assert_converged(&world, &[&manager]);
    world.stop().await;
}

on_postgres!(
    three_reps_and_a_manager_edit_offline_and_converge_whatever_the_sync_order,
    an_interrupted_first_sync_resumes_from_the_last_committed_page,
);
