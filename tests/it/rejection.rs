//! The server refuses what a device may not do; the device adopts the server's version and
//! keeps the user's refused edit where the user can see it.

use fieldsales_core::record::Visit;
use fieldsales_core::store::StoreRead;
use fieldsales_core::sync::protocol::SyncRequest;
use fieldsales_core::testing::{customer, position_near_shanghai, visit};
use fieldsales_tests::{World, push_of, raw_sync, sync, token_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_carrying_another_devices_changes_is_refused() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let phone = world.device(&li).await;
    let tablet = {
        let mut t = world.device(&li).await;
        t.store_mut()
            .create(customer(li.profile, "无锡新纪元电子有限公司"))
            .expect("created");
        t
    };
    let id = tablet.store().pending().expect("outbox")[0];
    let mut request = SyncRequest::new(0);
    request.push.push(push_of(&tablet, id));
    let answer = raw_sync(&world, &token_of(&phone), &request).await;
    assert!(answer.acks.is_empty());
    assert_eq!(answer.rejected.len(), 1);
    assert_eq!(answer.rejected[0].rule, "sync.foreign_actor");
    assert!(
        answer.rejected[0].server_doc.is_none(),
        "the server never stored it"
    );
    assert!(world.server_records().get_any(id).is_err());
    // The refusal is in the audit log: the rule, and the phone that sent the forged push.
    let phone_id = world.device_id_of(&phone).await;
    let entries = world.audit_of(id).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].operation, "push.rejected");
    assert_eq!(entries[0].rule.as_deref(), Some("sync.foreign_actor"));
    assert_eq!(
        entries[0].device_id.map(|d| d.to_string()),
        Some(phone_id.clone())
    );

    // The tablet's own push of the same changes is accepted, and logged as the tablet's.
    let answer = raw_sync(&world, &token_of(&tablet), &request).await;
    assert_eq!(answer.acks.len(), 1, "{:?}", answer.rejected);
    let tablet_id = world.device_id_of(&tablet).await;
    let created = world.audit_of(id).await.pop().expect("an entry");
    assert_eq!(created.operation, "record.create");
    assert_eq!(
        created.device_id.map(|d| d.to_string()),
        Some(tablet_id.clone())
    );
    assert_ne!(phone_id, tablet_id);
    world.stop().await;
}

/// Changes pushed under another record's id are refused, whether the document they make
/// hydrates or not, and nothing is stored under either id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_pushed_under_another_records_id_are_refused() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let mut phone = world.device(&li).await;
    let id = phone
        .store_mut()
        .create(customer(li.profile, "南通江海船舶有限公司"))
        .expect("created")
        .header
        .id;
    let elsewhere = fieldsales_core::RecordId::new();
    let mut pushed = push_of(&phone, id);
    pushed.id = elsewhere;
    let mut request = SyncRequest::new(0);
    request.push.push(pushed);
    let answer = raw_sync(&world, &token_of(&phone), &request).await;
    assert!(answer.acks.is_empty());
    assert_eq!(answer.rejected.len(), 1);
    assert_eq!(answer.rejected[0].rule, "sync.wrong_record");
    assert_eq!(answer.rejected[0].field.as_deref(), Some("header.id"));
    assert!(world.server_records().get_any(elsewhere).is_err());
    assert!(world.server_records().get_any(id).is_err());

    // Its own push under its own id goes through.
    sync(&mut phone).await;
    assert!(world.server_records().get_any(id).is_ok());
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_a_check_in_after_the_visit_is_refused_and_the_edit_is_kept_as_rejected() {
    let mut world = World::start().await;
    let org = world.org().await;
    let li = world.person("li.na", org.east_team, "sales_rep").await;
    let mut phone = world.device(&li).await;
    let c = phone
        .store_mut()
        .create(customer(li.profile, "常州天宁纺织有限公司"))
        .expect("created");
    let recorded = phone
        .store_mut()
        .create(visit(li.profile, c.header.id))
        .expect("checked in");
    let id = recorded.header.id;
    sync(&mut phone).await;

    let moved = position_near_shanghai(900.0, 5.0);
    phone
        .store_mut()
        .update::<Visit>(id, |v| {
            v.check_in.position = moved;
            Ok(())
        })
        .expect("edited locally");
    let report = sync(&mut phone).await;

    assert_eq!(
        report.rejected,
        vec![(id, "immutable.check_in".to_string())]
    );
    let kept: Visit = phone.store().get(id).expect("the server's version");
    assert_eq!(kept.check_in.position, recorded.check_in.position);
    let server: Visit = world.server_records().get(id).expect("on the server");
    assert_eq!(server.check_in.position, recorded.check_in.position);
    assert!(phone.store().pending().expect("outbox").is_empty());

    let rejected = phone.store().rejected_changes().expect("listed");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].record_id, id);
    assert_eq!(rejected[0].rule, "immutable.check_in");
    assert_eq!(rejected[0].field.as_deref(), Some("check_in.position"));
    assert!(!rejected[0].changes.is_empty());
    match rejected[0].attempted_record() {
        Some(fieldsales_core::record::AnyRecord::Visit(v)) => {
            assert_eq!(v.check_in.position, moved, "the user's edit is kept")
        }
        other => panic!("the attempted visit: {other:?}"),
    }

    // Syncing again changes nothing and refuses nothing.
    let again = sync(&mut phone).await;
    assert!(again.rejected.is_empty());
    assert_eq!(phone.store().rejected_changes().expect("listed").len(), 1);
    world.stop().await;
}

on_postgres!(
    a_push_carrying_another_devices_changes_is_refused,
    changes_pushed_under_another_records_id_are_refused,
    moving_a_check_in_after_the_visit_is_refused_and_the_edit_is_kept_as_rejected,
);
