//! Connections that die after the server committed, a server killed mid-sync, replayed
//! pushes: after retrying, nothing is lost and nothing is duplicated.

use fieldsales_core::record::Customer;
use fieldsales_core::store::StoreRead;
use fieldsales_core::sync::protocol::SyncRequest;
use fieldsales_core::sync::{self, CancelToken, SyncError, SyncOptions};
use fieldsales_core::testing::customer;
use fieldsales_tests::proxy::Proxy;
use fieldsales_tests::{World, push_of, quick, raw_sync, records, sync, token_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_is_lost_after_the_server_committed_and_the_retry_duplicates_nothing() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let m = world
        .person("manager", org.east_team, "sales_manager")
        .await;
    let proxy = Proxy::start(world.addr).await;
    let mut phone = world.device_via(&li, &proxy.base).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            phone
                .store_mut()
                .create(customer(li.profile, &format!("宁波港口物流{i}号有限公司")))
                .expect("created")
                .header
                .id,
        );
    }
    let before_heads: Vec<_> = ids
        .iter()
        .map(|id| phone.store().heads(*id).expect("heads"))
        .collect();
    proxy.cut_next_answers(1);
    let report = sync(&mut phone).await;
    assert!(
        report.progress.requests >= 2,
        "the first answer was lost: {report:?}"
    );
    assert!(phone.store().pending().expect("outbox").is_empty());

    let server = world.server_records();
    for (id, heads) in ids.iter().zip(&before_heads) {
        let on_server: Customer = server.get(*id).expect("stored once");
        assert_eq!(on_server.header.owner_id, Some(li.profile));
        let mut doc =
            automerge::AutoCommit::load(&server.document_bytes(*id).expect("doc").expect("some"))
                .expect("loads");
        assert_eq!(
            doc.get_changes(&[]).len(),
            2,
            "the rep's creation and the server's attribution, once each"
        );
        assert!(heads.iter().all(|h| doc.get_change_by_hash(h).is_some()));
    }
    let mut boss = world.device(&m).await;
    sync(&mut boss).await;
    let customers = records(boss.store())
        .values()
        .filter(|r| r.kind() == fieldsales_core::record::Kind::Customer)
        .count();
    assert_eq!(customers, 20);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_an_identical_push_changes_nothing() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let m = world
        .person("manager", org.east_team, "sales_manager")
        .await;
    let mut phone = world.device(&li).await;
    let mut boss = world.device(&m).await;
    let id = phone
        .store_mut()
        .create(customer(li.profile, "温州瓯江阀门有限公司"))
        .expect("created")
        .header
        .id;
    let mut request = SyncRequest::new(0);
    request.push.push(push_of(&phone, id));
    let token = token_of(&phone);
    let first = raw_sync(&world, &token, &request).await;
    assert_eq!(first.acks.len(), 1);
    sync(&mut boss).await;
    let server_doc = world.server_records().document_bytes(id).expect("doc");
    let boss_cursor = sync::cursor(boss.store()).expect("cursor");

    for _ in 0..2 {
        let again = raw_sync(&world, &token, &request).await;
        assert_eq!(again.acks, first.acks, "acknowledged again, the same way");
        assert!(again.rejected.is_empty());
    }
    assert_eq!(
        world.server_records().document_bytes(id).expect("doc"),
        server_doc
    );
    let report = sync(&mut boss).await;
    assert_eq!(report.progress.records_down, 0, "nothing new for anyone");
    assert_eq!(sync::cursor(boss.store()).expect("cursor"), boss_cursor);
    world.stop().await;
}

/// The device works out its offers a slice of the outbox at a time; a request's limits
/// (records and bytes) cut across the slices, and what a full request leaves is offered by
/// the next one: every record arrives once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_bigger_than_a_request_goes_in_several_and_every_record_arrives_once() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let m = world
        .person("manager", org.east_team, "sales_manager")
        .await;
    let mut phone = world.device(&li).await;
    let mut ids = Vec::new();
    for i in 0..150 {
        let created = phone
            .store_mut()
            .create(customer(li.profile, &format!("芜湖第{i}精密机械厂")))
            .expect("created");
        ids.push(created.header.id);
    }
    let one = phone
        .store()
        .offerable_changes(ids[0], &phone.store().own_actors().expect("actors"))
        .expect("offer")
        .bytes
        .len();
    // By bytes: about seven records a request; then by count: 45 a request.
    for (round, options) in [
        SyncOptions {
            push_bytes: one * 7,
            ..quick()
        },
        SyncOptions {
            push_records: 45,
            ..quick()
        },
    ]
    .into_iter()
    .enumerate()
    {
        if round == 1 {
            for id in &ids {
                phone
                    .store_mut()
                    .update::<Customer>(*id, |c| {
                        c.tier = Some("重点".into());
                        Ok(())
                    })
                    .expect("edited");
            }
        }
        let report = sync::sync_now(&mut phone, &options, &|_| {}, &CancelToken::new())
            .await
            .expect("synced");
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        assert_eq!(
            report.progress.records_up, 150,
            "each record pushed once: {report:?}"
        );
        let least = if round == 0 { 150 / 8 } else { 4 };
        assert!(
            report.progress.requests >= least,
            "the limit cut the outbox into requests: {} requests",
            report.progress.requests
        );
        assert!(phone.store().pending().expect("outbox").is_empty());
    }
    let mut boss = world.device(&m).await;
    sync(&mut boss).await;
    let held = records(boss.store());
    for id in &ids {
        match held.get(id) {
            Some(fieldsales_core::record::AnyRecord::Customer(c)) => {
                assert_eq!(c.tier.as_deref(), Some("重点"), "{id} has its edit")
            }
            other => panic!("{id} arrived as {other:?}"),
        }
    }
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_is_killed_mid_sync_and_after_a_restart_nothing_is_lost_or_doubled() {
    let mut world = World::start_process(env!("CARGO_BIN_EXE_fieldsales-test-server")).await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let m = world
        .person("manager", org.east_team, "sales_manager")
        .await;
    let mut phone = world.device(&li).await;
    let mut ids = Vec::new();
    for i in 0..300 {
        ids.push(
            phone
                .store_mut()
                .create(customer(li.profile, &format!("合肥科技园{i}号企业")))
                .expect("created")
                .header
                .id,
        );
    }
    // Small pushes, so the sync takes many rounds; the server dies after the third page.
    let options = SyncOptions {
        push_records: 20,
        max_attempts: 2,
        ..quick()
    };
    let pid = world.server_pid();
    let killed = std::sync::atomic::AtomicBool::new(false);
    let outcome = sync::sync_now(
        &mut phone,
        &options,
        &|p| {
            if p.pages == 3 && !killed.swap(true, std::sync::atomic::Ordering::SeqCst) {
                fieldsales_tests::kill_pid(pid);
            }
        },
        &CancelToken::new(),
    )
    .await;
    assert!(
        matches!(outcome, Err(SyncError::Offline { .. })),
        "{outcome:?}"
    );
    let left = phone.store().pending().expect("outbox").len();
    assert!(
        left > 0 && left < 300,
        "part was pushed before the crash: {left} left"
    );

    world.restart().await;
    let report = sync(&mut phone).await;
    assert!(report.rejected.is_empty());
    assert!(phone.store().pending().expect("outbox").is_empty());
    let mut boss = world.device(&m).await;
    sync(&mut boss).await;
    let held = records(boss.store());
    for id in &ids {
        assert!(held.contains_key(id), "{id} survived");
    }
    let customers = held
        .values()
        .filter(|r| r.kind() == fieldsales_core::record::Kind::Customer)
        .count();
    assert_eq!(customers, 300, "none lost, none doubled");
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_server_is_left_alone_for_as_long_as_its_retry_after_says() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let proxy = Proxy::start(world.addr).await;
    let mut phone = world.device_via(&li, &proxy.base).await;
    phone
        .store_mut()
        .create(customer(li.profile, "宁波港口物流有限公司"))
        .expect("created");
    // Backoff alone would come back after 10 to 15 ms; the server asks for 2 s.
    let options = SyncOptions {
        max_attempts: 4,
        initial_backoff: std::time::Duration::from_millis(10),
        max_backoff: std::time::Duration::from_secs(5),
        ..quick()
    };
    // The sign-in's kept-alive connection goes, so the sync opens a new one.
    proxy.close_connections();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let before = proxy.connection_times().len();
    proxy.answer_busy_next(1, 2);
    let report = sync::sync_now(&mut phone, &options, &|_| {}, &CancelToken::new())
        .await
        .expect("synced after the busy answer");
    assert!(report.progress.requests >= 2, "{report:?}");
    assert!(phone.store().pending().expect("outbox").is_empty());
    let times = proxy.connection_times();
    let (busy, retry) = (times[before], times[before + 1]);
    let waited = retry.duration_since(busy);
    assert!(
        waited >= std::time::Duration::from_millis(1_900),
        "came back after {waited:?}, sooner than Retry-After"
    );
    world.stop().await;
}
