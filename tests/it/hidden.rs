//! Hidden fields never reach a device: a contact's phone, which the reps' role hides, is in no
//! sync answer a rep's device receives — not in a record, not in its history, not in the raw
//! bytes — whether the rep syncs for the first time, incrementally, after a manager edits the
//! phone, or after the role is changed back to hide it; once the role shows it, the next sync
//! brings it. A modified phone cannot get it either: not by writing the phone into the
//! contact's own document, nor by pushing to the phone's companion, whose ID anyone can derive.

use fieldsales_core::RecordId;
use fieldsales_core::doc::encode_heads;
use fieldsales_core::engine::Engine;
use fieldsales_core::record::private::Value;
use fieldsales_core::record::{Contact, PrivateField, SensitiveField};
use fieldsales_core::store::StoreRead;
use fieldsales_core::sync::protocol::{self, Bytes, PushRecord, SyncRequest, SyncResponse};
use fieldsales_core::testing::{contact, customer};
use fieldsales_tests::proxy::{Proxy, contains};
use fieldsales_tests::{World, raw_sync, sync, token_of};
use serde_json::json;

const FIRST: &str = "+86 139 1111 2222";
const SECOND: &str = "+86 139 3333 4444";
const THIRD: &str = "+86 139 5555 6666";

/// Sets the fields the `sales_rep` role hides.
async fn rep_role_hides(world: &World, fields: &[&str]) {
    world.hide_fields("sales_rep", fields).await;
}

/// The manager sets the contact's phone and syncs.
async fn set_phone(manager: &mut Engine, id: RecordId, phone: &str) {
    sync(manager).await;
    manager
        .store_mut()
        .update::<Contact>(id, |c| {
            c.phone = Some(phone.into());
            Ok(())
        })
        .expect("edited");
    sync(manager).await;
}

/// Every text value any change of any document in a sync answer ever wrote.
fn texts_in_history(answer: &SyncResponse) -> Vec<String> {
    let docs = answer.records.iter().map(|r| r.doc.0.clone()).chain(
        answer
            .rejected
            .iter()
            .filter_map(|r| r.server_doc.as_ref())
            .map(|d| d.0.clone()),
    );
    let mut out = Vec::new();
    for bytes in docs {
        let mut doc = automerge::AutoCommit::load(&bytes).expect("a document");
        for change in doc.get_changes(&[]) {
            for op in change.decode().operations {
                if let automerge::legacy::OpType::Put(automerge::ScalarValue::Str(s)) = op.action {
                    out.push(s.to_string());
                }
            }
        }
    }
    out
}

/// An inflated sync answer, decoded.
fn decoded(body: &[u8]) -> Option<SyncResponse> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(body).expect("compressed");
    protocol::decode(&gz.finish().expect("gzip"), 1 << 26).ok()
}

/// None of `phones` is in `bodies`, raw or in any document's history.
fn assert_absent(bodies: &[Vec<u8>], phones: &[&str], when: &str) {
    assert!(
        !bodies.is_empty(),
        "{when}: the device synced through the proxy"
    );
    let mut answers = 0;
    for body in bodies {
        for phone in phones {
            assert!(
                !contains(body, phone.as_bytes()),
                "{when}: {phone} in a raw answer"
            );
        }
        if let Some(answer) = decoded(body) {
            answers += 1;
            let history = texts_in_history(&answer);
            for phone in phones {
                assert!(
                    !history.iter().any(|t| t.contains(phone)),
                    "{when}: {phone} in a document's history"
                );
            }
        }
    }
    assert!(answers > 0, "{when}: the bodies decode as sync answers");
}

/// The rep's device pushes changes made outside its store (a modified app): the phone written
/// into the contact's own document and taken back at once, so only the history keeps it.
async fn push_phone_into_document(world: &World, phone: &Engine, id: RecordId) -> SyncResponse {
    use automerge::transaction::Transactable;
    let bytes = phone
        .store()
        .document_bytes(id)
        .expect("as expected")
        .expect("held");
    let mut doc = automerge::AutoCommit::load(&bytes)
        .expect("loads")
        .with_actor(phone.store().actor().clone());
    let before = doc.get_heads();
    doc.put(automerge::ROOT, "phone", "+86 130 0000 0000")
        .expect("as expected");
    doc.put(automerge::ROOT, "phone", automerge::ScalarValue::Null)
        .expect("as expected");
    let heads = doc.get_heads();
    let changes: Vec<u8> = doc
        .get_changes(&before)
        .iter()
        .flat_map(|c| c.raw_bytes().to_vec())
        .collect();
    let mut request = SyncRequest::new(0);
    request.push.push(PushRecord {
        id,
        changes: Bytes(changes),
        heads: Bytes(encode_heads(&heads)),
    });
    raw_sync(world, &token_of(phone), &request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_phone_reaches_no_rep_device_until_the_role_shows_it() {
    let mut world = World::start().await;
    let org = world.org().await;
    rep_role_hides(&world, &["contact.phone"]).await;
    let rep = world.person("rep", org.east_team, "sales_rep").await;
    let manager = world
        .person("manager", org.east_team, "sales_manager")
        .await;
    let proxy = Proxy::start(world.addr).await;
    let mut phone = world.device_via(&rep, &proxy.base).await;
    let mut desk = world.device(&manager).await;

    // The rep's customer; the manager adds its buyer with a phone and an e-mail.
    let c = phone
        .store_mut()
        .create(customer(rep.profile, "苏州工业园区恒通电子有限公司"))
        .expect("created");
    sync(&mut phone).await;
    sync(&mut desk).await;
    let mut buyer = contact(rep.profile, c.header.id, "周采购");
    buyer.header.created_by = Some(manager.profile);
    buyer.phone = Some(FIRST.into());
    buyer.email = Some("zhou@hengtong.example".into());
    let buyer = desk.store_mut().create(buyer).expect("created").header.id;
    sync(&mut desk).await;
    assert_eq!(
        world
            .server_records()
            .get::<Contact>(buyer)
            .expect("on the server")
            .phone
            .as_deref(),
        Some(FIRST),
        "the server holds the phone, in its companion"
    );

    // Incremental: the contact arrives, its e-mail too, its phone does not.
    sync(&mut phone).await;
    assert!(phone.me().hidden.hides(SensitiveField::ContactPhone));
    let seen = phone.store().get::<Contact>(buyer).expect("the contact");
    assert_eq!(seen.phone, None);
    assert_eq!(seen.email.as_deref(), Some("zhou@hengtong.example"));
    // A manager edits the phone: still nothing.
    set_phone(&mut desk, buyer, SECOND).await;
    sync(&mut phone).await;
    assert_eq!(
        phone
            .store()
            .get::<Contact>(buyer)
            .expect("as expected")
            .phone,
        None
    );

    // A modified phone writes a phone into the contact's own document: refused, so the
    // value never reaches the server's copy (or anyone's history).
    let answer = push_phone_into_document(&world, &phone, buyer).await;
    assert!(
        answer
            .rejected
            .iter()
            .any(|r| r.id == buyer && r.rule == "field.in_document"),
        "{:?}",
        answer.rejected
    );
    for phone_number in [FIRST, SECOND] {
        assert!(
            !texts_in_history(&answer)
                .iter()
                .any(|t| t.contains(phone_number))
        );
    }
    // Nor by pushing to the phone's companion, whose ID anyone can derive: refused, and the
    // server's version is not sent back.
    let companion_id = SensitiveField::ContactPhone.companion_id(buyer);
    let probe = PrivateField::new(
        SensitiveField::ContactPhone,
        &phone
            .store()
            .get::<Contact>(buyer)
            .expect("as expected")
            .header,
        Value {
            text: Some("+86 131 0000 0000".into()),
            amount: None,
        },
    );
    assert_eq!(probe.header.id, companion_id);
    phone
        .store_mut()
        .create(probe)
        .expect("written on the device");
    let report = sync(&mut phone).await;
    assert!(
        report.rejected.iter().any(|(id, _)| *id == companion_id),
        "{report:?}"
    );
    sync(&mut phone).await;
    assert!(
        phone
            .store()
            .find_any(companion_id)
            .expect("as expected")
            .is_none(),
        "the refused companion left the device, and the server's never came"
    );
    assert_eq!(
        world
            .server_records()
            .get::<Contact>(buyer)
            .expect("as expected")
            .phone
            .as_deref(),
        Some(SECOND),
        "the server's phone is untouched"
    );
    let before_reveal = proxy.response_bodies().len();
    assert_absent(&proxy.response_bodies(), &[FIRST, SECOND], "hidden");

    // The role shows phones: the next sync brings it.
    rep_role_hides(&world, &[]).await;
    sync(&mut phone).await;
    assert!(!phone.me().hidden.hides(SensitiveField::ContactPhone));
    assert_eq!(
        phone
            .store()
            .get::<Contact>(buyer)
            .expect("as expected")
            .phone
            .as_deref(),
        Some(SECOND)
    );

    // Hidden again: the phone leaves the device at the next sync, and later edits never come.
    rep_role_hides(&world, &["contact.phone"]).await;
    let before_hiding = proxy.response_bodies().len();
    sync(&mut phone).await;
    assert_eq!(
        phone
            .store()
            .get::<Contact>(buyer)
            .expect("as expected")
            .phone,
        None
    );
    assert!(
        phone
            .store()
            .find_any(companion_id)
            .expect("as expected")
            .is_none()
    );
    set_phone(&mut desk, buyer, THIRD).await;
    sync(&mut phone).await;
    assert_eq!(
        phone
            .store()
            .get::<Contact>(buyer)
            .expect("as expected")
            .phone,
        None
    );
    let bodies = proxy.response_bodies();
    assert_absent(
        &bodies[before_hiding..],
        &[FIRST, SECOND, THIRD],
        "hidden again",
    );
    assert_absent(&bodies, &[THIRD], "all along");
    assert!(
        bodies[before_reveal..before_hiding]
            .iter()
            .any(|b| contains(b, SECOND.as_bytes())),
        "the phone (with its history) came while the role showed it"
    );

    // A second rep's first sync: the contact (shared with them) without any phone.
    let other = world.person("rep.b", org.east_team, "sales_rep").await;
    desk.store_mut()
        .update::<Contact>(buyer, |c| {
            c.header.shared_with.insert(other.profile);
            Ok(())
        })
        .expect("shared");
    sync(&mut desk).await;
    let initial = Proxy::start(world.addr).await;
    let mut second = world.device_via(&other, &initial.base).await;
    sync(&mut second).await;
    assert_eq!(
        second
            .store()
            .get::<Contact>(buyer)
            .expect("as expected")
            .email
            .as_deref(),
        Some("zhou@hengtong.example")
    );
    assert_eq!(
        second
            .store()
            .get::<Contact>(buyer)
            .expect("as expected")
            .phone,
        None
    );
    assert_absent(
        &initial.response_bodies(),
        &[FIRST, SECOND, THIRD],
        "initial",
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_colleagues_phone_stays_on_the_server_and_a_deleted_contact_takes_its_phone_along() {
    let mut world = World::start().await;
    let org = world.org().await;
    rep_role_hides(&world, &["contact.phone", "user.phone", "user.email"]).await;
    let rep = world.person("rep", org.east_team, "sales_rep").await;
    let manager = world
        .person_with(
            "manager",
            "刘经理",
            org.east_team,
            "sales_manager",
            json!({"phone": "+86 138 7777 8888", "email": "liu@company.example"}),
        )
        .await;
    let proxy = Proxy::start(world.addr).await;
    let mut phone = world.device_via(&rep, &proxy.base).await;
    let mut desk = world.device(&manager).await;
    sync(&mut phone).await;
    sync(&mut desk).await;
    let seen = phone
        .store()
        .get::<fieldsales_core::record::UserProfile>(manager.profile)
        .expect("the directory has the manager");
    assert_eq!(seen.name, "刘经理");
    assert_eq!((seen.phone, seen.email), (None, None));
    let known = desk
        .store()
        .get::<fieldsales_core::record::UserProfile>(manager.profile)
        .expect("the manager's own profile");
    assert_eq!(
        known.phone.as_deref(),
        Some("+86 138 7777 8888"),
        "managers see phones"
    );
    assert_absent(
        &proxy.response_bodies(),
        &["+86 138 7777 8888", "liu@company.example"],
        "the directory",
    );

    // The manager gives the rep's customer a contact with a phone; the rep deletes the
    // contact, whose phone the rep's device never held: the server deletes the phone's
    // companion with it.
    let c = phone
        .store_mut()
        .create(customer(rep.profile, "宁波港联物流有限公司"))
        .expect("created");
    sync(&mut phone).await;
    sync(&mut desk).await;
    let mut buyer = contact(rep.profile, c.header.id, "孙采购");
    buyer.header.created_by = Some(manager.profile);
    buyer.phone = Some(FIRST.into());
    let buyer = desk.store_mut().create(buyer).expect("created").header.id;
    sync(&mut desk).await;
    sync(&mut phone).await;
    let companion = SensitiveField::ContactPhone.companion_id(buyer);
    assert!(
        phone
            .store()
            .find_any(companion)
            .expect("as expected")
            .is_none()
    );
    phone
        .store_mut()
        .delete(buyer, Some(rep.profile), Some("离职".into()))
        .expect("deleted");
    sync(&mut phone).await;
    let server = world.server_records();
    assert!(
        server
            .get::<Contact>(buyer)
            .expect("as expected")
            .header
            .is_deleted()
    );
    assert!(
        server
            .get::<PrivateField>(companion)
            .expect("as expected")
            .header
            .is_deleted(),
        "the companion follows its record"
    );
    sync(&mut desk).await;
    assert!(
        desk.store()
            .get::<PrivateField>(companion)
            .expect("as expected")
            .header
            .is_deleted(),
        "and the manager's device hears of it"
    );
    assert_absent(&proxy.response_bodies(), &[FIRST], "the deleted contact");
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_from_before_hidden_fields_moves_them_out_and_devices_replace_their_copies() {
    let mut world = World::start().await;
    let org = world.org().await;
    rep_role_hides(&world, &["contact.phone"]).await;
    let rep = world.person("rep", org.east_team, "sales_rep").await;
    let manager = world
        .person("manager", org.east_team, "sales_manager")
        .await;
    let proxy = Proxy::start(world.addr).await;
    let mut phone = world.device_via(&rep, &proxy.base).await;
    let mut desk = world.device(&manager).await;
    let c = phone
        .store_mut()
        .create(customer(rep.profile, "常州天宁精工机械有限公司"))
        .expect("created");
    sync(&mut phone).await;
    sync(&mut desk).await;

    // A contact as the version before companions wrote it, the phone in its own document,
    // held by the server and by both devices (as pulled from that version).
    let mut buyer = contact(rep.profile, c.header.id, "钱采购");
    buyer.header.org_unit_id = Some(org.east_team);
    buyer.phone = Some(FIRST.into());
    let id = buyer.header.id;
    let (bytes, heads) = world
        .server_records()
        .transaction(|tx| {
            let mut doc = fieldsales_core::doc::RecordDoc::create(
                &buyer.clone().into(),
                tx.actor(),
                tx.now(),
            )
            .expect("a document");
            tx.save_document(id, &mut doc, None)?;
            Ok((doc.save(), doc.heads()))
        })
        .expect("written the old way");
    assert!(contains(&bytes, FIRST.as_bytes()), "the old shape");
    for device in [&mut phone, &mut desk] {
        device
            .store_mut()
            .apply_remote(id, &bytes, &heads)
            .expect("held as pulled");
    }
    // The manager edits it offline, on the old history.
    desk.store_mut()
        .update::<Contact>(id, |c| {
            c.title = Some("采购总监".into());
            Ok(())
        })
        .expect("edited");

    let upgraded = world
        .with_server_stopped(|config| async move {
            fieldsales_server::backup::move_hidden_fields(&config)
                .await
                .expect("upgraded")
        })
        .await;
    assert_eq!(upgraded.len(), 1);
    assert_eq!(upgraded[0].1, 1, "one record re-created");

    let server = world.server_records();
    let own = server.document_bytes(id).expect("read").expect("held");
    assert!(
        !contains(&own, FIRST.as_bytes()),
        "the server's history no longer holds it"
    );
    assert_eq!(
        server.get::<Contact>(id).expect("joined").phone.as_deref(),
        Some(FIRST),
        "the phone is in its companion"
    );

    // The rep's device starts over and replaces its copy: the phone leaves it, history
    // included, and no answer carries it.
    let bodies_before = proxy.response_bodies().len();
    sync(&mut phone).await;
    assert_eq!(phone.store().get::<Contact>(id).expect("held").phone, None);
    let held = phone
        .store()
        .document_bytes(id)
        .expect("read")
        .expect("held");
    assert!(
        !contains(&held, FIRST.as_bytes()),
        "the rep's copy was replaced"
    );
    assert_absent(
        &proxy.response_bodies()[bodies_before..],
        &[FIRST],
        "after the upgrade",
    );

    // The manager's copy is replaced too, the phone comes back from its companion, and the
    // offline edit made on the old history is set aside for the manager to see.
    sync(&mut desk).await;
    let seen = desk.store().get::<Contact>(id).expect("held");
    assert_eq!(seen.phone.as_deref(), Some(FIRST));
    let set_aside = desk.store().rejected_changes().expect("read");
    assert!(
        set_aside
            .iter()
            .any(|r| r.record_id == id && r.rule == "record.re_created"),
        "{set_aside:?}"
    );
    sync(&mut desk).await;
    sync(&mut phone).await;

    // A second run re-creates nothing.
    let again = world
        .with_server_stopped(|config| async move {
            fieldsales_server::backup::move_hidden_fields(&config)
                .await
                .expect("upgraded")
        })
        .await;
    assert_eq!(again[0].1, 0);
    world.stop().await;
}

/// What a modified phone may write into a companion, as the server judges it: one for a
/// record the server does not hold is refused, one of a colleague's profile is the people
/// admin's to write, and one claiming another reach than its record's takes the record's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_companions_are_refused_or_take_their_records_reach() {
    let mut world = World::start().await;
    let org = world.org().await;
    let rep = world.person("rep", org.east_team, "sales_rep").await;
    let manager = world
        .person("manager", org.east_team, "sales_manager")
        .await;
    let mut phone = world.device(&rep).await;
    let mut desk = world.device(&manager).await;
    let text = |t: &str| Value {
        text: Some(t.into()),
        amount: None,
    };
    let c = phone
        .store_mut()
        .create(customer(rep.profile, "嘉兴南湖纺织有限公司"))
        .expect("created");
    let buyer = phone
        .store_mut()
        .create(contact(rep.profile, c.header.id, "冯采购"))
        .expect("created")
        .header
        .id;
    sync(&mut phone).await;
    sync(&mut desk).await;

    // A phone for a contact nobody created.
    let nowhere = contact(rep.profile, c.header.id, "无名氏").header;
    let orphan = PrivateField::new(SensitiveField::ContactPhone, &nowhere, text(FIRST));
    let orphan = phone.store_mut().create(orphan).expect("written").header.id;
    // The rep's own profile's phone: the people admin's to write.
    let profile = phone
        .store()
        .get::<fieldsales_core::record::UserProfile>(rep.profile)
        .expect("the rep's profile")
        .header;
    let own = PrivateField::new(SensitiveField::UserPhone, &profile, text(SECOND));
    let own = phone.store_mut().create(own).expect("written").header.id;
    let report = sync(&mut phone).await;
    let rule = |id: RecordId| {
        report
            .rejected
            .iter()
            .find(|(r, _)| *r == id)
            .map(|(_, rule)| rule.clone())
    };
    assert_eq!(
        rule(orphan).as_deref(),
        Some("field.no_record"),
        "{report:?}"
    );
    assert_eq!(
        rule(own).as_deref(),
        Some("permission.denied"),
        "{report:?}"
    );
    let server = world.server_records();
    assert!(server.find_any(orphan).expect("read").is_none());
    assert!(server.find_any(own).expect("read").is_none());

    // The manager writes the rep's contact's e-mail claiming it for themself: the server
    // gives it the contact's reach, so the rep keeps seeing it.
    let email = SensitiveField::ContactEmail.companion_id(buyer);
    desk.store_mut()
        .update::<PrivateField>(email, |p| {
            p.value = text("feng@jiaxing.example");
            p.header.owner_id = Some(manager.profile);
            Ok(())
        })
        .expect("written");
    sync(&mut desk).await;
    let held = world
        .server_records()
        .get::<PrivateField>(email)
        .expect("on the server");
    assert_eq!(
        held.header.owner_id,
        Some(rep.profile),
        "the contact's owner"
    );
    assert_eq!(held.value.text.as_deref(), Some("feng@jiaxing.example"));
    sync(&mut phone).await;
    assert_eq!(
        phone
            .store()
            .get::<Contact>(buyer)
            .expect("held")
            .email
            .as_deref(),
        Some("feng@jiaxing.example")
    );
    world.stop().await;
}

/// The operator's command on PostgreSQL, every instance stopped: the tenant is examined
/// (nothing written before companions here, so nothing re-created), its epoch renewed, and
/// the devices carry on with the phone where it belongs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_moving_hidden_fields_renews_the_epoch_and_devices_carry_on() {
    const SERVER: &str = env!("CARGO_BIN_EXE_fieldsales-test-server");
    const CLI: &str = env!("CARGO_BIN_EXE_fieldsales-test-cli");
    let mut world = World::start_processes(SERVER, 1).await;
    assert!(world.postgres_url().is_some(), "on PostgreSQL");
    let org = world.org().await;
    rep_role_hides(&world, &["contact.phone"]).await;
    let rep = world.person("rep", org.east_team, "sales_rep").await;
    let manager = world
        .person("manager", org.east_team, "sales_manager")
        .await;
    let mut phone = world.device(&rep).await;
    let mut desk = world.device(&manager).await;
    let c = phone
        .store_mut()
        .create(customer(rep.profile, "扬州瘦西湖文旅有限公司"))
        .expect("created");
    sync(&mut phone).await;
    sync(&mut desk).await;
    let mut buyer = contact(rep.profile, c.header.id, "郑采购");
    buyer.header.created_by = Some(manager.profile);
    buyer.phone = Some(FIRST.into());
    let buyer = desk.store_mut().create(buyer).expect("created").header.id;
    sync(&mut desk).await;

    world.kill();
    let out = world.operator(CLI, &["move-hidden-fields"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 record(s) re-created"), "{stdout}");
    assert!(stdout.contains("1 tenant(s) upgraded"), "{stdout}");
    world.restart().await;

    let report = sync(&mut phone).await;
    assert!(report.server_restored, "{report:?}");
    sync(&mut desk).await;
    assert_eq!(
        phone.store().get::<Contact>(buyer).expect("held").phone,
        None
    );
    assert_eq!(
        desk.store()
            .get::<Contact>(buyer)
            .expect("held")
            .phone
            .as_deref(),
        Some(FIRST)
    );
    world.stop().await;
}

on_postgres!(
    a_hidden_phone_reaches_no_rep_device_until_the_role_shows_it,
    a_colleagues_phone_stays_on_the_server_and_a_deleted_contact_takes_its_phone_along,
);
